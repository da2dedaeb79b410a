"""A kubelet stand-in: scheduled pods start at once (Running, Ready) on node ``kubesim-node``.

Pods annotated ``kubesim.io/never-ready: "true"`` run but never become Ready.

A pod being deleted (``deletionTimestamp`` set by the API server's graceful deletion) keeps
running until its containers stop; then the kubelet removes it with a zero grace period and
its UID as precondition (pkg/kubelet/status/status_manager.go ``syncPod`` ->
``canBeDeleted`` -> Delete with ``NewDeleteOptions(0)`` and ``Preconditions{UID}``). The
containers stop ``termination_seconds`` after SIGTERM: the pod annotation
``kubesim.io/termination-seconds``, else the cluster option ``pod_termination_seconds``
(default 1 simulated second: a process that exits promptly), never later than the grace
period (the kubelet's SIGKILL).

Pods with ``restartPolicy`` Never or OnFailure (Jobs) run to completion: ``kubesim.io/run-seconds``
(default 1 simulated second) after they start, their containers terminate with exit code 0
(reason Completed) and the pod is Succeeded, not Ready (reason PodCompleted), as
pkg/kubelet/kubelet_pods.go ``getPhase`` and ``generateAPIPodStatus`` report it.
"""

from __future__ import annotations

import hashlib

from .. import latency
from ..base import ApiError, Controller, rfc3339

NEVER_READY = "kubesim.io/never-ready"
NODE_NAME = "kubesim-node"
TERMINATION_SECONDS = "kubesim.io/termination-seconds"
RUN_SECONDS = "kubesim.io/run-seconds"
DEFAULT_RUN_SECONDS = 1.0
DEFAULT_TERMINATION_SECONDS = 1.0


def never_ready(obj: dict) -> bool:
    return str(((obj.get("metadata") or {}).get("annotations") or {}).get(NEVER_READY, "")).lower() == "true"


