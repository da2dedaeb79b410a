"""Chain analysis: order, issuers, CA flags, path length, validity, roots, key match."""

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.chain import analyze_chain, build_paths
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import fingerprint
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_private_key
from unit.x509_factory import DAY, NOW, key, make, mesh


@pytest.fixture(scope="module")
def pki():
    root, inter = mesh()
    leaf = make("leaf", key("ec256", 2), issuer=inter, ca=False)
    return root, inter, leaf


def certs(*issued):
    return [i.cert for i in issued]


def loaded(issued):
    return load_private_key(issued.key_pem(), "the key")


def test_good_bundle_ends_at_self_signed_root(pki):
    root, inter, leaf = pki
    chain = analyze_chain(certs(leaf, inter, root), None, loaded(leaf), NOW, source="content")
    assert chain["signed_by_next"] == [True, True, None]
    assert chain["in_order"] and chain["ends_at_root"]
    assert chain["root_fingerprint_sha256"] == fingerprint(root.cert)
    assert chain["root_source"] == "content"
    assert chain["key_matches"] is True
    assert chain["problems"] == []


def test_secret_layout_root_from_ca_crt(pki):
    root, inter = pki[:2]
    chain = analyze_chain(certs(inter), certs(root), loaded(inter), NOW, source="tls.crt", roots_source="ca.crt",
                          key_source="tls.key")
    assert chain["signed_by_next"] == [True]
    assert chain["ends_at_root"] and chain["root_source"] == "ca.crt"
    assert chain["root_subject"] == "CN=Root CA,O=meshpki-test"
    assert chain["root_in_bundle"] is False and chain["problems"] == []


def test_root_also_in_tls_crt(pki):
    root, inter = pki[:2]
    chain = analyze_chain(certs(inter, root), certs(root), None, NOW, source="tls.crt", roots_source="ca.crt")
    assert chain["root_in_bundle"] is True and chain["ends_at_root"] and chain["problems"] == []
    assert chain["key_matches"] is None


def test_no_root_at_all(pki):
    inter, leaf = pki[1:]
    chain = analyze_chain(certs(leaf, inter), None, None, NOW)
    assert chain["signed_by_next"] == [True, None]
    assert chain["ends_at_root"] is False and chain["root_fingerprint_sha256"] is None
    assert chain["problems"] == []


def test_wrong_order_says_which_certificate_signed_it(pki):
    root, inter, leaf = pki
    chain = analyze_chain(certs(leaf, root, inter), None, None, NOW, source="content")
    assert chain["signed_by_next"][0] is False and chain["in_order"] is False
    assert any("not signed by the certificate that follows it" in p and "but by certificate 3" in p
               and "order the bundle leaf first" in p for p in chain["problems"])
    assert chain["ends_at_root"] is False


def test_missing_issuer_is_named(pki):
    root, leaf = pki[0], pki[2]
    chain = analyze_chain(certs(leaf, root), None, None, NOW)
    assert chain["signed_by_next"][0] is False
    assert any('its issuer "CN=Intermediate CA,L=cluster-1,O=meshpki-test" is not in the input' in p
               for p in chain["problems"])


def test_same_name_different_key(pki):
    root, inter = pki[:2]
    impostor = make("Root CA", key("ec256", 9))  # same subject, other key
    chain = analyze_chain(certs(inter, impostor), None, None, NOW)
    assert any("different key pairs" in p for p in chain["problems"])


def test_ca_crt_that_did_not_issue_the_chain(pki):
    inter = pki[1]
    other_root = make("Other Root", key("ec256", 7))
    chain = analyze_chain(certs(inter), certs(other_root), None, NOW, source="tls.crt", roots_source="ca.crt")
    assert chain["signed_by_next"] == [False] and not chain["ends_at_root"]
    assert any("is not signed by ca.crt" in p for p in chain["problems"])


def test_ca_crt_holding_an_intermediate(pki):
    root, inter, leaf = pki
    chain = analyze_chain(certs(leaf), certs(inter), None, NOW, source="tls.crt", roots_source="ca.crt")
    assert chain["signed_by_next"] == [True] and chain["ends_at_root"] is False
    assert any("ca.crt holds" in p and "not self-signed" in p for p in chain["problems"])


def test_non_ca_intermediate(pki):
    root = pki[0]
    fake = make("Not A CA", key("ec256", 4), issuer=root, ca=False)
    leaf = make("leaf2", key("ec256", 5), issuer=fake, ca=False)
    chain = analyze_chain(certs(leaf, fake, root), None, None, NOW)
    assert chain["signed_by_next"] == [True, True, None]
    assert any("signs" in p and "is not a CA" in p for p in chain["problems"])


def test_path_length_exceeded():
    root = make("R", key("ec256", 0), pathlen=0)
    inter1 = make("I1", key("ec256", 1), issuer=root, pathlen=0)
    inter2 = make("I2", key("ec256", 2), issuer=inter1)
    chain = analyze_chain(certs(inter2, inter1, root), None, None, NOW)
    assert [p for p in chain["problems"] if "pathlen:0" in p and "1 CA certificate(s)" in p]
    ok = analyze_chain(certs(inter1, root), None, None, NOW)
    assert ok["problems"] == []


