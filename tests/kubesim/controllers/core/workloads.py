"""Job, StatefulSet and DaemonSet controllers, reduced to what clients wait for.

- Job (pkg/controller/job/job_controller.go ``syncJob``): keeps up to ``parallelism`` Pods active
  until ``completions`` Pods have Succeeded (the kubelet runs them to completion, kubelet.py); status
  ``startTime``, ``active``, ``ready``, ``succeeded``, then the ``Complete`` condition and
  ``completionTime``. Pods carry the Job's template labels (controller-uid, job-name). Not
  modelled: failures and backoff, Indexed mode, suspend, the job-tracking finalizer.
- StatefulSet (pkg/controller/statefulset/stateful_set_control.go ``updateStatefulSet``): Pods
  ``<name>-0 … <name>-(N-1)``; with ``OrderedReady`` the next ordinal is created only when every
  lower one is Running and Ready, scale-down removes the highest first; ``Parallel`` creates them
  all. A template change replaces Pods from the highest ordinal down (RollingUpdate). Labels
  ``statefulset.kubernetes.io/pod-name``, ``apps.kubernetes.io/pod-index``, ``controller-revision-hash``;
  ``spec.hostname``/``subdomain`` from the ordinal and ``serviceName``. Not modelled: PVCs, partitions.
- DaemonSet (pkg/controller/daemon/daemon_controller.go ``manage``/``updateDaemonSetStatus``): one
  Pod per Node (kubesim has one), status ``desiredNumberScheduled``, ``currentNumberScheduled``,
  ``numberReady``, ``numberAvailable``, ``updatedNumberScheduled``, ``numberMisscheduled``.

Every Pod is created through admission (a missing ServiceAccount refuses it, admission.py).
"""

from __future__ import annotations

from ...util import deep_copy, rand_suffix
from .. import latency
from ..base import ApiError, Controller, rfc3339
from .deployment import _owned_by, _owner_ref, _pod_ready, template_hash
from .kubelet import NODE_NAME


def _active(pod: dict) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") not in (
        "Succeeded", "Failed")


def _new_pod(cluster, owner: dict, kind: str, name: str, labels: dict, spec: dict, annotations: dict):
    md = owner["metadata"]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": md["namespace"], "labels": labels,
                        "ownerReferences": [_owner_ref(owner, kind, "batch/v1" if kind == "Job" else "apps/v1")]},
           "spec": spec}
    if annotations:
        pod["metadata"]["annotations"] = annotations
    try:
        cluster.create(pod, manager="kube-controller-manager", admit=True)
    except ApiError:
        return None
    return cluster.peek("v1", "pods", md["namespace"], name)


def _write_status(cluster, api_version: str, plural: str, ns: str, name: str, status: dict) -> None:
    fresh = cluster.peek(api_version, plural, ns, name)
    if fresh is None or fresh.get("status") == status:
        return
    try:
        cluster.update_status(dict(fresh, status=status), manager="kube-controller-manager")
    except ApiError:
        pass


class _OwnerController(Controller):
    """Queues one owner kind on its own events and on its Pods' events."""

    kind = ""
    api_version = ""
    plural = ""

    def on_event(self, event_type, api_version, plural, obj, old):
        md = obj.get("metadata") or {}
        if plural == self.plural and api_version == self.api_version:
            if event_type != "DELETED":
                self._queue(md.get("namespace"), md["name"])
        elif plural == "pods" and api_version == "v1":
            for ref in md.get("ownerReferences") or []:
                if ref.get("kind") == self.kind:
                    self._queue(md.get("namespace"), ref.get("name"))

    def _queue(self, ns, name):
        self.cluster.schedule(latency.of(self.cluster).hop(latency.KUBE_CONTROLLER_MANAGER), lambda: self.reconcile(ns, name),
                              key=f"{self.name}/{ns}/{name}")

    def resync(self):
        for obj in self.cluster.list(self.api_version, self.plural):
            self.reconcile(obj["metadata"]["namespace"], obj["metadata"]["name"])

    def _live(self, ns, name):
        obj = self.cluster.peek(self.api_version, self.plural, ns, name)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return None
        return obj

    def _pods(self, obj):
        uid = obj["metadata"]["uid"]
        return [p for p in self.cluster.peek("v1", "pods", obj["metadata"]["namespace"]) if _owned_by(p, uid)]


