"""Shared inputs and checks for the deploy-path integration tests (deploy.yml and the roles).

Why a module of its own: the deploy and standalone-role tests need the same test-time inputs
(a cert-manager release manifest rendered by kubesim, a root CA made with ``cryptography``,
fast key settings) and the same independent checks of what ended up on each simulated cluster
(read straight from kubesim, not through our modules). Nothing here is committed key material:
everything is generated into pytest's tmp directories.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from helpers_ansible import run_playbook
from kubesim import Fleet
from kubesim.manifests import cert_manager_manifest_yaml, istio_manifest_yaml
from meshpki_test_root import make_root_ca

CERT_MANAGER_VERSION = "1.19.1"
DEPLOY = "playbooks/deploy.yml"
VERIFY_TASK = "Check istiod reloaded the intermediate in cacerts"
SUMMARY_TASK = "Show the cluster's CA summary"

# Role variables that keep the simulated issuance fast (ECDSA keys) and the waits short.
FAST_VARS = {
    "cert_manager_api_check_delay": 1,
    "ca_setup_key_algorithm": "ECDSA",
    "ca_setup_key_size": 256,
    "ca_setup_root_key_algorithm": "ECDSA",
    "ca_setup_root_key_size": 256,
    "ca_setup_wait_timeout": 60,
    "ca_setup_issuer_timeout": 30,
    "istio_rollout_timeout": 60,
    "istio_reload_timeout": 60,
}


def write_cert_manager_manifest(directory: Path) -> Path:
    """The cert-manager "release manifest" a site would ship as a local file (air-gapped mode)."""
    path = Path(directory) / "cert-manager.yaml"
    path.write_text(cert_manager_manifest_yaml(CERT_MANAGER_VERSION))
    return path


def write_istio_manifest(directory: Path, version: str) -> Path:
    path = Path(directory) / f"istio-{version}.yaml"
    path.write_text(istio_manifest_yaml(version))
    return path


@dataclass
class TestRoot:
    """A root written to disk: the two files ca_setup reads, and the certificate to compare with."""

    cert_path: Path
    key_path: Path
    cert: x509.Certificate


def make_root(directory: Path, common_name: str = "Test Root CA", is_ca: bool = True) -> TestRoot:
    """A self-signed ECDSA P-256 root (or, with is_ca=False, a self-signed leaf) in PEM files."""
    root = make_root_ca(common_name, is_ca=is_ca)
    files = root.write(directory)
    return TestRoot(Path(files["ca_setup_ca_cert"]), Path(files["ca_setup_ca_key"]), root.cert)


def deploy_inputs(directory: Path) -> dict:
    """What a site hands deploy.yml: the cert-manager manifest file and a root CA key pair."""
    directory = Path(directory)
    return {"manifest": write_cert_manager_manifest(directory), "root": make_root(directory / "pki"),
            "dir": directory}


def start_fleet(tmp_path_factory, **kwargs) -> Fleet:
    """A started 3-cluster fleet (the deploy tests' size); the caller stops it."""
    fleet = Fleet(n_clusters=3, workdir=tmp_path_factory.mktemp("fleet"), **kwargs)
    fleet.start()
    return fleet


def deploy(fleet, extra, **kwargs):
    return run_playbook(DEPLOY, fleet.inventory, {**FAST_VARS, **extra}, **kwargs)


def assert_reloaded(result, fleet):
    """deploy.yml's own verification ran on every cluster and says istiod reloaded, one root."""
    checks = result.task_results(VERIFY_TASK)
    assert sorted(checks) == sorted(c.name for c in fleet.clusters), result.explain()
    for host, res in checks.items():
        assert res["reloaded"] is True, (host, res.get("problems"))
        assert res["root_consistent"] is True, (host, res.get("problems"))
    summaries = result.task_results(SUMMARY_TASK)
    assert all("istiod reloaded: True" in r["msg"] for r in summaries.values()), summaries


def restarted_at(cluster) -> list:
    """The rollout-restart annotation of each istiod Deployment (None where never restarted)."""
    deps = cluster.list("apps/v1", "deployments", "istio-system", label_selector="app=istiod")
    return [((d["spec"]["template"].get("metadata") or {}).get("annotations") or {}).get(
        "kubectl.kubernetes.io/restartedAt") for d in deps]


def secret_certs(cluster, namespace: str, name: str, key: str) -> list:
    """Certificates in one key of a Secret, read straight from the simulator."""
    secret = cluster.get("v1", "secrets", namespace, name)
    assert secret is not None, f"{cluster.name}: Secret {namespace}/{name} is missing"
    data = secret.get("data") or {}
    assert key in data, f"{cluster.name}: Secret {namespace}/{name} has no {key} (keys: {sorted(data)})"
    return x509.load_pem_x509_certificates(base64.b64decode(data[key]))


def check_cacerts(cluster) -> tuple:
    """cacerts holds an intermediate CA for this cluster, signed by the root in its ca.crt.

    Returns (intermediate, root) for cross-cluster comparisons.
    """
    chain = secret_certs(cluster, "istio-system", "cacerts", "tls.crt")
    roots = secret_certs(cluster, "istio-system", "cacerts", "ca.crt")
    secret = cluster.get("v1", "secrets", "istio-system", "cacerts")
    assert secret["data"].get("tls.key"), f"{cluster.name}: cacerts has no tls.key"
    intermediate, root = chain[0], roots[0]
    assert intermediate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    localities = [a.value for a in intermediate.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)]
    assert localities == [cluster.name], f"{cluster.name}: L={localities}"
    sans = intermediate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "istiod.istio-system.svc" in sans.get_values_for_type(x509.DNSName)
    # Every certificate of the chain is signed by the next one, the last by the root.
    for child, parent in zip(chain, chain[1:] + [root]):
        child.verify_directly_issued_by(parent)
    assert root.issuer == root.subject, f"{cluster.name}: ca.crt is not a self-signed root"
    return intermediate, root


