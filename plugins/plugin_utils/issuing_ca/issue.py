# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Make one cluster's issuing CA: a fresh key, a certificate signed by the offline signer.

Why no CSR: the key is generated in this (the controller's action) process and goes from memory
straight into the cluster's CA Secret; a CSR would only matter if the key were made elsewhere.
It is never written to disk, never returned, never logged.

What the certificate holds and why:
- basicConstraints CA:TRUE, critical, ``pathlen`` (default 1): room for istiod's ``cacerts``
  intermediate below it, which cert-manager issues as a CA, and nothing more;
- keyUsage keyCertSign, cRLSign, digitalSignature (critical), no EKU — as Istio's
  ``tools/certs`` intermediate.conf writes a CA (docs/upstream/istiod.md#cert-tooling);
- the cluster name in L (as the ``cacerts`` subject carries it) so every cluster's issuing CA is
  told apart in logs and the report;
- SKI from the public key, AKI = the signer's SKI, so chain builders link it without name guessing;
- notBefore five minutes back: the controller's clock and the clusters' are not the same clock.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - reported by the action as a missing library
    x509 = None

BACKDATE = datetime.timedelta(minutes=5)
CURVES = {256: "SECP256R1", 384: "SECP384R1"}


def generate_key(algorithm, size):
    """RSA (2048+) or ECDSA P-256/P-384: the kinds cert-manager's CA issuer signs with."""
    if algorithm == "ECDSA":
        if size not in CURVES:
            raise ValueError("key_size %d: ECDSA issuing CA keys are P-256 or P-384 (256 or 384)" % size)
        return ec.generate_private_key(getattr(ec, CURVES[size])())
    if size < 2048:
        raise ValueError("key_size %d: RSA issuing CA keys must be at least 2048 bits" % size)
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def _hash_for(key):
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def subject_for(cluster_name, common_name, organization):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.LOCALITY_NAME, cluster_name),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _authority_key_id(signer_cert):
    try:
        ski = signer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_cert.public_key())


def sign_issuing_ca(signer, key, subject, seconds, path_length, now):
    """The issuing CA certificate for ``key``'s public half, signed by ``signer``."""
    not_before = (now - BACKDATE).replace(microsecond=0)
    not_after = (now + datetime.timedelta(seconds=seconds)).replace(microsecond=0)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(signer.cert.subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
               .add_extension(usage, critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(_authority_key_id(signer.cert), critical=False))
    return builder.sign(signer.key, _hash_for(signer.key))


def key_pem(key):
    """PKCS#8 PEM: what cert-manager's DecodePrivateKeyBytes reads for RSA and ECDSA alike."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
