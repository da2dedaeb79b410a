# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Self-contained HTML page of the fleet CA report (report.html), laid out for 200+ clusters.

The page must open anywhere (an air-gapped jump host, an attachment in a ticket), so
everything is inline: CSS, the SVG timeline, one small script; no fonts or images fetched.
A Content-Security-Policy of ``default-src 'none'`` makes the browser refuse any fetch even
if some value slipped through unescaped (every value is escaped anyway); the one script runs
because the policy names its SHA-256 (``script-src 'sha256-...'``, CSP Level 2 hash source),
so no inline handler or injected ``<script>`` can run. A hash rather than a nonce: the page is a
static file, and a nonce written once into a file is no secret.

What a person needs first is on the first screen: the counts, then every cluster that needs
attention by name (unreachable, failing, expiring, root mismatch; "+N more" filters the table
to the rest), then one compact line per cluster, problems first. Sorting, filtering and the
details of a cluster are on demand (the script); without the script every detail row shows.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
from html import escape

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.model import (
    FAIL, OK, WARN, attention_rank, build_view, human_duration, iso)
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.svg import render_timeline

_LEVEL_TEXT = {OK: "OK", WARN: "warning", FAIL: "failing"}
_RANK = {OK: 0, WARN: 1, FAIL: 2}
# Width budget (px at 13px type) of the names listed per attention line before "+N more": two lines.
NAME_BUDGET_PX = 2300

_SCRIPT = r"""
(function () {
  'use strict';
  var table = document.getElementById('clusters');
  if (!table) { return; }
  var body = table.tBodies[0], text = document.getElementById('filter'),
      kind = document.getElementById('kind'), shown = document.getElementById('shown');
  function rows() { return Array.prototype.slice.call(body.querySelectorAll('tr.cluster')); }
  function detail(row) { return document.getElementById('d-' + row.id.slice(2)); }
  function apply() {
    var q = text.value.trim().toLowerCase(), k = kind.value, n = 0, all = rows();
    all.forEach(function (r) {
      var hit = (!q || r.getAttribute('data-search').indexOf(q) >= 0) &&
                (!k || (' ' + r.getAttribute('data-kinds') + ' ').indexOf(' ' + k + ' ') >= 0);
      r.hidden = !hit; if (hit) { n += 1; }
      var d = detail(r); d.hidden = !hit || r.getAttribute('aria-expanded') !== 'true';
    });
    shown.textContent = n + ' of ' + all.length + ' clusters shown';
    document.body.setAttribute('data-shown', String(n));
  }
  function sortBy(th) {
    var col = th.cellIndex, num = th.getAttribute('data-type') === 'num',
        dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
    var all = rows(), keyed = all.map(function (r, i) {
      var c = r.cells[col], v = c.hasAttribute('data-v') ? c.getAttribute('data-v') : c.textContent;
      return {r: r, i: i, v: num ? (v === '' ? Infinity : parseFloat(v)) : v.toLowerCase()};
    });
    keyed.sort(function (a, b) {
      if (a.v < b.v) { return -dir; } if (a.v > b.v) { return dir; } return a.i - b.i;
    });
    keyed.forEach(function (k) { body.appendChild(k.r); body.appendChild(detail(k.r)); });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    var b = th.querySelector('button'); if (b) { b.addEventListener('click', function () { sortBy(th); }); }
  });
  body.addEventListener('click', function (e) {
    var fp = e.target.closest('code.fp');
    if (fp) { window.getSelection().selectAllChildren(fp); return; }
    var b = e.target.closest('button.more-info'); if (!b) { return; }
    var r = b.closest('tr'), open = r.getAttribute('aria-expanded') !== 'true';
    r.setAttribute('aria-expanded', String(open)); b.setAttribute('aria-expanded', String(open));
    b.textContent = open ? '\u25be' : '\u25b8'; detail(r).hidden = !open;
  });
  document.addEventListener('click', function (e) {
    var f = e.target.closest('[data-show]'); if (!f) { return; }
    e.preventDefault(); kind.value = f.getAttribute('data-show'); text.value = ''; apply();
    table.scrollIntoView();
  });
  text.addEventListener('input', apply); kind.addEventListener('change', apply);
  document.documentElement.classList.add('js');
  apply();
})();
"""

SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-%s'; img-src data:; "
       "base-uri 'none'; form-action 'none'" % SCRIPT_HASH)

_CSS = """
:root { --ok:#1b7f3b; --warn:#a35f00; --fail:#c62828; --ink:#1d2329; --mute:#5b6670; --line:#d9dee3; }
* { box-sizing: border-box; }
body { margin: 0; padding: 12px 20px 32px; color: var(--ink); background: #f6f7f9;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 6px 24px; }
h1 { font-size: 19px; margin: 0; } h2 { font-size: 15px; margin: 14px 0 6px; }
.meta { color: var(--mute); margin: 0; font-size: 12px; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 4px 12px; min-width: 96px;
  font: inherit; color: inherit; text-align: left; cursor: pointer; }
.tile b { display: block; font-size: 20px; line-height: 1.2; }
.tile.warn b { color: var(--warn); } .tile.fail b { color: var(--fail); } .tile.ok b { color: var(--ok); }
.tile.fail { border-color: var(--fail); background: #fdecea; } .tile.warn { border-color: var(--warn); background: #fff6e5; }
.attention { list-style: none; padding: 0; margin: 8px 0 0; }
.attention li { padding: 3px 10px; border-radius: 5px; margin-bottom: 4px; border-left: 5px solid; background: #fff; }
.attention li.warn { border-color: var(--warn); background: #fff6e5; }
.attention li.fail { border-color: var(--fail); background: #fdecea; }
.attention li.ok { border-color: var(--ok); background: #eaf6ee; }
.attention .what { font-weight: 600; margin-right: 6px; }
.attention li.fail .what { color: var(--fail); } .attention li.warn .what { color: var(--warn); }
a.name { color: inherit; margin-right: 8px; white-space: nowrap; }
button.link { border: 0; background: none; padding: 0; font: inherit; font-weight: 600; color: #1f4fb8;
  text-decoration: underline; cursor: pointer; }
.roots { margin: 6px 0 0; color: var(--mute); font-size: 12px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 11.5px; }
.roots code { color: var(--ink); white-space: nowrap; }
.toolbar { display: flex; gap: 10px; align-items: center; margin: 10px 0 6px; }
.toolbar input { width: 340px; padding: 4px 8px; font: inherit; border: 1px solid #b8c0c8; border-radius: 4px; }
.toolbar select { padding: 3px 6px; font: inherit; }
#shown { color: var(--mute); }
html:not(.js) .toolbar, html:not(.js) .more-info, html:not(.js) th button { display: none; }
.table-wrap { background: #fff; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid var(--line); white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; height: 22px; }
thead th { background: #eef1f4; position: sticky; top: 0; z-index: 1; font-size: 12px; }
th button { border: 0; background: none; font: inherit; font-weight: 600; padding: 0; cursor: pointer; color: inherit; }
th[aria-sort=ascending] button::after { content: " \\25b4"; } th[aria-sort=descending] button::after { content: " \\25be"; }
col.c-status { width: 100px; } col.c-name { width: 232px; } col.c-left { width: 78px; } col.c-time { width: 136px; }
col.c-rev { width: 40px; } col.c-rel { width: 70px; } col.c-ver { width: 72px; } col.c-root { width: 210px; }
tr.cluster.status-warn { background: #fffaf0; } tr.cluster.status-fail { background: #fff1f0; }
tr.cluster.status-warn td:first-child { box-shadow: inset 4px 0 var(--warn); }
tr.cluster.status-fail td:first-child { box-shadow: inset 4px 0 var(--fail); }
tr.cluster.status-fail td.issue, tr.cluster.status-fail .cname { color: var(--fail); }
tr.cluster.status-warn td.issue { color: var(--warn); }
.cname { font-weight: 600; }
.badge { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 10.5px; font-weight: 600; color: #fff; }
.badge.ok { background: var(--ok); } .badge.warn { background: var(--warn); } .badge.fail { background: var(--fail); }
.more-info { border: 0; background: none; padding: 0 4px 0 0; cursor: pointer; font: inherit; color: var(--mute); }
.plus { color: var(--mute); font-size: 11px; }
code.fp { cursor: pointer; }
code.fp .fp-mid { display: inline-block; width: 1.1em; overflow: hidden; vertical-align: bottom; white-space: nowrap; }
code.fp .fp-mid::before { content: "\\2026"; }
.no { color: var(--fail); font-weight: 600; }
tr.details td { white-space: normal; height: auto; background: #fbfcfd; padding: 6px 10px 10px 28px; }
tr.details dl { display: grid; grid-template-columns: 170px 1fr; gap: 2px 12px; margin: 0; }
tr.details dt { color: var(--mute); } tr.details dd { margin: 0; overflow-wrap: anywhere; }
tr.details .issue-list { margin: 0; padding-left: 18px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
figcaption { color: var(--mute); font-size: 12px; margin-top: 4px; }
.tl-scroll { max-height: 340px; overflow-y: auto; border-top: 1px solid var(--line); }
.legend span { display: inline-block; margin-right: 14px; }
.sw { display: inline-block; width: 14px; height: 9px; border-radius: 2px; vertical-align: middle; margin-right: 4px; }
.sw-valid { background: #a5d6b3; } .sw-warn { background: #ffd699; } .sw-fail { background: #f5b7b1; }
.sw-window { background: #fff1d6; }
svg { display: block; font-size: 11px; }
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
footer { color: var(--mute); font-size: 12px; margin-top: 16px; }
"""

