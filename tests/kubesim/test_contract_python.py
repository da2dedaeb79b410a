"""Contract: the official ``kubernetes`` Python client (typed and DynamicClient) against kubesim.

Each assertion here is behaviour of a real API server (see the fidelity table in README.md);
if kubesim drifts, these fail.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s, watch as k8s_watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402
from kubernetes.dynamic import DynamicClient  # noqa: E402
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError, UnprocessibleEntityError  # noqa: E402

from kubesim import Fleet  # noqa: E402

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {
                               "type": "object",
                               "properties": {"spec": {"type": "object", "required": ["size"],
                                                       "properties": {"size": {"type": "integer"},
                                                                      "color": {"type": "string"}}},
                                              "status": {"type": "object",
                                                         "x-kubernetes-preserve-unknown-fields": True}}}}}]},
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    f = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-py"))
    f.start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def api(fleet):
    c = fleet.python_client("cluster-1")
    yield c
    c.close()


@pytest.fixture
def ns(api):
    name = "t-" + uuid.uuid4().hex[:8]
    k8s.CoreV1Api(api).create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    return name


@pytest.fixture(scope="module")
def dyn(api):
    return DynamicClient(api)


@pytest.fixture(scope="module")
def widgets(fleet, dyn):
    fleet["cluster-1"].create(CRD)
    dyn.resources.invalidate_cache()
    return dyn.resources.get(api_version="example.com/v1", kind="Widget")


def _status_of(exc: ApiException) -> dict:
    import json
    return json.loads(exc.body)


# ------------------------------------------------------------------ typed client


def test_secret_crud_and_string_data(api, ns):
    core = k8s.CoreV1Api(api)
    s = core.create_namespaced_secret(ns, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="s1"),
                                                       string_data={"a": "hello"}))
    assert s.type == "Opaque"
    assert s.data == {"a": base64.b64encode(b"hello").decode()}
    assert s.string_data is None
    assert s.metadata.uid and s.metadata.resource_version and s.metadata.creation_timestamp
    got = core.read_namespaced_secret("s1", ns)
    assert got.metadata.resource_version == s.metadata.resource_version
    lst = core.list_namespaced_secret(ns)
    assert [i.metadata.name for i in lst.items] == ["s1"]
    # strategic merge patch with a dict body
    p = core.patch_namespaced_secret("s1", ns, {"metadata": {"labels": {"x": "y"}}})
    assert p.metadata.labels == {"x": "y"}
    assert p.metadata.resource_version != s.metadata.resource_version
    st = core.delete_namespaced_secret("s1", ns)
    # secrets return a Status (ReturnDeletedObject unset), client 37 gives a dict
    st = st if isinstance(st, dict) else st.to_dict()
    assert st["status"] == "Success" and st["details"]["name"] == "s1" and st["details"]["kind"] == "secrets"
    with pytest.raises(ApiException) as ei:
        core.read_namespaced_secret("s1", ns)
    assert ei.value.status == 404
    body = _status_of(ei.value)
    assert body["reason"] == "NotFound" and body["message"] == 'secrets "s1" not found'
    assert body["details"] == {"name": "s1", "kind": "secrets"}


def test_error_shapes_409_422(api, ns):
    core = k8s.CoreV1Api(api)
    core.create_namespaced_config_map(ns, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="c1"), data={"k": "v"}))
    with pytest.raises(ApiException) as ei:
        core.create_namespaced_config_map(ns, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="c1")))
    body = _status_of(ei.value)
    assert ei.value.status == 409 and body["reason"] == "AlreadyExists"
    assert body["message"] == 'configmaps "c1" already exists'
    # stale resourceVersion on replace
    cm = core.read_namespaced_config_map("c1", ns)
    cm.data = {"k": "v2"}
    core.replace_namespaced_config_map("c1", ns, cm)
    cm.data = {"k": "v3"}
    with pytest.raises(ApiException) as ei:
        core.replace_namespaced_config_map("c1", ns, cm)
    body = _status_of(ei.value)
    assert ei.value.status == 409 and body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]
    # invalid name
    with pytest.raises(ApiException) as ei:
        core.create_namespaced_config_map(ns, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="Bad_Name")))
    body = _status_of(ei.value)
    assert ei.value.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    # create in a missing namespace
    with pytest.raises(ApiException) as ei:
        core.create_namespaced_config_map("nope-" + ns, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="x")))
    body = _status_of(ei.value)
    assert ei.value.status == 404 and body["message"] == f'namespaces "nope-{ns}" not found'


def test_pod_delete_returns_object_and_logs(fleet, api, ns):
    core = k8s.CoreV1Api(api)
    pod = core.create_namespaced_pod(ns, k8s.V1Pod(
        metadata=k8s.V1ObjectMeta(name="p1"),
        spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="c", image="busybox:1.36")])))
    assert pod.status.phase == "Pending" or pod.status.phase == "Running"
    cl = fleet["cluster-1"]
    assert cl.wait_for(lambda: (cl.peek("v1", "pods", ns, "p1") or {}).get("status", {}).get("phase") == "Running")
    cl.append_log(ns, "p1", None, "first line")
    cl.append_log(ns, "p1", "c", "second line")
    assert core.read_namespaced_pod_log("p1", ns) == "first line\nsecond line\n"
    assert core.read_namespaced_pod_log("p1", ns, tail_lines=1) == "second line\n"
    ts = core.read_namespaced_pod_log("p1", ns, timestamps=True)
    assert ts.splitlines()[0].endswith("Z first line")
    with pytest.raises(ApiException) as ei:
        core.read_namespaced_pod_log("p1", ns, container="nope")
    assert ei.value.status == 400
    deleted = core.delete_namespaced_pod("p1", ns)
    assert isinstance(deleted, k8s.V1Pod) and deleted.metadata.name == "p1"


def _wait_for(read, done, timeout=20.0):
    """Poll ``read()`` until ``done(obj)``; the last object (the caller's asserts then say what is wrong)."""
    deadline = time.monotonic() + timeout
    obj = read()
    while not done(obj) and time.monotonic() < deadline:
        time.sleep(0.05)
        obj = read()
    return obj


def test_deployment_status_and_scale(fleet, api, ns):
    apps = k8s.AppsV1Api(api)
    d = k8s.V1Deployment(
        metadata=k8s.V1ObjectMeta(name="web"),
        spec=k8s.V1DeploymentSpec(
            replicas=2, selector=k8s.V1LabelSelector(match_labels={"app": "web"}),
            template=k8s.V1PodTemplateSpec(metadata=k8s.V1ObjectMeta(labels={"app": "web"}),
                                           spec=k8s.V1PodSpec(containers=[k8s.V1Container(name="c",
                                                                                          image="nginx:1")]))))
    apps.create_namespaced_deployment(ns, d)
    # the create returns before the Deployment controller and the kubelet acted (asynchronous writes)
    got = _wait_for(lambda: apps.read_namespaced_deployment("web", ns),
                    lambda o: o.status is not None and o.status.ready_replicas == 2)
    assert got.metadata.generation == 1
    assert got.status.observed_generation == 1
    assert got.status.ready_replicas == 2 and got.status.available_replicas == 2
    assert {c.type: c.status for c in got.status.conditions} == {"Available": "True", "Progressing": "True"}
    pods = k8s.CoreV1Api(api).list_namespaced_pod(ns, label_selector="app=web").items
    assert len(pods) == 2 and all(p.metadata.name.startswith("web-") for p in pods)
    apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 3}})
    got = _wait_for(lambda: apps.read_namespaced_deployment("web", ns),
                    lambda o: o.status.observed_generation == 2 and o.status.ready_replicas == 3)
    assert got.spec.replicas == 3 and got.status.ready_replicas == 3 and got.metadata.generation == 2
    # status written through the main resource is ignored
    apps.patch_namespaced_deployment("web", ns, {"status": {"replicas": 99}})
    assert apps.read_namespaced_deployment("web", ns).status.replicas == 3


