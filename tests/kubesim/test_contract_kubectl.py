"""Contract: kubectl (from the machine image) against kubesim.

Plain ``kubectl apply -f`` runs as on a real cluster with every kubectl build on the image: kubectl
1.29+ sees ``fieldValidation`` in kubesim's OpenAPI v3 operations and leaves validation to the server
(Strict); kubectl ≤ 1.28 first reads the protobuf OpenAPI v2 document (apiserver/openapi_v2_proto.py).
"""

from __future__ import annotations

import glob
import json
import uuid

import pytest

from kubesim import Fleet
from kubesim.fleet import find_kubectl

pytestmark = pytest.mark.kubectl

KUBECTL = find_kubectl()
if not KUBECTL:
    pytest.skip("kubectl is not on PATH (it ships with the machine image's Google Cloud SDK); "
                "kubectl contract tests need it", allow_module_level=True)

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: c
        image: nginx:1.25
        env:
        - {{name: A, value: "1"}}
        ports:
        - {{containerPort: 80}}
"""

SECRET = """apiVersion: v1
kind: Secret
metadata:
  name: s1
  namespace: {ns}
stringData:
  key: {value}
"""

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    f = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-kubectl"))
    f.start()
    yield f
    f.stop()


@pytest.fixture
def ns(fleet):
    name = "k-" + uuid.uuid4().hex[:8]
    r = fleet.kubectl("create", "namespace", name)
    assert r.returncode == 0, r.stderr
    return name


def ok(r):
    assert r.returncode == 0, f"kubectl failed ({r.returncode}): {r.stderr}"
    return r.stdout


def test_get_and_discovery(fleet):
    out = ok(fleet.kubectl("get", "namespaces", "-o", "json"))
    names = {i["metadata"]["name"] for i in json.loads(out)["items"]}
    assert {"default", "kube-system"} <= names
    assert "v1" in ok(fleet.kubectl("api-versions")).split()
    res = ok(fleet.kubectl("api-resources", "--api-group=apps", "-o", "name"))
    assert "deployments.apps" in res.split()
    r = fleet.kubectl("get", "frobnicators")
    assert r.returncode != 0 and "doesn't have a resource type" in r.stderr


def test_apply_create_reapply_wait_rollout_logs_delete(fleet, ns):
    manifest = DEPLOY.format(ns=ns) + "---\n" + SECRET.format(ns=ns, value="v1")
    out = ok(fleet.kubectl("apply", "-f", "-", input=manifest))
    assert "deployment.apps/web created" in out and "secret/s1 created" in out
    out = ok(fleet.kubectl("apply", "-f", "-", input=manifest))
    assert "deployment.apps/web unchanged" in out
    out = ok(fleet.kubectl("apply", "-f", "-", input=manifest.replace('"1"', '"2"')))
    assert "deployment.apps/web configured" in out
    dep = json.loads(ok(fleet.kubectl("get", "deployment", "web", "-n", ns, "-o", "json")))
    env = dep["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "A", "value": "2"}]
    assert "$setElementOrder/containers" not in json.dumps(dep)
    ok(fleet.kubectl("wait", "--for=condition=Available", "deployment/web", "-n", ns, "--timeout=20s"))
    assert "successfully rolled out" in ok(fleet.kubectl("rollout", "status", "deployment/web", "-n", ns,
                                                         "--timeout=20s"))
    cl = fleet["cluster-1"]
    # the env change rolled the pods: those of the first template may still be Terminating
    pods = sorted(p["metadata"]["name"] for p in cl.list("v1", "pods", ns) if not p["metadata"].get(
        "deletionTimestamp"))
    assert len(pods) == 2
    table = ok(fleet.kubectl("get", "deployment", "web", "-n", ns)).splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:4] == ["web", "2/2", "2", "2"]
    cl.append_log(ns, pods[0], None, "line one\nline two")
    assert ok(fleet.kubectl("logs", pods[0], "-n", ns)) == "line one\nline two\n"
    assert ok(fleet.kubectl("logs", pods[0], "-n", ns, "--tail=1")) == "line two\n"
    # rollout restart changes the template: new pods with fresh, empty logs
    ok(fleet.kubectl("rollout", "restart", "deployment/web", "-n", ns))
    ok(fleet.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=20s"))
    listed = cl.list("v1", "pods", ns)
    new_pods = sorted(p["metadata"]["name"] for p in listed if not p["metadata"].get("deletionTimestamp"))
    assert len(new_pods) == 2 and not set(new_pods) & set(pods)
    assert ok(fleet.kubectl("logs", new_pods[0], "-n", ns)) == ""
    # the old pods terminate gracefully (pod strategy CheckGracefulDelete): kubectl wait sees them go
    ok(fleet.kubectl("wait", "--for=delete", *("pod/" + p for p in pods), "-n", ns, "--timeout=20s"))
    out = ok(fleet.kubectl("delete", "-f", "-", input=manifest))
    assert 'deployment.apps "web" deleted' in out
    r = fleet.kubectl("get", "secret", "s1", "-n", ns)
    assert r.returncode != 0 and "NotFound" in r.stderr


CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: cm1
  namespace: {ns}
data:
  key: {value}
"""


