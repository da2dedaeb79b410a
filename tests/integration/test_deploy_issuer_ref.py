"""playbooks/deploy.yml on a fresh 3-cluster simulated fleet with the issuer_ref trust source.

What must hold (issue 7): the site's own CA ClusterIssuer is used as it is, cert-manager already
installed is adopted, Istio is applied from a manifest after cacerts exists (so no restart); a
re-run changes nothing. Cluster state is checked straight from the simulator.
"""

from __future__ import annotations

import base64

import pytest

from deploy_support import (
    assert_reloaded,
    check_cacerts,
    check_root_configmap,
    deploy,
    restarted_at,
    start_fleet,
    write_istio_manifest,
)

pytestmark = pytest.mark.slow


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
