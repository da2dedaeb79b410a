# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Facts about one certificate, named as DESIGN §2 fixes them and, where the two overlap,
as community.crypto's x509_certificate_info returns them (reference/ansible.md §2).

Two deliberate differences, both fixed by DESIGN §2: ``subject``/``issuer`` are RFC 4514
strings (the form Go's pkix.Name.String() and so istiod's logs use) with the
community.crypto lists in ``subject_ordered``/``issuer_ordered``; ``not_before``/``not_after``
are ISO 8601 UTC. Nothing here touches a private key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
except ImportError:  # pragma: no cover - reported by the module as a missing library
    x509 = None

FINGERPRINT_ALGORITHMS = ("sha1", "sha224", "sha256", "sha384", "sha512")

# OpenSSL's long names, as community.crypto prints extended key usages (reference/ansible.md §2).
EKU_NAMES = {
    "1.3.6.1.5.5.7.3.1": "TLS Web Server Authentication",
    "1.3.6.1.5.5.7.3.2": "TLS Web Client Authentication",
    "1.3.6.1.5.5.7.3.3": "Code Signing",
    "1.3.6.1.5.5.7.3.4": "E-mail Protection",
    "1.3.6.1.5.5.7.3.8": "Time Stamping",
    "1.3.6.1.5.5.7.3.9": "OCSP Signing",
    "2.5.29.37.0": "Any Extended Key Usage",
    "1.3.6.1.4.1.311.10.3.3": "Microsoft Server Gated Crypto",
    "2.16.840.1.113730.4.1": "Netscape Server Gated Crypto",
    "1.3.6.1.5.5.7.3.17": "ipsec Internet Key Exchange",
    "1.3.6.1.4.1.311.20.2.2": "Microsoft Smartcard Login",
}
KEY_USAGE_NAMES = (
    ("digital_signature", "Digital Signature"),
    ("content_commitment", "Non Repudiation"),
    ("key_encipherment", "Key Encipherment"),
    ("data_encipherment", "Data Encipherment"),
    ("key_agreement", "Key Agreement"),
    ("key_cert_sign", "Certificate Sign"),
    ("crl_sign", "CRL Sign"),
)
SIGNATURE_NAMES = {
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
    "1.2.840.113549.2.5": "md5",  # a bare hash OID seen in very old certificates; OpenSSL's name
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "ED25519",
    "1.3.101.113": "ED448",
    "1.2.840.10040.4.3": "dsa_with_SHA1",
    "2.16.840.1.101.3.4.3.2": "dsa_with_SHA256",
}
CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521", "secp224r1": "P-224"}


def colon_hex(data):
    text = binascii.hexlify(data).decode("ascii")
    return ":".join(text[i:i + 2] for i in range(0, len(text), 2))


def fingerprint(cert, algorithm="sha256"):
    """Colon-separated lowercase hex digest of the certificate's DER, as ``openssl x509 -fingerprint``."""
    return colon_hex(hashlib.new(algorithm, der(cert)).digest())


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def spki_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def serial_hex(cert):
    """Lowercase hex without colons or padding: what istiod logs as ``SN: %x`` (reference/istiod.md §2)."""
    return "%x" % cert.serial_number


def signed_by(child, parent):
    """True when ``parent``'s name is ``child``'s issuer and ``parent``'s key verifies ``child``'s signature."""
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    except Exception:  # noqa: BLE001 - unsupported algorithms just mean "cannot be shown to be signed"
        return False
    return True


def is_self_signed(cert):
    return signed_by(cert, cert)


def _ext(cert, ext_class):
    try:
        return cert.extensions.get_extension_for_class(ext_class)
    except x509.ExtensionNotFound:
        return None


def _oid_name(oid):
    name = getattr(oid, "_name", None)
    return oid.dotted_string if not name or name == "Unknown OID" else name


def name_ordered(name):
    """community.crypto's ``subject_ordered`` form: ``[[attribute, value], ...]`` in certificate order."""
    return [[_oid_name(attr.oid), _text_value(attr.value)] for attr in name]


def _text_value(value):
    return value if isinstance(value, str) else colon_hex(value)


def rfc4514(name):
    """RFC 4514 form; emailAddress by name as OpenSSL prints it (Go would print its OID)."""
    try:
        return name.rfc4514_string({x509.oid.NameOID.EMAIL_ADDRESS: "emailAddress"})
    except Exception:  # noqa: BLE001 - odd attribute encodings; fall back to a readable form
        return ",".join("%s=%s" % (k, v) for k, v in reversed(name_ordered(name)))


