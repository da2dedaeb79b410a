"""playbooks/rotate.yml against a 3-cluster simulated fleet: the upstream tutorial's 1440h -> 720h
change in canary-then-batches order, a re-run that changes nothing, and a forced renewal with an
unchanged spec under transient API faults. Every test checks every cluster, not only the exit code.
On fleets of their own: a run interrupted (SIGINT) right after the canary's change, and its rerun;
the preflight of a fleet that was never deployed; a malformed request.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest

from helpers_ansible import REPO, VENV_BIN, ansible_env, run_playbook
from kubesim.fixtures import kubesim_fleet_factory, kubesim_module_fleet_factory  # noqa: F401  pylint: disable=unused-import
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


def _saved_status(directory):
    """The one saved status a run wrote into ``directory`` (named per run and host set: status_file_name)."""
    [path] = directory.glob("fleet-status-*.json")
    return json.loads(path.read_text())


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
    saved = _saved_status(tmp_path)
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


RECORD = "meshpki-istio-ca-rotation"


def _record(fleet, name):
    return (fleet[name].get("v1", "configmaps", rf.NS, RECORD) or {}).get("data") or {}


def _journal(tmp_path):
    out = {}
    for path in sorted((tmp_path / "journal").glob("*.jsonl")):
        out[path.stem] = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out


def test_interrupted_run_leaves_a_record_the_rerun_names(kubesim_fleet_factory, tmp_path):  # noqa: F811
    """SIGINT right after cluster-1's change was applied (before its verification): the controller journal
    and the cluster's record say how far it got; the rerun's summary and saved status name it as rotated
    by a run that did not finish, verified now."""
    # A slow Secret volume update keeps the interrupted run in cluster-1's verification long enough.
    fleet = kubesim_fleet_factory(n_clusters=2, preinstall=("cert-manager",), propagation_delay=3.0)
    fleet.root = rf.make_root()
    rf.setup_ca(fleet, fleet.root)
    before = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    extra = {"report_dir": str(tmp_path), "ca_rotation_duration": "720h", "ca_rotation_reload_timeout": 60}
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    cmd = [str(VENV_BIN / "ansible-playbook"), "playbooks/rotate.yml", "-i", str(fleet.inventory),
           "-e", "@%s" % (tmp_path / "vars.json")]
    proc = subprocess.Popen(cmd, cwd=str(REPO), env=ansible_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        rf.wait_for(lambda: _record(fleet, "cluster-1").get("step") == "applied" or proc.poll() is not None,
                    timeout=180, interval=0.05, what="cluster-1's change to be applied")
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    assert not (tmp_path / "rotation-summary.json").exists()

    # What the interrupted run left: in the cluster and in the run's journal on the controller.
    left = _record(fleet, "cluster-1")
    assert left["step"] == "applied" and left["old_serial"] == before["cluster-1"]["serial"]
    assert left["new_serial"] == rf.cacerts_serial(fleet, "cluster-1") != before["cluster-1"]["serial"]
    journals = _journal(tmp_path)
    assert list(journals) == [left["run"]]
    steps = [(e["cluster"], e["step"]) for e in journals[left["run"]]]
    assert steps == [("cluster-1", "started"), ("cluster-1", "applied")]
    assert _record(fleet, "cluster-2") == {}  # the canary's batch never ended: cluster-2 was not touched

    res, summary = _rotate(fleet, tmp_path, ca_rotation_duration="720h")
    assert res.rc == 0, res.explain()
    after = rf.assert_fleet_sound(fleet, fleet.root.fingerprint)
    rows = {r["cluster"]: r for r in summary["clusters"]}
    one = rows["cluster-1"]
    assert one["status"] == "unchanged" and one["new_serial"] == after["cluster-1"]["serial"] == left["new_serial"]
    note = one["previous_run"]
    assert note.startswith("rotated at %s by run %s that did not finish" % (left["at"], left["run"])), note
    assert note.endswith("verified now"), note
    assert any(line.startswith("cluster-1") and note in line for line in summary["lines"]), summary["lines"]
    assert rows["cluster-2"]["status"] == "rotated" and rows["cluster-2"]["previous_run"] is None
    assert summary["request"] == {"duration": "720h", "renew_before": None, "force": False}

    saved = {c["name"]: c for c in _saved_status(tmp_path)["clusters"]}
    assert saved["cluster-1"]["last_rotation"]["note"] == note
    assert saved["cluster-1"]["last_rotation"]["run"] == left["run"]
    assert saved["cluster-2"]["last_rotation"]["step"] == "verified" and saved["cluster-2"]["last_rotation"]["note"] is None
    assert saved["cluster-2"]["certificate"]["duration"] == rows["cluster-2"]["duration"] == "720h"

    # The rerun acknowledged the record, so the next run has nothing more to say about it.
    acked = _record(fleet, "cluster-1")
    assert acked["step"] == "verified" and acked["run"] == left["run"] and acked["verified_by"] == summary["run"]
    journals = _journal(tmp_path)
    assert [e["step"] for e in journals[summary["run"]] if e["cluster"] == "cluster-1"] == ["verified"]
    assert [e["step"] for e in journals[summary["run"]] if e["cluster"] == "cluster-2"] == \
        ["started", "applied", "verified"]


def test_preflight_of_a_fleet_never_deployed_says_to_deploy(kubesim_fleet_factory, tmp_path):  # noqa: F811
    """Rotate before deploy: istiod runs (label app=istiod) but there is no cacerts and no Certificate.
    The finding names what is missing, not istiod."""
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("cert-manager", "istio"))
    deployments = fleet["cluster-1"].list("apps/v1", "deployments", rf.NS)
    assert any((d["metadata"].get("labels") or {}).get("app") == "istiod" for d in deployments)
    res, _summary = _rotate(fleet, tmp_path, ca_rotation_duration="720h")
    assert res.rc != 0
    msg = rf.failures(res, "Stop unless every preflight check passed on every cluster of the play")["cluster-1"]
    assert "cacerts does not exist in istio-system" in msg and "run deploy.yml first" in msg, msg
    assert "istiod" not in msg, msg


def test_malformed_duration_is_named_and_nothing_is_asked_of_a_cluster(fleet, tmp_path):
    started = time.time()
    res, _summary = _rotate(fleet, tmp_path, ca_rotation_duration="30d")
    assert res.rc != 0
    failures = rf.failures(res, "Stop unless every preflight check passed on every cluster of the play")
    assert sorted(failures) == fleet.names, res.explain()
    for msg in failures.values():
        assert "ca_rotation_duration='30d' is not a Go duration" in msg and 'unknown unit "d"' in msg, msg
    # Parsed once, by rotation_request: the malformed value never reached the certificate module (no dry run).
    assert [n for n in fleet.names if _applies(fleet, n, started, dry_run=True)] == []
    assert [r for c in fleet.clusters for r in c.requests if r["time"] >= started and r["method"] != "GET"] == []


PREFLIGHT_ONLY = """\
- name: The ca_rotation role's preflight on its own (no rotate.yml around it)
  hosts: clusters
  gather_facts: false
  tasks:
    - name: Run the read-only preflight
      ansible.builtin.include_role:
        name: meshpki.istio_ca.ca_rotation
        tasks_from: preflight
"""


def test_the_role_preflight_refuses_a_request_for_nothing_before_reading_a_cluster(fleet, tmp_path):
    """The "nothing requested" rule lives in the role's preflight (issue 17), so any playbook over the role
    gets it, with rotate.yml's message, before a cluster is read; ca_rotation_allow_noop makes it a check."""
    playbook = tmp_path / "preflight.yml"
    playbook.write_text(PREFLIGHT_ONLY)
    started = time.time()
    res = run_playbook(playbook, inventory=fleet.inventory, extra_vars={"report_dir": str(tmp_path)})
    assert res.rc != 0
    failed = res.failed_tasks()
    assert [name.split(" : ")[-1] for name, _h, _m in failed] == [
        "Fail when nothing was requested (ca_rotation_allow_noop makes it a check)"], res.explain()
    assert "nothing to rotate was requested" in failed[0][2] and "ca_rotation_allow_noop=true" in failed[0][2]
    assert [r for c in fleet.clusters for r in c.requests if r["time"] >= started] == []

    res = run_playbook(playbook, inventory=fleet.inventory,
                       extra_vars={"report_dir": str(tmp_path), "ca_rotation_allow_noop": True})
    assert res.rc == 0, res.explain()
    assert res.changed_total() == 0
