"""Unit tests of kubesim's API semantics through ``api.handle`` (no sockets): every
bad-input case of issue 3 and the Status rules of staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go."""

from __future__ import annotations

import base64
import json

import pytest

from kubesim import Cluster
from kubesim.apiserver import routing as api


@pytest.fixture(scope="module")
def cluster():
    c = Cluster("unit")
    c.create(CRD)
    yield c
    c.stop()


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "things.example.com"},
       "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "things", "singular": "thing", "kind": "Thing"},
                "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                              "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                  "spec": {"type": "object", "properties": {"n": {"type": "integer"}}},
                                  # undeclared fields are pruned (as kube-apiserver does): status is declared
                                  "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}},
                             {"name": "v1beta1", "served": True, "storage": False}]}}


def call(cluster, method, path, body=None, query="", ctype="application/json"):
    raw = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = api.Request(method=method, path=path, query=api.parse_request_query(query),
                      headers={"content-type": ctype, "user-agent": "unit-test/1.0"}, body=raw or b"",
                      raw_query=query)
    resp = api.handle(cluster, req)
    if resp.stream is not None:
        return resp.code, resp
    data = json.loads(resp.body) if resp.content_type.startswith("application/json") and resp.body else resp.body
    return resp.code, data


def status(code, body, reason):
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == code
    assert body["reason"] == reason
    return body


NS = "/api/v1/namespaces/default"


def test_version_and_discovery(cluster):
    code, v = call(cluster, "GET", "/version")
    assert code == 200 and {"major", "minor", "gitVersion", "platform"} <= set(v)
    code, body = call(cluster, "GET", "/api")
    assert body["kind"] == "APIVersions" and body["versions"] == ["v1"]
    code, body = call(cluster, "GET", "/api/v1")
    names = {r["name"] for r in body["resources"]}
    assert {"pods", "pods/log", "pods/status", "secrets", "namespaces", "namespaces/status"} <= names
    code, body = call(cluster, "GET", "/apis")
    groups = {g["name"]: g for g in body["groups"]}
    assert groups["apps"]["preferredVersion"]["groupVersion"] == "apps/v1"
    assert [v["version"] for v in groups["example.com"]["versions"]] == ["v1", "v1beta1"]
    code, body = call(cluster, "GET", "/apis/apps/v1")
    names = {r["name"] for r in body["resources"]}
    assert {"deployments", "deployments/status", "deployments/scale"} <= names
    code, body = call(cluster, "GET", "/apis/example.com/v1")
    assert {r["name"] for r in body["resources"]} == {"things", "things/status"}
    code, body = call(cluster, "GET", "/apis/example.com")
    assert body["kind"] == "APIGroup" and body["preferredVersion"]["version"] == "v1"


def test_unknown_resource_404(cluster):
    for path in ("/api/v1/namespaces/default/frobs", "/apis/nope.io/v1/things", "/apis/example.com/v9/things",
                 "/api/v2/pods", "/api/v1/namespaces/default/namespaces/x"):
        code, body = call(cluster, "GET", path)
        b = status(404, body, "NotFound")
        assert b["message"] == "the server could not find the requested resource" and b["details"] == {}


def test_malformed_json_and_yaml_400(cluster):
    code, body = call(cluster, "POST", NS + "/configmaps", b'{"metadata": {"name": ')
    assert "json parse error" in status(400, body, "BadRequest")["message"]
    code, body = call(cluster, "POST", NS + "/configmaps", b"", )
    status(400, body, "BadRequest")
    code, body = call(cluster, "PATCH", NS + "/configmaps/x", b"metadata: [unclosed", query="fieldManager=m",
                      ctype="application/apply-patch+yaml")
    assert "error decoding YAML" in status(400, body, "BadRequest")["message"]
    code, body = call(cluster, "POST", NS + "/configmaps", [1, 2])
    status(400, body, "BadRequest")


def test_namespace_mismatch_400_and_missing_namespace_404(cluster):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "namespace": "other"}}
    code, body = call(cluster, "POST", NS + "/configmaps", cm)
    assert "does not match the namespace" in status(400, body, "BadRequest")["message"]
    code, body = call(cluster, "POST", "/api/v1/namespaces/absent/configmaps",
                      {"metadata": {"name": "m"}})
    b = status(404, body, "NotFound")
    assert b["message"] == 'namespaces "absent" not found' and b["details"] == {"name": "absent",
                                                                                "kind": "namespaces"}


def test_kind_mismatch_400(cluster):
    code, body = call(cluster, "POST", NS + "/configmaps", {"apiVersion": "v1", "kind": "Secret",
                                                            "metadata": {"name": "k"}})
    status(400, body, "BadRequest")


