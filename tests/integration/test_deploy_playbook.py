"""playbooks/deploy.yml on a fresh 3-cluster simulated fleet with the ca_keypair trust source.

What must hold (issue 7): cert-manager installed from a local manifest file, the CA chain set up,
istiod plugged and reloaded on every cluster; a second run changes nothing; --check on the
deployed fleet reports no change and changes nothing (every object's resourceVersion is compared
through kubesim). Cluster state is checked straight from the simulator, not through our modules.
The other trust sources are in test_deploy_selfsigned.py and test_deploy_issuer_ref.py (files of
their own so that pytest-xdist's --dist loadfile can run them beside this one).
"""

from __future__ import annotations

import pytest

from deploy_support import (
    assert_reloaded,
    check_cacerts,
    check_root_configmap,
    deploy,
    diff_resource_versions,
    fleet_resource_versions,
    restarted_at,
    start_fleet,
)

pytestmark = pytest.mark.slow


# --------------------------------------------------------------------------------------------- ca_keypair

@pytest.fixture(scope="module")
def keypair_fleet(tmp_path_factory):
    # istiod (1.22) runs before cacerts exists, so it starts self-signed and the istio role must restart it.
    fleet = start_fleet(tmp_path_factory, preinstall=("istio",), propagation_delay=1.0)
    yield fleet
    fleet.stop()


@pytest.fixture(scope="module")
def keypair_deployed(keypair_fleet, inputs):
    extra = {"ca_setup_trust_source": "ca_keypair", "ca_setup_allow_root_key_in_cluster": True,
             "cert_manager_manifest_src": str(inputs["manifest"]),
             "ca_setup_ca_cert": str(inputs["root"].cert_path), "ca_setup_ca_key": str(inputs["root"].key_path)}
    first = deploy(keypair_fleet, extra)
    return first, extra


def test_ca_keypair_deploys_one_root_on_every_cluster(keypair_fleet, keypair_deployed, inputs):
    first = keypair_deployed[0]
    assert first.rc == 0, first.explain()
    assert not first.failed_hosts()
    for cluster in keypair_fleet.clusters:
        root = check_cacerts(cluster)[1]
        assert root == inputs["root"].cert, f"{cluster.name}: cacerts ca.crt is not the fleet root"
        check_root_configmap(cluster, root)
        # istiod started before cacerts existed: it was restarted (rollout restart annotation).
        assert all(restarted_at(cluster)), f"{cluster.name}: istiod was not restarted"
    assert_reloaded(first, keypair_fleet)
    # The key never shows up in the output (no_log on every task that carries it).
    key_pem = inputs["root"].key_path.read_text()
    body = key_pem.strip().splitlines()[1]
    assert body not in first.stdout and body not in first.stderr


def test_second_run_changes_nothing(keypair_fleet, keypair_deployed):
    extra = keypair_deployed[1]
    before = fleet_resource_versions(keypair_fleet)
    second = deploy(keypair_fleet, extra)
    assert second.rc == 0, second.explain()
    assert second.changed_total() == 0, second.explain()
    assert_reloaded(second, keypair_fleet)
    changed = diff_resource_versions(before, fleet_resource_versions(keypair_fleet))
    assert not [c for c in changed if c[1] not in ("coordination.k8s.io/leases", "/events")], changed


def test_check_mode_on_deployed_fleet_changes_nothing(keypair_fleet, keypair_deployed):
    extra = keypair_deployed[1]
    before = fleet_resource_versions(keypair_fleet)
    check = deploy(keypair_fleet, extra, check=True)
    assert check.rc == 0, check.explain()
    assert check.changed_total() == 0, check.explain()
    changed = diff_resource_versions(before, fleet_resource_versions(keypair_fleet))
    assert not [c for c in changed if c[1] not in ("coordination.k8s.io/leases", "/events")], changed
