"""Markdown and HTML renderers: every cluster shown, warnings visible, nothing unescaped or fetched."""

import base64
import hashlib
import json
import os
import re
import time
from html.parser import HTMLParser

import pytest

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.html import render_html
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.markdown import md_escape, render_markdown

SAMPLE = os.path.join(os.path.dirname(__file__), "report_sample.json")
EVIL = '<script>alert(1)</script>|*x*" onmouseover="alert(2)'
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "wbr", "source"}


@pytest.fixture
def report():
    with open(SAMPLE) as handle:
        return json.load(handle)


def fleet(count, now="2025-06-01T12:00:00Z"):
    """A synthetic fleet of ``count`` healthy clusters with staggered validity."""
    clusters = []
    for index in range(1, count + 1):
        day = 1 + index % 28
        clusters.append({
            "name": "cluster-%d" % index,
            "intermediate": {"subject": "CN=istio-ca,L=cluster-%d" % index, "issuer": "CN=Root",
                             "serial_hex": "%032x" % index, "not_before": "2025-05-%02dT00:00:00Z" % day,
                             "not_after": "2025-07-%02dT00:00:00Z" % day},
            "certificate": {"revision": index % 4 + 1, "renewal_time": "2025-06-%02dT12:00:00Z" % (15 + index % 14)},
            "root": {"fingerprint_sha256": "ab:cd"},
            "istiod": {"version": "1.22.3", "hot_reload": "enabled", "reloaded": True},
            "problems": [],
        })
    return {"schema_version": 1, "generated_at": now, "clusters": clusters}


