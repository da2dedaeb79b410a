# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The fleet's offline signer: the root (or an offline CA of the site's PKI) read on the controller.

Why a module of its own: every rule about what may sign a cluster's issuing CA is decided here, once,
before any cluster is touched — the signer is a CA that may sign certificates, its key matches, its
file ends at a self-signed root (that root becomes ``ca.crt`` in every cluster, which istiod compares
byte for byte at each reload: docs/upstream/istiod.md#root-comparison), its path length leaves room
for the issuing CA *and* istiod's intermediate below it (Go's ``x509.Certificate.Verify`` enforces
MaxPathLen, so istiod's ``Verify`` in security/pkg/pki/util/keycertbundle.go would refuse a chain
that breaks it), and it outlives the issuing CA it is asked to sign. Nothing here returns or prints
the key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.chain import is_ca, key_matches
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import (
    basic_constraints, colon_hex, fingerprint, is_self_signed, rfc4514, signed_by, spki_der)
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_certificates, load_private_key

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - reported by the action as a missing library
    x509 = None


class Signer(object):
    """The offline CA: its certificate, the rest of its chain up to the self-signed root, its key."""

    def __init__(self, certs, key):
        self.cert = certs[0]
        self.chain = certs  # signer first, root last (the root is the signer when it is self-signed)
        self.key = key

    @property
    def root(self):
        return self.chain[-1]

    def root_pem(self):
        return self.root.public_bytes(serialization.Encoding.PEM)

    def chain_pem(self):
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def root_fingerprint(self):
        return fingerprint(self.root)

    def root_public_key_fingerprint(self):
        """SHA-256 of the root's SubjectPublicKeyInfo: what key_exposure looks for."""
        return colon_hex(hashlib.sha256(spki_der(self.root.public_key())).digest())

    def __repr__(self):  # never the key
        return "<Signer %s>" % rfc4514(self.cert.subject)


def _key_cert_sign(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return True


def load_signer(cert_data, key_data, cert_source, key_source, now, issuing_seconds, issuing_path_length):
    """Parse and judge the offline signer; raise X509Error with every problem found, before any change."""
    certs = load_certificates(cert_data, cert_source)
    loaded = load_private_key(key_data, key_source)
    signer = certs[0]
    problems = []
    if not is_ca(signer):
        problems.append("the first certificate in %s is not a CA (basicConstraints CA:TRUE missing)" % cert_source)
    elif not _key_cert_sign(signer):
        problems.append("the first certificate in %s may not sign certificates (keyUsage lacks keyCertSign)"
                        % cert_source)
    if not key_matches(loaded.key, signer):
        problems.append("the key in %s does not belong to the first certificate in %s" % (key_source, cert_source))
    for i, (child, parent) in enumerate(zip(certs, certs[1:])):
        if not signed_by(child, parent):
            problems.append("certificate %d in %s is not signed by certificate %d; list the signer first, then "
                            "its chain up to the root, in order" % (i + 1, cert_source, i + 2))
    if not is_self_signed(certs[-1]):
        problems.append("%s does not end with the self-signed root; append the chain up to the root so that "
                        "every cluster's ca.crt holds the real root" % cert_source)
    bc = basic_constraints(signer)
    signer_len = bc.value.path_length if bc is not None else None
    if signer_len is not None and signer_len < issuing_path_length + 1:
        problems.append("the signer's basicConstraints pathlen:%d leaves no room for the issuing CA and istiod's "
                        "intermediate below it (needs %d or no limit)" % (signer_len, issuing_path_length + 1))
    for cert in certs:
        if cert.not_valid_after_utc < now:
            problems.append("%s in %s expired at %s" % (rfc4514(cert.subject), cert_source,
                                                        cert.not_valid_after_utc.isoformat()))
    ends = now + datetime.timedelta(seconds=issuing_seconds)
    if not problems and min(c.not_valid_after_utc for c in certs) < ends:
        problems.append("the signer chain in %s expires before an issuing CA of this duration would (%s); "
                        "shorten ca_setup_issuing_ca_duration or renew the root first"
                        % (cert_source, ends.isoformat()))
    if problems:
        raise X509Error("The offline root cannot sign issuing CAs: %s." % "; ".join(problems))
    return Signer(certs, loaded.key)
