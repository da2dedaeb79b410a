# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Reading a Certificate's status: conditions, the manual-trigger condition, and the wait predicate.

Facts (docs/upstream/cert-manager.md#conditions, docs/upstream/cert-manager.md#manual-renew):
- Ready stays True during a scheduled renewal and during ``cmctl renew``; it goes False only for a
  spec-change re-issue. So "issued" means: status.revision above the revision before our change,
  no Issuing=True, and Ready=True with observedGeneration == metadata.generation.
- Failure: Issuing=False (reason from the CertificateRequest, usually Failed) until the backoff ends.
  With the SSA feature gate a success writes Issuing=False reason Issued instead of removing it.
- cmctl renew sets Issuing=True, reason ManuallyTriggered, message "Certificate re-issuance manually
  triggered", observedGeneration = generation, replacing only the Issuing entry (lastTransitionTime
  kept when the status does not change) and writes it with UpdateStatus (resourceVersion sent).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339

MANUAL_REASON = "ManuallyTriggered"
MANUAL_MESSAGE = "Certificate re-issuance manually triggered"

DONE, PENDING, FAILED = "done", "pending", "failed"


def status_of(obj):
    return (obj or {}).get("status") or {}


def conditions(obj):
    return list(status_of(obj).get("conditions") or [])


def condition(obj, ctype):
    for cond in conditions(obj):
        if cond.get("type") == ctype:
            return cond
    return None


def revision(obj):
    value = status_of(obj).get("revision")
    return int(value) if value is not None else None


def generation(obj):
    return ((obj or {}).get("metadata") or {}).get("generation")


def with_manual_trigger(obj, now):
    """A copy of ``obj`` whose status carries the cmctl-renew Issuing condition (other conditions kept)."""
    updated = copy.deepcopy(obj)
    status = updated.setdefault("status", {})
    conds = list(status.get("conditions") or [])
    new = {
        "type": "Issuing",
        "status": "True",
        "reason": MANUAL_REASON,
        "message": MANUAL_MESSAGE,
        "lastTransitionTime": rfc3339.format(now),  # metav1.Time: UTC, whole seconds
        "observedGeneration": generation(obj),
    }
    for i, cond in enumerate(conds):
        if cond.get("type") == "Issuing":
            if cond.get("status") == "True" and cond.get("lastTransitionTime"):
                new["lastTransitionTime"] = cond["lastTransitionTime"]
            conds[i] = new
            break
    else:
        conds.append(new)
    status["conditions"] = conds
    return updated


def _fingerprint(cond):
    if not cond:
        return None
    return tuple(cond.get(k) for k in ("status", "reason", "message", "lastTransitionTime"))


class Expectation(object):
    """What "finished" means for one module run.

    ``new_revision``: a new certificate is expected (status.revision must exceed ``baseline_revision``);
    otherwise Ready=True of the current generation is enough. ``stale_issuing`` is the Issuing
    condition seen before our change: an identical Issuing=False is an old failure, not ours.
    """

    def __init__(self, new_revision, baseline_revision=None, stale_issuing=None):
        self.new_revision = new_revision
        self.baseline_revision = baseline_revision or 0
        self.stale_issuing = _fingerprint(stale_issuing)

    def state(self, obj):
        """(DONE|PENDING|FAILED, Issuing-or-Ready condition explaining it)."""
        gen = generation(obj)
        ready = condition(obj, "Ready")
        issuing = condition(obj, "Issuing")
        if issuing and issuing.get("status") == "False" and issuing.get("reason") != "Issued" \
                and _fingerprint(issuing) != self.stale_issuing \
                and issuing.get("observedGeneration", gen) == gen:
            return FAILED, issuing
        ready_now = bool(ready and ready.get("status") == "True" and ready.get("observedGeneration") == gen)
        if not self.new_revision:
            return (DONE if ready_now else PENDING), ready
        issuing_active = bool(issuing and issuing.get("status") == "True")
        if (revision(obj) or 0) > self.baseline_revision and not issuing_active and ready_now:
            return DONE, ready
        return PENDING, issuing or ready
