# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The cluster's CA Secret for cert-manager's CA ClusterIssuer: judge the one there, build the next one.

What goes in (cert-manager's CA issuer reads it with ``kube.SecretTLSKeyPairAndCA``, pkg/util/kube:
every certificate of ``tls.crt``, then the first of ``ca.crt`` appended; ``pki.SignCSRTemplate`` signs
with the first and hands ``ParseSingleCertificateChain`` the lot, pkg/util/pki):
``tls.crt`` = issuing CA, then the signer's chain up to the root; ``tls.key`` = the issuing CA's key;
``ca.crt`` = the root. So ``cacerts`` gets ``tls.crt`` = istiod's intermediate + issuing CA (+ any
offline intermediate) and ``ca.crt`` = the root (docs/upstream/cert-manager.md#chain-split).

Judging never returns key material: only whether the key there matches, as a boolean.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.chain import is_ca, key_matches
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import (
    basic_constraints, colon_hex, fingerprint, rfc4514, serial_hex, signed_by, spki_der)
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_certificates, load_private_key
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339

MANAGED_BY = {"app.kubernetes.io/managed-by": "meshpki.istio_ca"}
ANNOTATION_CLUSTER = "meshpki.istio-ca/cluster-name"
ANNOTATION_ROOT = "meshpki.istio-ca/root-fingerprint-sha256"
ANNOTATION_PREVIOUS = "meshpki.istio-ca/previous-issuing-ca-serial"


def _decoded(data, key):
    value = (data or {}).get(key)
    if not value:
        return None
    try:
        return base64.b64decode(value)
    except (TypeError, ValueError):
        return None


def summary(cert, signer=None):
    """Public facts of an issuing CA (what is returned, shown in diffs and in the report)."""
    bc = basic_constraints(cert)
    out = {
        "subject": rfc4514(cert.subject),
        "issuer": rfc4514(cert.issuer),
        "serial_hex": serial_hex(cert),
        "not_before": rfc3339.format(cert.not_valid_before_utc),
        "not_after": rfc3339.format(cert.not_valid_after_utc),
        "path_length": None if bc is None else bc.value.path_length,
        "fingerprint_sha256": fingerprint(cert),
        "public_key_sha256": colon_hex(hashlib.sha256(spki_der(cert.public_key())).digest()),
    }
    if signer is not None:
        out["root_fingerprint_sha256"] = signer.root_fingerprint()
    return out


def judge(secret, signer, now, min_remaining_seconds):
    """(current issuing CA certificate or None, reasons it cannot be kept — empty when it can)."""
    if secret is None:
        return None, ["the Secret does not exist"]
    data = secret.get("data") or {}
    crt, key_bytes, ca = _decoded(data, "tls.crt"), _decoded(data, "tls.key"), _decoded(data, "ca.crt")
    if not crt:
        return None, ["it has no tls.crt"]
    try:
        cert = load_certificates(crt, "tls.crt")[0]
    except X509Error as exc:
        return None, [str(exc)]
    reasons = []
    if not is_ca(cert):
        reasons.append("its certificate is not a CA")
    if not signed_by(cert, signer.cert):
        reasons.append("its certificate (issuer %s) is not signed by the offline root given" % rfc4514(cert.issuer))
    try:
        if not key_bytes or not key_matches(load_private_key(key_bytes, "tls.key").key, cert):
            reasons.append("tls.key does not belong to its certificate")
    except X509Error:
        reasons.append("tls.key cannot be parsed")
    if ca != signer.root_pem():
        reasons.append("ca.crt is not the offline root (byte for byte)")
    if cert.not_valid_after_utc < now + datetime.timedelta(seconds=min_remaining_seconds):
        reasons.append("it expires at %s, within the required remaining validity" % rfc3339.format(cert.not_valid_after_utc))
    return cert, reasons


def secret_object(name, namespace, cluster_name, cert, key_pem_bytes, signer, previous_serial=None):
    """The Secret to apply (type kubernetes.io/tls, as cert-manager's CA issuer docs show it)."""
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel

    annotations = {ANNOTATION_CLUSTER: cluster_name, ANNOTATION_ROOT: signer.root_fingerprint()}
    if previous_serial:
        annotations[ANNOTATION_PREVIOUS] = previous_serial
    crt = cert.public_bytes(serialization.Encoding.PEM) + signer.chain_pem()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY), "annotations": annotations},
        "data": {
            "tls.crt": base64.b64encode(crt).decode("ascii"),
            "tls.key": base64.b64encode(key_pem_bytes).decode("ascii"),
            "ca.crt": base64.b64encode(signer.root_pem()).decode("ascii"),
        },
    }
