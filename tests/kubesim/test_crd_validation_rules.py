"""CEL ``x-kubernetes-validations`` rules of custom resources are enforced as kube-apiserver 1.29 does
(apiextensions-apiserver pkg/apiserver/schema/cel/validation.go), evaluated by cel-python.

cert-manager's published CRDs (read at test time from ``../shared/data/cert-manager-crds``) carry one rule:
Issuer and ClusterIssuer ``spec.venafi`` "exactly one of tpp, cloud, or ngts" from v1.21.1 on. Each rule
found there must be listed in ``COVERED`` (so a new release's rule fails this file until it is tested)
and is exercised with a violating and a valid object. Transition rules, ``messageExpression``,
``fieldPath``/``reason`` and the blocking-error rule are checked on a small CRD of this file's own.
"""

from __future__ import annotations

import json

import pytest
import yaml

from kubesim.test_certmanager_crds import DATA

CM = "cert-manager.io/v1"

# (tag, plural, schema path, rule) of every CEL rule in cert-manager's published CRDs, and the test that
# exercises it with a violating and a valid object.
COVERED = {
    (tag, plural, "spec.venafi",
     "(has(self.tpp) ? 1 : 0) + (has(self.cloud) ? 1 : 0) + (has(self.ngts) ? 1 : 0) == 1"):
        "test_venafi_needs_exactly_one_of_tpp_cloud_ngts"
    for tag in ("v1.21.1",) for plural in ("issuers", "clusterissuers")
}


def _rules_in(schema, path=""):
    if not isinstance(schema, dict):
        return
    for rule in schema.get("x-kubernetes-validations") or []:
        yield path, rule["rule"]
    for key, sub in (schema.get("properties") or {}).items():
        yield from _rules_in(sub, f"{path}.{key}" if path else key)
    if isinstance(schema.get("items"), dict):
        yield from _rules_in(schema["items"], path + "[*]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _rules_in(schema["additionalProperties"], path + "[*]")


@pytest.mark.skipif(DATA is None, reason="cert-manager's published CRDs not found in ../shared/data")
def test_every_published_cert_manager_rule_is_covered():
    found = set()
    for tag_dir in sorted(DATA.iterdir()):
        for f in sorted(tag_dir.glob("*.yaml")):
            for doc in yaml.safe_load_all(f.read_text()):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                for version in doc["spec"]["versions"]:
                    for path, rule in _rules_in(version["schema"]["openAPIV3Schema"]):
                        found.add((tag_dir.name, doc["spec"]["names"]["plural"], path, rule))
    assert found == set(COVERED)


def _raw(fleet, method, path, body=None, query="", content_type="application/json"):
    conn = fleet.connection("cluster-1")
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path + (f"?{query}" if query else ""), body=data,
                     headers={"Content-Type": content_type, "Accept": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def cm_fleet(kubesim_module_fleet_factory):
    return kubesim_module_fleet_factory(n_clusters=1, preinstall=("cert-manager",), cert_manager_version="v1.21.1")


def _venafi_issuer(kind, name, **venafi):
    md = {"name": name} if kind == "ClusterIssuer" else {"name": name, "namespace": "default"}
    return {"apiVersion": CM, "kind": kind, "metadata": md, "spec": {"venafi": dict(zone="z", **venafi)}}


TPP = {"url": "https://tpp.example/vedsdk", "credentialsRef": {"name": "tpp-creds"}}
CLOUD = {"apiTokenSecretRef": {"name": "cloud-token"}}


@pytest.mark.parametrize("kind,plural", [("Issuer", "issuers"), ("ClusterIssuer", "clusterissuers")])
def test_venafi_needs_exactly_one_of_tpp_cloud_ngts(cm_fleet, kind, plural):
    coll = f"/apis/{CM}/namespaces/default/{plural}" if kind == "Issuer" else f"/apis/{CM}/{plural}"
    want = (f'{kind}.cert-manager.io "v-{{}}" is invalid: spec.venafi: Invalid value: "object": exactly one of '
            f'tpp, cloud, or ngts must be configured')
    for label, venafi in (("none", {}), ("two", {"tpp": TPP, "cloud": CLOUD})):
        code, status = _raw(cm_fleet, "POST", coll, _venafi_issuer(kind, f"v-{label}", **venafi))
        assert code == 422, status
        assert status["message"] == want.format(label)
        assert status["details"]["causes"] == [{"reason": "FieldValueInvalid", "field": "spec.venafi",
                                                "message": 'Invalid value: "object": exactly one of tpp, cloud, '
                                                           'or ngts must be configured'}]
    code, body = _raw(cm_fleet, "POST", coll, _venafi_issuer(kind, "v-one", tpp=TPP))
    assert code == 201, body
    # an update that breaks the rule is refused too, and the stored object is unchanged
    body["spec"]["venafi"]["cloud"] = CLOUD
    code, status = _raw(cm_fleet, "PUT", f"{coll}/v-one", body)
    assert code == 422 and "exactly one of tpp, cloud, or ngts" in status["message"]
    assert "cloud" not in _raw(cm_fleet, "GET", f"{coll}/v-one")[1]["spec"]["venafi"]


def test_kubectl_prints_the_rule_message(cm_fleet):
    doc = yaml.safe_dump(_venafi_issuer("Issuer", "v-kubectl"))
    out = cm_fleet.kubectl("apply", "-f", "-", input=doc)
    assert out.returncode == 1
    assert ('The Issuer "v-kubectl" is invalid: spec.venafi: Invalid value: "object": exactly one of tpp, cloud, '
            'or ngts must be configured') in out.stderr


def test_schema_errors_block_the_rules_and_format_is_checked(cm_fleet):
    """A type/enum error stops the CEL rules (strategy.go ``hasBlockingErr``); ``format: byte`` is checked."""
    body = _venafi_issuer("Issuer", "v-blocked", tpp=dict(TPP, caBundle="not base64!"))
    body["spec"]["venafi"]["zone"] = 7
    body["spec"]["venafi"]["cloud"] = CLOUD
    code, status = _raw(cm_fleet, "POST", f"/apis/{CM}/namespaces/default/issuers", body)
    assert code == 422
    causes = [(c["field"], c["message"]) for c in status["details"]["causes"]]
    assert ("spec.venafi.zone", 'Invalid value: "integer": spec.venafi.zone in body must be of type string: '
                                '"integer"') in causes
    assert ("spec.venafi.tpp.caBundle", 'Invalid value: "not base64!": spec.venafi.tpp.caBundle in body must be '
                                        'of type byte: "not base64!"') in causes
    assert causes[-1] == ("<nil>", 'Invalid value: "null": some validation rules were not checked because the '
                                   'object was invalid; correct the existing errors to complete validation')
    assert not any("exactly one of" in m for _, m in causes)


# ---------------------------------------------------------------- the kinds of rule on a CRD of our own

GROUP = "rules.kubesim.test"
WIDGETS = f"/apis/{GROUP}/v1/namespaces/default/widgets"
WIDGET_SCHEMA = {
    "type": "object",
    "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('w-')"}],
    "properties": {
        "spec": {
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.size <= self.limit", "messageExpression":
                    "'size ' + string(self.size) + ' is over the limit ' + string(self.limit)"},
                {"rule": "!has(self.legacy)", "message": "legacy is gone", "fieldPath": ".legacy",
                 "reason": "FieldValueForbidden"},
            ],
            "properties": {
                "size": {"type": "integer"}, "limit": {"type": "integer"}, "legacy": {"type": "string"},
                "owner": {"type": "string", "x-kubernetes-validations": [
                    {"rule": "self == oldSelf", "message": "owner is immutable"}]},
            },
        },
    },
}


