"""Object access for kubesim's own controllers and tests (``controllers.base.ClusterView``).

These calls skip admission and HTTP; they go through the same verbs, so validation,
defaulting, managedFields and garbage collection apply as for API requests.
"""

from __future__ import annotations

import time
from typing import Callable, List, Optional, Tuple

from ..controllers.base import ApiError
from .registry import ResourceType
from ..util import deep_copy

class InternalAccess:
    """Mixin of ``kubesim.Cluster``: get/list/create/update/apply/delete by apiVersion and plural."""

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

    def create(self, obj: dict, manager: str = "kubesim", admit: bool = False) -> dict:
        """Create ``obj``; ``admit=True`` runs admission as for a request (controllers creating Pods
        go through the API server's admission chain like any client)."""
        rt, version = self._rt_for_obj(obj)
        ns = (obj.get("metadata") or {}).get("namespace") if rt.namespaced else None
        if rt.namespaced and not ns:
            ns = "default"
        with self._writing():
            out = self._create(rt, version, ns, obj, dry_run=False, manager=manager, admit=admit, internal=True)
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

    def delete(self, api_version: str, plural: str, namespace: Optional[str], name: str,
               options: Optional[dict] = None) -> None:
        """Delete if present (finalizers, graceful pod deletion and namespaces behave as for the API).

        ``options`` are DeleteOptions (``gracePeriodSeconds``, ``propagationPolicy``,
        ``preconditions``). Missing is not an error."""
        r = self._resolve(api_version, plural)
        if r is None:
            return
        rt, version = r
        try:
            self._delete(rt, version, namespace if rt.namespaced else None, name, dry_run=False, options=options,
                         admit=False)
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
