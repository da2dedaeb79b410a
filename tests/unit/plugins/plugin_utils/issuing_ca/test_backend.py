"""issuing_ca's backend: keep, create, rotate a cluster's issuing CA; refuse a signer that cannot work.

The Kubernetes API is a small in-memory stand-in (get/apply of one Secret path); certificates and keys
are made here with ``cryptography``. What is asserted is what a user sees: the Secret's contents, the
result, and that no key material is in the result.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.issuing_ca.backend import ensure

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC)
PATH = "/api/v1/namespaces/cert-manager/secrets/meshpki-istio-issuing-ca"


class FakeApi:
    """GET and server-side apply of Secrets by path."""

    def __init__(self):
        self.objects = {}
        self.applies = 0

    def get_or_none(self, path):
        return copy.deepcopy(self.objects.get(path))

    def apply(self, path, obj, field_manager, force=False, dry_run=False):
        assert field_manager == "meshpki-istio-ca" and force and not dry_run
        self.applies += 1
        self.objects[path] = copy.deepcopy(obj)
        return obj


def make_ca(name, signer=None, path_length=None, days=3650, is_ca=True):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_cert, issuer_key = (signer if signer else (None, key))
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(hours=1))
               .not_valid_after(NOW + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=path_length), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    return builder.sign(issuer_key, hashes.SHA256()), key


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def root():
    return make_ca("Fleet Root")


def params(**over):
    base = dict(root_cert="root.pem", root_key="root.key", cluster_name="cluster-1", common_name="Issuing CA",
                organization="Istio", duration="8760h", min_remaining="1440h", path_length=1,
                key_algorithm="ECDSA", key_size=256, secret_name="meshpki-istio-issuing-ca",
                namespace="cert-manager", rotate=False, field_manager="meshpki-istio-ca")
    base.update(over)
    return base


def files(cert_bytes, key_bytes):
    return {"root.pem": cert_bytes, "root.key": key_bytes}.__getitem__


def run(api, signer, check_mode=False, **over):
    cert, key = signer
    return ensure(params(**over), check_mode, files(pem(cert), key_pem(key)), client_factory=lambda: api)


def secret_certs(api, key):
    return x509.load_pem_x509_certificates(base64.b64decode(api.objects[PATH]["data"][key]))


def secret_key(api):
    return serialization.load_pem_private_key(base64.b64decode(api.objects[PATH]["data"]["tls.key"]), None)


def test_creates_an_issuing_ca_signed_by_the_root(root):
    api = FakeApi()
    started = datetime.datetime.now(UTC)
    result = run(api, root)
    ended = datetime.datetime.now(UTC)
    assert result["changed"] and result["outcome"] == "created" and api.applies == 1
    issuing, rest = secret_certs(api, "tls.crt")[0], secret_certs(api, "tls.crt")[1:]
    assert rest == [root[0]] and secret_certs(api, "ca.crt") == [root[0]]
    issuing.verify_directly_issued_by(root[0])
    bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 1
    ku = issuing.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign
    assert issuing.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)[0].value == "cluster-1"
    aki = issuing.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == root[0].extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    # One year from the moment it was made (measured around the call: a loaded machine may run this test
    # minutes after the module's NOW).
    year = datetime.timedelta(hours=8760)
    assert started + year - datetime.timedelta(minutes=1) <= issuing.not_valid_after_utc <= ended + year + datetime.timedelta(seconds=1)
    assert secret_key(api).public_key() == issuing.public_key()
    assert result["issuing_ca"]["serial_hex"] == "%x" % issuing.serial_number
    text = json.dumps(result)
    assert "PRIVATE KEY" not in text and api.objects[PATH]["data"]["tls.key"] not in text


def test_second_run_keeps_it_and_writes_nothing(root):
    api = FakeApi()
    first = run(api, root)
    again = run(api, root)
    assert again["changed"] is False and again["outcome"] == "kept" and api.applies == 1
    assert again["issuing_ca"]["serial_hex"] == first["issuing_ca"]["serial_hex"]


def test_each_cluster_gets_its_own_key(root):
    a, b = FakeApi(), FakeApi()
    run(a, root, cluster_name="cluster-1")
    run(b, root, cluster_name="cluster-2")
    assert secret_key(a).public_key() != secret_key(b).public_key()


def test_check_mode_reads_only(root):
    api = FakeApi()
    result = run(api, root, check_mode=True)
    assert result["changed"] and result["outcome"] == "created" and api.applies == 0 and PATH not in api.objects


def test_a_secret_that_cannot_be_kept_fails_before_any_write(root):
    api = FakeApi()
    other = make_ca("Other Root")
    run(api, other)
    with pytest.raises(CollectionError) as err:
        run(api, root)
    assert "not signed by the offline root" in str(err.value) and "ca_rotation_issuing_ca=true" in str(err.value)
    assert api.applies == 1


def test_an_expiring_issuing_ca_is_not_kept(root):
    api = FakeApi()
    run(api, root, duration="2000h")
    assert run(api, root, min_remaining="1999h")["outcome"] == "kept"
    with pytest.raises(CollectionError, match="expires at"):
        run(api, root, min_remaining="2001h")
    assert api.applies == 1


def test_rotate_replaces_key_and_records_the_previous_serial(root):
    api = FakeApi()
    first = run(api, root)
    old_key = secret_key(api).public_key()
    rotated = run(api, root, rotate=True)
    assert rotated["outcome"] == "rotated" and rotated["previous_issuing_ca"] == first["issuing_ca"]
    assert secret_key(api).public_key() != old_key
    annotations = api.objects[PATH]["metadata"]["annotations"]
    assert annotations["meshpki.istio-ca/previous-issuing-ca-serial"] == first["issuing_ca"]["serial_hex"]
    assert base64.b64decode(api.objects[PATH]["data"]["ca.crt"]) == pem(root[0])


def test_offline_intermediate_signer_chain_goes_into_tls_crt(root):
    mid = make_ca("Offline Intermediate", signer=root, path_length=2)
    api = FakeApi()
    result = ensure(params(), False, files(pem(mid[0]) + pem(root[0]), key_pem(mid[1])), client_factory=lambda: api)
    assert result["changed"]
    assert secret_certs(api, "tls.crt")[1:] == [mid[0], root[0]] and secret_certs(api, "ca.crt") == [root[0]]


@pytest.mark.parametrize("case,message", [
    ("not_a_ca", "is not a CA"),
    ("wrong_key", "does not belong to the first certificate"),
    ("pathlen_zero", "pathlen:0 leaves no room"),
    ("short_root", "expires before an issuing CA of this duration"),
    ("no_root", "does not end with the self-signed root"),
])
def test_signer_refusals(root, case, message):
    api = FakeApi()
    if case == "not_a_ca":
        cert, key = make_ca("Leaf", is_ca=False)
    elif case == "wrong_key":
        cert, key = root[0], make_ca("Other")[1]
    elif case == "pathlen_zero":
        cert, key = make_ca("Strict Root", path_length=0)
    elif case == "short_root":
        cert, key = make_ca("Short Root", days=100)
    else:
        cert, key = make_ca("Intermediate", signer=root)
    with pytest.raises(CollectionError, match=message):
        ensure(params(), False, files(pem(cert), key_pem(key)), client_factory=lambda: api)
    assert api.applies == 0


@pytest.mark.parametrize("over,message", [
    (dict(min_remaining="8760h"), "must be shorter than duration"),
    (dict(path_length=0), "path_length must be at least 1"),
    (dict(key_size=521), "use ECDSA 256/384"),
    (dict(duration="365d"), "unknown unit"),
])
def test_bad_options_fail_before_reading_anything(over, message):
    def no_files(path):
        raise AssertionError("read %s" % path)
    with pytest.raises(CollectionError, match=message):
        ensure(params(**over), False, no_files, client_factory=lambda: pytest.fail("no client expected"))