def test_create_defaults_generate_name_and_server_fields(cluster):
    code, obj = call(cluster, "POST", NS + "/secrets",
                     {"metadata": {"generateName": "gen-", "resourceVersion": "5", "uid": "fake"},
                      "stringData": {"a": "b"}})
    assert code == 201
    md = obj["metadata"]
    assert md["name"].startswith("gen-") and len(md["name"]) == 9
    assert md["uid"] != "fake" and md["resourceVersion"] != "5" and md["creationTimestamp"].endswith("Z")
    assert obj["type"] == "Opaque" and obj["data"] == {"a": base64.b64encode(b"b").decode()}
    assert "stringData" not in obj and "generation" not in md


def test_conflicts_put_stale_and_missing_rv(cluster):
    code, cm = call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "rv"}, "data": {"a": "1"}})
    rv1 = cm["metadata"]["resourceVersion"]
    cm["data"]["a"] = "2"
    code, cm2 = call(cluster, "PUT", NS + "/configmaps/rv", cm)
    assert code == 200 and cm2["metadata"]["resourceVersion"] != rv1
    code, body = call(cluster, "PUT", NS + "/configmaps/rv", cm)
    b = status(409, body, "Conflict")
    assert b["message"] == ('Operation cannot be fulfilled on configmaps "rv": the object has been modified; '
                            'please apply your changes to the latest version and try again')
    # no-op write keeps the resourceVersion
    code, cm3 = call(cluster, "PUT", NS + "/configmaps/rv", cm2)
    assert cm3["metadata"]["resourceVersion"] == cm2["metadata"]["resourceVersion"]
    # built-ins accept an unconditional PUT
    del cm2["metadata"]["resourceVersion"]
    cm2["data"]["a"] = "3"
    code, _ = call(cluster, "PUT", NS + "/configmaps/rv", cm2)
    assert code == 200
    # PATCH carrying a stale resourceVersion conflicts
    code, body = call(cluster, "PATCH", NS + "/configmaps/rv", {"metadata": {"resourceVersion": rv1}},
                      ctype="application/merge-patch+json")
    status(409, body, "Conflict")
    # name in body differs from URL
    code, body = call(cluster, "PUT", NS + "/configmaps/rv", {"metadata": {"name": "other"}})
    status(400, body, "BadRequest")


def test_custom_resource_rules(cluster):
    base = "/apis/example.com/v1/namespaces/default/things"
    code, obj = call(cluster, "POST", base, {"apiVersion": "example.com/v1", "kind": "Thing",
                                             "metadata": {"name": "t"}, "spec": {"n": 1}, "status": {"x": 1}})
    assert code == 201 and obj["metadata"]["generation"] == 1 and "status" not in obj
    code, body = call(cluster, "PUT", base + "/t", {"apiVersion": "example.com/v1", "kind": "Thing",
                                                    "metadata": {"name": "t"}, "spec": {"n": 2}})
    b = status(422, body, "Invalid")
    assert "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update" in b["message"]
    code, body = call(cluster, "PATCH", base + "/t", {"spec": {"n": 2}}, ctype="application/strategic-merge-patch+json")
    b = status(415, body, "UnsupportedMediaType")
    assert "application/merge-patch+json" in b["message"] and "strategic" not in b["message"]
    code, body = call(cluster, "PATCH", base + "/t", {"spec": {"n": "x"}}, ctype="application/merge-patch+json")
    b = status(422, body, "Invalid")
    assert b["details"]["causes"][0]["field"] == "spec.n"
    # status subresource: main endpoint ignores status, /status ignores the rest
    code, obj = call(cluster, "PATCH", base + "/t", {"status": {"x": 1}, "spec": {"n": 5}},
                     ctype="application/merge-patch+json")
    assert "status" not in obj and obj["metadata"]["generation"] == 2
    code, obj = call(cluster, "PATCH", base + "/t/status", {"status": {"x": 2}, "spec": {"n": 9}},
                     ctype="application/merge-patch+json")
    assert obj["status"] == {"x": 2} and obj["spec"]["n"] == 5 and obj["metadata"]["generation"] == 2
    # metadata-only change keeps generation
    code, obj = call(cluster, "PATCH", base + "/t", {"metadata": {"labels": {"a": "b"}}},
                     ctype="application/merge-patch+json")
    assert obj["metadata"]["generation"] == 2
    # served at the second version too, same object
    code, obj = call(cluster, "GET", "/apis/example.com/v1beta1/namespaces/default/things/t")
    assert obj["apiVersion"] == "example.com/v1beta1" and obj["spec"]["n"] == 5
    code, lst = call(cluster, "GET", base)
    assert lst["kind"] == "ThingList" and lst["items"][0]["kind"] == "Thing"
    code, body = call(cluster, "DELETE", base + "/t")
    assert code == 200 and body["status"] == "Success"
    assert body["details"] == {"name": "t", "group": "example.com", "kind": "things", "uid": obj["metadata"]["uid"]}
    code, body = call(cluster, "GET", base + "/t")
    b = status(404, body, "NotFound")
    assert b["message"] == 'things.example.com "t" not found'
    assert b["details"] == {"name": "t", "group": "example.com", "kind": "things"}


