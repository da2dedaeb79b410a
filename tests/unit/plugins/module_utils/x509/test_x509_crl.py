"""istiod's CRL rule (istio security/pkg/pki/util/keycertbundle.go Verify, 1.27+) on generated CAs."""

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.crl import istiod_crl_error, parse_istio_version
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error
from unit.x509_factory import DAY, NOW, key, make


def crl(issued):
    built = (x509.CertificateRevocationListBuilder().issuer_name(issued.cert.subject)
             .last_update(NOW - DAY).next_update(NOW + DAY).sign(issued.key, hashes.SHA256()))
    return built.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def cas():
    root = make("Root CA", key("ec256", 0), org="Istio")
    inter = make("Intermediate CA", key("ec256", 1), issuer=root, org="Istio")
    return root, inter


def test_every_chain_ca_signed_a_crl(cas):
    root, inter = cas
    assert istiod_crl_error(crl(root) + crl(inter), [inter.cert, root.cert], "ca-crl.pem") is None


def test_missing_signers_in_go_name_form(cas):
    root, inter = cas
    other = make("Other", key("ec256", 2), org="Istio")
    assert istiod_crl_error(crl(other), [inter.cert, root.cert], "ca-crl.pem") == \
        "missing CRL signed by certificates: [CN=Intermediate CA,O=Istio CN=Root CA,O=Istio]"


def test_empty_file_is_no_crl_and_empty_chain_needs_none(cas):
    root, inter = cas
    assert istiod_crl_error(b"", [inter.cert, root.cert], "ca-crl.pem") is None  # `len(crl) != 0`
    assert istiod_crl_error(crl(make("Other", key("ec256", 2))), [], "ca-crl.pem") is None  # no signers


def test_text_without_a_crl_block_misses_every_signer(cas):
    root, inter = cas
    assert istiod_crl_error(b"\n", [inter.cert], "ca-crl.pem") == \
        "missing CRL signed by certificates: [CN=Intermediate CA,O=Istio]"


def test_a_block_that_is_not_a_crl_fails_to_parse(cas):
    root, _inter = cas
    error = istiod_crl_error(root.pem.encode(), [root.cert], "ca-crl.pem")
    assert error.startswith("failed to parse CRL PEM")


def test_a_ca_without_crl_sign_cannot_have_signed_it():
    """Go's RevocationList.CheckSignatureFrom refuses a parent whose keyUsage lacks cRLSign."""
    no_crl_sign = make("No CRL Sign", key("ec256", 3), key_usage=None, org="Istio")
    ku = x509.KeyUsage(True, False, False, False, False, True, False, False, False)
    builder = (x509.CertificateBuilder().subject_name(no_crl_sign.cert.subject).issuer_name(no_crl_sign.cert.subject)
               .public_key(no_crl_sign.key.public_key()).serial_number(5).not_valid_before(NOW - DAY)
               .not_valid_after(NOW + DAY).add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
               .add_extension(ku, True))
    cert = builder.sign(no_crl_sign.key, hashes.SHA256())
    assert istiod_crl_error(crl(no_crl_sign), [cert], "ca-crl.pem") == \
        "missing CRL signed by certificates: [CN=No CRL Sign,O=Istio]"


@pytest.mark.parametrize("text, want", [("1.27", (1, 27, 0)), ("v1.27.1", (1, 27, 1)),
                                        ("1.27.0-beta.0", (1, 27, 0)), (None, None)])
def test_istio_version(text, want):
    assert parse_istio_version(text) == want


def test_bad_istio_version_is_refused():
    with pytest.raises(X509Error, match="not an Istio version"):
        parse_istio_version("latest")
