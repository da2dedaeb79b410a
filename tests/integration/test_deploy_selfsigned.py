"""playbooks/deploy.yml on a fresh 3-cluster simulated fleet with the selfsigned trust source (demo mode).

What must hold (issue 7): each cluster gets its own cert-manager-made root (rotationPolicy Never),
with a warning that this is for demos only; cacerts chains to it and istiod reloaded; a re-run
changes nothing. Cluster state is checked straight from the simulator.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes

from deploy_support import assert_reloaded, check_cacerts, check_root_configmap, deploy, secret_certs, start_fleet

pytestmark = pytest.mark.slow


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
