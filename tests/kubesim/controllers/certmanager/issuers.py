"""SelfSigned and CA issuers: readiness (Setup) and signing (Sign).

Upstream: cert-manager pkg/issuer/ca/setup.go, pkg/issuer/selfsigned/setup.go,
pkg/controller/certificaterequests/{ca,selfsigned}; the chain split is pkg/util/pki/parse_certificate_chain.go.
"""

from __future__ import annotations

import base64
import datetime as _dt
from typing import Optional, Tuple

from cryptography import x509

from . import duration as gd
from ... import pki
from .policies import b64

CLUSTER_RESOURCE_NAMESPACE = "cert-manager"  # Helm passes --cluster-resource-namespace=$(POD_NAMESPACE)
PRIVATE_KEY_ANNOTATION = "cert-manager.io/private-key-secret-name"


def issuer_type(spec: dict) -> str:
    for key in ("acme", "ca", "selfSigned", "vault", "venafi"):
        if (spec or {}).get(key) is not None:
            return key
    return ""


def secret_namespace(kind: str, namespace: Optional[str]) -> str:
    return CLUSTER_RESOURCE_NAMESPACE if kind == "ClusterIssuer" else (namespace or "")


def _load_ca_keypair(cluster, ns: str, secret_name: str):
    """SecretTLSKeyPairAndCA: (certs from tls.crt [+ first cert of ca.crt], key) or raise PKIError."""
    secret = cluster.get("v1", "secrets", ns, secret_name)
    if secret is None:
        raise LookupError(f'secret "{secret_name}" not found')
    data = secret.get("data") or {}
    if not b64(data, "tls.key"):
        raise pki.PKIError(f"no data for \"tls.key\" in secret '{ns}/{secret_name}'")
    key = pki.parse_private_key(b64(data, "tls.key"))
    if not b64(data, "tls.crt"):
        raise pki.PKIError(f"no data for \"tls.crt\" in secret '{ns}/{secret_name}'")
    certs = pki.load_certs(b64(data, "tls.crt"))
    ca_pem = b64(data, "ca.crt")
    ca_extra = []
    if ca_pem:
        ca_extra = pki.load_certs(ca_pem)[:1]
    return certs, ca_extra, key


def issuer_readiness(cluster, kind: str, issuer: dict) -> Tuple[str, str, str]:
    """(status, reason, message) of an issuer's Ready condition."""
    spec = issuer.get("spec") or {}
    typ = issuer_type(spec)
    if typ == "selfSigned":
        return "True", "IsReady", ""
    if typ == "ca":
        ns = secret_namespace(kind, issuer["metadata"].get("namespace"))
        try:
            certs, _, _ = _load_ca_keypair(cluster, ns, spec["ca"].get("secretName", ""))
        except (LookupError, pki.PKIError) as exc:
            return "False", "ErrGetKeyPair", f"Error getting keypair for CA issuer: {exc}"
        if not pki.is_ca(certs[0]):
            return "False", "ErrInvalidKeyPair", "Error getting keypair for CA issuer: certificate is not a CA"
        return "True", "KeyPairVerified", "Signing CA verified"
    # Other issuer types need external systems the simulation does not have.
    return ("False", "ErrInitIssuer",
            f"Error initializing issuer: the {typ or 'unknown'} issuer is not simulated by kubesim")


class SignResult:
    def __init__(self, outcome: str, reason: str = "", message: str = "",
                 certificate: bytes = b"", ca: bytes = b""):
        self.outcome = outcome  # issued | pending | failed
        self.reason = reason
        self.message = message
        self.certificate = certificate
        self.ca = ca


def _template(cr: dict, csr: x509.CertificateSigningRequest, now: _dt.datetime):
    spec = cr.get("spec") or {}
    duration = gd.parse(spec["duration"]) if spec.get("duration") else 2160 * gd.HOUR
    ku, eku = pki.usages_for(spec.get("usages") or [], bool(spec.get("isCA")))
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    nb = now.replace(microsecond=0)  # NotBefore = now, no backdating (certificatetemplate.go)
    na = nb + _dt.timedelta(microseconds=duration // 1000)
    return dict(subject=csr.subject, public_key=csr.public_key(), not_before_=nb, not_after_=na,
                is_ca_flag=bool(spec.get("isCA")), key_usage=ku, ext_key_usage=eku, san=san)


def sign_request(cluster, cr: dict, kind: str, issuer: dict, now: _dt.datetime) -> SignResult:
    spec = issuer.get("spec") or {}
    typ = issuer_type(spec)
    try:
        csr = x509.load_pem_x509_csr(b64(cr.get("spec") or {}, "request"))
    except Exception as exc:  # noqa: BLE001
        return SignResult("failed", "Failed", f"Failed to decode CSR in spec.request: {exc}")
    ns = cr["metadata"]["namespace"]
    if typ == "selfSigned":
        ann = (cr["metadata"].get("annotations") or {})
        key_secret = ann.get(PRIVATE_KEY_ANNOTATION)
        if not key_secret:
            return SignResult("failed", "Failed",
                              f'Annotation "{PRIVATE_KEY_ANNOTATION}" missing or reference empty: '
                              "secret name missing")
        secret = cluster.get("v1", "secrets", ns, key_secret)
        if secret is None:
            return SignResult("pending", "Pending", f'Referenced secret {ns}/{key_secret} not found: '
                                                    f'secret "{key_secret}" not found')
        try:
            key = pki.parse_private_key(b64(secret.get("data") or {}, "tls.key"))
        except pki.PKIError as exc:
            return SignResult("pending", "Pending", f"Failed to parse signing key from secret {ns}/{key_secret}: {exc}")
        if not pki.public_keys_equal(key.public_key(), csr.public_key()):
            return SignResult("failed", "Failed", "Error generating certificate template: CSR not signed by "
                                                  "referenced private key")
        try:
            cert = pki.sign(signer_key=key, parent=None, **_template(cr, csr, now))
        except pki.PKIError as exc:
            return SignResult("failed", "Failed", f"Error signing certificate: {exc}")
        pem = pki.cert_pem(cert)
        return SignResult("issued", certificate=pem, ca=pem)  # ca.crt == tls.crt for SelfSigned
    if typ == "ca":
        sns = secret_namespace(kind, issuer["metadata"].get("namespace"))
        name = (spec.get("ca") or {}).get("secretName", "")
        try:
            certs, ca_extra, key = _load_ca_keypair(cluster, sns, name)
        except LookupError as exc:
            return SignResult("pending", "Pending", f"Referenced secret {sns}/{name} not found: {exc}")
        except pki.PKIError as exc:
            return SignResult("pending", "Pending",
                              f"Failed to parse signing CA keypair from secret {sns}/{name}: {exc}")
        try:
            cert = pki.sign(signer_key=key, parent=certs[0], **_template(cr, csr, now))
            chain_pem, ca_pem = pki.parse_single_certificate_chain(certs + ca_extra + [cert])
        except pki.PKIError as exc:
            return SignResult("failed", "Failed", f"Error signing certificate: {exc}")
        return SignResult("issued", certificate=chain_pem, ca=ca_pem)
    return SignResult("pending", "Pending", f"the {typ or 'unknown'} issuer is not simulated by kubesim")


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
