"""Contract: workload lifecycle as a real cluster runs it, through kubectl, the Python client and
kubernetes.core (issue 21).

Each test names the upstream code the behaviour follows (kubernetes/kubernetes):
graceful Pod deletion (pkg/registry/core/pod/strategy.go CheckGracefulDelete; the kubelet's
status_manager confirming), Deployment revisions and pause (pkg/controller/deployment/sync.go
getNewReplicaSet, checkPausedConditions), Foreground deletion (garbagecollector.go
processDeletingDependentsItem), ServiceAccount admission (plugin/pkg/admission/serviceaccount),
API defaults (pkg/apis/{batch,apps}/v1/defaults.go, pkg/registry/batch/job/strategy.go), the
Job/StatefulSet/DaemonSet controllers, the root CA publisher
(pkg/controller/certificates/rootcacertpublisher), the Node's nodeInfo and discovery verbs
(namespace storage is no CollectionDeleter).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from kubesim import Fleet  # noqa: E402
from kubesim.fleet import find_kubectl  # noqa: E402

KUBECTL = find_kubectl()
needs_kubectl = pytest.mark.skipif(not KUBECTL, reason="kubectl is not on PATH")
ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    f = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-lifecycle"))
    f.start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def api(fleet):
    c = fleet.python_client("cluster-1")
    yield c
    c.close()


@pytest.fixture
def ns(api, fleet):
    name = "lc-" + uuid.uuid4().hex[:8]
    k8s.CoreV1Api(api).create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    assert fleet["cluster-1"].wait_for(
        lambda: fleet["cluster-1"].peek("v1", "serviceaccounts", name, "default") is not None, 10)
    return name


def ok(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 0, f"kubectl failed ({r.returncode}):\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r.stdout


def wait(predicate, timeout=20.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in %.0fs" % timeout)


def deployment(name, image="nginx:1", replicas=1, sa=None):
    spec = {"containers": [{"name": "c", "image": image}]}
    if sa:
        spec["serviceAccountName"] = sa
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def apply(fleet, ns, obj):
    return ok(fleet.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(obj)))


def kget(fleet, ns, *what):
    return json.loads(ok(fleet.kubectl("get", *what, "-n", ns, "-o", "json")))


# -- 1. graceful pod deletion -------------------------------------------------------------------------------------

def test_deleted_pod_is_terminating_listed_and_logging_until_the_kubelet_confirms(fleet, api, ns):
    cl = fleet["cluster-1"]
    cl.options["pod_termination_seconds"] = 3  # the container takes 3 s to stop after SIGTERM
    try:
        core = k8s.CoreV1Api(api)
        core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod",
                                        "metadata": {"name": "p", "labels": {"app": "p"}},
                                        "spec": {"nodeName": "kubesim-node",
                                                 "containers": [{"name": "c", "image": "busybox:1"}]}})
        wait(lambda: core.read_namespaced_pod("p", ns).status.phase == "Running")
        cl.append_log(ns, "p", None, "still here")
        gone = core.delete_namespaced_pod("p", ns)
        # the delete answers the pod itself, marked for deletion 30 s (terminationGracePeriodSeconds) ahead
        assert gone.metadata.deletion_timestamp is not None and gone.metadata.deletion_grace_period_seconds == 30
        listed = core.list_namespaced_pod(ns, label_selector="app=p").items
        assert [p.metadata.name for p in listed] == ["p"] and listed[0].metadata.deletion_timestamp
        assert core.read_namespaced_pod_log("p", ns) == "still here\n"
        table = ok(fleet.kubectl("get", "pod", "p", "-n", ns))
        assert "Terminating" in table
        ok(fleet.kubectl("wait", "--for=delete", "pod/p", "-n", ns, "--timeout=20s"))
        with pytest.raises(ApiException) as exc:
            core.read_namespaced_pod("p", ns)
        assert exc.value.status == 404
    finally:
        cl.options.pop("pod_termination_seconds", None)


def test_grace_period_zero_deletes_at_once_and_a_shorter_one_wins(fleet, api, ns):
    cl = fleet["cluster-1"]
    cl.options["pod_termination_seconds"] = 30  # a container that ignores SIGTERM: the grace period decides
    try:
        core = k8s.CoreV1Api(api)
        for name in ("now", "shorter"):
            core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                                            "spec": {"nodeName": "kubesim-node",
                                                     "containers": [{"name": "c", "image": "busybox:1"}]}})
        core.delete_namespaced_pod("now", ns, grace_period_seconds=0)
        assert "now" not in [p.metadata.name for p in core.list_namespaced_pod(ns).items]
        first = core.delete_namespaced_pod("shorter", ns)
        assert first.metadata.deletion_grace_period_seconds == 30
        # rest.BeforeDelete: a second delete may only shorten the period (kubectl delete --grace-period=2)
        second = core.delete_namespaced_pod("shorter", ns, grace_period_seconds=2)
        assert second.metadata.deletion_grace_period_seconds == 2
        third = core.delete_namespaced_pod("shorter", ns, grace_period_seconds=10)
        assert third.metadata.deletion_grace_period_seconds == 2
        wait(lambda: "shorter" not in [p.metadata.name for p in core.list_namespaced_pod(ns).items], 10)
    finally:
        cl.options.pop("pod_termination_seconds", None)


@needs_kubectl
def test_rollout_restart_keeps_old_pods_terminating_next_to_new_ones(fleet, ns):
    cl = fleet["cluster-1"]
    cl.options["pod_termination_seconds"] = 4
    try:
        apply(fleet, ns, deployment("web", replicas=2))
        ok(fleet.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=20s"))
        old = sorted(p["metadata"]["name"] for p in kget(fleet, ns, "pods", "-l", "app=web")["items"])
        ok(fleet.kubectl("rollout", "restart", "deployment/web", "-n", ns))
        ok(fleet.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=20s"))
        pods = kget(fleet, ns, "pods", "-l", "app=web")["items"]
        terminating = sorted(p["metadata"]["name"] for p in pods if p["metadata"].get("deletionTimestamp"))
        assert terminating == old and len(pods) == 4
        ok(fleet.kubectl("wait", "--for=delete", *("pod/" + n for n in old), "-n", ns, "--timeout=30s"))
        assert len(kget(fleet, ns, "pods", "-l", "app=web")["items"]) == 2
    finally:
        cl.options.pop("pod_termination_seconds", None)


# -- 2. Deployments -----------------------------------------------------------------------------------------------

@needs_kubectl
def test_revision_bumps_when_the_template_returns_to_an_earlier_one(fleet, ns):
    for image in ("nginx:1", "nginx:2", "nginx:1"):
        apply(fleet, ns, deployment("rev", image=image))
        ok(fleet.kubectl("rollout", "status", "deployment/rev", "-n", ns, "--timeout=20s"))
    dep = kget(fleet, ns, "deployment", "rev")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    history = ok(fleet.kubectl("rollout", "history", "deployment/rev", "-n", ns))
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]
    rs = {r["spec"]["template"]["spec"]["containers"][0]["image"]: r["metadata"]["annotations"]
          for r in kget(fleet, ns, "replicasets", "-l", "app=rev")["items"]}
    assert rs["nginx:1"]["deployment.kubernetes.io/revision"] == "3"
    assert rs["nginx:1"]["deployment.kubernetes.io/revision-history"] == "1"


@needs_kubectl
def test_paused_deployment_reports_progressing_unknown_and_does_not_roll(fleet, ns):
    apply(fleet, ns, deployment("paused"))
    ok(fleet.kubectl("rollout", "status", "deployment/paused", "-n", ns, "--timeout=20s"))
    ok(fleet.kubectl("rollout", "pause", "deployment/paused", "-n", ns))
    apply(fleet, ns, dict(deployment("paused", image="nginx:2"), spec=dict(deployment("paused", "nginx:2")["spec"],
                                                                          paused=True)))
    cl = fleet["cluster-1"]
    cl.settle()
    dep = kget(fleet, ns, "deployment", "paused")
    prog = next(c for c in dep["status"]["conditions"] if c["type"] == "Progressing")
    assert (prog["status"], prog["reason"], prog["message"]) == ("Unknown", "DeploymentPaused", "Deployment is paused")
    images = [p["spec"]["containers"][0]["image"] for p in kget(fleet, ns, "pods", "-l", "app=paused")["items"]
              if not p["metadata"].get("deletionTimestamp")]
    assert images == ["nginx:1"] and dep["status"].get("updatedReplicas", 0) == 0
    ok(fleet.kubectl("rollout", "resume", "deployment/paused", "-n", ns))
    out = ok(fleet.kubectl("rollout", "status", "deployment/paused", "-n", ns, "--timeout=20s"))
    assert "successfully rolled out" in out
    dep = kget(fleet, ns, "deployment", "paused")
    assert dep["status"]["observedGeneration"] == dep["metadata"]["generation"]
    assert dep["status"]["updatedReplicas"] == 1


def test_foreground_deletion_keeps_the_owner_until_its_dependents_are_gone(fleet, api, ns):
    cl = fleet["cluster-1"]
    cl.options["pod_termination_seconds"] = 3
    try:
        apps = k8s.AppsV1Api(api)
        apps.create_namespaced_deployment(ns, deployment("fg", replicas=2))
        # writes are asynchronous: the Deployment controller and the kubelet act after the create returned
        wait(lambda: (getattr(apps.read_namespaced_deployment("fg", ns).status, "available_replicas", 0) or 0) == 2)
        apps.delete_namespaced_deployment("fg", ns, propagation_policy="Foreground")
        owner = apps.read_namespaced_deployment("fg", ns)
        assert owner.metadata.deletion_timestamp is not None
        assert "foregroundDeletion" in owner.metadata.finalizers
        # the ReplicaSet goes in the foreground too, its pods Terminating
        wait(lambda: all(p.metadata.deletion_timestamp for p in
                         k8s.CoreV1Api(api).list_namespaced_pod(ns, label_selector="app=fg").items))
        assert apps.read_namespaced_deployment("fg", ns).metadata.deletion_timestamp
        wait(lambda: not k8s.CoreV1Api(api).list_namespaced_pod(ns, label_selector="app=fg").items, 20)

        def owner_gone():
            try:
                apps.read_namespaced_deployment("fg", ns)
            except ApiException as exc:
                return exc.status == 404
            return False
        wait(owner_gone, 20)
        assert not apps.list_namespaced_replica_set(ns, label_selector="app=fg").items
    finally:
        cl.options.pop("pod_termination_seconds", None)


# -- 3. admission and defaults ------------------------------------------------------------------------------------

def test_pod_with_a_missing_service_account_is_forbidden(api, ns):
    core = k8s.CoreV1Api(api)
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
                                        "spec": {"serviceAccountName": "sa",
                                                 "containers": [{"name": "c", "image": "busybox:1"}]}})
    assert exc.value.status == 403
    body = json.loads(exc.value.body)
    assert body["reason"] == "Forbidden"
    assert body["message"] == ('pods "x" is forbidden: error looking up service account %s/sa: '
                               'serviceaccount "sa" not found' % ns)


def test_deployment_naming_a_missing_service_account_never_becomes_available(fleet, api, ns):
    apps = k8s.AppsV1Api(api)
    apps.create_namespaced_deployment(ns, deployment("nosa", sa="missing"))
    cl = fleet["cluster-1"]
    cl.settle()
    assert k8s.CoreV1Api(api).list_namespaced_pod(ns, label_selector="app=nosa").items == []
    dep = apps.read_namespaced_deployment("nosa", ns)
    conds = {c.type: c for c in dep.status.conditions}
    assert conds["Available"].status == "False"
    assert conds["ReplicaFailure"].reason == "FailedCreate"
    assert 'serviceaccount "missing" not found' in conds["ReplicaFailure"].message
    # the ServiceAccount appearing lets the ReplicaSet controller create the pod
    k8s.CoreV1Api(api).create_namespaced_service_account(ns, {"metadata": {"name": "missing"}})
    wait(lambda: (apps.read_namespaced_deployment("nosa", ns).status.available_replicas or 0) == 1)


def test_job_statefulset_daemonset_defaults(fleet, api, ns):
    batch, apps = k8s.BatchV1Api(api), k8s.AppsV1Api(api)
    tmpl = {"metadata": {"labels": {"app": "d"}}, "spec": {"restartPolicy": "Never",
                                                         "containers": [{"name": "c", "image": "busybox:1"}]}}
    job = batch.create_namespaced_job(ns, {"metadata": {"name": "j"}, "spec": {"template": tmpl}})
    assert (job.spec.completions, job.spec.parallelism, job.spec.backoff_limit) == (1, 1, 6)
    assert job.spec.completion_mode == "NonIndexed" and job.spec.suspend is False
    assert job.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": job.metadata.uid}
    assert job.spec.template.metadata.labels["job-name"] == "j"
    assert job.spec.template.metadata.labels["batch.kubernetes.io/controller-uid"] == job.metadata.uid
    assert job.metadata.labels["app"] == "d"
    sts_tmpl = dict(tmpl, spec={"containers": tmpl["spec"]["containers"]})
    sts = apps.create_namespaced_stateful_set(ns, {"metadata": {"name": "s"}, "spec": {
        "serviceName": "s", "selector": {"matchLabels": {"app": "d"}}, "template": sts_tmpl}})
    assert sts.spec.pod_management_policy == "OrderedReady" and sts.spec.replicas == 1
    assert sts.spec.update_strategy.type == "RollingUpdate"
    assert sts.spec.update_strategy.rolling_update.partition == 0 and sts.spec.revision_history_limit == 10
    ds = apps.create_namespaced_daemon_set(ns, {"metadata": {"name": "ds"}, "spec": {
        "selector": {"matchLabels": {"app": "d"}}, "template": sts_tmpl}})
    assert ds.spec.update_strategy.type == "RollingUpdate"
    assert ds.spec.update_strategy.rolling_update.max_unavailable == 1
    assert ds.spec.revision_history_limit == 10
    # apps/v1 does not default the selector: it is required (the Python client checks that itself, kubectl
    # sends it and shows the server's 422)
    if KUBECTL:
        r = fleet.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "nosel"},
             "spec": {"template": sts_tmpl}}))
        assert r.returncode != 0 and "spec.selector: Required value" in r.stderr
    with pytest.raises(ApiException) as exc:
        batch.create_namespaced_job(ns, {"metadata": {"name": "always"}, "spec": {"template": sts_tmpl}})
    assert exc.value.status == 422 and "spec.template.spec.restartPolicy" in exc.value.body


# -- 4. controllers -----------------------------------------------------------------------------------------------

@needs_kubectl
def test_job_runs_a_pod_to_completion(fleet, ns):
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
           "spec": {"template": {"spec": {"restartPolicy": "Never",
                                          "containers": [{"name": "c", "image": "busybox:1"}]}}}}
    apply(fleet, ns, job)
    ok(fleet.kubectl("wait", "--for=condition=Complete", "job/once", "-n", ns, "--timeout=20s"))
    status = kget(fleet, ns, "job", "once")["status"]
    assert status["succeeded"] == 1 and status.get("active", 0) == 0 and status["completionTime"]
    pods = kget(fleet, ns, "pods", "-l", "job-name=once")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"]
    assert pods[0]["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


def test_statefulset_creates_ordered_pods(fleet, api, ns):
    apps, core = k8s.AppsV1Api(api), k8s.CoreV1Api(api)
    seen = []
    cl = fleet["cluster-1"]
    orig = cl.create

    def record(obj, *a, **kw):
        if obj.get("kind") == "Pod":
            seen.append(obj["metadata"]["name"])
        return orig(obj, *a, **kw)
    cl.create = record
    try:
        apps.create_namespaced_stateful_set(ns, {"metadata": {"name": "db"}, "spec": {
            "replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                         "spec": {"containers": [{"name": "c", "image": "postgres:16"}]}}}})
        wait(lambda: (getattr(apps.read_namespaced_stateful_set("db", ns).status, "ready_replicas", 0) or 0) == 3)
    finally:
        cl.create = orig
    assert seen == ["db-0", "db-1", "db-2"]
    pods = {p.metadata.name: p for p in core.list_namespaced_pod(ns, label_selector="app=db").items}
    assert sorted(pods) == ["db-0", "db-1", "db-2"]
    assert pods["db-1"].spec.hostname == "db-1" and pods["db-1"].spec.subdomain == "db"
    assert pods["db-2"].metadata.labels["apps.kubernetes.io/pod-index"] == "2"
    # OrderedReady: each pod started after the one below it was Ready
    starts = [pods[n].status.start_time for n in ("db-0", "db-1", "db-2")]
    assert starts == sorted(starts)
    apps.patch_namespaced_stateful_set_scale("db", ns, {"spec": {"replicas": 1}})
    wait(lambda: sorted(p.metadata.name for p in core.list_namespaced_pod(ns, label_selector="app=db").items
                        if not p.metadata.deletion_timestamp) == ["db-0"])


@needs_kubectl
def test_daemonset_runs_one_pod_per_node(fleet, ns):
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "template": {"metadata": {"labels": {"app": "agent"}},
                                "spec": {"containers": [{"name": "c", "image": "fluent-bit:3"}]}}}}
    apply(fleet, ns, ds)
    ok(fleet.kubectl("rollout", "status", "daemonset/agent", "-n", ns, "--timeout=20s"))
    status = kget(fleet, ns, "daemonset", "agent")["status"]
    nodes = kget(fleet, ns, "nodes")["items"]
    assert status["desiredNumberScheduled"] == len(nodes) == 1 and status["numberReady"] == 1
    pods = kget(fleet, ns, "pods", "-l", "app=agent")["items"]
    assert [p["spec"]["nodeName"] for p in pods] == [nodes[0]["metadata"]["name"]]


# -- 5. cluster furniture -----------------------------------------------------------------------------------------

def test_every_namespace_gets_kube_root_ca_crt_with_the_cluster_ca(fleet, api, ns):
    core = k8s.CoreV1Api(api)
    for name in (ns, "default", "kube-system"):
        cm = wait(lambda n=name: next(iter(core.list_namespaced_config_map(
            n, field_selector="metadata.name=kube-root-ca.crt").items), None))
        assert cm.data["ca.crt"] == fleet.ca_pem.decode()
    core.delete_namespaced_config_map("kube-root-ca.crt", ns)
    wait(lambda: core.list_namespaced_config_map(ns, field_selector="metadata.name=kube-root-ca.crt").items)


def test_list_node_deserializes_node_info(api):
    nodes = k8s.CoreV1Api(api).list_node().items
    info = nodes[0].status.node_info
    assert info.kubelet_version.startswith("v1.") and info.machine_id and info.boot_id and info.system_uuid
    assert info.kernel_version and info.container_runtime_version.startswith("containerd://")


@needs_kubectl
def test_discovery_lists_only_the_verbs_the_server_offers(fleet, ns):
    table = ok(fleet.kubectl("api-resources", "-o", "wide", "--api-group="))
    rows = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert "deletecollection" not in rows["namespaces"] and "delete" in rows["namespaces"]
    assert "deletecollection" in rows["pods"]
    # the collection DELETE itself is refused (kubectl delete namespaces --all deletes one by one)
    conn = fleet.connection("cluster-1")
    conn.request("DELETE", "/api/v1/namespaces")
    resp = conn.getresponse()
    body = json.loads(resp.read())
    assert resp.status == 405 and body["reason"] == "MethodNotAllowed"


@pytest.mark.slow
@pytest.mark.skipif(not ANSIBLE_PLAYBOOK.exists(), reason="ansible-playbook is not installed next to this Python")
def test_kubernetes_core_waits_through_terminating_pods_and_job_completion(fleet, ns, tmp_path):
    """kubernetes.core's k8s state=absent wait (a Pod) and k8s_info wait on a Job's Complete condition."""
    play = tmp_path / "play.yml"
    play.write_text("""