# Heading, <col> class, sort type, cell: what needs attention first, details on demand (the row's details).
_HEAD = (("Status", "c-status", "num"), ("Cluster", "c-name", ""), ("Issue", "c-issue", ""),
         ("Time left", "c-left", "num"), ("Not after", "c-time", ""), ("Renewal", "c-time", ""),
         ("Rev", "c-rev", "num"), ("Reloaded", "c-rel", ""), ("istiod", "c-ver", ""), ("Root SHA-256", "c-root", ""))


def _esc(value):
    return escape(str(value), quote=True)


def _dash(value):
    return _esc(value) if value not in (None, "") else "&#8212;"


def _anchor(name):
    """An id fragment for a cluster: the name with anything but [A-Za-z0-9_-] as ``.XX`` (unique, safe)."""
    return "".join(c if c.isalnum() or c in "-_" else ".%02x" % ord(c) for c in name)


def row_kinds(row):
    """The attention groups a row belongs to (the filter's values and the summary's lines)."""
    kinds = []
    codes = set(w["code"] for w in row["warnings"])
    if row["reachable"] is False:
        kinds.append("unreachable")
    elif row["status"] == FAIL:  # unreachable, failing, warning and OK partition the fleet, as the counts do
        kinds.append("failing")
    if codes & set(("expiring", "expired")):
        kinds.append("expiring")
    if "root_mismatch" in codes:
        kinds.append("root")
    if row["status"] == WARN:
        kinds.append("warning")
    if row["status"] == OK:
        kinds.append("ok")
    if row["status"] != OK:
        kinds.append("problem")
    return kinds


def fingerprint_html(fp):
    """The whole fingerprint in monospace, its middle folded to an ellipsis: selecting or copying it
    copies every byte (the folded part is clipped, not removed), hovering shows it in full."""
    if not fp:
        return "&#8212;"
    if len(fp) <= 24:
        return '<code class="fp" title="%s">%s</code>' % (_esc(fp), _esc(fp))
    return ('<code class="fp" title="%s"><span>%s</span><span class="fp-mid">%s</span><span>%s</span></code>'
            % (_esc(fp), _esc(fp[:11]), _esc(fp[11:-9]), _esc(fp[-9:])))


