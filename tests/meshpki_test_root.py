"""The self-signed ECDSA P-256 root CA that tests, the demo and the bench give to ca_setup.

Why one module: the integration tests, ``scripts/demo.py`` and ``bench/fleet.py`` all need the
same thing, a root CA made on the controller at run time (never a committed key) and handed to
``ca_setup_trust_source: ca_keypair`` as two PEM files. ``tests/`` is on the venv's sys.path
(``make venv`` writes a .pth file), so all of them import it as ``meshpki_test_root``.
P-256 because it is fast to make and istiod accepts it.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class RootCA:
    """A certificate and its private key as PEM; the key stays in memory until ``write``."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER certificate, colon-separated hex (as the report and cluster_state show it)."""
        return self.cert.fingerprint(hashes.SHA256()).hex(":")

    def write(self, directory) -> dict:
        """Write root-cert.pem and root-key.pem (mode 0600 from the start) into ``directory``;
        return them as ca_setup's ``ca_keypair`` variables."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / "root-cert.pem", directory / "root-key.pem"
        cert_path.write_bytes(self.cert_pem)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(self.key_pem)
        return {"ca_setup_ca_cert": str(cert_path), "ca_setup_ca_key": str(key_path)}


def make_root_ca(common_name: str = "Test Root CA", organization: str = "meshpki tests",
                 is_ca: bool = True) -> RootCA:
    """A new self-signed P-256 certificate valid for ten years (from an hour ago, for clock skew).

    ``is_ca=False`` makes a self-signed leaf instead (no CA flag, no keyCertSign): the
    "key pair that is not a CA" that ca_setup must refuse.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=is_ca, crl_sign=is_ca,
                          encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return RootCA(cert.public_bytes(serialization.Encoding.PEM),
                  key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