class JobController(_OwnerController):
    name = "job"
    kind = "Job"
    api_version = "batch/v1"
    plural = "jobs"
    interests = frozenset({"jobs", "pods"})

    def reconcile(self, ns, name):
        c = self.cluster
        job = self._live(ns, name)
        if job is None:
            return
        spec = job.get("spec") or {}
        old = job.get("status") or {}
        if any(cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True"
               for cond in old.get("conditions") or []):
            return
        completions = spec.get("completions")
        parallelism = spec.get("parallelism", 1)
        pods = self._pods(job)
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        active = [p for p in pods if _active(p)]
        want = parallelism if completions is None else max(0, min(parallelism, completions - succeeded))
        if succeeded and completions is None:
            want = 0  # a work queue Job is done once one Pod succeeded
        template = spec.get("template") or {}
        while len(active) < want:
            spec_ = deep_copy(template.get("spec") or {})
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            created = _new_pod(c, job, "Job", f"{name}-{rand_suffix(5, c.rng)}", labels, spec_,
                               dict((template.get("metadata") or {}).get("annotations") or {}))
            if created is None:
                break
            active.append(created)
        now = rfc3339(c.now())
        status = {"startTime": old.get("startTime", now), "uncountedTerminatedPods": {}}
        if active:
            status["active"] = len(active)
        status["ready"] = sum(1 for p in active if _pod_ready(p))
        if succeeded:
            status["succeeded"] = succeeded
        status["terminating"] = sum(1 for p in pods if p["metadata"].get("deletionTimestamp"))
        done = succeeded >= completions if completions is not None else succeeded > 0 and not active
        if done:
            status["completionTime"] = now
            status["conditions"] = [{"type": "Complete", "status": "True", "lastProbeTime": now,
                                     "lastTransitionTime": now}]
        _write_status(c, "batch/v1", "jobs", ns, name, status)


class StatefulSetController(_OwnerController):
    name = "statefulset"
    kind = "StatefulSet"
    api_version = "apps/v1"
    plural = "statefulsets"
    interests = frozenset({"statefulsets", "pods"})

    def reconcile(self, ns, name):
        c = self.cluster
        sts = self._live(ns, name)
        if sts is None:
            return
        spec = sts.get("spec") or {}
        replicas = spec.get("replicas", 1)
        ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
        template = spec.get("template") or {}
        revision = f"{name}-{template_hash(template)}"
        by_ordinal = {}
        for p in self._pods(sts):
            try:
                by_ordinal[int(p["metadata"]["name"].rsplit("-", 1)[1])] = p
            except (IndexError, ValueError):
                continue
        # scale down: highest ordinal first, one at a time when ordered
        for ordinal in sorted((o for o in by_ordinal if o >= replicas), reverse=True):
            pod = by_ordinal[ordinal]
            if not pod["metadata"].get("deletionTimestamp"):
                c.delete("v1", "pods", ns, pod["metadata"]["name"])
            if ordered:
                break
        blocked = False
        for ordinal in range(replicas):
            pod = by_ordinal.get(ordinal)
            if pod is None:
                if blocked:
                    break
                labels = dict((template.get("metadata") or {}).get("labels") or {})
                labels.update({"statefulset.kubernetes.io/pod-name": f"{name}-{ordinal}",
                               "apps.kubernetes.io/pod-index": str(ordinal), "controller-revision-hash": revision})
                pspec = deep_copy(template.get("spec") or {})
                pspec["hostname"] = f"{name}-{ordinal}"
                if spec.get("serviceName"):
                    pspec["subdomain"] = spec["serviceName"]
                pspec.setdefault("nodeName", NODE_NAME)
                pod = _new_pod(c, sts, "StatefulSet", f"{name}-{ordinal}", labels, pspec,
                               dict((template.get("metadata") or {}).get("annotations") or {}))
                if pod is None:
                    break
                by_ordinal[ordinal] = pod
            if ordered and not _pod_ready(pod):
                blocked = True
        if not blocked:
            # RollingUpdate: replace the highest Pod of an older revision once all are Ready
            stale = [o for o in range(replicas - 1, -1, -1) if o in by_ordinal and (
                by_ordinal[o]["metadata"].get("labels") or {}).get("controller-revision-hash") != revision]
            if stale and (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
                pod = by_ordinal[stale[0]]
                if not pod["metadata"].get("deletionTimestamp"):
                    c.delete("v1", "pods", ns, pod["metadata"]["name"])
        live = [p for o, p in by_ordinal.items() if o < replicas and not p["metadata"].get("deletionTimestamp")]
        updated = [p for p in live if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision]
        ready = sum(1 for p in live if _pod_ready(p))
        old = sts.get("status") or {}
        current_rev = old.get("currentRevision") or revision
        if len(updated) == replicas:
            current_rev = revision
        status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(live),
                  "readyReplicas": ready, "currentReplicas": len(updated) if current_rev == revision
                  else len(live) - len(updated), "updatedReplicas": len(updated), "availableReplicas": ready,
                  "currentRevision": current_rev, "updateRevision": revision, "collisionCount": 0}
        for k in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[k]:
                del status[k]
        _write_status(c, "apps/v1", "statefulsets", ns, name, status)


