"""Garbage collection by ownerReferences (background propagation and Orphan).

Follows kube-controller-manager's garbage collector (pkg/controller/garbagecollector/
garbagecollector.go: attemptToDeleteItem, orphanDependents): when an owner is deleted its
dependents are deleted, or with propagationPolicy=Orphan lose their ownerReference.
"""

from __future__ import annotations

from typing import Optional

from ..controllers.base import ApiError
from ..util import deep_copy

class GarbageCollector:
    """Mixin of ``kubesim.Cluster``: the garbage collector."""

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
