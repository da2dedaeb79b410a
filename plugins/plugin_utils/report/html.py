# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Self-contained HTML page of the fleet CA report (report.html).

The page must open anywhere (an air-gapped jump host, an attachment in a ticket), so
everything is inline: CSS, the SVG timeline, no scripts, no fonts or images fetched.
A Content-Security-Policy of ``default-src 'none'`` makes the browser refuse any fetch
even if some value slipped through unescaped; every value is escaped anyway.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from html import escape

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.model import (
    FAIL, OK, WARN, build_view, human_duration, iso)
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.svg import render_timeline

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

_LEVEL_TEXT = {OK: "OK", WARN: "warning", FAIL: "failing"}

_CSS = """
:root { --ok:#1b7f3b; --warn:#b26b00; --fail:#c62828; --ink:#1d2329; --mute:#5b6670; --line:#d9dee3; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 28px 40px; color: var(--ink); background: #f6f7f9;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px; }
.meta { color: var(--mute); margin: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 18px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 120px; }
.card b { display: block; font-size: 24px; line-height: 1.2; }
.card.warn b { color: var(--warn); } .card.fail b { color: var(--fail); } .card.ok b { color: var(--ok); }
.alerts { list-style: none; padding: 0; margin: 16px 0 0; }
.alerts li { padding: 8px 12px; border-radius: 6px; margin-bottom: 6px; border-left: 5px solid; background: #fff; }
.alerts li.warn { border-color: var(--warn); background: #fff6e5; }
.alerts li.fail { border-color: var(--fail); background: #fdecea; }
.alerts li.ok { border-color: var(--ok); background: #eaf6ee; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px; }
figcaption { color: var(--mute); font-size: 12px; margin-top: 6px; }
.legend span { display: inline-block; margin-right: 14px; }
.sw { display: inline-block; width: 14px; height: 9px; border-radius: 2px; vertical-align: middle; margin-right: 4px; }
.sw-valid { background: #a5d6b3; } .sw-warn { background: #ffd699; } .sw-fail { background: #f5b7b1; }
.sw-window { background: #fff1d6; }
svg.timeline { display: block; font-size: 11px; }
svg .label { fill: var(--ink); } svg .tick { fill: var(--mute); }
svg .grid { stroke: #e6e9ec; stroke-width: 1; }
svg .stripe { fill: #1d2329; opacity: .035; }
svg .window { fill: #fff1d6; }
svg .now { stroke: #3949ab; stroke-width: 1.5; stroke-dasharray: 4 3; } svg .now-label { fill: #3949ab; }
svg .bar { fill: #a5d6b3; stroke: var(--ok); }
svg .used { fill: var(--ok); opacity: .55; }
svg .status-warn .bar { fill: #ffd699; stroke: var(--warn); } svg .status-warn .used { fill: var(--warn); }
svg .status-fail .bar { fill: #f5b7b1; stroke: var(--fail); } svg .status-fail .used { fill: var(--fail); }
svg .status-warn .label { fill: var(--warn); font-weight: 600; }
svg .status-fail .label { fill: var(--fail); font-weight: 600; }
svg .renewal { fill: #263238; } svg .missing { fill: var(--fail); font-style: italic; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f4; position: sticky; top: 0; white-space: nowrap; }
td.mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 11.5px; }
td.nowrap { white-space: nowrap; }
td.wide { min-width: 190px; } td.evidence { min-width: 240px; max-width: 340px; font-size: 11.5px; color: var(--mute); }
tbody th { background: transparent; position: static; }
tr.status-warn { background: #fffaf0; } tr.status-fail { background: #fff4f3; }
tr.status-warn td:first-child { box-shadow: inset 4px 0 var(--warn); }
tr.status-fail td:first-child { box-shadow: inset 4px 0 var(--fail); }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 11px; font-weight: 600;
  color: #fff; margin: 1px 2px 1px 0; white-space: nowrap; }
.badge.ok { background: var(--ok); } .badge.warn { background: var(--warn); } .badge.fail { background: var(--fail); }
.issue { display: block; color: var(--fail); } .issue.warn { color: var(--warn); } .issue + .issue { margin-top: 4px; }
.no { color: var(--fail); font-weight: 600; }
footer { color: var(--mute); font-size: 12px; margin-top: 24px; }
"""


def _esc(value):
    return escape(str(value), quote=True)


def _td(value, cls="", title=None):
    text = _esc(value) if value not in (None, "") else "&#8212;"
    attrs = ' class="%s"' % cls if cls else ""
    if title:
        attrs += ' title="%s"' % _esc(title)
    return "<td%s>%s</td>" % (attrs, text)


def _issues_td(row):
    issues = "".join('<span class="issue %s">%s</span>' % (w["level"], _esc(w["text"])) for w in row["warnings"])
    return '<td class="wide">%s</td>' % (issues or "&#8212;")


