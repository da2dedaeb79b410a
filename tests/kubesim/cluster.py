"""One simulated cluster: the API server's parts (``apiserver/``), controllers, clock, faults.

``Cluster`` composes the API server from one mixin per concern — ``apiserver.store``
(objects, resourceVersions, events), ``apiserver.crds``, ``apiserver.verbs`` (create, update,
patch, delete), ``apiserver.garbage_collection``, ``apiserver.namespaces``, ``apiserver.watch``
(list/watch) and ``apiserver.internal_access`` (the ``ClusterView`` calls of kubesim's own
controllers) — and owns what ties them together: the lock, controller dispatch and admission,
the simulated clock, pod logs and proxies, and the HTTP server (``apiserver.server``).

Stored objects are never mutated after commit: every write builds a new dict. Readers
take a reference under the lock and serialise outside it, so a GET costs one dict
lookup and one ``json.dumps``; nothing copies whole stores.
"""

from __future__ import annotations

import collections
import datetime as _dt
import logging
import random
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Optional, Tuple

from .apiserver.crds import CrdRegistration
from .apiserver.garbage_collection import GarbageCollector
from .apiserver.internal_access import InternalAccess
from .apiserver.namespaces import DEFAULT_NAMESPACES, NamespaceLifecycle
from .apiserver.registry import Registry
from .apiserver.store import ObjectStore
from .apiserver.verbs import Verbs
from .apiserver.watch import EVENT_HISTORY, ListWatch
from .clock import Scheduler, SimClock
from .controllers.base import Controller
from .controllers.latency import Latency, parse_profile
from .controllers.mesh.access import MeshAccess
from .util import deep_copy, rfc3339

if TYPE_CHECKING:
    from .apiserver.authentication import UserInfo  # noqa: F401

log = logging.getLogger("kubesim.cluster")


