# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The raw fields of a certificate's DER, so one unreadable part does not hide the rest.

cryptography parses a certificate all or nothing: one malformed extension makes
``cert.extensions`` raise, an odd encoding of one field makes loading fail, although
``openssl x509`` still prints the serial, the dates and the names. This module only
splits the DER into the RFC 5280 ``Certificate``/``TBSCertificate`` fields (tag, length,
bytes; no interpretation) and re-assembles them, so that x509_repair can hand each field
to cryptography on its own. It decodes nothing but the two things cryptography cannot be
asked separately: the version number and the two validity times.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re


class DerError(ValueError):
    """The bytes are not the DER structure expected here."""


def read_tlv(data, pos=0):
    """(tag byte, content start, end) of the TLV at ``pos``; definite lengths only (DER)."""
    if pos + 2 > len(data):
        raise DerError("truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag numbers are not used in certificates")
    first = data[pos + 1]
    start = pos + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise DerError("truncated")
    return tag, start, end


def children(data, start, end):
    """The raw TLVs (tag, bytes) inside a constructed value's content."""
    out = []
    pos = start
    while pos < end:
        tag, _content, stop = read_tlv(data, pos)
        out.append((tag, data[pos:stop]))
        pos = stop
    return out


def encode(tag, content):
    length = len(content)
    if length < 0x80:
        head = bytes([tag, length])
    else:
        size = (length.bit_length() + 7) // 8
        head = bytes([tag, 0x80 | size]) + length.to_bytes(size, "big")
    return head + content


def content_of(tlv):
    _tag, start, end = read_tlv(tlv)
    return tlv[start:end]


class CertFields(object):
    """The TBSCertificate fields of one certificate as raw TLVs; ``extensions`` is a list."""

    NAMES = ("version", "serial", "signature", "issuer", "validity", "subject", "spki",
             "issuer_uid", "subject_uid")

    def __init__(self, der):
        tag, start, end = read_tlv(der)
        if tag != 0x30 or end != len(der):
            raise DerError("not a DER SEQUENCE")
        outer = children(der, start, end)
        if len(outer) != 3 or outer[0][0] != 0x30:
            raise DerError("not a Certificate (tbsCertificate, signatureAlgorithm, signature)")
        self.outer_signature_algorithm = outer[1][1]
        self.signature_value = outer[2][1]
        tbs = outer[0][1]
        _t, ts, te = read_tlv(tbs)
        fields = children(tbs, ts, te)
        self.raw = dict((name, None) for name in self.NAMES)
        self.extensions = []
        self.extensions_raw = None
        i = 0
        if fields and fields[0][0] == 0xA0:
            self.raw["version"] = fields[0][1]
            i = 1
        order = ("serial", "signature", "issuer", "validity", "subject", "spki")
        if len(fields) < i + len(order):
            raise DerError("TBSCertificate has too few fields")
        for name in order:
            self.raw[name] = fields[i][1]
            i += 1
        for tag, tlv in fields[i:]:
            if tag == 0x81:
                self.raw["issuer_uid"] = tlv
            elif tag == 0x82:
                self.raw["subject_uid"] = tlv
            elif tag == 0xA3:
                self.extensions_raw = tlv
                seq = content_of(tlv)
                _t, s, e = read_tlv(seq)
                self.extensions = [raw for _tag, raw in children(seq, s, e)]

    def version_number(self):
        """The encoded version INTEGER (0 = v1, 2 = v3) or None when absent/unreadable."""
        if self.raw["version"] is None:
            return 0
        try:
            inner = content_of(self.raw["version"])
            return int.from_bytes(content_of(inner), "big", signed=True)
        except DerError:
            return None

    def serial_number(self):
        return int.from_bytes(content_of(self.raw["serial"]), "big", signed=True)

    def validity_times(self):
        """(not_before, not_after) as aware datetimes, None for a time that is not valid DER."""
        val = self.raw["validity"]
        _t, s, e = read_tlv(val)
        times = children(val, s, e)
        return tuple(parse_time(times[k][0], content_of(times[k][1])) if k < len(times) else None
                     for k in (0, 1))

    def tbs(self, **replace):
        """Re-assembled TBSCertificate bytes, with ``replace`` (field -> TLV, or None to drop)."""
        parts = []
        for name in self.NAMES:
            value = replace.get(name, self.raw[name])
            if value is not None:
                parts.append(value)
        exts = replace.get("extensions", self.extensions)
        if exts:
            parts.append(encode(0xA3, encode(0x30, b"".join(exts))))
        return encode(0x30, b"".join(parts))

    def certificate(self, signature_algorithm=None, **replace):
        """A whole Certificate around ``tbs(**replace)``; its signature is the original bit string."""
        return encode(0x30, self.tbs(**replace) + (signature_algorithm or self.outer_signature_algorithm)
                      + self.signature_value)

    def spki(self):
        return self.raw["spki"]


def extension_parts(ext):
    """(OID TLV, critical flag or None when absent, raw critical TLV, extnValue TLV) of one Extension."""
    _t, s, e = read_tlv(ext)
    parts = children(ext, s, e)
    oid = parts[0][1]
    critical_tlv = parts[1][1] if len(parts) == 3 else None
    critical = None
    if critical_tlv is not None:
        critical = content_of(critical_tlv) != b"\x00"
    return oid, critical, critical_tlv, parts[-1][1]


def oid_text(oid_tlv):
    """Dotted text of an OBJECT IDENTIFIER TLV."""
    body = content_of(oid_tlv)
    arcs, value = [], 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return "?"
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


_UTC_TIME = re.compile(r"^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$")
_GEN_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$")


def parse_time(tag, body):
    """RFC 5280 §4.1.2.5: UTCTime YYMMDDHHMMSSZ (50-99 -> 19xx) or GeneralizedTime YYYYMMDDHHMMSSZ."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        return None
    match = (_UTC_TIME if tag == 0x17 else _GEN_TIME if tag == 0x18 else None)
    match = match.match(text) if match else None
    if not match:
        return None
    parts = [int(p) for p in match.groups()]
    if tag == 0x17:
        parts[0] += 1900 if parts[0] >= 50 else 2000
    try:
        return datetime.datetime(*parts, tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def generalized_time(when):
    return encode(0x18, when.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def algorithm_oid(algorithm_identifier_tlv):
    """Dotted OID of an AlgorithmIdentifier (or of a SubjectPublicKeyInfo's algorithm)."""
    _t, s, e = read_tlv(algorithm_identifier_tlv)
    first = children(algorithm_identifier_tlv, s, e)[0]
    if first[0] == 0x30:  # SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier, BIT STRING }
        return algorithm_oid(first[1])
    return oid_text(first[1])


def basic_constraints(extn_value):
    """(cA, pathLenConstraint or None) of a BasicConstraints value cryptography refused, or None.

    RFC 5280 §4.2.1.9: SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }.
    Read leniently (an explicitly encoded FALSE, a path length with cA FALSE) the way
    ``openssl x509`` prints such certificates, so the CA flag is known where it is unambiguous.
    """
    try:
        _t, s, e = read_tlv(extn_value)
        parts = children(extn_value, s, e)
    except DerError:
        return None
    ca, path_len = False, None
    for tag, tlv in parts:
        if tag == 0x01:
            ca = content_of(tlv) != b"\x00"
        elif tag == 0x02:
            path_len = int.from_bytes(content_of(tlv), "big", signed=True)
        else:
            return None
    return ca, path_len
