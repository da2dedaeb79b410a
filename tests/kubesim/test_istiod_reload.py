"""Simulated istiod hot reload of ``cacerts``: per version and flag, lines, refusals, failures.

Upstream: istio pilot/pkg/bootstrap/istio_ca.go (``handleEvent`` step by step, root comparison, reload
vs startup checks), the root ConfigMaps (namespacecontroller.go) and security/pkg/server/ca/monitoring.go (metrics).
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from kubesim import pki
from kubesim.controllers.istiod import IstiodSim
from kubesim.controllers.istiod.logs import MARKER, go_float
from kubesim.tests_support_fakecluster import (ensure_namespace, istiod_pod, make_ca, native_cacerts, new_fake, pod_log,
                                               put_cacerts, tls_cacerts)

UPDATE = "info\tUpdate Istiod cacerts"
TLS_LINE = "info\tUsing kubernetes.io/tls secret type for signing ca files"


@pytest.fixture(scope="module")
def pki_set():
    root = make_ca("Root CA")
    return {"root": root, "int1": make_ca("Intermediate CA", root), "int2": make_ca("Intermediate CA", root),
            "root2": make_ca("Other Root")}


def _started(version="1.22.3", env=None, delay=1.0, material=None, pki_set=None, args=None):
    f = new_fake(None, propagation_delay=delay)
    ensure_namespace(f, "istio-system")
    ensure_namespace(f, "apps")
    root, inter = pki_set["root"], pki_set["int1"]
    put_cacerts(f, material or tls_cacerts(inter, root.pem))
    istiod_pod(f, version, env, args=args)
    f.advance(0.5)
    return f


def _after_start(f, pod="istiod-1"):
    log = pod_log(f, pod)
    return log[log.index("info\tIstiod CA has started") + 1:]


def _sim(f):
    sim = IstiodSim.of(f)
    assert sim.errors == []
    return sim


@pytest.mark.parametrize("version,env,watching,reloads", [
    ("1.11.8", {"AUTO_RELOAD_PLUGIN_CERTS": "true"}, False, False),  # no hot reload at all
    ("1.13.9", {"AUTO_RELOAD_PLUGIN_CERTS": "true"}, True, False),  # watcher filters the ..data swap away
    ("1.16.7", {}, False, False),  # flag defaults to false
    ("1.16.7", {"AUTO_RELOAD_PLUGIN_CERTS": "true"}, True, True),
    ("1.18.5", {}, True, True),  # default true in 1.18
    ("1.18.5", {"AUTO_RELOAD_PLUGIN_CERTS": "false"}, False, False),
    ("1.22.3", {"AUTO_RELOAD_PLUGIN_CERTS": "false"}, True, True),  # flag removed in 1.19
])
def test_reload_per_version_and_flag(pki_set, version, env, watching, reloads):
    # before 1.14.2 istiod only knows the Istio-native file names
    fmt = native_cacerts if version < "1.14" else (lambda i, r: tls_cacerts(i, r.pem))
    f = _started(version, env, material=fmt(pki_set["int1"], pki_set["root"]), pki_set=pki_set)
    st = _sim(f).pods["istiod-1"]
    assert st.mode == "plugged" and st.watching is watching
    assert ("info\tAdded cacerts files watcher at ./etc/cacerts" in pod_log(f)) is watching
    put_cacerts(f, fmt(pki_set["int2"], pki_set["root"]))
    f.advance(2)
    expect = pki_set["int2"] if reloads else pki_set["int1"]
    assert st.signing_serial == pki.serial_hex(expect.cert)
    assert (UPDATE in _after_start(f)) is reloads
    assert st.reloads == (1 if reloads else 0)


def test_reload_lines_in_order_1_22(pki_set):
    f = _started("1.22.3", pki_set=pki_set)
    put_cacerts(f, tls_cacerts(pki_set["int2"], pki_set["root"].pem))
    f.advance(2)
    lines = _after_start(f)
    assert lines[:3] == [UPDATE, TLS_LINE, "info\tupdate root cert and generate new dns certs"]
    x509_lines = lines[3:6]
    new_subject = pki.go_name_string(pki_set["int2"].cert.subject)
    assert x509_lines[0].startswith(f'info\tx509 cert - Issuer: "{new_subject}", Subject: "", SN: ')
    assert f"SN: {pki.serial_hex(pki_set['int2'].cert)}," in x509_lines[1]
    assert lines[6:] == ["info\tIstiod certificates are reloaded", "info\t" + MARKER]


def test_reload_lines_1_17_and_1_14_1(pki_set):
    f = _started("1.17.8", {"AUTO_RELOAD_PLUGIN_CERTS": "true"}, pki_set=pki_set)
    put_cacerts(f, tls_cacerts(pki_set["int2"], pki_set["root"].pem))
    f.advance(2)
    lines = _after_start(f)
    assert lines[:2] == [UPDATE, TLS_LINE] and "update root cert and generate new dns certs" not in "\n".join(lines)
    assert lines[-1] == "info\t" + MARKER
    native = {"ca-cert.pem": pki_set["int1"].pem, "ca-key.pem": pki_set["int1"].key_pem,
              "root-cert.pem": pki_set["root"].pem, "cert-chain.pem": pki_set["int1"].pem + pki_set["root"].pem}
    f = _started("1.14.1", {"AUTO_RELOAD_PLUGIN_CERTS": "true"}, material=native, pki_set=pki_set)
    native2 = dict(native, **{"ca-cert.pem": pki_set["int2"].pem, "ca-key.pem": pki_set["int2"].key_pem,
                              "cert-chain.pem": pki_set["int2"].pem + pki_set["root"].pem})
    put_cacerts(f, native2)
    f.advance(2)
    lines = _after_start(f)
    assert lines[0] == UPDATE and lines[1].startswith("info\tx509 cert - ")  # no format line before 1.14.2


def test_propagation_delay_is_honoured(pki_set):
    f = _started("1.22.3", delay=2.0, pki_set=pki_set)
    put_cacerts(f, tls_cacerts(pki_set["int2"], pki_set["root"].pem))
    f.advance(1.8)
    assert UPDATE not in _after_start(f)
    f.advance(0.5)
    assert UPDATE in _after_start(f)


@pytest.mark.parametrize("version,text", [
    ("1.19.10", "info\tUpdating new ROOT-CA not supported"),  # log.Info before multi-root (1.20)
    ("1.22.3", "warn\tMulti root is disabled, updating new ROOT-CA not supported"),
])
def test_root_change_is_refused(pki_set, version, text):
    f = _started(version, pki_set=pki_set)
    cm_before = f.get("v1", "configmaps", "apps", "istio-ca-root-cert")
    other = make_ca("Intermediate CA", pki_set["root2"])
    put_cacerts(f, tls_cacerts(other, pki_set["root2"].pem))
    f.advance(2)
    assert _after_start(f) == [UPDATE, TLS_LINE, text]
    assert _sim(f).pods["istiod-1"].signing_serial == pki.serial_hex(pki_set["int1"].cert)
    assert f.get("v1", "configmaps", "apps", "istio-ca-root-cert") == cm_before
    # a byte-level difference alone counts as a root change
    put_cacerts(f, tls_cacerts(pki_set["int2"], pki_set["root"].pem + b"\n"))
    f.advance(2)
    assert _after_start(f)[-1] == text


def test_multiroot_accepts_a_superset_bundle_and_refuses_a_disjoint_one(pki_set):
    env = {"ISTIO_MULTIROOT_MESH": "true"}
    f = _started("1.22.3", env, pki_set=pki_set)
    rv = f.get("v1", "configmaps", "apps", "istio-ca-root-cert")["metadata"]["resourceVersion"]
    bundle = pki_set["root"].pem + pki_set["root2"].pem
    put_cacerts(f, tls_cacerts(pki_set["int2"], bundle))
    f.advance(2)
    lines = _after_start(f)
    assert lines[:4] == [UPDATE, TLS_LINE, "info\tUpdating new ROOT-CA",
                         "info\tupdate root cert and generate new dns certs"]
    assert "info\tUpdate trust anchor with new root cert" in lines and lines[-1] == "info\t" + MARKER
    cm = f.get("v1", "configmaps", "apps", "istio-ca-root-cert")
    assert cm["data"]["root-cert.pem"] == bundle.decode() and cm["metadata"]["resourceVersion"] != rv
    other = make_ca("Third Root")
    put_cacerts(f, tls_cacerts(make_ca("Intermediate CA", other), other.pem))
    f.advance(2)
    assert _after_start(f)[-1] == "warn\tUpdating new ROOT-CA not supported"


def test_bad_material_keeps_the_old_ca(pki_set):
    f = _started("1.22.3", pki_set=pki_set)
    st = _sim(f).pods["istiod-1"]
    root, int2 = pki_set["root"], pki_set["int2"]
    put_cacerts(f, tls_cacerts(int2, root.pem, key_pem=pki_set["int1"].key_pem))
    f.advance(2)
    assert _after_start(f)[-1] == ("error\tFailed to update new Plug-in CA certs: the cert does not match the key: "
                                   "tls: private key does not match public key")
    client_only = make_ca("Intermediate CA", root, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    put_cacerts(f, tls_cacerts(client_only, root.pem))
    f.advance(2)
    assert _after_start(f)[-1] == (
        "error\tFailed to update new Plug-in CA certs: cannot verify the cert with the provided root chain and cert "
        "pool with error: x509: certificate specifies an incompatible key usage")
    bad_key = tls_cacerts(int2, root.pem, key_pem=b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n"
                                                  b"-----END OPENSSH PRIVATE KEY-----\n")
    put_cacerts(f, bad_key)
    f.advance(2)
    assert _after_start(f)[-1] == ("error\tFailed to update new Plug-in CA certs: failed to parse private key PEM: "
                                   "unsupported PEM block type for a private key: OPENSSH PRIVATE KEY")
    foreign = make_ca("Intermediate CA", make_ca("Root CA"))  # same names, different root key
    put_cacerts(f, tls_cacerts(foreign, root.pem))
    f.advance(2)
    assert "x509: certificate signed by unknown authority" in _after_start(f)[-1]
    assert st.signing_serial == pki.serial_hex(pki_set["int1"].cert) and st.reloads == 0


def test_not_a_ca_is_accepted_on_reload_but_crash_loops_after_restart(pki_set):
    f = _started("1.22.3", pki_set=pki_set)
    not_ca = make_ca("Intermediate CA", pki_set["root"], is_ca=False)
    put_cacerts(f, tls_cacerts(not_ca, pki_set["root"].pem))
    f.advance(2)
    st = _sim(f).pods["istiod-1"]
    assert _after_start(f)[-1] == "info\t" + MARKER and st.signing_serial == pki.serial_hex(not_ca.cert)
    f.delete("v1", "pods", "istio-system", "istiod-1")  # rollout restart: a new pod
    istiod_pod(f, "1.22.3", name="istiod-2")
    assert _sim(f).pods["istiod-2"].mode == "crashloop"
    assert pod_log(f, "istiod-2")[-1] == (
        "error\tfailed to create discovery service: failed to create CA: failed to create an istiod CA: certificate is "
        "not authorized to sign other certificates")


def test_self_signed_start_ignores_a_later_cacerts(pki_set):
    f = new_fake(None, propagation_delay=0.5)
    ensure_namespace(f, "istio-system")
    istiod_pod(f, "1.27.1")
    put_cacerts(f, tls_cacerts(pki_set["int1"], pki_set["root"].pem))
    f.advance(2)
    st = _sim(f).pods["istiod-1"]
    assert st.mode == "self-signed" and UPDATE not in _after_start(f)
    istiod_pod(f, "1.27.1", name="istiod-2")  # only a restart picks it up
    assert _sim(f).pods["istiod-2"].mode == "plugged"


def test_configmaps_unchanged_on_intermediate_rotation_rewritten_after_restart_with_new_root(pki_set):
    f = _started("1.22.3", pki_set=pki_set)
    before = {cm["metadata"]["namespace"]: cm["metadata"]["resourceVersion"] for cm in f.list("v1", "configmaps")}
    put_cacerts(f, tls_cacerts(pki_set["int2"], pki_set["root"].pem))
    f.advance(2)
    assert _sim(f).pods["istiod-1"].reloads == 1
    after = {cm["metadata"]["namespace"]: cm["metadata"]["resourceVersion"] for cm in f.list("v1", "configmaps")}
    assert after == before
    other = make_ca("Intermediate CA", pki_set["root2"])
    put_cacerts(f, tls_cacerts(other, pki_set["root2"].pem))
    f.advance(2)
    assert f.get("v1", "configmaps", "apps", "istio-ca-root-cert")["data"]["root-cert.pem"] == \
        pki_set["root"].pem.decode()
    f.delete("v1", "pods", "istio-system", "istiod-1")
    istiod_pod(f, "1.22.3", name="istiod-2")
    assert f.get("v1", "configmaps", "apps", "istio-ca-root-cert")["data"]["root-cert.pem"] == \
        pki_set["root2"].pem.decode()


def test_deleted_configmap_is_restored(pki_set):
    f = _started("1.22.3", pki_set=pki_set)
    f.delete("v1", "configmaps", "apps", "istio-ca-root-cert")
    f.advance(0.5)
    assert f.get("v1", "configmaps", "apps", "istio-ca-root-cert") is not None


def test_secret_deleted_makes_the_reload_fail_reading_the_root(pki_set):
    f = _started("1.22.3", pki_set=pki_set)
    f.delete("v1", "secrets", "istio-system", "cacerts")
    f.advance(2)
    assert _after_start(f) == [UPDATE, "info\tUsing istiod file format for signing ca files",
                               "error\tfailed reading root-cert.pem: open etc/cacerts/root-cert.pem: no such file or "
                               "directory"]


@pytest.mark.parametrize("version,refreshed", [("1.23.4", False), ("1.24.0", True)])
def test_expiry_metric_refresh(pki_set, version, refreshed):
    f = _started(version, pki_set=pki_set)
    short = make_ca("Intermediate CA", pki_set["root"], days=10)
    put_cacerts(f, tls_cacerts(short, pki_set["root"].pem))
    f.advance(2)
    assert _sim(f).pods["istiod-1"].reloads == 1
    body = f.proxy_get("istio-system", "istiod-1", 15014, "/metrics")[2]
    expect = short if refreshed else pki_set["int1"]
    assert f"citadel_server_cert_chain_expiry_timestamp {go_float(pki.not_after(expect.cert).timestamp())}\n" in body


@pytest.mark.parametrize("version,clamped", [("1.31.0", True), ("1.30.0", True), ("1.29.3", True),
                                              ("1.29.2", False), ("1.28.7", True), ("1.28.6", False)])
def test_dns_cert_not_after_clamped_per_backport(pki_set, version, clamped):
    # PR #59766 (1.31) and its backports #59958 (1.30.0), #59957 (1.29.3), #59956 (1.28.7)
    f = _started(version, pki_set=pki_set)
    leaf = _sim(f).pods["istiod-1"].dns_chain[0]
    if clamped:
        assert pki.not_after(leaf) == pki.not_after(pki_set["int1"].cert)
    else:
        assert pki.not_after(leaf) - pki.not_before(leaf) > dt.timedelta(days=3000)


def test_path_length_constraint_is_enforced_on_reload(pki_set):
    f = _started("1.22.3", pki_set=pki_set)
    root0 = make_ca("Strict Root", path_len_zero=True)
    mid = make_ca("Middle CA", root0)
    low = make_ca("Intermediate CA", mid)
    # a two-level chain that does not lead to the root istiod holds: refused, old CA kept
    put_cacerts(f, {"tls.crt": low.pem + mid.pem, "tls.key": low.key_pem, "ca.crt": pki_set["root"].pem})
    f.advance(2)
    assert _after_start(f)[-1].startswith("error\tFailed to update new Plug-in CA certs: cannot verify the cert")
    # the same shape under the held root, without a path length constraint: accepted
    mid_ok = make_ca("Middle CA", pki_set["root"])
    low_ok = make_ca("Intermediate CA", mid_ok)
    put_cacerts(f, {"tls.crt": low_ok.pem + mid_ok.pem, "tls.key": low_ok.key_pem, "ca.crt": pki_set["root"].pem})
    f.advance(2)
    assert _after_start(f)[-1] == "info\t" + MARKER
    # root0 as the mesh root would be a root change; check Go's path rule directly
    from kubesim.controllers.istiod.pki import go_verify
    assert go_verify(low.cert, [mid.cert], [root0.cert], f.now()) == (
        'x509: certificate signed by unknown authority (possibly because of "x509: too many intermediates for path '
        'length constraint" while trying to verify candidate authority certificate "Strict Root")')


@pytest.mark.parametrize("args,has_info", [
    (["discovery", "--log_output_level=default:info"], True),
    (["discovery", "--log_output_level=default:warn"], False),
    (["discovery", "--log_output_level", "warn"], False),  # a bare level is the default scope's
    (["discovery", "--log_output_level=ads:debug,default:error"], False),
    (["discovery", "--log_output_level=ads:warn"], True),  # other scopes do not hide the default one
])
def test_log_output_level_hides_the_info_lines(pki_set, args, has_info):
    """istio pkg/log drops lines below a scope's level: at warn, no marker and no x509 cert lines."""
    f = _started("1.22.3", pki_set=pki_set, args=args)
    put_cacerts(f, tls_cacerts(pki_set["int2"], pki_set["root"].pem))
    f.advance(2)
    log = pod_log(f, "istiod-1")
    assert (any(MARKER in line for line in log)) is has_info
    assert (any("x509 cert - Issuer" in line for line in log)) is has_info
    assert _sim(f).pods["istiod-1"].signing_serial == pki.serial_hex(pki_set["int2"].cert)  # reloaded all the same
    # Warnings still reach the log at warn: a refused root change is visible.
    other = make_ca("Intermediate CA", pki_set["root2"])
    put_cacerts(f, tls_cacerts(other, pki_set["root2"].pem))
    f.advance(2)
    refused = [line for line in pod_log(f, "istiod-1")
               if line.endswith("Multi root is disabled, updating new ROOT-CA not supported")]
    assert len(refused) == (0 if args[-1].endswith(":error") else 1)  # a warn line, dropped only at error
