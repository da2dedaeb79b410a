"""Certificates and keys made at test time with ``cryptography`` (no key file is ever committed).

Keys are cached per (kind, slot) for the session so RSA generation costs little; ask for a
different ``slot`` when a test needs a key that does not match another.
"""

from __future__ import annotations

import datetime
import functools

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
DAY = datetime.timedelta(days=1)
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH


@functools.lru_cache(maxsize=None)
def key(kind="ec256", slot=0):
    """A private key: rsa2048, rsa1024, ec256, ec384, ec521, secp256k1, ed25519 or ed448."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    curves = {"ec256": ec.SECP256R1(), "ec384": ec.SECP384R1(), "ec521": ec.SECP521R1(),
              "secp256k1": ec.SECP256K1()}
    if kind in curves:
        return ec.generate_private_key(curves[kind])
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate()
    raise ValueError(kind)


class Issued:
    """A certificate with its private key (kept in memory only)."""

    def __init__(self, cert, private_key):
        self.cert = cert
        self.key = private_key

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    def key_pem(self, fmt="pkcs8") -> str:
        formats = {"pkcs8": serialization.PrivateFormat.PKCS8,
                   "traditional": serialization.PrivateFormat.TraditionalOpenSSL}
        return self.key.private_bytes(serialization.Encoding.PEM, formats[fmt],
                                      serialization.NoEncryption()).decode()


def _hash_for(private_key):
    if isinstance(private_key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return None
    return hashes.SHA256()


def make(cn, private_key=None, issuer=None, ca=True, pathlen=None, eku=None, key_usage="auto",
         not_before=None, not_after=None, sans=(), org="meshpki-test", serial=None, basic_constraints=True,
         locality=None):
    """Issue a certificate; self-signed when ``issuer`` is None."""
    private_key = private_key or key()
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    if locality:
        attrs.append(x509.NameAttribute(NameOID.LOCALITY_NAME, locality))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    subject = x509.Name(attrs)
    signer_cert = issuer.cert if issuer else None
    signer_key = issuer.key if issuer else private_key
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(signer_cert.subject if signer_cert else subject)
               .public_key(private_key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(not_before or NOW - DAY)
               .not_valid_after(not_after or NOW + 365 * DAY))
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen if ca else None),
                                        critical=True)
    if key_usage == "auto":
        key_usage = "ca" if ca else "leaf"
    if key_usage == "ca":
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    elif key_usage == "ca-no-certsign":
        builder = builder.add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                                        critical=True)
    elif key_usage == "leaf":
        builder = builder.add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                                        critical=True)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if sans:
        names = [x509.UniformResourceIdentifier(s) if "://" in s else x509.DNSName(s) for s in sans]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(private_key.public_key()),
                                    critical=False)
    if signer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
    cert = builder.sign(signer_key, _hash_for(signer_key))
    return Issued(cert, private_key)


def mesh(kind="ec256", root_kind=None, **intermediate_kwargs):
    """A root and an Istio-style intermediate (CA, pathlen 0, SAN istiod.istio-system.svc)."""
    root = make("Root CA", key(root_kind or kind, 0), ca=True)
    kwargs = dict(ca=True, pathlen=0, sans=("istiod.istio-system.svc",), locality="cluster-1")
    kwargs.update(intermediate_kwargs)
    inter = make("Intermediate CA", key(kind, 1), issuer=root, **kwargs)
    return root, inter


def pem(*issued) -> str:
    return "".join(i.pem for i in issued)
