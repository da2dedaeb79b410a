"""One simulated cluster: object store, API semantics, controllers, clock, faults.

Stored objects are never mutated after commit: every write builds a new dict. Readers
take a reference under the lock and serialise outside it, so a GET costs one dict
lookup and one ``json.dumps``; nothing copies whole stores.
"""

from __future__ import annotations

import collections
import datetime as _dt
import json
import logging
import random
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from . import errors as E
from . import ssa as SSA
from . import strategies
from .clock import Scheduler, SimClock
from .controllers.base import ApiError, Controller
from .patch import json_patch, merge_patch, strategic_merge_patch
from .resources import Registry, ResourceType
from .selectors import parse_field_selector, parse_label_selector
from .util import deep_copy, rand_suffix, rfc3339

log = logging.getLogger("kubesim.cluster")

EVENT_HISTORY = 5000
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)

_SERVER_META = ("uid", "creationTimestamp", "resourceVersion", "generation", "managedFields",
                "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink")


def _spec_view(obj: dict) -> dict:
    """What generation tracks: everything but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


def _client_managed(old: dict, given) -> Optional[list]:
    """managedFields a client sent on a non-apply write: None to keep the live ones.

    Like the apiserver: an absent or empty list keeps the live entries, ``[{}]`` resets
    them, and a different list replaces them (kubectl uses this to migrate ownership
    from client-side to server-side apply).
    """
    if not given or not isinstance(given, list):
        return None
    if all(isinstance(e, dict) and not e for e in given):
        return []
    entries = [e for e in given if isinstance(e, dict) and e.get("manager") is not None
               and e.get("operation") in ("Apply", "Update") and isinstance(e.get("fieldsV1", {}), dict)]

    def ident(entries_):
        return sorted((e.get("manager", ""), e.get("operation", ""), e.get("subresource", ""),
                       e.get("apiVersion", ""), json.dumps(e.get("fieldsV1") or {}, sort_keys=True))
                      for e in entries_ if isinstance(e, dict))
    live = (old.get("metadata") or {}).get("managedFields") or []
    if ident(entries) == ident(live):
        return None
    return entries


class Cluster:
    """A simulated Kubernetes cluster. Implements ``controllers.base.ClusterView``."""

    def __init__(self, name: str, *, fleet=None, options: Optional[dict] = None, controllers: bool = True,
                 sync_writes: bool = True, seed: Optional[int] = None):
        from .faults import Faults, RequestLog

        self.name = name
        self.fleet = fleet
        self.options = dict(options or {})
        self.rng = random.Random(seed if seed is not None else hash(name))
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
        self.sync_writes = sync_writes
        self.write_settle_timeout = 5.0
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
        # When set, API requests must carry "Authorization: Bearer <token>" (else 401).
        self.required_token: Optional[str] = None
        for ns in DEFAULT_NAMESPACES:
            self._bootstrap_namespace(ns)
        self._bootstrap_node()
        if controllers:
            from .controllers import builtin_controllers, default_controllers
            for c in builtin_controllers() + default_controllers():
                self.add_controller(c)

    # ------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> "Cluster":
        from .server import ClusterServer
        if self.server is None:
            self.server = ClusterServer(self, port=port)
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
        return f"http://127.0.0.1:{self.port}"

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
        """Wait until no controller work is due or running (True) or timeout (False)."""
        return self.scheduler.settle(self, self.clock, timeout)

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

    # ------------------------------------------------------------ store primitives (call under self.lock)

    def _bucket(self, rt: ResourceType, ns: Optional[str]) -> Dict[str, dict]:
        return self._objects.get(rt.rid, {}).get(ns or "", {})

    def _stored(self, rt: ResourceType, ns: Optional[str], name: str) -> Optional[dict]:
        return self._objects.get(rt.rid, {}).get(ns or "", {}).get(name)

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def _commit(self, rt: ResourceType, version: str, ns: str, name: str, etype: str, obj: dict,
                old: Optional[dict]) -> dict:
        self._rv += 1
        rv = str(self._rv)
        obj["metadata"]["resourceVersion"] = rv
        per_rt = self._objects.setdefault(rt.rid, {})
        if etype == "DELETED":
            b = per_rt.get(ns or "")
            if b is not None:
                b.pop(name, None)
                if not b:
                    per_rt.pop(ns or "", None)
        else:
            per_rt.setdefault(ns or "", {})[name] = obj
        self._events.append((self._rv, rt.rid, ns or "", name, etype, obj, old))
        self.changed.notify_all()
        self._after_commit(rt, version, ns, name, etype, obj, old)
        pending = getattr(self._tls, "pending", None)
        if pending is not None:
            pending.append((etype, rt, version, obj, old))
        return obj

    def _after_commit(self, rt, version, ns, name, etype, obj, old) -> None:
        if rt.rid == ("apiextensions.k8s.io", "customresourcedefinitions"):
            if etype == "DELETED":
                self._unregister_crd(old or obj)
            else:
                self._register_crd(obj)
        elif rt.rid == ("", "pods") and etype == "DELETED":
            with self._logs_cond:
                self._logs.pop((ns, name), None)
                self._logs_cond.notify_all()
            for key in [k for k in self._proxies if k[0] == ns and k[1] == name]:
                self._proxies.pop(key, None)
        if etype == "DELETED" and obj["metadata"].get("uid"):
            uid = obj["metadata"]["uid"]
            orphan = uid in self._orphaning
            self._orphaning.discard(uid)
            self.schedule(0, lambda: self._collect_garbage(uid, ns, orphan), key=f"__gc__/{uid}")
        if etype == "DELETED" and ns and rt.namespaced:
            nsobj = self._stored(self.registry.by_rid[("", "namespaces")], None, ns)
            if nsobj is not None and (nsobj.get("status") or {}).get("phase") == "Terminating":
                self.schedule(0, lambda n=ns: self._finish_namespace(n), key=f"__nsfinalize__/{ns}")

    def _register_crd(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        versions = [v for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("served", True)]
        if not versions or not spec.get("group") or not names.get("plural"):
            return
        versions.sort(key=lambda v: 0 if v.get("storage") else 1)
        subs = []
        schemas = {}
        for v in versions:
            sr = v.get("subresources") or {}
            if "status" in sr and "status" not in subs:
                subs.append("status")
            if "scale" in sr and "scale" not in subs:
                subs.append("scale")
            sch = (v.get("schema") or {}).get("openAPIV3Schema")
            if sch:
                schemas[v["name"]] = sch
        rt = ResourceType(group=spec["group"], versions=[v["name"] for v in versions], plural=names["plural"],
                          singular=names.get("singular") or names.get("kind", "").lower(), kind=names.get("kind", ""),
                          namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                          short_names=list(names.get("shortNames") or []),
                          categories=list(names.get("categories") or []), subresources=tuple(subs), builtin=False,
                          has_generation=True, crd_name=crd["metadata"]["name"], schemas=schemas)
        self.registry.add(rt)

    def _unregister_crd(self, crd: dict) -> None:
        spec = crd.get("spec") or {}
        rt = self.registry.by_rid.get((spec.get("group", ""), (spec.get("names") or {}).get("plural", "")))
        if rt is None or rt.builtin:
            return
        for ns, bucket in list(self._objects.get(rt.rid, {}).items()):
            for name, obj in list(bucket.items()):
                gone = dict(obj)
                gone["metadata"] = dict(obj["metadata"])
                self._commit(rt, rt.storage_version, ns, name, "DELETED", gone, obj)
        self._objects.pop(rt.rid, None)
        self.registry.remove(rt)

    def _bootstrap_namespace(self, ns: str) -> None:
        rt = self.registry.by_rid[("", "namespaces")]
        obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        with self._writing():
            self._create(rt, "v1", None, obj, dry_run=False, manager="kube-apiserver", admit=False, internal=True)

    def _bootstrap_node(self) -> None:
        """The one node pods run on (name shared with the kubelet stand-in)."""
        from .api import KUBE_VERSION
        from .controllers.kubelet import NODE_NAME
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
                           "nodeInfo": {"kubeletVersion": KUBE_VERSION["gitVersion"],
                                        "kubeProxyVersion": KUBE_VERSION["gitVersion"],
                                        "containerRuntimeVersion": "kubesim://0", "operatingSystem": "linux",
                                        "architecture": "amd64", "osImage": "kubesim (simulated)"}}}
        with self._writing():
            self._create(rt, "v1", None, node, dry_run=False, manager="kubelet", admit=False, internal=True,
                         owned=True)

    # ------------------------------------------------------------ helpers

    def present(self, rt: ResourceType, version: Optional[str], obj: dict) -> dict:
        """The stored object as seen at ``version`` (shallow copy only when it differs)."""
        want = rt.api_version(version)
        if obj.get("apiVersion") == want:
            return obj
        out = dict(obj)
        out["apiVersion"] = want
        return out

    def _resolve(self, api_version: str, plural: str) -> Optional[Tuple[ResourceType, str]]:
        rt = self.registry.by_api_version(api_version, plural)
        if rt is None:
            return None
        return rt, api_version.rpartition("/")[2]

    def _check_body(self, rt: ResourceType, version: str, body) -> dict:
        if not isinstance(body, dict):
            raise E.bad_request(f"the body of the request must be a {rt.kind} object")
        kind = body.get("kind")
        api_version = body.get("apiVersion")
        if kind is not None and kind != rt.kind:
            raise E.bad_request(f"the kind in the body ({kind}) does not match the kind on the URL ({rt.kind})"
                                if kind else "Object 'Kind' is missing")
        if api_version is not None and api_version != rt.api_version(version):
            group = api_version.rpartition("/")[0]
            if group != rt.group or api_version.rpartition("/")[2] not in rt.versions:
                raise E.bad_request(f"the API version in the data ({api_version}) does not match the expected "
                                    f"API version ({rt.api_version(version)})")
        md = body.get("metadata")
        if md is not None and not isinstance(md, dict):
            raise E.bad_request("json: cannot unmarshal metadata into Go struct field of type v1.ObjectMeta")
        return body

    def _check_namespace_for_create(self, rt: ResourceType, ns: str) -> None:
        nsobj = self._stored(self.registry.by_rid[("", "namespaces")], None, ns)
        if nsobj is None:
            raise E.namespace_not_found(ns)
        if (nsobj.get("status") or {}).get("phase") == "Terminating" or (nsobj.get("metadata") or {}).get(
                "deletionTimestamp"):
            raise E.forbidden(rt, (nsobj["metadata"]["name"]),
                              f"unable to create new content in namespace {ns} because it is being terminated",
                              causes=[{"reason": "NamespaceTerminating",
                                       "message": f"namespace {ns} is being terminated",
                                       "field": "metadata.namespace"}])

    def _keys_for(self, rt: ResourceType, version: str):
        if rt.builtin:
            return SSA.builtin_list_keys
        return SSA.crd_list_keys(rt.schemas.get(version) or rt.schemas.get(rt.storage_version))

    # ------------------------------------------------------------ API operations (HTTP and internal)

    def _create(self, rt, version, ns, body, *, dry_run, manager, admit, internal, managed=None,
                owned=False) -> dict:
        obj = self._check_body(rt, version, body)
        if not owned:
            obj = deep_copy(obj)
        obj["apiVersion"] = rt.api_version(version)
        obj["kind"] = rt.kind
        md = obj.setdefault("metadata", {})
        if rt.namespaced:
            bns = md.get("namespace")
            if bns and ns and bns != ns:
                raise E.bad_request("the namespace of the provided object does not match the namespace sent on "
                                    "the request")
            ns = ns or bns
            if not ns:
                raise E.bad_request("an empty namespace may not be set during creation")
            md["namespace"] = ns
        else:
            md.pop("namespace", None)
            ns = None
        for k in _SERVER_META:
            md.pop(k, None)
        if not md.get("name") and md.get("generateName"):
            md["name"] = md["generateName"] + rand_suffix(5, self.rng)
        now = self.now_str()
        md["uid"] = str(uuid.UUID(int=self._uid_rng.getrandbits(128), version=4))
        md["creationTimestamp"] = now
        if rt.has_generation:
            md["generation"] = 1
        if rt.has_status and not internal:
            obj.pop("status", None)
        with self._writing():
            if ns:
                self._check_namespace_for_create(rt, ns)
            strategies.prepare(self, rt, obj, None)
            if rt.rid == ("apiextensions.k8s.io", "customresourcedefinitions"):
                obj["status"] = strategies.crd_status(obj, now)
            strategies.validate(self, rt, obj, None, version)
            if managed is not None:
                mf = managed
            else:
                mf = SSA.record_update(None, obj, manager, obj["apiVersion"], now, self._keys_for(rt, version),
                                       None, rt.has_status)
            if mf:
                md["managedFields"] = mf
            if admit:
                self._admit("CREATE", rt, version, obj, None, dry_run)
            name = md["name"]
            if self._stored(rt, ns, name) is not None:
                raise E.already_exists(rt, name)
            if dry_run:
                return obj
            return self._commit(rt, version, ns, name, "ADDED", obj, None)

    def _updated_object(self, rt, version, old, body, subresource, internal) -> dict:
        if subresource == "status":
            new = deep_copy(old)
            if "status" in body and body["status"] is not None:
                new["status"] = deep_copy(body["status"])
            else:
                new.pop("status", None)
            if internal:
                pass
            return new
        new = deep_copy(body)
        new["apiVersion"] = old.get("apiVersion") or rt.api_version(version)
        new["kind"] = rt.kind
        md = new.setdefault("metadata", {})
        omd = old["metadata"]
        client_mf = md.get("managedFields")
        for k in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds",
                  "name", "namespace", "resourceVersion", "managedFields"):
            if k in omd:
                md[k] = deep_copy(omd[k])
            else:
                md.pop(k, None)
        if "generateName" in omd and "generateName" not in md:
            md["generateName"] = omd["generateName"]
        if client_mf:
            md["managedFields"] = client_mf  # judged in _finish_update (_client_managed)
        if rt.has_status:
            if "status" in old:
                new["status"] = deep_copy(old["status"])
            else:
                new.pop("status", None)
        return new

    def _finish_update(self, rt, version, ns, name, old, new, *, subresource, dry_run, manager, admit, managed=None,
                       op="UPDATE") -> Tuple[dict, bool]:
        """Defaulting, generation, managedFields, validation, admission, commit. Returns (obj, changed)."""
        now = self.now_str()
        strategies.prepare(self, rt, new, old)
        if rt.rid == ("apiextensions.k8s.io", "customresourcedefinitions"):
            new["status"] = strategies.crd_status(dict(new, status=old.get("status")), now)
        md = new["metadata"]
        if rt.has_generation:
            gen = old["metadata"].get("generation", 1)
            if subresource != "status" and _spec_view(new) != _spec_view(old):
                gen += 1
            md["generation"] = gen
        sub = "status" if subresource == "status" else None
        base = _client_managed(old, md.get("managedFields"))
        if managed is not None:
            mf = managed
        else:
            mf = SSA.record_update(old, new, manager, rt.api_version(version), now, self._keys_for(rt, version),
                                   sub, rt.has_status, base=base)
        if mf:
            md["managedFields"] = mf
        else:
            md.pop("managedFields", None)
        strategies.validate(self, rt, new, old, version)
        if admit:
            self._admit(op, rt, version, new, old, dry_run)
        # finalizers drained on an object being deleted: it goes away now
        if md.get("deletionTimestamp") and not md.get("finalizers") and rt.rid != ("", "namespaces"):
            if dry_run:
                return new, True
            self._commit(rt, version, ns, name, "DELETED", new, old)
            return new, True
        comparable_old = dict(old)
        comparable_old["metadata"] = {k: v for k, v in old["metadata"].items() if k != "resourceVersion"}
        comparable_new = dict(new)
        comparable_new["metadata"] = {k: v for k, v in md.items() if k != "resourceVersion"}
        comparable_new["apiVersion"] = old.get("apiVersion")
        if comparable_new == comparable_old:
            return old, False
        if dry_run:
            md["resourceVersion"] = old["metadata"].get("resourceVersion")
            return new, True
        return self._commit(rt, version, ns, name, "MODIFIED", new, old), True

    def _update(self, rt, version, ns, name, body, *, subresource, dry_run, manager, admit, internal) -> dict:
        body = self._check_body(rt, version, body)
        md = body.get("metadata") or {}
        if md.get("name") and md["name"] != name:
            raise E.bad_request(f"the name of the object ({md['name']}) does not match the name on the URL ({name})")
        if rt.namespaced and md.get("namespace") and md["namespace"] != ns:
            raise E.bad_request("the namespace of the provided object does not match the namespace sent on the "
                                "request")
        with self._writing():
            old = self._stored(rt, ns, name)
            if old is None:
                raise E.not_found(rt, name)
            want_rv = md.get("resourceVersion")
            if want_rv:
                if want_rv != old["metadata"].get("resourceVersion"):
                    raise E.conflict(rt, name)
            elif not rt.builtin and not internal:
                raise E.invalid(rt, name, [("metadata.resourceVersion", "FieldValueInvalid",
                                            "Invalid value: 0x0: must be specified for an update")])
            new = self._updated_object(rt, version, old, body, subresource, internal)
            obj, _ = self._finish_update(rt, version, ns, name, old, new, subresource=subresource, dry_run=dry_run,
                                         manager=manager, admit=admit)
            return obj

    def _patch(self, rt, version, ns, name, ptype, patch, *, subresource, dry_run, manager, force,
               admit) -> Tuple[int, dict]:
        if ptype not in PATCH_TYPES:
            raise E.unsupported_media_type(
                (JSON_PATCH, MERGE_PATCH, APPLY_PATCH) if not rt.builtin else
                (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH))
        if ptype == STRATEGIC_PATCH and not rt.builtin:
            raise E.unsupported_media_type()
        if force and ptype != APPLY_PATCH:
            raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be '
                           'specified for non-apply patch',
                           {"group": "meta.k8s.io", "kind": "PatchOptions",
                            "causes": [{"reason": "FieldValueForbidden",
                                        "message": "Forbidden: may not be specified for non-apply patch",
                                        "field": "force"}]})
        if ptype == APPLY_PATCH:
            return self._apply_patch(rt, version, ns, name, patch, subresource=subresource, dry_run=dry_run,
                                     manager=manager, force=force, admit=admit)
        if ptype == JSON_PATCH:
            if not isinstance(patch, list):
                raise E.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        elif not isinstance(patch, dict):
            raise E.bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
        with self._writing():
            old = self._stored(rt, ns, name)
            if old is None:
                raise E.not_found(rt, name)
            base = self.present(rt, version, old)
            if ptype == JSON_PATCH:
                body = json_patch(base, patch)
            elif ptype == MERGE_PATCH:
                body = merge_patch(base, patch)
            else:
                body = strategic_merge_patch(base, patch)
            if not isinstance(body, dict):
                raise E.bad_request("the patch produced a non-object document")
            bmd = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
            body_rv = bmd.get("resourceVersion")
            if body_rv and body_rv != old["metadata"].get("resourceVersion"):
                raise E.conflict(rt, name)
            if bmd.get("name") not in (None, name):
                raise E.bad_request(f"the name of the object ({bmd.get('name')}) does not match the name on the URL "
                                    f"({name})")
            body = self._check_body(rt, version, body)
            new = self._updated_object(rt, version, old, body, subresource, False)
            obj, _ = self._finish_update(rt, version, ns, name, old, new, subresource=subresource, dry_run=dry_run,
                                         manager=manager, admit=admit)
            return 200, obj

    def _apply_patch(self, rt, version, ns, name, applied, *, subresource, dry_run, manager, force, admit):
        if not manager:
            raise ApiError(422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                           'is required for apply patch',
                           {"group": "meta.k8s.io", "kind": "PatchOptions",
                            "causes": [{"reason": "FieldValueRequired",
                                        "message": "Required value: is required for apply patch",
                                        "field": "fieldManager"}]})
        if not isinstance(applied, dict):
            raise E.bad_request("error decoding YAML: the applied configuration must be an object")
        if not applied.get("apiVersion") or not applied.get("kind"):
            raise E.bad_request("invalid object type: " + ("Object 'Kind' is missing" if not applied.get("kind")
                                                          else "Object 'apiVersion' is missing"))
        self._check_body(rt, version, applied)
        amd = applied.get("metadata") or {}
        if amd.get("name") and amd["name"] != name:
            raise E.bad_request(f"the name of the object ({amd['name']}) does not match the name on the URL ({name})")
        if rt.namespaced and amd.get("namespace") and amd["namespace"] != ns:
            raise E.bad_request("the namespace of the provided object does not match the namespace sent on the "
                                "request")
        applied = deep_copy(applied)
        amd = applied.setdefault("metadata", {})
        want_rv = amd.get("resourceVersion")
        for k in _SERVER_META:
            amd.pop(k, None)
        amd["name"] = name
        if rt.namespaced:
            amd["namespace"] = ns
        api_version = rt.api_version(version)
        sub = "status" if subresource == "status" else None
        with self._writing():
            old = self._stored(rt, ns, name)
            if old is None:
                if sub:
                    raise E.not_found(rt, name)
                merged, mf = SSA.apply(None, applied, manager, force, api_version, self.now_str(),
                                       self._keys_for(rt, version), None, rt.has_status)
                obj = self._create(rt, version, ns, merged, dry_run=dry_run, manager=manager, admit=admit,
                                   internal=False, managed=mf, owned=True)
                return 201, obj
            if want_rv and want_rv != old["metadata"].get("resourceVersion"):
                raise E.conflict(rt, name)
            base = self.present(rt, version, old)
            merged, mf = SSA.apply(base, applied, manager, force, api_version, self.now_str(),
                                   self._keys_for(rt, version), sub, rt.has_status)
            if sub:
                new = self._updated_object(rt, version, old, merged, "status", False)
            else:
                new = self._updated_object(rt, version, old, merged, None, False)
            obj, _ = self._finish_update(rt, version, ns, name, old, new, subresource=subresource, dry_run=dry_run,
                                         manager=manager, admit=admit, managed=mf)
            return 200, obj

    def _delete(self, rt, version, ns, name, *, dry_run, options=None, admit=True) -> Tuple[int, dict]:
        options = options or {}
        with self._writing():
            old = self._stored(rt, ns, name)
            if old is None:
                raise E.not_found(rt, name)
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != old["metadata"].get("uid"):
                raise E.conflict(rt, name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in object "
                                           f"meta: {old['metadata'].get('uid')}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"].get("resourceVersion"):
                raise E.conflict(rt, name, f"Precondition failed: ResourceVersion in precondition: "
                                           f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                           f"{old['metadata'].get('resourceVersion')}")
            if admit:
                self._admit("DELETE", rt, version, None, old, dry_run)
            md = old["metadata"]
            if options.get("propagationPolicy") == "Orphan" or options.get("orphanDependents") is True:
                if not dry_run and md.get("uid"):
                    self._orphaning.add(md["uid"])
            graceful = rt.rid == ("", "namespaces") or bool(md.get("finalizers"))
            if graceful:
                if md.get("deletionTimestamp"):
                    return 200, old
                new = deep_copy(old)
                new["metadata"]["deletionTimestamp"] = self.now_str()
                new["metadata"]["deletionGracePeriodSeconds"] = 0
                if rt.rid == ("", "namespaces"):
                    new.setdefault("status", {})["phase"] = "Terminating"
                if dry_run:
                    return 200, new
                obj = self._commit(rt, version, ns, name, "MODIFIED", new, old)
                if rt.rid == ("", "namespaces"):
                    self.schedule(self.namespace_termination_delay, lambda n=name: self._terminate_namespace(n),
                                  key=f"__nsterminate__/{name}")
                return 200, obj
            if dry_run:
                gone = old
            else:
                gone = dict(old)
                gone["metadata"] = dict(old["metadata"])
                self._commit(rt, version, ns, name, "DELETED", gone, old)
            if rt.return_deleted_object:
                return 200, gone
            details = {"name": name}
            if rt.group:
                details["group"] = rt.group
            details["kind"] = rt.plural
            details["uid"] = md.get("uid")
            return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                         "details": details}

    def _collect_garbage(self, uid: str, namespace: Optional[str], orphan: bool = False) -> None:
        """Garbage collector: delete dependents of a deleted owner (background propagation),
        or with propagationPolicy=Orphan drop their ownerReferences to it."""
        victims = []
        with self.lock:
            for rt in self.registry.all_types():
                if not rt.namespaced:
                    buckets = [self._bucket(rt, None)]
                elif namespace:
                    buckets = [self._bucket(rt, namespace)]
                else:
                    buckets = list(self._objects.get(rt.rid, {}).values())
                for bucket in buckets:
                    for obj in bucket.values():
                        for ref in obj["metadata"].get("ownerReferences") or ():
                            if ref.get("uid") == uid:
                                victims.append((rt, obj["metadata"].get("namespace"), obj["metadata"]["name"]))
                                break
        for rt, ns, name in victims:
            try:
                if orphan:
                    with self._writing():
                        old = self._stored(rt, ns, name)
                        if old is None:
                            continue
                        new = deep_copy(old)
                        refs = [r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                        if refs:
                            new["metadata"]["ownerReferences"] = refs
                        else:
                            new["metadata"].pop("ownerReferences", None)
                        self._finish_update(rt, rt.storage_version, ns, name, old, new, subresource=None,
                                            dry_run=False, manager="kube-controller-manager", admit=False)
                else:
                    self._delete(rt, rt.storage_version, ns, name, dry_run=False, admit=False)
            except ApiError:
                pass

    def _terminate_namespace(self, ns: str) -> None:
        """Namespace controller: delete the content of a Terminating namespace, then the namespace."""
        victims = []
        with self.lock:
            for rt in self.registry.all_types():
                if rt.namespaced:
                    for name in list(self._bucket(rt, ns)):
                        victims.append((rt, name))
        for rt, name in victims:
            try:
                with self._writing():
                    obj = self._stored(rt, ns, name)
                    if obj is not None and not obj["metadata"].get("deletionTimestamp"):
                        self._delete(rt, rt.storage_version, ns, name, dry_run=False, admit=False)
            except ApiError:
                pass
        self._finish_namespace(ns)

    def _finish_namespace(self, ns: str) -> None:
        nrt = self.registry.by_rid[("", "namespaces")]
        with self._writing():
            nsobj = self._stored(nrt, None, ns)
            if nsobj is None or (nsobj.get("status") or {}).get("phase") != "Terminating":
                return
            for rt in self.registry.all_types():
                if rt.namespaced and self._bucket(rt, ns):
                    return
            gone = dict(nsobj)
            gone["metadata"] = dict(nsobj["metadata"])
            self._commit(nrt, "v1", None, ns, "DELETED", gone, nsobj)

    # ------------------------------------------------------------ list / watch

    def _select(self, rt, ns, label_selector, field_selector):
        lsel = parse_label_selector(label_selector)
        fsel = parse_field_selector(field_selector, rt.field_selectors)
        return lsel, fsel

    @staticmethod
    def _matches(obj, lsel, fsel) -> bool:
        if lsel is not None and not lsel((obj.get("metadata") or {}).get("labels") or {}):
            return False
        if fsel is not None and not fsel(obj):
            return False
        return True

    def list_objects(self, rt, ns, label_selector=None, field_selector=None) -> Tuple[List[dict], str]:
        """(stored object references, list resourceVersion). Do not mutate the objects."""
        lsel, fsel = self._select(rt, ns, label_selector, field_selector)
        with self.lock:
            if ns:
                objs = list(self._bucket(rt, ns).values())
            else:
                objs = [o for b in self._objects.get(rt.rid, {}).values() for o in b.values()]
            rv = str(self._rv)
        if ns is None and rt.namespaced:
            objs.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        else:
            objs.sort(key=lambda o: o["metadata"]["name"])
        if lsel or fsel:
            objs = [o for o in objs if self._matches(o, lsel, fsel)]
        return objs, rv

    def watch(self, rt, ns, label_selector=None, field_selector=None, resource_version: Optional[str] = None,
              timeout: Optional[float] = None, send_initial: Optional[bool] = None,
              stop: Optional[threading.Event] = None) -> Iterator[Tuple[str, dict]]:
        """Yield (type, stored object) like the watch API; raises 410 ApiError for too-old RVs."""
        lsel, fsel = self._select(rt, ns, label_selector, field_selector)
        deadline = time.monotonic() + (timeout if timeout is not None else 1800.0)
        rid = rt.rid
        want_ns = ns or ""
        initial = []
        with self.lock:
            if resource_version in (None, "", "0") if send_initial is None else send_initial:
                last = self._rv
                buckets = [self._bucket(rt, ns)] if ns else list(self._objects.get(rid, {}).values())
                initial = [o for b in buckets for o in b.values() if self._matches(o, lsel, fsel)]
                initial.sort(key=lambda o: o["metadata"]["name"])
            else:
                try:
                    last = int(resource_version)
                except ValueError:
                    raise E.bad_request(f"invalid resource version: {resource_version!r}")
                oldest = self._events[0][0] if self._events else self._rv + 1
                if last < oldest - 1 and last < self._rv:
                    raise E.expired(f"too old resource version: {last} ({oldest - 1})")
        for o in initial:
            yield "ADDED", o
        idle = False
        while True:
            batch = []
            with self.lock:
                while not self.stopped:
                    if self._events and self._events[-1][0] > last:
                        if self._events[0][0] > last + 1:
                            yield_error = True
                        else:
                            yield_error = False
                        for ev in reversed(self._events):
                            if ev[0] <= last:
                                break
                            batch.append(ev)
                        batch.reverse()
                        last = batch[-1][0]
                        if yield_error:
                            batch = [None]
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or (stop is not None and stop.is_set()):
                        return
                    if idle:
                        break
                    idle = not self.changed.wait(min(remaining, 1.0))
                if self.stopped:
                    return
            if idle and not batch:
                idle = False
                yield None, None  # a heartbeat: lets the server notice a client that went away
                continue
            idle = False
            for ev in batch:
                if ev is None:
                    raise E.expired("too old resource version: watch fell behind the event history")
                _rv, erid, ens, _name, etype, obj, old = ev
                if erid != rid or (ns and ens != want_ns):
                    continue
                if lsel is None and fsel is None:
                    yield etype, obj
                    continue
                now_match = self._matches(obj, lsel, fsel)
                was_match = old is not None and self._matches(old, lsel, fsel)
                if etype == "DELETED":
                    if was_match or now_match:
                        yield "DELETED", obj
                elif etype == "ADDED":
                    if now_match:
                        yield "ADDED", obj
                elif now_match and was_match:
                    yield "MODIFIED", obj
                elif now_match:
                    yield "ADDED", obj
                elif was_match:
                    yield "DELETED", obj
            if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                return

    # ------------------------------------------------------------ ClusterView: object access

    def _rt_for_obj(self, obj: dict) -> Tuple[ResourceType, str]:
        api_version = obj.get("apiVersion") or ""
        kind = obj.get("kind") or ""
        rt = self.registry.for_kind(api_version, kind)
        if rt is None:
            raise ApiError(404, "NotFound", f'no matches for kind "{kind}" in version "{api_version}"', {})
        return rt, api_version.rpartition("/")[2]

    def get(self, api_version: str, plural: str, namespace: Optional[str], name: str) -> Optional[dict]:
        r = self._resolve(api_version, plural)
        if r is None:
            return None
        rt, version = r
        with self.lock:
            obj = self._stored(rt, namespace if rt.namespaced else None, name)
        return deep_copy(self.present(rt, version, obj)) if obj is not None else None

    def list(self, api_version: str, plural: str, namespace: Optional[str] = None,
             label_selector: Optional[str] = None) -> list:
        r = self._resolve(api_version, plural)
        if r is None:
            return []
        rt, version = r
        objs, _ = self.list_objects(rt, namespace if rt.namespaced else None, label_selector)
        return [deep_copy(self.present(rt, version, o)) for o in objs]

    def create(self, obj: dict, manager: str = "kubesim") -> dict:
        rt, version = self._rt_for_obj(obj)
        ns = (obj.get("metadata") or {}).get("namespace") if rt.namespaced else None
        if rt.namespaced and not ns:
            ns = "default"
        with self._writing():
            out = self._create(rt, version, ns, obj, dry_run=False, manager=manager, admit=False, internal=True)
        return deep_copy(out)

    def update(self, obj: dict, manager: str = "kubesim") -> dict:
        rt, version = self._rt_for_obj(obj)
        md = obj.get("metadata") or {}
        ns = md.get("namespace") if rt.namespaced else None
        out = self._update(rt, version, ns, md.get("name"), obj, subresource=None, dry_run=False, manager=manager,
                           admit=False, internal=True)
        return deep_copy(self.present(rt, version, out))

    def update_status(self, obj: dict, manager: str = "kubesim") -> dict:
        rt, version = self._rt_for_obj(obj)
        md = obj.get("metadata") or {}
        ns = md.get("namespace") if rt.namespaced else None
        sub = "status" if rt.has_status else None
        out = self._update(rt, version, ns, md.get("name"), obj, subresource=sub, dry_run=False, manager=manager,
                           admit=False, internal=True)
        return deep_copy(self.present(rt, version, out))

    def apply(self, obj: dict, manager: str = "kubesim") -> dict:
        """Create, or replace the given top-level fields (and metadata labels/annotations/... when given)."""
        rt, version = self._rt_for_obj(obj)
        md = obj.get("metadata") or {}
        ns = (md.get("namespace") or "default") if rt.namespaced else None
        name = md.get("name")
        with self._writing():
            old = self._stored(rt, ns, name)
            if old is None:
                out = self._create(rt, version, ns, obj, dry_run=False, manager=manager, admit=False, internal=True)
                return deep_copy(out)
            new = deep_copy(old)
            for k, v in obj.items():
                if k in ("metadata", "apiVersion", "kind"):
                    continue
                new[k] = deep_copy(v)
            for k in ("labels", "annotations", "finalizers", "ownerReferences"):
                if k in md:
                    if md[k] is None:
                        new["metadata"].pop(k, None)
                    else:
                        new["metadata"][k] = deep_copy(md[k])
            out, _ = self._finish_update(rt, version, ns, name, old, new, subresource=None, dry_run=False,
                                         manager=manager, admit=False)
            return deep_copy(self.present(rt, version, out))

    def delete(self, api_version: str, plural: str, namespace: Optional[str], name: str) -> None:
        """Delete if present (finalizers and namespaces behave as for the API). Missing is not an error."""
        r = self._resolve(api_version, plural)
        if r is None:
            return
        rt, version = r
        try:
            self._delete(rt, version, namespace if rt.namespaced else None, name, dry_run=False, admit=False)
        except ApiError as exc:
            if exc.code != 404:
                raise

    def set_pod_log(self, namespace: str, pod: str, text: str, container: Optional[str] = None) -> None:
        """Test helper: replace a container's log with ``text`` (one entry per line, timestamped now)."""
        with self._logs_cond:
            entry = self._logs.setdefault((namespace, pod), {})
            if container is None:
                p = self._stored(self.registry.by_rid[("", "pods")], namespace, pod)
                cs = ((p or {}).get("spec") or {}).get("containers") or []
                container = cs[0].get("name", "") if cs else ""
            entry[container] = []
        if text:
            self.append_log(namespace, pod, container, text)

    def peek(self, api_version: str, plural: str, namespace: Optional[str] = None,
             name: Optional[str] = None):
        """Read-only stored references (no copy): one object (or None) with ``name``, else a list.

        For kubesim's own controllers and tests; never mutate what this returns.
        """
        r = self._resolve(api_version, plural)
        if r is None:
            return None if name else []
        rt, _version = r
        ns = namespace if rt.namespaced else None
        with self.lock:
            if name is not None:
                return self._stored(rt, ns, name)
            if ns:
                return list(self._bucket(rt, ns).values())
            return [o for b in self._objects.get(rt.rid, {}).values() for o in b.values()]

    # ------------------------------------------------------------ conveniences for tests

    def objects(self, api_version: str, plural: str, namespace: Optional[str] = None) -> List[dict]:
        return self.list(api_version, plural, namespace)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait (on store changes, not polling) until predicate() is true."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                if predicate():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(min(remaining, 0.5))
