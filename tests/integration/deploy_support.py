"""Shared inputs and checks for the deploy-path integration tests (deploy.yml and the roles).

Why a module of its own: the deploy and standalone-role tests need the same test-time inputs
(a cert-manager release manifest rendered by kubesim, a root CA made with ``cryptography``,
fast key settings) and the same independent checks of what ended up on each simulated cluster
(read straight from kubesim, not through our modules). Nothing here is committed key material:
everything is generated into pytest's tmp directories.
"""

from __future__ import annotations

import base64
import datetime as _dt
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubesim.manifests import cert_manager_manifest_yaml, istio_manifest_yaml

CERT_MANAGER_VERSION = "1.19.1"

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
    cert_path: Path
    key_path: Path
    cert: x509.Certificate

    @property
    def fingerprint(self) -> bytes:
        return self.cert.fingerprint(hashes.SHA256())


def make_root(directory: Path, common_name: str = "Test Root CA", is_ca: bool = True) -> TestRoot:
    """A self-signed ECDSA P-256 root (or, with is_ca=False, a self-signed leaf) in PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "meshpki tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _dt.datetime.now(_dt.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=is_ca,
                                     crl_sign=is_ca, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    cert = builder.sign(key, hashes.SHA256())
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = common_name.lower().replace(" ", "-")
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return TestRoot(cert_path, key_path, cert)


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