class Tree(HTMLParser):
    """Collects what the tests look at and checks that every element is closed in order."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.stack, self.errors = [], []
        self.table_rows, self.svg_rows, self.attrs, self.scripts = [], [], [], 0
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.attrs.append((tag, attrs))
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and "cluster" in attrs.get("class", "").split():
            self.table_rows.append((attrs["data-cluster"], attrs["class"]))
        if tag == "g" and "tl-row" in attrs.get("class", "").split():
            self.svg_rows.append((attrs["data-cluster"], attrs["class"]))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.attrs.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unexpected </%s> (open: %s)" % (tag, self.stack[-3:]))
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def pipes(line):
    """Cell separators in a Markdown table line (escaped pipes are cell content)."""
    return len(re.findall(r"(?<!\\)\|", line))


def parse(page):
    tree = Tree()
    tree.feed(page)
    tree.close()
    assert tree.errors == [] and tree.stack == []
    return tree


def test_html_shows_every_cluster_in_table_and_timeline(report):
    tree = parse(render_html(report))
    names = ["cluster-4", "cluster-5", "cluster-3", "cluster-1", "cluster-2"]  # failing, warning, OK
    assert [row[0] for row in tree.table_rows] == names
    assert [row[0] for row in tree.svg_rows] == names
    status = dict((n, c) for n, c in tree.table_rows)
    assert "status-ok" in status["cluster-1"]
    assert "status-warn" in status["cluster-3"]
    assert "status-fail" in status["cluster-4"] and "status-fail" in status["cluster-5"]
    text = " ".join(tree.text)
    assert "istiod has not reloaded this intermediate" in text
    assert "The fleet does not share one root" in text


def test_html_is_self_contained(report):
    page = render_html(report)
    tree = parse(page)
    assert tree.scripts == 1
    fetching = [(tag, a) for tag, a in tree.attrs for k in ("src", "srcset", "action", "data") if k in a]
    assert fetching == []
    # The only links are to the page's own rows.
    assert [a["href"] for t, a in tree.attrs if "href" in a and not a["href"].startswith("#c-")] == []
    assert "http://" not in page and "https://" not in page and "url(" not in page and "@import" not in page
    csp = [a["content"] for t, a in tree.attrs if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    # The one script runs because the policy names its hash; nothing else may (no 'unsafe-inline').
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert "script-src 'sha256-%s';" % digest in csp[0] and "unsafe-inline'; img" not in csp[0]
    assert not [a for tag, a in tree.attrs if any(k.startswith("on") for k in a)]


def test_html_escapes_cluster_data(report):
    report["clusters"][0]["name"] = EVIL
    report["clusters"][0]["intermediate"]["subject"] = "CN=<img src=x onerror=alert(3)>"
    report["clusters"][3]["problems"] = ["</td></tr></table><marquee>broken"]
    page = render_html(report, title="<u>t</u>")
    tree = parse(page)
    assert tree.scripts == 1  # the page's own, by hash
    assert not [tag for tag, a in tree.attrs if tag in ("img", "u", "marquee")]
    assert not [a for tag, a in tree.attrs if any(k.startswith("on") for k in a)]
    assert EVIL in [row[0] for row in tree.table_rows]     # the name survives, as text
    assert "</td></tr></table><marquee>broken" in " ".join(tree.text)


def test_html_renders_100_clusters_quickly():
    report = fleet(100)
    report["clusters"][41]["istiod"]["reloaded"] = False
    started = time.perf_counter()
    page = render_html(report)
    elapsed = time.perf_counter() - started
    tree = parse(page)
    assert len(tree.table_rows) == 100 and len(tree.svg_rows) == 100
    assert [c for n, c in tree.svg_rows if "status-fail" in c] == ["tl-row status-fail"]
    height = int(re.search(r'<svg class="timeline" viewBox="0 0 \d+ (\d+)"', page).group(1))
    assert height >= 100 * 16
    assert elapsed < 2.0


def test_timeline_marks_renewal_and_now(report):
    page = render_html(report)
    assert page.count('class="renewal"') == 5
    assert page.count('class="now"') == 2  # on the fixed axis and across the rows
    assert page.count('now 2025-06-01T12:00:00Z') == 1


def test_markdown_one_row_per_cluster_with_constant_columns(report):
    text = render_markdown(report)
    rows = [line for line in text.splitlines() if line.startswith("| cluster-")]
    assert [r.split(" | ")[0] for r in rows] == ["| cluster-%d" % i for i in (4, 5, 3, 1, 2)]  # problems first
    header = next(line for line in text.splitlines() if line.startswith("| Cluster |"))
    assert set(pipes(r) for r in rows) == {pipes(header)}
    assert "| cluster-4 | **FAIL** | istiod has not reloaded this intermediate" in text
    # clusters, unreachable, failing, warning, OK, expiring, one shared root
    assert "| 5 | 0 | 2 | 1 | 2 | 1 | **NO** |" in text


def test_markdown_escapes_cluster_data(report):
    report["clusters"][0]["name"] = EVIL
    report["clusters"][1]["problems"] = ["line one\nline two | `code` [link](x)"]
    text = render_markdown(report)
    assert "<script>" not in text
    header = next(line for line in text.splitlines() if line.startswith("| Cluster |"))
    clusters = text.split("## Clusters", 1)[1].splitlines()
    body = [line for line in clusters if line.startswith("| ") and line != header]
    assert len(body) == 5 and set(pipes(r) for r in body) == {pipes(header)}
    assert "line one line two \\| \\`code\\` \\[link\\](x)" in text


def test_md_escape():
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("<b>&") == "&lt;b&gt;&amp;"
    assert md_escape("x_y*z") == "x\\_y\\*z"


def test_renders_what_fleet_report_builds_today(report):
    """Contract with the fleet_report filter: its document (schema 1) renders every field issue 9 lists."""
    from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import fleet_report
    document = fleet_report(report["clusters"], expiring_within="360h", generated_at=report["generated_at"])
    assert document["schema_version"] == 1
    page, text = render_html(document), render_markdown(document)
    for entry in document["clusters"]:
        for value in (entry["name"], entry["intermediate"]["subject"], entry["intermediate"]["serial_hex"],
                      entry["intermediate"]["not_before"], entry["intermediate"]["not_after"],
                      entry["certificate"]["renewal_time"], entry["intermediate"]["issuer"], entry["istiod"]["version"],
                      entry["istiod"]["hot_reload"], entry["root"]["fingerprint_sha256"]):
            assert value in page, value
        row = next(line for line in text.splitlines() if line.startswith("| %s |" % entry["name"]))
        assert entry["intermediate"]["serial_hex"] in row and " %s |" % entry["certificate"]["revision"] in row
    assert "Istiod has detected the newly added intermediate CA" in page
    assert "| 5 | 0 | 2 | 1 | 2 | 1 | **NO** |" in text
