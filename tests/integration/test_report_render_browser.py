"""Look at report.html as a person would: in a real browser (headless Chromium), at 5, 30 and 200 clusters.

The unit tests check the markup; this checks what a person sees on the first screen at 1400x900
without scrolling (the counts, every unreachable, failing and expiring cluster by name up to what
fits, with "+N more" for the rest), that sorting, filtering and details work, that the page loads
with no console error (a blocked fetch or a blocked script shows up as one, thanks to the page's
CSP), and that it fetches nothing.

How the page is driven: Chromium's own ``--dump-dom``, with a probe script added to a copy of the
page (allowed by its SHA-256 in the page's CSP, like the page's own script). The probe measures the
layout, clicks and types through the page's real controls, and writes what it saw into an attribute
of <html>, which --dump-dom prints once the page has loaded. This needs nothing but the chromium
binary: no DevTools-protocol client, no npm/playwright, no port to open, and every interaction runs
synchronously inside the page, so there is nothing to wait for and no timing to get wrong.

The fleets are synthetic (scripts/report_shot.py): entries made by the real cluster_status filter from
made-up read results, then fleet_report, so no fleet of 200 is needed. What the probe must find is
taken from report.json's fleet lists (what fleet_report decided), not from the renderer's view.

Chromium comes from Debian's ``chromium`` package: the fixture installs it where it is missing and apt
can run (``make integration`` installs it first, see the Makefile's ``browser`` target), and skips
with the reason otherwise - unless MESHPKI_REQUIRE_BROWSER=1 (set by the Makefile), where a missing
browser fails.
"""

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
from html import unescape

import pytest

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.html import render_html

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SAMPLE = os.path.join(HERE, os.pardir, "unit", "plugins", "plugin_utils", "report", "report_sample.json")
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
SCREEN = (1400, 900)


