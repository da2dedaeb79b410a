# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Saved fleet statuses: the name each rotation run saves its clusters' status under, and the merge of
several saved statuses into one fleet report (``report.yml -e report_from=<dir or files>``).

Why: AWX job slicing runs rotate.yml as several jobs at once, each on its own share of the inventory
(AWX ``Inventory.get_script_data``: ``hosts[offset::slice_count]``). Each job saves the status of its own
clusters; a name made of the run id and the host set (``status_file_name``) keeps two of them from ever
writing one file, even into one directory. The merge (``merged_fleet_report``) reads every saved status
given, keeps the newest entry per cluster (by its ``checked_at``), shows where statuses of one cluster
disagree, and gives each inventory cluster no file reported a problem that says so.

Controller-only; served as filters by plugins/filter/saved_status.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import hashlib
import json
import os

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import (
    SCHEMA_VERSION, DEFAULT_EXPIRING_WITHIN, cluster_status, fleet_report)

# What rotate.yml's summary step writes (status_file_name); a directory given to report_from is searched for these.
STATUS_FILE_PATTERN = "fleet-status*.json"


def status_file_name(hosts, run):
    """``fleet-status-<run id>-<8 hex digits of the host set>.json``: distinct for every run and every slice.

    The run id (rotation_run_id: start second and 4 random hex digits) tells runs apart; the digest of the
    sorted host names tells apart slices of one launch, whose host sets never overlap.
    """
    hosts = sorted(str(h) for h in (_plain(hosts) or []))
    if not hosts:
        raise AnsibleFilterError("status_file_name needs the hosts whose status the file holds")
    digest = hashlib.sha256("\n".join(hosts).encode("utf-8")).hexdigest()[:8]
    return "fleet-status-%s-%s.json" % (str(run or "run").strip() or "run", digest)


def saved_status_paths(report_from):
    """The files ``report_from`` names: a path or a list of them (or one comma-separated string); a directory
    stands for every ``fleet-status*.json`` under it, at any depth (AWX: one directory per slice job)."""
    given = _plain(report_from)
    if isinstance(given, str):
        given = given.split(",")
    if not isinstance(given, list):
        raise AnsibleFilterError("report_from must be a path or a list of paths (files or directories), not %r" % (given,))
    paths = []
    for item in given:
        item = str(item or "").strip()
        if not item:
            continue
        path = os.path.realpath(os.path.expanduser(item))
        if os.path.isdir(path):
            found = sorted(p for p in glob.glob(os.path.join(path, "**", STATUS_FILE_PATTERN), recursive=True)
                           if os.path.isfile(p))
            if not found:
                raise AnsibleFilterError("report_from: the directory %s holds no %s (the saved status rotate.yml writes "
                                         "into report_dir)" % (path, STATUS_FILE_PATTERN))
            paths.extend(found)
        elif os.path.isfile(path):
            paths.append(path)
        else:
            raise AnsibleFilterError("report_from: %s does not exist" % path)
    if not paths:
        raise AnsibleFilterError("report_from names no file")
    unique = []
    for path in paths:
        if path not in unique:
            unique.append(path)
    return unique


def _load(path):
    try:
        with open(path, "rb") as handle:
            document = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise AnsibleFilterError("report_from: cannot read %s as JSON: %s" % (path, exc))
    if not isinstance(document, dict) or document.get("schema_version") != SCHEMA_VERSION \
            or not isinstance(document.get("clusters"), list):
        raise AnsibleFilterError("%s is not a fleet status document of schema_version %d (a report.json from "
                                 "report.yml or the fleet-status*.json rotate.yml writes)" % (path, SCHEMA_VERSION))
    return document


def _state(entry):
    """What two saved statuses of one cluster must agree on unless the cluster changed between them."""
    return ((entry.get("intermediate") or {}).get("serial_hex"), (entry.get("root") or {}).get("fingerprint_sha256"),
            bool(entry.get("ok")))


def _when(entry):
    moment = rfc3339.parse(entry.get("checked_at"), lenient=True) if isinstance(entry.get("checked_at"), str) else None
    return moment.timestamp() if moment else float("-inf")


def _brief(path, entry):
    serial, root, ok = _state(entry)
    return {"file": path, "checked_at": entry.get("checked_at"), "serial_hex": serial, "root_fingerprint_sha256": root,
            "ok": ok}


def merge_saved_statuses(documents, hosts):
    """``{clusters, conflicts, not_reported}`` from ``[(path, document), ...]`` for the clusters ``hosts``.

    Per cluster the newest entry wins (``checked_at``; on a tie the file given later). Entries of one cluster
    that disagree (serial, root or verdict) are a conflict: listed with the entry kept and those it superseded
    (the cluster changed between the runs, or two jobs covered it). A host no document holds gets an entry whose
    problem says so: its status is unknown, not healthy. Clusters of the documents outside ``hosts`` are left out.
    """
    hosts = [str(h) for h in (_plain(hosts) or [])]
    seen = {}
    for order, (path, document) in enumerate(documents):
        for entry in document.get("clusters") or []:
            if isinstance(entry, dict) and entry.get("name"):
                seen.setdefault(entry["name"], []).append((_when(entry), order, path, entry))
    clusters, conflicts, not_reported = [], [], []
    where = ", ".join(path for path, _doc in documents)
    for host in hosts:
        found = sorted(seen.get(host) or [], key=lambda item: (item[0], item[1]))
        if not found:
            text = ("no saved status for this cluster in %s; run report.yml without report_from to read it live, "
                    "or rotate it" % where)
            entry = cluster_status(host, errors=[text])
            # Not contacted: whether it is reachable is unknown (null), its status is a problem.
            entry.update(reachable=None, unreachable_cause=None, problems=[text])
            clusters.append(entry)
            not_reported.append(host)
            continue
        _when_kept, _order, path, kept = found[-1]
        entry = dict(kept, saved_from={"file": path, "checked_at": kept.get("checked_at")})
        clusters.append(entry)
        differing = [_brief(p, e) for _w, _o, p, e in found[:-1] if _state(e) != _state(kept)]
        if differing:
            conflicts.append({"cluster": host, "kept": _brief(path, kept), "superseded": differing})
    return {"clusters": clusters, "conflicts": conflicts, "not_reported": not_reported}


def _source(paths, conflicts):
    if len(paths) == 1:
        text = "saved: %s" % paths[0]
    else:
        text = "saved: %d statuses merged, newest per cluster (%s)" % (len(paths), ", ".join(paths))
    if conflicts:
        text += "; conflicting statuses of %s (the newest kept; report.json saved_statuses.conflicts)" % ", ".join(
            c["cluster"] for c in conflicts)
    return text


def merged_fleet_report(report_from, hosts, expiring_within=DEFAULT_EXPIRING_WITHIN):
    """The report.json document (schema 1) of ``hosts`` from the saved statuses ``report_from`` names, with
    ``saved_statuses``: ``{files, conflicts, not_reported}`` (the merge, for whoever reads the report)."""
    paths = saved_status_paths(report_from)
    documents = [(path, _load(path)) for path in paths]
    merged = merge_saved_statuses(documents, hosts)
    report = fleet_report(merged["clusters"], expiring_within=expiring_within,
                          source=_source(paths, merged["conflicts"]))
    report["saved_statuses"] = {"files": paths, "conflicts": merged["conflicts"],
                                "not_reported": merged["not_reported"]}
    return report
