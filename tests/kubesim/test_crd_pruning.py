"""Custom resources are pruned and defaulted by their structural schema; ``fieldValidation`` reports
the pruned fields as kube-apiserver does (apiextensions-apiserver pkg/apiserver/schema/pruning,
…/schema/defaulting, customresource_handler.go): Strict → 400 ``strict decoding error: unknown field
"spec.bogusField"``, Warn (default) → a 299 warning per field, Ignore → silent; stored objects never
keep unknown fields. Checked with the cert-manager Certificate CRD kubesim serves and with kubectl.
"""

from __future__ import annotations

import json

import pytest

from kubesim.apiserver import structural
from kubesim.fleet import find_kubectl

CM = "cert-manager.io/v1"
NS = "default"
CERTS = f"/apis/{CM}/namespaces/{NS}/certificates"


@pytest.fixture(scope="module")
def fleet(kubesim_module_fleet_factory):
    f = kubesim_module_fleet_factory(n_clusters=1, preinstall=("cert-manager",))
    f["cluster-1"].create({"apiVersion": CM, "kind": "ClusterIssuer", "metadata": {"name": "selfsigned"},
                           "spec": {"selfSigned": {}}})
    return f


def _cert(name, **extra_spec):
    spec = {"secretName": name, "commonName": name, "issuerRef": {"name": "selfsigned", "kind": "ClusterIssuer"},
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}}
    spec.update(extra_spec)
    return {"apiVersion": CM, "kind": "Certificate", "metadata": {"name": name, "namespace": NS}, "spec": spec}


def _raw(fleet, method, path, body=None, query=""):
    conn = fleet.connection("cluster-1")
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path + (f"?{query}" if query else ""), body=data,
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, resp.msg.get_all("Warning") or [], json.loads(payload)
    finally:
        conn.close()


def test_strict_refuses_unknown_fields_with_the_real_text(fleet):
    body = _cert("p-strict", bogusField=1)
    body["spec"]["subject"] = {"organizations": ["x"], "nope": True}
    code, _, status = _raw(fleet, "POST", CERTS, body, "fieldValidation=Strict")
    assert code == 400 and status["reason"] == "BadRequest"
    assert status["message"] == ('Certificate in version "v1" cannot be handled as a Certificate: strict decoding '
                                 'error: unknown field "spec.bogusField", unknown field "spec.subject.nope"')
    assert _raw(fleet, "GET", CERTS + "/p-strict")[0] == 404


def test_warn_is_the_default_and_the_fields_are_pruned(fleet):
    code, warnings, obj = _raw(fleet, "POST", CERTS, _cert("p-warn", bogusField=1))
    assert code == 201
    assert '299 - "unknown field \\"spec.bogusField\\""' in warnings
    assert "bogusField" not in obj["spec"]
    code, _, stored = _raw(fleet, "GET", CERTS + "/p-warn")
    assert "bogusField" not in stored["spec"] and stored["spec"]["secretName"] == "p-warn"
    stored["spec"]["bogusField"] = 2
    code, _, status = _raw(fleet, "PUT", CERTS + "/p-warn", stored, "fieldValidation=Strict")
    assert code == 400 and 'unknown field "spec.bogusField"' in status["message"]


def test_ignore_prunes_silently(fleet):
    code, warnings, obj = _raw(fleet, "POST", CERTS, _cert("p-ignore", bogusField=1), "fieldValidation=Ignore")
    assert code == 201 and not any("unknown field" in w for w in warnings)
    assert "bogusField" not in obj["spec"]


def test_prune_keeps_preserved_and_additional_properties_and_defaults_absent_fields():
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                     "properties": {"inner": {"type": "object", "properties": {"a": {"type": "string"}}}}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "refs": {"type": "array", "items": {"type": "object", "properties": {
                "kind": {"type": "string", "default": "Gateway"}, "name": {"type": "string"}}}}}}}}
    obj = {"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n"},
           "spec": {"open": {"anything": 1, "inner": {"a": "k", "b": "gone"}}, "labels": {"k": "v"},
                    "refs": [{"name": "g", "extra": 1}], "gone": True}, "status": {}}
    dropped = structural.prune(schema, obj)
    structural.apply_defaults(schema, obj)
    assert dropped == ["spec.open.inner.b", "spec.refs[0].extra", "spec.gone", "status"]
    assert obj == {"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "n"},
                   "spec": {"open": {"anything": 1, "inner": {"a": "k"}}, "labels": {"k": "v"},
                            "refs": [{"name": "g", "kind": "Gateway"}]}}


@pytest.mark.kubectl
def test_kubectl_apply_reports_the_unknown_field(fleet):
    if not find_kubectl():
        pytest.skip("kubectl is not on PATH (it ships with the machine image's Google Cloud SDK)")
    res = fleet.kubectl("apply", "-f", "-", cluster="cluster-1", input=json.dumps(_cert("p-kubectl", bogusField=1)))
    assert res.returncode != 0
    assert 'strict decoding error: unknown field "spec.bogusField"' in res.stderr, res.stderr