@pytest.fixture(scope="module")
def fleet(kubesim_module_fleet_factory):
    f = kubesim_module_fleet_factory(n_clusters=1)
    f["cluster-1"].create({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{GROUP}"},
        "spec": {"group": GROUP, "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": WIDGET_SCHEMA}}]}})
    return f


def _widget(name, **spec):
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": name, "namespace": "default"},
            "spec": dict({"size": 1, "limit": 2}, **spec)}


def test_message_expression_field_path_reason_and_the_default_message(fleet):
    code, status = _raw(fleet, "POST", WIDGETS, _widget("x-1", size=5, legacy="yes"))
    assert code == 422
    assert [(c["field"], c["reason"], c["message"]) for c in status["details"]["causes"]] == [
        ("<nil>", "FieldValueInvalid", 'Invalid value: "object": failed rule: '
                                       "self.metadata.name.startsWith('w-')"),
        ("spec", "FieldValueInvalid", 'Invalid value: "object": size 5 is over the limit 2'),
        ("spec.legacy", "FieldValueForbidden", "Forbidden: legacy is gone"),
    ]
    assert _raw(fleet, "POST", WIDGETS, _widget("w-1"))[0] == 201


def test_transition_rule_runs_only_on_update(fleet):
    code, created = _raw(fleet, "POST", WIDGETS, _widget("w-owner", owner="alice"))
    assert code == 201, created
    code, status = _raw(fleet, "PATCH", WIDGETS + "/w-owner", {"spec": {"owner": "bob"}},
                        content_type="application/merge-patch+json")
    assert code == 422
    assert status["message"] == ('Widget.rules.kubesim.test "w-owner" is invalid: spec.owner: Invalid value: '
                                 '"string": owner is immutable')
    # a value that had no old value (added by this update) is not a transition
    code, _ = _raw(fleet, "POST", WIDGETS, _widget("w-later"))
    assert code == 201
    code, body = _raw(fleet, "PATCH", WIDGETS + "/w-later", {"spec": {"owner": "carol"}},
                      content_type="application/merge-patch+json")
    assert code == 200 and body["spec"]["owner"] == "carol"


def test_python_client_sees_the_rule_failure(fleet):
    from kubernetes.client import CustomObjectsApi
    from kubernetes.client.exceptions import ApiException

    api = CustomObjectsApi(fleet.python_client("cluster-1"))
    with pytest.raises(ApiException) as err:
        api.create_namespaced_custom_object(GROUP, "v1", "default", "widgets", _widget("w-big", size=3))
    assert err.value.status == 422
    assert json.loads(err.value.body)["message"].endswith('spec: Invalid value: "object": size 3 is over the '
                                                          'limit 2')

