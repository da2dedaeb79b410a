"""istiod's root bundle rules with ISTIO_MULTIROOT_MESH, and Istio's three-step root rotation on a fleet with
simulated workloads (cacerts written directly in Istio's file format).

Upstream: istio/istio pilot/pkg/bootstrap/istio_ca.go ``handleEvent`` (``bytes.Equal``, then
``bytes.Contains`` both ways on 1.20–1.29, ``pemBundleHasSubsetRelation`` from 1.30.0 — PR #59909 and the
release-1.30 backport #59953), pilot/pkg/bootstrap/certcontroller.go ``updateRootCertAndGenKeyCert``,
tests/integration/security/cacert_rotation/main_test.go (the three steps).
"""

from __future__ import annotations

import pytest

from kubesim.controllers.istiod import IstiodSim
from kubesim.controllers.istiod.logs import MARKER
from kubesim.tests_support_fakecluster import ensure_namespace, istiod_pod, new_fake, pod_log, put_cacerts
from kubesim.tests_support_mesh import converge, intermediate, istiod_lines, leaf_issuers, mesh_fleet, native_files, root, \
    write_cacerts
from kubesim import pki

MULTIROOT = {"ISTIO_MULTIROOT_MESH": "true"}
UPDATE = "info\tUpdate Istiod cacerts"
NATIVE = "info\tUsing istiod file format for signing ca files"
ACCEPTED = "info\tUpdating new ROOT-CA"
REFUSED = "warn\tUpdating new ROOT-CA not supported"


@pytest.fixture(scope="module")
def roots():
    a, b = root("Root CA A"), root("Root CA B")
    return {"A": a, "B": b, "A1": intermediate(a, "fake"), "B1": intermediate(b, "fake")}


def _fake(version, roots, bundle=None, env=MULTIROOT):
    f = new_fake(None, propagation_delay=0.5)
    ensure_namespace(f, "istio-system")
    ensure_namespace(f, "apps")
    put_cacerts(f, native_files(roots["A1"], roots["A"], bundle or roots["A"].pem))
    istiod_pod(f, version, env)
    f.advance(0.5)
    return f


def _since_start(f):
    lines = pod_log(f)
    return lines[lines.index("info\tIstiod CA has started") + 1:]


def _reload(f, files):
    mark = len(pod_log(f))
    put_cacerts(f, files)
    f.advance(1)
    return pod_log(f)[mark:]


def test_accepted_root_update_logs_upstream_lines_in_order(roots):
    f = _fake("1.22.3", roots)
    a, b = roots["A"], roots["B"]
    lines = _reload(f, native_files(roots["A1"], a, a.pem + b.pem))
    assert lines[:5] == [UPDATE, NATIVE, ACCEPTED, "info\tupdate root cert and generate new dns certs",
                         "info\tUpdate trust anchor with new root cert"]
    assert lines[-2:] == ["info\tIstiod certificates are reloaded", "info\t" + MARKER]
    cm = f.get("v1", "configmaps", "apps", "istio-ca-root-cert")
    assert cm["data"]["root-cert.pem"] == (a.pem + b.pem).decode()
    # an intermediate-only reload with multi-root on: no root line, but the trust anchor is updated (Infof, 1.21+)
    lines = _reload(f, native_files(roots["B1"], b, a.pem + b.pem))
    assert ACCEPTED not in lines and "info\tUpdate trust anchor with new root cert" in lines
    assert lines[-1] == "info\t" + MARKER


def test_1_20_logs_no_trust_anchor_line(roots):
    f = _fake("1.20.8", roots)
    lines = _reload(f, native_files(roots["A1"], roots["A"], roots["A"].pem + roots["B"].pem))
    assert lines[:3] == [UPDATE, NATIVE, ACCEPTED]
    assert "info\tUpdate trust anchor with new root cert" not in lines  # Debugf in 1.20
    assert "info\tupdate root cert and generate new dns certs" not in lines  # no such line before 1.21
    assert lines[-1] == "info\t" + MARKER