def _tiles(view):
    fleet = view["fleet"]
    shared = {True: ("ok", "yes"), False: ("fail", "NO"), None: ("fail", "unknown")}[fleet["root_consistent"]]
    tiles = (
        ("clusters", "", fleet["cluster_count"], "clusters", ""),
        ("unreachable", "fail" if fleet["unreachable"] else "", len(fleet["unreachable"]), "unreachable", "unreachable"),
        ("failing", "fail" if fleet["failing"] else "", len(fleet["failing"]), "failing", "failing"),
        ("expiring", "warn" if fleet["expiring"] else "", len(fleet["expiring"]),
         "expiring within %s" % human_duration(view["threshold"]), "expiring"),
        ("warning", "warn" if fleet["warn"] else "", len(fleet["warn"]), "warnings", "warning"),
        ("ok", "ok", len(fleet["ok"]), "OK", "ok"),
        ("root", shared[0], shared[1], "one shared root", "root" if fleet["root_consistent"] is False else ""),
    )
    return "".join('<button type="button" class="tile %s" data-tile="%s" data-show="%s"><b>%s</b>%s</button>'
                   % (cls, tile, show, _esc(value), _esc(label)) for tile, cls, value, label, show in tiles)


def _names(names, kind):
    """Links to the first clusters of a group that fit two lines, then "+N more" (filters the table)."""
    out, used = [], 0
    for index, name in enumerate(names):
        used += 8 * len(name) + 14
        if used > NAME_BUDGET_PX and index:
            rest = len(names) - index
            out.append('<button type="button" class="link" data-show="%s" data-more="%d">+%d more</button>'
                       % (kind, rest, rest))
            break
        out.append('<a class="name" href="#c-%s" data-name="%s">%s</a>' % (_anchor(name), _esc(name), _esc(name)))
    return " ".join(out)  # the spaces are where a line may break


def _attention(view):
    """One line per kind of trouble, worst first, naming the clusters; or one line saying all is well."""
    fleet, rows = view["fleet"], view["rows"]
    failing = [r["name"] for r in rows if r["name"] in fleet["failing"]]
    lines = []
    if fleet["unreachable"]:
        lines.append((FAIL, "unreachable", "%d unreachable" % len(fleet["unreachable"]),
                      [r["name"] for r in rows if r["reachable"] is False]))
    if failing:
        lines.append((FAIL, "failing", "%d failing" % len(failing), failing))
    if fleet["root_consistent"] is not True:
        if fleet["root_consistent"] is False:
            members = fleet["root_mismatch"]
            what = "root differs on %d" % len(members) if members else "no root shared by most clusters"
        else:
            members = fleet["root_unknown"]
            what = "one shared root unknown: root not read on %d" % len(members)
        lines.append((FAIL, "root", what, members))
    if fleet["expiring"]:
        lines.append((WARN, "expiring", "%d expiring within %s" % (len(fleet["expiring"]),
                                                                   human_duration(view["threshold"])),
                      [r["name"] for r in rows if "expiring" in row_kinds(r)]))
    other = [r["name"] for r in rows if r["status"] == WARN and "expiring" not in row_kinds(r)]
    if other:
        lines.append((WARN, "warning", "%d other warnings" % len(other), other))
    items = ['<li class="%s" data-kind="%s"><span class="what">%s:</span>%s</li>'
             % (level, kind, _esc(what), _names(names, kind)) for level, kind, what, names in lines]
    items += ['<li class="fail" data-kind="fleet"><span class="what">fleet:</span>%s</li>' % _esc(w["text"])
              for w in view["warnings"] if w["code"] == "fleet_problem"]
    if not items:
        items = ['<li class="ok" data-kind="none">All %d clusters pass every check.</li>' % fleet["cluster_count"]]
    return "".join(items)


