"""istiod's signing-CA rules (docs/upstream/istiod.md#signing-ca-requirements) on bundles made here."""

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.istio_requirements import IstioInput, check
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_private_key
from unit.x509_factory import CLIENT_AUTH, DAY, NOW, SERVER_AUTH, key, make, mesh

TLS = {"cert": "tls.crt", "key": "tls.key", "root": "ca.crt"}


def tls_input(signing, roots, key_issued=None, key_pem=None, missing=()):
    """What istiod reads from a kubernetes.io/tls cacerts: chain = tls.crt + ca.crt."""
    signing = [i.cert for i in signing]
    roots = [i.cert for i in roots] if roots is not None else None
    loaded = None
    if key_pem is not None or key_issued is not None:
        loaded = load_private_key(key_pem or key_issued.key_pem("traditional"), "tls.key")
    return IstioInput(signing, signing + (roots or []), roots, loaded, dict(TLS), missing, "kubernetes.io/tls")


def run(inp):
    ready, problems, warnings = check(inp, NOW)
    assert ready == (not problems)
    return problems, warnings


@pytest.mark.parametrize("kind", ["rsa2048", "ec256", "ec384"])
def test_supported_key_types_are_ready(kind):
    root, inter = mesh(kind)
    problems, warnings = run(tls_input([inter], [root], inter))
    assert problems == [] and warnings == []


def test_ed25519_is_refused_with_the_reason():
    root, inter = mesh("ed25519")
    problems = run(tls_input([inter], [root], inter, key_pem=inter.key_pem("pkcs8")))[0]
    assert len(problems) == 1
    text = problems[0]
    assert "Ed25519 key" in text and "cannot use as its CA key" in text
    assert "only handles RSA and ECDSA" in text and "#27238" in text and "ECDSA P-256/P-384" in text


def test_p521_is_a_warning_other_curves_a_problem():
    root, inter = mesh("ec521", root_kind="ec256")
    problems, warnings = run(tls_input([inter], [root], inter))
    assert problems == [] and any("P-521" in w for w in warnings)
    odd = make("Odd Curve", key("secp256k1", 1), issuer=root, pathlen=0)
    problems = run(tls_input([odd], [root], odd))[0]
    assert any("secp256k1" in p for p in problems)


def test_small_rsa_key_warns():
    root, inter = mesh("rsa1024", root_kind="rsa2048")
    problems, warnings = run(tls_input([inter], [root], inter))
    assert problems == [] and any("1024 bits" in w for w in warnings)


def test_signing_cert_must_be_a_ca_and_first():
    root, inter = mesh()
    leaf = make("leaf", key("ec256", 2), issuer=inter, ca=False)
    problems = run(tls_input([leaf, inter], [root], leaf))[0]
    text = " ".join(problems)
    assert "is not a CA" in text and "certificate is not authorized to sign other certificates" in text
    assert "Certificate 2 in tls.crt" in text and "put it first" in text


@pytest.mark.parametrize("ekus, ok, fragment", [
    ([SERVER_AUTH, CLIENT_AUTH], True, None),
    ([CLIENT_AUTH], False, "incompatible key usage"),
    ([SERVER_AUTH], False, "#27193"),
])
def test_eku_rules_on_the_intermediate(ekus, ok, fragment):
    root = make("Root CA", key("ec256", 0))
    inter = make("Intermediate CA", key("ec256", 1), issuer=root, pathlen=0, eku=ekus)
    problems = run(tls_input([inter], [root], inter))[0]
    assert (problems == []) is ok
    if fragment:
        assert len(problems) == 1 and fragment in problems[0]
        if fragment == "#27193":
            assert "without clientAuth" in problems[0] and "mTLS client" in problems[0]
        else:
            assert "without serverAuth" in problems[0] and "Go's x509" in problems[0]


def test_eku_rule_applies_to_the_root_too():
    root = make("Root CA", key("ec256", 0), eku=[CLIENT_AUTH])
    inter = make("Intermediate CA", key("ec256", 1), issuer=root, pathlen=0)
    problems = run(tls_input([inter], [root], inter))[0]
    assert any("Root CA" in p and "without serverAuth" in p for p in problems)


def test_expired_intermediate_and_not_yet_valid_root():
    root = mesh()[0]
    old = make("Intermediate CA", key("ec256", 1), issuer=root, pathlen=0, not_before=NOW - 90 * DAY,
               not_after=NOW - DAY)
    problems = run(tls_input([old], [root], old))[0]
    assert any("signing certificate" in p and "expired at" in p for p in problems)
    late_root = make("Root CA", key("ec256", 0), not_before=NOW + DAY, not_after=NOW + 99 * DAY)
    inter = make("Intermediate CA", key("ec256", 1), issuer=late_root, pathlen=0)
    problems = run(tls_input([inter], [late_root], inter))[0]
    assert any("its issuer" in p and "is not valid before" in p for p in problems)


def test_path_length_of_the_root():
    root = make("Root CA", key("ec256", 0), pathlen=0)
    mid = make("Mid CA", key("ec256", 1), issuer=root, pathlen=1)
    sign = make("Signing CA", key("ec256", 2), issuer=mid, pathlen=0)
    problems = run(tls_input([sign, mid], [root], sign))[0]
    assert any("pathlen:0" in p and "Root CA" in p for p in problems)


def test_non_ca_in_the_middle():
    root = make("Root CA", key("ec256", 0))
    mid = make("Mid", key("ec256", 1), issuer=root, ca=False)
    sign = make("Signing CA", key("ec256", 2), issuer=mid, pathlen=0)
    problems = run(tls_input([sign, mid], [root], sign))[0]
    assert any("used as an intermediate but is not a CA" in p for p in problems)


def test_no_path_to_ca_crt():
    root, inter = mesh()
    other = make("Other Root", key("ec256", 6))
    problems = run(tls_input([inter], [other], inter))[0]
    assert any("cannot verify the signing certificate" in p for p in problems)


def test_key_mismatch_and_key_block_type():
    root, inter = mesh()
    problems = run(tls_input([inter], [root], root))[0]
    assert any("does not match the signing certificate" in p for p in problems)
    params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    problems = run(tls_input([inter], [root], key_pem=params + inter.key_pem("traditional")))[0]
    assert len(problems) == 1 and "'EC PARAMETERS' block" in problems[0] and "unsupported PEM block type" in problems[0]


def test_missing_secret_keys_are_problems():
    root, inter = mesh()
    problems = run(tls_input([inter], None, inter, missing=("Secret x/y has no ca.crt ...",)))[0]
    assert problems == ["Secret x/y has no ca.crt ..."]


def test_root_in_tls_crt_warns_and_missing_cert_sign_warns():
    root, inter = mesh()
    problems, warnings = run(tls_input([inter, root], [root], inter))
    assert problems == [] and any("receive the root twice" in w for w in warnings)
    weak = make("Intermediate CA", key("ec256", 1), issuer=root, pathlen=0, key_usage="ca-no-certsign")
    problems, warnings = run(tls_input([weak], [root], weak))
    assert problems == [] and any("keyCertSign" in w for w in warnings)


def test_bundle_without_root_or_key():
    inter = mesh()[1]
    inp = IstioInput([inter.cert], [inter.cert], [], None,
                     {"cert": "content", "key": "the private key", "root": "the last certificate"}, (), "bundle")
    ready, problems, warnings = check(inp, NOW)
    assert not ready and any("does not end with a self-signed root" in p for p in problems)
    assert any("No private key was given" in w for w in warnings)