def test_patch_options(cluster):
    call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "po"}, "data": {"a": "1"}})
    code, body = call(cluster, "PATCH", NS + "/configmaps/po", {"data": {"a": "2"}}, query="force=true",
                      ctype="application/merge-patch+json")
    b = status(422, body, "Invalid")
    assert b["message"] == ('PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified '
                            'for non-apply patch')
    code, body = call(cluster, "PATCH", NS + "/configmaps/po", {"apiVersion": "v1", "kind": "ConfigMap"},
                      ctype="application/apply-patch+yaml")
    b = status(422, body, "Invalid")
    assert b["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required '
                            'for apply patch')
    code, body = call(cluster, "PATCH", NS + "/configmaps/po", {"data": {}}, ctype="text/plain")
    status(415, body, "UnsupportedMediaType")
    code, body = call(cluster, "PATCH", NS + "/configmaps/missing", {"data": {}},
                      ctype="application/merge-patch+json")
    status(404, body, "NotFound")


def test_ssa_upsert_conflict_force_and_removal(cluster):
    path = NS + "/configmaps/ssa"
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa", "labels": {"l": "1"}},
          "data": {"a": "1", "b": "1"}}
    code, obj = call(cluster, "PATCH", path, cm, query="fieldManager=one", ctype="application/apply-patch+yaml")
    assert code == 201
    mf = obj["metadata"]["managedFields"]
    assert mf[0]["manager"] == "one" and mf[0]["operation"] == "Apply"
    assert mf[0]["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}, "f:metadata": {"f:labels": {"f:l": {}}}}
    # a second manager applying the same value shares the field; a different value conflicts
    code, obj = call(cluster, "PATCH", path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"},
                                              "data": {"a": "1", "c": "3"}},
                     query="fieldManager=two", ctype="application/apply-patch+yaml")
    assert code == 200 and obj["data"] == {"a": "1", "b": "1", "c": "3"}
    code, body = call(cluster, "PATCH", path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"},
                                               "data": {"b": "9"}},
                      query="fieldManager=two", ctype="application/apply-patch+yaml")
    b = status(409, body, "Conflict")
    assert b["message"] == 'Apply failed with 1 conflict: conflict with "one": .data.b'
    assert b["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "one"',
                                       "field": ".data.b"}]
    # "two" now applies only b (forced): it drops a and c it applied before; a stays (one owns it)
    code, obj = call(cluster, "PATCH", path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"},
                                              "data": {"b": "9"}},
                     query="fieldManager=two&force=true", ctype="application/apply-patch+yaml")
    assert code == 200 and obj["data"] == {"a": "1", "b": "9"}
    # "one" re-applies without label and without b: label removed, b kept (now owned by two)
    code, obj = call(cluster, "PATCH", path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"},
                                              "data": {"a": "1"}},
                     query="fieldManager=one", ctype="application/apply-patch+yaml")
    assert obj["data"] == {"a": "1", "b": "9"} and not obj["metadata"].get("labels")
    # a non-apply update takes ownership of what it changes
    code, obj = call(cluster, "PATCH", path, {"data": {"a": "updated"}}, query="fieldManager=editor",
                     ctype="application/merge-patch+json")
    owners = {m["manager"]: m for m in obj["metadata"]["managedFields"]}
    assert owners["editor"]["operation"] == "Update" and owners["editor"]["fieldsV1"] == {"f:data": {"f:a": {}}}
    assert "one" not in owners  # it owned nothing else any more: its entry is gone


