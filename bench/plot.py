"""The bench's plot: wall time and controller CPU per cluster against fleet size N, with the floor drawn.

Written as SVG by hand (no plotting library: the bench stays on the dev venv). Two panels side by side:
wall seconds of rotate.yml, the kubernetes.core peer and the kubectl baseline with the floor as a dashed
line; CPU-seconds per cluster of the same steps. Only sizes a step succeeded at are drawn.

    .venv/bin/python bench/plot.py bench/results/latest.json docs/performance-scaling.svg
"""

import json
import sys
from xml.sax.saxutils import escape

# (results key, label, colour, dashed)
SERIES = (("rotate", "rotate.yml", "#1f6fb4", False),
          ("peer", "kubernetes.core peer", "#e07b00", False),
          ("baseline", "kubectl, sequential", "#8a8a8a", False),
          ("floor", "floor", "#2a9d3a", True))
STYLE = dict((key, (colour, dashed)) for key, _, colour, dashed in SERIES)
PANEL_W, PANEL_H, MARGIN_L, MARGIN_B, MARGIN_T, GAP = 380, 260, 58, 44, 34, 40


def points(results, key, metric):
    """[(N, value)] for one step and metric, sizes in order, failed steps left out."""
    out = []
    for n, size in sorted(results.get("sizes", {}).items(), key=lambda kv: int(kv[0])):
        step = size.get(key)
        if not step:
            continue
        if key == "floor":
            if metric == "wall_s":
                out.append((int(n), float(step["floor_s"])))
            continue
        if step.get("rc"):
            continue
        out.append((int(n), float(step[metric])))
    return out


def _nice_max(value):
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above ``value`` (the y axis top)."""
    return min(m * 10 ** e for e in range(-2, 7) for m in (1, 2, 2.5, 5) if m * 10 ** e >= max(value, 0.01))


def _panel(x0, title, ylabel, series, sizes):
    """SVG elements of one panel at horizontal offset x0."""
    els = []
    plot_w, plot_h = PANEL_W - MARGIN_L - 10, PANEL_H - MARGIN_T - MARGIN_B
    left, top = x0 + MARGIN_L, MARGIN_T
    ymax = _nice_max(max([v for _, pts in series for _, v in pts] or [1.0]) * 1.08)
    xmin, xmax = min(sizes), max(sizes)
    span = float(xmax - xmin) or 1.0

    def sx(n):
        return left + (plot_w * (n - xmin) / span if xmax > xmin else plot_w / 2.0)

    def sy(v):
        return top + plot_h - plot_h * v / ymax

    els.append('<text x="%.1f" y="%d" font-size="13" font-weight="bold">%s</text>' % (left, top - 14, escape(title)))
    els.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#444"/>' % (
        left, top, plot_w, plot_h))
    for i in range(5):
        v = ymax * i / 4.0
        y = sy(v)
        els.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, y, left + plot_w, y))
        els.append('<text x="%.1f" y="%.1f" font-size="11" text-anchor="end">%s</text>' % (
            left - 5, y + 4, ("%g" % round(v, 2))))
    for n in sizes:
        els.append('<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%d</text>' % (
            sx(n), top + plot_h + 15, n))
    els.append('<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">clusters (N)</text>' % (
        left + plot_w / 2.0, top + plot_h + 32))
    els.append('<text transform="translate(%.1f,%.1f) rotate(-90)" font-size="11" text-anchor="middle">%s</text>' % (
        x0 + 14, top + plot_h / 2.0, escape(ylabel)))
    for key, pts in series:
        colour, dashed = STYLE[key]
        if not pts:
            continue
        path = " ".join("%.1f,%.1f" % (sx(n), sy(v)) for n, v in pts)
        els.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (
            path, colour, ' stroke-dasharray="6,4"' if dashed else ""))
        for n, v in pts:
            els.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>N=%d: %g</title></circle>' % (
                sx(n), sy(v), colour, n, v))
    return els


def svg(results):
    """The SVG document (a string) for a bench results dict."""
    wall = [(k, points(results, k, "wall_s")) for k, _, _, _ in SERIES]
    cpu = [(k, points(results, k, "cpu_s_per_cluster")) for k, _, _, _ in SERIES if k != "floor"]
    sizes = sorted(set(n for _, pts in wall + cpu for n, _ in pts))
    if not sizes:
        raise ValueError("no fleet size with a successful step to plot")
    width, height = 2 * PANEL_W + GAP, PANEL_H + 52
    meta = results.get("meta", {})
    els = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
           'font-family="sans-serif">' % (width, height, width, height),
           '<rect width="100%" height="100%" fill="white"/>']
    els += _panel(0, "Wall time of one fleet rotation", "seconds", wall, sizes)
    els += _panel(PANEL_W + GAP, "Controller CPU per cluster", "CPU-seconds per cluster", cpu, sizes)
    x = MARGIN_L
    for key, label, colour, dashed in SERIES:
        if not points(results, key, "wall_s"):
            continue
        els.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>' % (
            x, height - 34, x + 22, height - 34, colour, ' stroke-dasharray="6,4"' if dashed else ""))
        els.append('<text x="%d" y="%d" font-size="11">%s</text>' % (x + 27, height - 30, escape(label)))
        x += 40 + 7 * len(label)
    els.append('<text x="%d" y="%d" font-size="10" text-anchor="end" fill="#666">%s</text>' % (
        width - 8, height - 8, escape("make bench %s, commit %s, propagation delay %s" % (
            meta.get("date", ""), meta.get("commit", ""), _delay_note(results)))))
    els.append("</svg>")
    return "\n".join(els) + "\n"


def _delay_note(results):
    notes = sorted(set("%g s (%s)" % (s.get("propagation_delay_s"), s.get("floor", {}).get("delays_source", "fixed"))
                       for s in results.get("sizes", {}).values()))
    return ", ".join(notes) if notes else "?"


def write(results, path):
    with open(path, "w") as handle:
        handle.write(svg(results))
    return path


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: plot.py RESULTS.json OUT.svg")
    with open(sys.argv[1]) as source:
        print(write(json.load(source), sys.argv[2]))
