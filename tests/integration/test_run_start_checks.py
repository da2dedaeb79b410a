"""What a new user trips over at the start of a run (issue 18): a misspelled variable, a rotation that asks for
nothing, a missing role argument, an offline controller with the default cert-manager manifest install.

Each case must fail before anything changes on any cluster, with a message that names the fix; every test here
checks the cluster request log for writes as well as the message. One deployed 2-cluster fleet for the file.
"""

from __future__ import annotations

import json
import time

import pytest

import rotation_fleet as rf
from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_module_fleet_factory  # noqa: F401  pylint: disable=unused-import


@pytest.fixture(scope="module")
def fleet(kubesim_module_fleet_factory):  # noqa: F811
    fleet = kubesim_module_fleet_factory(n_clusters=2, preinstall=("cert-manager",), propagation_delay=0.5)
    rf.setup_ca(fleet, rf.make_root())
    return fleet


def _writes_since(fleet, since):
    """Requests that change something (a server-side dry run, dryRun=All, persists nothing)."""
    return [(c.name, r["method"], r["path"]) for c in fleet.clusters for r in c.requests
            if r["time"] >= since and r["method"] != "GET" and "dryRun=All" not in (r["query"] or "")]


def _requests_since(fleet, since):
    return [(c.name, r["method"], r["path"]) for c in fleet.clusters for r in c.requests if r["time"] >= since]


def _only_failure(res):
    failed = res.failed_tasks()
    assert failed, res.explain()
    return failed[0]


@pytest.mark.parametrize("playbook", ["rotate.yml", "deploy.yml", "report.yml", "restore.yml"])
def test_misspelled_extra_var_fails_before_anything_runs(fleet, tmp_path, playbook):
    since = time.time()
    res = run_playbook(f"playbooks/{playbook}", inventory=fleet.inventory, extra_vars={
        "ca_rotation_duraton": "720h", "ca_setup_trust_source": "selfsigned", "report_dir": str(tmp_path),
        "restore_backup": "latest"})
    assert res.rc != 0, res.explain()
    task, _host, msg = _only_failure(res)
    assert task.startswith("Fail on a misspelled variable"), task
    assert "unknown variable ca_rotation_duraton — did you mean ca_rotation_duration?" in msg
    assert _requests_since(fleet, since) == []  # not even a read: the check is the play's first task


def test_misspelled_inventory_var_is_caught_on_any_host(fleet, tmp_path):
    inventory = fleet.inventory_dict()
    inventory["all"]["children"]["clusters"]["hosts"]["cluster-2"]["istio_reload_timout"] = 60
    (tmp_path / "inventory.yml").write_text(json.dumps(inventory))
    res = run_playbook("playbooks/report.yml", inventory=tmp_path / "inventory.yml",
                       extra_vars={"report_dir": str(tmp_path)})
    assert res.rc != 0, res.explain()
    assert "unknown variable istio_reload_timout — did you mean istio_reload_timeout?" in _only_failure(res)[2]


def test_known_variables_and_private_names_pass(fleet, tmp_path):
    res = run_playbook("playbooks/report.yml", inventory=fleet.inventory, extra_vars={
        "report_dir": str(tmp_path), "report_expiring_within": "720h", "ca_rotation_inspect_reload_timeout": 5,
        "report_fail_on_problems": False})  # the fleet holds the root key in-cluster: a trust finding, not this test's
    assert res.rc == 0, res.explain()
    check = res.task_results("Fail on a misspelled variable before anything runs")["cluster-1"]
    assert check["unknown"] == [] and "report_expiring_within" in check["checked"]


def test_rotation_with_nothing_requested_fails_unless_noop_allowed(fleet, tmp_path):
    before = {n: rf.cluster_state(fleet, n)["serial"] for n in fleet.names}
    since = time.time()
    res = run_playbook("playbooks/rotate.yml", inventory=fleet.inventory, extra_vars={"report_dir": str(tmp_path)})
    assert res.rc != 0, res.explain()
    assert "nothing to rotate was requested" in _only_failure(res)[2]
    assert "ca_rotation_allow_noop=true" in _only_failure(res)[2]
    assert _requests_since(fleet, since) == []

    res = run_playbook("playbooks/rotate.yml", inventory=fleet.inventory,
                       extra_vars={"report_dir": str(tmp_path), "ca_rotation_allow_noop": True})
    assert res.rc == 0, res.explain()
    assert res.changed_total() == 0
    assert {n: rf.cluster_state(fleet, n)["serial"] for n in fleet.names} == before


def test_missing_role_argument_is_one_line_with_choices_and_example(fleet):
    since = time.time()
    res = run_playbook("playbooks/deploy.yml", inventory=fleet.inventory, json_output=False,
                       env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"})
    out = res.stdout + res.stderr
    assert res.rc != 0, out
    assert ("ca_setup_trust_source (role ca_setup): missing, it is required. Accepts one of selfsigned, "
            "ca_keypair, offline_root, issuer_ref, for example -e ca_setup_trust_source=selfsigned") in out
    assert "argument_spec_data" not in out and "ca_setup_root_key_size" not in out  # not the whole spec
    assert len(out.splitlines()) < 40, out
    assert _requests_since(fleet, since) == []


def test_role_used_alone_fails_short_with_the_fleet_callback(fleet, tmp_path):
    playbook = tmp_path / "standalone.yml"
    playbook.write_text("- hosts: clusters\n  gather_facts: false\n  roles:\n    - meshpki.istio_ca.ca_setup\n")
    res = run_playbook(playbook, inventory=fleet.inventory, json_output=False)  # ansible.cfg: the fleet callback
    out = res.stdout + res.stderr
    assert res.rc != 0, out
    assert "fatal: [cluster-1]: invalid role arguments" in out
    assert "ca_setup_trust_source (role meshpki.istio_ca.ca_setup): missing, it is required" in out
    assert "ca_setup_root_key_size" not in out and len(out.splitlines()) < 30, out


def test_offline_manifest_download_names_the_url_and_both_ways_out(fleet, tmp_path):
    url = "https://cert-manager.invalid/releases/download/v1.19.1/cert-manager.yaml"  # RFC 6761: never resolves
    since = time.time()
    res = run_playbook("playbooks/deploy.yml", inventory=fleet.inventory, extra_vars={
        "ca_setup_trust_source": "selfsigned", "cert_manager_manifest_url": url, "report_dir": str(tmp_path)})
    assert res.rc != 0, res.explain()
    msg = dict((n.split(" : ")[-1], m) for n, _h, m in res.failed_tasks())["Explain the failed download and the two ways out"]
    assert f"could not download the cert-manager release manifest (cert-manager.yaml, on the controller) from {url}" in msg
    assert "cert_manager_manifest_src" in msg and "cert_manager_install=existing" in msg
    assert _writes_since(fleet, since) == []
