"""``spec.literalSubject`` read the way cert-manager's webhook reads it.

cert-manager (pkg/util/pki/subject.go, UnmarshalSubjectStringToRDNSequence) parses the string with
go-ldap v3.4.13 ``ldap.ParseDN`` (dn.go), then maps attribute types through a fixed, case-sensitive table
(C, O, OU, CN, SERIALNUMBER, L, ST, STREET, DC, UID) or a dotted OID; any other type gets a nil OID, which
the webhook reports as "Literal subject contains unrecognized key with value [...]". Values keep their
escapes' meaning (``\\,`` is a comma, ``\\c3\\a9`` two bytes); there is no length check of the values
(``C=Spain`` is accepted). RFC 4514 parsers such as cryptography's refuse some of what ParseDN accepts,
so this follows ParseDN itself.
"""

from __future__ import annotations


import re

ATTRIBUTE_TYPES = {
    "C": "2.5.4.6", "O": "2.5.4.10", "OU": "2.5.4.11", "CN": "2.5.4.3", "SERIALNUMBER": "2.5.4.5",
    "L": "2.5.4.7", "ST": "2.5.4.8", "STREET": "2.5.4.9",
    "DC": "0.9.2342.19200300.100.1.25", "UID": "0.9.2342.19200300.100.1.1",
}
COMMON_NAME = "2.5.4.3"
_ATOI = re.compile(r"^[+-]?[0-9]+$")


class DNError(Exception):
    pass


def parse_oid(text):
    """pki.ParseObjectIdentifier: dot-separated strconv.Atoi values; None when Go returns an error."""
    if not text:
        return None
    parts = text.split(".")
    for part in parts:
        if not _ATOI.match(part) or not -(1 << 63) <= int(part) < (1 << 63):
            return None
    return ".".join(str(int(p)) for p in parts)


def _strip(text):
    stripped = text.strip(" ")
    if stripped.endswith("\\") and text.endswith(" "):
        stripped += " "
    return stripped


def _hex_invalid(char):
    return "encoding/hex: invalid byte: U+%04X %s" % (ord(char), "'%s'" % char)


def _decode(text):
    """go-ldap decodeString: escapes of specials, or two hex digits for one byte."""
    chars = _strip(text)
    out = bytearray()
    i = 0
    while i < len(chars):
        char = chars[i]
        if char != "\\":
            out.extend(char.encode("utf-8"))
            i += 1
            continue
        if i + 1 >= len(chars):
            raise DNError("got corrupted escaped character: '%s'" % chars)
        if chars[i + 1] in ' "#+,;<=>\\':
            out.extend(chars[i + 1].encode("utf-8"))
            i += 2
            continue
        if i + 2 >= len(chars):
            raise DNError("failed to decode escaped character: encoding/hex: invalid byte: " + chars[i + 1])
        pair = chars[i + 1:i + 3]
        for digit in pair:
            if digit not in "0123456789abcdefABCDEF":
                raise DNError("failed to decode escaped character: " + _hex_invalid(digit))
        out.append(int(pair, 16))
        i += 3
    return out.decode("utf-8", "replace")


def parse_dn(text):
    """ldap.ParseDN: a list of RDNs, each a list of (type, value), in string order."""
    rdns = []
    if text.strip() == "":
        return rdns
    rdn, attr_type, escaping, start = [], None, False, 0
    for i, char in enumerate(text):
        if escaping:
            escaping = False
        elif char == "\\":
            escaping = True
        elif char == "=" and not attr_type:
            attr_type = _decode(text[start:i])
            start = i + 1
        elif char in ",+;":
            if not attr_type:
                raise DNError("incomplete type, value pair")
            rdn.append((attr_type, _value(text[start:i])))
            attr_type, start = None, i + 1
            if char in ",;":
                rdns.append(rdn)
                rdn = []
    if not attr_type:
        raise DNError("DN ended with incomplete type, value pair")
    rdn.append((attr_type, _value(text[start:])))
    rdns.append(rdn)
    return rdns


def _value(text):
    """setValue: ``#`` starts a hex-encoded BER value (one primitive element with a short length here)."""
    if not text.startswith("#"):
        return _decode(text)
    digits = text[1:]
    for digit in digits:
        if digit not in "0123456789abcdefABCDEF":
            raise DNError("failed to decode BER encoding: " + _hex_invalid(digit))
    if len(digits) % 2:
        raise DNError("failed to decode BER encoding: encoding/hex: odd length hex string")
    raw = bytearray(int(digits[i:i + 2], 16) for i in range(0, len(digits), 2))
    if len(raw) < 2 or raw[1] >= 0x80 or len(raw) < 2 + raw[1]:
        raise DNError("failed to decode BER encoding: unexpected EOF")
    return raw[2:2 + raw[1]].decode("utf-8", "replace")


def subject_attributes(text):
    """[(oid or None, value)] in the order cert-manager builds its RDNSequence (the string reversed)."""
    out = []
    for rdn in reversed(parse_dn(text)):
        for attr_type, value in rdn:
            out.append((ATTRIBUTE_TYPES.get(attr_type) or parse_oid(attr_type), value))
    return out


def to_x509_name(text):
    """The subject cert-manager puts in the CSR for a literalSubject (the RDNSequence above, ASN.1 order).

    Go's encoding/asn1 does not check attribute lengths (``C=Spain`` is fine there), so neither does this;
    the webhook has already refused unknown attribute types.
    """
    from cryptography import x509

    rdns = []
    for rdn in reversed(parse_dn(text)):
        attributes = []
        for attr_type, value in rdn:
            oid = ATTRIBUTE_TYPES.get(attr_type) or parse_oid(attr_type)
            attributes.append(x509.NameAttribute(x509.ObjectIdentifier(oid), value, _validate=False))
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)
