"""x509_inspect end to end through main(): module args in, JSON result out (kubernetes.core's stdin style).

Secrets come from the unit tests' one fake API (unit.fake_api) served over HTTP, answering the one GET
the module makes, so the real K8sClient path runs. Every result is checked for key material.
"""

import base64
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.meshpki.istio_ca.plugins.modules import x509_inspect
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError
from unit.fake_api import FakeApi
from unit.x509_factory import DAY, NOW, key, make, mesh, pem

K8S_ENV = ("K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "KUBECONFIG",
           "K8S_AUTH_PROXY", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


@pytest.fixture(scope="module")
def pki():
    root, inter = mesh("ec256")
    return root, inter


def put(api, name, data, namespace="istio-system", type_="kubernetes.io/tls"):
    """Store a Secret (values base64-encoded as the API returns them) for the module's GET."""
    encoded = dict((k, base64.b64encode(v.encode() if isinstance(v, str) else v).decode()) for k, v in data.items())
    api.on("GET", "/api/v1/namespaces/%s/secrets/%s" % (namespace, name),
           {"apiVersion": "v1", "kind": "Secret", "type": type_,
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": "42"}, "data": encoded})


def missing_secret(match, body, query):
    return K8sApiError(404, "NotFound", 'secrets "%s" not found' % match.group("name"),
                       {"name": match.group("name"), "kind": "secrets"}, "GET")


@pytest.fixture
def api(monkeypatch):
    """The one fake API, served over HTTP: the module runs its real K8sClient against api.url."""
    for var in K8S_ENV:
        monkeypatch.delenv(var, raising=False)
    fake = FakeApi()
    fake.route("GET", r"/api/v1/namespaces/[^/]+/secrets/(?P<name>[^/]+)", missing_secret)
    fake.url = fake.serve()
    yield fake
    fake.stop()


def run_module(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            x509_inspect.main()
    out = capsys.readouterr().out
    result = json.loads(out)
    result["_rc"] = exc.value.code
    result["_raw"] = out
    return result


def secret_fragments(private_key):
    """Forms in which the secret part of a key could leak: raw scalars as hex, colon hex, base64, decimal."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        numbers = [private_key.private_numbers().private_value]
    elif isinstance(private_key, rsa.RSAPrivateKey):
        n = private_key.private_numbers()
        numbers = [n.d, n.p, n.q]
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        numbers = [int.from_bytes(private_key.private_bytes_raw(), "big")]
    else:
        raise AssertionError("unexpected key type")
    fragments = []
    for number in numbers:
        raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
        fragments += [raw.hex(), raw.hex().upper(), ":".join("%02x" % b for b in raw),
                      base64.b64encode(raw).decode()[:24], str(number)]
    return fragments


def assert_no_key_material(result, *issued):
    raw = result["_raw"]
    assert "PRIVATE KEY" not in raw
    for item in issued:
        for fragment in secret_fragments(item.key):
            assert fragment not in raw
        for fmt in ("pkcs8", "traditional"):
            try:
                key_pem = item.key_pem(fmt)
            except ValueError:
                continue
            assert base64.b64encode(key_pem.encode()).decode()[:40] not in raw  # as stored in Secret data
            body = "".join(line for line in key_pem.splitlines() if not line.startswith("-----"))
            assert body[:48] not in raw


def secret_args(api, name="cacerts", namespace="istio-system", **extra):
    args = {"secret": {"name": name, "namespace": namespace}, "host": api.url, "api_key": "test-token"}
    args.update(extra)
    return args


# -- content and path ----------------------------------------------------------------------------------


def test_content_bundle_with_key_is_istio_ready(pki, capsys):
    root, inter = pki
    res = run_module({"content": pem(inter, root), "private_key_content": inter.key_pem(),
                      "istio_signing_ca": True, "valid_at": {"soon": "+2w", "past": "20000101000000Z"},
                      "min_remaining": "360h"}, capsys)
    assert res["_rc"] == 0 and res["changed"] is False
    subjects = [c["subject"] for c in res["certificates"]]
    assert subjects == ["CN=Intermediate CA,L=cluster-1,O=meshpki-test", "CN=Root CA,O=meshpki-test"]
    assert res["certificates"][0]["serial_hex"] == format(inter.cert.serial_number, "x")
    assert res["chain"]["signed_by_next"] == [True, None] and res["chain"]["ends_at_root"] is True
    assert res["chain"]["key_matches"] is True
    assert res["valid_at"] == {"soon": True, "past": False}
    assert res["min_remaining_ok"] is True and res["min_remaining_seconds"] == 360 * 3600
    assert res["istio_ready"] is True and res["istio_problems"] == []
    assert_no_key_material(res, inter, root)


def test_check_mode_gives_the_same_read_only_result(pki, capsys):
    root, inter = pki
    args = {"content": pem(inter, root), "istio_signing_ca": True}
    normal = run_module(args, capsys)
    checked = run_module(dict(args, _ansible_check_mode=True), capsys)
    assert checked["_rc"] == 0 and checked["changed"] is False
    assert checked["certificates"] == normal["certificates"] or \
        [c["fingerprint_sha256"] for c in checked["certificates"]] == \
        [c["fingerprint_sha256"] for c in normal["certificates"]]
    assert checked["istio_ready"] == normal["istio_ready"]


def test_path_der_and_pem(pki, tmp_path, capsys):
    root, inter = pki
    der = tmp_path / "inter.der"
    der.write_bytes(inter.der)
    res = run_module({"path": str(der)}, capsys)
    assert res["_rc"] == 0 and len(res["certificates"]) == 1
    assert res["source"] == {"kind": "path", "secret": None}
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(pem(inter, root))
    keyfile = tmp_path / "key.pem"
    keyfile.write_text(root.key_pem())
    res = run_module({"path": str(bundle), "private_key_path": str(keyfile), "istio_signing_ca": True}, capsys)
    assert res["chain"]["key_matches"] is False and res["istio_ready"] is False
    assert any("does not match the signing certificate" in p for p in res["istio_problems"])
    assert_no_key_material(res, root, inter)


def test_min_remaining_names_the_short_certificate(capsys):
    root = make("Root CA", key("ec256", 0))
    short = make("Short CA", key("ec256", 1), issuer=root, pathlen=0, not_after=NOW + 5 * DAY)
    res = run_module({"content": pem(short, root), "min_remaining": "360h"}, capsys)
    assert res["min_remaining_ok"] is False
    assert any("Short CA" in p and "less than min_remaining 360h" in p for p in res["chain"]["problems"])
    assert res["expires_first"]["subject"].startswith("CN=Short CA")


def test_auth_options_are_accepted_without_a_secret(pki, capsys):
    """Group membership (module_defaults for group/meshpki.istio_ca.k8s) needs every auth option."""
    root = pki[0]
    res = run_module({"content": root.pem, "kubeconfig": "/nonexistent/kubeconfig", "context": "c1",
                      "validate_certs": False, "api_key": "x", "host": "https://127.0.0.1:1",
                      "impersonate_groups": ["g"], "no_proxy": "localhost"}, capsys)
    assert res["_rc"] == 0 and res["certificates"][0]["self_signed"] is True


@pytest.mark.parametrize("args_maker, fragment", [
    (lambda t, p: {"content": ""}, "Content is empty"),
    (lambda t, p: {}, "one of the following is required: path, content, secret"),
    (lambda t, p: {"content": "   \n"}, "Content is empty"),
    (lambda t, p: {"content": "garbage, not PEM"}, "holds no PEM certificate"),
    (lambda t, p: {"content": p[1].pem[:300]}, "truncated"),
    (lambda t, p: {"content": p[1].key_pem()}, "holds a private key, not a certificate"),
    (lambda t, p: {"content": p[1].pem + p[1].key_pem("traditional")}, "holds a private key, not a certificate"),
    (lambda t, p: {"path": str(t / "missing.pem")}, "missing.pem does not exist"),
    (lambda t, p: {"path": str(_write(t / "bad.der", b"\x30\x03\x02\x01"))}, "neither PEM nor a DER-encoded"),
    (lambda t, p: {"path": str(_write(t / "empty.pem", b""))}, "is empty"),
    (lambda t, p: {"content": p[0].pem, "min_remaining": "30d"}, 'unknown unit "d" in duration "30d"'),
    (lambda t, p: {"content": p[0].pem, "valid_at": {"x": "next tuesday"}}, "valid_at.x"),
    (lambda t, p: {"content": p[0].pem, "private_key_content": "not a key"}, "neither a PEM nor a DER private key"),
    (lambda t, p: {"content": p[0].pem, "path": "/x"}, "mutually exclusive"),
])
def test_bad_input_fails_cleanly(pki, tmp_path, capsys, args_maker, fragment):
    res = run_module(args_maker(tmp_path, pki), capsys)
    assert res["_rc"] == 1 and res["failed"] is True and res.get("changed", False) is False
    assert fragment in res["msg"]
    assert "Traceback" not in res["_raw"] and "exception" not in res
    assert_no_key_material(res, *pki)


def _write(path, data):
    path.write_bytes(data)
    return path


# -- secrets -------------------------------------------------------------------------------------------


def test_secret_tls_layout(api, pki, capsys):
    root, inter = pki
    put(api, "cacerts", {"tls.crt": inter.pem, "tls.key": inter.key_pem("traditional"), "ca.crt": root.pem})
    res = run_module(secret_args(api, istio_signing_ca=True, min_remaining="360h"), capsys)
    assert res["_rc"] == 0, res.get("msg")
    assert res["source"]["secret"] == {"name": "cacerts", "namespace": "istio-system", "type": "kubernetes.io/tls",
                                       "layout": "kubernetes.io/tls", "keys": ["ca.crt", "tls.crt", "tls.key"],
                                       "resource_version": "42"}
    assert [c["source"] for c in res["certificates"]] == ["tls.crt", "ca.crt"]
    assert res["chain"]["root_source"] == "ca.crt" and res["chain"]["key_matches"] is True
    assert res["istio_ready"] is True, res["istio_problems"]
    assert api.headers[0][:2] == ("GET", "/api/v1/namespaces/istio-system/secrets/cacerts")
    assert api.headers[0][2] == "Bearer test-token"
    assert_no_key_material(res, inter, root)


def test_secret_check_mode(api, pki, capsys):
    root, inter = pki
    put(api, "cacerts", {"tls.crt": inter.pem, "tls.key": inter.key_pem(), "ca.crt": root.pem})
    res = run_module(secret_args(api, istio_signing_ca=True, _ansible_check_mode=True), capsys)
    assert res["_rc"] == 0 and res["changed"] is False and res["istio_ready"] is True
    assert [seen[0] for seen in api.headers] == ["GET"]


def test_secret_istio_native_layout(api, pki, capsys):
    root, inter = pki
    put(api, "cacerts", {"ca-cert.pem": inter.pem, "ca-key.pem": inter.key_pem(), "root-cert.pem": root.pem,
                         "cert-chain.pem": pem(inter, root)}, type_="Opaque")
    res = run_module(secret_args(api, istio_signing_ca=True), capsys)
    assert res["_rc"] == 0 and res["source"]["secret"]["layout"] == "istio"
    assert [c["source"] for c in res["certificates"]] == ["ca-cert.pem", "root-cert.pem"]
    assert res["istio_ready"] is True, res["istio_problems"]
    assert_no_key_material(res, inter)


def test_secret_problems_are_reported_not_failed(api, capsys):
    root = make("Root CA", key("ec256", 0))
    server_only = make("Intermediate CA", key("ec256", 1), issuer=root, pathlen=0,
                       eku=[x509_eku("SERVER_AUTH")])
    put(api, "cacerts", {"tls.crt": pem(server_only, root), "tls.key": server_only.key_pem()})
    res = run_module(secret_args(api, istio_signing_ca=True), capsys)
    assert res["_rc"] == 0 and res["istio_ready"] is False
    assert any("has no ca.crt" in p for p in res["istio_problems"])
    assert any("without clientAuth" in p for p in res["istio_problems"])
    put(api, "cacerts", {"tls.crt": server_only.pem, "tls.key": server_only.key_pem(), "ca.crt": root.pem})
    res = run_module(secret_args(api, istio_signing_ca=True), capsys)
    assert res["istio_ready"] is False
    assert [p for p in res["istio_problems"] if "without clientAuth" in p]
    assert_no_key_material(res, server_only)


def x509_eku(name):
    from cryptography.x509.oid import ExtendedKeyUsageOID
    return getattr(ExtendedKeyUsageOID, name)


@pytest.mark.parametrize("data, fragment", [
    ({"ca.crt": "x"}, "Secret istio-system/cacerts has no tls.crt (nor Istio's ca-cert.pem)"),
    ({"tls.crt": ""}, "key tls.crt is empty"),
    ({"tls.crt": "garbage"}, "key tls.crt holds no PEM certificate"),
    ("KEY_AS_CERT", "holds a private key, not a certificate"),
    ("BAD_KEY", "key tls.key does not hold a private key that can be parsed"),
])
def test_secret_bad_contents_fail_cleanly(api, pki, capsys, data, fragment):
    root, inter = pki
    if data == "KEY_AS_CERT":
        data = {"tls.crt": inter.key_pem(), "tls.key": inter.key_pem(), "ca.crt": root.pem}
    elif data == "BAD_KEY":
        good = inter.key_pem()
        lines = good.splitlines()
        data = {"tls.crt": inter.pem, "ca.crt": root.pem,
                "tls.key": "\n".join(lines[:1] + [lines[1][::-1]] + lines[2:]) + "\n"}
    put(api, "cacerts", data)
    res = run_module(secret_args(api), capsys)
    assert res["_rc"] == 1 and fragment in res["msg"], res["msg"]
    assert_no_key_material(res, inter)


def test_missing_secret(api, capsys):
    res = run_module(secret_args(api), capsys)
    assert res["_rc"] == 1 and res["msg"] == "Secret istio-system/cacerts not found"
    res = run_module(secret_args(api, name="other", namespace="mesh"), capsys)
    assert res["msg"] == "Secret mesh/other not found"


def test_secret_and_key_inputs_are_exclusive(api, pki, capsys):
    res = run_module(secret_args(api, private_key_content=pki[1].key_pem()), capsys)
    assert res["_rc"] == 1 and "mutually exclusive" in res["msg"]
    assert_no_key_material(res, pki[1])


@pytest.mark.parametrize("vector", ["custom/two_basic_constraints.pem", "custom/unsupported_subject_public_key_info.pem",
                                    "custom/malformed-san.pem", "custom/invalid_version.pem"])
def test_malformed_vector_is_reported_not_a_task_failure(vector, capsys):
    """These made main() fail (two with 'Task failed' from an uncaught exception); now they are facts + problems."""
    import os
    import cryptography_vectors
    path = os.path.join(os.path.dirname(cryptography_vectors.__file__), "x509", vector)
    res = run_module({"path": path, "istio_signing_ca": True}, capsys)
    assert res["_rc"] == 0, res.get("msg")
    assert res["certificates"][0]["problems"] and res["istio_ready"] is False
    assert res["certificates"][0]["serial_hex"]


def test_secret_istio_layout_with_an_empty_cert_chain_is_ready(api, pki, capsys):
    """Istio's keycertbundle_test 'Success - 2 level CA without cert chain file': an intermediate signed
    directly by the root verifies with an empty Intermediates pool, and istiod's completeness check
    (pilot/pkg/bootstrap/istio_ca.go checkCABundleCompleteness) only asks that cert-chain.pem exists."""
    root, inter = pki
    put(api, "cacerts", {"ca-cert.pem": inter.pem, "ca-key.pem": inter.key_pem(), "root-cert.pem": root.pem,
                         "cert-chain.pem": ""}, type_="Opaque")
    res = run_module(secret_args(api, istio_signing_ca=True), capsys)
    assert res["_rc"] == 0, res.get("msg")
    assert res["istio_ready"] is True, res["istio_problems"]
    assert "cert-chain.pem" in res["source"]["secret"]["keys"]


def test_secret_istio_layout_empty_cert_chain_with_three_levels_is_refused(api, capsys):
    """'Failure - 3 level CA without cert chain file': the root cannot be reached without the chain."""
    root = make("Root CA", key("ec256", 0))
    mid = make("Mid CA", key("ec256", 1), issuer=root)
    inter = make("Intermediate CA", key("ec256", 2), issuer=mid, pathlen=0)
    put(api, "cacerts", {"ca-cert.pem": inter.pem, "ca-key.pem": inter.key_pem(), "root-cert.pem": root.pem,
                         "cert-chain.pem": ""}, type_="Opaque")
    res = run_module(secret_args(api, istio_signing_ca=True), capsys)
    assert res["_rc"] == 0 and res["istio_ready"] is False
    assert any("no chain of issuers" in p for p in res["istio_problems"]), res["istio_problems"]
    assert not any("has no cert-chain.pem" in p for p in res["istio_problems"])


def _crl(issued):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    crl = (x509.CertificateRevocationListBuilder().issuer_name(issued.cert.subject)
           .last_update(NOW - DAY).next_update(NOW + 7 * DAY).sign(issued.key, hashes.SHA256()))
    return crl.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def crl_pki():
    root = make("Root CA", key("ec256", 0), org="Istio")  # the factory's CA keyUsage has cRLSign
    inter = make("Intermediate CA", key("ec256", 1), issuer=root, org="Istio")
    return root, inter


def _crl_secret(api, root, inter, crl):
    put(api, "cacerts", {"ca-cert.pem": inter.pem, "ca-key.pem": inter.key_pem(), "root-cert.pem": root.pem,
                         "cert-chain.pem": pem(inter, root), "ca-crl.pem": crl}, type_="Opaque")


def test_secret_crl_signed_by_every_chain_ca_is_ready(api, crl_pki, capsys):
    root, inter = crl_pki
    _crl_secret(api, root, inter, _crl(inter) + _crl(root))
    res = run_module(secret_args(api, istio_signing_ca=True), capsys)
    assert res["istio_ready"] is True, res["istio_problems"]


@pytest.mark.parametrize("version", [None, "1.27.0", "1.30"])
def test_secret_crl_missing_a_signer_is_refused_from_1_27(api, crl_pki, capsys, version):
    """istio keycertbundle_test.go "invalid crl": 'missing CRL signed by certificates: [...]' in Go's name form."""
    root, inter = crl_pki
    _crl_secret(api, root, inter, _crl(inter))
    args = secret_args(api, istio_signing_ca=True, **({"istio_version": version} if version else {}))
    res = run_module(args, capsys)
    assert res["_rc"] == 0 and res["istio_ready"] is False
    assert any("'missing CRL signed by certificates: [CN=Root CA,O=Istio]'" in p for p in res["istio_problems"]), \
        res["istio_problems"]


def test_secret_crl_is_only_a_warning_for_istio_before_1_27(api, crl_pki, capsys):
    root, inter = crl_pki
    _crl_secret(api, root, inter, _crl(make("Other CA", key("ec256", 3))))
    res = run_module(secret_args(api, istio_signing_ca=True, istio_version="1.26.4"), capsys)
    assert res["istio_ready"] is True, res["istio_problems"]
    assert any("missing CRL signed by certificates: [CN=Intermediate CA,O=Istio CN=Root CA,O=Istio]" in w
               for w in res["istio_warnings"]), res["istio_warnings"]


def test_crl_content_with_a_bundle_and_a_bad_version(crl_pki, capsys):
    root, inter = crl_pki
    res = run_module({"content": pem(inter, root), "istio_signing_ca": True, "crl_content": _crl(inter)}, capsys)
    assert res["istio_ready"] is False
    assert any("[CN=Root CA,O=Istio]" in p for p in res["istio_problems"])
    res = run_module({"content": pem(inter, root), "istio_signing_ca": True, "istio_version": "latest"}, capsys)
    assert res["_rc"] == 1 and "istio_version 'latest' is not an Istio version" in res["msg"]


# -- three-level chains (offline_root: root -> issuing CA -> istiod's intermediate) ------------------------


def _three_levels(issuing_pathlen=1):
    root = make("Fleet Root", key("ec256", 20), ca=True)
    issuing = make("Issuing CA", key("ec256", 21), issuer=root, ca=True, pathlen=issuing_pathlen, locality="cluster-1")
    inter = make("Intermediate CA", key("ec256", 22), issuer=issuing, ca=True,
                 sans=("istiod.istio-system.svc",), locality="cluster-1")
    return root, issuing, inter


def test_secret_with_a_three_level_chain_is_istio_ready(api, capsys):
    """cacerts as cert-manager writes it below an issuing CA: tls.crt = intermediate + issuing CA, ca.crt = root."""
    root, issuing, inter = _three_levels()
    put(api, "cacerts", {"tls.crt": pem(inter, issuing), "tls.key": inter.key_pem(), "ca.crt": root.pem})
    res = run_module(secret_args(api, istio_signing_ca=True), capsys)
    assert res["_rc"] == 0, res.get("msg")
    assert [c["subject"].split(",")[0] for c in res["certificates"]] == [
        "CN=Intermediate CA", "CN=Issuing CA", "CN=Fleet Root"]
    assert [c["source"] for c in res["certificates"]] == ["tls.crt", "tls.crt", "ca.crt"]
    assert res["chain"]["ends_at_root"] is True and res["chain"]["problems"] == []
    assert res["chain"]["root_fingerprint_sha256"] == res["certificates"][2]["fingerprint_sha256"]
    assert res["certificates"][1]["path_length"] == 1
    assert res["istio_ready"] is True, res["istio_problems"]
    assert_no_key_material(res, inter, issuing, root)


def test_three_level_chain_breaking_the_issuing_path_length_is_reported(api, capsys):
    """pathlen:0 on the issuing CA: istiod loads the chain, but workload certificates below the intermediate
    exceed the issuing CA's path length, so peers reject them; istio_ready says no, with that reason."""
    root, issuing, inter = _three_levels(issuing_pathlen=0)
    put(api, "cacerts", {"tls.crt": pem(inter, issuing), "tls.key": inter.key_pem(), "ca.crt": root.pem})
    res = run_module(secret_args(api, istio_signing_ca=True), capsys)
    assert res["_rc"] == 0, res.get("msg")
    assert res["chain"]["problems"] == []  # as a chain on its own it is sound
    assert res["istio_ready"] is False
    assert any("Issuing CA" in p and "pathlen:0" in p and "workload" in p for p in res["istio_problems"]), \
        res["istio_problems"]