- hosts: cluster-1
  gather_facts: false
  module_defaults:
    group/kubernetes.core.k8s: {kubeconfig: "{{ k8s_kubeconfig }}", context: "{{ k8s_context }}"}
  tasks:
  - kubernetes.core.k8s:
      namespace: %(ns)s
      definition:
        {apiVersion: v1, kind: Pod, metadata: {name: p},
         spec: {nodeName: kubesim-node, containers: [{name: c, image: "busybox:1"}]}}
  - name: delete and wait
    kubernetes.core.k8s:
      state: absent
      kind: Pod
      namespace: %(ns)s
      name: p
      wait: true
      wait_timeout: 30
  - kubernetes.core.k8s:
      namespace: %(ns)s
      definition:
        {apiVersion: batch/v1, kind: Job, metadata: {name: j},
         spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: "busybox:1"}]}}}}
  - name: job complete
    kubernetes.core.k8s_info:
      kind: Job
      namespace: %(ns)s
      name: j
      wait: true
      wait_condition: {type: Complete, status: "True"}
      wait_timeout: 30
    register: job
  - assert:
      that: job.resources[0].status.succeeded == 1
""" % {"ns": ns})
    fleet["cluster-1"].options["pod_termination_seconds"] = 2
    env = dict(os.environ)
    env.pop("ANSIBLE_CONFIG", None)
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")})
    try:
        r = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", fleet.inventory, str(play)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    finally:
        fleet["cluster-1"].options.pop("pod_termination_seconds", None)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert fleet["cluster-1"].get("v1", "pods", ns, "p") is None
