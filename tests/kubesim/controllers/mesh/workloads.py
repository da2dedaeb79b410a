"""The simulated sidecar workloads of one cluster (``WorkloadSim``), each with an istio-agent (``agent.Agent``).

Setup makes namespaces ``mesh-1..K`` (label ``istio-injection=enabled``) with one Deployment ``workload`` each,
whose pods carry an ``istio-proxy`` container (``docker.io/istio/proxyv2:<istiod's version>``). When a pod
starts, its agent reads ``PROXY_CONFIG_XDS_AGENT`` from the istio-proxy env, where the injector (``injector.py``,
mutating admission; pkg/kube/inject) put ``meshConfig.defaultConfig.proxyMetadata`` from the revision's mesh
ConfigMap, overridden by the pod's ``proxy.istio.io/config`` annotation, at pod creation (an explicit env entry on
the container wins): the flag is fixed for the life of the pod, as upstream reads it once at agent start. So a
changed mesh config reaches a workload only through a restart (``kubectl rollout restart`` on the Deployment,
or ``Cluster.restart_workloads``).

The agent connects to one serving istiod pod (stable choice per pod), gets its certificate signed by that
pod's in-memory CA, renews at ``rotate_delay`` on the simulated clock, reconnects when its istiod goes away,
and takes that istiod's PCDS pushes (only when istiod runs with ``ISTIO_MULTIROOT_MESH`` — pilot/pkg/xds/pcds.go
``pcdsNeedsPush`` — and the agent started with the flag) on connect and after every accepted ``cacerts`` reload.
"""

from __future__ import annotations

import hashlib
import traceback
from typing import Dict, List, Optional

from ... import pki
from ..base import ApiError, Controller
from ..istiod import IstiodSim
from ..istiod.controller import go_bool, parse_version
from . import agent as A

LABEL = "kubesim.io/mesh-workload"
DEPLOYMENT = "workload"
PROXY_CONTAINER = "istio-proxy"
PROXY_CONFIG_ANNOTATION = "proxy.istio.io/config"  # pkg/config/annotation: ProxyConfig
FLAG = "PROXY_CONFIG_XDS_AGENT"
MANAGER = "kubesim-workloads"
STATUS_PORT = 15020  # pilot-agent's status server (pilot/cmd/pilot-agent/status/server.go), reachable via pods/proxy


def namespaces_for(count: int, spread: int = 3) -> List[str]:
    return [f"mesh-{i}" for i in range(1, max(1, min(spread, count)) + 1)]


def replicas_for(count: int, namespaces: List[str]) -> Dict[str, int]:
    base, extra = divmod(count, len(namespaces))
    return {ns: base + (1 if i < extra else 0) for i, ns in enumerate(namespaces)}


