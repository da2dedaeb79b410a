"""X.509 building blocks for the cert-manager and istiod simulations (real crypto).

Behaviour follows cert-manager's pkg/util/pki (generate.go, csr.go, parse_certificate_chain.go) and the Go standard library that
cert-manager and istiod are written with: names are built in Go's ``pkix.Name`` order and
printed like ``pkix.Name.String()`` (RFC 2253 order); keys are encoded as cert-manager
encodes them; chains are split into ``tls.crt``/``ca.crt`` like ``ParseSingleCertificateChain``.
Nothing here prints or logs key material.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import ipaddress
import secrets
from typing import Iterable, List, Optional, Sequence, Tuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PEM_CERT = "CERTIFICATE"

# --------------------------------------------------------------------------- keys


class PKIError(Exception):
    """A PKI problem, carrying the upstream-style error text."""


def generate_key(algorithm: str, size: int):
    """pkg/util/pki/generate.go: RSA (default 2048), ECDSA (default P-256), Ed25519."""
    algorithm = algorithm or "RSA"
    if algorithm == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=size or 2048)
    if algorithm == "ECDSA":
        curve = {0: ec.SECP256R1, 256: ec.SECP256R1, 384: ec.SECP384R1, 521: ec.SECP521R1}.get(size or 0)
        if curve is None:
            raise PKIError(f"unsupported ecdsa keysize specified: {size}")
        return ec.generate_private_key(curve())
    if algorithm == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise PKIError(f"unsupported private key algorithm specified: {algorithm}")


def encode_key(key, encoding: str = "PKCS1") -> bytes:
    """PKCS1 (default) gives ``RSA PRIVATE KEY``/``EC PRIVATE KEY``; PKCS8 gives ``PRIVATE KEY``."""
    fmt = serialization.PrivateFormat.PKCS8
    if (encoding or "PKCS1") == "PKCS1" and not isinstance(key, ed25519.Ed25519PrivateKey):
        fmt = serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def pem_blocks(data: bytes) -> List[Tuple[str, bytes]]:
    """All PEM blocks (type, DER) in order; junk between blocks is skipped like Go's pem.Decode."""
    import base64

    out = []
    text = data.decode("latin-1") if isinstance(data, (bytes, bytearray)) else str(data)
    pos = 0
    while True:
        start = text.find("-----BEGIN ", pos)
        if start < 0:
            break
        head_end = text.find("-----", start + 11)
        if head_end < 0:
            break
        kind = text[start + 11:head_end]
        end_marker = f"-----END {kind}-----"
        end = text.find(end_marker, head_end + 5)
        if end < 0:
            break
        body = text[head_end + 5:end]
        lines = [ln.strip() for ln in body.strip().splitlines() if ln.strip() and ":" not in ln]
        try:
            der = base64.b64decode("".join(lines), validate=True)
        except Exception:
            pos = end + len(end_marker)
            continue
        out.append((kind, der))
        pos = end + len(end_marker)
    return out


