"""A kubesim fleet ready for a root rotation, and what a test reads from it afterwards (the playbook tests of
playbooks/rotate_root.yml share it).

The fleet is what deploy.yml leaves (cert-manager's cacerts under root A) plus what ``deploy.yml -e
istio_multiroot=true`` adds: ISTIO_MULTIROOT_MESH on istiod and PROXY_CONFIG_XDS_AGENT in the mesh's default proxy
metadata, then a restart of the workloads (pilot-agent reads the flag at start; kubesim's injector copies
proxyMetadata into the istio-proxy env at pod creation, as pkg/kube/inject does)."""

from __future__ import annotations

import base64
import json

import yaml

from kubesim.tests_support_mesh import FLAG_MESH, converge
import rotation_fleet as rf

NS = "istio-system"


def prepare_multiroot(cluster):
    """What deploy.yml -e istio_multiroot=true changes on one cluster."""
    dep = cluster.get("apps/v1", "deployments", NS, "istiod")
    dep["spec"]["template"]["spec"]["containers"][0].setdefault("env", []).append(
        {"name": "ISTIO_MULTIROOT_MESH", "value": "true"})
    cluster.update(dep)
    cm = cluster.get("v1", "configmaps", NS, "istio")
    mesh = yaml.safe_load(cm["data"]["mesh"]) or {}
    mesh.setdefault("defaultConfig", {})["proxyMetadata"] = {FLAG_MESH: "true"}
    cm["data"]["mesh"] = yaml.safe_dump(mesh)
    cluster.update(cm)


def make_fleet(factory, tmp_path, versions, multiroot=None, workloads=3):
    """A fleet on ``versions`` ({cluster: istio version}) under root A with workloads, the clusters in
    ``multiroot`` (default: all) prepared for multi-root; ``fleet.new_files`` names root B's PEM files."""
    fleet = factory(n_clusters=len(versions), preinstall=("cert-manager",), propagation_delay=0.2,
                    workloads=workloads)
    fleet.root = rf.make_root("Root CA A")
    for version in sorted(set(versions.values())):
        rf.setup_ca(fleet, fleet.root, clusters=[n for n, v in versions.items() if v == version],
                    istio_version=version)
    for name in (versions if multiroot is None else multiroot):
        prepare_multiroot(fleet[name])
    converge(fleet)
    fleet.restart_workloads()
    converge(fleet)
    fleet.mtls_reset()
    fleet.new_root = rf.make_root("Root CA B")
    new_dir = tmp_path / "new-root"
    new_dir.mkdir()
    (new_dir / "root.pem").write_bytes(fleet.new_root.cert_pem)
    (new_dir / "root.key").write_bytes(fleet.new_root.key_pem)
    fleet.new_files = {"root_rotation_new_ca_cert": str(new_dir / "root.pem"),
                       "root_rotation_new_ca_key": str(new_dir / "root.key")}
    return fleet


def served(fleet, name):
    """(type of cacerts, the root bundle istiod reads from it)."""
    sec = fleet[name].get("v1", "secrets", NS, "cacerts")
    data = {k: base64.b64decode(v) for k, v in sec["data"].items()}
    return sec["type"], data.get("ca.crt") if "tls.crt" in data else data.get("root-cert.pem")


def record(fleet, name):
    """The cluster's rotation record (ConfigMap meshpki-root-rotation), or None."""
    return fleet[name].get("v1", "configmaps", NS, "meshpki-root-rotation")


def summary(tmp_path):
    return json.loads((tmp_path / "root-rotation-summary.json").read_text())


def assert_back_to_cert_manager(fleet, root_pem):
    """Every cluster serves ``root_pem`` alone from the kubernetes.io/tls Secret its Certificate renews."""
    for name in fleet.names:
        kind, bundle = served(fleet, name)
        assert kind == "kubernetes.io/tls" and bundle == root_pem, name
        cert = fleet[name].get("cert-manager.io/v1", "certificates", NS, "cacerts")
        assert cert["spec"]["secretName"] == "cacerts", name
        assert fleet[name].get("v1", "secrets", NS, "cacerts-staging") is None, name


def assert_no_failed_handshake(fleet):
    fleet.advance(30)
    fleet.mtls_round()
    tally = fleet.mtls_summary()
    assert tally["attempted"] > 0 and tally["failed"] == 0, (tally, fleet.mtls_failures()[:3])