def _report_shot():
    spec = importlib.util.spec_from_file_location("report_shot", os.path.join(REPO, "scripts", "report_shot.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report_shot = _report_shot()

# Every cluster's table row and timeline bar has a size and sits inside the page/timeline.
LAYOUT_PROBE = """
(function () {
  var bad = [], rows = document.querySelectorAll('tr.cluster'), bars = document.querySelectorAll('g.tl-row');
  var svg = document.querySelector('svg.timeline').getBoundingClientRect();
  if (svg.width < 400 || svg.height < 20) bad.push('timeline ' + svg.width + 'x' + svg.height);
  rows.forEach(function (r) { var b = r.getBoundingClientRect();
    if (b.width < 200 || b.height < 10) bad.push('row ' + r.dataset.cluster); });
  bars.forEach(function (g) { var b = g.getBoundingClientRect();
    if (b.height < 5 || b.width < 5 || b.top < svg.top - 1 || b.bottom > svg.bottom + 1) bad.push('bar ' + g.dataset.cluster); });
  document.documentElement.setAttribute('data-layout',
    bad.length ? 'bad: ' + bad.join(', ') : 'ok ' + rows.length + ' ' + bars.length);
})();
"""

# What a person sees on the first screen, then the controls driven as a person would.
SCREEN_PROBE = r"""
(function () {
  var W = window.innerWidth, H = window.innerHeight, out = {viewport: [W, H]};
  function seen(el) { var b = el.getBoundingClientRect();
    return b.width > 0 && b.height > 0 && b.top >= 0 && b.left >= 0 && b.bottom <= H && b.right <= W; }
  function shownRows() { return Array.prototype.filter.call(document.querySelectorAll('tr.cluster'),
    function (r) { return !r.hidden && r.getBoundingClientRect().height > 0; }).map(function (r) { return r.dataset.cluster; }); }
  function head(label) { return Array.prototype.filter.call(document.querySelectorAll('#clusters thead th'),
    function (th) { return th.textContent === label; })[0].querySelector('button'); }
  out.tiles = {};
  document.querySelectorAll('.tile').forEach(function (t) {
    out.tiles[t.dataset.tile] = {value: t.querySelector('b').textContent, seen: seen(t)}; });
  out.lines = {};
  document.querySelectorAll('#attention li').forEach(function (li) {
    var more = li.querySelector('[data-more]');
    out.lines[li.dataset.kind] = {
      names: Array.prototype.map.call(li.querySelectorAll('a.name'), function (a) { return a.dataset.name; }),
      unseen: Array.prototype.filter.call(li.querySelectorAll('a.name'), function (a) { return !seen(a); })
        .map(function (a) { return a.dataset.name; }),
      more: more ? parseInt(more.dataset.more, 10) : 0, more_seen: more ? seen(more) : null,
      red: getComputedStyle(li).borderLeftColor};
  });
  out.page_width = document.documentElement.scrollWidth;
  var first = document.querySelector('tr.cluster');
  out.first_row = {name: first.dataset.cluster, height: first.getBoundingClientRect().height, seen: seen(first),
                   color: getComputedStyle(first.querySelector('.cname')).color};
  out.fingerprints_whole = Array.prototype.every.call(document.querySelectorAll('td code.fp'),
    function (c) { return c.textContent === c.title && c.textContent.length === 95; });
  out.fingerprint_count = document.querySelectorAll('td code.fp').length;
  var scroll = document.querySelector('.tl-scroll'), axis = document.querySelector('svg.tl-axis');
  var axisTop = axis.getBoundingClientRect().top;
  scroll.scrollTop = scroll.scrollHeight;
  out.timeline = {box: scroll.clientHeight, content: scroll.scrollHeight,
                  axis_fixed: Math.abs(axis.getBoundingClientRect().top - axisTop) < 0.5,
                  row_height: document.querySelector('g.tl-row').getBoundingClientRect().height};
  scroll.scrollTop = 0;
  window.scrollTo(0, 0);

  head('Cluster').click(); out.sort_name_up = shownRows();
  head('Cluster').click(); out.sort_name_down = shownRows();
  head('Time left').click();
  out.sort_left_up = Array.prototype.map.call(document.querySelectorAll('tr.cluster'),
    function (r) { var v = r.cells[3].dataset.v; return v === '' ? null : parseFloat(v); });
  head('Status').click(); out.sort_status = shownRows();

  var text = document.getElementById('filter'), kind = document.getElementById('kind');
  text.value = out.sort_status[out.sort_status.length - 1].toUpperCase();
  text.dispatchEvent(new Event('input')); out.filter_text = shownRows();
  out.filter_count = document.getElementById('shown').textContent;
  text.value = ''; kind.value = 'expiring'; kind.dispatchEvent(new Event('change')); out.filter_expiring = shownRows();
  var more = document.querySelector('#attention [data-more]');
  kind.value = ''; kind.dispatchEvent(new Event('change'));
  if (more) { more.click(); out.more_kind = more.dataset.show; out.filter_more = shownRows(); }
  document.querySelector('.tile[data-tile="clusters"]').click(); out.filter_all = shownRows().length;

  var row = document.querySelector('tr.cluster'), details = document.getElementById('d-' + row.id.slice(2));
  out.details_before = details.getBoundingClientRect().height;
  row.querySelector('button.more-info').click();
  out.details_after = details.getBoundingClientRect().height;
  out.details_text = details.textContent;
  var rows = document.querySelectorAll('tr.cluster'), last = rows[rows.length - 1];
  last.querySelector('button.more-info').click();
  out.details_last = document.getElementById('d-' + last.id.slice(2)).textContent;
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
})();
"""


def _install_chromium():
    """Return None when chromium is usable, else the reason it cannot be had."""
    if os.access(CHROMIUM, os.X_OK):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "%s is missing and apt-get cannot run here (need root and apt): apt-get install -y chromium" % CHROMIUM
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "install", "-y", "-q", "chromium"],
                ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
        if cmd[1] == "install" and proc.returncode == 0 and os.access(CHROMIUM, os.X_OK):
            return None
    return "apt-get install -y chromium failed: %s" % (proc.stderr.strip().splitlines() or ["?"])[-1]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    reason = _install_chromium()
    if reason:
        if os.environ.get("MESHPKI_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    profile = tmp_path_factory.mktemp("chromium-profile")

    def run(page, *extra):
        proc = subprocess.run([CHROMIUM] + FLAGS + ["--user-data-dir=%s" % profile] + list(extra)
                              + ["file://%s" % page], capture_output=True, text=True, timeout=120, check=False)
        console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
        return proc, console
    return run


def _sample(evil=True):
    with open(SAMPLE) as handle:
        report = json.load(handle)
    if evil:
        report["clusters"][2]["name"] = 'edge "eu" <img src=http://127.0.0.1:9/x.png>'
    return report


def _write(tmp_path, name, page):
    path = tmp_path / name
    path.write_text(page, encoding="utf-8")
    return path


def _with_probe(page, probe):
    """The page with ``probe`` run after its own script, allowed by its hash next to the page's own."""
    digest = base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode()
    allowed = "script-src &#x27;sha256-"
    assert page.count(allowed) == 1
    page = page.replace(allowed, "script-src &#x27;sha256-%s&#x27; &#x27;sha256-" % digest, 1)
    return page.replace("</body>", "<script>%s</script></body>" % probe, 1)


def _dom_clusters(dom, tag):
    return re.findall(r'<%s class="[^"]*" (?:id="[^"]*" )?data-cluster="([^"]*)"' % tag, dom)


@pytest.mark.parametrize("count", [None, 200])
def test_page_loads_clean_and_shows_every_cluster(chromium, tmp_path, count):
    report = _sample() if count is None else report_shot.synthetic_report(count)
    page = render_html(report)
    proc, console = chromium(_write(tmp_path, "report.html", page), "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console == []  # the page's script ran (a blocked script is a console error) and fetched nothing
    assert 'class="js"' in proc.stdout
    expected = sorted(c["name"] for c in report["clusters"])
    assert sorted(unescape(n) for n in _dom_clusters(proc.stdout, "tr")) == expected
    assert sorted(unescape(n) for n in _dom_clusters(proc.stdout, "g")) == expected
    assert "<img" not in proc.stdout


@pytest.mark.parametrize("count", [5, 200])
def test_layout_gives_every_cluster_a_visible_row_and_bar(chromium, tmp_path, count):
    report = _sample() if count == 5 else report_shot.synthetic_report(count)
    page = _with_probe(render_html(report), LAYOUT_PROBE)
    proc, console = chromium(_write(tmp_path, "probe.html", page), "--window-size=1400,1000", "--dump-dom")
    assert console == []
    layout = re.search(r'data-layout="([^"]*)"', proc.stdout)
    assert layout, "the layout probe did not run: %s" % proc.stderr[-1500:]
    assert layout.group(1) == "ok %d %d" % (count, count)


def _expected(report):
    """What the first screen must show, from report.json's own fleet lists."""
    fleet = report["fleet"]
    unreachable = fleet["unreachable"]
    failing = [n for n in fleet["failing_checks"] if n not in unreachable]
    expiring = fleet["expiring_within_threshold"] + fleet["expired"]
    ok = [c["name"] for c in report["clusters"] if not c["problems"] and c["name"] not in expiring]
    return unreachable, failing, expiring, ok


@pytest.mark.parametrize("count", [5, 30, 200])
def test_first_screen_shows_counts_and_every_problem_cluster(chromium, tmp_path, count):
    report = report_shot.synthetic_report(count)
    unreachable, failing, expiring, ok = _expected(report)
    assert unreachable and failing and (expiring or count < 30)  # the synthetic fleet has each kind of trouble
    page = _with_probe(render_html(report), SCREEN_PROBE)
    proc, console = chromium(_write(tmp_path, "probe.html", page), "--window-size=%d,%d" % SCREEN, "--dump-dom")
    assert console == []
    found = re.search(r'data-probe="([^"]*)"', proc.stdout)
    assert found, "the probe did not run: %s" % proc.stderr[-1500:]
    seen = json.loads(unescape(found.group(1)))
    # A 1400x900 window: headless Chromium leaves its page ~760 px of it (a browser's own bars take the
    # rest), stricter than a 900 px viewport; all "seen" checks are against what it really leaves.
    assert seen["viewport"][0] == SCREEN[0] and 700 <= seen["viewport"][1] <= SCREEN[1], seen["viewport"]
    assert seen["page_width"] <= SCREEN[0]  # no sideways scrolling

    # The counts, all on the first screen.
    tiles = seen["tiles"]
    assert all(t["seen"] for t in tiles.values()), tiles
    assert tiles["clusters"]["value"] == str(count)
    assert tiles["unreachable"]["value"] == str(len(unreachable))
    assert tiles["failing"]["value"] == str(len(failing))
    assert tiles["expiring"]["value"] == str(len(expiring))
    assert tiles["ok"]["value"] == str(len(ok))
    # Never "yes" with a cluster unread; from 30 clusters on one cluster also holds another root.
    assert tiles["root"]["value"] == ("unknown" if count < 30 else "NO")

    # Every problem cluster by name, as far as two lines hold; "+N more" (on screen) counts the rest.
    for kind, names in (("unreachable", unreachable), ("failing", failing), ("expiring", expiring)):
        if not names:
            assert kind not in seen["lines"]
            continue
        line = seen["lines"][kind]
        assert line["unseen"] == [], (kind, line)
        if kind == "expiring":
            assert set(line["names"]) <= set(names)
        else:  # in name order, so the first ones are shown
            assert line["names"] == names[:len(line["names"])], (kind, line)
        assert len(line["names"]) + line["more"] == len(names), (kind, line)
        if line["more"]:
            assert line["more_seen"] is True and len(line["names"]) >= 8
    if count == 200:
        assert seen["lines"]["failing"]["more"] > 0  # 200 clusters do not fit: the "+N more" path is exercised

    # Problems first: the first row is an unreachable cluster, in red, one compact line.
    assert seen["first_row"]["name"] == unreachable[0] and seen["first_row"]["seen"]
    assert seen["first_row"]["color"] == "rgb(198, 40, 40)"
    assert seen["first_row"]["height"] <= 26
    assert seen["fingerprints_whole"] and seen["fingerprint_count"] == count - len(unreachable)

    # The timeline scrolls in its box under an axis that stays put.
    timeline = seen["timeline"]
    assert timeline["axis_fixed"] and timeline["box"] <= 345 and timeline["row_height"] >= 14
    if count == 200:
        assert timeline["content"] > timeline["box"] * 5

    # Sorting: by name up and down, by time left (numbers, unknown last), back by status (problems first).
    names = [c["name"] for c in report["clusters"]]
    assert seen["sort_name_up"] == sorted(names, key=str.lower)
    assert seen["sort_name_down"] == sorted(names, key=str.lower, reverse=True)
    left = [v for v in seen["sort_left_up"] if v is not None]
    assert left == sorted(left) and seen["sort_left_up"][len(left):] == [None] * (count - len(left))
    assert set(seen["sort_status"][:len(unreachable)]) == set(unreachable)
    assert set(seen["sort_status"][len(unreachable):len(unreachable) + len(failing)]) == set(failing)

    # Filtering: by text (any case), by kind, and from "+N more" / a tile.
    assert seen["filter_text"] == [seen["sort_status"][-1]] and seen["filter_count"] == "1 of %d clusters shown" % count
    assert sorted(seen["filter_expiring"]) == sorted(expiring)
    if "more_kind" in seen:
        kind_names = {"unreachable": unreachable, "failing": failing, "expiring": expiring}[seen["more_kind"]]
        assert sorted(seen["filter_more"]) == sorted(kind_names)
    assert seen["filter_all"] == count

    # Details on demand.
    assert seen["details_before"] == 0 and seen["details_after"] > 40
    # The first row is unreachable: its details say why, and list nothing that was not read.
    assert "Reachableno: Cannot connect to the Kubernetes API" in seen["details_text"]
    assert "Intermediate subject" not in seen["details_text"]
    assert "Intermediate subject" in seen["details_last"] and "Root SHA-256" in seen["details_last"]


def test_console_check_catches_a_blocked_fetch(chromium, tmp_path):
    """Control: the checks above would see a page that tries to fetch something or run a script."""
    page = render_html(_sample(evil=False)).replace(
        "</body>", '<img src="http://127.0.0.1:9/x.png"><script>document.title = "ran"</script></body>')
    proc, console = chromium(_write(tmp_path, "bad.html", page), "--dump-dom")
    assert sum("Content Security Policy" in line for line in console) >= 2, console
    assert "<title>ran</title>" not in proc.stdout


def test_screenshots_at_5_30_200(tmp_path, chromium):
    """``make report-shot`` writes the first screen at each size."""
    proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "python"), os.path.join(REPO, "scripts", "report_shot.py"),
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == [str(tmp_path / ("report-%d.png" % n)) for n in (5, 30, 200)]
    for count in (5, 30, 200):
        data = (tmp_path / ("report-%d.png" % count)).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30000
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == SCREEN
