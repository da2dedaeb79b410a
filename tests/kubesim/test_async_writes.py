"""Writes return before the controllers act, as on a real cluster (controllers/latency.py).

``kubectl apply`` of a Certificate returns once the API server committed it; cert-manager's
controllers then take a chain of reconciles (cert-manager pkg/controller/certificates/: trigger,
keymanager, requestmanager, the approver, the issuer, issuing, readiness) before the Secret exists.
``sync_writes=True`` stays as the opt-in for kubesim's own unit tests.
"""

from __future__ import annotations

import json
import time

import pytest

from kubesim import Fleet
from kubesim.cli import main as cli_main
from kubesim.controllers.latency import PROFILES, Latency, parse_profile
from kubesim.fleet import find_kubectl

needs_kubectl = pytest.mark.skipif(find_kubectl() is None, reason="kubectl not on PATH")

CERT = """\
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: selfsigned
spec:
  selfSigned: {}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web
  namespace: default
spec:
  secretName: web-tls
  commonName: web.example.com
  privateKey: {algorithm: ECDSA, size: 256}
  issuerRef: {name: selfsigned, kind: ClusterIssuer}
"""


def _poll(fn, timeout=20.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(step)
    return fn()


@pytest.fixture(scope="module")
def fleet(kubesim_module_fleet_factory):
    return kubesim_module_fleet_factory(n_clusters=1, preinstall=("cert-manager",), seed=1234)


@needs_kubectl
def test_kubectl_apply_returns_before_the_secret_is_issued(fleet):
    assert not fleet.sync_writes and fleet["cluster-1"].latency.ranges == PROFILES["realistic"]
    c = fleet["cluster-1"]
    from kubernetes import client as k8s
    from kubernetes.client.rest import ApiException
    api = fleet.python_client("cluster-1")
    k8s.CoreV1Api(api).list_namespaced_secret("default")  # connection and imports ready before the apply
    started = c.clock.timestamp()
    r = fleet.kubectl("apply", "-f", "-", input=CERT)
    assert r.returncode == 0, r.stderr
    # straight after the apply (a GET over HTTPS, no kubectl start-up in between): the Certificate is
    # stored, cert-manager has not issued it yet
    with pytest.raises(ApiException) as missing:
        k8s.CoreV1Api(api).read_namespaced_secret("web-tls", "default")
    assert missing.value.status == 404
    crt = k8s.CustomObjectsApi(api).get_namespaced_custom_object("cert-manager.io", "v1", "default", "certificates",
                                                                 "web")
    assert (crt.get("status") or {}).get("revision") is None

    def issued():
        got = fleet.kubectl("get", "secret", "web-tls", "-o", "json")
        return json.loads(got.stdout) if got.returncode == 0 else None
    secret = _poll(issued)
    assert secret is not None and secret["type"] == "kubernetes.io/tls"
    took = c.clock.timestamp() - started
    crt = _poll(lambda: (lambda o: o if (o.get("status") or {}).get("revision") == 1 else None)(
        json.loads(fleet.kubectl("get", "certificate", "web", "-o", "json").stdout)))
    ready = {x["type"]: x for x in crt["status"]["conditions"]}["Ready"]
    assert ready["status"] == "True" and ready["observedGeneration"] == crt["metadata"]["generation"]
    # several cert-manager hops of 0.05-0.3 s each: well over one hop, under the suite's patience
    assert 0.3 < took < 15, took


def test_python_write_returns_before_the_deployment_controller_and_the_kubelet(fleet):
    from kubernetes import client as k8s
    apps = k8s.AppsV1Api(fleet.python_client("cluster-1"))
    body = {"metadata": {"name": "web"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    created = apps.create_namespaced_deployment("default", body)
    assert not (created.status and created.status.ready_replicas)
    got = _poll(lambda: (lambda d: d if d.status and d.status.ready_replicas == 1 else None)(
        apps.read_namespaced_deployment("web", "default")))
    assert got is not None and got.status.observed_generation == 1


def test_sync_writes_is_the_opt_in_for_a_converged_cluster(kubesim_fleet_factory):
    f = kubesim_fleet_factory(n_clusters=1, sync_writes=True)
    assert f["cluster-1"].latency.ranges == {}
    from kubernetes import client as k8s
    apps = k8s.AppsV1Api(f.python_client("cluster-1"))
    apps.create_namespaced_deployment("default", {"metadata": {"name": "now"}, "spec": {
        "replicas": 2, "selector": {"matchLabels": {"app": "now"}},
        "template": {"metadata": {"labels": {"app": "now"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
    # the write returned after the Deployment controller and the kubelet ran
    assert apps.read_namespaced_deployment("now", "default").status.ready_replicas == 2


def test_latencies_are_seeded_for_replay_and_within_their_range():
    ranges = parse_profile("cert-manager=0.5:3")
    assert ranges["cert-manager"] == (0.5, 3.0) and ranges["kubelet"] == PROFILES["realistic"]["kubelet"]
    one, same, other = (Latency(ranges, seed=s) for s in ("7/cluster-1", "7/cluster-1", "8/cluster-1"))
    a = [one.hop("cert-manager") for _ in range(20)]
    assert a == [same.hop("cert-manager") for _ in range(20)]
    assert a != [other.hop("cert-manager") for _ in range(20)]
    assert all(0.5 <= x <= 3.0 for x in a) and len(set(a)) > 1
    assert one.hop("istiod", nominal=0.25) == 0.25  # no range: the controller's own delay
    assert one.horizon == 3.0


def test_fleet_seed_comes_from_kubesim_seed(monkeypatch):
    monkeypatch.setenv("KUBESIM_SEED", "99")
    f = Fleet(n_clusters=1)
    assert f.seed == 99 and f["cluster-1"].latency.seed == "99/cluster-1"


@pytest.mark.parametrize("spec, text", [
    ("cert-manager", "want NAME=LOW:HIGH"),
    ("cert-manager=a:b", "must be numbers"),
    ("kubelet=2:1", "want 0 <= low <= high"),
])
def test_bad_controller_latency_is_refused_before_anything_starts(spec, text, tmp_path, capsys):
    assert cli_main(["--clusters", "1", "--workdir", str(tmp_path), "--controller-latency", spec]) == 2
    assert text in capsys.readouterr().err
    assert not (tmp_path / "ready").exists()