@pytest.mark.parametrize("version,reorder_accepted", [
    ("1.22.3", False), ("1.29.6", False),  # bytes.Contains
    ("1.30.0", True), ("1.31.0", True),  # sets of DER certificates
])
def test_bundle_order_per_version(roots, version, reorder_accepted):
    a, b = roots["A"], roots["B"]
    f = _fake(version, roots)
    assert _reload(f, native_files(roots["A1"], a, a.pem + b.pem))[2] == ACCEPTED
    # step 2 with the combined bundle written in the other order
    lines = _reload(f, native_files(roots["B1"], b, b.pem + a.pem))
    st = IstiodSim.of(f).pods["istiod-1"]
    cm = f.get("v1", "configmaps", "apps", "istio-ca-root-cert")["data"]["root-cert.pem"]
    if reorder_accepted:
        assert lines[2] == ACCEPTED and lines[-1] == "info\t" + MARKER
        assert st.signing_serial == pki.serial_hex(roots["B1"].cert) and cm == (b.pem + a.pem).decode()
    else:
        assert lines == [UPDATE, NATIVE, REFUSED]
        assert st.signing_serial == pki.serial_hex(roots["A1"].cert) and cm == (a.pem + b.pem).decode()


def test_disjoint_bundle_and_missing_flag_refused(roots):
    a, b = roots["A"], roots["B"]
    f = _fake("1.31.0", roots)
    assert _reload(f, native_files(roots["B1"], b, b.pem)) == [UPDATE, NATIVE, REFUSED]  # a swap, not a subset
    f = _fake("1.31.0", roots, env={})
    assert _reload(f, native_files(roots["A1"], a, a.pem + b.pem)) == [
        UPDATE, NATIVE, "warn\tMulti root is disabled, updating new ROOT-CA not supported"]
    assert "Updating" not in " ".join(_since_start(f)[3:])


def _step(fleet, clusters, files_for):
    for c in clusters:
        write_cacerts(c, files_for(c))
    converge(fleet)
    fleet.mtls_round()


@pytest.mark.parametrize("versions", [("1.22.3", "1.22.3"), ("1.31.0", "1.31.0"), ("1.22.3", "1.31.0")])
def test_three_steps_with_zero_failed_handshakes(kubesim_fleet_factory, versions):
    a, b = root("Root CA A"), root("Root CA B")
    fleet, old = mesh_fleet(kubesim_fleet_factory, versions, a, workloads=3)
    new = {c.name: intermediate(b, c.name) for c in fleet}
    ab = a.pem + b.pem
    assert fleet.mtls_round()["attempted"] > 0 and fleet.mtls_summary()["failed"] == 0
    issued = {w["pod"]: w["certificates_issued"] for c in fleet for w in c.workloads}

    _step(fleet, fleet, lambda c: native_files(old[c.name], a, ab))  # step 1: same intermediate, A+B
    for c in fleet:
        assert ACCEPTED in istiod_lines(c) and "info\t" + MARKER in istiod_lines(c)
        for ns in ("mesh-1", "istio-system", "default"):
            assert c.get("v1", "configmaps", ns, "istio-ca-root-cert")["data"]["root-cert.pem"] == ab.decode()
        for w in c.workloads:  # PCDS: the agents trust both roots and re-requested their certificate
            assert pki.fingerprint(b.cert) in w["trust_anchor_fingerprints"]
            assert w["certificates_issued"] > issued[w["pod"]]

    _step(fleet, fleet, lambda c: native_files(new[c.name], b, ab))  # step 2: new intermediate, still A+B
    # the bundle did not change, so no PCDS change and no re-request: workloads move at renewal (12 h of 24 h)
    assert leaf_issuers(fleet) == {pki.go_name_string(old[c.name].cert.subject) for c in fleet}
    fleet.advance(13 * 3600)
    fleet.mtls_round()
    assert leaf_issuers(fleet) == {pki.go_name_string(new[c.name].cert.subject) for c in fleet}

    _step(fleet, fleet, lambda c: native_files(new[c.name], b, b.pem))  # step 3: B only
    for c in fleet:
        assert istiod_lines(c).count(ACCEPTED) == 2 and REFUSED not in istiod_lines(c)
        assert c.get("v1", "configmaps", "mesh-2", "istio-ca-root-cert")["data"]["root-cert.pem"] == b.pem.decode()
        for w in c.workloads:
            assert w["trust_anchor_fingerprints"] == [pki.fingerprint(b.cert)]
    fleet.advance(30)
    summary = fleet.mtls_round()
    assert summary["attempted"] >= 4 * 3 * len(versions) and summary["failed"] == 0, fleet.mtls_failures()[:3]
    assert fleet.mtls_failures() == []
