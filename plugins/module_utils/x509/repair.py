# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Read what can be read of a certificate cryptography refuses in part.

``openssl x509`` prints the serial, names and dates of certificates whose extensions,
key or algorithm parameters cryptography will not parse; x509_inspect must do the same
and list the rest as problems instead of failing the task. Two cases:

* the certificate loads but ``cert.extensions`` raises (one bad extension spoils all,
  duplicates raise too): ``readable_extensions`` parses every extension on its own, by
  loading a copy of the certificate that carries only that extension;
* it does not load at all (a field cryptography rejects: version, algorithm parameters,
  a time, an extension encoding): ``load_der`` loads a stand-in whose unreadable fields
  are replaced by placeholders, and ``repair_of`` says which ones, so callers report
  those fields as unknown. ``der()`` in x509_info returns the *original* bytes of a
  stand-in, so fingerprints and comparisons stay those of the real certificate.

A stand-in's signature cannot verify (its TBS bytes differ), so it never appears signed
by anything, and its placeholder key is the public half of a key generated and dropped
here, so nothing appears signed by it either.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import warnings

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509 import der as x509_der

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
except ImportError:  # pragma: no cover - reported by the module as a missing library
    x509 = None

_V3 = x509_der.encode(0xA0, x509_der.encode(0x02, b"\x02"))
# AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters.
_ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")
_FAR = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)  # RFC 5280 "no expiry"
_EPOCH = datetime.datetime(1950, 1, 1, tzinfo=datetime.timezone.utc)
_CAP = 512

_REPAIRS = {}
_EXTENSIONS = {}
_PLACEHOLDER_SPKI = []


class Repair(object):
    """What a stand-in replaced: ``placeholders`` names fields whose values are not the real ones."""

    def __init__(self, original, placeholders, problems):
        self.original = original
        self.placeholders = set(placeholders)
        self.problems = list(problems)


def _remember(cache, key, value):
    if len(cache) >= _CAP:
        cache.clear()
    cache[key] = value
    return value


