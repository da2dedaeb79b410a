"""playbooks/report.yml: read-only, check-mode safe, and report.json true to every cluster.

Three clusters: a healthy one (Istio 1.22), one whose istiod (1.16, no AUTO_RELOAD_PLUGIN_CERTS)
cannot hot-reload, and one that is down while the report runs. Values in report.json are compared
with what the simulated clusters hold. Then issue 18: a cluster whose kubeconfig path is misspelled
is unreachable (with the cause), makes "one shared root" unknown, comes first in red in report.html,
and fails the run by default, after all three reports are written.
"""

from __future__ import annotations

import json
import re
import time
from html import unescape

import pytest
import yaml

from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import
import rotation_fleet as rf
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report import model as report_model

pytestmark = pytest.mark.slow


def test_report_json_per_cluster_and_fleet(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=3, preinstall=("cert-manager",), propagation_delay=0.2)
    root = rf.make_root()
    rf.setup_ca(fleet, root, clusters=["cluster-1", "cluster-3"])
    rf.setup_ca(fleet, root, clusters=["cluster-2"], istio_version="1.16.7", duration="720h")
    states = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    fleet["cluster-3"].faults.down = True
    since = time.time()
    try:
        res = run_playbook("playbooks/report.yml", inventory=fleet.inventory, check=True,
                           extra_vars={"report_dir": str(tmp_path / "out"), "report_expiring_within": "1000h",
                                       "report_fail_on_problems": False})
    finally:
        fleet["cluster-3"].faults.down = False
    assert res.rc == 0, res.explain()
    # Read-only, even in check mode the report is written (a local file, not a cluster change).
    assert not [r for c in fleet.clusters for r in c.requests if r["time"] >= since and r["method"] != "GET"]
    assert res.changed_total() == 0  # writing the report is output, not a change
    report = json.loads((tmp_path / "out" / "report.json").read_text())

    assert report["schema_version"] == 1
    assert report["settings"]["expiring_within_seconds"] == 1000 * 3600
    clusters = {c["name"]: c for c in report["clusters"]}
    assert [c["name"] for c in report["clusters"]] == fleet.names

    for name in ("cluster-1", "cluster-2"):
        entry, st = clusters[name], states[name]
        crt = st["certificate"]
        assert entry["reachable"] is True
        assert entry["intermediate"]["serial_hex"] == st["serial"]
        assert entry["intermediate"]["not_after"] == st["not_after"].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert entry["intermediate"]["not_before"] == st["not_before"].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert entry["intermediate"]["subject"] == f"CN=Intermediate CA,O=Istio,L={name}"
        assert 0 < entry["intermediate"]["seconds_remaining"] <= (st["not_after"] - st["not_before"]).total_seconds()
        assert entry["intermediate"]["issuer"] == "CN=Test Root CA,O=meshpki tests"
        assert entry["certificate"]["revision"] == crt["status"]["revision"] == 1
        assert entry["certificate"]["renewal_time"] == crt["status"]["renewalTime"]
        assert entry["certificate"]["issuer_ref"] == {"name": "meshpki-istio-ca", "kind": "ClusterIssuer",
                                                      "group": "cert-manager.io"}
        assert entry["root"]["fingerprint_sha256"] == root.fingerprint
        assert entry["chain"]["key_matches"] is True and entry["chain"]["istio_ready"] is True
        assert entry["istiod"]["reloaded"] is True
        assert entry["istiod"]["root_consistent"] is True
        assert entry["istiod"]["last_reload"]["pod"].startswith("istiod-")

    ok, stale = clusters["cluster-1"], clusters["cluster-2"]
    assert ok["istiod"]["version"] == "1.22.3" and ok["istiod"]["hot_reload"] == "enabled"
    # These clusters run ca_keypair with the root: its key is in each cluster, which the trust check
    # (ca_setup's inspect_trust) makes the one problem of an otherwise healthy cluster (issue 20).
    assert ok["trust"]["source"] == "root key in the cluster"
    assert ok["trust"]["root_key"] == "in this cluster: Secret cert-manager/meshpki-istio-root-ca"
    assert ok["problems"] == [
        "Secret cert-manager/meshpki-istio-root-ca (tls.key) on cluster-1 holds the private key of the fleet root "
        "(CN=Test Root CA,O=meshpki tests); delete it (only the cluster's own issuing CA Secret may hold its own key)"]
    assert ok["ok"] is False
    assert stale["istiod"]["version"] == "1.16.7" and stale["istiod"]["hot_reload_state"] == "off"
    assert any("AUTO_RELOAD_PLUGIN_CERTS" in p for p in stale["problems"]), stale["problems"]

    down = clusters["cluster-3"]
    assert down["reachable"] is False and down["ok"] is False
    assert any("onnect" in p for p in down["problems"]), down["problems"]
    assert down["intermediate"] is None

    fleet_part = report["fleet"]
    assert fleet_part["clusters_total"] == 3 and fleet_part["clusters_ok"] == 0
    # cluster-3's root could not be read: one shared root is unknown (null), never true (issue 18).
    assert fleet_part["root_consistent"] is None and fleet_part["reference_root"] == root.fingerprint
    assert fleet_part["root_unknown"] == ["cluster-3"] and fleet_part["ok"] is False
    assert fleet_part["expiring_within_threshold"] == ["cluster-2"]  # 720h left < 1000h; cluster-1 has 1440h
    assert fleet_part["failing_checks"] == ["cluster-1", "cluster-2", "cluster-3"]
    assert fleet_part["unreachable"] == ["cluster-3"]

    # The renderers (report.md / report.html) read this document as it is.
    view = report_model.build_view(report)
    assert [r["name"] for r in view["rows"]] == ["cluster-3", "cluster-1", "cluster-2"]  # unreachable first
    assert view["rows"][1]["serial"] == states["cluster-1"]["serial"]
    assert view["rows"][1]["trust_source"] == "root key in the cluster"
    assert view["fleet"]["fail"] == ["cluster-1", "cluster-2", "cluster-3"]
    # report.yml writes report.md and report.html from that same document.
    md = (tmp_path / "out" / "report.md").read_text()
    html_page = (tmp_path / "out" / "report.html").read_text()
    assert md.startswith("# ") and all(name in md for name in fleet.names) and states["cluster-1"]["serial"] in md
    assert html_page.startswith("<!DOCTYPE html>") and all(name in html_page for name in fleet.names)
    assert "1 cluster(s) expire within 41d 16h" in md, md  # the 1000h threshold reached the renderer

    # Rendered again from the saved report.json, with every cluster down: no request reaches any cluster,
    # the entries are the saved ones (serials, problems, each cluster's checked_at), the source says so.
    saved = tmp_path / "out" / "report.json"
    for c in fleet.clusters:
        c.faults.down = True
    since = time.time()
    try:
        again = run_playbook("playbooks/report.yml", inventory=fleet.inventory,
                             extra_vars={"report_dir": str(tmp_path / "offline"), "report_from": str(saved),
                                         "report_expiring_within": "1000h", "report_fail_on_problems": False})
    finally:
        for c in fleet.clusters:
            c.faults.down = False
    assert again.rc == 0, again.explain()
    assert not [r for c in fleet.clusters for r in c.requests if r["time"] >= since]
    offline = json.loads((tmp_path / "offline" / "report.json").read_text())
    assert offline["source"] == "saved: %s" % saved
    assert [c["name"] for c in offline["clusters"]] == fleet.names
    for name in fleet.names:
        before, after = clusters[name], {c["name"]: c for c in offline["clusters"]}[name]
        assert after["checked_at"] == before["checked_at"] and after["problems"] == before["problems"]
        if name != "cluster-3":
            # Time left is counted again from now; everything else is what was saved.
            assert after["intermediate"]["seconds_remaining"] <= before["intermediate"]["seconds_remaining"]
            assert dict(after["intermediate"], seconds_remaining=0) == dict(before["intermediate"], seconds_remaining=0)
    assert offline["fleet"]["failing_checks"] == ["cluster-1", "cluster-2", "cluster-3"]
    assert (tmp_path / "offline" / "report.html").read_text().count("cluster-") >= 3


