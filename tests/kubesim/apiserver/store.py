"""The object store: per-resource buckets, resourceVersions, the event history, commit.

Like etcd behind kube-apiserver, every commit bumps one cluster-wide resourceVersion
(staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go). Stored objects are never mutated
after commit: every write builds a new dict, so readers take a reference under the lock and
serialise outside it. The methods here are called with ``self.lock`` held.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from .registry import ResourceType

class ObjectStore:
    """Mixin of ``kubesim.Cluster``: storage primitives and the after-commit hooks."""

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
            if obj["metadata"].get("ownerReferences"):
                self.owner_dependent_gone(obj)
        if etype == "DELETED" and ns and rt.namespaced:
            nsobj = self._stored(self.registry.by_rid[("", "namespaces")], None, ns)
            if nsobj is not None and (nsobj.get("status") or {}).get("phase") == "Terminating":
                self.schedule(0, lambda n=ns: self._finish_namespace(n), key=f"__nsfinalize__/{ns}")

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