def general_name(value):
    """One SAN entry as community.crypto prints it: ``DNS:x``, ``IP:x``, ``URI:x``, ``email:x``, ..."""
    if isinstance(value, x509.DNSName):
        return "DNS:" + value.value
    if isinstance(value, x509.IPAddress):
        return "IP:" + str(value.value)
    if isinstance(value, x509.UniformResourceIdentifier):
        return "URI:" + value.value
    if isinstance(value, x509.RFC822Name):
        return "email:" + value.value
    if isinstance(value, x509.DirectoryName):
        return "dirName:" + rfc4514(value.value)
    if isinstance(value, x509.RegisteredID):
        return "RID:" + value.value.dotted_string
    if isinstance(value, x509.OtherName):
        return "otherName:%s;%s" % (value.type_id.dotted_string, colon_hex(value.value))
    return str(value)


def public_key_facts(public_key):
    """Type (community.crypto names), size in bits, curve; plus ``fingerprints`` of the SubjectPublicKeyInfo."""
    facts = {"type": "unknown", "size": None, "curve": None, "exponent": None}
    if isinstance(public_key, rsa.RSAPublicKey):
        facts.update(type="RSA", size=public_key.key_size, exponent=public_key.public_numbers().e)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        facts.update(type="ECC", size=public_key.curve.key_size, curve=public_key.curve.name)
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        facts.update(type="Ed25519", size=256)
    elif isinstance(public_key, ed448.Ed448PublicKey):
        facts.update(type="Ed448", size=456)
    elif isinstance(public_key, x25519.X25519PublicKey):
        facts.update(type="X25519", size=256)
    elif isinstance(public_key, x448.X448PublicKey):
        facts.update(type="X448", size=448)
    elif isinstance(public_key, dsa.DSAPublicKey):
        facts.update(type="DSA", size=public_key.key_size)
    return facts


def fingerprints_of(data):
    return dict((alg, colon_hex(hashlib.new(alg, data).digest())) for alg in FINGERPRINT_ALGORITHMS)


def _key_usage(cert):
    ext = _ext(cert, x509.KeyUsage)
    if ext is None:
        return None, False
    usage = ext.value
    names = [label for attr, label in KEY_USAGE_NAMES if getattr(usage, attr)]
    if usage.key_agreement:
        if usage.encipher_only:
            names.append("Encipher Only")
        if usage.decipher_only:
            names.append("Decipher Only")
    return sorted(names), ext.critical


def eku_oids(cert):
    """The dotted OIDs of the extendedKeyUsage extension, or None when the certificate has none."""
    ext = _ext(cert, x509.ExtendedKeyUsage)
    return None if ext is None else [oid.dotted_string for oid in ext.value]


def _extended_key_usage(cert):
    ext = _ext(cert, x509.ExtendedKeyUsage)
    if ext is None:
        return None, False
    return sorted(EKU_NAMES.get(oid.dotted_string, _oid_name(oid)) for oid in ext.value), ext.critical


def basic_constraints(cert):
    ext = _ext(cert, x509.BasicConstraints)
    return None if ext is None else ext


def _aia(cert, method):
    ext = _ext(cert, x509.AuthorityInformationAccess)
    for desc in (ext.value if ext is not None else []):
        if desc.access_method == method and isinstance(desc.access_location, x509.UniformResourceIdentifier):
            return desc.access_location.value
    return None


def _extensions_by_oid(cert):
    result = {}
    for ext in cert.extensions:
        try:
            value = ext.value.public_bytes()
        except Exception:  # noqa: BLE001 - some extension types cannot re-encode; skip their value only
            value = b""
        result[ext.oid.dotted_string] = {"critical": ext.critical,
                                         "value": base64.b64encode(value).decode("ascii")}
    return result