def _placeholder_spki():
    if not _PLACEHOLDER_SPKI:
        public = ec.generate_private_key(ec.SECP256R1()).public_key()
        _PLACEHOLDER_SPKI.append(public.public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return _PLACEHOLDER_SPKI[0]


def _short(exc):
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _loads(der):
    """A certificate cryptography accepts whole (load, version, names), or the reason it does not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cert = x509.load_der_x509_certificate(der)
            cert.version  # raises InvalidVersion for versions other than v1/v3
            cert.subject.rfc4514_string()
            cert.issuer.rfc4514_string()
        return cert, None
    except Exception as exc:  # noqa: BLE001 - any refusal means "try a stand-in"
        return None, exc


def load_der(der):
    """A cryptography Certificate for ``der``: the real one, or a stand-in remembered by ``repair_of``."""
    cert, error = _loads(der)
    if cert is not None:
        return cert
    try:
        fields = x509_der.CertFields(der)
    except (x509_der.DerError, IndexError):
        raise ValueError(_short(error))
    not_before, not_after = fields.validity_times()
    real_validity = not_before is not None and not_after is not None
    validity = x509_der.encode(0x30, x509_der.generalized_time(not_before or _EPOCH)
                               + x509_der.generalized_time(not_after or _FAR))
    stand_in = dict(version=_V3, signature=_ECDSA_SHA256, validity=validity, spki=_placeholder_spki(),
                    extensions=[], issuer_uid=None, subject_uid=None)
    outer = _ECDSA_SHA256
    base, base_error = _loads(fields.certificate(outer, **stand_in))
    if base is None:  # serial or names themselves are unreadable: nothing to show
        raise ValueError(_short(error))
    # Put back every original field that loads together with the rest.
    for name in ("version", "signature", "validity", "spki", "extensions", "issuer_uid", "subject_uid"):
        if name == "validity" and not real_validity:
            continue
        trial = dict(stand_in)
        trial.pop(name)
        trial_outer = fields.outer_signature_algorithm if name == "signature" else outer
        if _loads(fields.certificate(trial_outer, **trial))[0] is not None:
            stand_in = trial
            outer = trial_outer
    placeholders = set(n for n in ("version", "signature", "spki") if n in stand_in)
    if not_before is None:
        placeholders.add("not_before")
    if not_after is None:
        placeholders.add("not_after")
    problems = ["cryptography cannot read it as a whole (%s); read field by field instead" % _short(error)]
    for name, what in (("version", "its version (v%s)" % ((fields.version_number() or 0) + 1)),
                       ("signature", "its signature algorithm parameters"),
                       ("spki", "its public key (algorithm or parameters)"),
                       ("not_before", "its notBefore time"), ("not_after", "its notAfter time")):
        if name in placeholders:
            problems.append("%s cannot be read" % what)
    synthetic = fields.certificate(outer, **stand_in)
    cert = x509.load_der_x509_certificate(synthetic)
    _remember(_REPAIRS, synthetic, Repair(der, placeholders, problems))
    return cert


def repair_of(cert):
    """The Repair of a stand-in, or None for a certificate cryptography read whole."""
    if not _REPAIRS:
        return None
    return _REPAIRS.get(cert.public_bytes(serialization.Encoding.DER))


class ReadableExtensions(object):
    """``extensions`` (an x509.Extensions of the ones that parse, first of each OID), the
    ``problems`` as sentences, and ``by_oid``: every parsed value per dotted OID (duplicates too)."""

    def __init__(self, extensions, problems, by_oid, raw):
        self.extensions = extensions
        self.problems = problems
        self.by_oid = by_oid
        self.raw = raw  # dotted OID -> (critical, extnValue bytes) of the first occurrence


def readable_extensions(cert):
    """Every extension of ``cert`` that can be parsed, each on its own when the whole set cannot."""
    key = cert.public_bytes(serialization.Encoding.DER)
    found = _EXTENSIONS.get(key)
    if found is not None:
        return found
    repair = repair_of(cert)
    problems = []
    if repair is None:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                exts = cert.extensions
            problems = ["%s" % _short(w.message) for w in caught]
            by_oid = dict((e.oid.dotted_string, [e]) for e in exts)
            raw = dict((e.oid.dotted_string, (e.critical, _value_bytes(e))) for e in exts)
            return _remember(_EXTENSIONS, key, ReadableExtensions(exts, problems, by_oid, raw))
        except Exception:  # noqa: BLE001 - fall through to one-by-one parsing
            pass
    original = repair.original if repair is not None else key
    try:
        fields = x509_der.CertFields(original)
        base = x509_der.CertFields(key)
    except (x509_der.DerError, IndexError) as exc:
        result = ReadableExtensions(x509.Extensions([]), ["its extensions cannot be split (%s)" % exc], {}, {})
        return _remember(_EXTENSIONS, key, result)
    parsed, by_oid, raw = [], {}, {}
    for number, ext in enumerate(fields.extensions, 1):
        try:
            oid_tlv, critical, critical_tlv, value_tlv = x509_der.extension_parts(ext)
            dotted = x509_der.oid_text(oid_tlv)
        except (x509_der.DerError, IndexError):
            problems.append("extension %d is not a valid DER Extension" % number)
            continue
        raw.setdefault(dotted, (bool(critical), x509_der.content_of(value_tlv)))
        value, note = _parse_one(base, ext, oid_tlv, critical, critical_tlv, value_tlv)
        label = "its %s extension (%s)" % (_EXTENSION_NAMES.get(dotted, "unnamed"), dotted)
        if value is None:
            problems.append("%s cannot be read: %s" % (label, note))
            continue
        if note:
            problems.append("%s %s" % (label, note))
        by_oid.setdefault(dotted, []).append(value)
        if len(by_oid[dotted]) == 1:
            parsed.append(value)
    for dotted, values in sorted(by_oid.items()):
        if len(values) > 1:
            problems.append("it has %d %s extensions (%s); RFC 5280 §4.2 allows each extension once and Go's "
                            "crypto/x509 refuses such a certificate ('x509: certificate contains duplicate "
                            "extensions')" % (len(values), _EXTENSION_NAMES.get(dotted, "unnamed"), dotted))
    result = ReadableExtensions(x509.Extensions(parsed), problems, by_oid, raw)
    return _remember(_EXTENSIONS, key, result)


def _parse_one(base, ext, oid_tlv, critical, critical_tlv, value_tlv):
    """(Extension or None, note) for one raw extension, loaded alone in a copy of ``base``."""
    error = None
    attempts = [(ext, None)]
    if critical is False:  # DER forbids encoding the DEFAULT FALSE; cryptography refuses it at load
        attempts.append((x509_der.encode(0x30, oid_tlv + value_tlv),
                         "encodes critical=FALSE explicitly, which DER forbids (a BER encoding)"))
    for candidate, note in attempts:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                one = x509.load_der_x509_certificate(base.certificate(extensions=[candidate]))
                value = list(one.extensions)[0]
            if caught and not note:
                note = "is not valid ASN.1 (%s)" % _short(caught[0].message)
            return value, note
        except Exception as exc:  # noqa: BLE001 - the message is the problem to report
            error = error or _short(exc)
    return None, error


def _value_bytes(ext):
    try:
        return ext.value.public_bytes()
    except Exception:  # noqa: BLE001 - some extension types cannot re-encode
        return b""


_EXTENSION_NAMES = {
    "2.5.29.14": "subjectKeyIdentifier", "2.5.29.15": "keyUsage", "2.5.29.17": "subjectAltName",
    "2.5.29.18": "issuerAltName", "2.5.29.19": "basicConstraints", "2.5.29.30": "nameConstraints",
    "2.5.29.31": "cRLDistributionPoints", "2.5.29.32": "certificatePolicies", "2.5.29.35": "authorityKeyIdentifier",
    "2.5.29.36": "policyConstraints", "2.5.29.37": "extendedKeyUsage", "2.5.29.54": "inhibitAnyPolicy",
    "1.3.6.1.5.5.7.1.1": "authorityInfoAccess", "1.3.6.1.5.5.7.1.24": "tlsFeature",
}