def test_ssa_associative_lists_on_deployments(cluster):
    path = "/apis/apps/v1/namespaces/default/deployments/assoc"
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "assoc"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}},
                    "template": {"metadata": {"labels": {"app": "a"}},
                                 "spec": {"containers": [{"name": "main", "image": "img:1",
                                                          "env": [{"name": "X", "value": "1"}]}]}}}}
    code, _ = call(cluster, "PATCH", path, dep, query="fieldManager=installer", ctype="application/apply-patch+yaml")
    assert code == 201
    # another manager adds one env var to the same container: no conflict, nothing else lost
    partial = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "assoc"},
               "spec": {"template": {"spec": {"containers": [
                   {"name": "main", "env": [{"name": "AUTO_RELOAD_PLUGIN_CERTS", "value": "true"}]}]}}}}
    code, obj = call(cluster, "PATCH", path, partial, query="fieldManager=tuner", ctype="application/apply-patch+yaml")
    assert code == 200, obj
    c = obj["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "img:1"
    assert c["env"] == [{"name": "X", "value": "1"}, {"name": "AUTO_RELOAD_PLUGIN_CERTS", "value": "true"}]
    assert obj["metadata"]["generation"] == 2
    # changing the installer's image from the tuner conflicts at the item path
    partial["spec"]["template"]["spec"]["containers"][0]["image"] = "img:2"
    code, body = call(cluster, "PATCH", path, partial, query="fieldManager=tuner",
                      ctype="application/apply-patch+yaml")
    b = status(409, body, "Conflict")
    assert b["details"]["causes"][0]["field"] == '.spec.template.spec.containers[name="main"].image'


def test_strategic_merge_patch_directives(cluster):
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "smp"},
           "spec": {"selector": {"matchLabels": {"app": "s"}},
                    "template": {"metadata": {"labels": {"app": "s"}},
                                 "spec": {"containers": [{"name": "a", "image": "a:1",
                                                          "env": [{"name": "E1", "value": "1"},
                                                                  {"name": "E2", "value": "2"}]},
                                                         {"name": "b", "image": "b:1"}],
                                          "volumes": [{"name": "v", "secret": {"secretName": "s"}}]}}}}
    call(cluster, "POST", "/apis/apps/v1/namespaces/default/deployments", dep)
    patch = {"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
        "containers": [{"name": "a", "image": "a:2", "env": [{"name": "E1", "$patch": "delete"},
                                                             {"name": "E3", "value": "3"}]}],
        "volumes": [{"name": "v", "$retainKeys": ["name", "configMap"], "configMap": {"name": "cm"}}]}}}}
    code, obj = call(cluster, "PATCH", "/apis/apps/v1/namespaces/default/deployments/smp", patch,
                     ctype="application/strategic-merge-patch+json")
    assert code == 200, obj
    spec = obj["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["b", "a"]
    a = spec["containers"][1]
    assert a["image"] == "a:2" and [e["name"] for e in a["env"]] == ["E2", "E3"]
    assert spec["volumes"] == [{"name": "v", "configMap": {"name": "cm"}}]
    assert "$setElementOrder" not in json.dumps(obj)


def test_json_patch_errors(cluster):
    call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "jp"}, "data": {"a": "1"}})
    code, body = call(cluster, "PATCH", NS + "/configmaps/jp", [{"op": "test", "path": "/data/a", "value": "2"}],
                      ctype="application/json-patch+json")
    status(422, body, "Invalid")
    code, body = call(cluster, "PATCH", NS + "/configmaps/jp", {"op": "add"}, ctype="application/json-patch+json")
    status(400, body, "BadRequest")
    code, obj = call(cluster, "PATCH", NS + "/configmaps/jp", [{"op": "add", "path": "/data/b", "value": "2"},
                                                               {"op": "remove", "path": "/data/a"}],
                     ctype="application/json-patch+json")
    assert obj["data"] == {"b": "2"}


def test_dry_run_runs_admission_persists_nothing(cluster):
    from kubesim.controllers.base import ApiError, Controller

    class Refuse(Controller):
        name = "refuse"
        seen = []

        def admit(self, operation, api_version, plural, obj, old, dry_run):
            self.seen.append((operation, plural, dry_run))
            if plural == "configmaps" and (obj or {}).get("data", {}).get("bad"):
                raise ApiError(400, "BadRequest", 'admission webhook "refuse" denied the request', {})

    ctl = cluster.add_controller(Refuse())
    code, obj = call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "dry"}}, query="dryRun=All")
    assert code == 201 and obj["metadata"]["uid"]
    assert ("CREATE", "configmaps", True) in ctl.seen
    assert call(cluster, "GET", NS + "/configmaps/dry")[0] == 404
    code, body = call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "dry"}, "data": {"bad": "x"}},
                      query="dryRun=All")
    assert code == 400 and "denied" in body["message"]
    code, body = call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "dry"}}, query="dryRun=Some")
    status(400, body, "BadRequest")


def test_secret_rules(cluster):
    code, s = call(cluster, "POST", NS + "/secrets", {"metadata": {"name": "tls"}, "type": "kubernetes.io/tls",
                                                      "data": {"tls.crt": "", "tls.key": ""}})
    assert code == 201
    s["type"] = "Opaque"
    code, body = call(cluster, "PUT", NS + "/secrets/tls", s)
    assert "type: Invalid value" in status(422, body, "Invalid")["message"]
    code, body = call(cluster, "POST", NS + "/secrets", {"metadata": {"name": "b64"}, "data": {"k": "%%%"}})
    assert "illegal base64" in status(400, body, "BadRequest")["message"]
    code, body = call(cluster, "POST", NS + "/secrets", {"metadata": {"name": "tls2"}, "type": "kubernetes.io/tls",
                                                         "data": {"tls.crt": ""}})
    assert status(422, body, "Invalid")["details"]["causes"][0]["field"] == "data[tls.key]"


