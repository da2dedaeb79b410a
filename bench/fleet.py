"""A benchmark fleet: kubesim clusters in this process plus one shared root CA on disk.

kubesim runs in the benchmark's own process so each cluster's request log can be read
directly; the clusters still serve real HTTP on 127.0.0.1, and Ansible and kubectl
reach them through the kubeconfig like any cluster. One root CA (ECDSA P-256, made
here) is given to every cluster through ``ca_setup_trust_source: ca_keypair``, as a
multi-cluster mesh needs.
"""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

ISTIO_VERSION = os.environ.get("BENCH_ISTIO_VERSION", "1.22.3")


def make_root_ca(directory):
    """Write root-cert.pem / root-key.pem (0600) for ca_keypair; return their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "meshpki bench"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Bench Root CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(directory, "root-cert.pem")
    key_path = os.path.join(directory, "root-key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


def start_fleet(clusters, workdir, propagation_delay):
    """A started kubesim Fleet with cert-manager and istiod preinstalled."""
    from kubesim import Fleet  # imported late: kubesim is test infrastructure, only needed here
    fleet = Fleet(n_clusters=clusters, workdir=workdir, preinstall=("cert-manager", "istio"),
                  istio_version=ISTIO_VERSION, propagation_delay=propagation_delay)
    fleet.start()
    return fleet


def deploy_vars(root_cert, root_key):
    """Extra vars for deploy.yml on a preinstalled fleet with one shared root."""
    return {
        "cert_manager_install": "existing",
        "istio_install": "existing",
        "ca_setup_trust_source": "ca_keypair",
        "ca_setup_ca_cert": root_cert,
        "ca_setup_ca_key": root_key,
        "ca_setup_key_algorithm": "ECDSA",
        "ca_setup_key_size": "256",
    }
