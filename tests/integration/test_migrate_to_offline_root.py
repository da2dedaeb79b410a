"""ca_keypair (the root key in every cluster) → offline_root, cluster by cluster (issue 20).

What must hold: before, the read-only trust check (ca_setup's inspect_trust entry point, for report.yml)
fails on every cluster, naming the Secret that holds the fleet root's key; migrate_to_offline_root.yml
then moves one cluster at a time with istiod's reload proven on each and no failed task; at the end no
Secret of any cluster holds the root key (matched by public key), every cacerts chains to the same root
through its cluster's own issuing CA (ca.crt bytes unchanged), and the trust check passes everywhere,
showing each cluster's issuing CA subject, serial and expiry.
"""

from __future__ import annotations

import pytest

from deploy_support import deploy, start_fleet
from helpers_ansible import run_playbook
from offline_root_support import OFFLINE_VARS, check_issuing_chain, holders_of, issuing_ca

pytestmark = pytest.mark.slow

INSPECT = """\
- name: Trust check
  hosts: clusters
  gather_facts: false
  tasks:
    - name: Check this cluster
      ansible.builtin.include_role:
        name: meshpki.istio_ca.ca_setup
        tasks_from: inspect_trust

    - name: Show the trust status
      ansible.builtin.debug:
        var: ca_setup_trust_status
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = start_fleet(tmp_path_factory, preinstall=("istio",), propagation_delay=1.0)
    yield fleet
    fleet.stop()


def inspect(fleet, directory):
    playbook = directory / "inspect_trust.yml"
    playbook.write_text(INSPECT)
    result = run_playbook(playbook, inventory=fleet.inventory)
    assert result.rc == 0, result.explain()
    return {h: r["ca_setup_trust_status"] for h, r in result.task_results("Show the trust status").items()}


@pytest.fixture(scope="module")
def migrated(fleet, inputs, tmp_path_factory):
    root_files = {"ca_setup_ca_cert": str(inputs["root"].cert_path), "ca_setup_ca_key": str(inputs["root"].key_path)}
    first = deploy(fleet, {"ca_setup_trust_source": "ca_keypair", "ca_setup_allow_root_key_in_cluster": True,
                           "cert_manager_manifest_src": str(inputs["manifest"]), **root_files})
    assert first.rc == 0, first.explain()
    work = tmp_path_factory.mktemp("migration")
    before = {"status": inspect(fleet, work),
              "ca_crt": {c.name: c.get("v1", "secrets", "istio-system", "cacerts")["data"]["ca.crt"]
                         for c in fleet.clusters},
              "holders": holders_of(fleet, inputs["root"].cert.public_key())}
    extra = {**OFFLINE_VARS, **root_files, "report_dir": str(work / "report"),
             "ca_rotation_reload_timeout": 60, "ca_rotation_issue_timeout": 60}
    extra.pop("ca_setup_trust_source")  # the playbook sets it
    result = run_playbook("playbooks/migrate_to_offline_root.yml", inventory=fleet.inventory, extra_vars=extra)
    return result, before, inspect(fleet, work)


def test_before_the_root_key_is_in_every_cluster_and_the_check_says_so(fleet, migrated):
    _result, before, _after = migrated
    assert sorted(h[0] for h in before["holders"]) == sorted(c.name for c in fleet.clusters)
    for host, status in before["status"].items():
        assert status["ok"] is False and status["issuing_ca"] is None, status
        assert [(e["namespace"], e["name"], e["data_key"]) for e in status["exposed"]] == [
            ("cert-manager", "meshpki-istio-root-ca", "tls.key")], status
        assert status["exposed"][0]["matches"].startswith("fleet root")


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


def test_trust_check_passes_and_shows_each_issuing_ca(fleet, migrated):
    result, _before, after = migrated
    assert result.rc == 0, result.explain()
    for cluster in fleet.clusters:
        status = after[cluster.name]
        assert status["ok"] is True and status["exposed"] == [] and status["problems"] == [], status
        cert = issuing_ca(cluster)
        assert status["issuing_ca"]["serial_hex"] == "%x" % cert.serial_number
        assert f"L={cluster.name}" in status["issuing_ca"]["subject"]
        assert status["issuing_ca"]["not_after"].startswith(cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M"))
