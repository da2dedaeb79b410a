"""ca_keypair (the root key in every cluster) → offline_root, cluster by cluster (issue 20).

What must hold: before, report.yml (through ca_setup's read-only inspect_trust entry point) fails on every
cluster, naming the Secret that holds the fleet root's key and showing the root key in the cluster; migrate_to_offline_root.yml
then moves one cluster at a time with istiod's reload proven on each and no failed task; at the end no
Secret of any cluster holds the root key (matched by public key), every cacerts chains to the same root
through its cluster's own issuing CA (ca.crt bytes unchanged), and report.yml passes, showing on every cluster
trust source offline_root, the root key in no Secret, and its issuing CA subject, serial and expiry.
"""

from __future__ import annotations

import json

import pytest

from deploy_support import deploy, start_fleet
from helpers_ansible import run_playbook
from offline_root_support import OFFLINE_VARS, check_issuing_chain, holders_of, issuing_ca
import rotation_fleet as rf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    # Simulated sidecars on every cluster (kubesim controllers/mesh): leaves from istiod's CA, handshakes across
    # clusters every second, each failure recorded.
    fleet = start_fleet(tmp_path_factory, preinstall=("istio",), propagation_delay=1.0, workloads=2, mtls_interval=1.0)
    yield fleet
    fleet.stop()


def inspect(fleet, directory, name):
    """report.yml (it runs ca_setup's inspect_trust): each cluster's report entry, its trust part, and report.md/html.

    The run's exit code is kept: report.yml fails (after writing the reports) when a cluster fails a check."""
    out = directory / name
    result = run_playbook("playbooks/report.yml", inventory=fleet.inventory, extra_vars={"report_dir": str(out)})
    report = json.loads((out / "report.json").read_text())
    return {"rc": result.rc, "explain": result.explain(), "entries": {c["name"]: c for c in report["clusters"]},
            "status": {c["name"]: c["trust"] for c in report["clusters"]},
            "md": (out / "report.md").read_text(), "html": (out / "report.html").read_text()}


@pytest.fixture(scope="module")
def migrated(fleet, inputs, tmp_path_factory):
    root_files = {"ca_setup_ca_cert": str(inputs["root"].cert_path), "ca_setup_ca_key": str(inputs["root"].key_path)}
    first = deploy(fleet, {"ca_setup_trust_source": "ca_keypair", "ca_setup_allow_root_key_in_cluster": True,
                           "cert_manager_manifest_src": str(inputs["manifest"]), **root_files})
    assert first.rc == 0, first.explain()
    # The workloads started on istiod's self-signed CA; restarted, they hold leaves under the fleet root.
    fleet.restart_workloads()
    fleet.mtls_reset()
    baseline = fleet.mtls_round()
    work = tmp_path_factory.mktemp("migration")
    before = {"report": inspect(fleet, work, "before"),
              "ca_crt": {c.name: c.get("v1", "secrets", "istio-system", "cacerts")["data"]["ca.crt"]
                         for c in fleet.clusters},
              "holders": holders_of(fleet, inputs["root"].cert.public_key()), "mtls": baseline}
    extra = {**OFFLINE_VARS, **root_files, "report_dir": str(work / "report"),
             "ca_rotation_reload_timeout": 60, "ca_rotation_issue_timeout": 60}
    extra.pop("ca_setup_trust_source")  # the playbook sets it
    fleet.mtls_reset()  # the tally covers the migration: handshakes keep running while it changes each cluster
    result = run_playbook("playbooks/migrate_to_offline_root.yml", inventory=fleet.inventory, extra_vars=extra)
    mtls, failures = fleet.mtls_round(), fleet.mtls_failures()
    after = inspect(fleet, work, "after")
    after.update(mtls=mtls, mtls_failures=failures)
    return result, before, after


def test_before_the_root_key_is_in_every_cluster_and_the_report_says_so(fleet, migrated):
    _result, before, _after = migrated
    report = before["report"]
    assert sorted(h[0] for h in before["holders"]) == sorted(c.name for c in fleet.clusters)
    assert report["rc"] != 0  # report.yml fails the run: every cluster fails the trust check
    for host, status in report["status"].items():
        assert status["ok"] is False and status["issuing_ca"] is None, status
        assert [(e["namespace"], e["name"], e["data_key"]) for e in status["exposed"]] == [
            ("cert-manager", "meshpki-istio-root-ca", "tls.key")], status
        assert status["exposed"][0]["matches"].startswith("fleet root")
        assert status["source"] == "root key in the cluster"
        assert status["ca_secret"] == "cert-manager/meshpki-istio-root-ca"
        assert status["root_key"] == "in this cluster: Secret cert-manager/meshpki-istio-root-ca"
        entry = report["entries"][host]
        assert entry["ok"] is False and any("holds the private key of the fleet root" in p for p in entry["problems"])
    assert "root key in the cluster" in report["md"] and "in this cluster: Secret cert-manager/meshpki-istio-root-ca" \
        in report["md"]
    assert "holds the private key of the fleet root" in report["html"]


