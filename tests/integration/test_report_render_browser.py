"""Look at report.html as a person would: in a real browser (headless Chromium).

The unit tests check the markup; this checks that a browser loads the page with no
console errors (a blocked fetch shows up as one, thanks to the page's CSP), lays out
every cluster's table row and timeline row with a real size, and can screenshot it.
Chromium comes from Debian's ``chromium`` package; the fixture installs it where it is
missing and apt can run, and skips with the reason otherwise.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from html import unescape

import pytest

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.html import render_html

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, os.pardir, "unit", "plugins", "plugin_utils", "report", "report_sample.json")
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]

# Measures what a person would see: each cluster's row and timeline bar has a size and
# sits inside the page/timeline. Added to a copy of the page, allowed by its hash in the CSP.
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


def _fleet(count):
    report = _sample(evil=False)
    template = report["clusters"][0]
    report["clusters"] = []
    for index in range(1, count + 1):
        entry = json.loads(json.dumps(template))
        entry["name"] = "cluster-%03d" % index
        if index % 17 == 0:
            entry["istiod"]["reloaded"] = False
        report["clusters"].append(entry)
    return report


def _write(tmp_path, name, page):
    path = tmp_path / name
    path.write_text(page, encoding="utf-8")
    return path


def _with_probe(page):
    digest = base64.b64encode(hashlib.sha256(LAYOUT_PROBE.encode()).digest()).decode()
    csp = "default-src &#x27;none&#x27;;"
    assert csp in page
    page = page.replace(csp, csp + " script-src &#x27;sha256-%s&#x27;;" % digest, 1)
    return page.replace("</body>", "<script>%s</script></body>" % LAYOUT_PROBE, 1)


def _dom_clusters(dom, tag):
    return re.findall(r'<%s class="[^"]*" data-cluster="([^"]*)"' % tag, dom)


@pytest.mark.parametrize("count", [None, 100])
def test_page_loads_clean_and_shows_every_cluster(chromium, tmp_path, count):
    report = _sample() if count is None else _fleet(count)
    page = render_html(report)
    proc, console = chromium(_write(tmp_path, "report.html", page), "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console == []
    expected = sorted(c["name"] for c in report["clusters"])
    assert sorted(unescape(n) for n in _dom_clusters(proc.stdout, "tr")) == expected
    assert sorted(unescape(n) for n in _dom_clusters(proc.stdout, "g")) == expected
    assert "<img" not in proc.stdout


@pytest.mark.parametrize("count", [5, 100])
def test_layout_gives_every_cluster_a_visible_row_and_bar(chromium, tmp_path, count):
    report = _sample() if count == 5 else _fleet(count)
    page = _with_probe(render_html(report))
    proc, console = chromium(_write(tmp_path, "probe.html", page), "--window-size=1400,1000", "--dump-dom")
    assert console == []
    layout = re.search(r'data-layout="([^"]*)"', proc.stdout)
    assert layout, "the layout probe did not run: %s" % proc.stderr[-1500:]
    assert layout.group(1) == "ok %d %d" % (count, count)


def test_console_check_catches_a_blocked_fetch(chromium, tmp_path):
    """Control: the checks above would see a page that tries to fetch something."""
    page = render_html(_sample(evil=False)).replace("</body>", '<img src="http://127.0.0.1:9/x.png"></body>')
    console = chromium(_write(tmp_path, "bad.html", page), "--dump-dom")[1]
    assert any("Content Security Policy" in line for line in console), console


def test_screenshot(chromium, tmp_path):
    shot = tmp_path / "report.png"
    proc, console = chromium(_write(tmp_path, "report.html", render_html(_sample())),
                             "--window-size=1400,1100", "--screenshot=%s" % shot)
    assert proc.returncode == 0 and console == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30000
