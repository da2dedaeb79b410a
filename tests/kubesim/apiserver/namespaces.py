"""Namespace lifecycle: the default namespaces, Terminating, content deletion, finalisation.

Follows the namespace registry strategy (pkg/registry/core/namespace/storage/storage.go:
Delete sets phase Terminating) and the namespace controller (pkg/controller/namespace/
deletion/namespaced_resources_deleter.go: delete every namespaced resource, then the namespace).
"""

from __future__ import annotations

from ..controllers.base import ApiError

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class NamespaceLifecycle:
    """Mixin of ``kubesim.Cluster``: namespace bootstrap and termination."""

    def _bootstrap_namespace(self, ns: str) -> None:
        rt = self.registry.by_rid[("", "namespaces")]
        obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        with self._writing():
            self._create(rt, "v1", None, obj, dry_run=False, manager="kube-apiserver", admit=False, internal=True)

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