def pem_encode(kind: str, der: bytes) -> bytes:
    import base64

    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return (f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----\n").encode("ascii")


def parse_private_key(data: bytes):
    """cert-manager's DecodePrivateKeyBytes: PKCS#8, PKCS#1 RSA or SEC1 EC, first PEM block.

    Parsed keys are cached by their bytes: OpenSSL's RSA consistency check is slow and the
    simulations re-read the same Secrets on every reconcile.
    """
    return _parse_private_key_cached(bytes(data or b""))


@functools.lru_cache(maxsize=512)
def _parse_private_key_cached(data: bytes):
    blocks = pem_blocks(data or b"")
    if not blocks:
        raise PKIError("error decoding private key PEM block")
    kind, der = blocks[0]
    try:
        if kind == "PRIVATE KEY":
            return serialization.load_der_private_key(der, password=None)
        if kind == "RSA PRIVATE KEY":
            return serialization.load_der_private_key(der, password=None)
        if kind == "EC PRIVATE KEY":
            return serialization.load_der_private_key(der, password=None)
    except Exception as exc:  # noqa: BLE001 - turned into the upstream-style message
        raise PKIError(f"error parsing private key: {exc}") from None
    raise PKIError(f"unknown private key type: {kind}")


def key_description(key) -> Tuple[str, int]:
    """(algorithm, size) as cert-manager's spec names them."""
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ECDSA", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "Ed25519", 0
    return "unknown", 0


def public_bytes(pub) -> bytes:
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_keys_equal(a, b) -> bool:
    return public_bytes(a) == public_bytes(b)


# --------------------------------------------------------------------------- certificates


def load_certs(data: bytes) -> List[x509.Certificate]:
    """Every CERTIFICATE block; raises PKIError when none parses."""
    out = []
    for kind, der in pem_blocks(data or b""):
        if kind != PEM_CERT:
            continue
        try:
            out.append(x509.load_der_x509_certificate(der))
        except Exception as exc:  # noqa: BLE001
            raise PKIError(f"error decoding certificate: {exc}") from None
    if not out:
        raise PKIError("error decoding certificate PEM block")
    return out


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def certs_pem(certs: Iterable[x509.Certificate]) -> bytes:
    return b"".join(cert_pem(c) for c in certs)


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def directly_issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def can_sign_certs(cert: x509.Certificate) -> bool:
    """Go's CheckSignatureFrom constraints on a parent: CA:TRUE and, with a KeyUsage, certSign."""
    try:
        if not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False
    except x509.ExtensionNotFound:
        if cert.version == x509.Version.v3:
            return False
    try:
        if not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign:
            return False
    except x509.ExtensionNotFound:
        pass
    return True


def check_signature_from(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Go's ``child.CheckSignatureFrom(parent)`` plus the issuer/subject name link."""
    return can_sign_certs(parent) and directly_issued_by(child, parent)


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject and check_signature_from(cert, cert)


def serial_hex(cert: x509.Certificate) -> str:
    """Go's ``%x`` of the serial: lowercase hex, no leading zeros."""
    return format(cert.serial_number, "x")


def not_before(cert: x509.Certificate) -> _dt.datetime:
    return cert.not_valid_before_utc


def not_after(cert: x509.Certificate) -> _dt.datetime:
    return cert.not_valid_after_utc


# Go's pkix attribute names (crypto/x509/pkix attributeTypeNames) and the order of
# Name.ToRDNSequence: C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER.
_GO_ORDER = [
    (NameOID.COUNTRY_NAME, "C"),
    (NameOID.STATE_OR_PROVINCE_NAME, "ST"),
    (NameOID.LOCALITY_NAME, "L"),
    (NameOID.STREET_ADDRESS, "STREET"),
    (NameOID.POSTAL_CODE, "POSTALCODE"),
    (NameOID.ORGANIZATION_NAME, "O"),
    (NameOID.ORGANIZATIONAL_UNIT_NAME, "OU"),
    (NameOID.COMMON_NAME, "CN"),
    (NameOID.SERIAL_NUMBER, "SERIALNUMBER"),
]
_GO_KNOWN = {oid for oid, _ in _GO_ORDER}


def _go_escape(value: str) -> str:
    out = []
    for k, c in enumerate(value):
        esc = False
        if c in ',+"\\<>;':
            esc = True
        elif c == " ":
            esc = k == 0 or k == len(value) - 1
        elif c == "#":
            esc = k == 0
        out.append(("\\" + c) if esc else c)
    return "".join(out)


def _asn1_string_der(value: str) -> bytes:
    printable = all(c.isalnum() or c in " '()+,-./:=?*&" for c in value) and value.isascii()
    tag = 0x13 if printable else 0x0C
    body = value.encode("utf-8")
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    length = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def go_name_string(name: x509.Name) -> str:
    """``pkix.Name.String()`` of a parsed name (what istiod's ``x509 cert`` log line prints)."""
    values = {oid: [] for oid, _ in _GO_ORDER}
    extra = []
    cn = None
    sn = None
    for rdn in name.rdns:
        for attr in rdn:
            if attr.oid in _GO_KNOWN:
                if attr.oid == NameOID.COMMON_NAME:
                    cn = attr.value
                elif attr.oid == NameOID.SERIAL_NUMBER:
                    sn = attr.value
                else:
                    values[attr.oid].append(attr.value)
            else:
                extra.append(attr)
    rdns: List[List[str]] = []
    for attr in extra:  # non-standard attributes go first (so they print last)
        rdns.append([f"{attr.oid.dotted_string}=#{_asn1_string_der(str(attr.value)).hex()}"])
    for oid, label in _GO_ORDER:
        if oid == NameOID.COMMON_NAME:
            vals = [cn] if cn else []
        elif oid == NameOID.SERIAL_NUMBER:
            vals = [sn] if sn else []
        else:
            vals = values[oid]
        if vals:
            rdns.append([f"{label}={_go_escape(v)}" for v in vals])
    return ",".join("+".join(rdn) for rdn in reversed(rdns))


def build_name(common_name: str = "", subject: Optional[dict] = None) -> x509.Name:
    """The subject cert-manager puts in the CSR: Go's pkix.Name.ToRDNSequence order."""
    subject = subject or {}
    fields = [
        (NameOID.COUNTRY_NAME, subject.get("countries") or []),
        (NameOID.STATE_OR_PROVINCE_NAME, subject.get("provinces") or []),
        (NameOID.LOCALITY_NAME, subject.get("localities") or []),
        (NameOID.STREET_ADDRESS, subject.get("streetAddresses") or []),
        (NameOID.POSTAL_CODE, subject.get("postalCodes") or []),
        (NameOID.ORGANIZATION_NAME, subject.get("organizations") or []),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, subject.get("organizationalUnits") or []),
        (NameOID.COMMON_NAME, [common_name] if common_name else []),
        (NameOID.SERIAL_NUMBER, [subject["serialNumber"]] if subject.get("serialNumber") else []),
    ]
    rdns = []
    for oid, vals in fields:
        if vals:
            rdns.append(x509.RelativeDistinguishedName([x509.NameAttribute(oid, str(v)) for v in vals]))
    return x509.Name(rdns)


# cert-manager KeyUsage names (pkg/apis/certmanager/v1/types.go) -> x509 usage.
KEY_USAGES = {
    "signing": "digital_signature",
    "digital signature": "digital_signature",
    "content commitment": "content_commitment",
    "key encipherment": "key_encipherment",
    "key agreement": "key_agreement",
    "data encipherment": "data_encipherment",
    "cert sign": "key_cert_sign",
    "crl sign": "crl_sign",
    "encipher only": "encipher_only",
    "decipher only": "decipher_only",
}
EXT_KEY_USAGES = {
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "s/mime": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec end system": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec tunnel": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec user": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft sgc": x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape sgc": x509.ObjectIdentifier("2.16.840.1.113730.4.1"),
}
DEFAULT_USAGES = ["digital signature", "key encipherment"]


def usages_for(usages: Sequence[str], is_ca_flag: bool) -> Tuple[set, list]:
    """KeyUsagesForCertificateOrCertificateRequest: isCA adds cert sign; empty means the defaults."""
    ku = set()
    eku: list = []
    if is_ca_flag:
        ku.add("key_cert_sign")
    for u in (usages or DEFAULT_USAGES):
        if u in KEY_USAGES:
            ku.add(KEY_USAGES[u])
        elif u in EXT_KEY_USAGES:
            if EXT_KEY_USAGES[u] not in eku:
                eku.append(EXT_KEY_USAGES[u])
        else:
            raise PKIError(f"unknown key usage: {u}")
    return ku, eku


def _key_usage_ext(flags: set) -> x509.KeyUsage:
    names = ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"]
    kw = {n: (n in flags) for n in names}
    if not kw["key_agreement"]:
        kw["encipher_only"] = False
        kw["decipher_only"] = False
    return x509.KeyUsage(**kw)


def _hash_for(signer_key, signature_algorithm: str = ""):
    if isinstance(signer_key, ed25519.Ed25519PrivateKey):
        return None
    explicit = {
        "SHA256WithRSA": hashes.SHA256, "SHA384WithRSA": hashes.SHA384, "SHA512WithRSA": hashes.SHA512,
        "ECDSAWithSHA256": hashes.SHA256, "ECDSAWithSHA384": hashes.SHA384, "ECDSAWithSHA512": hashes.SHA512,
    }
    if signature_algorithm in explicit:
        return explicit[signature_algorithm]()
    if isinstance(signer_key, ec.EllipticCurvePrivateKey):
        by_size = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}
        return by_size.get(signer_key.curve.key_size, hashes.SHA256)()
    return hashes.SHA256()  # Go's default for RSA signers