def certificate_info(cert, now, valid_at=None, index=0, source=None):
    """The per-certificate result entry. ``valid_at`` maps names to aware datetimes."""
    try:
        cert.extensions  # parse once so a broken extension fails with a clear message
    except ValueError as exc:
        raise X509Error("certificate %d%s has extensions that cannot be parsed (%s)"
                        % (index + 1, " in %s" % source if source else "", str(exc).splitlines()[0][:200]))
    not_before = cert.not_valid_before_utc
    not_after = cert.not_valid_after_utc
    bc = basic_constraints(cert)
    key_usage, key_usage_critical = _key_usage(cert)
    eku, eku_critical = _extended_key_usage(cert)
    san_ext = _ext(cert, x509.SubjectAlternativeName)
    ski_ext = _ext(cert, x509.SubjectKeyIdentifier)
    aki_ext = _ext(cert, x509.AuthorityKeyIdentifier)
    tls_feature = _ext(cert, x509.TLSFeature)
    public_key = cert.public_key()
    pk = public_key_facts(public_key)
    bc_list = None
    if bc is not None:
        bc_list = sorted(["CA:%s" % ("TRUE" if bc.value.ca else "FALSE")]
                         + (["pathlen:%d" % bc.value.path_length] if bc.value.path_length is not None else []))
    sig_oid = cert.signature_algorithm_oid.dotted_string
    info = {
        "index": index,
        "source": source,
        "subject": rfc4514(cert.subject),
        "issuer": rfc4514(cert.issuer),
        "subject_ordered": name_ordered(cert.subject),
        "issuer_ordered": name_ordered(cert.issuer),
        "serial_number": cert.serial_number,
        "serial_hex": serial_hex(cert),
        "version": 1 if cert.version == x509.Version.v1 else 3,
        "not_before": rfc3339.format(not_before),
        "not_after": rfc3339.format(not_after),
        "seconds_remaining": int((not_after - now).total_seconds()),
        "expired": not_after < now,
        "not_yet_valid": now < not_before,
        "is_ca": bool(bc is not None and bc.value.ca),
        "path_length": bc.value.path_length if bc is not None else None,
        "basic_constraints": bc_list,
        "basic_constraints_critical": bool(bc is not None and bc.critical),
        "key_usage": key_usage,
        "key_usage_critical": key_usage_critical,
        "extended_key_usage": eku,
        "extended_key_usage_critical": eku_critical,
        "subject_alt_names": [general_name(v) for v in san_ext.value] if san_ext is not None else [],
        "subject_alt_name_critical": bool(san_ext is not None and san_ext.critical),
        "subject_key_identifier": colon_hex(ski_ext.value.digest) if ski_ext is not None else None,
        "authority_key_identifier": (colon_hex(aki_ext.value.key_identifier)
                                     if aki_ext is not None and aki_ext.value.key_identifier else None),
        "authority_cert_issuer": ([general_name(v) for v in aki_ext.value.authority_cert_issuer]
                                  if aki_ext is not None and aki_ext.value.authority_cert_issuer else None),
        "authority_cert_serial_number": (aki_ext.value.authority_cert_serial_number
                                         if aki_ext is not None else None),
        "ocsp_must_staple": (x509.TLSFeatureType.status_request in tls_feature.value
                             if tls_feature is not None else None),
        "ocsp_must_staple_critical": bool(tls_feature is not None and tls_feature.critical),
        "ocsp_uri": _aia(cert, x509.oid.AuthorityInformationAccessOID.OCSP),
        "issuer_uri": _aia(cert, x509.oid.AuthorityInformationAccessOID.CA_ISSUERS),
        "extensions_by_oid": _extensions_by_oid(cert),
        "fingerprint_sha256": fingerprint(cert),
        "fingerprints": fingerprints_of(der(cert)),
        "public_key": spki_pem(public_key),
        "public_key_type": pk["type"],
        "public_key_size": pk["size"],
        "public_key_curve": pk["curve"],
        "public_key_data": dict((k, v) for k, v in pk.items() if k != "type" and v is not None),
        "public_key_fingerprints": fingerprints_of(spki_der(public_key)),
        "signature_algorithm": SIGNATURE_NAMES.get(sig_oid, _oid_name(cert.signature_algorithm_oid)),
        "self_signed": is_self_signed(cert),
    }
    info["valid_at"] = dict((name, not_before <= when <= not_after) for name, when in (valid_at or {}).items())
    return info


def spki_pem(public_key):
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def cap(text):
    """Upper-case the first letter only (str.capitalize would lower-case names like CN=Root CA)."""
    return text[:1].upper() + text[1:]


def short_name(cert):
    """A short label for messages: the CN when there is one, else the RFC 4514 subject."""
    cns = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    if cns and isinstance(cns[0].value, str):
        return 'CN="%s"' % cns[0].value
    return '"%s"' % (rfc4514(cert.subject) or "(empty subject)")


SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
ANY_EKU = "2.5.29.37.0"
SGC = ("1.3.6.1.4.1.311.10.3.3", "2.16.840.1.113730.4.1")
