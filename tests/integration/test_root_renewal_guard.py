"""A cert-manager-made root that renews, end to end (issue 14 item 2; docs/guards.md "Root renewal").

A renewed root keeps its key with rotationPolicy Never but gets a new serial and validity; the CA issuer then
writes the new root bytes into the next cacerts' ca.crt, and istiod compares root bytes exactly
(pilot/pkg/bootstrap/istio_ca.go, the bytes.Equal on the root): "Multi root is disabled, updating new ROOT-CA
not supported", the reload is aborted and istiod keeps the old intermediate. What the collection does:

- a root whose renewal time falls before this cluster's next rotation: rotate.yml's preflight refuses, naming
  the root's renewal time, before anything changes; report.yml shows the root renewal time and the problem;
- a root renewed anyway (by hand, ``cmctl renew`` - documented as not protected): the rotation re-issues
  cacerts under the new root bytes; the rotation's chain check sees the root change and fails that cluster,
  naming both roots and the backup restore.yml puts back, instead of reporting success; istiod refuses the
  new bytes and keeps signing with the old intermediate.
"""

from __future__ import annotations

import json
import time

import pytest

import rotation_fleet as rf
from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import renew
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import object_path

pytestmark = pytest.mark.slow

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _rotate(fleet, tmp_path, **extra):
    extra_vars = {"report_dir": str(tmp_path), "ca_rotation_reload_timeout": 30, "ca_rotation_issue_timeout": 60}
    extra_vars.update(extra)
    return run_playbook("playbooks/rotate.yml", inventory=fleet.inventory, extra_vars=extra_vars)


def _writes(fleet, since):
    return [f"{r['method']} {r['path']}" for c in fleet.clusters for r in c.requests
            if r["time"] >= since and r["method"] in WRITES and "dryRun=All" not in (r["query"] or "")]


def _root(fleet):
    return fleet["cluster-1"].get("cert-manager.io/v1", "certificates", rf.CM_NS, rf.ROOT_SECRET)


def test_a_root_renewing_before_the_next_rotation_is_refused_and_reported(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("cert-manager",), propagation_delay=0.2)
    # A 720h root renews at two thirds of its life (cert-manager's default renewBefore), 480h from now:
    # before cacerts' own renewal (1440h - 360h = 1080h from now).
    rf.setup_ca(fleet, rf.make_root(), root_rotation_policy="Never", root_duration="720h")
    root_renewal = _root(fleet)["status"]["renewalTime"]
    before = rf.cluster_state(fleet, "cluster-1")
    since = time.time()

    res = _rotate(fleet, tmp_path, ca_rotation_duration="720h")
    assert res.rc != 0
    msg = rf.failures(res, "Stop unless every preflight check passed on every cluster of the play")["cluster-1"]
    assert root_renewal in msg and "Multi root is disabled" in msg, msg
    assert _writes(fleet, since) == []
    after = rf.cluster_state(fleet, "cluster-1")
    assert (after["serial"], after["revision"], after["istiod_serial"]) == \
        (before["serial"], before["revision"], before["serial"])

    report = run_playbook("playbooks/report.yml", inventory=fleet.inventory,
                          extra_vars={"report_dir": str(tmp_path / "report"), "report_fail_on_problems": False})
    assert report.rc == 0, report.explain()
    entry = json.loads((tmp_path / "report" / "report.json").read_text())["clusters"][0]
    assert entry["root_certificate"]["renewal_time"] == root_renewal
    assert entry["root_certificate"]["rotation_policy"] == "Never"
    assert any(root_renewal in p and "Multi root is disabled" in p for p in entry["problems"]), entry["problems"]
    assert root_renewal in (tmp_path / "report" / "report.md").read_text()


def test_a_root_renewed_by_hand_fails_the_rotation_and_istiod_keeps_the_old_intermediate(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("cert-manager",), propagation_delay=0.2)
    rf.setup_ca(fleet, rf.make_root(), root_rotation_policy="Never")  # 10 years: the guard has nothing to say
    before = rf.cluster_state(fleet, "cluster-1")
    old_root = _root(fleet)["status"]["revision"]
    # cmctl renew on the root (what docs/guards.md lists as not protected): same key, new root certificate.
    api = rf.client(fleet, "cluster-1")
    path = object_path("cert-manager.io/v1", "certificates", rf.CM_NS, rf.ROOT_SECRET)
    renew.trigger(api, path, api.get_or_none(path))
    api.close()
    rf.wait_for(lambda: (_root(fleet)["status"].get("revision") or 0) > old_root, what="root re-issued")

    res = _rotate(fleet, tmp_path, ca_rotation_force=True)
    assert res.rc != 0
    msg = rf.failures(res, "Fail this cluster with the cause")["cluster-1"]
    assert 'step "Check the new chain (sound, same root, new serial when re-issued)"' in msg, msg
    after = rf.cluster_state(fleet, "cluster-1")
    assert "its root changed: %s -> %s" % (before["root"], after["root"]) in msg, msg
    backups = rf.backups(fleet, "cluster-1")
    assert len(backups) == 1 and backups[0]["metadata"]["name"] in msg and "playbooks/restore.yml" in msg
    # cert-manager did re-issue cacerts (with the new root bytes); istiod refused it and keeps the old one.
    assert after["serial"] != before["serial"] and after["root"] != before["root"]
    assert after["istiod_serial"] == before["serial"]
    summary = json.loads((tmp_path / "rotation-summary.json").read_text())
    assert summary["counts"]["failed"] == 1 and summary["ok"] is False