def test_migration_reloads_istiod_cluster_by_cluster(fleet, migrated):
    result, _before, _after = migrated
    assert result.rc == 0, result.explain()
    assert result.failed_tasks() == []
    checks = result.task_results("Prove istiod signs with the new intermediate")
    assert sorted(checks) == sorted(c.name for c in fleet.clusters)
    assert all(r["reloaded"] and r["root_consistent"] for r in checks.values()), checks
    # serial: 1 — each cluster is its own batch, in inventory order.
    order = [p["play"]["name"] for p in result.plays]
    assert order.count("Migrate one cluster at a time") == len(fleet.clusters), order


def test_after_no_cluster_holds_the_root_key(fleet, migrated, inputs):
    result, before, after = migrated
    assert result.rc == 0, result.explain()
    assert holders_of(fleet, inputs["root"].cert.public_key()) == []
    for cluster in fleet.clusters:
        check_issuing_chain(cluster, inputs["root"].cert)
        assert cluster.get("v1", "secrets", "cert-manager", "meshpki-istio-root-ca") is None
        assert cluster.get("v1", "secrets", "istio-system", "cacerts")["data"]["ca.crt"] == \
            before["ca_crt"][cluster.name]


def test_after_the_report_passes_and_shows_each_issuing_ca(fleet, migrated):
    result, _before, after = migrated
    assert result.rc == 0, result.explain()
    assert after["rc"] == 0, after["explain"]  # the whole fleet report is OK
    for cluster in fleet.clusters:
        status = after["status"][cluster.name]
        assert status["ok"] is True and status["exposed"] == [] and status["problems"] == [], status
        assert status["source"] == "offline_root" and status["root_key"] == "not in any Secret of this cluster"
        assert status["ca_secret"] == "cert-manager/meshpki-istio-issuing-ca"
        cert = issuing_ca(cluster)
        assert status["issuing_ca"]["serial_hex"] == "%x" % cert.serial_number
        assert f"L={cluster.name}" in status["issuing_ca"]["subject"]
        assert status["issuing_ca"]["not_after"].startswith(cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M"))
        assert after["entries"][cluster.name]["ok"] is True
        # report.md shows the issuing CA's serial (the table's lower-case hex) and the trust source.
        assert ("%x" % cert.serial_number) in after["md"]
    assert "offline\\_root" in after["md"]  # Markdown-escaped in the table
    assert "offline_root" in after["html"] and "not in any Secret of this cluster" in after["html"]


def test_workloads_keep_their_handshakes_across_clusters_through_the_migration(fleet, migrated):
    """The root bytes never change, so a workload holding a leaf from the old intermediate and one holding a leaf
    from the new issuing CA's intermediate trust each other at every step: no failed handshake (issue 20)."""
    result, before, after = migrated
    assert result.rc == 0, result.explain()
    assert before["mtls"]["attempted"] > 0 and before["mtls"]["failed"] == 0, before["mtls"]  # a healthy mesh first
    assert after["mtls"]["rounds"] >= 2 and after["mtls"]["attempted"] > 0, after["mtls"]
    assert after["mtls"]["failed"] == 0 and after["mtls_failures"] == [], after["mtls_failures"][:3]
    assert {w["cluster"] for c in fleet.clusters for w in c.workloads} == {c.name for c in fleet.clusters}
    # A mixed mesh: cluster-1's workloads restarted now hold leaves from its new intermediate (root -> issuing CA
    # -> intermediate -> leaf), the others' still come from the intermediate of before the migration.
    fleet["cluster-1"].restart_workloads()
    mixed = fleet.mtls_round()
    new_serial = rf.cacerts_serial(fleet, "cluster-1")
    assert {w["intermediate_serial"] for w in fleet["cluster-1"].workloads} == {new_serial}
    assert new_serial not in {w["intermediate_serial"] for w in fleet["cluster-2"].workloads}
    assert mixed["attempted"] > after["mtls"]["attempted"] and mixed["failed"] == 0, fleet.mtls_failures()[:3]
