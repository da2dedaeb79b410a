"""playbooks/deploy.yml with ca_setup_trust_source=offline_root on a 3-cluster simulated fleet (issue 20).

What must hold: the fleet root's private key is in no Secret of any namespace of any cluster (matched by
public key, not by name); each cluster has its own issuing CA (its own key) signed by the root, and cacerts
verifies to the root through it; istiod reloaded on each cluster; nothing of any key appears in
``-vvv --diff`` output; a second run and a --check run change nothing. Checked straight from kubesim.
"""

from __future__ import annotations

import pytest

from deploy_support import (
    assert_reloaded,
    check_root_configmap,
    deploy,
    diff_resource_versions,
    fleet_resource_versions,
    start_fleet,
)
from offline_root_support import OFFLINE_VARS, check_issuing_chain, holders_of, key_bodies, spki

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = start_fleet(tmp_path_factory, preinstall=("istio",), propagation_delay=1.0)
    yield fleet
    fleet.stop()


@pytest.fixture(scope="module")
def offline_vars(inputs):
    return {**OFFLINE_VARS, "cert_manager_manifest_src": str(inputs["manifest"]),
            "ca_setup_ca_cert": str(inputs["root"].cert_path), "ca_setup_ca_key": str(inputs["root"].key_path)}


@pytest.fixture(scope="module")
def deployed(fleet, offline_vars):
    return deploy(fleet, offline_vars, diff=True, extra_args=["-vvv"])


def test_root_key_is_in_no_cluster(fleet, deployed, inputs):
    assert deployed.rc == 0, deployed.explain()
    root_public = inputs["root"].cert.public_key()
    assert holders_of(fleet, root_public) == []


def test_each_cluster_chains_to_the_root_through_its_own_issuing_ca(fleet, deployed, inputs):
    assert deployed.rc == 0, deployed.explain()
    root = inputs["root"].cert
    issuing = {}
    for cluster in fleet.clusters:
        issuing[cluster.name] = check_issuing_chain(cluster, root)[1]
        check_root_configmap(cluster, root)
    keys = {spki(c.public_key()) for c in issuing.values()}
    serials = {c.serial_number for c in issuing.values()}
    assert len(keys) == len(serials) == len(fleet.clusters), "clusters share an issuing CA"
    # Each issuing CA's key is in its own cluster's CA Secret and nowhere else in the fleet.
    for name, cert in issuing.items():
        assert holders_of(fleet, cert.public_key()) == [
            (name, "cert-manager", "meshpki-istio-issuing-ca", "tls.key")], name
    assert_reloaded(deployed, fleet)


def test_no_key_material_in_verbose_diff_output(fleet, deployed, inputs):
    assert deployed.rc == 0, deployed.explain()
    bodies = key_bodies(fleet) + inputs["root"].key_path.read_text().splitlines()[1:3]
    assert len(bodies) >= 2 * len(fleet.clusters) * 2  # the issuing CA and cacerts keys of every cluster at least
    output = deployed.stdout + deployed.stderr
    leaked = [b for b in bodies if b in output]
    assert not leaked, f"{len(leaked)} key line(s) in -vvv --diff output"
    # The diff of the issuing CA step shows public facts of the new issuing CA.
    results = deployed.task_results("Give this cluster its own issuing CA, signed by the offline root on the controller")
    assert sorted(results) == sorted(c.name for c in fleet.clusters)
    for host, res in results.items():
        assert res["outcome"] == "created", (host, res)
        assert res["diff"]["after"]["serial_hex"] == res["issuing_ca"]["serial_hex"]


def test_second_run_keeps_every_issuing_ca(fleet, deployed, offline_vars):
    assert deployed.rc == 0, deployed.explain()
    before = fleet_resource_versions(fleet)
    second = deploy(fleet, offline_vars)
    assert second.rc == 0, second.explain()
    assert second.changed_total() == 0, second.explain()
    kept = second.task_results("Give this cluster its own issuing CA, signed by the offline root on the controller")
    assert {r["outcome"] for r in kept.values()} == {"kept"}
    changed = diff_resource_versions(before, fleet_resource_versions(fleet))
    assert not [c for c in changed if c[1] not in ("coordination.k8s.io/leases", "/events")], changed


def test_check_mode_on_deployed_fleet_changes_nothing(fleet, deployed, offline_vars):
    assert deployed.rc == 0, deployed.explain()
    before = fleet_resource_versions(fleet)
    check = deploy(fleet, offline_vars, check=True, diff=True)
    assert check.rc == 0, check.explain()
    assert check.changed_total() == 0, check.explain()
    changed = diff_resource_versions(before, fleet_resource_versions(fleet))
    assert not [c for c in changed if c[1] not in ("coordination.k8s.io/leases", "/events")], changed
