"""playbooks/rotate.yml against a 3-cluster simulated fleet: the upstream tutorial's 1440h -> 720h
change in canary-then-batches order, a re-run that changes nothing, and a forced renewal with an
unchanged spec under transient API faults. Every test checks every cluster, not only the exit code.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_module_fleet_factory  # noqa: F401  pylint: disable=unused-import
import rotation_fleet as rf

pytestmark = pytest.mark.slow

CERT_PATH = r"/apis/cert-manager.io/v1/namespaces/istio-system/certificates/cacerts$"


@pytest.fixture(scope="module")
def fleet(kubesim_module_fleet_factory):  # noqa: F811
    fleet = kubesim_module_fleet_factory(n_clusters=3, preinstall=("cert-manager",), propagation_delay=0.5)
    root = rf.make_root()
    rf.setup_ca(fleet, root)
    fleet.root = root
    return fleet


def _rotate(fleet, tmp_path, **extra):
    extra_vars = {"report_dir": str(tmp_path), "ca_rotation_reload_timeout": 60, "ca_rotation_issue_timeout": 60}
    extra_vars.update(extra)
    res = run_playbook("playbooks/rotate.yml", inventory=fleet.inventory, extra_vars=extra_vars)
    summary_file = tmp_path / "rotation-summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else None
    return res, summary


def _applies(fleet, name, since, dry_run):
    out = []
    for r in fleet[name].requests.matching(method="PATCH", path=CERT_PATH):
        if r["time"] >= since and (("dryRun=All" in (r["query"] or "")) == dry_run):
            out.append(r["time"])
    return out


def _backup_writes(fleet, name, since):
    return [r["time"] for r in fleet[name].requests.matching(method="POST", path=r"/namespaces/istio-system/secrets$")
            if r["time"] >= since and r["status"] < 300]


def _last_request(fleet, name, since):
    return max(r["time"] for r in fleet[name].requests if r["time"] >= since)


def test_check_mode_changes_nothing(fleet, tmp_path):
    before = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    started = time.time()
    res = run_playbook("playbooks/rotate.yml", inventory=fleet.inventory, check=True,
                       extra_vars={"report_dir": str(tmp_path), "ca_rotation_duration": "720h"})
    assert res.rc == 0, res.explain()
    writes = [(c.name, r["method"], r["path"]) for c in fleet.clusters for r in c.requests
              if r["time"] >= started and r["method"] != "GET" and "dryRun=All" not in (r["query"] or "")]
    assert writes == []
    for name in fleet.names:
        st = rf.cluster_state(fleet, name)
        assert (st["serial"], st["revision"]) == (before[name]["serial"], before[name]["revision"])
        assert st["certificate"]["spec"]["duration"] == "1440h"
        assert rf.backups(fleet, name) == []
    summary = json.loads((tmp_path / "rotation-summary.json").read_text())
    assert summary["check_mode"] is True
    assert [(r["cluster"], r["status"], r["reissue"]) for r in summary["clusters"]] == \
        [(n, "checked", "spec_change") for n in fleet.names]


def test_rotate_1440h_to_720h_canary_then_batches(fleet, tmp_path):
    before = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    started = time.time()
    res, summary = _rotate(fleet, tmp_path, ca_rotation_duration="720h")
    assert res.rc == 0, res.explain()

    # Every cluster: a new intermediate under the unchanged root, istiod signing with it, 720h lifetime.
    after = rf.assert_fleet_sound(fleet, fleet.root.fingerprint)
    for name in fleet.names:
        b, a = before[name], after[name]
        assert a["serial"] != b["serial"], name
        assert a["revision"] == b["revision"] + 1, name
        assert a["certificate"]["spec"]["duration"] == "720h", name
        assert (a["not_after"] - a["not_before"]).total_seconds() == 720 * 3600, name
        # The backup holds the previous intermediate and its key.
        backups = rf.backups(fleet, name)
        assert len(backups) == 1, name
        assert backups[0]["metadata"]["annotations"]["meshpki.istio_ca/serial"] == b["serial"]
        assert rf.cacerts_serial(fleet, name, backups[0]["metadata"]["name"]) == b["serial"]

    # Preflight of every cluster came before the first change anywhere. (Each cluster's first dry-run
    # apply is its preflight; the certificate module dry-runs again right before it backs up.)
    last_preflight = max(min(_applies(fleet, n, started, dry_run=True)) for n in fleet.names)
    first_backup = min(t for n in fleet.names for t in _backup_writes(fleet, n, started))
    assert last_preflight < first_backup

    # Canary cluster-1 finished (reload verified) before cluster-2 changed; then cluster-2 before cluster-3
    # (serial [1, '25%'] of 3 clusters is batches of one).
    c1_done, c2_done = _last_request(fleet, "cluster-1", started), _last_request(fleet, "cluster-2", started)
    assert c1_done < min(_backup_writes(fleet, "cluster-2", started))
    assert c2_done < min(_backup_writes(fleet, "cluster-3", started))
    assert len(_applies(fleet, "cluster-3", started, dry_run=False)) == 1

    # The summary names every cluster with old -> new serial, expiry and the reload verdict.
    assert summary["ok"] is True
    assert summary["counts"]["rotated"] == 3
    rows = {r["cluster"]: r for r in summary["clusters"]}
    for name in fleet.names:
        row = rows[name]
        assert row["status"] == "rotated"
        assert row["old_serial"] == before[name]["serial"]
        assert row["new_serial"] == after[name]["serial"]
        assert row["reloaded"] is True
        assert row["not_after"] == after[name]["certificate"]["status"]["notAfter"]
        assert row["backup"]["cluster"] == "istio-system/" + rf.backups(fleet, name)[0]["metadata"]["name"]
    starts = [rows[n]["started_at"] for n in fleet.names]
    assert starts == sorted(starts)

    # Every cluster's CA status after the change is saved for report.yml -e report_from=... (built from
    # what the change read, no extra request): the new serial and lifetime, istiod signing with it.
    saved = json.loads((tmp_path / "fleet-status.json").read_text())
    assert saved["schema_version"] == 1 and saved["source"] == "rotate.yml"
    entries = {c["name"]: c for c in saved["clusters"]}
    for name in fleet.names:
        entry = entries[name]
        assert entry["intermediate"]["serial_hex"] == after[name]["serial"], name
        assert entry["certificate"]["duration"] == "720h" and entry["certificate"]["revision"] == after[name]["revision"]
        assert entry["istiod"]["reloaded"] is True and entry["problems"] == [], entry["problems"]
    assert saved["fleet"]["root_consistent"] is True and saved["fleet"]["clusters_ok"] == 3


def test_second_run_changes_nothing(fleet, tmp_path):
    before = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    res, summary = _rotate(fleet, tmp_path, ca_rotation_duration="720h")
    assert res.rc == 0, res.explain()
    assert {h: c for h, c in res.changed_by_host().items() if h != "localhost"} == {n: 0 for n in fleet.names}, \
        res.changed_tasks()
    after = rf.assert_fleet_sound(fleet, fleet.root.fingerprint)
    for name in fleet.names:
        assert after[name]["serial"] == before[name]["serial"]
        assert after[name]["revision"] == before[name]["revision"]
        assert len(rf.backups(fleet, name)) == 1
    assert summary["counts"]["unchanged"] == 3


def test_forced_renewal_with_unchanged_spec_under_transient_faults(fleet, tmp_path):
    """ca_rotation_force re-issues although the spec is unchanged; batches overridden to [1, 2];
    cluster-2 answers 2 s late from its change on, cluster-3 throws 503, 429 and 500 bursts and a 409."""
    before = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    c2, c3 = fleet["cluster-2"], fleet["cluster-3"]
    c3.faults.fail_next(3, method="GET", path="/certificates/cacerts$", code=503)
    c3.faults.fail_next(2, path="/secrets/cacerts$", code=429, retry_after=1)
    c3.faults.fail_next(2, method="GET", path="/pods$", code=500)
    # A conflict on the read-modify-write of the renewal trigger (status subresource): re-read and retried.
    c3.faults.fail_next(1, method="PUT", path="/certificates/cacerts/status$", code=409)
    stop = threading.Event()

    def slow_cluster_2():
        # 2 s latency from cluster-2's own change on: the issuance wait, the inspection and the reload check.
        while not stop.wait(0.05):
            if _applies(fleet, "cluster-2", started, dry_run=False):
                c2.faults.latency = 2.0
                return

    started = time.time()
    watcher = threading.Thread(target=slow_cluster_2, daemon=True)
    watcher.start()
    try:
        res, summary = _rotate(fleet, tmp_path, ca_rotation_force=True, rotate_serial=[1, 2])
    finally:
        stop.set()
        c2.faults.reset()
        c3.faults.reset()
    assert res.rc == 0, res.explain()
    after = rf.assert_fleet_sound(fleet, fleet.root.fingerprint)
    for name in fleet.names:
        assert after[name]["serial"] != before[name]["serial"], name
        assert after[name]["revision"] == before[name]["revision"] + 1, name
        assert after[name]["certificate"]["spec"] == before[name]["certificate"]["spec"], name
        assert len(rf.backups(fleet, name)) == 2, name
    # The faults were really served, and retried.
    statuses = [r["status"] for r in c3.requests if r["time"] >= started]
    assert statuses.count(503) == 3 and statuses.count(429) == 2 and statuses.count(500) == 2
    assert statuses.count(409) == 1
    assert any(r["duration"] >= 1.9 for r in c2.requests if r["time"] >= started)
    # Batches [1, 2]: cluster-2 and cluster-3 changed together after the canary.
    batch_two = _backup_writes(fleet, "cluster-2", started) + _backup_writes(fleet, "cluster-3", started)
    assert _last_request(fleet, "cluster-1", started) < min(batch_two)
    rows = {r["cluster"]: r for r in summary["clusters"]}
    assert all(rows[n]["status"] == "rotated" and rows[n]["reissue"] == "forced" for n in fleet.names), rows
