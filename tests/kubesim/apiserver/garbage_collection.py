"""Garbage collection by ownerReferences (background, Foreground and Orphan propagation).

Follows kube-controller-manager's garbage collector (pkg/controller/garbagecollector/
garbagecollector.go: attemptToDeleteItem, orphanDependents, processDeletingDependentsItem): when an
owner is deleted its dependents are deleted, or with propagationPolicy=Orphan lose their
ownerReference. With propagationPolicy=Foreground the owner keeps its ``foregroundDeletion``
finalizer (and stays readable, with a deletionTimestamp) while the GC deletes its dependents
(those that have dependents of their own in the foreground too); the finalizer is removed once no
dependent with ``blockOwnerDeletion: true`` is left, and the owner goes.
"""

from __future__ import annotations

from typing import Optional

from ..controllers.base import ApiError
from ..util import deep_copy
from .graceful_deletion import FOREGROUND

class GarbageCollector:
    """Mixin of ``kubesim.Cluster``: the garbage collector."""

    def _dependents(self, uid: str, namespace: Optional[str]) -> list:
        """(rt, namespace, name, object, ownerReference) of every object that names ``uid`` as owner."""
        out = []
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
                                out.append((rt, obj["metadata"].get("namespace"), obj["metadata"]["name"], obj, ref))
                                break
        return out

    def schedule_foreground_sweep(self, rt, ns: Optional[str], name: str, uid: Optional[str]) -> None:
        self.schedule(0, lambda: self._foreground_sweep(rt, ns, name, uid), key=f"__gcfg__/{uid}")

    def _foreground_sweep(self, rt, ns: Optional[str], name: str, uid: Optional[str]) -> None:
        """processDeletingDependentsItem: delete the dependents, drop the finalizer when none blocks."""
        owner = self._stored(rt, ns, name)
        if owner is None or owner["metadata"].get("uid") != uid or FOREGROUND not in (
                owner["metadata"].get("finalizers") or []):
            return
        blocking = 0
        for drt, dns, dname, dobj, ref in self._dependents(uid, ns if rt.namespaced else None):
            if ref.get("blockOwnerDeletion") is True:
                blocking += 1
            if dobj["metadata"].get("deletionTimestamp"):
                continue
            # attemptToDeleteItem: a dependent with dependents of its own goes in the foreground too
            policy = "Foreground" if self._dependents(dobj["metadata"]["uid"], dns) else "Background"
            try:
                self._delete(drt, drt.storage_version, dns, dname, dry_run=False,
                             options={"propagationPolicy": policy}, admit=False)
            except ApiError:
                pass
        if blocking:
            return  # swept again when a dependent goes (_after_commit -> owner_dependent_gone)
        with self._writing():
            old = self._stored(rt, ns, name)
            if old is None or old["metadata"].get("uid") != uid:
                return
            new = deep_copy(old)
            fins = [f for f in new["metadata"].get("finalizers") or [] if f != FOREGROUND]
            if fins:
                new["metadata"]["finalizers"] = fins
            else:
                new["metadata"].pop("finalizers", None)
            self._finish_update(rt, rt.storage_version, ns, name, old, new, subresource=None, dry_run=False,
                                manager="kube-controller-manager", admit=False)

    def owner_dependent_gone(self, obj: dict) -> None:
        """A dependent went: its owners being deleted in the foreground are swept again."""
        md = obj.get("metadata") or {}
        for ref in md.get("ownerReferences") or ():
            ort = self.registry.for_kind(ref.get("apiVersion") or "", ref.get("kind") or "")
            if ort is None:
                continue
            ons = md.get("namespace") if ort.namespaced else None
            owner = self._stored(ort, ons, ref.get("name") or "")
            if owner is not None and owner["metadata"].get("uid") == ref.get("uid") and FOREGROUND in (
                    owner["metadata"].get("finalizers") or []):
                self.schedule_foreground_sweep(ort, ons, owner["metadata"]["name"], ref.get("uid"))

    def _collect_garbage(self, uid: str, namespace: Optional[str], orphan: bool = False) -> None:
        """Garbage collector: delete dependents of a deleted owner (background propagation),
        or with propagationPolicy=Orphan drop their ownerReferences to it."""
        victims = [(rt, ns, name) for rt, ns, name, _obj, _ref in self._dependents(uid, namespace)]
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
