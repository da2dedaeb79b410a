"""The token controller: fills legacy ServiceAccount token Secrets and removes orphaned ones.

Follows pkg/controller/serviceaccount/tokens_controller.go (``TokensController``): a Secret of
type ``kubernetes.io/service-account-token`` whose ``kubernetes.io/service-account.name``
annotation names an existing ServiceAccount gets ``data.token`` (a legacy JWT, see
``kubesim.apiserver.serviceaccount_tokens``), ``data.ca.crt`` (the cluster CA) and
``data.namespace``, and the ``kubernetes.io/service-account.uid`` annotation; a token Secret
whose ServiceAccount does not exist (or has another uid) is deleted, and so are a deleted
ServiceAccount's token Secrets (``syncSecret``, ``syncServiceAccount``, ``deleteTokens``).
"""

from __future__ import annotations

import base64

from ..base import ApiError, Controller

TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_NAME = "kubernetes.io/service-account.name"
SA_UID = "kubernetes.io/service-account.uid"


class TokenController(Controller):
    name = "serviceaccount-token"
    interests = frozenset({"secrets", "serviceaccounts"})

    def on_event(self, event_type, api_version, plural, obj, old):
        if api_version != "v1":
            return
        md = obj["metadata"]
        ns = md.get("namespace", "")
        if plural == "secrets" and event_type != "DELETED" and obj.get("type") == TOKEN_TYPE:
            self.cluster.schedule(0, lambda: self._sync_secret(ns, md["name"]), key=f"token/{ns}/{md['name']}")
        elif plural == "serviceaccounts":
            self.cluster.schedule(0, lambda: self._sync_account(ns, md["name"]), key=f"tokensa/{ns}/{md['name']}")

    def resync(self):
        for s in self.cluster.list("v1", "secrets"):
            if s.get("type") == TOKEN_TYPE:
                self._sync_secret(s["metadata"]["namespace"], s["metadata"]["name"])

    def _sync_account(self, ns: str, name: str) -> None:
        sa = self.cluster.get("v1", "serviceaccounts", ns, name)
        for s in self.cluster.list("v1", "secrets", ns):
            if s.get("type") == TOKEN_TYPE and (s["metadata"].get("annotations") or {}).get(SA_NAME) == name:
                if sa is None:
                    self.cluster.delete("v1", "secrets", ns, s["metadata"]["name"])
                else:
                    self._sync_secret(ns, s["metadata"]["name"])

    def _sync_secret(self, ns: str, name: str) -> None:
        from ...apiserver import serviceaccount_tokens as sat
        secret = self.cluster.get("v1", "secrets", ns, name)
        if secret is None or secret.get("type") != TOKEN_TYPE or secret["metadata"].get("deletionTimestamp"):
            return
        ann = secret["metadata"].get("annotations") or {}
        sa_name = ann.get(SA_NAME, "")
        sa = self.cluster.get("v1", "serviceaccounts", ns, sa_name) if sa_name else None
        if sa is None or (ann.get(SA_UID) and ann[SA_UID] != sa["metadata"]["uid"]):
            self.cluster.delete("v1", "secrets", ns, name)
            return
        data = dict(secret.get("data") or {})
        uid = sa["metadata"]["uid"]
        if data.get("token") and ann.get(SA_UID) == uid:
            return
        data["token"] = base64.b64encode(sat.legacy_token(self.cluster, ns, name, sa_name, uid).encode()).decode()
        ca = getattr(self.cluster, "ca", None)
        if ca is not None:
            data["ca.crt"] = base64.b64encode(ca.cert_pem).decode()
        data["namespace"] = base64.b64encode(ns.encode()).decode()
        secret["data"] = data
        secret["metadata"].setdefault("annotations", {})[SA_UID] = uid
        try:
            self.cluster.update(secret, manager="kube-controller-manager")
        except ApiError:
            pass
