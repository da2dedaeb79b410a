"""The root CA publisher: ConfigMap ``kube-root-ca.crt`` in every namespace.

Follows kube-controller-manager's pkg/controller/certificates/rootcacertpublisher/publisher.go
(``syncNamespace``): each active namespace gets ConfigMap ``kube-root-ca.crt`` with key ``ca.crt``
holding the cluster CA bundle and the ``kubernetes.io/description`` annotation; a deleted or
edited ConfigMap is put back. The bundle is the fleet's cluster CA (apiserver/tls.py), the one
that signs the API server's serving certificate, so a Pod-side client can verify kubesim with it.
Over plain HTTP there is no cluster CA and nothing is published.
"""

from __future__ import annotations

from ..base import ApiError, Controller

NAME = "kube-root-ca.crt"
KEY = "ca.crt"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
               "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
               "distributions of Kubernetes clusters.")


class RootCAPublisher(Controller):
    name = "root-ca-cert-publisher"
    interests = frozenset({"namespaces", "configmaps"})

    def on_event(self, event_type, api_version, plural, obj, old):
        if api_version != "v1":
            return
        md = obj.get("metadata") or {}
        if plural == "namespaces" and event_type != "DELETED":
            ns = md["name"]
        elif plural == "configmaps" and md.get("name") == NAME:
            ns = md.get("namespace")
        else:
            return
        self.cluster.schedule(0, lambda: self.sync_namespace(ns), key=f"rootca/{ns}")

    def resync(self):
        for ns in self.cluster.list("v1", "namespaces"):
            self.sync_namespace(ns["metadata"]["name"])

    def _bundle(self):
        ca = getattr(self.cluster, "ca", None)
        pem = getattr(ca, "cert_pem", None)
        return pem.decode() if pem else None

    def sync_namespace(self, ns: str) -> None:
        bundle = self._bundle()
        if bundle is None:
            return
        nsobj = self.cluster.peek("v1", "namespaces", None, ns)
        if nsobj is None or nsobj["metadata"].get("deletionTimestamp") or (
                nsobj.get("status") or {}).get("phase") == "Terminating":
            return
        cm = self.cluster.get("v1", "configmaps", ns, NAME)
        want = {KEY: bundle}
        try:
            if cm is None:
                self.cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": NAME, "namespace": ns,
                                                  "annotations": {"kubernetes.io/description": DESCRIPTION}},
                                     "data": want}, manager="kube-controller-manager")
            elif cm.get("data") != want or (cm["metadata"].get("annotations") or {}).get(
                    "kubernetes.io/description") != DESCRIPTION:
                cm["data"] = want
                cm.pop("binaryData", None)
                cm["metadata"]["annotations"] = dict(cm["metadata"].get("annotations") or {},
                                                     **{"kubernetes.io/description": DESCRIPTION})
                self.cluster.update(cm, manager="kube-controller-manager")
        except ApiError:
            pass
