"""The rest of a structural schema is enforced with the API server's texts: maxLength (``Too long``),
maxItems/maxProperties (``Too many``), minProperties, multipleOf, formats, nullable and null pruning,
and duplicates in ``x-kubernetes-list-type`` set/map lists (apiextensions-apiserver
pkg/apiserver/validation/validation.go ``kubeOpenAPIResultToFieldErrors``, …/schema/listtype/validation.go,
…/schema/defaulting/prunenulls.go). Checked on a CRD of this file's own over HTTPS, on cert-manager's
served Certificate (``maxLength: 253`` on ``issuerRef.name`` is not in every release, so a CRD of our own
carries the cases) and with kubectl.
"""

from __future__ import annotations

import json

import pytest
import yaml

from kubesim.apiserver import schema_formats

GROUP = "constraints.kubesim.test"
GADGETS = f"/apis/{GROUP}/v1/namespaces/default/gadgets"
SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 5},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"},
                         "x-kubernetes-list-type": "set"},
                "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                          "items": {"type": "object", "required": ["name"],
                                    "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
                "labels": {"type": "object", "maxProperties": 1, "additionalProperties": {"type": "string"}},
                "extra": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"}},
                "step": {"type": "integer", "multipleOf": 5},
                "when": {"type": "string", "format": "date-time"},
                "count": {"type": "integer", "format": "int64"},
                "note": {"type": "string", "nullable": True},
                "plain": {"type": "string"},
                "mode": {"type": "string", "default": "auto"},
                "items": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}


@pytest.fixture(scope="module")
def fleet(kubesim_module_fleet_factory):
    f = kubesim_module_fleet_factory(n_clusters=1)
    f["cluster-1"].create({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{GROUP}"},
        "spec": {"group": GROUP, "scope": "Namespaced",
                 "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": SCHEMA}}]}})
    return f


def _gadget(obj_name, **spec):
    return {"apiVersion": f"{GROUP}/v1", "kind": "Gadget", "metadata": {"name": obj_name, "namespace": "default"},
            "spec": spec}


def _post(fleet, body):
    conn = fleet.connection("cluster-1")
    try:
        conn.request("POST", GADGETS, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def _causes(status):
    return [(c["field"], c["reason"], c["message"]) for c in status["details"]["causes"]]


def test_lengths_counts_and_multiples_with_the_api_servers_texts(fleet):
    code, status = _post(fleet, _gadget("g-bad", name="toolong", tags=["a", "b", "c"],
                                        labels={"a": "1", "b": "2"}, extra={}, step=7))
    assert code == 422
    assert _causes(status) == [
        ("spec.name", "FieldValueTooLong", "Too long: may not be longer than 5"),
        ("spec.tags", "FieldValueTooMany", "Too many: 3: must have at most 2 items"),
        ("spec.labels", "FieldValueTooMany", "Too many: 2: must have at most 1 items"),
        ("spec.extra", "FieldValueInvalid", "Invalid value: 0: spec.extra in body should have at least 1 "
                                            "properties"),
        ("spec.step", "FieldValueInvalid", "Invalid value: 7: spec.step in body should be a multiple of 5"),
    ]
    assert status["message"].startswith('Gadget.constraints.kubesim.test "g-bad" is invalid: [spec.name: Too long: '
                                        'may not be longer than 5, spec.tags: Too many: 3: must have at most 2 items')
    code, body = _post(fleet, _gadget("g-good", name="short", tags=["a", "b"], labels={"a": "1"}, extra={"x": "y"},
                                      step=10))
    assert code == 201, body


def test_set_and_map_lists_refuse_duplicates(fleet):
    code, status = _post(fleet, _gadget("g-dup", tags=["a", "a"],
                                        ports=[{"name": "http", "port": 80}, {"name": "http", "port": 8080}]))
    assert code == 422
    assert _causes(status) == [
        ("spec.tags[1]", "FieldValueDuplicate", 'Duplicate value: "a"'),
        ("spec.ports[1]", "FieldValueDuplicate", 'Duplicate value: map[string]interface {}{"name":"http"}'),
    ]
    assert _post(fleet, _gadget("g-nodup", tags=["a", "b"], ports=[{"name": "http"}, {"name": "https"}]))[0] == 201


def test_formats_apiextensions_checks_and_the_ones_it_ignores(fleet):
    code, status = _post(fleet, _gadget("g-when", when="tomorrow"))
    assert code == 422
    assert _causes(status) == [("spec.when", "FieldValueTypeInvalid",
                                'Invalid value: "tomorrow": spec.when in body must be of type date-time: "tomorrow"')]
    # int64 is not a format apiextensions validates (formats.go supportedFormats strips it)
    assert _post(fleet, _gadget("g-when-ok", when="2026-01-02T03:04:05.5+01:00", count=2 ** 70))[0] == 201


@pytest.mark.parametrize("fmt,good,bad", [
    ("date-time", ["2026-01-02T03:04:05Z", "2026-01-02t03:04:05.123z", "2026-01-02T23:59:59-07:00"],
     ["2026-01-02", "2026-01-02T24:00:00Z", "2026-01-02T03:04:05", "2026-13-02T03:04:05Z"]),
    ("byte", ["aGVsbG8=", ""], ["aGVsbG8", "not base64!"]),
    ("date", ["2024-02-29"], ["2023-02-29", "2024-2-1"]),
    ("ipv4", ["10.0.0.1"], ["10.0.0.256", "::1"]),
    ("ipv6", ["::1", "fe80::1"], ["10.0.0.1", "x"]),
    ("cidr", ["10.0.0.0/8", "10.0.0.1/8", "fd00::/8"], ["10.0.0.0", "10.0.0.0/33"]),
    ("uuid", ["123e4567-e89b-12d3-a456-426614174000"], ["123e4567e89b12d3a456426614174000"]),
    ("hostname", ["a", "example.com", "a-b.example.io"], ["-a.example.com", "a_b.example.com"]),
])
def test_format_checkers_follow_strfmt(fmt, good, bad):
    for v in good:
        assert schema_formats.format_error("x", fmt, v) == "", v
    for v in bad:
        assert schema_formats.format_error("x", fmt, v) == f'x in body must be of type {fmt}: "{v}"', v


def test_nulls_nullable_kept_non_nullable_pruned_or_defaulted_and_null_items_refused(fleet):
    code, body = _post(fleet, _gadget("g-null", note=None, plain=None, mode=None))
    assert code == 201, body
    assert body["spec"] == {"note": None, "mode": "auto"}
    code, status = _post(fleet, _gadget("g-null-item", items=["a", None]))
    assert code == 422
    assert _causes(status) == [("spec.items[1]", "FieldValueTypeInvalid",
                                'Invalid value: "null": spec.items[1] in body must be of type string: "null"')]


def test_kubectl_shows_too_long(fleet):
    out = fleet.kubectl("apply", "-f", "-", input=yaml.safe_dump(_gadget("g-kubectl", name="waytoolong")))
    assert out.returncode == 1
    assert ('The Gadget "g-kubectl" is invalid: spec.name: Too long: may not be longer than 5') in out.stderr
