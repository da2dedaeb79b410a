"""A kubelet stand-in: scheduled pods start at once (Running, Ready) on node ``kubesim-node``.

Pods annotated ``kubesim.io/never-ready: "true"`` run but never become Ready.
"""

from __future__ import annotations

import hashlib

from ..base import ApiError, Controller, rfc3339

NEVER_READY = "kubesim.io/never-ready"
NODE_NAME = "kubesim-node"


def never_ready(obj: dict) -> bool:
    return str(((obj.get("metadata") or {}).get("annotations") or {}).get(NEVER_READY, "")).lower() == "true"


class Kubelet(Controller):
    name = "kubelet"
    interests = frozenset({"pods"})

    def __init__(self):
        self._ip = 0

    def on_event(self, event_type, api_version, plural, obj, old):
        if plural != "pods" or api_version != "v1" or event_type == "DELETED":
            return
        if (obj.get("status") or {}).get("phase", "Pending") == "Pending" and not obj["metadata"].get(
                "deletionTimestamp"):
            ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
            self.cluster.schedule(0, lambda: self.start(ns, name), key=f"kubelet/{ns}/{name}")

    def resync(self):
        for pod in self.cluster.list("v1", "pods"):
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
            pass
