"""Independent checks for the offline_root trust source, read straight from kubesim (not through our code).

Why a module of its own: the deploy, rotation and migration tests all ask the same questions of every
cluster — which Secrets hold a private key whose public key is the root's (or another cluster's issuing
CA's), what the issuing CA in the CA ClusterIssuer's Secret is, whether cacerts chains to the root through
it — and must answer them without the collection's own code, so that a bug there cannot hide itself.
"""

from __future__ import annotations

import base64
import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

ISSUING_SECRET = "meshpki-istio-issuing-ca"
CERT_MANAGER_NS = "cert-manager"
PEM_KEY = re.compile(rb"-----BEGIN ([A-Z ]*PRIVATE KEY)-----\s+(.*?)-----END \1-----", re.S)

# Role variables for offline_root in the tests: fast ECDSA issuing CAs.
OFFLINE_VARS = {
    "ca_setup_trust_source": "offline_root",
    "ca_setup_issuing_ca_key_algorithm": "ECDSA",
    "ca_setup_issuing_ca_key_size": 256,
}


def spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_keys_in(value: bytes) -> list:
    """Every PEM private key in one Secret value, parsed (unparseable blocks are skipped)."""
    keys = []
    for match in PEM_KEY.finditer(value):
        try:
            keys.append(serialization.load_pem_private_key(match.group(0), password=None))
        except (ValueError, TypeError):
            continue
    return keys


def secret_key_spkis(cluster) -> dict:
    """(namespace, name, data key) -> public key (SPKI DER) of each private key held in any Secret, any namespace."""
    found = {}
    for secret in cluster.list("v1", "secrets"):
        md = secret["metadata"]
        for key, value in (secret.get("data") or {}).items():
            try:
                raw = base64.b64decode(value)
            except ValueError:
                continue
            for i, priv in enumerate(private_keys_in(raw)):
                found[(md["namespace"], md["name"], key, i)] = spki(priv.public_key())
    return found


def holders_of(fleet, public_key) -> list:
    """(cluster, namespace, name, key) of every Secret of every cluster holding the private half of ``public_key``."""
    wanted = spki(public_key)
    return [(c.name,) + where[:3] for c in fleet.clusters for where, got in secret_key_spkis(c).items() if got == wanted]


def secret_pem_certs(cluster, namespace, name, key) -> list:
    secret = cluster.get("v1", "secrets", namespace, name)
    assert secret is not None, f"{cluster.name}: Secret {namespace}/{name} is missing"
    return x509.load_pem_x509_certificates(base64.b64decode(secret["data"][key]))


def issuing_ca(cluster) -> x509.Certificate:
    """The issuing CA in the cluster's CA ClusterIssuer Secret (first certificate of tls.crt)."""
    return secret_pem_certs(cluster, CERT_MANAGER_NS, ISSUING_SECRET, "tls.crt")[0]


def check_issuing_chain(cluster, root: x509.Certificate) -> tuple:
    """cacerts = istiod intermediate + this cluster's issuing CA, ca.crt = root; each link verifies.

    Returns (intermediate, issuing CA).
    """
    issuing = issuing_ca(cluster)
    chain = secret_pem_certs(cluster, "istio-system", "cacerts", "tls.crt")
    roots = secret_pem_certs(cluster, "istio-system", "cacerts", "ca.crt")
    assert roots == [root], f"{cluster.name}: cacerts ca.crt is not the offline root"
    assert chain[1:] == [issuing], f"{cluster.name}: cacerts tls.crt does not carry this cluster's issuing CA"
    intermediate = chain[0]
    intermediate.verify_directly_issued_by(issuing)
    issuing.verify_directly_issued_by(root)
    bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert bc.ca and bc.path_length == 1, f"{cluster.name}: issuing CA basicConstraints {bc}"
    assert [a.value for a in issuing.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)] == [cluster.name]
    ski = issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    aki = intermediate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == ski, f"{cluster.name}: cacerts AKI does not name the issuing CA"
    return intermediate, issuing


def key_bodies(fleet) -> list:
    """The base64 body lines of every private key in every Secret of the fleet (to look for in output)."""
    bodies = []
    for cluster in fleet.clusters:
        for secret in cluster.list("v1", "secrets"):
            for value in (secret.get("data") or {}).values():
                raw = base64.b64decode(value)
                for match in PEM_KEY.finditer(raw):
                    lines = [ln for ln in match.group(2).decode().splitlines() if ln.strip()]
                    bodies.extend(lines[:2])
    return bodies