def _roots(view):
    """Every root fingerprint in full, with how many clusters hold it, and why the fleet's root is in doubt."""
    groups = view["fleet"]["roots"]
    verdict = "".join(' <b class="no">%s</b>' % _esc(w["text"]) for w in view["warnings"]
                      if w["code"] in ("root_mismatch", "root_unknown"))
    if not groups:
        return "Root: none could be read." + verdict
    return "Root%s: %s%s" % ("s" if len(groups) > 1 else "", " &#183; ".join(
        "<code>%s</code> (%d cluster%s)" % (_esc(fp), len(names), "" if len(names) == 1 else "s")
        for fp, names in groups), verdict)


def _issue_cell(row):
    warnings = sorted(row["warnings"], key=lambda w: -_RANK[w["level"]])  # the worst first, else in order
    if not warnings:
        return '<td class="issue">&#8212;</td>'
    extra = ' <span class="plus">+%d</span>' % (len(warnings) - 1) if len(warnings) > 1 else ""
    title = "; ".join(w["text"] for w in warnings)
    return '<td class="issue" title="%s">%s%s</td>' % (_esc(title), _esc(warnings[0]["text"]), extra)


def _time_cell(when):
    """``2030-01-10 00:00`` in the row (sorts as text), the full ISO time on hover and in the details."""
    if not when:
        return "<td>&#8212;</td>"
    return '<td title="%s">%s</td>' % (_esc(iso(when)), _esc(iso(when)[:16].replace("T", " ")))


def _status_cell(row):
    text = "unreachable" if row["reachable"] is False else _LEVEL_TEXT[row["status"]]
    return '<td data-v="%d"><span class="badge %s">%s</span></td>' % (attention_rank(row), row["status"], text)


def _cluster_row(row):
    anchor = _anchor(row["name"])
    reloaded = {True: "yes", False: '<span class="no">NO</span>', None: "&#8212;"}[row["reloaded"]]
    search = " ".join([row["name"], row["istiod_version"], row["root_fingerprint"], row["serial"]]
                      + [w["text"] for w in row["warnings"]]).lower()
    cells = [
        _status_cell(row),
        '<td data-v="%s"><button type="button" class="more-info" aria-expanded="false" aria-controls="d-%s" '
        'title="details">&#9656;</button><span class="cname" title="%s">%s</span></td>'
        % (_esc(row["name"].lower()), anchor, _esc(row["name"]), _esc(row["name"])),
        _issue_cell(row),
        '<td data-v="%s">%s</td>' % ("" if row["remaining"] is None else "%d" % row["remaining"],
                                     _dash(human_duration(row["remaining"]))),
        _time_cell(row["not_after"]),
        _time_cell(row["renewal_time"]),
        '<td data-v="%s">%s</td>' % (_esc(row["revision"]) if row["revision"].isdigit() else "", _dash(row["revision"])),
        "<td>%s</td>" % reloaded,
        "<td>%s</td>" % _dash(row["istiod_version"]),
        "<td>%s</td>" % fingerprint_html(row["root_fingerprint"]),
    ]
    return ('<tr class="cluster status-%s" id="c-%s" data-cluster="%s" data-kinds="%s" data-search="%s" '
            'aria-expanded="false">%s</tr>'
            % (row["status"], anchor, _esc(row["name"]), " ".join(row_kinds(row)), _esc(search), "".join(cells)))


