"""playbooks/deploy.yml on fresh 3-cluster simulated fleets, once per trust source.

What must hold (issue 7): cert-manager installed from a local manifest file, the CA chain set up,
istiod plugged and reloaded on every cluster; a second run changes nothing; --check on the
deployed fleet reports no change and changes nothing (every object's resourceVersion is compared
through kubesim). Cluster state is checked straight from the simulator, not through our modules.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes

from kubesim import Fleet

from deploy_support import (
    FAST_VARS,
    check_cacerts,
    check_root_configmap,
    diff_resource_versions,
    fleet_resource_versions,
    make_root,
    secret_certs,
    write_cert_manager_manifest,
    write_istio_manifest,
)
from helpers_ansible import run_playbook

pytestmark = pytest.mark.slow

DEPLOY = "playbooks/deploy.yml"
VERIFY_TASK = "Check istiod reloaded the intermediate in cacerts"
SUMMARY_TASK = "Show the cluster's CA summary"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("deploy-inputs")
    return {"manifest": write_cert_manager_manifest(d), "root": make_root(d / "pki"), "dir": d}


def start_fleet(tmp_path_factory, **kwargs) -> Fleet:
    fleet = Fleet(n_clusters=3, workdir=tmp_path_factory.mktemp("fleet"), **kwargs)
    fleet.start()
    return fleet


def deploy(fleet, extra, **kwargs):
    return run_playbook(DEPLOY, fleet.inventory, {**FAST_VARS, **extra}, **kwargs)


def assert_reloaded(result, fleet):
    checks = result.task_results(VERIFY_TASK)
    assert sorted(checks) == sorted(c.name for c in fleet.clusters), result.explain()
    for host, res in checks.items():
        assert res["reloaded"] is True, (host, res.get("problems"))
        assert res["root_consistent"] is True, (host, res.get("problems"))
    summaries = result.task_results(SUMMARY_TASK)
    assert all("istiod reloaded: True" in r["msg"] for r in summaries.values()), summaries


def restarted_at(cluster) -> list:
    deps = cluster.list("apps/v1", "deployments", "istio-system", label_selector="app=istiod")
    return [((d["spec"]["template"].get("metadata") or {}).get("annotations") or {}).get(
        "kubectl.kubernetes.io/restartedAt") for d in deps]


# --------------------------------------------------------------------------------------------- ca_keypair

@pytest.fixture(scope="module")
def keypair_fleet(tmp_path_factory):
    # istiod (1.22) runs before cacerts exists, so it starts self-signed and the istio role must restart it.
    fleet = start_fleet(tmp_path_factory, preinstall=("istio",), propagation_delay=1.0)
    yield fleet
    fleet.stop()


@pytest.fixture(scope="module")
def keypair_deployed(keypair_fleet, inputs):
    extra = {"ca_setup_trust_source": "ca_keypair", "cert_manager_manifest_src": str(inputs["manifest"]),
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


# --------------------------------------------------------------------------------------------- selfsigned

def test_selfsigned_deploys_a_root_per_cluster_with_rotation_policy_never(tmp_path_factory, inputs):
    fleet = start_fleet(tmp_path_factory, preinstall=("istio",), propagation_delay=1.0)
    try:
        extra = {"ca_setup_trust_source": "selfsigned", "cert_manager_manifest_src": str(inputs["manifest"])}
        result = deploy(fleet, extra)
        assert result.rc == 0, result.explain()
        warnings = result.task_results("Warn that a self-signed root is for demos only")
        assert all("demos only" in r["msg"] for r in warnings.values()) and len(warnings) == 3
        roots = []
        for cluster in fleet.clusters:
            root = check_cacerts(cluster)[1]
            issuer_root = cluster.get("v1", "secrets", "cert-manager", "meshpki-istio-root-ca")
            assert issuer_root is not None
            assert secret_certs(cluster, "cert-manager", "meshpki-istio-root-ca", "tls.crt")[0] == root
            cert = cluster.get("cert-manager.io/v1", "certificates", "cert-manager", "meshpki-istio-root-ca")
            assert cert["spec"]["privateKey"]["rotationPolicy"] == "Never"
            assert cert["spec"]["isCA"] is True and cert["spec"]["duration"] == "87600h"
            check_root_configmap(cluster, root)
            roots.append(root)
        # Demo mode: each cluster made its own root (why it warns).
        assert len({r.fingerprint(hashes.SHA256()) for r in roots}) == 3
        assert_reloaded(result, fleet)
        # Idempotence of the selfsigned path (issuers, root): one cluster is enough and a third of the cost.
        again = deploy(fleet, extra, limit="cluster-1")
        assert again.rc == 0 and again.changed_total() == 0, again.explain()
    finally:
        fleet.stop()


# --------------------------------------------------------------------------------------------- issuer_ref

def test_issuer_ref_with_existing_cert_manager_and_istio_from_a_manifest(tmp_path_factory, inputs):
    """The site's own CA ClusterIssuer (same root on every cluster), cert-manager adopted, Istio applied."""
    fleet = start_fleet(tmp_path_factory, preinstall=("cert-manager",), propagation_delay=1.0)
    try:
        root = inputs["root"]
        for cluster in fleet.clusters:
            cluster.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                            "metadata": {"name": "org-ca", "namespace": "cert-manager"},
                            "data": {"tls.crt": base64.b64encode(root.cert_path.read_bytes()).decode(),
                                     "tls.key": base64.b64encode(root.key_path.read_bytes()).decode()}})
            cluster.create({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
                            "metadata": {"name": "org-ca"}, "spec": {"ca": {"secretName": "org-ca"}}})
        istio_manifest = write_istio_manifest(inputs["dir"], "1.22.3")
        extra = {"ca_setup_trust_source": "issuer_ref", "ca_setup_issuer_ref": {"name": "org-ca"},
                 "cert_manager_install": "existing", "istio_install": "manifest",
                 "istio_manifest_src": str(istio_manifest)}
        result = deploy(fleet, extra)
        assert result.rc == 0, result.explain()
        for cluster in fleet.clusters:
            got_root = check_cacerts(cluster)[1]
            assert got_root == root.cert
            check_root_configmap(cluster, got_root)
            # istiod was installed after cacerts existed: it started plugged, no restart needed.
            assert not any(restarted_at(cluster)), f"{cluster.name}: istiod restarted needlessly"
            assert cluster.get("cert-manager.io/v1", "clusterissuers", None, "meshpki-istio-ca") is None
        assert_reloaded(result, fleet)
        again = deploy(fleet, extra, limit="cluster-2")
        assert again.rc == 0 and again.changed_total() == 0, again.explain()
    finally:
        fleet.stop()
