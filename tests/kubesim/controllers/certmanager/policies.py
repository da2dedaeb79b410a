"""cert-manager's readiness and trigger policy chains and its renewal-time rule.

Upstream: cert-manager pkg/util/pki/renewaltime.go and
internal/controller/certificates/policies (checks.go, policies.go; pkg/util/pki/match.go). Each check
returns (reason, message) on the first violation, with upstream's texts.
"""

from __future__ import annotations

import base64
import datetime as _dt
import ipaddress
from typing import List, Optional, Tuple

from cryptography import x509
from cryptography.x509.oid import NameOID

from . import dn as certmanager_dn
from . import duration as gd
from ... import pki

Violation = Optional[Tuple[str, str]]

CERT_NAME = "cert-manager.io/certificate-name"
ISSUER_NAME = "cert-manager.io/issuer-name"
ISSUER_KIND = "cert-manager.io/issuer-kind"
ISSUER_GROUP = "cert-manager.io/issuer-group"
REVISION = "cert-manager.io/certificate-revision"


def b64(data: dict, key: str) -> bytes:
    raw = (data or {}).get(key)
    if not raw:
        return b""
    try:
        return base64.b64decode(raw)
    except Exception:  # noqa: BLE001
        return b""


def go_time_string(when: _dt.datetime) -> str:
    """Go's time.Time.String() for a UTC time (what ``%s`` of a metav1.Time prints)."""
    return when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def rfc1123(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S UTC")


def parse_rfc3339(text: Optional[str]) -> Optional[_dt.datetime]:
    if not text:
        return None
    return _dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc)


# --------------------------------------------------------------------------- renewal time