def _details_row(row):
    issues = "".join("<li>%s</li>" % _esc(w["text"]) for w in row["warnings"]) or "<li>none</li>"
    facts = (
        ("Issues", '<ul class="issue-list">%s</ul>' % issues),
        ("Reachable", {True: "yes", False: "no: %s" % _esc(row["unreachable_cause"]), None: "not contacted"}[
            row["reachable"]]),
        ("Checked at", _dash(iso(row["checked_at"]))),
        ("Intermediate subject", _dash(row["subject"])),
        ("Issuer", _dash(row["issuer"])),
        ("Serial", '<span class="mono">%s</span>' % _dash(row["serial"])),
        ("Not before", _dash(iso(row["not_before"]))),
        ("Not after", _dash(iso(row["not_after"]))),
        ("Renewal time", _dash(iso(row["renewal_time"]))),
        ("Root SHA-256", '<code>%s</code>' % _dash(row["root_fingerprint"])),
        ("istiod", _dash(row["istiod_version"])),
        ("Hot reload", _dash(row["hot_reload"])),
        ("istiod managed by", _dash(row["managed_by"])),
        ("Root renewal time", _dash(iso(row["root_renewal_time"]))),
        ("Trust source", _dash(row["trust_source"])),
        ("CA ClusterIssuer signs with", _dash(row["trust_ca_secret"])),
        ("Root key", _dash(row["root_key"])),
        ("Issuing CA", _dash(row["issuing_ca_subject"])),
        ("Issuing CA serial", '<span class="mono">%s</span>' % _dash(row["issuing_ca_serial"])
         if row["issuing_ca_serial"] else _dash("")),
        ("Issuing CA not after", _dash(iso(row["issuing_ca_not_after"]))),
        ("Last reload evidence", _dash(row["last_reload"])),
    )
    known = [(k, v) for k, v in facts if "&#8212;" not in v or k in ("Issues", "Reachable")]  # nothing unread
    return ('<tr class="details" id="d-%s" data-for="%s" hidden><td colspan="%d"><dl>%s</dl></td></tr>'
            % (_anchor(row["name"]), _esc(row["name"]), len(_HEAD),
               "".join("<dt>%s</dt><dd>%s</dd>" % (_esc(k), v) for k, v in known)))


_KIND_OPTIONS = (("", "all clusters"), ("problem", "needs attention"), ("unreachable", "unreachable"),
                 ("failing", "failing"), ("expiring", "expiring"), ("root", "root differs"),
                 ("warning", "warning"), ("ok", "OK"))


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
        "<style>%s</style>" % _CSS,
        "<noscript><style>tr.details[hidden] { display: table-row; }</style></noscript></head>",
        '<body data-clusters="%d">' % view["fleet"]["cluster_count"],
        '<header><h1>%s</h1><p class="meta">%s</p></header>' % (_esc(view["title"]), _esc(meta)),
        '<section class="tiles" id="summary" aria-label="Fleet summary">%s</section>' % _tiles(view),
        '<ul class="attention" id="attention" aria-label="Needs attention">%s</ul>' % _attention(view),
        '<p class="roots" id="roots">%s</p>' % _roots(view),
        '<section id="table-section"><div class="toolbar">'
        '<input type="search" id="filter" placeholder="Filter: name, issue, version, serial, root" aria-label="Filter">'
        '<select id="kind" aria-label="Show">%s</select><span id="shown"></span></div>'
        % "".join('<option value="%s">%s</option>' % kv for kv in _KIND_OPTIONS),
        '<div class="table-wrap"><table id="clusters"><colgroup>%s</colgroup><thead><tr>%s</tr></thead><tbody>'
        % ("".join('<col class="%s">' % h[1] for h in _HEAD),
           "".join('<th scope="col"%s><button type="button">%s</button></th>'
                   % (' data-type="num"' if h[2] else "", _esc(h[0])) for h in _HEAD)),
    ]
    for row in view["rows"]:
        parts.append(_cluster_row(row))
        parts.append(_details_row(row))
    parts.append("</tbody></table></div></section>")
    parts.extend([
        "<section><h2>Validity timeline</h2><figure>",
        render_timeline(view),
        '<figcaption class="legend"><span><i class="sw sw-valid"></i>valid</span>'
        '<span><i class="sw sw-warn"></i>warning</span>'
        '<span><i class="sw sw-fail"></i>failing</span>'
        '<span><i class="sw sw-window"></i>expiring window</span>'
        "<span>&#9670; renewal time</span><span>dashed line: now</span>"
        "<span>darker part: time already used</span><span>problems first; the rows scroll under the axis</span>"
        "</figcaption></figure></section>",
        "<footer>meshpki.istio_ca report &#183; read-only snapshot; times in UTC.</footer>",
        "<script>%s</script>" % _SCRIPT,
        "</body></html>",
    ])
    return "\n".join(parts)
