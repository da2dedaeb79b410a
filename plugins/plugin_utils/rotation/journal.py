# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""What each cluster went through in a rotation, recorded as it happens (controller-only).

Why: a run cut short (SIGINT, a lost controller) used to leave no trace, and the next run called a
cluster it had already rotated "unchanged -> ?". Each step of a cluster's change now writes one
record, in two places:

- on the controller, one JSON line per cluster step in ``<journal dir>/<run id>.jsonl``;
- in the cluster, the ConfigMap ``meshpki-istio-ca-rotation`` in istiod's namespace (no key material:
  run id, step, times, serials, revision), overwritten at each step, so it travels with the cluster.

The next run's preflight reads the ConfigMap (``rotation_previous_run``): a record whose step is not
terminal was left by a run that did not finish; once the preflight has verified the cluster now, the
plan, the summary and the saved status say so.

Served as filters by plugins/filter/rotation_journal.py; documented in ``<filter name>.yml`` there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import datetime
import os

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain

RECORD_NAME = "meshpki-istio-ca-rotation"
# In order. "verified" and "failed" end a cluster's change; any other step means the run stopped in it.
STEPS = ("started", "applied", "verified", "failed")
TERMINAL = ("verified", "failed")
_KEYS = ("run", "cluster", "step", "at", "started_at", "old_serial", "new_serial", "revision", "error",
         "verified_by", "verified_at")


def _iso(when=None):
    return rfc3339.format(when or rfc3339.now())


def rotation_run_id(when=None):
    """A run id: the UTC start time and 4 random hex digits (two runs in one second differ)."""
    moment = when if isinstance(when, datetime.datetime) else rfc3339.now()
    moment = moment.astimezone(datetime.timezone.utc)
    return "%s-%s" % (moment.strftime("%Y%m%dT%H%M%SZ"), binascii.hexlify(os.urandom(2)).decode("ascii"))


def rotation_record(step, plan, run, cluster, new_serial=None, revision=None, error=None, started_at=None,
                    previous=None, at=None):
    """One record: the JSON line of the journal and the ConfigMap's data (every value a string)."""
    plan = _plain(plan) or {}
    if step not in STEPS:
        raise AnsibleFilterError("rotation_record: unknown step %r (one of %s)" % (step, ", ".join(STEPS)))
    if not isinstance(plan, dict):
        raise AnsibleFilterError("rotation_record expects the cluster's plan (ca_rotation_plan)")
    now = at or _iso()
    record = {"run": run, "cluster": cluster, "step": step, "at": now, "started_at": started_at or now,
              "old_serial": plan.get("old_serial"), "new_serial": new_serial,
              "revision": revision if revision is not None else plan.get("revision"),
              "error": error, "verified_by": None, "verified_at": None}
    previous = _plain(previous) or {}
    if previous:
        # The acknowledgement of an unfinished record: the same rotation, now verified by this run.
        record.update((k, previous.get(k)) for k in ("run", "started_at", "old_serial", "new_serial", "revision"))
        record.update(step="verified", verified_by=run, verified_at=now, at=previous.get("at"))
    return dict((k, "" if record[k] is None else str(record[k])) for k in _KEYS)


def rotation_record_configmap(record, namespace):
    """The ConfigMap that holds ``record`` in the cluster."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": RECORD_NAME, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "meshpki.istio_ca"}},
            "data": dict(_plain(record) or {})}


def describe_record(record):
    """A record as written (strings) -> the record with ``finished`` (its step is terminal) and
    ``acknowledged`` (a later run verified it); None when it is no record."""
    record = _plain(record) or {}
    if not isinstance(record, dict):
        return None
    data = dict((k, record.get(k) or None) for k in _KEYS)
    if not data.get("run"):
        return None
    data["finished"] = data.get("step") in TERMINAL
    data["acknowledged"] = bool(data.get("verified_by"))
    return data


def rotation_previous_run(configmap):
    """The record a previous run left in the cluster, from a ``kubernetes.core.k8s_info`` result of the
    ConfigMap (None when there is none, or it could not be read)."""
    configmap = _plain(configmap) or {}
    resources = configmap.get("resources") if isinstance(configmap, dict) else None
    if not resources:
        return None
    return describe_record((resources[0] or {}).get("data") or {})


def previous_run_note(previous, verified):
    """One sentence about an unfinished previous run, or None: what the summary and status say."""
    if not previous or previous.get("finished"):
        return None
    what = "rotated" if previous.get("step") in ("applied",) else "left in step %s" % previous.get("step")
    serials = ""
    if previous.get("old_serial") or previous.get("new_serial"):
        serials = " (serial %s -> %s)" % (previous.get("old_serial") or "?", previous.get("new_serial") or "?")
    return "%s at %s by run %s that did not finish%s; %s" % (
        what, previous.get("at"), previous.get("run"), serials,
        "verified now" if verified else "NOT verified now: see the problems")
