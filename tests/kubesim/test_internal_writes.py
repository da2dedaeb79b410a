"""Internal (ClusterView) writes reach controllers like API writes do (controllers/base.py).

They go through the store, so ``on_event`` fires for them after the lock is released;
a controller that writes from scheduled work triggered by such an event neither
deadlocks nor recurses. Unlike HTTP writes (``sync_writes``), an internal write does not
wait for the controller work it causes: callers wait with ``cluster.wait_for``.
"""

from __future__ import annotations

import threading

from kubesim import Cluster
from kubesim.controllers.base import Controller

CM = "cert-manager.io/v1"


class _Recorder(Controller):
    """Records ConfigMap events and annotates each new ConfigMap from scheduled work."""

    name = "recorder"
    interests = frozenset({"configmaps"})

    def __init__(self):
        self.events = []
        self.lock_free = []

    def _lock_is_free(self) -> bool:
        got = self.cluster.lock.acquire(timeout=2)
        if got:
            self.cluster.lock.release()
        return got

    def on_event(self, event_type, api_version, plural, obj, old):
        # outside the writer's lock: another thread takes it at once
        probe = threading.Thread(target=lambda: self.lock_free.append(self._lock_is_free()))
        probe.start()
        probe.join()
        md = obj["metadata"]
        self.events.append((event_type, md["name"], (md.get("annotations") or {}).get("seen")))
        if event_type == "ADDED":
            name = md["name"]
            self.cluster.schedule(0, lambda: self._annotate(name), key=f"annotate/{name}")

    def _annotate(self, name):
        live = self.cluster.get("v1", "configmaps", "default", name)
        if live is not None:
            live["metadata"].setdefault("annotations", {})["seen"] = "yes"
            self.cluster.update(live, manager="recorder")


def test_on_event_fires_for_every_internal_write():
    cluster = Cluster("internal", controllers=False)
    rec = cluster.add_controller(_Recorder())
    try:
        cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}})
        assert cluster.wait_for(lambda: ("MODIFIED", "a", "yes") in rec.events, timeout=5)
        cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"},
                       "data": {"k": "v"}})
        cluster.delete("v1", "configmaps", "default", "a")
        cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "default"}})
        assert cluster.wait_for(lambda: ("MODIFIED", "b", "yes") in rec.events, timeout=5)
        cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}})
        assert cluster.settle(5)
        assert rec.events == [("ADDED", "a", None), ("MODIFIED", "a", "yes"), ("MODIFIED", "a", "yes"),
                              ("DELETED", "a", "yes"), ("ADDED", "b", None), ("MODIFIED", "b", "yes")]
        assert rec.lock_free and all(rec.lock_free)
        assert cluster.controller_errors == [] and cluster.scheduler_errors == []
    finally:
        cluster.stop()


def test_cluster_create_certificate_is_issued_by_preinstalled_cert_manager(kubesim_fleet_factory):
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("cert-manager",))
    c = fleet["cluster-1"]
    c.create({"apiVersion": CM, "kind": "ClusterIssuer", "metadata": {"name": "internal-ss"},
              "spec": {"selfSigned": {}}})
    c.create({"apiVersion": CM, "kind": "Certificate", "metadata": {"name": "internal", "namespace": "default"},
              "spec": {"secretName": "internal-tls", "commonName": "internal", "isCA": True,
                       "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                       "issuerRef": {"name": "internal-ss", "kind": "ClusterIssuer"}}})

    def issued():
        crt = c.peek(CM, "certificates", "default", "internal") or {}
        ready = any(x.get("type") == "Ready" and x.get("status") == "True"
                    for x in (crt.get("status") or {}).get("conditions") or [])
        return ready and c.peek("v1", "secrets", "default", "internal-tls") is not None

    assert c.wait_for(issued, timeout=10), c.get(CM, "certificates", "default", "internal")
    secret = c.get("v1", "secrets", "default", "internal-tls")
    assert secret["type"] == "kubernetes.io/tls" and {"tls.crt", "tls.key", "ca.crt"} <= set(secret["data"])
    assert c.get(CM, "certificates", "default", "internal")["status"]["revision"] == 1
    assert c.controller_errors == []
