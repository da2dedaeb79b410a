"""Faults during a rotation: a cluster that goes down in the middle of its own change, and a Secret
volume that reaches istiod later than the reload timeout. After each: no cluster without a valid
cacerts under the shared root, the summary says what happened where, the backup restores.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import
import rotation_fleet as rf

pytestmark = pytest.mark.slow

CERT_APPLY = r"/apis/cert-manager.io/v1/namespaces/istio-system/certificates/cacerts$"


def _real_applies(cluster, since):
    return [r for r in cluster.requests.matching(method="PATCH", path=CERT_APPLY)
            if r["time"] >= since and "dryRun=All" not in (r["query"] or "")]


def _summary(tmp_path):
    return {r["cluster"]: r for r in json.loads((tmp_path / "rotation-summary.json").read_text())["clusters"]}


def test_cluster_down_in_the_middle_stops_later_batches(kubesim_fleet_factory, tmp_path):  # noqa: F811
    """Batches [1, 2] on 4 clusters: the canary, then cluster-2 and cluster-3 together, then cluster-4.
    cluster-2 goes down during its change: 1 of 2 failed > max_fail_percentage 0, so cluster-4 is never
    touched, while cluster-3 still finishes and verifies its rotation."""
    fleet = kubesim_fleet_factory(n_clusters=4, preinstall=("cert-manager",), propagation_delay=0.2)
    fleet.root = rf.make_root()
    rf.setup_ca(fleet, fleet.root)
    before = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    c2 = fleet["cluster-2"]
    stop = threading.Event()

    def take_cluster_2_down():
        # Right after cluster-2 accepted its new Certificate spec: the issuance wait loses the API.
        while not stop.wait(0.02):
            if _real_applies(c2, started):
                c2.faults.down = True
                return

    started = time.time()
    watcher = threading.Thread(target=take_cluster_2_down, daemon=True)
    watcher.start()
    try:
        res = run_playbook("playbooks/rotate.yml", inventory=fleet.inventory, extra_vars={
            "report_dir": str(tmp_path), "ca_rotation_duration": "720h", "rotate_serial": [1, 2],
            "ca_rotation_issue_timeout": 30, "ca_rotation_reload_timeout": 30})
    finally:
        stop.set()
        c2.faults.down = False
    assert res.rc != 0
    assert c2.faults.down is False and _real_applies(c2, started), "the fault was never injected"

    failed = rf.failures(res, "Fail this cluster with the cause")
    assert list(failed) == ["cluster-2"], res.explain()
    assert ('step "Back up cacerts in the cluster, apply the Certificate spec and wait for cert-manager\'s new '
            'revision"') in failed["cluster-2"]
    assert "Cannot connect to the Kubernetes API" in failed["cluster-2"]
    backup = rf.backups(fleet, "cluster-2")
    assert len(backup) == 1 and backup[0]["metadata"]["name"] in failed["cluster-2"]

    rows = _summary(tmp_path)
    for name in ("cluster-1", "cluster-3"):
        assert rows[name]["status"] == "rotated" and rows[name]["reloaded"] is True, rows[name]
    assert rows["cluster-2"]["status"] == "failed" and "Cannot connect" in rows["cluster-2"]["error"]
    assert rows["cluster-4"]["status"] == "not_attempted"

    # Every cluster ends with a valid cacerts under the shared root that istiod signs with: cluster-1 and
    # cluster-3 rotated, cluster-2 rotated by cert-manager while the API was unreachable to us, cluster-4
    # untouched (max_fail_percentage 0 stopped the later batch).
    rf.wait_for(lambda: rf.istiod_signing_serial(fleet, "cluster-2") == rf.cacerts_serial(fleet, "cluster-2"),
                timeout=20, what="cluster-2 istiod to reload")
    after = rf.assert_fleet_sound(fleet, fleet.root.fingerprint)
    for name in ("cluster-1", "cluster-3"):
        assert after[name]["serial"] == rows[name]["new_serial"] != before[name]["serial"]
    assert after["cluster-4"]["serial"] == before["cluster-4"]["serial"]
    assert after["cluster-4"]["revision"] == before["cluster-4"]["revision"]
    assert rf.backups(fleet, "cluster-4") == []
    assert not [r for r in fleet["cluster-4"].requests if r["time"] >= started and r["method"] != "GET"
                and "dryRun=All" not in (r["query"] or "")]

    # The backup taken before the interrupted change restores.
    res = run_playbook("playbooks/restore.yml", inventory=fleet.inventory, limit="cluster-2",
                       extra_vars={"restore_backup": "latest", "restore_reload_timeout": 30})
    assert res.rc == 0, res.explain()
    restored = rf.cluster_state(fleet, "cluster-2")
    assert restored["serial"] == before["cluster-2"]["serial"] and restored["valid"]
    assert restored["istiod_serial"] == before["cluster-2"]["serial"]
    rf.assert_fleet_sound(fleet, fleet.root.fingerprint)


def test_propagation_slower_than_the_reload_timeout(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("cert-manager",), propagation_delay=45)
    fleet.root = rf.make_root()
    rf.setup_ca(fleet, fleet.root)
    before = rf.cluster_state(fleet, "cluster-1")
    res = run_playbook("playbooks/rotate.yml", inventory=fleet.inventory, extra_vars={
        "report_dir": str(tmp_path), "ca_rotation_force": True, "ca_rotation_reload_timeout": 4})
    assert res.rc != 0
    failed = rf.failures(res, "Fail this cluster with the cause")
    assert 'step "Prove istiod signs with the new intermediate"' in failed["cluster-1"]
    assert "timeout" in failed["cluster-1"].lower() or "timed out" in failed["cluster-1"].lower()
    mid = rf.cluster_state(fleet, "cluster-1")
    # The new intermediate is in cacerts and valid; istiod still signs with the old, valid one.
    assert mid["valid"] and mid["serial"] != before["serial"] and mid["istiod_serial"] == before["serial"]
    assert _summary(tmp_path)["cluster-1"]["status"] == "failed"
    # Once the volume catches up istiod reloads on its own: nothing is left broken.
    fleet.advance(60)
    rf.wait_for(lambda: rf.istiod_signing_serial(fleet, "cluster-1") == mid["serial"], timeout=20,
                what="istiod to reload after the delay")
    rf.assert_fleet_sound(fleet, fleet.root.fingerprint)
