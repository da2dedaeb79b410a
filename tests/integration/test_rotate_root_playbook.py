"""playbooks/rotate_root.yml on a kubesim fleet with workloads: four clusters on two Istio versions (1.22, 1.31),
deployed as deploy.yml leaves them (cert-manager's cacerts) and prepared for multi-root, rotate root A -> B through
the three steps with zero failed mTLS handshakes, ending with every cluster on root B alone and cacerts back in
cert-manager's hands; and a cluster without the multi-root flag stops the playbook in preflight with the fix,
before anything is written anywhere."""

from __future__ import annotations

import pytest

from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import
import root_rotation_fleet as rrf

pytestmark = pytest.mark.slow

VERSIONS = {"cluster-1": "1.22.3", "cluster-2": "1.22.3", "cluster-3": "1.31.0", "cluster-4": "1.31.0"}


def test_rotate_root_a_to_b_with_zero_failed_handshakes(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = rrf.make_fleet(kubesim_fleet_factory, tmp_path, VERSIONS)
    res = run_playbook("playbooks/rotate_root.yml", inventory=fleet.inventory, extra_vars=dict(
        fleet.new_files, root_rotation_restart_workloads=True, root_rotation_report_dir=str(tmp_path),
        root_rotation_step_timeout=120, root_rotation_poll_interval=1), timeout=1200)
    assert res.rc == 0, res.explain()
    rrf.assert_no_failed_handshake(fleet)
    rrf.assert_back_to_cert_manager(fleet, fleet.new_root.cert_pem)
    report = rrf.summary(tmp_path)
    assert report["steps"] == ["combined", "new_intermediate", "new_only"]
    assert all(c["phase"] == "new_only" and c["state"] == "verified" for c in report["clusters"].values())


def test_a_cluster_without_the_multiroot_flag_is_refused_before_any_change(kubesim_fleet_factory,  # noqa: F811
                                                                             tmp_path):
    fleet = rrf.make_fleet(kubesim_fleet_factory, tmp_path, {"cluster-1": "1.22.3", "cluster-2": "1.31.0"},
                           multiroot=["cluster-1"], workloads=1)
    before = {n: fleet[n].get("v1", "secrets", "istio-system", "cacerts")["metadata"]["resourceVersion"]
              for n in fleet.names}
    res = run_playbook("playbooks/rotate_root.yml", inventory=fleet.inventory, extra_vars=dict(
        fleet.new_files, root_rotation_report_dir=str(tmp_path)), timeout=600)
    assert res.rc != 0
    assert "ISTIO_MULTIROOT_MESH" in res.stdout and "deploy.yml -e istio_multiroot=true" in res.stdout, res.explain()
    for name in fleet.names:  # nothing written on either cluster, the ready one included
        assert fleet[name].get("v1", "secrets", "istio-system", "cacerts")["metadata"]["resourceVersion"] \
            == before[name], name
        assert rrf.record(fleet, name) is None, name
        assert fleet[name].get("v1", "secrets", "istio-system", "cacerts-staging") is None, name