def renewal_time(nb: _dt.datetime, na: _dt.datetime, spec: dict, version: tuple) -> Optional[_dt.datetime]:
    """RenewalTime(): renewBefore if 0 < rb < lifetime, else the percentage, else lifetime/3."""
    renewal = spec.get("renewal") or {}
    if version >= (1, 21, 0) and renewal.get("policy") == "Disabled":
        return None
    lifetime_ns = int((na - nb).total_seconds()) * gd.SECOND
    rb_ns = None
    if spec.get("renewBefore"):
        try:
            rb = gd.parse(spec["renewBefore"])
        except gd.DurationError:
            rb = 0
        if 0 < rb < lifetime_ns:
            rb_ns = rb
    if rb_ns is None:
        pct = spec.get("renewBeforePercentage")
        if pct is not None and 0 < int(pct) < 100:
            rb_ns = int(lifetime_ns * (int(pct) / 100.0))
        else:
            rb_ns = lifetime_ns // 3
    when = na - _dt.timedelta(microseconds=rb_ns // 1000)
    return when.replace(microsecond=0)  # truncated to the second (PR #4399)


# --------------------------------------------------------------------------- spec matching


def _eq_unsorted(a, b) -> bool:
    return sorted(a or []) == sorted(b or [])


def _norm_ref(ref: dict) -> tuple:
    return (ref.get("name") or "", ref.get("kind") or "Issuer", ref.get("group") or "cert-manager.io")


def request_matches_spec(cr: dict, spec: dict) -> List[str]:
    """pki.RequestMatchesSpec: the Certificate fields that differ from the CertificateRequest."""
    try:
        csr = x509.load_pem_x509_csr(b64(cr.get("spec", {}), "request"))
    except Exception:  # noqa: BLE001
        raise ValueError("failed to decode CSR") from None
    subject = spec.get("subject") or {}
    v: List[str] = []
    try:
        sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        sans = x509.SubjectAlternativeName([])
    ips = [str(i) for i in sans.get_values_for_type(x509.IPAddress)]
    spec_ips = []
    for i in spec.get("ipAddresses") or []:
        try:
            spec_ips.append(str(ipaddress.ip_address(i)))
        except ValueError:
            spec_ips.append(i)
    if not _eq_unsorted(ips, spec_ips):
        v.append("spec.ipAddresses")
    if not _eq_unsorted(sans.get_values_for_type(x509.UniformResourceIdentifier), spec.get("uris")):
        v.append("spec.uris")
    if not _eq_unsorted(sans.get_values_for_type(x509.RFC822Name), spec.get("emailAddresses")):
        v.append("spec.emailAddresses")
    if not _eq_unsorted(sans.get_values_for_type(x509.DNSName), spec.get("dnsNames")):
        v.append("spec.dnsNames")

    def attrs(oid):
        return [a.value for a in csr.subject.get_attributes_for_oid(oid)]

    if not spec.get("literalSubject"):
        cn = attrs(NameOID.COMMON_NAME)
        if (cn[-1] if cn else "") != (spec.get("commonName") or ""):
            v.append("spec.commonName")
        sn = attrs(NameOID.SERIAL_NUMBER)
        if (sn[-1] if sn else "") != (subject.get("serialNumber") or ""):
            v.append("spec.subject.serialNumber")
        for oid, key, label in (
                (NameOID.ORGANIZATION_NAME, "organizations", "spec.subject.organizations"),
                (NameOID.COUNTRY_NAME, "countries", "spec.subject.countries"),
                (NameOID.LOCALITY_NAME, "localities", "spec.subject.localities"),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "organizationalUnits", "spec.subject.organizationalUnits"),
                (NameOID.POSTAL_CODE, "postalCodes", "spec.subject.postCodes"),
                (NameOID.STATE_OR_PROVINCE_NAME, "provinces", "spec.subject.postCodes"),
                (NameOID.STREET_ADDRESS, "streetAddresses", "spec.subject.streetAddresses")):
            if not _eq_unsorted(attrs(oid), subject.get(key)):
                v.append(label)
    else:
        if csr.subject != certmanager_dn.to_x509_name(spec["literalSubject"]):
            v.append("spec.literalSubject")
    crs = cr.get("spec", {})
    if bool(crs.get("isCA")) != bool(spec.get("isCA")):
        v.append("spec.isCA")
    if not _eq_unsorted(crs.get("usages"), spec.get("usages")):
        v.append("spec.usages")
    if crs.get("duration") is not None and spec.get("duration") is not None:
        try:
            if gd.parse(crs["duration"]) != gd.parse(spec["duration"]):
                v.append("spec.duration")
        except gd.DurationError:
            v.append("spec.duration")
    if _norm_ref(crs.get("issuerRef") or {}) != _norm_ref(spec.get("issuerRef") or {}):
        v.append("spec.issuerRef")
    return v


def private_key_matches_spec(key, spec: dict) -> List[str]:
    pk = spec.get("privateKey") or {}
    algorithm = pk.get("algorithm") or "RSA"
    size = pk.get("size") or 0
    have_alg, have_size = pki.key_description(key)
    if have_alg != algorithm:
        return ["spec.privateKey.algorithm"]
    if algorithm == "RSA" and have_size != (size or 2048):
        return ["spec.privateKey.size"]
    if algorithm == "ECDSA" and have_size != (size or 256):
        return ["spec.privateKey.size"]
    return []