def test_server_side_apply_conflict_and_force(fleet, ns):
    ok(fleet.kubectl("apply", "-f", "-", input=CONFIGMAP.format(ns=ns, value="a")))
    r = fleet.kubectl("apply", "--server-side", "-f", "-",
                      input=CONFIGMAP.format(ns=ns, value="b"))
    assert r.returncode != 0
    assert "conflict" in r.stderr.lower() and "kubectl-client-side-apply" in r.stderr and ".data.key" in r.stderr
    out = ok(fleet.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                           input=CONFIGMAP.format(ns=ns, value="b")))
    assert "serverside-applied" in out
    cm = json.loads(ok(fleet.kubectl("get", "configmap", "cm1", "-n", ns, "-o", "json", "--show-managed-fields")))
    assert cm["data"]["key"] == "b"
    owners = {m["manager"]: m for m in cm["metadata"]["managedFields"]}
    assert owners["kubectl"]["operation"] == "Apply"
    assert "f:key" in owners["kubectl"]["fieldsV1"]["f:data"]
    # kubectl (>= 1.26) then migrates client-side-apply ownership to its server-side manager by
    # PATCHing metadata.managedFields; the server must honour client-supplied managedFields
    assert "kubectl-client-side-apply" not in owners
    # same values from a second manager: shared ownership, no conflict
    ok(fleet.kubectl("apply", "--server-side", "--field-manager=other", "-f", "-",
                     input=CONFIGMAP.format(ns=ns, value="b")))


def test_crd_established_and_custom_resource(fleet, ns):
    ok(fleet.kubectl("apply", "-f", "-", input=CRD))
    ok(fleet.kubectl("wait", "--for=condition=Established", "crd/gadgets.example.com", "--timeout=20s"))
    cr = f"apiVersion: example.com/v1\nkind: Gadget\nmetadata: {{name: g1, namespace: {ns}}}\nspec: {{size: 1}}\n"
    assert "gadget.example.com/g1 created" in ok(fleet.kubectl("apply", "-f", "-", input=cr))
    out = ok(fleet.kubectl("apply", "-f", "-", input=cr.replace("size: 1", "size: 2")))
    assert "configured" in out
    got = json.loads(ok(fleet.kubectl("get", "gd", "g1", "-n", ns, "-o", "json")))
    assert got["spec"] == {"size": 2} and got["metadata"]["generation"] == 2
    fleet["cluster-1"].update_status(dict(got, status={"conditions": [{"type": "Ready", "status": "True"}]}))
    # server-side printing: the CRD's additionalPrinterColumns
    lines = ok(fleet.kubectl("get", "gadgets", "-n", ns)).splitlines()
    assert lines[0].split() == ["NAME", "SIZE", "READY", "AGE"]
    assert lines[1].split()[:3] == ["g1", "2", "True"]
    ok(fleet.kubectl("delete", "gadget", "g1", "-n", ns))


def test_wait_times_out_for_never_ready(fleet, ns):
    manifest = DEPLOY.format(ns=ns).replace("  name: web\n", "  name: web\n  annotations:\n"
                                            "    kubesim.io/never-ready: \"true\"\n", 1)
    ok(fleet.kubectl("apply", "-f", "-", input=manifest))
    r = fleet.kubectl("wait", "--for=condition=Available", "deployment/web", "-n", ns, "--timeout=1s")
    assert r.returncode != 0 and "timed out" in r.stderr


def test_namespace_delete(fleet):
    name = "gone-" + uuid.uuid4().hex[:6]
    ok(fleet.kubectl("create", "namespace", name))
    ok(fleet.kubectl("create", "configmap", "c", "-n", name, "--from-literal=a=b"))
    ok(fleet.kubectl("delete", "namespace", name, "--timeout=20s"))
    r = fleet.kubectl("get", "namespace", name)
    assert r.returncode != 0 and "NotFound" in r.stderr


OLD_KUBECTLS = sorted(glob.glob("/usr/lib/google-cloud-sdk/bin/kubectl.1.2[0-9]"))


@pytest.mark.skipif(not OLD_KUBECTLS, reason="no older kubectl build on this machine")
def test_oldest_kubectl_apply_and_get(fleet, ns):
    old = OLD_KUBECTLS[0]
    manifest = SECRET.format(ns=ns, value="x")
    r = fleet.kubectl("apply", "-f", "-", input=manifest, kubectl=old)
    assert r.returncode == 0, r.stderr
    r = fleet.kubectl("apply", "-f", "-", input=manifest, kubectl=old)
    assert r.returncode == 0, r.stderr
    r = fleet.kubectl("get", "secret", "s1", "-n", ns, "-o", "jsonpath={.data.key}", kubectl=old)
    assert r.returncode == 0 and r.stdout == "eA==", r.stderr


def test_apply_with_default_validation(fleet, ns):
    """kubectl >= 1.29 finds fieldValidation in /openapi/v3 and leaves validation to the server."""
    r = fleet.kubectl("version", "--client", "-o", "json")
    minor = int(json.loads(r.stdout)["clientVersion"]["minor"].rstrip("+"))
    if minor < 29:
        pytest.skip(f"kubectl 1.{minor} reads OpenAPI v2 first (test_openapi.py covers it)")
    out = ok(fleet.kubectl("apply", "-f", "-", input=CONFIGMAP.format(ns=ns, value="v")))
    assert "configmap/cm1 created" in out
    posts = fleet["cluster-1"].requests.matching("POST", rf"/namespaces/{ns}/configmaps$")
    assert "fieldValidation=Strict" in posts[-1]["query"]
