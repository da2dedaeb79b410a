# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Markdown rendering of the fleet CA report (report.md).

The same picture as report.html, in the same order: the counts (unreachable, failing,
warning and OK partition the fleet), what needs attention by name, the roots in full, then
one table row per cluster, problems first. Every value
from the report is escaped: cluster names, subjects and istiod log lines come from
clusters and must not be able to break the table or inject markup when the file is
shown by a Markdown viewer.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.model import (
    FAIL, OK, WARN, build_view, human_duration, iso, short_fingerprint)

_LEVEL_MARK = {OK: "OK", WARN: "WARN", FAIL: "FAIL"}
# Inside a table cell only these change meaning (line-start markers such as # or - do not apply).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_escape(value):
    """Make any text safe inside a Markdown table cell: one line, no markup, no HTML."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _cell(value):
    return md_escape(value) if value not in (None, "") else "\u2014"


def _status(row):
    if row["reachable"] is False:
        return "**UNREACHABLE**"
    return "**%s**" % _LEVEL_MARK[row["status"]] if row["status"] != OK else _LEVEL_MARK[OK]


def _shared_root(value):
    return {True: "yes", False: "**NO**", None: "**unknown**"}[value]


def _reloaded(row):
    return {True: "yes", False: "NO", None: ""}[row["reloaded"]]


def _issuing_ca(row):
    """``subject, serial ..., until ...`` of the cluster's issuing CA (offline_root), or nothing."""
    if not row["issuing_ca_subject"]:
        return ""
    return "%s, serial %s, until %s" % (row["issuing_ca_subject"], row["issuing_ca_serial"],
                                        iso(row["issuing_ca_not_after"]))


# (heading, cell) in reading order: what needs attention first, details to the right.
_COLUMNS = (
    ("Cluster", lambda r: _cell(r["name"])),
    ("Status", _status),
    ("Warnings", lambda r: "<br>".join(md_escape(w["text"]) for w in r["warnings"]) or "\u2014"),
    ("Time left", lambda r: _cell(human_duration(r["remaining"]))),
    ("Not after", lambda r: _cell(iso(r["not_after"]))),
    ("Renewal", lambda r: _cell(iso(r["renewal_time"]))),
    ("Serial", lambda r: _cell(r["serial"])),
    ("Rev", lambda r: _cell(r["revision"])),
    ("Reloaded", lambda r: _cell(_reloaded(r))),
    ("Hot reload", lambda r: _cell(r["hot_reload"])),
    ("istiod", lambda r: _cell(r["istiod_version"])),
    ("Managed by", lambda r: _cell(r["managed_by"])),
    ("Root renewal", lambda r: _cell(iso(r["root_renewal_time"]))),
    ("Trust source", lambda r: _cell(r["trust_source"])),
    ("Root key", lambda r: _cell(r["root_key"])),
    ("Issuing CA", lambda r: _cell(_issuing_ca(r))),
    ("Root (SHA-256)", lambda r: _cell(short_fingerprint(r["root_fingerprint"]))),
    ("Not before", lambda r: _cell(iso(r["not_before"]))),
    ("Intermediate subject", lambda r: _cell(r["subject"])),
    ("Issuer", lambda r: _cell(r["issuer"])),
    ("Last reload", lambda r: _cell(r["last_reload"])),
)


def render_markdown(report, now=None, expiring_within=None, title=None):
    """Return report.md as text (see report_model.build_view for the arguments)."""
    view = build_view(report, now=now, expiring_within=expiring_within, title=title)
    fleet = view["fleet"]
    out = ["# " + md_escape(view["title"]), ""]
    out.append("Generated %s%s. Threshold for *expiring*: %s." % (
        md_escape(iso(view["generated_at"])),
        " from %s data" % md_escape(view["source"]) if view["source"] else "",
        md_escape(human_duration(view["threshold"]))))
    out.append("")
    out.append("| Clusters | Unreachable | Failing | Warning | OK | Expiring | One shared root |")
    out.append("|---:|---:|---:|---:|---:|---:|:---:|")
    out.append("| %d | %d | %d | %d | %d | %d | %s |" % (
        fleet["cluster_count"], len(fleet["unreachable"]), len(fleet["failing"]), len(fleet["warn"]),
        len(fleet["ok"]), len(fleet["expiring"]), _shared_root(fleet["root_consistent"])))
    out.append("")
    out.append("Root%s: %s." % ("s" if len(fleet["roots"]) > 1 else "", "; ".join(
        "`%s` (%d)" % (fp, len(names)) for fp, names in fleet["roots"]) or "none could be read"))
    out.append("")
    if view["warnings"]:
        out.append("## Fleet warnings")
        out.append("")
        for warning in view["warnings"]:
            out.append("- **%s** %s" % (_LEVEL_MARK[warning["level"]], md_escape(warning["text"])))
        out.append("")
    out.append("## Clusters")
    out.append("")
    out.append("| " + " | ".join(c[0] for c in _COLUMNS) + " |")
    out.append("|" + "---|" * len(_COLUMNS))
    for row in view["rows"]:
        out.append("| " + " | ".join(column[1](row) for column in _COLUMNS) + " |")
    out.append("")
    return "\n".join(out)
