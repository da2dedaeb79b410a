# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Inline SVG timeline: each cluster's intermediate validity against now and its renewal time.

One row per cluster on a shared time axis, so a person sees at once which clusters
renew soon, which are past renewal, and which are outside the expiring window. The axis is
drawn apart from the rows so it stays in view while 200+ rows scroll in their box. Pure
string building (no plotting library, nothing fetched); every text is escaped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
from html import escape

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.model import human_duration, iso

WIDTH = 1000
LABEL_W = 190
PLOT_X0 = LABEL_W + 10
PLOT_X1 = WIDTH - 20
AXIS_H = 40
ROW_H = 16
BAR_H = 9

# Candidate tick steps in seconds, smallest first.
_STEPS = (3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 91 * 86400,
          182 * 86400, 365 * 86400, 5 * 365 * 86400)


def _esc(value):
    return escape(str(value), quote=True)


def _time_range(view):
    now = view["now"]
    points = [now, now + datetime.timedelta(seconds=view["threshold"])]
    for row in view["rows"]:
        points.extend(t for t in (row["not_before"], row["not_after"], row["renewal_time"]) if t)
    start, end = min(points), max(points)
    span = max((end - start).total_seconds(), 3600.0)
    pad = datetime.timedelta(seconds=span * 0.03)
    return start - pad, end + pad


class _Scale(object):
    """Maps datetimes onto the plot's x range."""

    def __init__(self, start, end):
        self.start = start
        self.span = (end - start).total_seconds()

    def x(self, when):
        frac = (when - self.start).total_seconds() / self.span
        return PLOT_X0 + max(0.0, min(1.0, frac)) * (PLOT_X1 - PLOT_X0)


def _ticks(start, end):
    span = (end - start).total_seconds()
    step = next((s for s in _STEPS if span / s <= 9), _STEPS[-1])
    epoch = datetime.datetime(1970, 1, 1, tzinfo=start.tzinfo)
    first = int((start - epoch).total_seconds() // step + 1) * step
    ticks = []
    value = first
    while epoch + datetime.timedelta(seconds=value) <= end:
        ticks.append(epoch + datetime.timedelta(seconds=value))
        value += step
    fmt = "%Y-%m-%d" if step >= 86400 else "%m-%d %H:%M"
    return [(t, t.strftime(fmt)) for t in ticks]


def _anchor(x, half_width):
    """Keep a label centred on ``x`` inside the plot: flush left or right near its edges."""
    if x - half_width < PLOT_X0:
        return "start"
    if x + half_width > WIDTH:
        return "end"
    return "middle"


def _short(name, limit=26):
    return name if len(name) <= limit else name[:limit - 1] + "\u2026"


def render_timeline(view):
    """The timeline as HTML: an axis ``<svg>`` that stays put above a box of rows (``svg.timeline``) that
    scrolls when there are many (200 clusters: ~14 rows visible at a time, problems first, as in the table).

    Both are sized by the same viewBox width, so their x positions line up at any page width.
    """
    rows = view["rows"]
    start, end = _time_range(view)
    scale = _Scale(start, end)
    height = ROW_H * max(len(rows), 1) + 4
    now_x = scale.x(view["now"])
    window_x = scale.x(view["now"] + datetime.timedelta(seconds=view["threshold"]))
    ticks = []
    for tick, label in _ticks(start, end):
        if not ticks or scale.x(tick) - ticks[-1][0] >= 80:  # a label is ~70 units wide: never overlap
            ticks.append((scale.x(tick), label))
    axis = [
        '<svg class="tl-axis" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMinYMin meet" '
        'aria-hidden="true">' % (WIDTH, AXIS_H),
        '<rect class="window" x="%.1f" y="%d" width="%.1f" height="6"/>' % (now_x, AXIS_H - 6, max(window_x - now_x, 0.5)),
    ]
    for x, label in ticks:
        axis.append('<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>' % (x, AXIS_H - 6, x, AXIS_H))
        axis.append('<text class="tick" x="%.1f" y="%d" text-anchor="%s">%s</text>'
                    % (x, AXIS_H - 12, _anchor(x, 36), _esc(label)))
    axis.append('<line class="now" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>' % (now_x, 14, now_x, AXIS_H))
    axis.append('<text class="now-label" x="%.1f" y="11" text-anchor="%s">now %s</text>'
                % (now_x, _anchor(now_x, 80), _esc(iso(view["now"]))))
    axis.append("</svg>")
    out = [
        '<svg class="timeline" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="tl-title" '
        'preserveAspectRatio="xMinYMin meet">' % (WIDTH, height),
        '<title id="tl-title">Intermediate CA validity per cluster, with now (%s) and renewal times</title>'
        % _esc(iso(view["now"])),
        '<rect class="window" x="%.1f" y="0" width="%.1f" height="%d"><title>expiring window: within %s of now'
        '</title></rect>' % (now_x, max(window_x - now_x, 0.5), height, _esc(human_duration(view["threshold"]))),
    ]
    for x, _label in ticks:
        out.append('<line class="grid" x1="%.1f" y1="0" x2="%.1f" y2="%d"/>' % (x, x, height))
    for index, row in enumerate(rows):
        out.append(_row_svg(row, index, scale, view["now"]))
    out.append('<line class="now" x1="%.1f" y1="0" x2="%.1f" y2="%d"/>' % (now_x, now_x, height))
    out.append("</svg>")
    return "%s\n<div class=\"tl-scroll\">%s</div>" % ("".join(axis), "\n".join(out))


def _row_svg(row, index, scale, now):
    y = 2 + index * ROW_H
    mid = y + ROW_H / 2.0
    name = row["name"]
    parts = ['<g class="tl-row status-%s" data-cluster="%s">' % (row["status"], _esc(name))]
    if index % 2:
        parts.append('<rect class="stripe" x="0" y="%d" width="%d" height="%d"/>' % (y, WIDTH, ROW_H))
    parts.append('<text class="label" x="%d" y="%.1f" text-anchor="end">%s<title>%s</title></text>'
                 % (LABEL_W, mid + 4, _esc(_short(name)), _esc(name)))
    if row["not_before"] and row["not_after"]:
        x0, x1 = scale.x(row["not_before"]), scale.x(row["not_after"])
        tip = "%s: %s \u2192 %s (%s left)" % (
            name, iso(row["not_before"]), iso(row["not_after"]), human_duration(row["remaining"]))
        if row["warnings"]:
            tip += "; " + "; ".join(w["text"] for w in row["warnings"])
        parts.append('<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%d" rx="2"><title>%s</title></rect>'
                     % (x0, mid - BAR_H / 2.0, max(x1 - x0, 1.5), BAR_H, _esc(tip)))
        if row["not_before"] <= now <= row["not_after"]:
            parts.append('<rect class="used" x="%.1f" y="%.1f" width="%.1f" height="%d" rx="2"/>'
                         % (x0, mid - BAR_H / 2.0, max(scale.x(now) - x0, 0.0), BAR_H))
    else:
        missing = "unreachable: not read" if row["reachable"] is False else "no intermediate certificate"
        parts.append('<text class="missing" x="%d" y="%.1f">%s</text>' % (PLOT_X0 + 4, mid + 4, missing))
    if row["renewal_time"]:
        rx = scale.x(row["renewal_time"])
        parts.append('<path class="renewal" d="M%.1f %.1f l4 6 l-4 6 l-4 -6 z"><title>%s renews at %s</title></path>'
                     % (rx, mid - 6, _esc(name), _esc(iso(row["renewal_time"]))))
    parts.append("</g>")
    return "".join(parts)
