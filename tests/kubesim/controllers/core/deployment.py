"""Deployment and ReplicaSet controllers, collapsed into one.

Each Deployment owns one ReplicaSet per pod template (``<deploy>-<hash>``), and the
current ReplicaSet owns one Pod per replica (``<deploy>-<hash>-<rand>``). A template
change (e.g. ``kubectl rollout restart``) creates a new ReplicaSet and replaces all
pods at once. Status follows the pods' readiness (see kubelet.py), with the fields
kubectl rollout status and kubernetes.core's wait read.
"""

from __future__ import annotations

import hashlib
import json

from ...util import SUFFIX_ALPHABET, deep_copy, rand_suffix
from .. import latency
from ..base import ApiError, Controller, rfc3339
from .kubelet import NEVER_READY, NODE_NAME

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"


def _revision(rs: dict) -> int:
    """deploymentutil.Revision: the ReplicaSet's revision annotation (0 when absent or bad)."""
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0") or 0)
    except ValueError:
        return 0


def template_hash(template: dict) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True, separators=(",", ":")).encode()).digest()
    n = int.from_bytes(digest[:8], "big")
    out = []
    for _ in range(10):
        n, r = divmod(n, len(SUFFIX_ALPHABET))
        out.append(SUFFIX_ALPHABET[r])
    return "".join(out)


def _owned_by(obj: dict, uid: str) -> bool:
    return any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])


def _owner_ref(obj: dict, kind: str, api_version: str) -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def _pod_ready(pod: dict) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _set_condition(conds: list, ctype: str, status: str, reason: str, message: str, now: str) -> list:
    out = [c for c in conds if c.get("type") != ctype]
    prev = next((c for c in conds if c.get("type") == ctype), None)
    if prev and prev.get("status") == status and prev.get("reason") == reason:
        new = dict(prev, message=message, lastUpdateTime=prev.get("lastUpdateTime", now))
    else:
        new = {"type": ctype, "status": status, "lastUpdateTime": now,
               "lastTransitionTime": now if not prev or prev.get("status") != status else prev["lastTransitionTime"],
               "reason": reason, "message": message}
    out.append(new)
    order = {"Available": 0, "Progressing": 1, "ReplicaFailure": 2}
    out.sort(key=lambda c: order.get(c.get("type"), 9))
    return out