class DaemonSetController(_OwnerController):
    name = "daemonset"
    kind = "DaemonSet"
    api_version = "apps/v1"
    plural = "daemonsets"
    interests = frozenset({"daemonsets", "pods", "nodes"})

    def on_event(self, event_type, api_version, plural, obj, old):
        if plural == "nodes":
            for ds in self.cluster.peek("apps/v1", "daemonsets"):
                self._queue(ds["metadata"]["namespace"], ds["metadata"]["name"])
            return
        super().on_event(event_type, api_version, plural, obj, old)

    def reconcile(self, ns, name):
        c = self.cluster
        ds = self._live(ns, name)
        if ds is None:
            return
        spec = ds.get("spec") or {}
        template = spec.get("template") or {}
        revision = template_hash(template)
        generation = str(ds["metadata"].get("generation", 1))
        nodes = sorted(n["metadata"]["name"] for n in c.peek("v1", "nodes")
                       if not n["metadata"].get("deletionTimestamp"))
        pods = [p for p in self._pods(ds) if not p["metadata"].get("deletionTimestamp")]
        on_node = {}
        for p in pods:
            on_node.setdefault((p.get("spec") or {}).get("nodeName"), []).append(p)
        for node in nodes:
            mine = on_node.get(node) or []
            stale = [p for p in mine if (p["metadata"].get("labels") or {}).get("controller-revision-hash") != revision]
            if stale and (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
                for p in stale:
                    c.delete("v1", "pods", ns, p["metadata"]["name"])
                mine = [p for p in mine if p not in stale]
            if mine:
                continue
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels.update({"controller-revision-hash": revision, "pod-template-generation": generation})
            pspec = deep_copy(template.get("spec") or {})
            pspec["nodeName"] = node
            # daemon/util.ReplaceDaemonSetPodNodeNameNodeAffinity: the Pod is pinned to its Node
            pspec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                                        "values": [node]}]}]}}}
            created = _new_pod(c, ds, "DaemonSet", f"{name}-{rand_suffix(5, c.rng)}", labels, pspec,
                               dict((template.get("metadata") or {}).get("annotations") or {}))
            if created is not None:
                on_node[node] = [created]
        scheduled = [p for n in nodes for p in on_node.get(n) or [] if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in scheduled if _pod_ready(p))
        updated = sum(1 for p in scheduled
                      if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision)
        status = {"currentNumberScheduled": len(scheduled), "desiredNumberScheduled": len(nodes),
                  "numberMisscheduled": 0, "numberReady": ready, "observedGeneration": ds["metadata"].get(
                      "generation", 1), "updatedNumberScheduled": updated, "numberAvailable": ready}
        if len(nodes) - ready:
            status["numberUnavailable"] = len(nodes) - ready
        for k in ("updatedNumberScheduled", "numberAvailable"):
            if not status[k]:
                del status[k]
        _write_status(c, "apps/v1", "daemonsets", ns, name, status)