def test_deployment_validation(cluster):
    code, body = call(cluster, "POST", "/apis/apps/v1/namespaces/default/deployments",
                      {"metadata": {"name": "bad"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
                                                             "template": {"metadata": {"labels": {"a": "c"}},
                                                                          "spec": {"containers": [
                                                                              {"name": "c", "image": "i"}]}}}})
    b = status(422, body, "Invalid")
    assert "`selector` does not match template `labels`" in b["message"]


def test_list_selectors_and_limits(cluster):
    for i, tier in enumerate(["web", "web", "db"]):
        call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": f"sel{i}", "labels": {"tier": tier}}})
    def names(query):
        code, lst = call(cluster, "GET", NS + "/configmaps", query=query)
        assert code == 200, lst
        return [i["metadata"]["name"] for i in lst["items"]]
    assert names("labelSelector=tier%3Dweb") == ["sel0", "sel1"]
    assert names("labelSelector=tier%21%3Dweb,tier") == ["sel2"]
    assert names("labelSelector=tier+in+(db,cache)") == ["sel2"]
    assert names("labelSelector=tier+notin+(web)") == [n for n in names("") if n != "sel0" and n != "sel1"]
    call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "rv"}})  # 409 when an earlier test made it
    assert names("labelSelector=%21tier&fieldSelector=metadata.name%3Drv") == ["rv"]
    code, body = call(cluster, "GET", NS + "/configmaps", query="fieldSelector=data.a%3D1")
    status(400, body, "BadRequest")
    code, body = call(cluster, "GET", NS + "/configmaps", query="labelSelector=a+in+b")
    status(400, body, "BadRequest")
    code, lst = call(cluster, "GET", NS + "/configmaps", query="labelSelector=tier&limit=2")
    assert len(lst["items"]) == 2 and lst["metadata"]["continue"]
    code, rest = call(cluster, "GET", NS + "/configmaps",
                      query="labelSelector=tier&limit=2&continue=" + lst["metadata"]["continue"])
    assert [i["metadata"]["name"] for i in rest["items"]] == ["sel2"] and "continue" not in rest["metadata"]
    assert "kind" not in lst["items"][0]
    code, allns = call(cluster, "GET", "/api/v1/configmaps", query="labelSelector=tier%3Ddb")
    assert [i["metadata"]["name"] for i in allns["items"]] == ["sel2"]


def test_watch_stream(cluster):
    code, lst = call(cluster, "GET", NS + "/configmaps")
    rv = lst["metadata"]["resourceVersion"]
    call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "watched"}})
    code, resp = call(cluster, "GET", NS + "/configmaps", query=f"watch=1&resourceVersion={rv}&timeoutSeconds=0.3")
    lines = [json.loads(chunk) for chunk in resp.stream if chunk]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "watched")]
    assert lines[0]["object"]["kind"] == "ConfigMap"
    code, resp = call(cluster, "GET", NS + "/configmaps", query="watch=true&timeoutSeconds=0.2&fieldSelector="
                                                                "metadata.name%3Dwatched")
    lines = [json.loads(chunk) for chunk in resp.stream if chunk]
    assert [e["type"] for e in lines] == ["ADDED"]
    code, resp = call(cluster, "GET", NS + "/configmaps", query="watch=true&resourceVersion=1&timeoutSeconds=0.2")
    lines = [json.loads(chunk) for chunk in resp.stream if chunk]
    assert lines[0]["type"] == "ERROR" and lines[0]["object"]["code"] == 410


def test_delete_semantics(cluster):
    call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "fin", "finalizers": ["example.com/hold"]}})
    code, obj = call(cluster, "DELETE", NS + "/configmaps/fin")
    assert code == 200 and obj["metadata"]["deletionTimestamp"] and obj["kind"] == "ConfigMap"
    assert call(cluster, "GET", NS + "/configmaps/fin")[0] == 200
    code, obj = call(cluster, "PATCH", NS + "/configmaps/fin", {"metadata": {"finalizers": None}},
                     ctype="application/merge-patch+json")
    assert code == 200
    assert call(cluster, "GET", NS + "/configmaps/fin")[0] == 404
    call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "pre"}})
    code, body = call(cluster, "DELETE", NS + "/configmaps/pre", {"preconditions": {"uid": "nope"}})
    status(409, body, "Conflict")
    code, body = call(cluster, "DELETE", NS + "/configmaps/pre", query="dryRun=All")
    assert code == 200 and call(cluster, "GET", NS + "/configmaps/pre")[0] == 200
    code, body = call(cluster, "DELETE", NS + "/configmaps/missing")
    status(404, body, "NotFound")
    code, sa = call(cluster, "POST", NS + "/serviceaccounts", {"metadata": {"name": "robot"}})
    code, body = call(cluster, "DELETE", NS + "/serviceaccounts/robot")
    assert body["kind"] == "ServiceAccount"