class Cluster(ObjectStore, CrdRegistration, Verbs, GarbageCollector, NamespaceLifecycle, ListWatch, InternalAccess,
              MeshAccess):
    """A simulated Kubernetes cluster. Implements ``controllers.base.ClusterView``."""

    def __init__(self, name: str, *, fleet=None, options: Optional[dict] = None, controllers: bool = True,
                 sync_writes: bool = False, seed: Optional[int] = None, tls: bool = False, ca=None,
                 controller_latency=None):
        from .apiserver.faults import Faults, RequestLog

        self.name = name
        self.fleet = fleet
        self.options = dict(options or {})
        self.rng = random.Random(f"{seed}/{name}" if seed is not None else hash(name))
        self._uid_rng = random.Random()  # uuid4 without a urandom syscall per object
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.registry = Registry()
        self._objects: Dict[Tuple[str, str], Dict[str, Dict[str, dict]]] = {}
        self._rv = 1000 + self.rng.randint(0, 500)
        self._events: collections.deque = collections.deque(maxlen=EVENT_HISTORY)
        self._tls = threading.local()
        self._controllers: List[Controller] = []
        self.controller_errors: List[str] = []
        self.clock = SimClock(owner=self)
        self.scheduler = Scheduler.get()
        self.faults = Faults(self)
        self.requests = RequestLog()
        # Asynchronous by default, as a real API server: a write returns once committed and the
        # controllers act later, each hop after its modelled latency (controllers/latency.py).
        # sync_writes=True (an opt-in for kubesim's own unit tests) makes an HTTP write wait until the
        # controller work it made immediately due has run.
        self.sync_writes = sync_writes
        self.write_settle_timeout = 5.0
        self.latency = Latency(parse_profile(controller_latency, sync_writes),
                               seed=f"{seed if seed is not None else 0}/{name}")
        # A Terminating namespace keeps its content this long (simulated seconds), so that
        # `kubectl delete -f` listing the namespace first still finds its members.
        self.namespace_termination_delay = 0.25
        self._logs: Dict[Tuple[str, str], dict] = {}
        self._logs_cond = threading.Condition(threading.Lock())
        self._proxies: Dict[Tuple[str, str, int], Callable] = {}
        self._orphaning: set = set()  # uids deleted with propagationPolicy=Orphan
        self._service_ip = 10
        self.server = None
        self.stopped = False
        # Serving and authentication (apiserver/tls.py, authentication.py): HTTPS with a cluster CA
        # (the fleet's, else one of its own made at start) or plain HTTP like the old insecure port.
        self.tls = tls
        self.ca = ca
        self.anonymous_auth = False
        self.static_tokens: Dict[str, "UserInfo"] = {}  # --token-auth-file: token -> user
        self.sa_signer = None  # ServiceAccount token signing key, made on first use
        # When set, a request without credentials is 401 even over plain HTTP.
        self.required_token: Optional[str] = None
        for ns in DEFAULT_NAMESPACES:
            self._bootstrap_namespace(ns)
        self._bootstrap_node()
        self._bootstrap_rbac()
        if controllers:
            from .controllers import builtin_controllers, default_controllers
            for c in builtin_controllers() + default_controllers():
                self.add_controller(c)

    # ------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> "Cluster":
        from .apiserver.server import ClusterServer
        if self.server is None:
            context = None
            if self.tls:
                if self.ca is None:
                    from .apiserver.tls import ClusterCA
                    self.ca = ClusterCA()
                context = self.ca.server_context()
            self.server = ClusterServer(self, port=port, ssl_context=context)
            publisher = self.controller("root-ca-cert-publisher")
            if publisher is not None:  # the cluster CA is known from now on
                self.schedule(0, publisher.resync, key=f"__resync__/{publisher.name}/{id(publisher)}")
        self.server.start()
        return self

    def stop(self) -> None:
        self.stopped = True
        if self.server is not None:
            self.server.stop()
        self.scheduler.forget(self)
        with self.lock:
            self.changed.notify_all()
        with self._logs_cond:
            self._logs_cond.notify_all()

    @property
    def port(self) -> int:
        return self.server.port if self.server else 0

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def propagation_delay(self) -> float:
        return float(self.options.get("propagation_delay", 0.0))

    def __repr__(self):
        return f"<kubesim.Cluster {self.name} {self.url if self.server else '(not started)'}>"

    # ------------------------------------------------------------ controllers

    def add_controller(self, controller: Controller) -> Controller:
        controller.attach(self)
        self._controllers = self._controllers + [controller]
        name = getattr(controller, "name", type(controller).__name__)
        self.schedule(0, controller.resync, key=f"__resync__/{name}/{id(controller)}")
        return controller

    @property
    def controllers(self) -> List[Controller]:
        return list(self._controllers)

    def controller(self, name: str) -> Optional[Controller]:
        return next((c for c in self._controllers if getattr(c, "name", None) == name), None)

    def _on_clock_advanced(self, wait: bool, timeout: float) -> None:
        self.scheduler.clock_advanced(self)
        for c in self._controllers:
            self.schedule(0, c.resync, key=f"__resync__/{getattr(c, 'name', '')}/{id(c)}")
        if wait:
            self.settle(timeout)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the controllers are quiet (True) or timeout (False): no work running and none
        due within the longest hop of the latency model (``Latency.horizon``; 0 under ``instant``,
        where this means no work due now), so a chain of reconciles a write started has finished."""
        return self.scheduler.settle(self, self.clock, timeout, horizon=self.latency.horizon)

    @property
    def scheduler_errors(self) -> list:
        return self.scheduler.errors(self)

    def _dispatch(self, events) -> None:
        listeners = [c for c in self._controllers if type(c).on_event is not Controller.on_event]
        for etype, rt, version, obj, old in events:
            api_version = rt.api_version(version)
            for c in listeners:
                wants = c.interests
                if wants is not None and rt.plural not in wants:
                    continue
                try:
                    c.on_event(etype, api_version, rt.plural, deep_copy(obj), deep_copy(old))
                except Exception as exc:
                    log.exception("kubesim: controller %s on_event failed", getattr(c, "name", c))
                    self.controller_errors.append(f"{getattr(c, 'name', c)}.on_event: {type(exc).__name__}: {exc}")

    def _admit(self, operation, rt, version, obj, old, dry_run) -> None:
        api_version = rt.api_version(version)
        sink = getattr(self._tls, "warnings", None)
        for c in self._controllers:
            warnings = c.admit(operation, api_version, rt.plural, deep_copy(obj), deep_copy(old), dry_run)
            if warnings and sink is not None:
                for text in warnings:
                    # the apiserver's warning recorder drops empty and repeated texts
                    if text and text not in sink:
                        sink.append(text)

    @contextmanager
    def collecting_warnings(self) -> Iterator[List[str]]:
        """Collect the admission warnings of the writes this thread makes (one API request)."""
        prev = getattr(self._tls, "warnings", None)
        self._tls.warnings = sink = []
        try:
            yield sink
        finally:
            self._tls.warnings = prev

    @contextmanager
    def _writing(self):
        tls = self._tls
        depth = getattr(tls, "depth", 0)
        if depth == 0:
            tls.pending = []
        tls.depth = depth + 1
        try:
            with self.lock:
                yield
        finally:
            tls.depth = depth
            if depth == 0:
                pending, tls.pending = tls.pending, []
                if pending:
                    self._dispatch(pending)

    # ------------------------------------------------------------ ClusterView: time, scheduling, logs, proxy

    def now(self) -> _dt.datetime:
        return self.clock.now()

    def now_str(self) -> str:
        return rfc3339(self.clock.now())

    def schedule(self, delay_seconds: float, fn: Callable[[], None], key: Optional[str] = None) -> None:
        if self.stopped:
            return
        self.scheduler.schedule(self, self.clock, delay_seconds, fn, key, label=f"{self.name}:{key or ''}")

    def append_log(self, namespace: str, pod: str, container: Optional[str], line: str,
                   when: Optional[_dt.datetime] = None) -> None:
        when = when or self.now()
        with self._logs_cond:
            entry = self._logs.setdefault((namespace, pod), {})
            if container is None:
                p = self._stored(self.registry.by_rid[("", "pods")], namespace, pod)
                cs = ((p or {}).get("spec") or {}).get("containers") or []
                container = cs[0].get("name", "") if cs else ""
            lines = entry.setdefault(container, [])
            for part in str(line).splitlines() or [""]:
                lines.append((when, part))
            self._logs_cond.notify_all()

    def pod_log_lines(self, namespace: str, pod: str, container: str) -> List[Tuple[_dt.datetime, str]]:
        with self._logs_cond:
            return list(self._logs.get((namespace, pod), {}).get(container, []))

    def register_proxy(self, namespace: str, pod: str, port: int,
                       handler: Callable[[str, str], "tuple[int, str, str]"]) -> None:
        self._proxies[(namespace, pod, int(port))] = handler

    def proxy_handler(self, namespace: str, pod: str, port: int):
        return self._proxies.get((namespace, pod, int(port)))

    def allocate_service_ip(self) -> str:
        self._service_ip += 1
        n = self._service_ip
        return f"10.96.{(n >> 8) & 255}.{n & 255}"

    def _bootstrap_node(self) -> None:
        """The one node pods run on (name shared with the kubelet stand-in)."""
        from .apiserver.discovery import KUBE_VERSION
        from .controllers.core.kubelet import NODE_NAME
        now = self.now_str()
        rt = self.registry.by_rid[("", "nodes")]
        cond = [{"type": t, "status": "False", "reason": r, "lastHeartbeatTime": now, "lastTransitionTime": now}
                for t, r in (("MemoryPressure", "KubeletHasSufficientMemory"),
                             ("DiskPressure", "KubeletHasNoDiskPressure"),
                             ("PIDPressure", "KubeletHasSufficientPID"))]
        cond.append({"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": now,
                     "lastTransitionTime": now, "message": "kubelet is posting ready status"})
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": NODE_NAME, "labels": {"kubernetes.io/hostname": NODE_NAME,
                                                           "kubernetes.io/os": "linux",
                                                           "kubernetes.io/arch": "amd64",
                                                           "node-role.kubernetes.io/control-plane": ""}},
                "spec": {"podCIDR": "10.244.0.0/16"},
                "status": {"conditions": cond, "addresses": [{"type": "InternalIP", "address": "10.0.0.1"},
                                                             {"type": "Hostname", "address": NODE_NAME}],
                           "capacity": {"cpu": "8", "memory": "32Gi", "pods": "250"},
                           "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "250"},
                           # v1.NodeSystemInfo: every field is required in the OpenAPI schema, so the Python
                           # client's V1NodeSystemInfo refuses a Node without one (CoreV1Api().list_node())
                           "nodeInfo": {"machineID": "6b2d1c3e9f0a4e1b8c7d5a4f3e2b1c0d",
                                        "systemUUID": "9c1f2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
                                        "bootID": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
                                        "kernelVersion": "6.1.0-kubesim",
                                        "osImage": "kubesim (simulated)",
                                        "containerRuntimeVersion": "containerd://1.7.13",
                                        "kubeletVersion": KUBE_VERSION["gitVersion"],
                                        "kubeProxyVersion": KUBE_VERSION["gitVersion"],
                                        "operatingSystem": "linux", "architecture": "amd64"},
                           "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}}
        with self._writing():
            self._create(rt, "v1", None, node, dry_run=False, manager="kubelet", admit=False, internal=True,
                         owned=True)


    def _bootstrap_rbac(self) -> None:
        """The default ClusterRoles and bindings kube-apiserver's RBAC post-start hook creates
        (pkg/registry/rbac/rest/storage_rbac.go, roles from apiserver/rbac.py)."""
        from .apiserver.rbac import bootstrap_policy
        for obj in bootstrap_policy():
            rt = self.registry.by_rid[("rbac.authorization.k8s.io", obj["kind"].lower() + "s")]
            with self._writing():
                self._create(rt, "v1", None, obj, dry_run=False, manager="kube-apiserver", admit=False, internal=True,
                             owned=True)
    # ------------------------------------------------------------ ClusterView: object access