def _alt_names_match(cert: x509.Certificate, spec: dict) -> List[str]:
    """SecretDataAltNamesMatchSpec: the lenient fallback when the current request is gone."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        sans = x509.SubjectAlternativeName([])
    cns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    cert_cn = cns[-1] if cns else ""
    expected = set(spec.get("dnsNames") or [])
    if spec.get("commonName"):
        expected.add(spec["commonName"])
    have = set(sans.get_values_for_type(x509.DNSName))
    if cert_cn:
        have.add(cert_cn)
    v = []
    if have != expected:
        if (spec.get("commonName") and spec["commonName"] not in have) or (cert_cn and cert_cn not in expected):
            v.append("spec.commonName")
        if not set(spec.get("dnsNames") or []) <= have or not set(sans.get_values_for_type(x509.DNSName)) <= expected:
            v.append("spec.dnsNames")
    if not _eq_unsorted([str(i) for i in sans.get_values_for_type(x509.IPAddress)], spec.get("ipAddresses")):
        v.append("spec.ipAddresses")
    if not _eq_unsorted(sans.get_values_for_type(x509.UniformResourceIdentifier), spec.get("uris")):
        v.append("spec.uris")
    if not _eq_unsorted(sans.get_values_for_type(x509.RFC822Name), spec.get("emailAddresses")):
        v.append("spec.emailAddresses")
    return v


def _fmt_list(items: List[str]) -> str:
    return "[" + " ".join(items) + "]"  # Go's %v of a []string


# --------------------------------------------------------------------------- the checks


class Input:
    """What the policy functions look at (policies.Input)."""

    def __init__(self, crt: dict, secret: Optional[dict], current_cr: Optional[dict], now: _dt.datetime,
                 version: tuple):
        self.crt = crt
        self.spec = crt.get("spec") or {}
        self.secret = secret
        self.current_cr = current_cr
        self.now = now
        self.version = version

    @property
    def data(self) -> dict:
        return (self.secret or {}).get("data") or {}

    @property
    def annotations(self) -> dict:
        return ((self.secret or {}).get("metadata") or {}).get("annotations") or {}


def secret_does_not_exist(i: Input) -> Violation:
    if i.secret is None:
        return "DoesNotExist", "Issuing certificate as Secret does not exist"
    return None


def secret_missing_data(i: Input) -> Violation:
    if not i.data:
        return "MissingData", "Issuing certificate as Secret does not contain any data"
    if not b64(i.data, "tls.key"):
        return "MissingData", "Issuing certificate as Secret does not contain a private key"
    if not b64(i.data, "tls.crt"):
        return "MissingData", "Issuing certificate as Secret does not contain a certificate"
    return None


def secret_public_keys_differ(i: Input) -> Violation:
    try:
        key = pki.parse_private_key(b64(i.data, "tls.key"))
    except pki.PKIError as exc:
        return "InvalidKeyPair", f"Issuing certificate as Secret contains invalid private key data: {exc}"
    try:
        cert = pki.load_certs(b64(i.data, "tls.crt"))[0]
    except pki.PKIError as exc:
        return "InvalidCertificate", f"Issuing certificate as Secret contains an invalid certificate: {exc}"
    if not pki.public_keys_equal(cert.public_key(), key.public_key()):
        return ("InvalidKeyPair",
                "Issuing certificate as Secret contains a private key that does not match the certificate")
    return None


def secret_private_key_mismatches_spec(i: Input) -> Violation:
    try:
        key = pki.parse_private_key(b64(i.data, "tls.key"))
    except pki.PKIError as exc:
        return "InvalidKeyPair", f"Issuing certificate as Secret contains invalid private key data: {exc}"
    v = private_key_matches_spec(key, i.spec)
    if v:
        return "SecretMismatch", f"Existing private key is not up to date for spec: {_fmt_list(v)}"
    return None


def secret_issuer_annotations_mismatch(i: Input) -> Violation:
    ann = i.annotations
    present = any(k in ann for k in (ISSUER_NAME, ISSUER_KIND, ISSUER_GROUP))
    name, kind, group = ann.get(ISSUER_NAME, ""), ann.get(ISSUER_KIND, ""), ann.get(ISSUER_GROUP, "")
    ref = i.spec.get("issuerRef") or {}
    # Go's operator precedence in the upstream check: (present && name differs) || kind differs || group differs
    if (present and name != ref.get("name", "")) or (kind or "Issuer") != (ref.get("kind") or "Issuer") or \
            (group or "cert-manager.io") != (ref.get("group") or "cert-manager.io"):
        shown = f"{kind or 'Issuer'}.{group or 'cert-manager.io'}/{name}"
        return "IncorrectIssuer", f'Issuing certificate as Secret was previously issued by "{shown}"'
    return None


def secret_certificate_name_mismatch(i: Input) -> Violation:
    ann = i.annotations
    if CERT_NAME in ann and ann[CERT_NAME] != i.crt["metadata"]["name"]:
        return "IncorrectCertificate", (
            f'Secret was issued for "{ann[CERT_NAME]}". If this message is not transient, you might have two '
            "conflicting Certificates pointing to the same secret.")
    return None


def secret_key_differs_from_current_request(i: Input) -> Violation:
    if i.current_cr is None:
        return None
    try:
        key = pki.parse_private_key(b64(i.data, "tls.key"))
    except pki.PKIError as exc:
        return "InvalidKeyPair", f"Issuing certificate as Secret contains invalid private key data: {exc}"
    try:
        csr = x509.load_pem_x509_csr(b64(i.current_cr.get("spec", {}), "request"))
    except Exception as exc:  # noqa: BLE001
        return "InvalidCertificateRequest", f"Failed to decode current CertificateRequest: {exc}"
    if not pki.public_keys_equal(csr.public_key(), key.public_key()):
        return "SecretMismatch", "Secret contains a private key that does not match the current CertificateRequest"
    return None


def current_request_mismatches_spec(i: Input) -> Violation:
    if i.current_cr is None:
        try:
            cert = pki.load_certs(b64(i.data, "tls.crt"))[0]
        except pki.PKIError as exc:
            return "InvalidCertificate", f"Issuing certificate as Secret contains an invalid certificate: {exc}"
        v = _alt_names_match(cert, i.spec)
        if v:
            return ("SecretMismatch",
                    f"Issuing certificate as Existing issued Secret is not up to date for spec: {_fmt_list(v)}")
        return None
    try:
        v = request_matches_spec(i.current_cr, i.spec)
    except ValueError:
        return None
    if v:
        return "RequestChanged", f"Fields on existing CertificateRequest resource not up to date: {_fmt_list(v)}"
    return None


def current_certificate_nearing_expiry(i: Input) -> Violation:
    try:
        cert = pki.load_certs(b64(i.data, "tls.crt"))[0]
    except pki.PKIError as exc:
        return "InvalidCertificate", f"Issuing certificate as Secret contains an invalid certificate: {exc}"
    rt = renewal_time(pki.not_before(cert), pki.not_after(cert), i.spec, i.version)
    if rt is None or rt > i.now:
        return None
    shown = parse_rfc3339((i.crt.get("status") or {}).get("renewalTime"))
    when = go_time_string(shown) if shown else "<nil>"
    return "Renewing", "Renewing certificate as renewal was scheduled at " + when


def current_certificate_has_expired(i: Input) -> Violation:
    try:
        cert = pki.load_certs(b64(i.data, "tls.crt"))[0]
    except pki.PKIError as exc:
        return "InvalidCertificate", f"Issuing certificate as Secret contains an invalid certificate: {exc}"
    if i.now > pki.not_after(cert):
        return "Expired", f"Certificate expired on {rfc1123(pki.not_after(cert))}"
    return None


# Order as in internal/controller/certificates/policies/policies.go (NewTriggerPolicyChain,
# NewReadinessPolicyChain): Secret presence/data, key pair, issuer and name annotations, key
# vs spec, key vs current request, request vs spec, then expiry.
TRIGGER_CHAIN = (secret_does_not_exist, secret_missing_data, secret_public_keys_differ,
                 secret_issuer_annotations_mismatch, secret_certificate_name_mismatch,
                 secret_private_key_mismatches_spec, secret_key_differs_from_current_request,
                 current_request_mismatches_spec, current_certificate_nearing_expiry)

READINESS_CHAIN = (secret_does_not_exist, secret_missing_data, secret_public_keys_differ,
                   secret_issuer_annotations_mismatch, secret_certificate_name_mismatch,
                   secret_private_key_mismatches_spec, secret_key_differs_from_current_request,
                   current_request_mismatches_spec, current_certificate_has_expired)


def evaluate(chain, i: Input) -> Violation:
    for check in chain:
        v = check(i)
        if v:
            return v
    return None