def test_namespace_termination_and_gc(cluster):
    call(cluster, "POST", "/api/v1/namespaces", {"metadata": {"name": "doomed"}})
    cluster.settle()
    assert cluster.get("v1", "serviceaccounts", "doomed", "default") is not None
    call(cluster, "POST", "/api/v1/namespaces/doomed/configmaps", {"metadata": {"name": "c"}})
    code, ns = call(cluster, "DELETE", "/api/v1/namespaces/doomed")
    assert code == 200 and ns["status"]["phase"] == "Terminating"
    code, body = call(cluster, "POST", "/api/v1/namespaces/doomed/configmaps", {"metadata": {"name": "late"}})
    b = status(403, body, "Forbidden")
    assert "because it is being terminated" in b["message"]
    # members are still there at first (kubectl delete -f lists the namespace first)
    assert call(cluster, "GET", "/api/v1/namespaces/doomed/configmaps/c")[0] == 200
    assert cluster.wait_for(lambda: cluster.peek("v1", "namespaces", None, "doomed") is None, timeout=5)
    assert cluster.peek("v1", "configmaps", "doomed", "c") is None
    # garbage collection by ownerReferences
    code, owner = call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "owner"}})
    call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "dep", "ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}]}})
    call(cluster, "DELETE", NS + "/configmaps/owner")
    assert cluster.wait_for(lambda: cluster.peek("v1", "configmaps", "default", "dep") is None, timeout=5)


def test_pod_log_options_and_proxy(cluster):
    call(cluster, "POST", NS + "/pods", {"metadata": {"name": "two"}, "spec": {"containers": [
        {"name": "a", "image": "i", "ports": [{"containerPort": 15014, "name": "http-monitoring"}]},
        {"name": "b", "image": "i"}]}})
    import datetime as dt
    t0 = cluster.now() - dt.timedelta(seconds=100)
    cluster.append_log("default", "two", "a", "old", when=t0)
    cluster.append_log("default", "two", "a", "new")
    code, body = call(cluster, "GET", NS + "/pods/two/log")
    b = status(400, body, "BadRequest")
    assert b["message"] == "a container name must be specified for pod two, choose one of: [a b]"
    code, text = call(cluster, "GET", NS + "/pods/two/log", query="container=a")
    assert text == b"old\nnew\n"
    code, text = call(cluster, "GET", NS + "/pods/two/log", query="container=a&sinceSeconds=10")
    assert text == b"new\n"
    since = (t0 + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    code, text = call(cluster, "GET", NS + "/pods/two/log", query=f"container=a&sinceTime={since}")
    assert text == b"new\n"
    code, text = call(cluster, "GET", NS + "/pods/two/log", query="container=b")
    assert text == b""
    code, body = call(cluster, "GET", NS + "/pods/two/log", query="container=zz")
    assert status(400, body, "BadRequest")["message"] == "container zz is not valid for pod two"
    code, body = call(cluster, "GET", NS + "/pods/two:15014/proxy/metrics")
    status(503, body, "ServiceUnavailable")
    cluster.register_proxy("default", "two", 15014, lambda m, p: (200, "text/plain", f"{m} {p}"))
    code, text = call(cluster, "GET", NS + "/pods/two:15014/proxy/metrics", query="x=1")
    assert code == 200 and text == b"GET /metrics?x=1"
    code, text = call(cluster, "GET", NS + "/pods/two:http-monitoring/proxy/metrics")
    assert text == b"GET /metrics"
    code, body = call(cluster, "GET", NS + "/pods/ghost:1/proxy/x")
    status(404, body, "NotFound")


def test_cluster_scoped_custom_resources(cluster):
    cluster.create({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": "globals.example.com"},
                    "spec": {"group": "example.com", "scope": "Cluster",
                             "names": {"plural": "globals", "singular": "global", "kind": "Global"},
                             "versions": [{"name": "v1", "served": True, "storage": True}]}})
    code, obj = call(cluster, "POST", "/apis/example.com/v1/globals",
                     {"apiVersion": "example.com/v1", "kind": "Global", "metadata": {"name": "g",
                                                                                     "namespace": "ignored"},
                      "spec": {"a": 1}, "status": {"kept": True}})
    assert code == 201 and "namespace" not in obj["metadata"]
    assert obj["status"] == {"kept": True}  # no status subresource: status is ordinary data
    assert call(cluster, "GET", "/apis/example.com/v1/namespaces/default/globals/g")[0] == 404
    code, lst = call(cluster, "GET", "/apis/example.com/v1/globals")
    assert [i["metadata"]["name"] for i in lst["items"]] == ["g"]
    code, body = call(cluster, "GET", "/apis/example.com/v1")
    assert {r["name"]: r["namespaced"] for r in body["resources"]}["globals"] is False
    # deleting the CRD removes its resources and its API
    cluster.delete("apiextensions.k8s.io/v1", "customresourcedefinitions", None, "globals.example.com")
    assert call(cluster, "GET", "/apis/example.com/v1/globals")[0] == 404


def test_server_side_apply_to_status(cluster):
    base = "/apis/example.com/v1/namespaces/default/things"
    call(cluster, "POST", base, {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "st"},
                                 "spec": {"n": 1}})
    applied = {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "st"},
               "status": {"conditions": [{"type": "Ready", "status": "True"}]}, "spec": {"n": 99}}
    code, obj = call(cluster, "PATCH", base + "/st/status", applied, query="fieldManager=ctl",
                     ctype="application/apply-patch+yaml")
    assert code == 200 and obj["status"]["conditions"][0]["status"] == "True" and obj["spec"]["n"] == 1
    entry = [m for m in obj["metadata"]["managedFields"] if m["manager"] == "ctl"][0]
    assert entry["subresource"] == "status" and entry["operation"] == "Apply"
    assert call(cluster, "PATCH", base + "/missing/status", dict(applied, metadata={"name": "missing"}),
                query="fieldManager=ctl",
                ctype="application/apply-patch+yaml")[0] == 404
    # SSA dry run creates nothing
    code, obj = call(cluster, "PATCH", base + "/dry", dict(applied, metadata={"name": "dry"}),
                     query="fieldManager=ctl&dryRun=All", ctype="application/apply-patch+yaml")
    assert code == 201 and call(cluster, "GET", base + "/dry")[0] == 404