class Kubelet(Controller):
    name = "kubelet"
    interests = frozenset({"pods"})

    def __init__(self):
        self._ip = 0
        self._kills = {}  # pod uid -> simulated time its containers stop

    def on_event(self, event_type, api_version, plural, obj, old):
        if plural != "pods" or api_version != "v1" or event_type == "DELETED":
            return
        if obj["metadata"].get("deletionTimestamp"):
            self._schedule_kill(obj)
            return
        if (obj.get("status") or {}).get("phase", "Pending") == "Pending" and not obj["metadata"].get(
                "deletionTimestamp"):
            ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
            self.cluster.schedule(latency.of(self.cluster).hop(latency.KUBELET), lambda: self.start(ns, name),
                                  key=f"kubelet/{ns}/{name}")

    def termination_seconds(self, pod: dict) -> float:
        md = pod.get("metadata") or {}
        value = (md.get("annotations") or {}).get(TERMINATION_SECONDS)
        if value is None:
            value = self.cluster.options.get("pod_termination_seconds", DEFAULT_TERMINATION_SECONDS)
        try:
            seconds = max(0.0, float(value))
        except (TypeError, ValueError):
            seconds = DEFAULT_TERMINATION_SECONDS
        grace = md.get("deletionGracePeriodSeconds")
        if grace is not None:
            seconds = min(seconds, float(grace))
        return seconds

    def _schedule_kill(self, pod: dict) -> None:
        md = pod["metadata"]
        ns, name, uid = md["namespace"], md["name"], md.get("uid")
        # the first SIGTERM counts; a shortened grace period (kubectl delete --grace-period) brings it forward
        due = self.cluster.clock.timestamp() + self.termination_seconds(pod)
        if uid in self._kills and self._kills[uid] <= due:
            return
        self._kills[uid] = due
        self.cluster.schedule(self.termination_seconds(pod), lambda: self.confirm_deletion(ns, name, uid),
                              key=f"kubelet-kill/{ns}/{name}")

    def confirm_deletion(self, ns: str, name: str, uid: str) -> None:
        """The containers have stopped: remove the pod (grace 0, UID precondition)."""
        self._kills.pop(uid, None)
        pod = self.cluster.peek("v1", "pods", ns, name)
        if pod is None or pod["metadata"].get("uid") != uid or not pod["metadata"].get("deletionTimestamp"):
            return
        try:
            self.cluster.delete("v1", "pods", ns, name, options={"gracePeriodSeconds": 0,
                                                                 "preconditions": {"uid": uid}})
        except ApiError:
            pass

    def resync(self):
        for pod in self.cluster.list("v1", "pods"):
            if pod["metadata"].get("deletionTimestamp"):
                self._schedule_kill(pod)
                continue
            if (pod.get("status") or {}).get("phase", "Pending") == "Pending":
                self.start(pod["metadata"]["namespace"], pod["metadata"]["name"])

    def start(self, ns: str, name: str) -> None:
        pod = self.cluster.get("v1", "pods", ns, name)
        if pod is None or (pod.get("status") or {}).get("phase", "Pending") != "Pending":
            return
        now = rfc3339(self.cluster.now())
        ready = not never_ready(pod)
        self._ip += 1
        ip = f"10.244.{(self._ip >> 8) & 255}.{self._ip & 255}"
        spec = pod.get("spec") or {}
        statuses = []
        for c in spec.get("containers") or []:
            cid = hashlib.sha256(f"{pod['metadata']['uid']}/{c.get('name')}".encode()).hexdigest()
            statuses.append({"name": c.get("name"), "image": c.get("image"),
                             "imageID": f"{c.get('image')}@sha256:{cid[:64]}", "containerID": f"containerd://{cid}",
                             "ready": ready, "started": True, "restartCount": 0,
                             "state": {"running": {"startedAt": now}}})
        cond = "True" if ready else "False"
        conditions = [
            {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": cond, "lastTransitionTime": now},
            {"type": "ContainersReady", "status": cond, "lastTransitionTime": now},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
        ]
        if not ready:
            for c in conditions[2:4]:
                c["reason"] = "ContainersNotReady"
                names = " ".join(str(c2.get("name")) for c2 in spec.get("containers") or [])
                c["message"] = f"containers with unready status: [{names}]"
        pod["status"] = {"phase": "Running", "conditions": conditions, "hostIP": "10.0.0.1",
                         "hostIPs": [{"ip": "10.0.0.1"}], "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now,
                         "containerStatuses": statuses, "qosClass": "BestEffort"}
        if not spec.get("nodeName"):
            pod["spec"]["nodeName"] = NODE_NAME
            try:
                pod = self.cluster.update(pod, manager="kube-scheduler")
            except ApiError:
                return
            pod["status"] = {"phase": "Running", "conditions": conditions, "hostIP": "10.0.0.1",
                             "hostIPs": [{"ip": "10.0.0.1"}], "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now,
                             "containerStatuses": statuses, "qosClass": "BestEffort"}
        try:
            self.cluster.update_status(pod, manager="kubelet")
        except ApiError:
            return
        if spec.get("restartPolicy", "Always") != "Always":
            uid = pod["metadata"].get("uid")
            self.cluster.schedule(self._run_seconds(pod), lambda: self.complete(ns, name, uid),
                                  key=f"kubelet-run/{ns}/{name}")

    @staticmethod
    def _run_seconds(pod: dict) -> float:
        value = ((pod.get("metadata") or {}).get("annotations") or {}).get(RUN_SECONDS, DEFAULT_RUN_SECONDS)
        try:
            return max(0.0, float(value))
        except (TypeError, ValueError):
            return DEFAULT_RUN_SECONDS

    def complete(self, ns: str, name: str, uid: str) -> None:
        """A run-to-completion pod's containers exited 0: phase Succeeded."""
        pod = self.cluster.get("v1", "pods", ns, name)
        if pod is None or pod["metadata"].get("uid") != uid or pod["metadata"].get("deletionTimestamp"):
            return
        status = pod.get("status") or {}
        if status.get("phase") != "Running":
            return
        now = rfc3339(self.cluster.now())
        for cs in status.get("containerStatuses") or []:
            started = ((cs.get("state") or {}).get("running") or {}).get("startedAt", now)
            cs.update(ready=False, started=False, state={"terminated": {
                "exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": now,
                "containerID": cs.get("containerID")}})
        for cond in status.get("conditions") or []:
            if cond.get("type") in ("Ready", "ContainersReady"):
                cond.update(status="False", reason="PodCompleted", lastTransitionTime=now)
                cond.pop("message", None)
            elif cond.get("type") == "PodReadyToStartContainers":
                cond.update(status="False", lastTransitionTime=now)
        status["phase"] = "Succeeded"
        pod["status"] = status
        try:
            self.cluster.update_status(pod, manager="kubelet")
        except ApiError:
            pass
