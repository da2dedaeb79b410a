"""Garbage collection by ownerReferences (background propagation)."""

from __future__ import annotations

from .base import ApiError, Controller


class GarbageCollector(Controller):
    name = "garbage-collector"

    def on_event(self, event_type, api_version, plural, obj, old):
        if event_type != "DELETED":
            return
        md = obj.get("metadata") or {}
        uid, ns = md.get("uid"), md.get("namespace")
        if uid:
            self.cluster.schedule(0, lambda: self.collect(uid, ns), key=f"gc/{uid}")

    def collect(self, uid: str, namespace) -> None:
        c = self.cluster
        victims = []
        with c.lock:
            for rt in c.registry.all_types():
                if not rt.namespaced:
                    buckets = [c._bucket(rt, None)]
                elif namespace:
                    buckets = [c._bucket(rt, namespace)]
                else:
                    buckets = list(c._objects.get(rt.rid, {}).values())
                for bucket in buckets:
                    for obj in bucket.values():
                        for ref in obj["metadata"].get("ownerReferences") or []:
                            if ref.get("uid") == uid:
                                victims.append((rt, obj["metadata"].get("namespace"), obj["metadata"]["name"]))
                                break
        for rt, ns, name in victims:
            c.delete(rt.api_version(), rt.plural, ns, name)