def test_access_reviews_are_answered_not_stored(cluster):
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": "create", "resource": "secrets", "namespace": "default"}}}
    code, out = call(cluster, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body)
    assert code == 201 and out["status"]["allowed"] is True and out["spec"] == body["spec"]
    assert call(cluster, "GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")[0] == 405
    code, disc = call(cluster, "GET", "/apis/authorization.k8s.io/v1")
    assert {r["name"]: r["verbs"] for r in disc["resources"]}["selfsubjectaccessreviews"] == ["create"]


def test_client_supplied_managed_fields(cluster):
    path = NS + "/configmaps/mf"
    code, obj = call(cluster, "PATCH", path, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mf"},
                                              "data": {"a": "1"}}, query="fieldManager=first",
                     ctype="application/apply-patch+yaml")
    live = obj["metadata"]["managedFields"]
    # sending the live entries back (GET then PUT) changes nothing
    code, same = call(cluster, "PUT", path, obj)
    assert same["metadata"]["managedFields"] == live
    # a different list replaces them (ownership handed to "second")
    moved = [dict(live[0], manager="second")]
    code, obj = call(cluster, "PATCH", path, [{"op": "replace", "path": "/metadata/managedFields", "value": moved}],
                     ctype="application/json-patch+json")
    assert [m["manager"] for m in obj["metadata"]["managedFields"]] == ["second"]
    # [{}] resets them
    code, obj = call(cluster, "PATCH", path, {"metadata": {"managedFields": [{}]}},
                     ctype="application/merge-patch+json")
    assert "managedFields" not in obj["metadata"]


def test_log_follow_streams_until_the_pod_goes(cluster):
    import threading
    call(cluster, "POST", NS + "/pods", {"metadata": {"name": "follow"}, "spec": {"containers": [
        {"name": "c", "image": "i"}]}})
    cluster.append_log("default", "follow", "c", "one")
    code, resp = call(cluster, "GET", NS + "/pods/follow/log", query="follow=true")
    chunks = []

    def reader():
        for chunk in resp.stream:
            chunks.append(chunk)
    t = threading.Thread(target=reader)
    t.start()
    cluster.wait_for(lambda: bool(chunks), timeout=5)
    cluster.append_log("default", "follow", "c", "two")
    deadline = __import__("time").monotonic() + 5
    while b"".join(chunks) != b"one\ntwo\n" and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.02)
    call(cluster, "DELETE", NS + "/pods/follow")
    t.join(5)
    assert not t.is_alive() and b"".join(chunks) == b"one\ntwo\n"


def test_watch_selector_transitions(cluster):
    call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "mover", "labels": {"watch": "yes"}}})
    code, lst = call(cluster, "GET", NS + "/configmaps", query="labelSelector=watch%3Dyes")
    rv = lst["metadata"]["resourceVersion"]
    call(cluster, "PATCH", NS + "/configmaps/mover", {"metadata": {"labels": {"watch": "no"}}},
         ctype="application/merge-patch+json")
    call(cluster, "PATCH", NS + "/configmaps/mover", {"metadata": {"labels": {"watch": "yes"}}},
         ctype="application/merge-patch+json")
    code, resp = call(cluster, "GET", NS + "/configmaps",
                      query=f"watch=1&labelSelector=watch%3Dyes&resourceVersion={rv}&timeoutSeconds=0.2")
    events = [json.loads(c)["type"] for c in resp.stream if c]
    assert events == ["DELETED", "ADDED"]


