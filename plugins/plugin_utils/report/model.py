# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Turn a fleet ``report.json`` document into the rows and warnings the renderers draw.

``report.json`` is assembled by the ``fleet_report`` filter (schema in docs/report.md).
The renderers never read that document directly: they read the view built here, so a
schema change touches this file only. The judgement of what deserves a warning
(expired, expiring within the threshold, root differs, istiod not reloaded, problems)
also lives here, once, so Markdown and HTML always agree.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration, rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError

# Default "expiring soon" threshold: cert-manager's renewBefore default of ca_setup (360h).
DEFAULT_EXPIRING_WITHIN = 360 * 3600

FAIL = "fail"
WARN = "warn"
OK = "ok"
_RANK = {OK: 0, WARN: 1, FAIL: 2}

# Where each field is in a cluster entry of report.json schema 1 (built by the fleet_report
# filter, documented in docs/report.md); first match wins. The Certificate's status times
# stand in when the cacerts Secret could not be read.
_FIELDS = {
    "subject": ("intermediate.subject",),
    "issuer": ("intermediate.issuer",),
    "serial": ("intermediate.serial_hex",),
    "not_before": ("intermediate.not_before", "certificate.not_before"),
    "not_after": ("intermediate.not_after", "certificate.not_after"),
    "seconds_remaining": ("intermediate.seconds_remaining",),
    "renewal_time": ("certificate.renewal_time",),
    "revision": ("certificate.revision",),
    "root_fingerprint": ("root.fingerprint_sha256",),
    "istiod_version": ("istiod.version",),
    "hot_reload": ("istiod.hot_reload",),
    "managed_by": ("istiod.managed_by",),
    "root_renewal_time": ("root_certificate.renewal_time",),
    "trust_source": ("trust.source",),
    "trust_ca_secret": ("trust.ca_secret",),
    "root_key": ("trust.root_key",),
    "issuing_ca_subject": ("trust.issuing_ca.subject",),
    "issuing_ca_serial": ("trust.issuing_ca.serial_hex",),
    "issuing_ca_not_after": ("trust.issuing_ca.not_after",),
    "reloaded": ("istiod.reloaded",),
    "root_consistent": ("istiod.root_consistent",),
    "last_reload": ("istiod.last_reload",),
    "problems": ("problems",),
    "reachable": ("reachable",),
    "unreachable_cause": ("unreachable_cause",),
    "checked_at": ("checked_at",),
}


class ReportDataError(CollectionError):
    """The report document cannot be read at all (not JSON, not a mapping, no cluster list)."""


def parse_time(value):
    """An aware UTC datetime from an RFC 3339 string (or a person's ISO date/time), or None when absent/unreadable."""
    return rfc3339.parse(value, lenient=True)


def iso(when):
    """``2025-01-02T03:04:05Z`` or an empty string."""
    return rfc3339.format(when) if when else ""


def human_duration(seconds):
    """Compact signed duration a person reads at a glance: ``29d 23h``, ``5h 3m``, ``-2d 4h``."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    rest = int(abs(seconds))
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = "%dd %dh" % (days, hours)
    elif hours:
        text = "%dh %dm" % (hours, minutes)
    elif minutes:
        text = "%dm %ds" % (minutes, secs)
    else:
        text = "%ds" % secs
    return sign + text


def threshold_seconds(value):
    """Seconds from seconds or a Go duration (common/go_duration.to_seconds: ``3600``, ``"3600"``, ``"1h"``), or None."""
    if value is None:
        return None
    try:
        return go_duration.to_seconds(value)
    except go_duration.GoDurationError as exc:
        raise ReportDataError("expiring_within: %s" % go_duration.explain(exc, value))


def short_fingerprint(fp):
    """``e2:bf:0e:d6…:14:10:d2``: both ends of a colon-separated fingerprint, which is how people compare them."""
    return fp if len(fp) <= 24 else fp[:11] + "\u2026" + fp[-9:]


def natural_key(name):
    """Sort ``cluster-2`` before ``cluster-10``."""
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", str(name))]


def _dig(obj, path):
    for part in path.split("."):
        if isinstance(obj, dict):
            if part not in obj:
                return None
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit():
            index = int(part)
            if index >= len(obj):
                return None
            obj = obj[index]
        else:
            return None
    return obj


def _field(entry, name):
    for path in _FIELDS[name]:
        value = _dig(entry, path)
        if value is not None and value != "":
            return value
    return None


def _text(value):
    """One line of text for any scalar/list/dict value (lists joined, dicts as key=value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value if v not in (None, ""))
    if isinstance(value, dict):
        return ", ".join("%s=%s" % (k, _text(v)) for k, v in sorted(value.items()) if v not in (None, ""))
    return " ".join(str(value).split())


