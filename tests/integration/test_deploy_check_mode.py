"""deploy.yml --check on a fresh cluster, then on a deployed one (one 1-cluster simulated fleet).

What must hold: on a cluster where nothing is deployed, --check completes, reports what deploy.yml
would do as changes (cert-manager and Istio "would install", ca_setup's and istio's "the dry run stops
here" lines) and writes nothing: every write request the cluster saw carries dryRun=All (kubesim's
request log) and no object changed. After a real deploy, --check reports no change. The filters
that decide the split are tested in tests/unit/plugins/filter/test_manifest.py and test_ca_setup.py.
"""

from __future__ import annotations

import time

import pytest

from deploy_support import (
    CERT_MANAGER_VERSION,
    deploy,
    diff_resource_versions,
    fleet_resource_versions,
    write_istio_manifest,
)
from kubesim import Fleet

ISTIO_VERSION = "1.22.3"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
NOISE = ("coordination.k8s.io/leases", "/events")  # controllers' own writes, not the playbook's


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("fleet"))
    fleet.start()
    yield fleet
    fleet.stop()


@pytest.fixture(scope="module")
def extra(inputs, tmp_path_factory):
    istio = write_istio_manifest(tmp_path_factory.mktemp("istio"), ISTIO_VERSION)
    return {"ca_setup_trust_source": "ca_keypair", "ca_setup_allow_root_key_in_cluster": True,
            "cert_manager_manifest_src": str(inputs["manifest"]),
            "ca_setup_ca_cert": str(inputs["root"].cert_path), "ca_setup_ca_key": str(inputs["root"].key_path),
            "istio_install": "manifest", "istio_manifest_src": str(istio)}


def writes_since(cluster, since: float) -> list:
    return [r for r in cluster.requests if r["time"] >= since and r["method"] in WRITES]


def real_writes(cluster, since: float) -> list:
    """Writes that were not server-side dry runs."""
    return [(r["method"], r["path"], r["query"]) for r in writes_since(cluster, since)
            if "dryRun=All" not in (r.get("query") or "")]


def messages(result, task: str) -> list:
    return [r.get("msg", "") for r in result.task_results(task).values()]


# ------------------------------------------------------------------------------------------- playbook

def test_check_on_fresh_cluster_reports_what_would_change_and_writes_nothing(fleet, extra):
    cluster = fleet.clusters[0]
    before = fleet_resource_versions(fleet)
    since = time.time()
    check = deploy(fleet, extra, check=True)
    assert check.rc == 0, check.explain()
    assert check.changed_total() > 0, check.explain()

    installs = messages(check, "Report that a real run would install cert-manager")
    assert installs and f"would install cert-manager v{CERT_MANAGER_VERSION}" in installs[0], check.explain()
    assert "namespace cert-manager does not exist yet" in installs[0]
    stops = messages(check, "Say where the dry run stops and what a real run would create (check mode)")
    assert stops and "cert-manager is not installed yet" in stops[0], check.explain()
    assert "Certificate istio-system/cacerts" in stops[0]
    istio = messages(check, "Report that a real run would install Istio")
    assert istio and f"would install Istio {ISTIO_VERSION}" in istio[0], check.explain()
    assert messages(check, "Say where the dry run stops (check mode)"), check.explain()
    # The waits and the API proof were skipped, not timed out.
    assert not check.task_results("Dry-run create a ClusterIssuer until the cert-manager webhook accepts it")

    # Something was dry-run, nothing was written.
    assert writes_since(cluster, since), "no dry-run request reached the cluster"
    assert real_writes(cluster, since) == []
    for api_version, plural, ns, name in [("v1", "namespaces", None, "cert-manager"),
                                          ("v1", "namespaces", None, "istio-system"),
                                          ("apiextensions.k8s.io/v1", "customresourcedefinitions", None,
                                           "certificates.cert-manager.io")]:
        assert cluster.get(api_version, plural, ns, name) is None, f"{plural}/{name} was created"
    changed = diff_resource_versions(before, fleet_resource_versions(fleet))
    assert not [c for c in changed if c[1] not in NOISE], changed


def test_check_on_deployed_cluster_reports_no_change(fleet, extra):
    real = deploy(fleet, extra)
    assert real.rc == 0, real.explain()
    assert real.changed_total() > 0
    cluster = fleet.clusters[0]
    since = time.time()
    check = deploy(fleet, extra, check=True)
    assert check.rc == 0, check.explain()
    assert check.changed_total() == 0, check.explain()
    assert real_writes(cluster, since) == []
    stops = [n for n, _h, r in check.iter_task_results() if "stops here" in str(r.get("msg", ""))]
    assert stops == [], stops