def test_managed_fields_time_moves_when_a_manager_changes_values(cluster):
    path = NS + "/configmaps/mftime"
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mftime"}, "data": {"a": "1"}}
    code, obj = call(cluster, "PATCH", path, body, query="fieldManager=m", ctype="application/apply-patch+yaml")
    t0 = obj["metadata"]["managedFields"][0]["time"]
    rv0 = obj["metadata"]["resourceVersion"]
    cluster.clock.advance(120)
    code, same = call(cluster, "PATCH", path, body, query="fieldManager=m", ctype="application/apply-patch+yaml")
    assert same["metadata"]["managedFields"][0]["time"] == t0 and same["metadata"]["resourceVersion"] == rv0
    code, obj = call(cluster, "PATCH", path, dict(body, data={"a": "2"}), query="fieldManager=m",
                     ctype="application/apply-patch+yaml")
    assert obj["metadata"]["managedFields"][0]["time"] > t0
    t1 = obj["metadata"]["managedFields"][0]["time"]
    cluster.clock.advance(120)
    code, obj = call(cluster, "PATCH", path, {"data": {"a": "3"}}, query="fieldManager=m",
                     ctype="application/merge-patch+json")
    upd = [m for m in obj["metadata"]["managedFields"] if m["operation"] == "Update"][0]
    assert upd["time"] > t1
    cluster.clock.advance(120)
    code, obj = call(cluster, "PATCH", path, {"data": {"a": "4"}}, query="fieldManager=m",
                     ctype="application/merge-patch+json")
    assert [m for m in obj["metadata"]["managedFields"] if m["operation"] == "Update"][0]["time"] > upd["time"]


def test_orphan_propagation_keeps_dependents(cluster):
    code, owner = call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "orphan-owner"}})
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "orphan-owner", "uid": owner["metadata"]["uid"]}
    call(cluster, "POST", NS + "/configmaps", {"metadata": {"name": "orphan-dep", "ownerReferences": [ref]}})
    code, _ = call(cluster, "DELETE", NS + "/configmaps/orphan-owner", {"propagationPolicy": "Orphan"})
    assert code == 200
    assert cluster.wait_for(lambda: not (cluster.peek("v1", "configmaps", "default", "orphan-dep") or {}).get(
        "metadata", {}).get("ownerReferences"), timeout=5)
    assert cluster.peek("v1", "configmaps", "default", "orphan-dep") is not None


def test_managed_fields_time_moves_on_removal_put_and_internal_writes(cluster):
    """ManagedFieldsEntry.time: "updated if a field is added, the manager changes any of the
    owned fields value or removes a field" — per entry, on the simulated clock."""
    path = NS + "/configmaps/mftime2"

    def entry(obj, manager, operation):
        return next(m for m in obj["metadata"]["managedFields"]
                    if (m["manager"], m["operation"]) == (manager, operation))

    def fresh(when, since):  # written by the request just made (the wall clock may tick meanwhile)
        return since <= when <= cluster.now_str()

    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mftime2"}, "data": {"a": "1", "b": "1"}}
    code, obj = call(cluster, "PATCH", path, body, query="fieldManager=m", ctype="application/apply-patch+yaml")
    t0 = entry(obj, "m", "Apply")["time"]
    cluster.clock.advance(60)
    since = cluster.now_str()
    code, obj = call(cluster, "PATCH", path, dict(body, data={"a": "1"}), query="fieldManager=m",
                     ctype="application/apply-patch+yaml")
    assert "b" not in obj["data"] and fresh(entry(obj, "m", "Apply")["time"], since) and since > t0
    # PUT by another manager changing its own field twice: its entry follows, m's stays
    cluster.clock.advance(60)
    code, obj = call(cluster, "PUT", path, dict(obj, data={"a": "1", "c": "1"}), query="fieldManager=u")
    t_apply = entry(obj, "m", "Apply")["time"]
    t_u = entry(obj, "u", "Update")["time"]
    cluster.clock.advance(60)
    since = cluster.now_str()
    code, obj = call(cluster, "PUT", path, dict(obj, data={"a": "1", "c": "2"}), query="fieldManager=u")
    assert fresh(entry(obj, "u", "Update")["time"], since) and since > t_u
    assert entry(obj, "m", "Apply")["time"] == t_apply
    # an unchanged PUT keeps every time and the resourceVersion
    cluster.clock.advance(60)
    code, same = call(cluster, "PUT", path, obj, query="fieldManager=u")
    assert same["metadata"]["managedFields"] == obj["metadata"]["managedFields"]
    assert same["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
    # internal (ClusterView) writes keep the same bookkeeping
    live = cluster.get("v1", "configmaps", "default", "mftime2")
    live["data"]["c"] = "3"
    cluster.clock.advance(60)
    since = cluster.now_str()
    out = cluster.update(live, manager="u")
    assert fresh(entry(out, "u", "Update")["time"], since) and since > entry(obj, "u", "Update")["time"]
