# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Whether a cluster finished a step, and whether the fleet may start the next one (controller-only).

Why these proofs (docs/root-rotation.md, "What each step proves"):

- ``cacerts`` holds the step's bundle, and every namespace's ``istio-ca-root-cert`` ConfigMap holds the same bytes:
  istiod writes the root file's bytes there only after it accepted the change (docs/upstream/istiod.md#root-configmap),
  so the ConfigMaps are istiod's own statement of the trust it distributes;
- every istiod pod logged, after the step was written, ``Updating new ROOT-CA`` (for a step that changes the bundle)
  and the success marker, and no refusal (pilot/pkg/bootstrap/istio_ca.go ``handleEvent``;
  docs/upstream/istiod.md#reload-steps);
- before a step that stops trusting an intermediate's root (``new_only``, ``aborted``): every workload holds a leaf
  under the intermediate that stays. A leaf's issuer is not readable through the Kubernetes API (Envoy's admin port
  15000, which ``istioctl proxy-config secret`` reads, listens on localhost and needs a port-forward); what is
  readable is pilot-agent's status port 15020 through ``pods/proxy``, whose ``istio_agent_cert_expiry_seconds`` gives
  the leaf's expiry, hence when it was issued (expiry - workload cert TTL). A leaf issued after istiod switched to
  the intermediate is signed by it (istiod signs with the one CA it holds: security/pkg/server/ca/server.go
  ``CreateCertificate``). Where nothing is readable, every leaf is renewed within one TTL of the switch (the agent
  renews at half the lifetime: security/pkg/nodeagent/cache/secretcache.go ``rotateTime``), so the barrier waits
  that long, or a restart of the workloads makes it immediate.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import logs as istiod_logs
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.istio.multiroot import is_sidecar_pod
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import phases

# A leaf counts when its computed issue time is this many seconds after the switch: the gauge is rounded to
# seconds, and a leaf issued at the very moment of the switch is counted as pending (re-checked later) rather
# than risked.
_SLACK = 1.0
_REFUSALS = (istiod_logs.ROOT_REFUSED, istiod_logs.ROOT_REFUSED_MULTIROOT_OFF, istiod_logs.UPDATE_FAILED,
             istiod_logs.ROOT_READ_FAILED, istiod_logs.DNS_CERT_FAILED, istiod_logs.FORMAT_UNKNOWN)


