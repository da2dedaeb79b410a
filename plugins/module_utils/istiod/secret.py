# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""What istiod would load from the ``cacerts`` Secret: intermediate, root bytes, file format.

Mirrors istiod's format detection (docs/upstream/istiod.md#format-detection): ``tls.crt`` present means
the kubernetes.io/tls names (signing cert = first cert of tls.crt, root = ca.crt),
otherwise the Istio-native names (ca-cert.pem, root-cert.pem). Private keys are only
checked for presence by name; their values are never decoded, kept or returned.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import problems
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import der, rfc4514, serial_hex
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_certificates

TLS_NAMES = ("tls.crt", "tls.key", "ca.crt")
NATIVE_NAMES = ("ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem")


def normalize_serial(value):
    """expected_serial -> lowercase hex without leading zeros, as istiod logs ``SN: %x``.

    An int is taken as the number; a string as hex (``0x`` prefix and ``:`` separators allowed).
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("expected_serial must be a hex string or an integer, not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("expected_serial must not be negative")
        return "%x" % value
    text = str(value).strip().lower().replace(":", "")
    if text.startswith("0x"):
        text = text[2:]
    try:
        return "%x" % int(text, 16)
    except ValueError:
        raise ValueError("expected_serial %r is neither hex (as istiod logs it) nor an integer" % (value,))


class Material(object):
    """The cacerts Secret as istiod sees it (public parts only)."""

    def __init__(self):
        self.exists = False
        self.format = None          # "tls" or "native"
        self.names = []             # keys present in .data
        self.intermediate = None    # cryptography certificate (signing cert)
        self.root_bytes = None      # raw bytes of ca.crt / root-cert.pem
        self.root_ders = []         # DER of each root cert, for the whitespace-only explanation
        self.changed_at = None      # datetime the Secret's data last changed
        self.changed_source = None
        self.created = None
        self.problems = []

    @property
    def serial(self):
        return serial_hex(self.intermediate) if self.intermediate is not None else None

    @property
    def has_native_names(self):
        return "ca-cert.pem" in self.names and "ca-key.pem" in self.names

    def intermediate_summary(self):
        if self.intermediate is None:
            return None
        return {
            "subject": rfc4514(self.intermediate.subject),
            "issuer": rfc4514(self.intermediate.issuer),
            "serial": self.serial,
            "not_after": rfc3339.format(self.intermediate.not_valid_after_utc),
        }


def _decoded(data, key):
    value = data.get(key)
    if value is None:
        return None
    try:
        return base64.b64decode(value)
    except (binascii.Error, ValueError, TypeError):
        return b""


def data_changed_at(meta):
    """When the Secret's data last changed, and how we know.

    Preferred: the newest managedFields entry that owns ``f:data`` (its time moves whenever that
    manager changes a field it owns), then the newest managedFields time at all, then
    creationTimestamp. Label or annotation edits by another manager do not move the first choice.
    """
    entries = [m for m in meta.get("managedFields") or [] if rfc3339.parse(m.get("time") or "")]
    owning = [m for m in entries if "f:data" in (m.get("fieldsV1") or {})]
    for group, source in ((owning, "managedFields (data)"), (entries, "managedFields")):
        if group:
            return max(rfc3339.parse(m["time"]) for m in group), source
    created = rfc3339.parse(meta.get("creationTimestamp") or "")
    if created:
        return created, "creationTimestamp"
    return None, None


def read_material(secret, namespace, name):
    """Material from a Secret object (None -> Material with exists=False and a problem)."""
    material = Material()
    if secret is None:
        material.problems.append(problems.secret_missing(namespace, name))
        return material
    material.exists = True
    meta = secret.get("metadata") or {}
    data = secret.get("data") or {}
    material.names = sorted(data)
    material.created = rfc3339.parse(meta.get("creationTimestamp") or "")
    material.changed_at, material.changed_source = data_changed_at(meta)
    material.format = "tls" if "tls.crt" in data else "native"
    cert_key, root_key = ("tls.crt", "ca.crt") if material.format == "tls" else ("ca-cert.pem", "root-cert.pem")
    signing = _decoded(data, cert_key)
    if signing is None:
        keys = ", ".join(material.names) or "none"
        material.problems.append(problems.secret_unreadable(
            namespace, name, "it has neither tls.crt nor ca-cert.pem (keys: %s)" % keys))
    else:
        try:
            material.intermediate = load_certificates(signing, "%s of Secret %s/%s" % (cert_key, namespace, name))[0]
        except X509Error as exc:
            material.problems.append(problems.secret_unreadable(namespace, name, exc.message))
    root = _decoded(data, root_key)
    if not root:
        material.problems.append(problems.no_root_in_secret(namespace, name))
    else:
        material.root_bytes = root
        material.root_ders = ders_of(root)
    return material


def ders_of(pem_bytes):
    """DER of each certificate in a PEM bundle, or [] when it cannot be parsed."""
    try:
        return [der(cert) for cert in load_certificates(pem_bytes, "root bundle")]
    except X509Error:
        return []