def test_watch_initial_added_and_modified(api, ns):
    core = k8s.CoreV1Api(api)
    core.create_namespaced_config_map(ns, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="w1"), data={"a": "1"}))
    seen = []

    def writer():
        time.sleep(0.3)
        core.patch_namespaced_config_map("w1", ns, {"data": {"a": "2"}})
        core.delete_namespaced_config_map("w1", ns)

    t = threading.Thread(target=writer)
    t.start()
    w = k8s_watch.Watch()
    # every namespace also holds kube-root-ca.crt (the root CA publisher): watch w1 alone
    for ev in w.stream(core.list_namespaced_config_map, ns, field_selector="metadata.name=w1", timeout_seconds=5):
        seen.append((ev["type"], ev["object"].metadata.name, (ev["object"].data or {}).get("a")))
        if ev["type"] == "DELETED":
            w.stop()
    t.join()
    assert seen[0] == ("ADDED", "w1", "1")
    assert ("MODIFIED", "w1", "2") in seen and seen[-1][0] == "DELETED"


def test_watch_from_resource_version(api, ns):
    core = k8s.CoreV1Api(api)
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="w2")))
    events = [(e["type"], e["object"].metadata.name) for e in
              k8s_watch.Watch().stream(core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=1)]
    assert events == [("ADDED", "w2")]


# ------------------------------------------------------------------ custom resources