def _time(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value
    parsed = rfc3339.parse(str(value))
    if parsed is None:
        raise ValueError("not an RFC 3339 time: %r" % (value,))
    return parsed


def istiod_evidence(step, pod_logs, since):
    """Per istiod pod, what its log says since ``since`` about the step (``pod_logs``: {pod: log text with kubelet
    timestamps}). ``done`` when every pod logged what the step needs and none refused; ``problems`` say why not;
    ``settled`` when waiting longer cannot change the verdict (done, or a pod refused the step)."""
    if step not in phases.CHANGES_BUNDLE:
        raise ValueError("unknown step %r" % (step,))
    since_t = _time(since)
    needs_root = phases.CHANGES_BUNDLE[step]
    pods, problems = {}, []
    if not pod_logs:
        problems.append("no istiod pod log to read")
    for pod in sorted(pod_logs or {}):
        events = istiod_logs.since_filter(istiod_logs.parse_log(pod_logs[pod]), since_t)
        root_at = next((e for e in events if e.kind == istiod_logs.ROOT_UPDATE), None)
        after = [e for e in events if root_at is None or e.when is None or e.when >= root_at.when]
        marker = next((e for e in after if e.kind == istiod_logs.RELOAD_DONE), None)
        # Only the last reload counts for a refusal: while a Secret is deleted and created (a type change), istiod
        # may log a failed read of the missing files before the reload that takes the new ones.
        starts = [i for i, e in enumerate(events) if e.kind == istiod_logs.RELOAD_START]
        last = events[starts[-1]:] if starts else events
        refused = next((e for e in last if e.kind in _REFUSALS), None)
        entry = {"root_update": root_at.short() if root_at else None, "marker": marker.short() if marker else None,
                 "refused": refused.short() if refused else None,
                 "marker_at": rfc3339.format(marker.when, fraction=True) if marker and marker.when else None}
        pods[pod] = entry
        if refused:
            problems.append("%s refused the step: %s" % (pod, refused.message))
        elif needs_root and root_at is None:
            problems.append("%s has not logged 'Updating new ROOT-CA' yet" % pod)
        elif marker is None:
            problems.append("%s has not logged the success marker yet" % pod)
    markers = [p["marker_at"] for p in pods.values() if p.get("marker_at")]
    return {"pods": pods, "done": not problems, "problems": problems,
            "settled": not problems or any(p["refused"] for p in pods.values()),
            "switched_at": max(markers) if markers and not problems else None}


def bundle_evidence(expected, cacerts_bundle, configmaps):
    """Whether ``cacerts`` and every namespace's ``istio-ca-root-cert`` hold ``expected`` byte for byte.

    ``configmaps``: the ConfigMap objects (any namespaces). Returns ``{"cacerts", "namespaces", "mismatched",
    "done"}``."""
    expected = expected.encode("utf-8") if isinstance(expected, str) else (expected or b"")
    current = cacerts_bundle.encode("utf-8") if isinstance(cacerts_bundle, str) else (cacerts_bundle or b"")
    mismatched = []
    for cm in configmaps or []:
        value = ((cm.get("data") or {}).get("root-cert.pem") or "").encode("utf-8")
        if value != expected:
            mismatched.append((cm.get("metadata") or {}).get("namespace") or "?")
    return {"cacerts": current == expected, "namespaces": len(configmaps or []), "mismatched": sorted(mismatched),
            "done": current == expected and bool(configmaps) and not mismatched}


def workload_readings(pods, gauges=None, namespace="istio-system"):
    """The workload readings ``workload_evidence`` takes, from pod objects: every sidecar pod (the multi-root
    readiness rule of what a sidecar is) outside istiod's namespace, not being deleted, with its creationTimestamp
    and, when ``gauges`` ({"ns/pod": seconds}) has it, pilot-agent's certificate expiry gauge."""
    out = []
    for pod in pods or []:
        md = pod.get("metadata") or {}
        if md.get("namespace") == namespace or md.get("deletionTimestamp") or not is_sidecar_pod(pod):
            continue
        key = "%s/%s" % (md.get("namespace"), md.get("name"))
        out.append({"pod": key, "created": md.get("creationTimestamp"),
                    "expiry_seconds": (gauges or {}).get(key)})
    return sorted(out, key=lambda w: w["pod"])


def workload_evidence(workloads, switched_at, now, ttl, restarted_at=None):
    """Whether every workload holds a leaf issued under the intermediate istiod switched to at ``switched_at``.

    ``workloads``: ``[{"pod": "ns/name", "created": RFC 3339, "expiry_seconds": float or None}]`` (the pod's
    creationTimestamp and pilot-agent's ``istio_agent_cert_expiry_seconds``), read at ``now`` (the cluster's time);
    ``ttl``: the workload certificate TTL in seconds (``SECRET_TTL``, 24 h by default). A workload counts when its
    pod started after the switch (or the restart), or its leaf was issued after it (expiry - ttl). Without a gauge
    it counts once one TTL has passed since the switch. Returns ``{"ready", "pending", "wait_seconds", "basis"}``."""
    switched = _time(switched_at)
    now_t = _time(now)
    restarted = _time(restarted_at)
    if switched is None or now_t is None:
        raise ValueError("workload_evidence needs the switch time and the cluster's current time")
    ttl = float(ttl)
    deadline = switched + datetime.timedelta(seconds=ttl)
    pending, basis, waits = [], {}, []
    for w in workloads or []:
        pod = w.get("pod") or "?"
        created = _time(w.get("created"))
        expiry = w.get("expiry_seconds")
        if created is not None and created >= max(switched, restarted or switched):
            basis[pod] = "started after the switch"
            continue
        if expiry is not None:
            issued = now_t + datetime.timedelta(seconds=float(expiry) - ttl)
            if issued >= switched + datetime.timedelta(seconds=_SLACK):
                basis[pod] = "leaf issued %s, after the switch" % rfc3339.format(issued)
                continue
            # the agent renews at half the lifetime (rotateTime, ±1 % jitter from 1.24)
            renew_at = issued + datetime.timedelta(seconds=ttl * 0.51)
            waits.append(max((renew_at - now_t).total_seconds(), 0.0))
            basis[pod] = "leaf issued %s, before the switch" % rfc3339.format(issued)
        elif now_t >= deadline:
            basis[pod] = "one workload certificate TTL has passed since the switch"
            continue
        else:
            waits.append((deadline - now_t).total_seconds())
            basis[pod] = "no certificate gauge: waits one TTL after the switch"
        pending.append(pod)
    return {"ready": not pending, "pending": sorted(pending), "wait_seconds": max(waits) if waits else 0.0,
            "basis": basis}


def fleet_barrier(clusters, step, next_step=None):
    """Whether the fleet may start ``next_step`` after ``step``: ``clusters`` is {cluster: {"bundle":
    bundle_evidence, "istiod": istiod_evidence, "workloads": workload_evidence or None}} of ``step``. Returns
    ``{"open", "waiting": {cluster: [reasons]}, "workloads_needed"}``; the barrier opens only when every cluster is
    done and, where the transition needs it (phases.NEEDS_WORKLOADS), every workload holds a leaf issued after
    ``step`` took effect."""
    waiting = {}
    needs = phases.NEEDS_WORKLOADS.get((step, next_step))
    for cluster in sorted(clusters or {}):
        ev = clusters[cluster] or {}
        reasons = []
        bundle = ev.get("bundle") or {}
        if not bundle.get("done"):
            if not bundle.get("cacerts"):
                reasons.append("cacerts does not hold the step's bundle")
            if bundle.get("mismatched"):
                reasons.append("istio-ca-root-cert differs in %s" % ", ".join(bundle["mismatched"]))
            if not bundle.get("namespaces"):
                reasons.append("no istio-ca-root-cert ConfigMap was read")
        reasons += list((ev.get("istiod") or {"problems": ["istiod not checked"]}).get("problems") or [])
        if needs:
            work = ev.get("workloads")
            if work is None:
                reasons.append("workload leaves not checked")
            elif not work.get("ready"):
                reasons.append("%d workload(s) do not yet %s (their leaf predates %s; renewed within %ds, or "
                               "restart them with root_rotation_restart_workloads=true): %s"
                               % (len(work["pending"]), needs, step, int(work.get("wait_seconds") or 0),
                                  ", ".join(work["pending"][:5])))
        if reasons:
            waiting[cluster] = reasons
    return {"open": not waiting and bool(clusters), "waiting": waiting, "workloads_needed": needs}
