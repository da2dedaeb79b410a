"""ca_keypair and the root key (issue 20): a self-signed root key pair is refused unless explicitly accepted.

What must hold: with a root key pair and no ``ca_setup_allow_root_key_in_cluster`` the run fails in
preflight, naming offline_root, before anything changes; with an intermediate key pair of the site's PKI
(intermediate first, then the root) deploy works as before and warns of nothing; with the opt-in the root
is accepted and every run warns, naming the Secret that now holds the root key.
"""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deploy_support import check_cacerts, deploy, diff_resource_versions, fleet_resource_versions
from kubesim import Fleet

pytestmark = pytest.mark.slow

REFUSAL = "Refuse a self-signed root key pair in the clusters unless explicitly accepted"
WARNING = "Warn that the fleet's root private key is being kept in this cluster"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("fleet"), preinstall=("cert-manager", "istio"),
                  propagation_delay=1.0)
    fleet.start()
    yield fleet
    fleet.stop()


def write_intermediate(root_cert_path, root_key_path, directory):
    """An intermediate CA of the 'site PKI' signed by the test root: file = intermediate + root."""
    root = x509.load_pem_x509_certificate(root_cert_path.read_bytes())
    root_key = serialization.load_pem_private_key(root_key_path.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Site Intermediate")]))
            .issuer_name(root.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1000))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "intermediate.pem", directory / "intermediate.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + root_cert_path.read_bytes())
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def keypair_vars(cert_path, key_path, **extra):
    return {"ca_setup_trust_source": "ca_keypair", "cert_manager_install": "existing",
            "ca_setup_ca_cert": str(cert_path), "ca_setup_ca_key": str(key_path), **extra}


def test_root_key_pair_is_refused_before_any_change(fleet, inputs):
    before = fleet_resource_versions(fleet)
    result = deploy(fleet, keypair_vars(inputs["root"].cert_path, inputs["root"].key_path))
    assert result.rc != 0
    failed = result.failed_tasks()
    assert [n.split(" : ")[-1] for n, _h, _m in failed] == [REFUSAL], result.explain()
    assert "offline_root" in failed[0][2] and "ca_setup_allow_root_key_in_cluster" in failed[0][2]
    changed = diff_resource_versions(before, fleet_resource_versions(fleet))
    assert not [c for c in changed if c[1] not in ("coordination.k8s.io/leases", "/events")], changed


def test_intermediate_key_pair_deploys_without_warning(fleet, inputs, tmp_path):
    cert_path, key_path = write_intermediate(inputs["root"].cert_path, inputs["root"].key_path, tmp_path)
    result = deploy(fleet, keypair_vars(cert_path, key_path))
    assert result.rc == 0, result.explain()
    warned = result.task_results(WARNING)
    assert all(r.get("skipped") for r in warned.values()), warned
    root = check_cacerts(fleet.clusters[0])[1]
    assert root == inputs["root"].cert


def test_root_key_pair_with_opt_in_warns_on_every_run(fleet, inputs):
    variables = keypair_vars(inputs["root"].cert_path, inputs["root"].key_path,
                             ca_setup_allow_root_key_in_cluster=True)
    for run in (1, 2):
        result = deploy(fleet, variables)
        assert result.rc == 0, (run, result.explain())
        warned = result.task_results(WARNING)
        assert sorted(warned) == ["cluster-1"], (run, warned)
        msg = warned["cluster-1"]["msg"]
        assert msg.startswith("WARNING") and "cert-manager/meshpki-istio-root-ca" in msg, msg
