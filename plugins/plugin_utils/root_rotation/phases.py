# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The steps of a fleet root rotation, in order, and what each cluster does next (controller-only).

Why a model: a rerun after a crash, a Ctrl-C or an unreachable cluster must continue from where the fleet is,
never repeat a step wrongly and never skip one, and the barrier (no cluster starts step N+1 before every cluster
finished step N) must hold across runs. Each cluster's record (``record.py``) says which step it reached and
whether it was verified; ``fleet_plan`` turns the records of the whole fleet into the steps still to run and, per
step, which clusters apply it, which only verify it again and which already have it.

Every step is a state of ``cacerts``: which intermediate signs (the old one, or a new one under the new root) and
which root bundle istiod serves (old, old+new, new). The forward path is Istio's own
(tests/integration/security/cacert_rotation in istio/istio):

- ``combined``: old intermediate, bundle old+new (istiod logs ``Updating new ROOT-CA``, PCDS pushes the bundle);
- ``new_intermediate``: a new intermediate under the new root, bundle still old+new;
- ``new_only``: bundle new only, ``cacerts`` handed back to cert-manager (the end).

The abort path (before ``new_only`` only: after it, workloads no longer trust the old root):
``abort_old_intermediate`` (old intermediate again, bundle old+new; only for clusters that reached
``new_intermediate``) then ``aborted`` (the old bundle alone, back to cert-manager).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

NONE = "none"
COMBINED = "combined"
NEW_INTERMEDIATE = "new_intermediate"
NEW_ONLY = "new_only"
ABORT_OLD_INTERMEDIATE = "abort_old_intermediate"
ABORTED = "aborted"

APPLIED = "applied"
VERIFIED = "verified"

FORWARD = (COMBINED, NEW_INTERMEDIATE, NEW_ONLY)
ABORT = (ABORT_OLD_INTERMEDIATE, ABORTED)
PHASES = (NONE,) + FORWARD + ABORT
FINAL = (NEW_ONLY, ABORTED)

# What cacerts holds in each phase: the signing intermediate and the root bundle.
STATE = {
    NONE: ("old", "old"),
    COMBINED: ("old", "combined"),
    NEW_INTERMEDIATE: ("new", "combined"),
    NEW_ONLY: ("new", "new"),
    ABORT_OLD_INTERMEDIATE: ("old", "combined"),
    ABORTED: ("old", "old"),
}

# Steps that change the root bundle istiod serves (istiod logs "Updating new ROOT-CA" for these).
CHANGES_BUNDLE = {COMBINED: True, NEW_INTERMEDIATE: False, NEW_ONLY: True, ABORT_OLD_INTERMEDIATE: False,
                  ABORTED: True}
# Steps that hand cacerts back to cert-manager (the kubernetes.io/tls Secret the Certificate renews).
HANDS_BACK = (NEW_ONLY, ABORTED)

# Transitions (step done -> next step) that need, first, every workload of every cluster to hold a leaf issued
# after the step done took effect. Before new_intermediate: such a leaf came with the combined bundle in its CSR
# response, so the workload trusts the new root (agents without PCDS learn it no other way) and it can verify
# leaves under the new intermediate. Before new_only / aborted: such a leaf is under the intermediate that stays,
# so no workload is left with a leaf its peers are about to stop trusting.
NEEDS_WORKLOADS = {(COMBINED, NEW_INTERMEDIATE): "trust the new root",
                   (NEW_INTERMEDIATE, NEW_ONLY): "hold a leaf under the new intermediate",
                   (ABORT_OLD_INTERMEDIATE, ABORTED): "hold a leaf under the old intermediate again"}

# Where each step's intermediate comes from: step 1 keeps the intermediate cacerts holds; every later step takes
# what cert-manager issued into the staging Secret (after the issuerRef change ISSUER names, if any).
SOURCE = {COMBINED: "cacerts", NEW_INTERMEDIATE: "staging", NEW_ONLY: "staging", ABORT_OLD_INTERMEDIATE: "staging",
          ABORTED: "staging"}
ISSUER = {NEW_INTERMEDIATE: "new", ABORT_OLD_INTERMEDIATE: "old"}


def step_facts(step):
    """What the role does in ``step``: where the intermediate comes from, which issuer the Certificate must use
    first (new, old or none), whether the Certificate moves to the staging Secret (step 1) or back (the last step),
    and whether istiod logs a root update for it."""
    if step not in SOURCE:
        raise PhaseError("unknown step %r (one of %s)" % (step, ", ".join(SOURCE)))
    return {"step": step, "source": SOURCE[step], "issuer": ISSUER.get(step), "to_staging": step == COMBINED,
            "hands_back": step in HANDS_BACK, "changes_bundle": CHANGES_BUNDLE[step],
            "intermediate": STATE[step][0], "bundle": STATE[step][1]}


# Rank of each recorded phase on each path (how far along the path that cluster's cacerts is).
_FORWARD_RANK = {NONE: 0, COMBINED: 1, NEW_INTERMEDIATE: 2, NEW_ONLY: 3}
# On the abort path a cluster still in ``combined`` (or never started) is already in the state the abort step
# would bring it to, so it ranks with it: only clusters that reached the new intermediate go through
# ``abort_old_intermediate``.
_ABORT_STEPS = (NEW_INTERMEDIATE, ABORT_OLD_INTERMEDIATE, ABORTED)
_ABORT_RANK = {NEW_INTERMEDIATE: 0, COMBINED: 1, ABORT_OLD_INTERMEDIATE: 1, ABORTED: 2, NONE: 2}


