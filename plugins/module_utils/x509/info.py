# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Facts about one certificate, named, where the two overlap, as community.crypto's
x509_certificate_info returns them (community.crypto plugins/module_utils/_crypto/module_backends/
certificate_info.py).

Two deliberate differences: ``subject``/``issuer`` are RFC 4514 strings (cryptography's
``rfc4514_string``: the certificate's RDNs last first) with the community.crypto lists in
``subject_ordered``/``issuer_ordered``, and ``subject_go``/``issuer_go`` in the order and
spelling of Go's ``pkix.Name.String()``, which istiod's log lines use; ``not_before``/
``not_after`` are ISO 8601 UTC. A part of a certificate that cannot be read (x509_repair)
is null in the facts and named in ``problems``. Nothing here touches a private key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509 import der as x509_der
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.repair import readable_extensions, repair_of
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
except ImportError:  # pragma: no cover - reported by the module as a missing library
    x509 = None

FINGERPRINT_ALGORITHMS = ("sha1", "sha224", "sha256", "sha384", "sha512")

# OpenSSL's long names, as community.crypto's certificate_info backend prints extended key usages.
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
    """The certificate's DER; for a stand-in of a partly unreadable certificate, the original bytes."""
    repair = repair_of(cert)
    return repair.original if repair is not None else cert.public_bytes(serialization.Encoding.DER)


def raw_spki(cert):
    """The SubjectPublicKeyInfo exactly as encoded in the certificate (readable whatever its algorithm)."""
    return x509_der.CertFields(der(cert)).spki()


def certificate_public_key(cert):
    """(public key or None, problem or None): None when cryptography cannot load the key."""
    repair = repair_of(cert)
    if repair is not None and "spki" in repair.placeholders:
        return None, None  # already named in the repair's problems
    try:
        return cert.public_key(), None
    except Exception as exc:  # noqa: BLE001 - unsupported algorithms, bad parameters
        oid = _spki_oid(cert)
        return None, "its public key (algorithm %s) cannot be read: %s" % (oid, str(exc).splitlines()[0][:200])


def _spki_oid(cert):
    try:
        return x509_der.algorithm_oid(raw_spki(cert))
    except (x509_der.DerError, IndexError):
        return "?"


def spki_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def serial_hex(cert):
    """Lowercase hex without colons or padding: what istiod logs as ``SN: %x`` (Go's fmt of a big.Int)."""
    serial = x509_der.CertFields(der(cert)).serial_number()
    return "%x" % serial if serial >= 0 else "-%x" % -serial


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
        return readable_extensions(cert).extensions.get_extension_for_class(ext_class)
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


# Go's attributeTypeNames (crypto/x509/pkix/pkix.go); every other type prints as its dotted OID.
GO_ATTRIBUTE_NAMES = {
    "2.5.4.6": "C", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN", "2.5.4.5": "SERIALNUMBER",
    "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.9": "STREET", "2.5.4.17": "POSTALCODE",
}
# ToRDNSequence's order: C, ST, L, STREET, POSTALCODE, O, OU (each one multi-valued RDN), CN, SERIALNUMBER.
_GO_FIELD_ORDER = ("2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.9", "2.5.4.17", "2.5.4.10", "2.5.4.11")
_GO_PRINTABLE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


def go_name(name):
    """``name`` as Go's ``pkix.Name.String()`` prints it for a parsed certificate (istiod's log lines).

    Follows golang/go src/crypto/x509/pkix/pkix.go: FillFromRDNSequence files C, ST, L, STREET,
    POSTALCODE, O, OU (all values) and CN, SERIALNUMBER (the last value) into fields; String() puts
    the other attributes first, then ToRDNSequence() (C, ST, L, STREET, POSTALCODE, O, OU as one
    multi-valued RDN each, then CN, SERIALNUMBER) and RDNSequence.String() prints that sequence last
    RDN first, ``+`` inside an RDN; other types print as ``<dotted OID>=#<hex of asn1.Marshal(value)>``.
    """
    try:
        attrs = [(a.oid.dotted_string, a.value) for rdn in name.rdns for a in rdn]
    except Exception:  # noqa: BLE001 - unreadable names are reported elsewhere
        return None
    rdns = [[(oid, value)] for oid, value in attrs if oid not in GO_ATTRIBUTE_NAMES]
    for oid in _GO_FIELD_ORDER:
        values = [v for o, v in attrs if o == oid]
        if values:
            rdns.append([(oid, v) for v in values])
    for oid in ("2.5.4.3", "2.5.4.5"):
        values = [v for o, v in attrs if o == oid]
        if values and values[-1]:
            rdns.append([(oid, values[-1])])
    return ",".join("+".join(_go_attribute(oid, value) for oid, value in rdn) for rdn in reversed(rdns))


def _go_attribute(oid, value):
    if not isinstance(value, str):
        return "%s=#%s" % (oid, binascii.hexlify(value).decode("ascii"))
    if oid not in GO_ATTRIBUTE_NAMES:
        # encoding/asn1 Marshal of a Go string: PrintableString when every character allows it, else UTF8String.
        tag = 0x13 if all(c in _GO_PRINTABLE for c in value) else 0x0C
        return "%s=#%s" % (oid, binascii.hexlify(x509_der.encode(tag, value.encode("utf-8"))).decode("ascii"))
    data = value.encode("utf-8")
    out = []
    for k, char in _byte_offsets(value):
        if char in ',+"\\<>;' or (char == " " and (k == 0 or k == len(data) - 1)) or (char == "#" and k == 0):
            out.append("\\")
        out.append(char)
    return "%s=%s" % (GO_ATTRIBUTE_NAMES[oid], "".join(out))


def _byte_offsets(text):
    """(byte offset, character) pairs, as Go's ``for k, c := range s`` yields them."""
    offset = 0
    for char in text:
        yield offset, char
        offset += len(char.encode("utf-8"))


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
    """Type (community.crypto names), size in bits, curve; ``unknown`` for a key that cannot be read (None)."""
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
    for oid, (critical, value) in sorted(readable_extensions(cert).raw.items()):
        result[oid] = {"critical": critical, "value": base64.b64encode(value).decode("ascii")}
    return result


def _basic_constraints_facts(cert, readable):
    """(is_ca, path_length, list, critical): None where duplicates disagree or the extension is unreadable."""
    values = readable.by_oid.get("2.5.29.19", [])
    if not values:
        if "2.5.29.19" in readable.raw:  # present but refused by cryptography: read the flag leniently
            critical, value = readable.raw["2.5.29.19"]
            lenient = x509_der.basic_constraints(value)
            if lenient is None:
                return None, None, None, critical
            ca, path_len = lenient
            listed = sorted(["CA:%s" % ("TRUE" if ca else "FALSE")]
                            + (["pathlen:%d" % path_len] if path_len is not None else []))
            return ca, path_len if ca else None, listed, critical
        return False, None, None, False
    cas = set(v.value.ca for v in values)
    lengths = set(v.value.path_length for v in values)
    is_ca = cas.pop() if len(cas) == 1 else None
    path_length = lengths.pop() if len(lengths) == 1 else None
    listed = None
    if len(values) == 1:
        bc = values[0].value
        listed = sorted(["CA:%s" % ("TRUE" if bc.ca else "FALSE")]
                        + (["pathlen:%d" % bc.path_length] if bc.path_length is not None else []))
    return is_ca, path_length, listed, values[0].critical


def certificate_problems(cert):
    """What cannot be read in ``cert``, as sentence parts ("its ... cannot be read: ...")."""
    repair = repair_of(cert)
    problems = list(repair.problems) if repair is not None else []
    problems.extend(readable_extensions(cert).problems)
    problem = certificate_public_key(cert)[1]
    if problem:
        problems.append(problem)
    return problems


def _time(cert, which, repair):
    if repair is not None and which in repair.placeholders:
        return None
    return cert.not_valid_before_utc if which == "not_before" else cert.not_valid_after_utc


def certificate_info(cert, now, valid_at=None, index=0, source=None):
    """The per-certificate result entry. ``valid_at`` maps names to aware datetimes.

    Facts that cannot be read are null and the reason is in ``problems``; a certificate
    that loads at all never raises here.
    """
    repair = repair_of(cert)
    readable = readable_extensions(cert)
    fields = x509_der.CertFields(der(cert))
    not_before = _time(cert, "not_before", repair)
    not_after = _time(cert, "not_after", repair)
    is_ca, path_length, bc_list, bc_critical = _basic_constraints_facts(cert, readable)
    key_usage, key_usage_critical = _key_usage(cert)
    eku, eku_critical = _extended_key_usage(cert)
    san_ext = _ext(cert, x509.SubjectAlternativeName)
    ski_ext = _ext(cert, x509.SubjectKeyIdentifier)
    aki_ext = _ext(cert, x509.AuthorityKeyIdentifier)
    tls_feature = _ext(cert, x509.TLSFeature)
    public_key = certificate_public_key(cert)[0]
    pk = public_key_facts(public_key)
    spki = fields.spki()
    sig_oid = x509_der.algorithm_oid(fields.outer_signature_algorithm)
    version = fields.version_number()
    info = {
        "index": index,
        "source": source,
        "subject": rfc4514(cert.subject),
        "issuer": rfc4514(cert.issuer),
        "subject_go": go_name(cert.subject),
        "issuer_go": go_name(cert.issuer),
        "subject_ordered": name_ordered(cert.subject),
        "issuer_ordered": name_ordered(cert.issuer),
        "serial_number": fields.serial_number(),
        "serial_hex": serial_hex(cert),
        "version": version + 1 if version is not None else None,
        "not_before": rfc3339.format(not_before) if not_before else None,
        "not_after": rfc3339.format(not_after) if not_after else None,
        "seconds_remaining": int((not_after - now).total_seconds()) if not_after else None,
        "expired": not_after < now if not_after else None,
        "not_yet_valid": now < not_before if not_before else None,
        "is_ca": is_ca,
        "path_length": path_length,
        "basic_constraints": bc_list,
        "basic_constraints_critical": bool(bc_critical),
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
        "public_key": _pem("PUBLIC KEY", spki),
        "public_key_type": pk["type"],
        "public_key_size": pk["size"],
        "public_key_curve": pk["curve"],
        "public_key_data": dict((k, v) for k, v in pk.items() if k != "type" and v is not None),
        "public_key_fingerprints": fingerprints_of(spki),
        "signature_algorithm": SIGNATURE_NAMES.get(sig_oid, _dotted_name(sig_oid)),
        "self_signed": is_self_signed(cert),
        "problems": certificate_problems(cert),
    }
    info["valid_at"] = dict((name, not_before <= when <= not_after if not_before and not_after else None)
                            for name, when in (valid_at or {}).items())
    return info


def _dotted_name(dotted):
    return _oid_name(x509.ObjectIdentifier(dotted))


def _pem(kind, data):
    body = base64.encodebytes(data).decode("ascii")
    return "-----BEGIN %s-----\n%s-----END %s-----\n" % (kind, body, kind)


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