def check_root_configmap(cluster, root: x509.Certificate) -> None:
    """The simulated istiod distributes the cacerts root in istio-ca-root-cert ConfigMaps."""
    cms = [cm for cm in cluster.list("v1", "configmaps") if cm["metadata"]["name"] == "istio-ca-root-cert"]
    assert cms, f"{cluster.name}: no istio-ca-root-cert ConfigMap"
    for cm in cms:
        pem = cm["data"]["root-cert.pem"].encode()
        got = x509.load_pem_x509_certificates(pem)[0]
        assert got == root, f"{cluster.name}: {cm['metadata']['namespace']}/istio-ca-root-cert holds another root"


def resource_versions(cluster) -> dict:
    """(group/plural, namespace, name) -> resourceVersion of every stored object: a change detector."""
    out = {}
    for rt in cluster.registry.all_types():
        for obj in cluster.peek(rt.api_version(), rt.plural) or []:
            md = obj.get("metadata") or {}
            out[(f"{rt.group}/{rt.plural}", md.get("namespace"), md.get("name"))] = md.get("resourceVersion")
    return out


def fleet_resource_versions(fleet, settle: float = 10.0) -> dict:
    """Snapshot every cluster once the simulated controllers are quiet (two equal looks 0.5 s apart).

    Controllers react to writes asynchronously (istiod writes its root ConfigMaps a moment after it
    starts); a snapshot taken mid-reaction would blame the next run for their writes.
    """
    deadline = time.monotonic() + settle
    snap = {c.name: resource_versions(c) for c in fleet.clusters}
    while time.monotonic() < deadline:
        time.sleep(0.5)
        again = {c.name: resource_versions(c) for c in fleet.clusters}
        if again == snap:
            break
        snap = again
    return snap


def diff_resource_versions(before: dict, after: dict) -> list:
    changed = []
    for cluster in before:
        b, a = before[cluster], after[cluster]
        for key in sorted(set(b) | set(a), key=str):
            if b.get(key) != a.get(key):
                changed.append((cluster,) + key)
    return changed