def san_extension(dns_names=(), ip_addresses=(), uris=(), emails=()) -> Optional[x509.SubjectAlternativeName]:
    names: list = []
    names += [x509.DNSName(d) for d in dns_names or []]
    names += [x509.RFC822Name(e) for e in emails or []]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_addresses or []]
    names += [x509.UniformResourceIdentifier(u) for u in uris or []]
    return x509.SubjectAlternativeName(names) if names else None


def build_csr(key, subject: x509.Name, san: Optional[x509.SubjectAlternativeName]) -> x509.CertificateSigningRequest:
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    if san is not None:
        builder = builder.add_extension(san, critical=len(subject.rdns) == 0)
    return builder.sign(key, _hash_for(key))


def random_serial() -> int:
    """A random positive serial below 2**128 (cert-manager and istiod both do this)."""
    while True:
        n = secrets.randbits(128)
        if n > 0:
            return n


def subject_key_id(pub) -> bytes:
    """Go (1.15+) generates a CA's SubjectKeyId as SHA-1 of the public key bits."""
    return x509.SubjectKeyIdentifier.from_public_key(pub).digest


def sign(*, subject: x509.Name, public_key, not_before_: _dt.datetime, not_after_: _dt.datetime,
         is_ca_flag: bool, key_usage: set, ext_key_usage: list,
         san: Optional[x509.SubjectAlternativeName], signer_key,
         parent: Optional[x509.Certificate] = None, serial: Optional[int] = None,
         signature_algorithm: str = "", max_path_len_zero: bool = False) -> x509.Certificate:
    """x509.CreateCertificate as cert-manager and istiod call it (extension order as Go writes it).

    ``parent=None`` makes a self-signed certificate. Like Go (1.20+), the result's signature
    is checked against the parent's public key, so a CA key that does not match its
    certificate fails here with Go's message.
    """
    issuer_name = parent.subject if parent is not None else subject
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer_name)
               .public_key(public_key)
               .serial_number(serial or random_serial())
               .not_valid_before(not_before_.replace(microsecond=0))
               .not_valid_after(not_after_.replace(microsecond=0)))
    if key_usage:
        builder = builder.add_extension(_key_usage_ext(key_usage), critical=True)
    if ext_key_usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ext_key_usage), critical=False)
    builder = builder.add_extension(
        x509.BasicConstraints(ca=is_ca_flag, path_length=0 if (is_ca_flag and max_path_len_zero) else None),
        critical=True)
    ski = subject_key_id(public_key) if is_ca_flag else None
    if ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier(ski), critical=False)
    if parent is not None and parent.subject != subject:
        try:
            pski = parent.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier(pski, None, None), critical=False)
        except x509.ExtensionNotFound:
            pass
    if san is not None:
        builder = builder.add_extension(san, critical=len(subject.rdns) == 0)
    cert = builder.sign(signer_key, _hash_for(signer_key, signature_algorithm))
    check_key = parent.public_key() if parent is not None else public_key
    if not _signature_ok(cert, check_key):
        raise PKIError("x509: signature over certificate returned by signer is invalid: "
                       + _verification_error_text(check_key))
    return cert