def test_report_from_a_file_that_is_not_a_fleet_status_fails_clearly(tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text(json.dumps({"hello": "world"}))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"children": {"clusters": {"hosts": {"c1": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}}}))
    res = run_playbook("playbooks/report.yml", inventory=inventory,
                       extra_vars={"report_dir": str(tmp_path / "out"), "report_from": str(bogus)})
    assert res.rc != 0
    assert "is not a fleet status document of schema_version 1" in res.stdout + res.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_misspelled_kubeconfig_is_unreachable_unknown_root_red_first_and_fails(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=3, preinstall=("cert-manager",), propagation_delay=0.2)
    root = rf.make_root()
    rf.setup_ca(fleet, root)
    inventory = yaml.safe_load(open(fleet.inventory))
    hosts = inventory["all"]["children"]["clusters"]["hosts"]
    wrong = hosts["cluster-2"]["k8s_kubeconfig"].replace("kubeconfig", "kubeconfgi")
    hosts["cluster-2"]["k8s_kubeconfig"] = wrong
    typo = tmp_path / "inventory.yml"
    typo.write_text(yaml.safe_dump(inventory))
    out = tmp_path / "out"
    res = run_playbook("playbooks/report.yml", inventory=typo, extra_vars={"report_dir": str(out)})

    assert res.rc != 0, res.explain()
    failed = res.failed_tasks()
    assert [t for t, _h, _m in failed] == ["Fail when the fleet is not OK (report_fail_on_problems, default true)"]
    assert failed[0][2].startswith("not OK: cluster-2 unreachable: Cannot read "), failed  # the loader's cause
    assert "kubeconfgi" in failed[0][2]  # the misspelled name, as the user wrote it
    assert "one shared root: unknown" in failed[0][2]
    # All three reports are written before the run fails.
    report = json.loads((out / "report.json").read_text())
    entry = {c["name"]: c for c in report["clusters"]}["cluster-2"]
    assert entry["reachable"] is False
    cause = entry["unreachable_cause"]
    assert cause.startswith("Cannot read ") and "kubeconfgi" in cause and "kubeconfig" in cause, cause
    assert entry["problems"] == ["cannot read this cluster: " + cause]
    assert report["fleet"]["unreachable"] == ["cluster-2"] and report["fleet"]["root_unknown"] == ["cluster-2"]
    assert report["fleet"]["root_consistent"] is None and report["fleet"]["ok"] is False
    # The two readable clusters fail the trust check only (ca_keypair with the root: its key is in each).
    assert report["fleet"]["failing_checks"] == ["cluster-1", "cluster-2", "cluster-3"]
    for name in ("cluster-1", "cluster-3"):
        readable = {c["name"]: c for c in report["clusters"]}[name]
        assert [p for p in readable["problems"] if "holds the private key of the fleet root" not in p] == [], readable
    assert "| 3 | 1 | 2 | 0 | 0 | 0 | **unknown** |" in (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    rows = re.findall(r'<tr class="cluster status-(\w+)" id="[^"]*" data-cluster="([^"]*)"', page)
    assert rows[0] == ("fail", "cluster-2") and [r[1] for r in rows[1:]] == ["cluster-1", "cluster-3"]
    tile = re.search(r'data-tile="root"[^>]*><b>([^<]*)</b>', page)
    assert unescape(tile.group(1)) == "unknown"

    # Asked only to report, the same fleet passes.
    again = run_playbook("playbooks/report.yml", inventory=typo,
                         extra_vars={"report_dir": str(tmp_path / "again"), "report_fail_on_problems": False})
    assert again.rc == 0, again.explain()


def test_report_variables_are_checked_before_anything_is_read(tmp_path):
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"children": {"clusters": {"hosts": {"c1": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}}}))
    res = run_playbook("playbooks/report.yml", inventory=inventory,
                       extra_vars={"report_dir": str(tmp_path / "out"), "report_fail_on_problems": "maybe"})
    assert res.rc != 0
    (task, _host, msg), = res.failed_tasks()
    assert task == "Check the report variables" and "report_fail_on_problems" in msg, msg
    assert not (tmp_path / "out").exists()
