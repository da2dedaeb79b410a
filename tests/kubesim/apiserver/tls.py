"""The cluster CA of a simulated fleet: serving certificate, client certificates, TLS contexts.

Modelled on what kind (kubeadm) sets up: one CA per cluster signs the API server's serving
certificate (SANs for the addresses clients dial) and the admin's client certificate
(``CN=kubernetes-admin``, ``O=system:masters``; kubernetes/kubernetes
cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go, cmd/kubeadm/app/util/pkiutil/pki_helpers.go).
kube-apiserver requests a client certificate and verifies it against ``--client-ca-file``
(staging/src/k8s.io/apiserver/pkg/authentication/request/x509/x509.go); the user is the
subject's CN and the groups its O values (``CommonNameUserConversion``).

kubesim keeps one CA per fleet (every cluster of a fleet trusts the same CA, so one kubeconfig
``certificate-authority-data`` serves all contexts) and generates it fresh at fleet start with
``cryptography``: nothing is committed, and the private keys never leave the process except
the admin client key, which goes into the kubeconfig the fleet writes (as kind's does).
ECDSA P-256 keys are used (kubeadm defaults to RSA 2048; clients accept both) so that a fleet
starts fast.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import ssl
import tempfile
from typing import List, Optional, Sequence, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ADMIN_USER = "kubernetes-admin"
MASTERS_GROUP = "system:masters"
SERVING_HOSTS = ("localhost", "127.0.0.1")
_VALIDITY = _dt.timedelta(days=3650)  # wall-clock: clients check these with the real time, not the simulated one


def _name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class ClusterCA:
    """A self-signed CA (``CN=kubernetes``, as kubeadm names it) and the certificates it issues."""

    def __init__(self, common_name: str = "kubernetes"):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(minutes=5)
        name = _name(common_name)
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now).not_valid_after(now + _VALIDITY)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                  key_encipherment=True, data_encipherment=False, key_agreement=False,
                                                  key_cert_sign=True, crl_sign=False, encipher_only=False,
                                                  decipher_only=False), critical=True)
                     .add_extension(ski, critical=False)
                     .sign(self.key, hashes.SHA256()))
        self.cert_pem: bytes = self.cert.public_bytes(serialization.Encoding.PEM)
        self._serving: Optional[Tuple[bytes, bytes]] = None

    def issue(self, common_name: str, organizations: Sequence[str] = (), *, server: bool = False,
              hosts: Sequence[str] = ()) -> Tuple[bytes, bytes]:
        """(certificate PEM, private key PEM) for a client (``server=False``) or a serving certificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(minutes=5)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        b = (x509.CertificateBuilder().subject_name(_name(common_name, organizations))
             .issuer_name(self.cert.subject).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + _VALIDITY)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                          crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
             .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                            critical=False))
        if hosts:
            sans: List[x509.GeneralName] = []
            for h in hosts:
                try:
                    sans.append(x509.IPAddress(ipaddress.ip_address(h)))
                except ValueError:
                    sans.append(x509.DNSName(h))
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = b.sign(self.key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)

    def admin_credentials(self) -> Tuple[bytes, bytes]:
        """The kubeconfig admin's client certificate and key (kind: CN=kubernetes-admin, O=system:masters)."""
        return self.issue(ADMIN_USER, [MASTERS_GROUP])

    def serving(self) -> Tuple[bytes, bytes]:
        """One serving certificate (``CN=kube-apiserver``, SANs localhost/127.0.0.1) shared by the fleet."""
        if self._serving is None:
            self._serving = self.issue("kube-apiserver", server=True, hosts=SERVING_HOSTS)
        return self._serving

    def server_context(self) -> ssl.SSLContext:
        """TLS for one API server: serve ``serving()``, ask for a client certificate and verify it.

        kube-apiserver asks with ``tls.RequestClientCert`` and leaves verification to the x509
        authenticator, so a certificate from another CA is only "not authenticated". Python's ssl
        cannot ask without verifying: here such a certificate fails the handshake instead.
        """
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        cert_pem, key_pem = self.serving()
        # ssl loads a key pair only from files: a 0600 temp file that lives for the load call only
        fd, path = tempfile.mkstemp(prefix="kubesim-serving-", suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(cert_pem + key_pem)
            ctx.load_cert_chain(path)
        finally:
            os.unlink(path)
        ctx.load_verify_locations(cadata=self.cert_pem.decode("ascii"))
        ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx


def client_context(ca_pem: bytes, cert_pem: Optional[bytes] = None, key_pem: Optional[bytes] = None) -> ssl.SSLContext:
    """A client's TLS: trust ``ca_pem``, present the client certificate when given (for tests' raw HTTP)."""
    ctx = ssl.create_default_context(cadata=ca_pem.decode("ascii"))
    if cert_pem and key_pem:
        fd, path = tempfile.mkstemp(prefix="kubesim-client-", suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(cert_pem + key_pem)
            ctx.load_cert_chain(path)
        finally:
            os.unlink(path)
    return ctx


def peer_identity(peercert: Optional[dict]) -> Optional[Tuple[str, List[str]]]:
    """(user, groups) from a verified client certificate: CN and the O values, as x509.go does."""
    if not peercert:
        return None
    cn, orgs = "", []
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                cn = value
            elif key == "organizationName":
                orgs.append(value)
    return (cn, orgs) if cn else None