class DeploymentController(Controller):
    name = "deployment"
    interests = frozenset({"deployments", "replicasets", "pods", "serviceaccounts"})

    def __init__(self):
        self._failures = {}  # ReplicaSet uid -> the last pod create error (ReplicaFailure/FailedCreate)

    def on_event(self, event_type, api_version, plural, obj, old):
        if api_version != "v1" and api_version != "apps/v1":
            return
        md = obj.get("metadata") or {}
        ns = md.get("namespace")
        if plural == "deployments" and api_version == "apps/v1":
            if event_type != "DELETED":
                self._queue(ns, md["name"])
        elif plural == "serviceaccounts" and event_type == "ADDED":
            # the ReplicaSet controller retries a failed create; a ServiceAccount appearing is when it helps
            for d in self.cluster.peek("apps/v1", "deployments", ns):
                self._queue(ns, d["metadata"]["name"])
        elif plural in ("replicasets", "pods"):
            for ref in md.get("ownerReferences") or []:
                if ref.get("kind") == "ReplicaSet" and plural == "pods":
                    rs = self.cluster.peek("apps/v1", "replicasets", ns, ref.get("name"))
                    for r2 in ((rs or {}).get("metadata") or {}).get("ownerReferences") or []:
                        if r2.get("kind") == "Deployment":
                            self._queue(ns, r2.get("name"))
                elif ref.get("kind") == "Deployment" and plural == "replicasets":
                    self._queue(ns, ref.get("name"))

    def _queue(self, ns, name):
        self.cluster.schedule(latency.of(self.cluster).hop(latency.KUBE_CONTROLLER_MANAGER), lambda: self.reconcile(ns, name),
                              key=f"deployment/{ns}/{name}")

    def resync(self):
        for d in self.cluster.list("apps/v1", "deployments"):
            self.reconcile(d["metadata"]["namespace"], d["metadata"]["name"])

    # -------------------------------------------------------------- reconcile

    def reconcile(self, ns: str, name: str) -> None:
        c = self.cluster
        d = c.peek("apps/v1", "deployments", ns, name)
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        spec = d.get("spec") or {}
        template = spec.get("template") or {}
        replicas = spec.get("replicas", 1)
        h = template_hash(template)
        uid = d["metadata"]["uid"]
        paused = bool(spec.get("paused"))
        all_rs = [rs for rs in c.peek("apps/v1", "replicasets", ns) if _owned_by(rs, uid)]
        cur = next((rs for rs in all_rs if rs["metadata"]["name"] == f"{name}-{h}"), None)
        matches_template = cur is not None
        max_old = max([_revision(rs) for rs in all_rs if rs is not cur] + [0])
        if cur is None and paused:
            # sync.go sync(): a paused Deployment only scales; no ReplicaSet for the new template
            if not all_rs:
                self._deploy_status(d, None, replicas, 0, 0, 0, paused)
                return
            cur = max(all_rs, key=_revision)
        elif cur is None:
            cur = self._create_rs(d, h, max_old + 1, replicas)
        elif _revision(cur) <= max_old:
            # getNewReplicaSet: the template returned to an older ReplicaSet, which becomes revision max+1
            # (nginx:1 -> 2 -> 1 is revision 3), its earlier revisions kept in revision-history
            cur = self._bump_revision(d, cur, max_old + 1)
        if cur["spec"].get("replicas") != replicas:
            cur = deep_copy(cur)
            cur["spec"]["replicas"] = replicas
            cur = c.update(cur, manager="kube-controller-manager")
        never = str((d["metadata"].get("annotations") or {}).get(NEVER_READY, "")).lower() == "true"
        total = ready = updated = 0
        for rs in all_rs + ([cur] if cur["metadata"]["name"] not in [r["metadata"]["name"] for r in all_rs] else []):
            is_cur = rs["metadata"]["name"] == cur["metadata"]["name"]
            want = replicas if is_cur else 0
            if not is_cur and rs["spec"].get("replicas", 0) != 0:
                rs = deep_copy(rs)
                rs["spec"]["replicas"] = 0
                try:
                    rs = c.update(rs, manager="kube-controller-manager")
                except ApiError:
                    pass
            pods = self._sync_pods(d if is_cur else None, rs, want, never)
            n_ready = sum(1 for p in pods if _pod_ready(p))
            total += len(pods)
            ready += n_ready
            if is_cur and matches_template:
                updated = len(pods)
            self._rs_status(rs, pods, n_ready)
        self._deploy_status(d, cur, replicas, total, updated, ready, paused)

    def _bump_revision(self, d, rs, revision):
        """SetNewReplicaSetAnnotations: the new revision on the ReplicaSet, the old one into revision-history."""
        c = self.cluster
        rs = deep_copy(rs)
        ann = rs["metadata"].setdefault("annotations", {})
        old = ann.get(REVISION)
        if old:
            history = [h for h in (ann.get(REVISION_HISTORY) or "").split(",") if h]
            ann[REVISION_HISTORY] = ",".join(history + [old])
        ann[REVISION] = str(revision)
        try:
            rs = c.update(rs, manager="kube-controller-manager")
        except ApiError:
            return rs
        self._set_deployment_revision(d, revision)
        return rs

    def _set_deployment_revision(self, d, revision):
        c = self.cluster
        md = d["metadata"]
        d2 = c.get("apps/v1", "deployments", md["namespace"], md["name"])
        if d2 is not None and (d2["metadata"].get("annotations") or {}).get(REVISION) != str(revision):
            d2["metadata"]["annotations"] = dict(d2["metadata"].get("annotations") or {}, **{REVISION: str(revision)})
            try:
                c.update(d2, manager="kube-controller-manager")
            except ApiError:
                pass

    def _create_rs(self, d, h, revision, replicas):
        c = self.cluster
        md = d["metadata"]
        template = deep_copy((d.get("spec") or {}).get("template") or {})
        tmd = template.setdefault("metadata", {})
        tmd["labels"] = dict(tmd.get("labels") or {}, **{"pod-template-hash": h})
        selector = deep_copy((d.get("spec") or {}).get("selector") or {})
        selector["matchLabels"] = dict(selector.get("matchLabels") or {}, **{"pod-template-hash": h})
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": f"{md['name']}-{h}", "namespace": md["namespace"], "labels": dict(tmd["labels"]),
                           "annotations": {REVISION: str(revision),
                                           "deployment.kubernetes.io/desired-replicas": str(replicas),
                                           "deployment.kubernetes.io/max-replicas": str(replicas + 1)},
                           "ownerReferences": [_owner_ref(d, "Deployment", "apps/v1")]},
              "spec": {"replicas": replicas, "selector": selector, "template": template}}
        try:
            created = c.create(rs, manager="kube-controller-manager")
        except ApiError:
            created = c.get("apps/v1", "replicasets", md["namespace"], rs["metadata"]["name"])
        self._set_deployment_revision(d, revision)
        return created

    def _sync_pods(self, d, rs, want: int, never: bool) -> list:
        c = self.cluster
        ns = rs["metadata"]["namespace"]
        uid = rs["metadata"]["uid"]
        pods = [p for p in c.peek("v1", "pods", ns) if _owned_by(p, uid) and not p["metadata"].get(
            "deletionTimestamp")]
        pods.sort(key=lambda p: p["metadata"].get("creationTimestamp", ""))
        while len(pods) > want:
            victim = pods.pop()
            c.delete("v1", "pods", ns, victim["metadata"]["name"])
        template = (rs.get("spec") or {}).get("template") or {}
        while len(pods) < want:
            created = self._new_pod(rs, template, never, ns)
            if created is None:
                break
            pods.append(created)
        return pods

    def _new_pod(self, rs, template, never, ns):
        c = self.cluster
        tmd = template.get("metadata") or {}
        annotations = dict(tmd.get("annotations") or {})
        if never:
            annotations[NEVER_READY] = "true"
        spec = deep_copy(template.get("spec") or {})
        spec.setdefault("nodeName", NODE_NAME)
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"{rs['metadata']['name']}-{rand_suffix(5, c.rng)}", "namespace": ns,
                            "labels": dict(tmd.get("labels") or {}),
                            "ownerReferences": [_owner_ref(rs, "ReplicaSet", "apps/v1")]},
               "spec": spec}
        if annotations:
            pod["metadata"]["annotations"] = annotations
        try:
            # through admission like the ReplicaSet controller's API call (a missing ServiceAccount is a 403)
            c.create(pod, manager="kube-controller-manager", admit=True)
        except ApiError as exc:
            self._failures[rs["metadata"]["uid"]] = exc.message
            return None
        self._failures.pop(rs["metadata"]["uid"], None)
        return c.peek("v1", "pods", ns, pod["metadata"]["name"])

    def _rs_status(self, rs, pods, n_ready) -> None:
        status = {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": n_ready,
                  "availableReplicas": n_ready, "observedGeneration": rs["metadata"].get("generation", 1)}
        status = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        failure = self._failures.get(rs["metadata"]["uid"])
        if failure and len(pods) < (rs.get("spec") or {}).get("replicas", 0):
            # pkg/controller/replicaset/replica_set_utils.go calculateStatus: ReplicaFailure/FailedCreate
            prev = next((c for c in (rs.get("status") or {}).get("conditions") or []
                         if c.get("type") == "ReplicaFailure"), None)
            when = prev["lastTransitionTime"] if prev else rfc3339(self.cluster.now())
            status["conditions"] = [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                                     "message": failure, "lastTransitionTime": when}]
        if rs.get("status") != status:
            fresh = self.cluster.peek("apps/v1", "replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])
            if fresh is not None:
                fresh = dict(fresh, status=status)
                try:
                    self.cluster.update_status(fresh, manager="kube-controller-manager")
                except ApiError:
                    pass

    def _deploy_status(self, d, cur, replicas, total, updated, ready, paused=False) -> None:
        c = self.cluster
        fresh = c.peek("apps/v1", "deployments", d["metadata"]["namespace"], d["metadata"]["name"])
        if fresh is None:
            return
        now = rfc3339(c.now())
        old = fresh.get("status") or {}
        conds = list(old.get("conditions") or [])
        available = ready
        if available >= replicas:
            conds = _set_condition(conds, "Available", "True", "MinimumReplicasAvailable",
                                   "Deployment has minimum availability.", now)
        else:
            conds = _set_condition(conds, "Available", "False", "MinimumReplicasUnavailable",
                                   "Deployment does not have minimum availability.", now)
        if paused:
            # progress.go / sync.go checkPausedConditions: Progressing Unknown while paused
            conds = _set_condition(conds, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now)
        elif any(c.get("reason") == "DeploymentPaused" for c in conds):
            conds = _set_condition(conds, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed",
                                   now)
        failure = self._failures.get(cur["metadata"]["uid"]) if cur is not None else None
        if failure and updated < replicas:
            # progress.go syncRolloutStatus: the new ReplicaSet's ReplicaFailure condition is copied over
            conds = _set_condition(conds, "ReplicaFailure", "True", "FailedCreate", failure, now)
        else:
            conds = [c for c in conds if c.get("type") != "ReplicaFailure"]
        rs_name = cur["metadata"]["name"] if cur is not None else ""
        if paused or cur is None:
            pass
        elif updated == replicas and total == replicas and available >= replicas:
            conds = _set_condition(conds, "Progressing", "True", "NewReplicaSetAvailable",
                                   f'ReplicaSet "{rs_name}" has successfully progressed.', now)
        else:
            conds = _set_condition(conds, "Progressing", "True", "ReplicaSetUpdated",
                                   f'ReplicaSet "{rs_name}" is progressing.', now)
        status = {"observedGeneration": fresh["metadata"].get("generation", 1), "replicas": total,
                  "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
                  "unavailableReplicas": max(0, total - available), "conditions": conds}
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"):
            if not status[k]:
                del status[k]
        if old != status:
            fresh = dict(fresh, status=status)
            try:
                c.update_status(fresh, manager="kube-controller-manager")
            except ApiError:
                pass
