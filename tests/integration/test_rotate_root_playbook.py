"""playbooks/rotate_root.yml on a kubesim fleet with workloads: four clusters on two Istio versions (1.22, 1.31),
deployed as deploy.yml leaves them (cert-manager's cacerts) and prepared for multi-root (ISTIO_MULTIROOT_MESH on
istiod, PROXY_CONFIG_XDS_AGENT in the mesh config, workloads restarted), rotate root A -> B with zero failed mTLS
handshakes, ending with every cluster on root B alone and cacerts back in cert-manager's hands."""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import
from kubesim.tests_support_mesh import FLAG_MESH, converge
import rotation_fleet as rf

pytestmark = pytest.mark.slow

import os

VERSIONS = {"cluster-1": "1.22.3", "cluster-2": "1.22.3", "cluster-3": "1.31.0", "cluster-4": "1.31.0"}
if os.environ.get("RR_SMALL"):
    VERSIONS = {"cluster-1": "1.22.3", "cluster-2": "1.31.0"}


def prepare_multiroot(cluster):
    """What deploy.yml -e istio_multiroot=true does: the istiod flag and the mesh's proxy metadata."""
    dep = cluster.get("apps/v1", "deployments", "istio-system", "istiod")
    env = dep["spec"]["template"]["spec"]["containers"][0].setdefault("env", [])
    env.append({"name": "ISTIO_MULTIROOT_MESH", "value": "true"})
    cluster.update(dep)
    cm = cluster.get("v1", "configmaps", "istio-system", "istio")
    mesh = yaml.safe_load(cm["data"]["mesh"]) or {}
    mesh.setdefault("defaultConfig", {})["proxyMetadata"] = {FLAG_MESH: "true"}
    cm["data"]["mesh"] = yaml.safe_dump(mesh)
    cluster.update(cm)
    # The injector copies proxyMetadata into the istio-proxy container's env at pod creation (pkg/kube/inject);
    # kubesim's pods do not carry that env, so the workloads name it explicitly (an explicit env entry wins too).
    for dep in cluster.list("apps/v1", "deployments"):
        for c in dep["spec"]["template"]["spec"]["containers"]:
            if c["name"] == "istio-proxy":
                c.setdefault("env", []).append({"name": FLAG_MESH, "value": "true"})
                cluster.update(dep)


@pytest.fixture()
def fleet(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=len(VERSIONS), preinstall=("cert-manager",), propagation_delay=0.2, workloads=3)
    fleet.root = rf.make_root("Root CA A")
    for version in sorted(set(VERSIONS.values())):
        rf.setup_ca(fleet, fleet.root, clusters=[n for n, v in VERSIONS.items() if v == version], istio_version=version)
    for cluster in fleet:
        prepare_multiroot(cluster)
    converge(fleet)
    fleet.restart_workloads()
    converge(fleet)
    fleet.mtls_reset()
    new = rf.make_root("Root CA B")
    new_dir = tmp_path / "new-root"
    new_dir.mkdir()
    (new_dir / "root.pem").write_bytes(new.cert_pem)
    (new_dir / "root.key").write_bytes(new.key_pem)
    fleet.new_root = new
    fleet.new_files = {"root_rotation_new_ca_cert": str(new_dir / "root.pem"),
                       "root_rotation_new_ca_key": str(new_dir / "root.key")}
    return fleet


def served(fleet, name):
    sec = fleet[name].get("v1", "secrets", "istio-system", "cacerts")
    data = {k: base64.b64decode(v) for k, v in sec["data"].items()}
    return sec["type"], data.get("ca.crt") if "tls.crt" in data else data.get("root-cert.pem")


def test_rotate_root_a_to_b_with_zero_failed_handshakes(fleet, tmp_path):
    assert fleet.mtls_round()["attempted"] > 0
    res = run_playbook("playbooks/rotate_root.yml", inventory=fleet.inventory, extra_vars=dict(
        fleet.new_files, root_rotation_restart_workloads=True, root_rotation_report_dir=str(tmp_path),
        root_rotation_step_timeout=int(os.environ.get('RR_TIMEOUT', '60')), root_rotation_poll_interval=1), timeout=900,
        json_output=not os.environ.get("RR_SMALL"),
        env={"ANSIBLE_LOG_PATH": "/tmp/rr_ansible.log"} if os.environ.get("RR_SMALL") else None)
    if os.environ.get("RR_SMALL"):
        open("/tmp/rr_play.log", "w").write(res.stdout + res.stderr)
    assert res.rc == 0, res.explain()
    fleet.advance(30)
    summary = fleet.mtls_round()
    assert summary["attempted"] > 0 and summary["failed"] == 0, fleet.mtls_failures()[:3]
    for name in fleet.names:
        kind, bundle = served(fleet, name)
        assert kind == "kubernetes.io/tls" and bundle == fleet.new_root.cert_pem, name
        cert = fleet[name].get("cert-manager.io/v1", "certificates", "istio-system", "cacerts")
        assert cert["spec"]["secretName"] == "cacerts"
    report = json.loads((tmp_path / "root-rotation-summary.json").read_text())
    assert report["steps"] == ["combined", "new_intermediate", "new_only"]
    assert all(c["phase"] == "new_only" and c["state"] == "verified" for c in report["clusters"].values())
