"""The root rotation's Python core against kubesim's istiod and workloads: the ``cacerts`` it composes for each
step, written as the role writes them, rotate a fleet on two Istio versions with zero failed handshakes, and a
bundle istiod would refuse is refused before it is written.

Starts where deploy.yml leaves a cluster: ``cacerts`` in cert-manager's ``kubernetes.io/tls`` names. The step-2
intermediate stands for what cert-manager issues into the staging Secret under the new root.
"""

from __future__ import annotations

import base64

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import fingerprint
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import barriers, bundles, cacerts

from kubesim import pki
from kubesim.tests_support_mesh import converge, intermediate, istiod_lines, leaf_issuers, mesh_fleet, root, \
    write_cacerts

ACCEPTED = "info\tUpdating new ROOT-CA"
REFUSED = "warn\tUpdating new ROOT-CA not supported"
VERSIONS = ("1.22.3", "1.22.3", "1.31.0", "1.31.0")


def tls(inter, root_ca):
    return {"tls.crt": inter.pem, "tls.key": inter.key_pem, "ca.crt": root_ca.pem}


def b64(files):
    return {k: base64.b64encode(v).decode() for k, v in files.items()}


def served(cluster):
    sec = cluster.get("v1", "secrets", "istio-system", "cacerts")
    return cacerts.served_bundle(cacerts.decode(sec["data"]))


def istiods(cluster, version):
    return [{"name": "istiod", "version": version, "multiroot": True}]


def write_step(fleet, step, sources, new_root, versions):
    """What the role does per cluster: the bundle of the step from what cacerts serves, the refusal check, the
    composed Secret written; then the proof (bundle in cacerts and every istio-ca-root-cert, istiod's lines)."""
    for cluster, version in zip(fleet, versions):
        current = served(cluster)
        bundle = bundles.phase_bundle(step, current, new_root.pem)
        assert bundles.change_problems(current, bundle, istiods(cluster, version)) == []
        secret, _facts = cacerts.compose(step, b64(tls(*sources[cluster.name])), bundle, fingerprint(new_root.cert))
        write_cacerts(cluster, {k: base64.b64decode(v) for k, v in secret["data"].items()})
    converge(fleet)
    for cluster in fleet:
        proof = barriers.bundle_evidence(bundles.phase_bundle(step, served(cluster), new_root.pem), served(cluster),
                                         [cm for cm in cluster.list("v1", "configmaps")
                                          if cm["metadata"]["name"] == "istio-ca-root-cert"])
        assert proof["done"] and proof["namespaces"] >= 4, (cluster.name, step, proof)
    return fleet.mtls_round()


@pytest.fixture()
def fleet_ab(kubesim_fleet_factory):
    a, b = root("Root CA A"), root("Root CA B")
    fleet, old = mesh_fleet(kubesim_fleet_factory, VERSIONS, a, workloads=3)
    for cluster in fleet:  # cert-manager's names, as deploy.yml leaves cacerts
        write_cacerts(cluster, tls(old[cluster.name], a))
    converge(fleet)
    fleet.mtls_reset()
    return fleet, a, b, old


def test_three_composed_steps_rotate_the_fleet_with_zero_failed_handshakes(fleet_ab):
    fleet, a, b, old = fleet_ab
    new = {c.name: intermediate(b, c.name) for c in fleet}
    assert fleet.mtls_round()["attempted"] > 0

    write_step(fleet, "combined", {c.name: (old[c.name], a) for c in fleet}, b, VERSIONS)
    for cluster in fleet:
        assert ACCEPTED in istiod_lines(cluster) and REFUSED not in istiod_lines(cluster)
        for w in cluster.workloads:
            assert pki.fingerprint(b.cert) in w["trust_anchor_fingerprints"]

    write_step(fleet, "new_intermediate", {c.name: (new[c.name], b) for c in fleet}, b, VERSIONS)
    # the bundle did not change, so the agents move to the new intermediate at renewal (half the 24 h TTL)
    fleet.advance(13 * 3600)
    fleet.mtls_round()
    assert leaf_issuers(fleet) == {pki.go_name_string(new[c.name].cert.subject) for c in fleet}

    write_step(fleet, "new_only", {c.name: (new[c.name], b) for c in fleet}, b, VERSIONS)
    for cluster in fleet:
        files = cacerts.decode(cluster.get("v1", "secrets", "istio-system", "cacerts")["data"])
        assert sorted(files) == ["ca.crt", "tls.crt", "tls.key"] and files["ca.crt"] == b.pem  # handed back
        for w in cluster.workloads:
            assert w["trust_anchor_fingerprints"] == [pki.fingerprint(b.cert)]
    fleet.advance(30)
    summary = fleet.mtls_round()
    assert summary["attempted"] > 0 and summary["failed"] == 0, fleet.mtls_failures()[:3]