def _acme_issuer(name, parent_ref):
    route = {"parentRefs": [parent_ref]}
    return {"apiVersion": CM, "kind": "ClusterIssuer", "metadata": {"name": name},
            "spec": {"acme": {"server": "https://acme.example/directory", "privateKeySecretRef": {"name": name},
                              "solvers": [{"http01": {"gatewayHTTPRoute": route}}]}}}


ISSUERS = f"/apis/{CM}/clusterissuers"
REF = "spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs[0]"


def test_pattern_and_min_length_are_enforced_with_kube_openapi_texts(fleet):
    """Gateway API ParentReference markers in the served ClusterIssuer CRD: name minLength 1,
    namespace a DNS label pattern."""
    code, _, status = _raw(fleet, "POST", ISSUERS, _acme_issuer("p-bad", {"name": "", "namespace": "Bad_NS"}))
    assert code == 422 and status["reason"] == "Invalid", status
    causes = {c["field"]: c["message"] for c in status["details"]["causes"]}
    assert causes[f"{REF}.name"] == f'Invalid value: "": {REF}.name in body should be at least 1 chars long'
    assert causes[f"{REF}.namespace"] == (
        f'Invalid value: "Bad_NS": {REF}.namespace in body should match \'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$\'')


def test_schema_defaults_are_applied(fleet):
    code, _, obj = _raw(fleet, "POST", ISSUERS, _acme_issuer("p-default", {"name": "gw"}))
    assert code == 201, obj
    ref = obj["spec"]["acme"]["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"][0]
    assert ref == {"name": "gw", "group": "gateway.networking.k8s.io", "kind": "Gateway"}


# ---------------------------------------------------------------- fieldValidation on PATCH (patch.go)

def _patch(fleet, path, body, content_type, query=""):
    conn = fleet.connection("cluster-1")
    try:
        data = body if isinstance(body, str) else json.dumps(body)
        conn.request("PATCH", path + (f"?{query}" if query else ""), body=data.encode(),
                     headers={"Content-Type": content_type, "Accept": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.msg.get_all("Warning") or [], json.loads(resp.read())
    finally:
        conn.close()


MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"


@pytest.mark.parametrize("ctype,patch", [
    (MERGE, {"spec": {"bogusField": 1}}),
    (JSONPATCH, [{"op": "add", "path": "/spec/bogusField", "value": 1}]),
])
def test_patch_strict_is_the_invalid_patch_error_warn_warns_ignore_is_silent(fleet, ctype, patch):
    name = "p-patch-" + ("merge" if ctype == MERGE else "json")
    assert _raw(fleet, "POST", CERTS, _cert(name))[0] == 201
    code, _, status = _patch(fleet, f"{CERTS}/{name}", patch, ctype, "fieldValidation=Strict")
    assert code == 422 and status["reason"] == "Invalid", status
    # errors.NewInvalid(schema.GroupKind{}, "", field.Invalid(field.NewPath("patch"), patchedJSON, …))
    assert status["message"].startswith(' "" is invalid: patch: Invalid value: "{\\"apiVersion\\":'
                                        '\\"cert-manager.io/v1\\",'), status["message"]
    assert status["message"].endswith('": strict decoding error: unknown field "spec.bogusField"')
    assert status["details"]["causes"][0]["field"] == "patch"
    code, warnings, obj = _patch(fleet, f"{CERTS}/{name}", patch, ctype)
    assert code == 200 and '299 - "unknown field \\"spec.bogusField\\""' in warnings
    assert "bogusField" not in obj["spec"]
    code, warnings, obj = _patch(fleet, f"{CERTS}/{name}", patch, ctype, "fieldValidation=Ignore")
    assert code == 200 and not any("unknown field" in w for w in warnings) and "bogusField" not in obj["spec"]


def test_apply_patch_with_an_undeclared_field_is_the_field_managers_500(fleet):
    """Whatever fieldValidation says: structuredmerge.go cannot type the applied object."""
    body = _cert("p-apply", bogusField=1)
    for query in ("fieldManager=t&fieldValidation=Ignore", "fieldManager=t"):
        code, _, status = _patch(fleet, f"{CERTS}/p-apply", body, APPLY, query)
        assert code == 500, status
        assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 500,
                          "message": "failed to create typed patch object (default/p-apply; cert-manager.io/v1, "
                                     "Kind=Certificate): .spec.bogusField: field not declared in schema"}
    assert _patch(fleet, f"{CERTS}/p-apply", _cert("p-apply"), APPLY, "fieldManager=t")[0] == 201


@pytest.mark.kubectl
def test_kubectl_apply_of_an_existing_object_refuses_the_unknown_field(fleet):
    if not find_kubectl():
        pytest.skip("kubectl is not on PATH (it ships with the machine image's Google Cloud SDK)")
    assert fleet.kubectl("apply", "-f", "-", input=json.dumps(_cert("p-kubectl-patch"))).returncode == 0
    res = fleet.kubectl("apply", "-f", "-", input=json.dumps(_cert("p-kubectl-patch", bogusField=1)))
    assert res.returncode != 0
    assert 'strict decoding error: unknown field "spec.bogusField"' in res.stderr, res.stderr
    res = fleet.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(_cert("p-kubectl-patch",
                                                                                    bogusField=1)))
    assert res.returncode != 0 and ".spec.bogusField: field not declared in schema" in res.stderr, res.stderr
