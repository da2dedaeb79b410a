# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Read certificate bundles and private keys, failing with a sentence a person can act on.

Unlike community.crypto's loader (which silently keeps only the first certificate,
its certificate_info backend) this returns every certificate of a PEM bundle in order,
reads DER where bytes come from a file, and refuses key material where certificates
belong. Error messages name the input and the PEM block, never its contents.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import re

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.repair import load_der

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - reported by the module as a missing library
    serialization = None

_BEGIN = re.compile(br"-----BEGIN ([A-Z0-9 #/_.-]+)-----")
_CERT_TYPES = (b"CERTIFICATE", b"X509 CERTIFICATE")
# The block types istiod's ParsePemEncodedKey accepts (istio security/pkg/pki/util/crypto.go).
ISTIOD_KEY_BLOCKS = ("RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY")


class PemBlock(object):
    """One ``-----BEGIN X-----`` ... ``-----END X-----`` block (``der`` is None when its base64 is damaged)."""

    def __init__(self, kind, body, number):
        self.kind = kind
        self.number = number
        self.der = _decode_body(body)


class LoadedKey(object):
    """A parsed private key plus what istiod would see first; never printed or returned."""

    def __init__(self, key, first_block, source):
        self.key = key
        self.first_block = first_block  # type of the first PEM block (None for DER)
        self.source = source

    def public_key(self):
        return self.key.public_key()

    def __repr__(self):  # keep key material out of any accidental repr
        return "<LoadedKey from %s>" % self.source


def _decode_body(body):
    lines = [line.strip() for line in body.splitlines()]
    b64 = b"".join(line for line in lines if line and b":" not in line)  # skip RFC 1421 headers
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None


def pem_blocks(data, source):
    """Every PEM block in ``data`` in order; text around the blocks is ignored, a missing END is an error."""
    blocks = []
    pos = 0
    while True:
        match = _BEGIN.search(data, pos)
        if not match:
            return blocks
        kind = match.group(1)
        end_marker = b"-----END " + kind + b"-----"
        end = data.find(end_marker, match.end())
        other = _BEGIN.search(data, match.end())
        if end < 0 or (other is not None and other.start() < end):
            raise X509Error("%s is truncated: PEM block %d (%s) has no '-----END %s-----' line; "
                            "copy the whole PEM text again" % (source, len(blocks) + 1, _text(kind), _text(kind)))
        blocks.append(PemBlock(_text(kind), data[match.end():end], len(blocks) + 1))
        pos = end + len(end_marker)


def _text(kind):
    return kind.decode("ascii", "replace") if isinstance(kind, bytes) else kind


_KEY_BLOCK_NAMES = {
    "RSA PRIVATE KEY": "PKCS#1 RSA", "EC PRIVATE KEY": "SEC 1 EC", "PRIVATE KEY": "PKCS#8",
    "ENCRYPTED PRIVATE KEY": "encrypted PKCS#8", "DSA PRIVATE KEY": "DSA", "OPENSSH PRIVATE KEY": "OpenSSH",
}


def describe_block(kind):
    """Name a PEM block for a message without writing the words results must never contain."""
    if _is_key_block(kind):
        return "a %s private-key block" % _KEY_BLOCK_NAMES.get(kind, "private-key")
    return "a '%s' block" % kind


def _is_key_block(kind):
    return kind == "PRIVATE KEY" or kind.endswith(" PRIVATE KEY")


def load_certificates(data, source, der_allowed=False):
    """All certificates in ``data`` (PEM bundle, or one DER certificate when ``der_allowed``)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if not data or not data.strip():
        raise X509Error("%s is empty: it holds no certificate" % source)
    if _BEGIN.search(data):
        return _certificates_from_pem(data, source)
    if der_allowed:
        return [_certificate_from_der(data, source)]
    raise X509Error("%s holds no PEM certificate: no '-----BEGIN CERTIFICATE-----' line was found "
                    "(DER is read only from a file given with path)" % source)


def _certificates_from_pem(data, source):
    blocks = pem_blocks(data, source)
    for block in blocks:
        if _is_key_block(block.kind):
            raise X509Error("%s holds a private key, not a certificate (PEM block %d is %s); pass only "
                            "certificates here, and the key where a key is asked for"
                            % (source, block.number, describe_block(block.kind)))
    certs = []
    for block in blocks:
        if block.kind.encode("ascii") not in _CERT_TYPES:
            raise X509Error("%s holds a %s (PEM block %d), not a certificate" % (source, block.kind, block.number))
        if block.der is None:
            raise X509Error("%s: the base64 text of certificate %d is damaged; copy the PEM text again"
                            % (source, block.number))
        try:
            certs.append(load_der(block.der))
        except ValueError as exc:
            raise X509Error("%s: certificate %d is not a valid X.509 certificate (%s); it may be truncated or "
                            "altered" % (source, block.number, _short(exc)))
    return certs


def _certificate_from_der(data, source):
    try:
        return load_der(data)
    except ValueError as exc:
        reason = _short(exc)
    try:
        serialization.load_der_private_key(data, password=None)
    except Exception:  # noqa: BLE001 - any failure just means "not a DER key either"
        pass
    else:
        raise X509Error("%s holds a private key (DER), not a certificate; pass only certificates here" % source)
    raise X509Error("%s is neither PEM nor a DER-encoded X.509 certificate (%s)" % (source, reason))


def _short(exc):
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def load_private_key(data, source):
    """Parse the private key in ``data`` for matching. Messages never quote the key."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if not data or not data.strip():
        raise X509Error("%s is empty: it holds no private key" % source)
    if not _BEGIN.search(data):
        try:
            return LoadedKey(serialization.load_der_private_key(data, password=None), None, source)
        except Exception:  # noqa: BLE001 - the sentence below says all there is to say
            raise X509Error("%s is neither a PEM nor a DER private key" % source)
    blocks = pem_blocks(data, source)
    key_blocks = [b for b in blocks if _is_key_block(b.kind)]
    if not key_blocks:
        kinds = ", ".join(sorted(set(b.kind for b in blocks)))
        raise X509Error("%s holds no private key (found: %s)" % (source, kinds))
    block = key_blocks[0]
    if block.kind == "ENCRYPTED PRIVATE KEY" or b"ENCRYPTED" in _raw_headers(data, block):
        raise X509Error("%s holds an encrypted private key; istiod and this module need it unencrypted" % source)
    if block.der is None:
        raise X509Error("%s: the base64 text of the private key is damaged" % source)
    pem = (b"-----BEGIN " + block.kind.encode("ascii") + b"-----\n" + base64.encodebytes(block.der)
           + b"-----END " + block.kind.encode("ascii") + b"-----\n")
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, Exception):  # noqa: BLE001 - never echo what cryptography saw
        raise X509Error("%s does not hold a private key that can be parsed (%s); it may be "
                        "truncated, altered or of an unsupported kind" % (source, describe_block(block.kind)))
    return LoadedKey(key, blocks[0].kind, source)


def _raw_headers(data, block):
    """The RFC 1421 header lines (Proc-Type) of a block, to spot legacy encrypted keys."""
    begin = b"-----BEGIN " + block.kind.encode("ascii") + b"-----"
    start = data.find(begin)
    end = data.find(b"-----END", start)
    return b"".join(line for line in data[start:end].splitlines() if b":" in line)
