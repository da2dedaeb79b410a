"""Every namespace gets a ``default`` ServiceAccount, like the serviceaccount controller."""

from __future__ import annotations

from ..base import ApiError, Controller


class ServiceAccountController(Controller):
    name = "serviceaccount"
    interests = frozenset({"namespaces"})

    def on_event(self, event_type, api_version, plural, obj, old):
        if plural == "namespaces" and api_version == "v1" and event_type == "ADDED":
            ns = obj["metadata"]["name"]
            self.cluster.schedule(0, lambda: self._ensure(ns), key=f"sa/{ns}")

    def resync(self):
        for ns in self.cluster.list("v1", "namespaces"):
            self._ensure(ns["metadata"]["name"])

    def _ensure(self, ns: str) -> None:
        nsobj = self.cluster.get("v1", "namespaces", None, ns)
        if nsobj is None or (nsobj.get("status") or {}).get("phase") == "Terminating":
            return
        if self.cluster.get("v1", "serviceaccounts", ns, "default") is None:
            try:
                self.cluster.create({"apiVersion": "v1", "kind": "ServiceAccount",
                                     "metadata": {"name": "default", "namespace": ns}})
            except ApiError:
                pass
