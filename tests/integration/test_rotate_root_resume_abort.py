"""playbooks/rotate_root.yml stopped mid-way, then continued or aborted. The first run stops at the barrier before
step 2: without root_rotation_restart_workloads, the workloads' leaves predate the combined bundle and the
workload-certificate TTL (a day) has not passed, so the barrier stays closed and the run ends after step 1 with
every cluster's record at "combined, verified". A rerun resumes from those records (steps 2 and 3 only); an abort
(-e root_rotation_abort=true) returns the fleet to root A. Neither fails a handshake."""

from __future__ import annotations

import pytest

from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import
import root_rotation_fleet as rrf

pytestmark = pytest.mark.slow

VERSIONS = {"cluster-1": "1.22.3", "cluster-2": "1.31.0"}
FAST = {"root_rotation_step_timeout": 120, "root_rotation_poll_interval": 1}


def stopped_after_step_one(factory, tmp_path):
    fleet = rrf.make_fleet(factory, tmp_path, VERSIONS, workloads=2)
    res = run_playbook("playbooks/rotate_root.yml", inventory=fleet.inventory,
                       extra_vars=dict(fleet.new_files, **FAST), timeout=900)
    assert res.rc != 0 and "barrier before new_intermediate closed" in res.stdout, res.explain()
    for name in fleet.names:
        data = rrf.record(fleet, name)["data"]
        assert "combined" in str(data) and "verified" in str(data), (name, data)
        assert rrf.served(fleet, name)[1] == fleet.root.cert_pem + fleet.new_root.cert_pem, name
    return fleet


def test_a_rerun_resumes_from_the_records(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = stopped_after_step_one(kubesim_fleet_factory, tmp_path)
    res = run_playbook("playbooks/rotate_root.yml", inventory=fleet.inventory, extra_vars=dict(
        fleet.new_files, root_rotation_restart_workloads=True, root_rotation_report_dir=str(tmp_path), **FAST),
        timeout=900)
    assert res.rc == 0, res.explain()
    assert rrf.summary(tmp_path)["steps"] == ["new_intermediate", "new_only"]  # step 1 is not repeated
    rrf.assert_no_failed_handshake(fleet)
    rrf.assert_back_to_cert_manager(fleet, fleet.new_root.cert_pem)


def test_an_abort_before_step_three_returns_to_root_a(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = stopped_after_step_one(kubesim_fleet_factory, tmp_path)
    res = run_playbook("playbooks/rotate_root.yml", inventory=fleet.inventory, extra_vars=dict(
        fleet.new_files, root_rotation_abort=True, root_rotation_report_dir=str(tmp_path), **FAST), timeout=900)
    assert res.rc == 0, res.explain()
    report = rrf.summary(tmp_path)
    assert report["mode"] == "abort" and report["steps"] == ["aborted"]
    rrf.assert_no_failed_handshake(fleet)
    rrf.assert_back_to_cert_manager(fleet, fleet.root.cert_pem)