def _verification_error_text(pub) -> str:
    if isinstance(pub, rsa.RSAPublicKey):
        return "crypto/rsa: verification error"
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return "x509: ECDSA verification failure"
    return "x509: Ed25519 verification failure"


def _signature_ok(cert: x509.Certificate, pub) -> bool:
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                       cert.signature_hash_algorithm)
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
        return True
    except (InvalidSignature, TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- chains


def parse_single_certificate_chain(certs: Sequence[x509.Certificate]) -> Tuple[bytes, bytes]:
    """ParseSingleCertificateChain/toBundleAndCA (cert-manager pkg/util/pki/parse_certificate_chain.go).

    Returns (chain_pem, ca_pem): the chain from the leaf up to the highest cert that is
    not self-signed, and the self-signed root (or, without one, the highest cert). As upstream's
    ``toBundleAndCA`` (pkg/util/pki/parse_certificate_chain.go), a lone certificate that is not
    self-signed has no CA: ca_pem is empty then.
    """
    uniq: List[x509.Certificate] = []
    seen = set()
    for c in certs:
        der = c.public_bytes(serialization.Encoding.DER)
        if der not in seen:
            seen.add(der)
            uniq.append(c)
    if not uniq:
        raise PKIError("certificate chain is malformed or broken")
    issuer_of = {}
    for i, child in enumerate(uniq):
        for j, parent in enumerate(uniq):
            if i != j and check_signature_from(child, parent):
                issuer_of[i] = j
                break
    issued = set(issuer_of.values())
    leaves = [i for i in range(len(uniq)) if i not in issued]
    if len(leaves) != 1:
        raise PKIError("certificate chain is malformed or broken")
    order = [leaves[0]]
    while order[-1] in issuer_of and issuer_of[order[-1]] not in order:
        order.append(issuer_of[order[-1]])
    if len(order) != len(uniq):
        raise PKIError("certificate chain is malformed or broken")
    chain_certs = [uniq[i] for i in order]
    top = chain_certs[-1]
    body = chain_certs[:-1]
    if body and not is_self_signed(top):
        body = body + [top]
    if not body:
        return cert_pem(top), (cert_pem(top) if is_self_signed(top) else b"")
    return certs_pem(body), cert_pem(top)


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