def _cards(view):
    fleet = view["fleet"]
    cards = [
        ("", fleet["cluster_count"], "clusters"),
        ("ok", len(fleet["ok"]), "OK"),
        ("warn" if fleet["warn"] else "", len(fleet["warn"]), "warnings"),
        ("fail" if fleet["fail"] else "", len(fleet["fail"]), "failing"),
        ("warn" if fleet["expiring"] else "", len(fleet["expiring"]), "expiring within %s" % human_duration(view["threshold"])),
        ("ok" if fleet["root_consistent"] else "fail", "yes" if fleet["root_consistent"] else "NO", "one shared root"),
    ]
    return "".join('<div class="card %s"><b>%s</b>%s</div>' % (cls, _esc(value), _esc(label))
                   for cls, value, label in cards)


def _alerts(view):
    items = view["warnings"] or [{"level": OK, "text": "All clusters pass every check."}]
    return "".join('<li class="%s">%s</li>' % (w["level"], _esc(w["text"])) for w in items)


def _fp_td(row):
    fp = row["root_fingerprint"]
    return _td(fp[:23] + "\u2026" if len(fp) > 24 else fp, "mono", title=fp)


def _reloaded_td(row):
    return "<td>%s</td>" % {True: "yes", False: '<span class="no">NO</span>', None: "&#8212;"}[row["reloaded"]]


# (heading, cell) in reading order: what needs attention first, details to the right.
_COLUMNS = (
    ("Status", lambda r: '<td><span class="badge %s">%s</span></td>' % (r["status"], _esc(_LEVEL_TEXT[r["status"]]))),
    ("Warnings", _issues_td),
    ("Time left", lambda r: _td(human_duration(r["remaining"]), "nowrap")),
    ("Not after", lambda r: _td(iso(r["not_after"]), "nowrap")),
    ("Renewal", lambda r: _td(iso(r["renewal_time"]), "nowrap")),
    ("Serial", lambda r: _td(r["serial"], "mono")),
    ("Rev", lambda r: _td(r["revision"])),
    ("Reloaded", _reloaded_td),
    ("Hot reload", lambda r: _td(r["hot_reload"])),
    ("istiod", lambda r: _td(r["istiod_version"])),
    ("Root SHA-256", _fp_td),
    ("Not before", lambda r: _td(iso(r["not_before"]), "nowrap")),
    ("Intermediate subject", lambda r: _td(r["subject"], "wide")),
    ("Issuer", lambda r: _td(r["issuer"], "wide")),
    ("Last reload evidence", lambda r: _td(r["last_reload"], "evidence")),
)


def _cluster_row(row):
    cells = ['<th scope="row">%s</th>' % _esc(row["name"])] + [column[1](row) for column in _COLUMNS]
    return '<tr class="cluster status-%s" data-cluster="%s">%s</tr>' % (row["status"], _esc(row["name"]), "".join(cells))


def render_html(report, now=None, expiring_within=None, title=None):
    """Return report.html as text (see report_model.build_view for the arguments)."""
    view = build_view(report, now=now, expiring_within=expiring_within, title=title)
    meta = "Generated %s" % iso(view["generated_at"])
    if view["source"]:
        meta += " from %s data" % view["source"]
    meta += " \u00b7 %d clusters \u00b7 expiring threshold %s" % (
        view["fleet"]["cluster_count"], human_duration(view["threshold"]))
    if view["schema_version"] is not None:
        meta += " \u00b7 report schema %s" % view["schema_version"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="%s">' % _esc(CSP),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        "<title>%s</title>" % _esc(view["title"]),
        "<style>%s</style></head>" % _CSS,
        '<body data-clusters="%d">' % view["fleet"]["cluster_count"],
        "<header><h1>%s</h1><p class=\"meta\">%s</p></header>" % (_esc(view["title"]), _esc(meta)),
        '<section class="cards" aria-label="Fleet summary">%s</section>' % _cards(view),
        '<ul class="alerts" aria-label="Fleet warnings">%s</ul>' % _alerts(view),
        "<section><h2>Validity timeline</h2><figure>",
        render_timeline(view),
        '<figcaption class="legend"><span><i class="sw sw-valid"></i>valid</span>'
        '<span><i class="sw sw-warn"></i>warning</span>'
        '<span><i class="sw sw-fail"></i>failing</span>'
        '<span><i class="sw sw-window"></i>expiring window</span>'
        "<span>&#9670; renewal time</span><span>dashed line: now</span>"
        "<span>darker part: time already used</span></figcaption>",
        "</figure></section>",
        '<section><h2>Clusters</h2><div class="table-wrap"><table id="clusters"><thead><tr>%s</tr></thead><tbody>'
        % "".join('<th scope="col">%s</th>' % _esc(h) for h in ("Cluster",) + tuple(c[0] for c in _COLUMNS)),
    ]
    parts.extend(_cluster_row(row) for row in view["rows"])
    parts.append("</tbody></table></div></section>")
    parts.append("<footer>meshpki.istio_ca report &#183; read-only snapshot; times in UTC.</footer>")
    parts.append("</body></html>")
    return "\n".join(parts)
