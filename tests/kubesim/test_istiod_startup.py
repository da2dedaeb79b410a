"""Simulated istiod at pod start: plugged vs self-signed, completeness rules, crash-loop.

Upstream: istio pilot/pkg/bootstrap/istio_ca.go (file names, format detection, completeness by
version, startup lines, precedence of istio-ca-secret and cacerts), security/pkg/pki/ca/ca.go (startup-only IsCA check).
"""

from __future__ import annotations

import base64

import pytest

from kubesim import pki
from kubesim.controllers.istiod import IstiodSim
from kubesim.tests_support_fakecluster import (ensure_namespace, istiod_pod, make_ca, native_cacerts, new_fake,
                                               pod_log, put_cacerts, tls_cacerts)


@pytest.fixture(scope="module")
def chain():
    root = make_ca("Root CA")
    inter = make_ca("Intermediate CA", root)
    return root, inter


def _fake():
    f = new_fake(None)
    ensure_namespace(f, "istio-system")
    ensure_namespace(f, "apps")
    return f


def _state(f, pod="istiod-1"):
    sim = IstiodSim.of(f)
    assert sim.errors == []
    return sim.pods[pod]


def test_plugged_tls_format_start(chain):
    root, inter = chain
    f = _fake()
    put_cacerts(f, tls_cacerts(inter, root.pem))
    istiod_pod(f, "1.22.3")
    st = _state(f)
    assert st.mode == "plugged" and st.signing_serial == pki.serial_hex(inter.cert) and st.watching
    log = pod_log(f)
    assert log[2:6] == ["info\tcreating CA and initializing public key",
                        "info\tUsing kubernetes.io/tls secret type for signing ca files",
                        "info\tUse local CA certificate",
                        "info\tAdded cacerts files watcher at ./etc/cacerts"]
    assert "info\tUse root cert from etc/cacerts/ca.crt" in log
    x509_lines = [ln for ln in log if ln.startswith("info\tx509 cert - ")]
    assert len(x509_lines) == 3  # istiod's DNS leaf, then tls.crt and ca.crt as its chain
    assert x509_lines[0].startswith('info\tx509 cert - Issuer: "CN=Intermediate CA,O=Istio", Subject: "", SN: ')
    assert x509_lines[1] == (
        f'info\tx509 cert - Issuer: "CN=Root CA,O=Istio", Subject: "CN=Intermediate CA,O=Istio", '
        f'SN: {pki.serial_hex(inter.cert)}, NotBefore: "{pki.not_before(inter.cert):%Y-%m-%dT%H:%M:%SZ}", '
        f'NotAfter: "{pki.not_after(inter.cert):%Y-%m-%dT%H:%M:%SZ}"')
    assert log[-1] == "info\tIstiod CA has started"
    assert log.index("info\tIstiod certificates are reloaded") > log.index(x509_lines[-1])
    # the DNS leaf really chains to the plugged intermediate
    leaf = st.dns_chain[0]
    assert pki.check_signature_from(leaf, inter.cert)
    assert leaf.extensions.get_extension_for_class(pki.x509.SubjectAlternativeName).value.get_values_for_type(
        pki.x509.DNSName)[0] == "istiod.istio-system.svc"


def test_root_configmaps_everywhere_but_system_namespaces(chain):
    root, inter = chain
    f = _fake()
    put_cacerts(f, tls_cacerts(inter, root.pem))
    istiod_pod(f)
    cms = {cm["metadata"]["namespace"]: cm for cm in f.list("v1", "configmaps")
           if cm["metadata"]["name"] == "istio-ca-root-cert"}
    assert set(cms) == {"default", "kube-system", "istio-system", "apps"}
    cm = cms["apps"]
    assert cm["data"] == {"root-cert.pem": root.pem.decode()}
    assert cm["metadata"]["labels"] == {"istio.io/config": "true"}
    ensure_namespace(f, "newcomer")
    f.advance(0.5)
    assert f.get("v1", "configmaps", "newcomer", "istio-ca-root-cert")["data"]["root-cert.pem"] == root.pem.decode()


def test_native_format(chain):
    root, inter = chain
    f = _fake()
    put_cacerts(f, native_cacerts(inter, root))
    istiod_pod(f, "1.20.8")
    assert _state(f).mode == "plugged"
    assert "info\tUsing istiod file format for signing ca files" in pod_log(f)
    assert "info\tUse root cert from etc/cacerts/root-cert.pem" in pod_log(f)


def test_tls_names_unknown_before_1_14_2_means_self_signed(chain):
    root, inter = chain
    f = _fake()
    put_cacerts(f, tls_cacerts(inter, root.pem))
    istiod_pod(f, "1.14.1")
    assert _state(f).mode == "self-signed"
    log = pod_log(f)
    assert not any("secret type for signing ca files" in ln or "file format" in ln for ln in log)
    assert "info\tUse self-signed certificate as the CA certificate" in log


