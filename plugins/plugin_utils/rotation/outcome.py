# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""What one rotation did, per cluster and for the fleet (controller-only).

- ``rotation_result``: one cluster's ``ca_rotation_result`` fact (a row of the fleet summary) from its
  plan, its ``cluster_status`` entry as of the end of the run (the entry fleet-status.json saves, so
  the summary and the saved status read one fact) and what the change step registered.
- ``rotation_summary``: the per-cluster table rotate.yml ends with, from every cluster's
  ``ca_rotation_result`` fact, including clusters a stopped run never reached.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain

_STATUSES = ("rotated", "unchanged", "checked", "failed", "interrupted", "not_attempted")


def _failure_message(host, row):
    where = [w for w in (row["backup"].get("cluster"), row["backup"].get("controller")) if w]
    saved = ("Its previous cacerts is backed up as %s (playbooks/restore.yml restores it)." % " and ".join(where)
             if where else "No backup was needed: nothing had been changed on it yet.")
    return ('Rotation failed on cluster %s in step "%s": %s. %s Later batches do not run when max_fail_percentage '
            "is exceeded; see the summary above." % (host, row["failed_step"], row["error"], saved))


def rotation_result(plan, status=None, apply=None, backup_controller=None, started_at=None,
                    started_ts=None, check_mode=False, failed_step=None, error=None, host=None):
    """``ca_rotation_result`` for one cluster (see rotation_result.yml for the keys)."""
    plan = _plain(plan) or {}
    status = _plain(status) or {}
    apply = _plain(apply) or {}
    if not isinstance(plan, dict) or not isinstance(status, dict) or not isinstance(apply, dict):
        raise AnsibleFilterError("rotation_result expects the plan, a cluster_status entry and the registered "
                                 "certificate result")
    backup = apply.get("backup") if isinstance(apply.get("backup"), dict) else {}
    new = status.get("intermediate") or {}
    cert = status.get("certificate") or {}
    old_serial = backup.get("serial") or plan.get("old_serial")
    finished = rfc3339.now()
    seconds = None
    if started_ts not in (None, ""):
        seconds = round(finished.timestamp() - float(started_ts), 1)
    if error:
        status_word = "failed"
    elif boolean(check_mode, strict=False):
        status_word = "checked"
    elif not plan.get("will_change") or not new.get("serial_hex"):
        status_word = "unchanged"
    else:
        status_word = "rotated" if new.get("serial_hex") != old_serial else "unchanged"
    row = {
        "status": status_word,
        "old_serial": old_serial,
        "new_serial": new.get("serial_hex") if not error else None,
        "not_after": new.get("not_after") if not error else None,
        "old_not_after": plan.get("old_not_after"),
        "duration": cert.get("duration"),
        "renew_before": cert.get("renew_before"),
        "revision": cert.get("revision", apply.get("revision", plan.get("revision"))),
        "reissue": apply.get("reissue", plan.get("reissue")),
        "spec_changed": bool(apply.get("changed")) if "reissue" in apply else False,
        "reloaded": (status.get("istiod") or {}).get("reloaded"),
        "root_fingerprint": plan.get("root_fingerprint"),
        "backup": {"cluster": ("%s/%s" % (backup.get("namespace"), backup.get("name"))) if backup.get("name") else None,
                   "controller": backup_controller or None},
        "previous_run": plan.get("previous_run_note"),
        "run": plan.get("run"),
        "started_at": started_at,
        "finished_at": rfc3339.format(finished),
        "seconds": seconds,
        "error": str(error) if error else None,
        "failed_step": failed_step if error else None,
    }
    if error:
        row["message"] = _failure_message(host or "this cluster", row)
    return row


def rotation_preflight_result(plan, status=None, check_mode=False):
    """The ``ca_rotation_result`` the preflight already knows: a cluster with nothing to change and no
    problem is ``unchanged`` (or ``checked``) now; for any other it is ``{}`` (the change step writes it)."""
    plan = _plain(plan) or {}
    if not isinstance(plan, dict):
        raise AnsibleFilterError("rotation_preflight_result expects the plan")
    if plan.get("will_change") or plan.get("problems"):
        return {}
    return rotation_result(plan, status=status, check_mode=check_mode)


def rotation_summary(results, hosts, plan=None, check_mode=False, generated_at=None):
    """``{clusters, counts, ok, lines, request, run, check_mode, generated_at}`` for every host of the
    rotation, in ``hosts`` order; ``request`` and ``run`` are the plan's (every host's plan holds the
    same request)."""
    results = _plain(results)
    hosts = _plain(hosts)
    results = {} if results is None else results
    hosts = [] if hosts is None else hosts
    if not isinstance(results, dict) or not isinstance(hosts, list):
        raise AnsibleFilterError("rotation_summary expects a mapping of cluster -> ca_rotation_result and a host list")
    rows = []
    for host in hosts:
        res = results.get(host)
        if not isinstance(res, dict) or not res:
            rows.append({"cluster": host, "status": "not_attempted", "old_serial": None, "new_serial": None,
                         "not_after": None, "reloaded": None, "backup": None, "seconds": None, "error": None,
                         "previous_run": None})
            continue
        row = dict(res)
        row["cluster"] = host
        if row.get("status") not in _STATUSES:
            row["status"] = "failed" if row.get("error") else "not_attempted"
        rows.append(row)
    counts = dict((s, sum(1 for r in rows if r["status"] == s)) for s in _STATUSES)
    lines = []
    for row in rows:
        serials = "%s -> %s" % (row.get("old_serial") or "?", row.get("new_serial") or "?")
        if row["status"] == "not_attempted":
            text = "not attempted (an earlier batch failed or the run stopped)"
        elif row["status"] == "interrupted":
            text = "INTERRUPTED: the run stopped during its change; check it with report.yml"
        elif row["status"] == "failed":
            text = "FAILED in %s: %s" % (row.get("failed_step") or "rotation", row.get("error"))
        else:
            text = "%s  expires %s  istiod reloaded: %s" % (
                serials, row.get("not_after") or "?", {True: "yes", False: "NO"}.get(row.get("reloaded"), "n/a"))
        if row.get("previous_run"):
            text += "; %s" % row["previous_run"]
        lines.append("%-16s %-9s %s" % (row["cluster"], row["status"], text))
    plan = _plain(plan) or {}
    return {
        "generated_at": generated_at or rfc3339.format(rfc3339.now()),
        "check_mode": boolean(check_mode, strict=False),
        "run": plan.get("run"),
        "request": dict((k, (plan.get("request") or {}).get(k)) for k in ("duration", "renew_before", "force")),
        "clusters": rows,
        "counts": counts,
        "ok": counts["failed"] == 0 and counts["not_attempted"] == 0 and counts["interrupted"] == 0,
        "lines": lines,
    }