def _evidence_text(value):
    """``last_reload`` may be a string or ``{time, pod, line}`` (istiod_reload_check evidence)."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if isinstance(value, dict):
        bits = [value.get("time") or value.get("timestamp"), value.get("pod"),
                value.get("line") or value.get("message") or value.get("source")]
        return " ".join(_text(b) for b in bits if b)
    return _text(value)


def _hot_reload_text(value):
    if isinstance(value, bool):
        return "enabled" if value else "disabled"
    return _text(value)


def _problem_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [_text(p) for p in value if _text(p)]
    return [_text(value)] if _text(value) else []


def load_report(report):
    """Accept the report as a dict or as JSON text; return the dict."""
    if isinstance(report, (str, bytes)):
        try:
            report = json.loads(report)
        except ValueError as exc:
            raise ReportDataError("the report is not valid JSON: %s" % exc)
    if not isinstance(report, dict):
        raise ReportDataError("the report must be a mapping (the content of report.json), got %s"
                              % type(report).__name__)
    clusters = report.get("clusters")
    if isinstance(clusters, dict):
        entries = []
        for name, entry in clusters.items():
            entry = dict(entry) if isinstance(entry, dict) else {"problems": [_text(entry)]}
            entry.setdefault("name", name)
            entries.append(entry)
    elif isinstance(clusters, list):
        entries = [e if isinstance(e, dict) else {"name": _text(e), "problems": ["no data"]} for e in clusters]
    else:
        raise ReportDataError('the report has no "clusters" list; is this the report.json written by report.yml?')
    report = dict(report)
    report["clusters"] = entries
    return report


def build_view(report, now=None, expiring_within=None, title=None):
    """The renderers' input: ``{title, now, threshold, fleet: {...}, rows: [...], warnings: [...]}``.

    ``now`` defaults to the report's ``generated_at`` so a cached report draws the same
    picture tomorrow; ``expiring_within`` defaults to the report's own threshold.
    """
    report = load_report(report)
    fleet_in = report.get("fleet") if isinstance(report.get("fleet"), dict) else {}
    settings = report.get("settings") if isinstance(report.get("settings"), dict) else {}
    moment = parse_time(now) if now is not None else None
    if now is not None and moment is None:
        raise ReportDataError('now: "%s" is not an ISO 8601 time such as 2030-01-01T00:00:00Z' % now)
    moment = moment or parse_time(report.get("generated_at")) or rfc3339.now()
    threshold = threshold_seconds(expiring_within)
    if threshold is None:
        threshold = threshold_seconds(settings.get("expiring_within_seconds", fleet_in.get("expiring_within_seconds")))
    if threshold is None:
        threshold = float(DEFAULT_EXPIRING_WITHIN)

    rows = [_row(entry, moment, threshold) for entry in report["clusters"]]
    rows.sort(key=lambda r: natural_key(r["name"]))
    reference_root = _mark_root_mismatch(rows, fleet_in)
    for row in rows:
        row["status"] = max((w["level"] for w in row["warnings"]), key=_RANK.get, default=OK)

    roots = sorted(set(r["root_fingerprint"] for r in rows if r["root_fingerprint"]))
    root_unknown = [r["name"] for r in rows if not r["root_fingerprint"]]
    fleet = {
        "cluster_count": len(rows),
        "ok": [r["name"] for r in rows if r["status"] == OK],
        "warn": [r["name"] for r in rows if r["status"] == WARN],
        "fail": [r["name"] for r in rows if r["status"] == FAIL],
        # unreachable + failing + warn + ok partition the fleet (what the summaries count).
        "failing": [r["name"] for r in rows if r["status"] == FAIL and r["reachable"] is not False],
        "unreachable": [r["name"] for r in rows if r["reachable"] is False],
        "expiring": [r["name"] for r in rows if any(w["code"] in ("expiring", "expired") for w in r["warnings"])],
        "root_mismatch": [r["name"] for r in rows if any(w["code"] == "root_mismatch" for w in r["warnings"])
                          or r["name"] in (fleet_in.get("root_differs") or [])],
        "root_consistent": _shared_root(fleet_in, roots, root_unknown),
        "root_unknown": root_unknown,
        "roots": _root_groups(rows, roots),
        "reference_root": reference_root,
    }
    # The fleet's lists are in name order; the rows problems first: unreachable, failing, warning
    # (expiring soon), then OK, by name within each.
    rows.sort(key=lambda r: (attention_rank(r), natural_key(r["name"])))
    warnings = []
    if fleet["unreachable"]:
        warnings.append({"level": FAIL, "code": "unreachable",
                         "text": "%d cluster(s) could not be read: %s" % (
                             len(fleet["unreachable"]), ", ".join(fleet["unreachable"]))})
    if fleet["root_consistent"] is not True:
        warnings.append({"level": FAIL, "code": "root_mismatch" if fleet["root_consistent"] is False else "root_unknown",
                         "text": _root_warning(fleet_in, roots, root_unknown, fleet["root_consistent"])})
    if fleet["expiring"]:
        warnings.append({"level": WARN, "code": "expiring",
                         "text": "%d cluster(s) expire within %s: %s" % (
                             len(fleet["expiring"]), human_duration(threshold), ", ".join(fleet["expiring"]))})
    if fleet["failing"]:
        warnings.append({"level": FAIL, "code": "failing",
                         "text": "%d cluster(s) failing checks: %s" % (len(fleet["failing"]), ", ".join(fleet["failing"]))})
    for text in _problem_list(fleet_in.get("problems")):
        warnings.append({"level": FAIL, "code": "fleet_problem", "text": text})
    return {
        "title": title or report.get("title") or "Istio CA fleet report",
        "now": moment,
        "generated_at": parse_time(report.get("generated_at")) or moment,
        "source": _text(report.get("source")),
        "schema_version": report.get("schema_version"),
        "threshold": threshold,
        "fleet": fleet,
        "warnings": warnings,
        "rows": rows,
    }


def attention_rank(row):
    """0 unreachable, 1 failing, 2 warning, 3 OK: the order a person should look at clusters in."""
    if row["reachable"] is False:
        return 0
    return {FAIL: 1, WARN: 2, OK: 3}[row["status"]]


def _shared_root(fleet_in, roots, root_unknown):
    """True, False, or None (unknown): never True while any cluster's root is unknown.

    report.json says it (``fleet.root_consistent``, null when unknown); a saved document of an older
    release said true over unreadable clusters, so unknown roots are counted here again.
    """
    if fleet_in.get("root_consistent") is False or len(roots) > 1:
        return False
    if root_unknown or fleet_in.get("root_unknown") or not roots:
        return None
    return True


def _root_groups(rows, roots):
    """``[(fingerprint, [cluster names])]``, most clusters first."""
    groups = dict((fp, [r["name"] for r in rows if r["root_fingerprint"] == fp]) for fp in roots)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


def _root_warning(fleet_in, roots, root_unknown, shared):
    """Why the fleet does not count as sharing one root, in one sentence."""
    reported = fleet_in.get("roots")
    count = len(reported) if isinstance(reported, dict) and reported else len(roots)
    unknown = [str(n) for n in fleet_in.get("root_unknown") or []]
    unknown += [n for n in root_unknown if n not in unknown]
    if count > 1:
        text = "The fleet does not share one root (%d distinct roots): a multi-cluster mesh breaks across them." % count
    elif shared is False:
        text = "The fleet is not known to share one root."
    else:
        text = "One shared root: unknown, because not every cluster's root could be read."
    if unknown:
        text += " Root unknown on: %s." % ", ".join(unknown)
    return text


def _row(entry, now, threshold):
    name = _text(entry.get("name") or entry.get("cluster") or entry.get("inventory_hostname")) or "(unnamed)"
    not_before = parse_time(_field(entry, "not_before"))
    not_after = parse_time(_field(entry, "not_after"))
    renewal = parse_time(_field(entry, "renewal_time"))
    if not_after:
        remaining = (not_after - now).total_seconds()
    else:
        remaining = _field(entry, "seconds_remaining")
        remaining = float(remaining) if isinstance(remaining, (int, float)) and not isinstance(remaining, bool) else None
    reloaded = _field(entry, "reloaded")
    root_consistent = _field(entry, "root_consistent")
    reachable = _field(entry, "reachable")
    row = {
        "name": name,
        "subject": _text(_field(entry, "subject")),
        "issuer": _text(_field(entry, "issuer")),
        "serial": _text(_field(entry, "serial")).lower(),
        "not_before": not_before,
        "not_after": not_after,
        "remaining": remaining,
        "renewal_time": renewal,
        "revision": _text(_field(entry, "revision")),
        "root_fingerprint": _text(_field(entry, "root_fingerprint")).lower(),
        "istiod_version": _text(_field(entry, "istiod_version")),
        "hot_reload": _hot_reload_text(_field(entry, "hot_reload")),
        "managed_by": _text(_field(entry, "managed_by")),
        "root_renewal_time": parse_time(_field(entry, "root_renewal_time")),
        # ca_setup's trust check (report.yml): trust source the cluster shows, where the root key lives, issuing CA.
        "trust_source": _text(_field(entry, "trust_source")),
        "trust_ca_secret": _text(_field(entry, "trust_ca_secret")),
        "root_key": _text(_field(entry, "root_key")),
        "issuing_ca_subject": _text(_field(entry, "issuing_ca_subject")),
        "issuing_ca_serial": _text(_field(entry, "issuing_ca_serial")).lower(),
        "issuing_ca_not_after": parse_time(_field(entry, "issuing_ca_not_after")),
        "reloaded": reloaded if isinstance(reloaded, bool) else None,
        "root_consistent": root_consistent if isinstance(root_consistent, bool) else None,
        "last_reload": _evidence_text(_field(entry, "last_reload")),
        "problems": _problem_list(_field(entry, "problems")),
        "reachable": reachable if isinstance(reachable, bool) else None,
        "unreachable_cause": _text(_field(entry, "unreachable_cause")),
        "checked_at": parse_time(_field(entry, "checked_at")),
        "warnings": [],
    }
    warn = row["warnings"]
    problems = row["problems"]
    if row["reachable"] is False:
        cause = row["unreachable_cause"] or "; ".join(problems) or "no read got an answer"
        warn.append({"level": FAIL, "code": "unreachable", "text": "unreachable: %s" % cause})
        # Its problems restate the cause; nothing else of it is known (no intermediate is not a finding).
        problems = [p for p in problems if cause not in p and not p.startswith("cannot read this cluster")]
    elif not not_after:
        warn.append({"level": FAIL, "code": "no_intermediate", "text": "no intermediate certificate found"})
    elif remaining is not None and remaining <= 0:
        warn.append({"level": FAIL, "code": "expired", "text": "intermediate expired %s ago" % human_duration(-remaining)})
    elif remaining is not None and remaining <= threshold:
        warn.append({"level": WARN, "code": "expiring",
                     "text": "expires in %s (within %s)" % (human_duration(remaining), human_duration(threshold))})
    if renewal and not_after and renewal <= now < not_after:
        warn.append({"level": WARN, "code": "renewal_overdue",
                     "text": "renewal time passed %s ago and no new intermediate yet" % human_duration((now - renewal).total_seconds())})
    if row["reloaded"] is False:
        warn.append({"level": FAIL, "code": "not_reloaded", "text": "istiod has not reloaded this intermediate"})
    if row["root_consistent"] is False and not any("istio-ca-root-cert" in p for p in row["problems"]):
        warn.append({"level": FAIL, "code": "root_inconsistent",
                     "text": "istio-ca-root-cert ConfigMaps do not match the cacerts root"})
    for problem in problems:
        warn.append({"level": FAIL, "code": "problem", "text": problem})
    return row


def _mark_root_mismatch(rows, fleet_in):
    """Flag clusters whose root differs from the fleet's most common root; return that root.

    When fleet_report already decided this (``fleet.root_differs``) its decision stands, and
    its problem sentence for the cluster says it; a flag is added only where that is missing.
    """
    if isinstance(fleet_in.get("root_differs"), list):
        differs = set(str(n) for n in fleet_in["root_differs"])
        for row in rows:
            if row["name"] in differs and not any("differs" in p and "root" in p for p in row["problems"]):
                row["warnings"].append({"level": FAIL, "code": "root_mismatch", "text": "root differs from the fleet's"})
        return _text(fleet_in.get("reference_root"))
    counts = {}
    for row in rows:
        if row["root_fingerprint"]:
            counts[row["root_fingerprint"]] = counts.get(row["root_fingerprint"], 0) + 1
    if not counts:
        return ""
    # Most clusters win; on a tie the first cluster in name order sets the reference.
    order = [r["root_fingerprint"] for r in rows if r["root_fingerprint"]]
    reference = max(counts, key=lambda fp: (counts[fp], -order.index(fp)))
    if len(counts) > 1:
        for row in rows:
            if row["root_fingerprint"] and row["root_fingerprint"] != reference:
                row["warnings"].append({"level": FAIL, "code": "root_mismatch",
                                        "text": "root differs from the fleet's (%s...)" % reference[:11]})
    return reference