def test_self_signed_creates_then_reuses_istio_ca_secret():
    f = _fake()
    istiod_pod(f, "1.22.3")
    st = _state(f)
    assert st.mode == "self-signed" and not st.watching
    sec = f.get("v1", "secrets", "istio-system", "istio-ca-secret")
    assert sec["type"] == "istio.io/ca-root"
    assert set(sec["data"]) == {"ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"}
    root = pki.load_certs(base64.b64decode(sec["data"]["ca-cert.pem"]))[0]
    assert pki.go_name_string(root.subject) == "O=cluster.local" and pki.is_ca(root)
    assert 'info\tpkica\tFailed to get secret (error: secrets "istio-ca-secret" not found), will create one' in \
        pod_log(f)
    assert "info\tUse istio-generated cacerts at etc/cacerts/ca-key.pem or istio-ca-secret" in pod_log(f)
    x509_lines = [ln for ln in pod_log(f) if "x509 cert - " in ln]
    assert len(x509_lines) == 1 and 'Issuer: "O=cluster.local", Subject: ""' in x509_lines[0]
    assert f.get("v1", "configmaps", "apps", "istio-ca-root-cert")["data"]["root-cert.pem"] == \
        pki.cert_pem(root).decode()
    istiod_pod(f, "1.22.3", name="istiod-2")
    assert _state(f, "istiod-2").signing_serial == pki.serial_hex(root)
    assert "info\tpkica\tLoad signing key and cert from existing secret istio-system/istio-ca-secret" in \
        pod_log(f, "istiod-2")


@pytest.mark.parametrize("version,files,mode,error", [
    ("1.27.0", ("tls.crt", "tls.key"), "crashloop",
     "failed to create an istiod CA: incomplete signing CA bundle detected"),
    ("1.27.0", ("ca.crt",), "self-signed", ""),  # no tls.crt: the native names are looked for, none exist
    ("1.26.2", ("tls.crt", "tls.key"), "crashloop",
     "failed to create an istiod CA: failed to create CA KeyCertBundle (open etc/cacerts/ca.crt: no such file or "
     "directory)"),
    ("1.26.2", ("tls.crt", "ca.crt"), "self-signed", ""),  # key missing: silently self-signed before 1.27
])
def test_completeness_rules_by_version(chain, version, files, mode, error):
    root, inter = chain
    f = _fake()
    full = tls_cacerts(inter, root.pem)
    put_cacerts(f, {k: full[k] for k in files})
    istiod_pod(f, version)
    st = _state(f)
    assert st.mode == mode
    if error:
        assert st.last_error == error
        assert pod_log(f)[-1] == f"error\tfailed to create discovery service: failed to create CA: {error}"


def test_not_a_ca_crash_loops_then_recovers_when_fixed(chain):
    root, inter = chain
    leafish = make_ca("Not a CA", root, is_ca=False)
    f = _fake()
    put_cacerts(f, tls_cacerts(leafish, root.pem))
    istiod_pod(f, "1.22.3")
    st = _state(f)
    assert st.mode == "crashloop"
    assert st.last_error == "failed to create an istiod CA: certificate is not authorized to sign other certificates"
    pod = f.get("v1", "pods", "istio-system", "istiod-1")
    cs = pod["status"]["containerStatuses"][0]
    assert (cs["ready"], cs["restartCount"], cs["state"]["waiting"]["reason"]) == (False, 1, "CrashLoopBackOff")
    assert {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"] == "False"
    assert f.proxy_get("istio-system", "istiod-1", 15014, "/metrics")[0] != 200 if \
        ("istio-system", "istiod-1", 15014) in f.proxies else True
    f.advance(11)  # second attempt, same files: still failing, longer back-off
    assert st.mode == "crashloop" and st.restart_count == 2
    put_cacerts(f, tls_cacerts(inter, root.pem))
    f.advance(1.5)  # propagation delay: the volume now holds good material
    f.advance(21)
    assert st.mode == "plugged" and st.signing_serial == pki.serial_hex(inter.cert)
    cs = f.get("v1", "pods", "istio-system", "istiod-1")["status"]["containerStatuses"][0]
    assert (cs["ready"], cs["restartCount"]) == (True, 2)


def test_expired_intermediate_crash_loops_at_start(chain):
    import datetime as dt
    root, _ = chain
    old = make_ca("Old Intermediate", root, days=1,
                  start=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3))
    f = _fake()
    put_cacerts(f, tls_cacerts(old, root.pem))
    istiod_pod(f, "1.22.3")
    st = _state(f)
    assert st.mode == "crashloop"
    assert "cannot verify the cert with the provided root chain and cert pool with error: x509: certificate has " \
           "expired or is not yet valid: current time " in st.last_error


def test_metrics_endpoint(chain):
    root, inter = chain
    f = _fake()
    put_cacerts(f, tls_cacerts(inter, root.pem))
    istiod_pod(f, "1.24.1")
    code, ctype, body = f.proxy_get("istio-system", "istiod-1", 15014, "/metrics")
    assert code == 200 and ctype.startswith("text/plain")
    from kubesim.controllers.istiod.logs import go_float
    assert f"citadel_server_cert_chain_expiry_timestamp {go_float(pki.not_after(inter.cert).timestamp())}\n" in body
    assert f"citadel_server_root_cert_expiry_timestamp {go_float(pki.not_after(root.cert).timestamp())}\n" in body