class PhaseError(ValueError):
    """Records that no plan can continue from (with what to do)."""


def _position(record):
    """(phase, state) of one cluster's record (None: the cluster never started)."""
    if not record or not record.get("phase"):
        return NONE, VERIFIED
    phase, state = record.get("phase"), record.get("state") or APPLIED
    if phase not in PHASES:
        raise PhaseError("unknown phase %r in the record (one of %s)" % (phase, ", ".join(PHASES)))
    if state not in (APPLIED, VERIFIED):
        raise PhaseError("unknown state %r in the record (applied or verified)" % (state,))
    return phase, state


def _path(abort):
    return (_ABORT_STEPS, _ABORT_RANK) if abort else ((NONE,) + FORWARD, _FORWARD_RANK)


def fleet_plan(records, abort=False, new_root=None):
    """The steps the fleet still has to go through, from every cluster's record.

    ``records``: {cluster: record or None} (``record.describe``); ``new_root``: the fingerprint of the root this
    run rotates to (a finished record of another rotation counts as no record; an unfinished one is a problem).
    Returns ``{"mode", "steps", "positions",
    "problems"}``; ``steps`` is a list of ``{"step", "clusters": {cluster: "apply" | "resume" | "done"}}``
    ("resume": the step was written by a run that did not verify it: written again — the same bytes — and
    verified), in order, so that running them one after the other with a barrier between two keeps the fleet
    within one step of itself. Problems make the plan empty: nothing may change.
    """
    steps, rank = _path(abort)
    positions, problems = {}, []
    for cluster in sorted(records or {}):
        record = (records or {}).get(cluster)
        try:
            position = _position(record)
        except PhaseError as exc:
            problems.append("%s: %s" % (cluster, exc))
            continue
        other = new_root and record and record.get("new_root") and record.get("new_root") != new_root
        if position == (ABORTED, VERIFIED) and not abort or other and position[0] in FINAL + (NONE,) \
                and position[1] == VERIFIED:
            position = (NONE, VERIFIED)  # a finished rotation: this run starts afresh
        elif other:
            problems.append("%s: a rotation to another root (%s) is in phase %s (%s) there: finish or abort it "
                            "with that root first" % (cluster, record.get("new_root"), position[0], position[1]))
            continue
        positions[cluster] = position
    if problems:
        return {"mode": "abort" if abort else "forward", "steps": [], "positions": {}, "problems": problems}
    for cluster, (phase, state) in sorted(positions.items()):
        if phase not in rank:
            problems.append(_off_path(cluster, phase, state, abort))
    if not positions:
        problems.append("no cluster to rotate")
    if problems:
        return {"mode": "abort" if abort else "forward", "steps": [], "positions": _plain(positions),
                "problems": problems}
    # How far each cluster has *verified*: an applied-but-unverified step counts as the one before it. An abort
    # leaves a forward step anyway, so there a forward step counts as reached, verified or not (an abort never
    # writes the new intermediate again to verify it).
    verified = dict((c, rank[p] if s == VERIFIED or (abort and p in FORWARD) else rank[p] - 1)
                    for c, (p, s) in positions.items())
    floor = min(verified.values())
    for cluster, (phase, state) in sorted(positions.items()):
        if rank[phase] > floor + 1:
            problems.append("%s: recorded in %s while another cluster has not verified %s: the fleet is more than "
                            "one step apart, which no run of this playbook leaves; restore that cluster from its "
                            "backup (restore.yml) or rerun with the cluster's record corrected"
                            % (cluster, phase, steps[floor + 1]))
    if problems:
        return {"mode": "abort" if abort else "forward", "steps": [], "positions": _plain(positions),
                "problems": problems}
    todo = []
    for index in range(max(floor, 0) + 1, len(steps)):
        step = steps[index]
        clusters = {}
        for cluster, (phase, state) in sorted(positions.items()):
            if verified[cluster] >= index:
                clusters[cluster] = "done"
            elif rank[phase] == index:
                clusters[cluster] = "resume"  # applied, not verified
            else:
                clusters[cluster] = "apply"
        todo.append({"step": step, "clusters": clusters})
    return {"mode": "abort" if abort else "forward", "steps": todo, "positions": _plain(positions),
            "problems": []}


def _off_path(cluster, phase, state, abort):
    if abort and phase == NEW_ONLY:
        return ("%s: step new_only (the new root alone) has %s there, so workloads no longer trust the old root: "
                "the rotation can no longer be aborted; finish it (rerun without root_rotation_abort)"
                % (cluster, state))
    if not abort and phase in ABORT:
        return ("%s: an abort is in progress (%s, %s): finish it first (rerun with -e root_rotation_abort=true)"
                % (cluster, phase, state))
    return "%s: phase %s is not on the %s path" % (cluster, phase, "abort" if abort else "forward")


def _plain(positions):
    return dict((c, {"phase": p, "state": s}) for c, (p, s) in positions.items())


def is_final(record):
    """Whether a cluster's record ends a rotation (new_only or aborted, verified)."""
    phase, state = _position(record)
    return phase in FINAL and state == VERIFIED
