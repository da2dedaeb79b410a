"""Simulated sidecar workloads: certificates from istiod's in-memory CA, renewal per the agent's rules, mTLS
handshakes in and across clusters, the tally (Python and the CLI's files), restarts, and the failures a wrong
rotation causes.

Upstream: istio/istio security/pkg/nodeagent/cache/secretcache.go (``rotateTime``, ``UpdateConfigTrustBundle``,
``mergeConfigTrustBundle``), pkg/istio-agent/xds_proxy.go (PCDS handler only with PROXY_CONFIG_XDS_AGENT),
pilot/pkg/xds/pcds.go (pushed only with ISTIO_MULTIROOT_MESH).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from kubesim import pki
from kubesim.tests_support_mesh import converge, intermediate, leaf_issuers, mesh_fleet, native_files, root, write_cacerts

KUBESIM_DIR = Path(__file__).resolve().parent.parent  # tests/, where the kubesim package lives


def _serials(fleet):
    return {w["pod"]: w["leaf_serial"] for c in fleet for w in c.workloads}


def _rollout_istiod(cluster):
    dep = cluster.get("apps/v1", "deployments", "istio-system", "istiod")
    dep["spec"]["template"]["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = \
        cluster.now().isoformat()
    cluster.update(dep)


def _agent_cert_expiry(fleet, workload) -> float:
    """istio_agent_cert_expiry_seconds through the API server's pods/proxy to pilot-agent's port 15020."""
    conn = fleet.connection(workload["cluster"])
    conn.request("GET", f"/api/v1/namespaces/{workload['namespace']}/pods/{workload['pod']}:15020/proxy/"
                        "stats/prometheus")
    resp = conn.getresponse()
    body = resp.read().decode()
    assert resp.status == 200, body
    line = next(x for x in body.splitlines() if x.startswith("istio_agent_cert_expiry_seconds{"))
    return float(line.split()[-1])


def test_cli_writes_the_tally_and_every_failure(tmp_path):
    # two clusters whose istiods run self-signed: each has its own root, so every cross-cluster handshake fails
    env = dict(os.environ, PYTHONPATH=str(KUBESIM_DIR))
    proc = subprocess.Popen([sys.executable, "-m", "kubesim", "--clusters", "2", "--workdir", str(tmp_path),
                             "--preinstall", "istio", "--workloads", "2", "--mtls-interval", "0.5"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        summary_file = tmp_path / "mtls-summary.json"
        deadline = time.monotonic() + 60
        summary = {}
        while time.monotonic() < deadline:
            if summary_file.exists():
                summary = json.loads(summary_file.read_text() or "{}")
                if summary.get("rounds", 0) >= 2:
                    break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.2)
        assert summary["attempted"] > 0 and 0 < summary["failed"] < summary["attempted"], summary
        assert summary["since"].endswith("Z")
        failures = [json.loads(line) for line in (tmp_path / "mtls-failures.jsonl").read_text().splitlines()]
        assert len(failures) >= summary["failed"] > 0
        first = failures[0]
        assert set(first) == {"time", "client", "server", "reason"}
        assert first["client"].split("/")[0] != first["server"].split("/")[0]  # only across clusters
        assert "certificate verify failed" in first["reason"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def test_renewal_at_half_the_ttl_and_restart(kubesim_fleet_factory):
    a = root()
    fleet, old = mesh_fleet(kubesim_fleet_factory, ["1.22.3"], a, workloads=4, ttl=3600)
    c = fleet["cluster-1"]
    before = _serials(fleet)
    assert {w["leaf_issuer"] for w in c.workloads} == {pki.go_name_string(old["cluster-1"].cert.subject)}
    fleet.advance(0.45 * 3600)
    assert _serials(fleet) == before  # SECRET_GRACE_PERIOD_RATIO 0.5 (no jitter before 1.24)
    w = c.workloads[0]
    assert 0.5 * 3600 <= _agent_cert_expiry(fleet, w) <= 0.6 * 3600
    fleet.advance(0.1 * 3600)
    after = _serials(fleet)
    assert set(after) == set(before) and all(after[p] != before[p] for p in before)
    assert _agent_cert_expiry(fleet, w) > 0.9 * 3600  # the renewed certificate, as pilot-agent reports it
    # a restart of one namespace: new pods there only
    pods = {w["namespace"]: set() for w in c.workloads}
    for w in c.workloads:
        pods[w["namespace"]].add(w["pod"])
    assert c.restart_workloads(namespace="mesh-1") == ["mesh-1"]
    now = {w["namespace"]: {w2["pod"] for w2 in c.workloads if w2["namespace"] == w["namespace"]}
           for w in c.workloads}
    assert now["mesh-1"].isdisjoint(pods["mesh-1"]) and now["mesh-2"] == pods["mesh-2"]
    assert fleet.mtls_round()["failed"] == 0


def test_step_3_before_every_cluster_moved_fails_handshakes(kubesim_fleet_factory):
    a, b = root("Root CA A"), root("Root CA B")
    fleet, old = mesh_fleet(kubesim_fleet_factory, ["1.22.3", "1.22.3"], a, workloads=2)
    new = {c.name: intermediate(b, c.name) for c in fleet}
    for files in (lambda c: native_files(old[c.name], a, a.pem + b.pem),
                  lambda c: native_files(new[c.name], b, a.pem + b.pem)):
        for c in fleet:
            write_cacerts(c, files(c))
        converge(fleet)
    assert fleet.mtls_round()["failed"] == 0
    # step 3 on cluster-1 right away: its agents re-request (bundle changed) and trust B only, while the
    # workloads of cluster-2 still hold leaves under the old intermediate (step 2 changed no bundle there)
    write_cacerts(fleet["cluster-1"], native_files(new["cluster-1"], b, b.pem))
    converge(fleet)
    summary = fleet.mtls_round()
    assert summary["failed"] > 0
    failures = fleet.mtls_failures()
    assert all("cluster-2/" in (f["client"] + f["server"]) and "cluster-1/" in (f["client"] + f["server"])
               for f in failures)
    assert all("certificate verify failed" in f["reason"] for f in failures)


def test_root_swapped_in_one_step_fails_until_workloads_restart(kubesim_fleet_factory):
    # restore.yml with restore_allow_root_change: new root and intermediate in cacerts, istiod restarted;
    # no multi-root, so no PCDS and the workloads keep their old leaves and trust until they restart or renew
    a, b = root("Root CA A"), root("Root CA B")
    fleet, _ = mesh_fleet(kubesim_fleet_factory, ["1.22.3", "1.22.3"], a, workloads=2, multiroot=False, pcds=False)
    new = {c.name: intermediate(b, c.name) for c in fleet}
    for c in fleet:
        write_cacerts(c, native_files(new[c.name], b, b.pem))
        _rollout_istiod(c)
    converge(fleet)
    assert fleet.mtls_round()["failed"] == 0  # nobody moved yet: everyone still on A
    fleet["cluster-1"].restart_workloads()
    assert fleet.mtls_round()["failed"] > 0  # cluster-1 now on B, cluster-2 on A
    assert len({f["reason"] for f in fleet.mtls_failures()}) >= 1
    fleet["cluster-2"].restart_workloads()
    fleet.mtls_reset()
    assert fleet.mtls_round()["attempted"] > 0 and fleet.mtls_summary()["failed"] == 0
    assert leaf_issuers(fleet) == {pki.go_name_string(n.cert.subject) for n in new.values()}


@pytest.mark.parametrize("proxy_version,pcds,trusts_b_at_once", [
    ("1.19.10", True, True),  # PCDS updates ROOTCA, but UpdateConfigTrustBundle re-requests only from 1.20.0
    (None, False, False),  # agents started without PROXY_CONFIG_XDS_AGENT: no PCDS handler at all
])
def test_workloads_without_reissue_move_only_at_renewal(kubesim_fleet_factory, proxy_version, pcds,
                                                          trusts_b_at_once):
    a, b = root("Root CA A"), root("Root CA B")
    ttl = 4 * 3600
    fleet, old = mesh_fleet(kubesim_fleet_factory, ["1.22.3"], a, workloads=3, pcds=pcds, ttl=ttl,
                            proxy_version=proxy_version)
    c = fleet["cluster-1"]
    new_int = intermediate(b, c.name)
    issued = {w["pod"]: w["certificates_issued"] for w in c.workloads}
    write_cacerts(c, native_files(old[c.name], a, a.pem + b.pem))
    converge(fleet)
    for w in c.workloads:
        assert w["certificates_issued"] == issued[w["pod"]]
        assert (pki.fingerprint(b.cert) in w["trust_anchor_fingerprints"]) is trusts_b_at_once
    write_cacerts(c, native_files(new_int, b, a.pem + b.pem))
    converge(fleet)
    fleet.advance(0.4 * ttl)
    assert leaf_issuers(fleet) == {pki.go_name_string(old[c.name].cert.subject)}
    fleet.advance(0.2 * ttl)  # past 50 % of the TTL: renewed under the new intermediate, trusting A+B
    assert leaf_issuers(fleet) == {pki.go_name_string(new_int.cert.subject)}
    for w in c.workloads:
        assert pki.fingerprint(b.cert) in w["trust_anchor_fingerprints"]
    assert fleet.mtls_round()["failed"] == 0 and fleet.mtls_failures() == []


def test_flag_from_pod_annotation_and_mesh_config_read_at_start(kubesim_fleet_factory):
    a = root()
    fleet, _ = mesh_fleet(kubesim_fleet_factory, ["1.22.3"], a, workloads=2, pcds=False)
    c = fleet["cluster-1"]
    assert {w["proxy_config_xds_agent"] for w in c.workloads} == {False}
    dep = c.get("apps/v1", "deployments", "mesh-1", "workload")
    dep["spec"]["template"]["metadata"]["annotations"]["proxy.istio.io/config"] = \
        "proxyMetadata:\n  PROXY_CONFIG_XDS_AGENT: \"true\"\n"
    c.update(dep)
    c.settle()
    flags = {w["namespace"]: w["proxy_config_xds_agent"] for w in c.workloads}
    assert flags == {"mesh-1": True, "mesh-2": False}


def test_pod_propagation_delays(kubesim_fleet_factory):
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("istio",), propagation_delay=2.5)
    c = fleet["cluster-1"]
    delays = c.pod_propagation_delays("istio-system", "cacerts")
    istiods = [p["metadata"]["name"] for p in c.list("v1", "pods", "istio-system", label_selector="app=istiod")]
    assert delays == {name: 2.5 for name in istiods} and istiods
    assert c.pod_propagation_delays("istio-system", "other") == {}


def test_per_pod_jitter_is_seeded_and_applied_by_istiod(kubesim_fleet_factory):
    from kubesim.controllers.istiod import IstiodSim
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("istio",), propagation_delay=100.0,
                                   propagation_jitter=400.0)  # simulated time also runs with the wall clock: margins
    c = fleet["cluster-1"]
    dep = c.get("apps/v1", "deployments", "istio-system", "istiod")
    dep["spec"]["replicas"] = 3
    c.update(dep)
    fleet.settle()
    fleet.advance(1)
    write_cacerts(c, native_files(intermediate(root(), c.name), root(), b"x"))
    delays = c.pod_propagation_delays("istio-system", "cacerts")
    assert len(delays) == 3 and all(100.0 <= d < 500.0 for d in delays.values()) and len(set(delays.values())) == 3
    assert c.pod_propagation_delays("istio-system", "cacerts") == delays  # seeded: the same for this change
    sim = IstiodSim.of(c)
    first, last = min(delays.values()), max(delays.values())
    c.clock.advance(first - 10)
    assert all("ca-cert.pem" not in sim.pods[p].files for p in delays)
    c.clock.advance(last - first + 20)
    assert all("ca-cert.pem" in sim.pods[p].files for p in delays)
    write_cacerts(c, native_files(intermediate(root(), c.name), root(), b"y"))
    assert c.pod_propagation_delays("istio-system", "cacerts") != delays  # a new change, new draws


def _proxy_env(cluster, namespace):
    pods = cluster.list("v1", "pods", namespace, label_selector="kubesim.io/mesh-workload=true")
    return [dict((e["name"], e.get("value")) for e in next(
        c for c in p["spec"]["containers"] if c["name"] == "istio-proxy").get("env") or [])
        for p in pods if not p["metadata"].get("deletionTimestamp")]


def test_the_injector_writes_proxy_metadata_into_the_pod_at_creation(kubesim_fleet_factory):
    # pkg/kube/inject's template renders .ProxyConfig.ProxyMetadata into the istio-proxy env when the pod is
    # created: the pod spec shows what its agent read, and a mesh config change shows only after a restart.
    a = root()
    fleet, _ = mesh_fleet(kubesim_fleet_factory, ["1.22.3"], a, workloads=2, pcds=False)
    c = fleet["cluster-1"]
    assert all("PROXY_CONFIG_XDS_AGENT" not in env for env in _proxy_env(c, "mesh-1"))
    cm = c.get("v1", "configmaps", "istio-system", "istio")
    mesh_doc = yaml.safe_load(cm["data"]["mesh"])
    mesh_doc["defaultConfig"]["proxyMetadata"] = {"PROXY_CONFIG_XDS_AGENT": "true", "ISTIO_META_DNS_CAPTURE": "true"}
    cm["data"]["mesh"] = yaml.safe_dump(mesh_doc)
    c.update(cm)
    c.settle()
    assert all("PROXY_CONFIG_XDS_AGENT" not in env for env in _proxy_env(c, "mesh-1"))  # read at creation only
    assert {w["proxy_config_xds_agent"] for w in c.workloads} == {False}
    c.restart_workloads("mesh-1")
    assert [env.get("PROXY_CONFIG_XDS_AGENT") for env in _proxy_env(c, "mesh-1")] == ["true"]
    assert [env.get("ISTIO_META_DNS_CAPTURE") for env in _proxy_env(c, "mesh-1")] == ["true"]
    assert {w["namespace"]: w["proxy_config_xds_agent"] for w in c.workloads} == {"mesh-1": True, "mesh-2": False}
    # an explicit env entry on the container wins over the mesh config (the user's container is merged over)
    dep = c.get("apps/v1", "deployments", "mesh-2", "workload")
    proxy = next(x for x in dep["spec"]["template"]["spec"]["containers"] if x["name"] == "istio-proxy")
    proxy["env"] = [{"name": "PROXY_CONFIG_XDS_AGENT", "value": "false"}]
    c.update(dep)
    c.settle()
    assert [env.get("PROXY_CONFIG_XDS_AGENT") for env in _proxy_env(c, "mesh-2")] == ["false"]
    assert {w["namespace"]: w["proxy_config_xds_agent"] for w in c.workloads} == {"mesh-1": True, "mesh-2": False}
