# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""What certificate the Secret holds now: serial and validity of the first cert of ``tls.crt``.

Only ``tls.crt`` is ever read; ``tls.key`` is never decoded, copied or returned. The serial is
given as lowercase hex without separators (how istiod logs it, ``SN: %x``; docs/upstream/istiod.md#serving-cert-log)
and as an integer.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

try:
    from cryptography import x509
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported by the module at start-up
    HAS_CRYPTOGRAPHY = False

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error

_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"


def first_certificate(pem):
    """The first PEM CERTIFICATE block of ``pem`` (bytes), or None."""
    start = pem.find(_BEGIN)
    if start < 0:
        return None
    end = pem.find(_END, start)
    if end < 0:
        return None
    return pem[start:end + len(_END)] + b"\n"


def describe(secret):
    """serial/serial_number/not_before/not_after of the Secret's leaf, or {} when it holds none yet."""
    data = (secret or {}).get("data") or {}
    encoded = data.get("tls.crt")
    if not encoded:
        return {}
    if not HAS_CRYPTOGRAPHY:
        raise X509Error("The cryptography Python package is required to read the issued certificate.")
    try:
        pem = base64.b64decode(encoded, validate=True)
    except (TypeError, ValueError, binascii.Error):
        raise X509Error("Secret %s: tls.crt is not valid base64." % (secret.get("metadata") or {}).get("name"))
    block = first_certificate(pem)
    try:
        cert = x509.load_pem_x509_certificate(block) if block else None
    except ValueError:
        cert = None
    if cert is None:
        raise X509Error("Secret %s: tls.crt does not start with a readable PEM certificate."
                        % (secret.get("metadata") or {}).get("name"))
    return {
        "serial": format(cert.serial_number, "x"),
        "serial_number": cert.serial_number,
        "not_before": rfc3339.format(cert.not_valid_before_utc),
        "not_after": rfc3339.format(cert.not_valid_after_utc),
    }