def test_custom_objects_crud_415_422_status(api, ns, widgets):
    co = k8s.CustomObjectsApi(api)
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 3}, "status": {"ignored": True}}
    obj = co.create_namespaced_custom_object("example.com", "v1", ns, "widgets", body)
    assert obj["metadata"]["generation"] == 1 and "status" not in obj
    # merge patch (CustomObjectsApi's default)
    obj = co.patch_namespaced_custom_object("example.com", "v1", ns, "widgets", "w", {"spec": {"color": "red"}})
    assert obj["spec"] == {"size": 3, "color": "red"} and obj["metadata"]["generation"] == 2
    # status subresource: only .status taken, generation unchanged
    st = co.patch_namespaced_custom_object_status("example.com", "v1", ns, "widgets", "w",
                                                 {"status": {"phase": "Ready"}, "spec": {"size": 100}})
    assert st["status"] == {"phase": "Ready"} and st["spec"]["size"] == 3 and st["metadata"]["generation"] == 2
    # replace without resourceVersion is refused for custom resources
    obj.pop("status", None)
    obj["metadata"].pop("resourceVersion")
    with pytest.raises(ApiException) as ei:
        co.replace_namespaced_custom_object("example.com", "v1", ns, "widgets", "w", obj)
    body = _status_of(ei.value)
    assert ei.value.status == 422
    assert "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update" in body["message"]
    # schema: required field
    with pytest.raises(ApiException) as ei:
        co.create_namespaced_custom_object("example.com", "v1", ns, "widgets",
                                           {"apiVersion": "example.com/v1", "kind": "Widget",
                                            "metadata": {"name": "bad"}, "spec": {}})
    body = _status_of(ei.value)
    assert ei.value.status == 422 and body["details"]["kind"] == "Widget"
    assert body["details"]["causes"][0]["field"] == "spec.size"
    assert body["message"].startswith('Widget.example.com "bad" is invalid: spec.size: Required value')
    # strategic merge patch on a custom resource: 415
    with pytest.raises(ApiException) as ei:
        widgets.patch(body={"spec": {"size": 4}}, name="w", namespace=ns,
                      content_type="application/strategic-merge-patch+json")
    assert ei.value.status == 415
    st = co.delete_namespaced_custom_object("example.com", "v1", ns, "widgets", "w")
    assert st["status"] == "Success" and st["details"] == {"name": "w", "group": "example.com",
                                                           "kind": "widgets", "uid": obj["metadata"]["uid"]}


def test_dynamic_client_ssa_conflict_and_force(dyn, ns, widgets):
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "a", "namespace": ns},
            "spec": {"size": 1, "color": "blue"}}
    created = widgets.server_side_apply(body=body, name="a", namespace=ns, field_manager="mgr-a")
    assert created.spec.size == 1
    managers = {m["manager"] for m in created.metadata.managedFields}
    assert managers == {"mgr-a"}
    body2 = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "a", "namespace": ns},
             "spec": {"size": 2}}
    with pytest.raises(ConflictError) as ei:
        widgets.server_side_apply(body=body2, name="a", namespace=ns, field_manager="mgr-b")
    st = ei.value.body if isinstance(ei.value.body, dict) else __import__("json").loads(ei.value.body)
    assert st["reason"] == "Conflict"
    assert st["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "mgr-a"',
                                        "field": ".spec.size"}]
    forced = widgets.server_side_apply(body=body2, name="a", namespace=ns, field_manager="mgr-b",
                                       force_conflicts=True)
    assert forced.spec.size == 2 and forced.spec.color == "blue"
    # mgr-a re-applies without color: the field it alone owned is removed
    again = widgets.server_side_apply(body={"apiVersion": "example.com/v1", "kind": "Widget",
                                            "metadata": {"name": "a", "namespace": ns}, "spec": {"size": 2}},
                                      name="a", namespace=ns, field_manager="mgr-a")
    assert "color" not in again.spec
    with pytest.raises(UnprocessibleEntityError):
        widgets.patch(body=body2, name="a", namespace=ns, content_type="application/apply-patch+yaml")


def test_dynamic_client_not_found_and_crud(dyn, ns):
    v1 = dyn.resources.get(api_version="v1", kind="ConfigMap")
    with pytest.raises(NotFoundError):
        v1.get(name="missing", namespace=ns)
    v1.create(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d1"}, "data": {"a": "1"}},
              namespace=ns)
    got = v1.get(name="d1", namespace=ns)
    assert got.data.a == "1"
    v1.patch(body=[{"op": "replace", "path": "/data/a", "value": "2"}], name="d1", namespace=ns,
             content_type="application/json-patch+json")
    assert v1.get(name="d1", namespace=ns).data.a == "2"
    items = v1.get(namespace=ns, label_selector="missing-label").items
    assert items == []
    v1.delete(name="d1", namespace=ns)
    with pytest.raises(NotFoundError):
        v1.get(name="d1", namespace=ns)
