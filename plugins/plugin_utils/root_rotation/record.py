# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The in-cluster record of a root rotation: the ConfigMap ``meshpki-root-rotation`` in istiod's namespace.

Why in the cluster: the phase each cluster reached must survive the controller (a crash, a Ctrl-C, another
operator's laptop), and travel with the cluster, so that the next run's ``phases.fleet_plan`` continues from where
the fleet is. The record holds the run id, the phase and whether it was verified, the fingerprints of the old and
new roots (which rotation this is), the times and one history line per step; never key material, never a
certificate (the old bundle's exact bytes are in ``cacerts`` and its backups).

Times are the cluster's (the API server's clock, read back from what it wrote), so a wait measured against them
(the workload-certificate TTL) is measured on the clock the workloads renew on.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import phases

RECORD_NAME = "meshpki-root-rotation"
MANAGED_BY = "meshpki.istio_ca"
_KEYS = ("run", "mode", "phase", "state", "new_root", "old_roots", "old_issuer", "started_at", "applied_at",
         "switched_at", "verified_at", "history")


class RecordError(ValueError):
    """A record that cannot be written as asked."""


def record_data(phase, state, run, new_root, old_roots, at, previous=None, mode="forward", old_issuer=None,
                switched_at=None):
    """The ConfigMap data after ``phase`` reached ``state`` at ``at`` (the cluster's time, RFC 3339).

    ``previous``: the cluster's record before (``describe``), whose start time, history and old issuer are kept;
    ``old_issuer``: the Certificate's issuerRef before the rotation (``kind/group/name``, for the abort);
    ``switched_at``: when istiod took the step (its success marker), for the workload barrier."""
    if phase not in phases.PHASES or phase == phases.NONE:
        raise RecordError("unknown phase %r (one of %s)" % (phase, ", ".join(phases.PHASES[1:])))
    if state not in (phases.APPLIED, phases.VERIFIED):
        raise RecordError("unknown state %r (applied or verified)" % (state,))
    if mode not in ("forward", "abort"):
        raise RecordError("unknown mode %r (forward or abort)" % (mode,))
    previous = previous or {}
    same = previous.get("new_root") == new_root and not phases.is_final(previous)
    history = list(previous.get("history") or []) if same else []
    history.append("%s %s %s %s" % (at, phase, state, run))
    applied_at = at if state == phases.APPLIED else (
        previous.get("applied_at") if same and previous.get("phase") == phase else at)
    data = {"run": run, "mode": mode, "phase": phase, "state": state, "new_root": new_root,
            "old_roots": ",".join(old_roots or []),
            "old_issuer": old_issuer or (previous.get("old_issuer") if same else None),
            "switched_at": switched_at if state == phases.VERIFIED else "",
            "started_at": (previous.get("started_at") if same else None) or at,
            "applied_at": applied_at or at, "verified_at": at if state == phases.VERIFIED else "",
            "history": "\n".join(history)}
    return dict((k, "" if data[k] is None else str(data[k])) for k in _KEYS)


def configmap(data, namespace="istio-system"):
    """The ConfigMap that holds a record."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": RECORD_NAME, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": MANAGED_BY}},
            "data": dict(data or {})}


def describe(data):
    """A record's ConfigMap data -> the record (``history`` a list, ``old_roots`` a list); None when empty."""
    data = data or {}
    if not isinstance(data, dict) or not data.get("phase"):
        return None
    out = dict((k, data.get(k) or None) for k in _KEYS)
    out["old_roots"] = [f for f in (data.get("old_roots") or "").split(",") if f]
    out["history"] = [line for line in (data.get("history") or "").splitlines() if line.strip()]
    return out


def from_k8s_info(result):
    """The record in a ``k8s_info`` result of the ConfigMap (None when there is none)."""
    resources = (result or {}).get("resources") if isinstance(result, dict) else None
    if not resources:
        return None
    return describe((resources[0] or {}).get("data") or {})