class WorkloadSim(Controller):
    name = "mesh-workloads"
    interests = frozenset({"pods"})

    def __init__(self, count: int, ttl: float = A.DEFAULT_TTL, proxy_version: Optional[str] = None,
                 spread: int = 3):
        self.count = int(count)
        self.ttl = float(ttl)
        self.proxy_version = proxy_version
        self.namespaces = namespaces_for(self.count, spread)
        self.agents: Dict[str, A.Agent] = {}  # "<ns>/<pod>" -> Agent
        self.errors: List[str] = []
        self.cluster = None

    # ------------------------------------------------------------------ plumbing

    def attach(self, cluster) -> None:
        self.cluster = cluster
        sim = IstiodSim.of(cluster)
        if sim is not None:
            sim.listeners.append(self._istiod_changed)

    def _later(self, delay: float, key: str, fn, *args) -> None:
        def run():
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - recorded, never silently lost
                self.errors.append(traceback.format_exc())
                self.cluster.controller_errors.append(f"mesh-workloads: {type(exc).__name__}: {exc}")
        self.cluster.schedule(max(delay, 0.0), run, key=f"{self.cluster.name}/mesh/{key}")

    @property
    def istiod(self) -> Optional[IstiodSim]:
        return IstiodSim.of(self.cluster)

    # ------------------------------------------------------------------ setup

    def _istiod_version(self) -> str:
        dep = self.cluster.get("apps/v1", "deployments", "istio-system", "istiod")
        for c in (((dep or {}).get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []:
            if c.get("name") == "discovery" and ":" in c.get("image", ""):
                return c["image"].rsplit(":", 1)[1]
        return (self.cluster.options or {}).get("istio_version") or "1.22.3"

    def setup(self) -> None:
        """Namespaces and Deployments (idempotent; called by the Fleet once it has pre-installed)."""
        # ``image: auto`` is the injector's placeholder (pkg/kube/inject, used for gateways): the injector puts its
        # own proxyv2 image there at pod creation; the agent below resolves it to istiod's version at pod start.
        image = f"docker.io/istio/proxyv2:{self.proxy_version}" if self.proxy_version else "auto"
        for ns, replicas in replicas_for(self.count, self.namespaces).items():
            self.cluster.apply({"apiVersion": "v1", "kind": "Namespace",
                                "metadata": {"name": ns, "labels": {"istio-injection": "enabled"}}}, manager=MANAGER)
            labels = {"app": DEPLOYMENT, LABEL: "true"}
            self.cluster.apply({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": DEPLOYMENT, "namespace": ns, "labels": dict(labels)},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": DEPLOYMENT}},
                         "template": {"metadata": {"labels": dict(labels),
                                                   "annotations": {"sidecar.istio.io/status": '{"containers":'
                                                                   '["istio-proxy"]}'}},
                                      "spec": {"serviceAccountName": "default", "containers": [
                                          {"name": "app", "image": "docker.io/curlimages/curl:8.8.0",
                                           "command": ["sleep", "infinity"]},
                                          {"name": PROXY_CONTAINER, "image": image,
                                           "args": ["proxy", "sidecar"]}]}}}}, manager=MANAGER)

    # ------------------------------------------------------------------ pods

    @staticmethod
    def _is_workload(obj: dict) -> bool:
        return ((obj.get("metadata") or {}).get("labels") or {}).get(LABEL) == "true"

    def on_event(self, event_type, api_version, plural, obj, old):
        if plural != "pods" or api_version != "v1" or not self._is_workload(obj):
            return
        md = obj["metadata"]
        key = f"{md['namespace']}/{md['name']}"
        if event_type == "DELETED" or md.get("deletionTimestamp"):
            self._later(0, f"stop/{key}", self._stop, key, md.get("uid"))
        elif key not in self.agents:
            self._later(0, f"start/{key}", self._start, md["namespace"], md["name"])

    def resync(self) -> None:
        if self.cluster is None:
            return
        live = set()
        for pod in self.cluster.list("v1", "pods", label_selector=f"{LABEL}=true"):
            md = pod["metadata"]
            key = f"{md['namespace']}/{md['name']}"
            if md.get("deletionTimestamp"):
                continue
            live.add(key)
            ag = self.agents.get(key)
            if ag is None or ag.uid != md.get("uid"):
                self._later(0, f"start/{key}", self._start, md["namespace"], md["name"])
            elif ag.istiod is None:
                self._later(0, f"connect/{key}", self._connect, key)
        for key in [k for k in self.agents if k not in live]:
            self._later(0, f"stop/{key}", self._stop, key, self.agents[key].uid)

    @staticmethod
    def _flag(pod: dict) -> bool:
        """PROXY_CONFIG_XDS_AGENT from the istio-proxy env, as pilot-agent reads it at start (pilot/cmd/pilot-agent/
        options: ``env.Register("PROXY_CONFIG_XDS_AGENT", false, ...)``). The injector (injector.py, mutating
        admission on the pod's CREATE) put the mesh config's and the annotation's proxyMetadata there; the last
        entry of a name wins, as kubelet builds the environment in order."""
        value = None
        for c in (pod.get("spec") or {}).get("containers") or []:
            if c.get("name") == PROXY_CONTAINER:
                for e in c.get("env") or []:
                    if e.get("name") == FLAG and "value" in e:
                        value = e["value"]
        return go_bool(None if value is None else str(value).strip(), False)

    def _start(self, namespace: str, name: str) -> None:
        pod = self.cluster.get("v1", "pods", namespace, name)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        key = f"{namespace}/{name}"
        cur = self.agents.get(key)
        if cur is not None and cur.uid == pod["metadata"].get("uid"):
            return
        proxy = next((c for c in pod["spec"].get("containers") or [] if c.get("name") == PROXY_CONTAINER), {})
        image = proxy.get("image", "")
        version = parse_version(image if image != "auto" else ":" + self._istiod_version())
        ag = A.Agent(self.cluster.name, namespace, name, pod["metadata"].get("uid"),
                     pod["spec"].get("serviceAccountName") or "default", version,
                     self._flag(pod), self.ttl)
        self.agents[key] = ag
        self.cluster.register_proxy(namespace, name, STATUS_PORT, self._status_handler(key, ag.uid))
        self._connect(key)

    def _status_handler(self, key: str, uid: str):
        """``/stats/prometheus`` (and ``/metrics``) of pilot-agent's status server, reduced to the agent's
        ``cert_expiry_seconds`` gauge (security/pkg/nodeagent/cache/monitoring.go, label ``resource_name``,
        ``istio_agent_`` prefix from status/server.go): seconds until the current workload cert expires."""
        def handler(method: str, path: str):
            ag = self.agents.get(key)
            if ag is None or ag.uid != uid:
                return 503, "text/plain", "no endpoints available\n"
            if method != "GET" or path.lstrip("/").split("?")[0] not in ("stats/prometheus", "metrics"):
                return 404, "text/plain", "404 page not found\n"
            body = ("# HELP istio_agent_cert_expiry_seconds The time remaining, in seconds, before the certificate "
                    "chain will expire. A negative value indicates the cert is expired.\n"
                    "# TYPE istio_agent_cert_expiry_seconds gauge\n")
            leaf = ag.leaf
            if leaf is not None:
                remaining = (pki.not_after(leaf) - self.cluster.now()).total_seconds()
                body += f'istio_agent_cert_expiry_seconds{{resource_name="default"}} {remaining:.0f}\n'
            return 200, "text/plain; version=0.0.4; charset=utf-8", body
        return handler

    def _stop(self, key: str, uid: Optional[str]) -> None:
        ag = self.agents.get(key)
        if ag is not None and ag.uid == uid:
            del self.agents[key]

    # ------------------------------------------------------------------ istiod connection

    def _serving(self) -> List[str]:
        sim = self.istiod
        if sim is None:
            return []
        return sorted(n for n, st in list(sim.pods.items()) if st.serving and st.bundle is not None)

    def _connect(self, key: str) -> None:
        ag = self.agents.get(key)
        if ag is None:
            return
        serving = self._serving()
        if not serving:
            ag.istiod = None
            return
        pick = int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(serving)
        ag.istiod = serving[pick]
        if ag.leaf is None:
            self._request(ag)
        self._pcds(ag)

    def _pcds(self, ag: A.Agent) -> None:
        """A PCDS push from the agent's istiod: its root bundle, when both sides have their flag."""
        sim = self.istiod
        st = sim.pods.get(ag.istiod) if sim is not None and ag.istiod else None
        if st is None or not ag.pcds or not st.multiroot or st.bundle is None:
            return
        if ag.update_config_trust_bundle(st.bundle.root_bytes):
            ag.drop()
            self._request(ag)

    def _request(self, ag: A.Agent) -> None:
        """generateNewSecret + registerSecret: a CSR to the connected istiod, then the rotation timer."""
        sim = self.istiod
        st = sim.pods.get(ag.istiod) if sim is not None and ag.istiod else None
        if st is None or st.bundle is None or not st.serving:
            ag.last_error = "no istiod to sign the CSR"
            return
        now = self.cluster.now()
        try:
            key, chain, root = A.sign_workload(st.bundle, st.version, ag.identity, ag.ttl, now)
        except A.SignError as exc:
            ag.last_error = f"CSR signing error ({exc})"
            self._later(60, f"renew/{ag.namespace}/{ag.pod}", self._renew, f"{ag.namespace}/{ag.pod}", ag.uid)
            return
        ag.install(key, chain, root, now)
        self._later(ag.rotate_delay(now), f"renew/{ag.namespace}/{ag.pod}", self._renew,
                    f"{ag.namespace}/{ag.pod}", ag.uid)

    def _renew(self, key: str, uid: str) -> None:
        ag = self.agents.get(key)
        if ag is None or ag.uid != uid:
            return
        if ag.istiod not in self._serving():
            self._connect(key)
        self._request(ag)

    def _istiod_changed(self, pod_name: str) -> None:
        """IstiodSim listener: a pod started serving, reloaded, crashed or went away."""
        serving = set(self._serving())
        for key, ag in list(self.agents.items()):
            if ag.istiod is None or ag.istiod not in serving:
                self._connect(key)
            elif ag.istiod == pod_name:
                self._pcds(ag)

    # ------------------------------------------------------------------ API

    def restart(self, namespace: Optional[str] = None) -> List[str]:
        """``kubectl rollout restart deployment/workload`` in one or every mesh namespace; returns the namespaces."""
        done = []
        for ns in self.namespaces:
            if namespace is not None and ns != namespace:
                continue
            dep = self.cluster.get("apps/v1", "deployments", ns, DEPLOYMENT)
            if dep is None:
                continue
            tmpl = dep["spec"]["template"].setdefault("metadata", {})
            # kubectl writes RFC 3339 seconds; microseconds keep two restarts in one simulated second distinct
            tmpl.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = self.cluster.now().isoformat()
            try:
                self.cluster.update(dep, manager="kubectl-rollout")
            except ApiError:
                continue
            done.append(ns)
        return done

    def ready_agents(self) -> List[A.Agent]:
        return [a for _k, a in sorted(self.agents.items()) if a.leaf is not None]
