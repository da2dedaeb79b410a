"""Loading bundles and keys: every certificate in order, DER from files, clear errors, no key echo."""

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import (
    load_certificates, load_private_key,
)
from unit.x509_factory import key, make, mesh, pem


@pytest.fixture(scope="module")
def pki():
    root, inter = mesh()
    leaf = make("leaf.example", key("ec256", 2), issuer=inter, ca=False, sans=("leaf.example",))
    return root, inter, leaf


def _key_body(private_key_pem):
    """The base64 lines of a PEM key, which must never show up in a message."""
    return [line for line in private_key_pem.splitlines() if line and not line.startswith("-----")]


def test_every_certificate_in_order(pki):
    root, inter, leaf = pki
    certs = load_certificates(pem(leaf, inter, root), "content")
    assert [c.serial_number for c in certs] == [leaf.cert.serial_number, inter.cert.serial_number,
                                                root.cert.serial_number]


def test_text_around_blocks_and_bytes_input(pki):
    root, inter = pki[:2]
    data = ("subject=CN=Intermediate\n" + inter.pem + "\nsome note\n" + root.pem + "trailer").encode()
    assert len(load_certificates(data, "x")) == 2


def test_der_only_when_allowed(pki):
    inter = pki[1]
    assert load_certificates(inter.der, "file a.der", der_allowed=True)[0] == inter.cert
    with pytest.raises(X509Error, match="holds no PEM certificate"):
        load_certificates(inter.der, "content")


@pytest.mark.parametrize("data, fragment", [
    ("", "Content is empty"),
    ("   \n\t", "Content is empty"),
    ("hello, I am not a certificate", "no '-----BEGIN CERTIFICATE-----' line"),
])
def test_empty_and_garbage(data, fragment):
    with pytest.raises(X509Error) as err:
        load_certificates(data, "content")
    assert fragment in str(err.value)


def test_garbage_der_from_a_file():
    with pytest.raises(X509Error, match="neither PEM nor a DER-encoded X.509 certificate"):
        load_certificates(b"\x30\x82\x01\x00garbage", "file x.der", der_allowed=True)


def test_truncated_pem_without_end_line(pki):
    inter = pki[1]
    cut = inter.pem[: len(inter.pem) // 2]
    with pytest.raises(X509Error) as err:
        load_certificates(cut, "content")
    assert "truncated" in str(err.value) and "-----END CERTIFICATE-----" in str(err.value)


def test_truncated_pem_followed_by_another_block(pki):
    root, inter = pki[:2]
    cut = inter.pem[: len(inter.pem) // 2] + "\n" + root.pem
    with pytest.raises(X509Error, match="PEM block 1 .* has no '-----END CERTIFICATE-----' line"):
        load_certificates(cut, "content")


def test_damaged_body_with_end_line(pki):
    inter = pki[1]
    lines = inter.pem.splitlines()
    short = "\n".join(lines[:3] + lines[-1:]) + "\n"  # valid base64, DER cut short
    with pytest.raises(X509Error, match="certificate 1 is not a valid X.509 certificate"):
        load_certificates(short, "content")
    broken = inter.pem.replace(lines[2], lines[2][:-3] + "!!!")
    with pytest.raises(X509Error, match="base64 text of certificate 1 is damaged"):
        load_certificates(broken, "content")


@pytest.mark.parametrize("kind, fmt", [("rsa2048", "pkcs8"), ("rsa2048", "traditional"), ("ec256", "pkcs8"),
                                       ("ec256", "traditional"), ("ed25519", "pkcs8")])
def test_private_key_passed_as_certificate(kind, fmt):
    issued = make("k", key(kind, 0))
    key_pem = issued.key_pem(fmt)
    for data in (key_pem, issued.pem + key_pem):
        with pytest.raises(X509Error) as err:
            load_certificates(data, "content")
        msg = str(err.value)
        assert "holds a private key, not a certificate" in msg
        assert not any(line in msg for line in _key_body(key_pem))


def test_der_private_key_in_a_certificate_file():
    der_key = key("ec256").private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    with pytest.raises(X509Error, match="holds a private key \\(DER\\), not a certificate"):
        load_certificates(der_key, "file k.der", der_allowed=True)


def test_other_pem_kinds_are_named():
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
           .sign(key("ec256"), hashes.SHA256()))
    data = csr.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(X509Error, match="holds a CERTIFICATE REQUEST \\(PEM block 1\\), not a certificate"):
        load_certificates(data, "content")


@pytest.mark.parametrize("kind, fmt, first", [
    ("rsa2048", "traditional", "RSA PRIVATE KEY"),
    ("rsa2048", "pkcs8", "PRIVATE KEY"),
    ("ec256", "traditional", "EC PRIVATE KEY"),
    ("ec384", "pkcs8", "PRIVATE KEY"),
    ("ed25519", "pkcs8", "PRIVATE KEY"),
])
def test_keys_load_and_record_the_first_block(kind, fmt, first):
    issued = make("k", key(kind, 0))
    loaded = load_private_key(issued.key_pem(fmt), "tls.key")
    assert loaded.first_block == first
    assert loaded.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo) == \
        issued.cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    assert "PRIVATE" not in repr(loaded)


def test_ec_parameters_block_before_the_key_is_recorded():
    issued = make("k", key("ec256", 0))
    params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    loaded = load_private_key(params + issued.key_pem("traditional"), "tls.key")
    assert loaded.first_block == "EC PARAMETERS"


def test_der_key():
    der_key = key("ec256").private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    assert load_private_key(der_key, "file k.der").first_block is None


def test_bad_keys_never_echo_the_key(pki):
    inter = pki[1]
    good = inter.key_pem("pkcs8")
    body = _key_body(good)
    damaged = good.replace(body[1], body[1][::-1])
    cases = [
        ("", "is empty"),
        (inter.pem, "holds no private key (found: CERTIFICATE)"),
        (good[: len(good) // 2], "truncated"),
        (damaged, "does not hold a private key that can be parsed"),
        ("not a key at all", "neither a PEM nor a DER private key"),
    ]
    for data, fragment in cases:
        with pytest.raises(X509Error) as err:
            load_private_key(data, "Secret istio-system/cacerts key tls.key")
        assert fragment in str(err.value)
        assert not any(line in str(err.value) for line in body)


def test_encrypted_keys_are_refused():
    private_key = key("ec256")
    enc = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.BestAvailableEncryption(b"secret-pass"))
    with pytest.raises(X509Error, match="encrypted private key"):
        load_private_key(enc, "tls.key")
    legacy = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.BestAvailableEncryption(b"secret-pass"))
    if b"Proc-Type" in legacy:
        with pytest.raises(X509Error, match="encrypted private key"):
            load_private_key(legacy, "tls.key")


def test_base64_helper_roundtrip_guard():
    # A PEM body with RFC 1421 headers still decodes (headers are skipped).
    issued = make("h")
    lines = issued.pem.splitlines()
    with_headers = "\n".join([lines[0], "Comment: hello", ""] + lines[1:]) + "\n"
    assert load_certificates(with_headers, "content")[0] == issued.cert
    assert base64.b64decode("".join(lines[1:-1])) == issued.der
