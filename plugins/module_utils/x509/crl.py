# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""istiod's check of a plugged-in CA's ``ca-crl.pem`` (Istio 1.27 and later).

istio security/pkg/pki/util/keycertbundle.go ``Verify`` (1.27.0+), run at start-up and on
every hot reload, checks a non-empty CRL file after the chain and key: every certificate of
the chain files (``cert-chain.pem``) must have signed one of the CRLs, because Envoy rejects
every certificate of a chain for which one CA has a CRL and another has none. Otherwise it
fails with ``missing CRL signed by certificates: [<Subject.String()> ...]``. The file is read
only when ``PILOT_ENABLE_CA_CRL`` is on (the default) and only in Istio's own file layout
(pilot/pkg/bootstrap/istio_ca.go ``detectSigningCABundleAndCRL``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import certificate_public_key, go_name
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import pem_blocks
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.repair import readable_extensions

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - reported by the module as a missing library
    x509 = None

CRL_SINCE = (1, 27, 0)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$")


def parse_istio_version(text):
    """``1.27``, ``1.27.1``, ``v1.27.0-beta.0`` -> (1, 27, 0); None for None; a clear error otherwise."""
    if text in (None, ""):
        return None
    match = _VERSION.match(str(text).strip())
    if not match:
        raise X509Error("istio_version %r is not an Istio version such as 1.27 or 1.27.1" % text)
    return tuple(int(p or 0) for p in match.groups())


def _signed_by(crl, parent):
    """Go's RevocationList.CheckSignatureFrom: the parent is a CA (a v3 parent needs basicConstraints),
    has cRLSign when it has a keyUsage, and its key verifies the CRL's signature."""
    exts = readable_extensions(parent).extensions
    try:
        if not exts.get_extension_for_class(x509.BasicConstraints).value.ca:
            return False
    except x509.ExtensionNotFound:
        if parent.version == x509.Version.v3:
            return False
    try:
        if not exts.get_extension_for_class(x509.KeyUsage).value.crl_sign:
            return False
    except x509.ExtensionNotFound:
        pass
    key = certificate_public_key(parent)[0]
    if key is None:
        return False
    try:
        return crl.is_signature_valid(key)
    except Exception:  # noqa: BLE001 - an unsupported key type cannot have signed it
        return False


def istiod_crl_error(crl_bytes, signers, label):
    """The error istiod 1.27+ returns for this CRL file and these chain certificates, or None."""
    if not crl_bytes:  # `if len(crl) != 0`: an empty file is no CRL at all
        return None
    crls = []
    for block in pem_blocks(crl_bytes, label):
        try:
            crls.append(x509.load_der_x509_crl(block.der))
        except Exception:  # noqa: BLE001 - Go: "failed to parse CRL PEM: <x509 error>"
            return "failed to parse CRL PEM (block %d of %s is not a CRL)" % (block.number, label)
    missing = {}
    for cert in signers:
        missing[go_name(cert.subject)] = cert  # keyed by Subject.String(), as upstream
    for crl in crls:
        for subject, cert in list(missing.items()):
            if _signed_by(crl, cert):
                del missing[subject]
        if not missing:
            break
    if missing:
        return "missing CRL signed by certificates: [%s]" % " ".join(missing)
    return None