def test_expired_and_not_yet_valid(pki):
    root = pki[0]
    old = make("old", key("ec256", 4), issuer=root, not_before=NOW - 30 * DAY, not_after=NOW - 2 * DAY)
    new = make("new", key("ec256", 5), issuer=root, not_before=NOW + 2 * DAY, not_after=NOW + 9 * DAY)
    chain = analyze_chain(certs(old, root), None, None, NOW)
    assert any("expired at" in p and "renew it" in p for p in chain["problems"])
    chain = analyze_chain(certs(new, root), None, None, NOW)
    assert any("is not valid before" in p for p in chain["problems"])


def test_key_mismatch_points_at_the_matching_certificate(pki):
    root, inter, leaf = pki
    chain = analyze_chain(certs(leaf, inter, root), None, loaded(inter), NOW, source="content",
                          key_source="tls.key")
    assert chain["key_matches"] is False
    assert any("tls.key does not belong to the first certificate" in p and "certificate 2" in p
               for p in chain["problems"])
    stranger = make("x", key("ec256", 8))
    chain = analyze_chain(certs(leaf), None, loaded(stranger), NOW)
    assert chain["key_matches"] is False
    assert any("belongs to none of the certificates" in p for p in chain["problems"])


def test_build_paths_finds_issuers_in_any_order(pki):
    root, inter, leaf = pki
    paths = build_paths(leaf.cert, [root.cert, inter.cert], [root.cert])
    assert paths == [[leaf.cert, inter.cert, root.cert]]
    assert build_paths(leaf.cert, [], [root.cert]) == []
    assert build_paths(root.cert, [], [root.cert]) == [[root.cert]]


def _v1_root():
    """A self-signed X.509 v1 root (no version field, no extensions), re-signed after dropping the version.

    cryptography's builder only writes v3, so the TBS is rebuilt with x509_der and signed again."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509 import der as x509_der
    from unit.x509_factory import Issued
    private = key("ec256", 5)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "V1 Root")])
    v3 = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
          .serial_number(4242).not_valid_before(NOW - DAY).not_valid_after(NOW + 30 * DAY)
          .sign(private, hashes.SHA256()))
    fields = x509_der.CertFields(v3.public_bytes(serialization.Encoding.DER))
    tbs = fields.tbs(version=None, extensions=[])
    signature = private.sign(tbs, ec.ECDSA(hashes.SHA256()))
    der = x509_der.encode(0x30, tbs + fields.outer_signature_algorithm + x509_der.encode(0x03, b"\x00" + signature))
    cert = x509.load_der_x509_certificate(der)
    assert cert.version == x509.Version.v1
    return Issued(cert, private)


def test_v1_root_is_a_valid_trust_anchor():
    """Go's Verify checks CA flags of intermediates only and CheckSignatureFrom accepts a v1 parent
    (golang/go src/crypto/x509/verify.go isValid, x509.go CheckSignatureFrom); OpenSSL accepts a
    self-signed v1 root too. So a chain ending at one must not be reported as rejected."""
    import os
    import shutil
    import subprocess
    import tempfile
    root = _v1_root()
    inter = make("Intermediate CA", key("ec256", 6), issuer=root)
    for chain in (analyze_chain(certs(inter), certs(root), None, NOW, source="tls.crt", roots_source="ca.crt"),
                  analyze_chain(certs(inter, root), None, None, NOW, source="content")):
        assert chain["ends_at_root"] is True
        assert not [p for p in chain["problems"] if "not a CA" in p], chain["problems"]
    if shutil.which("openssl"):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "root.pem"), "w") as handle:
                handle.write(root.pem)
            with open(os.path.join(tmp, "inter.pem"), "w") as handle:
                handle.write(inter.pem)
            out = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(tmp, "root.pem"),
                                  os.path.join(tmp, "inter.pem")], capture_output=True, text=True, check=False)
            assert out.returncode == 0, out.stdout + out.stderr


def test_v1_certificate_as_an_intermediate_is_still_refused():
    """Go requires basicConstraints CA:TRUE of every intermediate; a v1 certificate has none."""
    root = make("Root CA", key("ec256", 0))
    v1 = _v1_root()
    leaf = make("leaf", key("ec256", 7), issuer=v1, ca=False)
    chain = analyze_chain(certs(leaf, v1), certs(root), None, NOW, source="tls.crt", roots_source="ca.crt")
    assert chain["problems"]


def test_v1_root_in_ca_crt_is_istio_ready():
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509 import istio_requirements as x509_istio
    root = _v1_root()
    inter = make("Intermediate CA", key("ec256", 6), issuer=root)
    names = {"cert": "tls.crt", "key": "tls.key", "root": "ca.crt"}
    inp = x509_istio.IstioInput([inter.cert], [inter.cert, root.cert], [root.cert], loaded(inter), names,
                                layout="kubernetes.io/tls")
    ready, problems, _warnings = x509_istio.check(inp, NOW)
    assert ready, problems
