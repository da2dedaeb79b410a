"""deploy.yml -e istio_multiroot=true on a fleet with sidecar workloads (issue 15, "Preparing a fleet").

What must hold: before, the readiness rule says not ready with the fixes; --check reports the change and changes
nothing; the real run sets ISTIO_MULTIROOT_MESH=true on istiod and PROXY_CONFIG_XDS_AGENT in the mesh config's
proxyMetadata and names every workload Deployment to restart (task output and the deploy summary), since agents
read the flag only at start; after the restart the cluster is ready and the simulated agents take PCDS; a rerun
changes nothing. State is read straight from kubesim, whose sidecar injector writes the flag into each new pod's
istio-proxy env (tests/kubesim/controllers/mesh/injector.py, after istio pkg/kube/inject).
"""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.istio import multiroot
from deploy_support import SUMMARY_TASK, deploy, diff_resource_versions, fleet_resource_versions
from kubesim import Fleet
from kubesim.controllers.istiod import IstiodSim

pytestmark = pytest.mark.slow

REPORT_TASK = "Report the workloads that must restart to pick up PROXY_CONFIG_XDS_AGENT"
WORKLOAD_DEPLOYMENTS = ["mesh-1/workload", "mesh-2/workload", "mesh-3/workload"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    # two clusters (istiod 1.22 runs before cacerts exists), three workload Deployments each (mesh-1..3)
    fleet = Fleet(n_clusters=2, workdir=tmp_path_factory.mktemp("fleet"), preinstall=("istio",),
                  propagation_delay=1.0, workloads=3)
    fleet.start()
    yield fleet
    fleet.stop()


@pytest.fixture(scope="module")
def extra(inputs):
    return {"ca_setup_trust_source": "ca_keypair", "ca_setup_allow_root_key_in_cluster": True,
            "cert_manager_manifest_src": str(inputs["manifest"]),
            "ca_setup_ca_cert": str(inputs["root"].cert_path), "ca_setup_ca_key": str(inputs["root"].key_path)}


@pytest.fixture(scope="module")
def deployed(fleet, extra):
    result = deploy(fleet, extra)  # today's deploy, without the flag
    assert result.rc == 0, result.explain()
    return result


def readiness(cluster):
    """The collection's rule applied to what the simulator holds (the same objects k8s_info returns)."""
    return multiroot.readiness(cluster.list("apps/v1", "deployments", "istio-system", label_selector="app=istiod"),
                               cluster.list("v1", "configmaps", "istio-system"), cluster.list("v1", "pods"))


def istiod_env(cluster):
    dep = cluster.get("apps/v1", "deployments", "istio-system", "istiod")
    container = [c for c in dep["spec"]["template"]["spec"]["containers"] if c["name"] == "discovery"][0]
    return dict((e["name"], e.get("value")) for e in container.get("env") or [])


def mesh_metadata(cluster):
    mesh = yaml.safe_load(cluster.get("v1", "configmaps", "istio-system", "istio")["data"]["mesh"])
    return (mesh.get("defaultConfig") or {}).get("proxyMetadata") or {}


def test_before_the_fleet_is_not_ready_and_says_how_to_fix_it(fleet, deployed):
    for cluster in fleet:
        verdict = readiness(cluster)
        assert verdict["ready"] is False
        assert verdict["workloads"] == 3 and verdict["pcds_workloads"] == 0
        assert verdict["restart"] == WORKLOAD_DEPLOYMENTS
        text = "\n".join(verdict["problems"])
        assert "ISTIO_MULTIROOT_MESH is not set on istiod istiod (revision 'default'): run deploy.yml -e " \
               "istio_multiroot=true" in text
        assert "PROXY_CONFIG_XDS_AGENT is not \"true\" in defaultConfig.proxyMetadata of mesh ConfigMap " \
               "istio-system/istio" in text
        assert {w["proxy_config_xds_agent"] for w in cluster.workloads} == {False}


def test_check_mode_reports_the_change_and_changes_nothing(fleet, deployed, extra):
    before = fleet_resource_versions(fleet)
    check = deploy(fleet, {**extra, "istio_multiroot": True}, check=True, diff=True)
    assert check.rc == 0, check.explain()
    for task in ("Set ISTIO_MULTIROOT_MESH=true on istiod",
                 "Set PROXY_CONFIG_XDS_AGENT in the mesh config's default proxy metadata"):
        results = check.task_results(task)
        assert sorted(results) == sorted(c.name for c in fleet), check.explain()
        assert all(r.get("changed") for r in results.values()), task
    changed = diff_resource_versions(before, fleet_resource_versions(fleet))
    assert not [c for c in changed if c[1] not in ("coordination.k8s.io/leases", "/events")], changed
    for cluster in fleet:
        assert "ISTIO_MULTIROOT_MESH" not in istiod_env(cluster)
        assert "PROXY_CONFIG_XDS_AGENT" not in mesh_metadata(cluster)


@pytest.fixture(scope="module")
def prepared(fleet, deployed, extra):
    result = deploy(fleet, {**extra, "istio_multiroot": True})
    assert result.rc == 0, result.explain()
    return result


def test_deploy_sets_both_flags_and_lists_the_workloads_to_restart(fleet, prepared):
    for cluster in fleet:
        assert istiod_env(cluster)["ISTIO_MULTIROOT_MESH"] == "true"
        assert mesh_metadata(cluster)["PROXY_CONFIG_XDS_AGENT"] == "true"
        # istiod rolled: its pods run with the multi-root rule
        assert all(p.multiroot for p in IstiodSim.of(cluster).pods.values() if p.serving)
        # the sidecars are still those started without the flag
        assert {w["proxy_config_xds_agent"] for w in cluster.workloads} == {False}
    reports = prepared.task_results(REPORT_TASK)
    summaries = prepared.task_results(SUMMARY_TASK)
    assert sorted(reports) == sorted(c.name for c in fleet)
    for host in reports:
        assert "Multi-root not ready yet" in reports[host]["msg"]
        assert "Restart: " + ", ".join(WORKLOAD_DEPLOYMENTS) in reports[host]["msg"]
        assert "ISTIO_MULTIROOT_MESH" not in reports[host]["msg"]  # set now: only the restart is left
        assert "multi-root: not ready, restart " + ", ".join(WORKLOAD_DEPLOYMENTS) in summaries[host]["msg"]


def test_after_the_restart_the_fleet_is_ready_and_a_rerun_changes_nothing(fleet, prepared, extra):
    fleet.restart_workloads()
    for cluster in fleet:
        assert {w["proxy_config_xds_agent"] for w in cluster.workloads} == {True}
        verdict = readiness(cluster)
        assert verdict["ready"] is True, verdict["problems"]
        assert (verdict["pcds_workloads"], verdict["restart"]) == (3, [])
    again = deploy(fleet, {**extra, "istio_multiroot": True})
    assert again.rc == 0, again.explain()
    assert again.changed_total() == 0, again.explain()
    for host, result in again.task_results(SUMMARY_TASK).items():
        assert "multi-root: ready (3 sidecar(s) with PROXY_CONFIG_XDS_AGENT)" in result["msg"], host
    assert all("Multi-root ready" in r["msg"] for r in again.task_results(REPORT_TASK).values())