def test_wrong_order_on_1_22_is_refused_before_it_is_written(fleet_ab):
    fleet, a, b, old = fleet_ab
    write_step(fleet, "combined", {c.name: (old[c.name], a) for c in fleet}, b, VERSIONS)
    c122, c131 = fleet.clusters[0], fleet.clusters[2]
    current = served(c122)
    reordered = b.pem + a.pem  # the same two roots, the other order
    found = bundles.change_problems(current, reordered, istiods(c122, "1.22.3"))
    assert len(found) == 1 and "bytes.Contains" in found[0]
    assert bundles.change_problems(current, reordered, istiods(c131, "1.31.0")) == []
    # the control: written anyway, 1.22's istiod indeed refuses it (and 1.31's would not)
    secret, _ignored = cacerts.compose("new_intermediate", b64(tls(intermediate(b, c122.name), b)), reordered,
                                       fingerprint(b.cert))
    write_cacerts(c122, {k: base64.b64decode(v) for k, v in secret["data"].items()})
    converge(fleet)
    assert istiod_lines(c122)[-1] == REFUSED


def gauges(cluster):
    """Per workload what the API offers: the pod's creationTimestamp and pilot-agent's
    istio_agent_cert_expiry_seconds (pods/proxy to port 15020), here from the same simulated agent."""
    now = cluster.now()
    out = []
    for w in cluster.workloads:
        pod = cluster.get("v1", "pods", w["namespace"], w["pod"])
        remaining = None
        if w["leaf_not_after"]:
            from datetime import datetime
            remaining = (datetime.fromisoformat(w["leaf_not_after"]) - now).total_seconds()
        out.append({"pod": "%s/%s" % (w["namespace"], w["pod"]), "created": pod["metadata"]["creationTimestamp"],
                    "expiry_seconds": remaining})
    return out


def marker_time(cluster):
    """When the step took effect: the cluster's time right after it converged (the success marker's time)."""
    return cluster.now().isoformat()


TTL = 24 * 3600.0
NO_PCDS = ("1.22.3", "1.31.0")


@pytest.fixture()
def fleet_no_pcds(kubesim_fleet_factory):
    """Agents without PROXY_CONFIG_XDS_AGENT: trust and leaves change only at renewal (or restart)."""
    a, b = root("Root CA A"), root("Root CA B")
    fleet, old = mesh_fleet(kubesim_fleet_factory, NO_PCDS, a, workloads=3, pcds=False, ttl=TTL)
    return fleet, a, b, old


def barrier(fleet, step, nxt, switched):
    return barriers.fleet_barrier(
        {c.name: {"bundle": {"done": True}, "istiod": {"done": True, "problems": []},
                  "workloads": barriers.workload_evidence(gauges(c), switched[c.name], c.now().isoformat(), TTL)}
         for c in fleet}, step, nxt)


def test_without_pcds_each_barrier_waits_for_the_workload_renewal(fleet_no_pcds):
    fleet, a, b, old = fleet_no_pcds
    new = {c.name: intermediate(b, c.name) for c in fleet}
    write_step(fleet, "combined", {c.name: (old[c.name], a) for c in fleet}, b, NO_PCDS)
    switched = {c.name: marker_time(c) for c in fleet}
    shut = barrier(fleet, "combined", "new_intermediate", switched)
    assert not shut["open"] and all("trust the new root" in r[0] for r in shut["waiting"].values())
    fleet.advance(6 * 3600)
    assert not barrier(fleet, "combined", "new_intermediate", switched)["open"]
    fleet.advance(7 * 3600)  # past half the TTL: every agent renewed, its CSR response carried old+new
    fleet.mtls_round()
    assert barrier(fleet, "combined", "new_intermediate", switched)["open"]

    write_step(fleet, "new_intermediate", {c.name: (new[c.name], b) for c in fleet}, b, NO_PCDS)
    switched = {c.name: marker_time(c) for c in fleet}
    assert not barrier(fleet, "new_intermediate", "new_only", switched)["open"]
    fleet.advance(13 * 3600)
    fleet.mtls_round()
    assert barrier(fleet, "new_intermediate", "new_only", switched)["open"]
    assert leaf_issuers(fleet) == {pki.go_name_string(new[c.name].cert.subject) for c in fleet}

    write_step(fleet, "new_only", {c.name: (new[c.name], b) for c in fleet}, b, NO_PCDS)
    fleet.advance(13 * 3600)
    summary = fleet.mtls_round()
    assert summary["attempted"] > 0 and summary["failed"] == 0, fleet.mtls_failures()[:3]


def test_control_without_the_barrier_handshakes_fail(fleet_no_pcds):
    """The tally can fail: step 2 written at once after step 1; agents without PCDS learn the new root only at
    renewal, so a renewed workload (leaf under B) meets one still trusting A alone."""
    fleet, a, b, old = fleet_no_pcds
    fleet.advance(3600)
    fleet.clusters[0].restart_workloads()  # cluster-1's leaves are an hour younger: they renew an hour later
    converge(fleet)
    fleet.mtls_reset()
    new = {c.name: intermediate(b, c.name) for c in fleet}
    write_step(fleet, "combined", {c.name: (old[c.name], a) for c in fleet}, b, NO_PCDS)
    write_step(fleet, "new_intermediate", {c.name: (new[c.name], b) for c in fleet}, b, NO_PCDS)
    assert fleet.mtls_summary()["failed"] == 0
    fleet.advance(11.5 * 3600)  # t0 + 12.5 h: past cluster-2's renewal (12 h ±1 %), before cluster-1's (13 h)
    fleet.mtls_round()
    assert fleet.mtls_summary()["failed"] > 0
