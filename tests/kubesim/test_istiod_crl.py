"""Simulated istiod 1.27+ and ca-crl.pem / an empty cert-chain.pem in the cacerts Secret.

Follows istio security/pkg/pki/util/keycertbundle.go Verify (the CRL step: every certificate
of the chain files needs a CRL it signed, else "missing CRL signed by certificates: [...]")
and pilot/pkg/bootstrap/istio_ca.go detectSigningCABundleAndCRL (ca-crl.pem is read from
1.27, with PILOT_ENABLE_CA_CRL default true, in Istio's own file layout only); the cases mirror
keycertbundle_test.go's "valid crl"/"invalid crl" and "Success - 2 level CA without cert chain file".
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from kubesim import pki
from kubesim.controllers.istiod import IstiodSim
from kubesim.controllers.istiod.logs import MARKER
from kubesim.tests_support_fakecluster import (CA, ensure_namespace, istiod_pod, native_cacerts, new_fake, pod_log,
                                               put_cacerts)


def _ca(cn, parent=None):
    """A CA whose keyUsage has cRLSign, as Go's RevocationList.CheckSignatureFrom requires of a CRL signer."""
    key = pki.generate_key("ECDSA", 256)
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Istio"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = pki.sign(subject=name, public_key=key.public_key(), not_before_=start,
                    not_after_=start + dt.timedelta(days=60), is_ca_flag=True,
                    key_usage={"key_cert_sign", "crl_sign", "digital_signature"}, ext_key_usage=[], san=None,
                    signer_key=parent.key if parent else key, parent=parent.cert if parent else None)
    return CA(cert, key)


def crl_pem(ca):
    now = dt.datetime.now(dt.timezone.utc)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject)
           .last_update(now - dt.timedelta(minutes=1)).next_update(now + dt.timedelta(days=7))
           .sign(ca.key, hashes.SHA256()))
    return crl.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def chain():
    root = _ca("Root CA")
    return root, _ca("Intermediate CA", root)


def _start(files, version="1.27.1", env=None):
    f = new_fake(None)
    ensure_namespace(f, "istio-system")
    put_cacerts(f, files)
    istiod_pod(f, version, env=env)
    sim = IstiodSim.of(f)
    assert sim.errors == []
    return f, sim.pods["istiod-1"]


MISSING = ("failed to create an istiod CA: failed to create CA KeyCertBundle (missing CRL signed by certificates: "
           "[CN=Intermediate CA,O=Istio CN=Root CA,O=Istio])")


def test_crl_signed_by_every_chain_ca_is_accepted(chain):
    root, inter = chain
    f, st = _start(dict(native_cacerts(inter, root), **{"ca-crl.pem": crl_pem(inter) + crl_pem(root)}))
    assert st.mode == "plugged", st.last_error
    assert "info\tDetected CRL file" in pod_log(f)


def test_crl_missing_a_signer_crash_loops_1_27(chain):
    root, inter = chain
    f, st = _start(dict(native_cacerts(inter, root), **{"ca-crl.pem": crl_pem(_ca("Other CA"))}))
    assert st.mode == "crashloop"
    assert st.last_error == MISSING
    assert pod_log(f)[-1] == "error\tfailed to create discovery service: failed to create CA: " + MISSING


def test_crl_from_one_ca_only_names_the_other(chain):
    root, inter = chain
    f, st = _start(dict(native_cacerts(inter, root), **{"ca-crl.pem": crl_pem(inter)}))
    assert st.mode == "crashloop"
    assert st.last_error.endswith("(missing CRL signed by certificates: [CN=Root CA,O=Istio])")


@pytest.mark.parametrize("version, env", [("1.26.3", None), ("1.27.1", {"PILOT_ENABLE_CA_CRL": "false"})])
def test_crl_is_ignored_before_1_27_or_when_disabled(chain, version, env):
    root, inter = chain
    f, st = _start(dict(native_cacerts(inter, root), **{"ca-crl.pem": b"not a crl"}), version, env)
    assert st.mode == "plugged", st.last_error
    assert "info\tDetected CRL file" not in pod_log(f)


def test_crl_is_not_read_in_the_tls_layout(chain):
    root, inter = chain
    f, st = _start({"tls.crt": inter.pem, "tls.key": inter.key_pem, "ca.crt": root.pem, "ca-crl.pem": b"junk"})
    assert st.mode == "plugged", st.last_error


def test_hot_reload_with_a_bad_crl_keeps_the_old_ca(chain):
    root, inter = chain
    f, st = _start(native_cacerts(inter, root))
    assert st.mode == "plugged"
    new_inter = _ca("Intermediate CA", root)
    put_cacerts(f, dict(native_cacerts(new_inter, root), **{"ca-crl.pem": crl_pem(new_inter)}))
    f.advance(2)
    log = pod_log(f)
    assert "info\tUpdating CRL data" in log
    assert ("error\tFailed to update new Plug-in CA certs: missing CRL signed by certificates: [CN=Root CA,O=Istio]"
            in log)
    assert MARKER not in log
    assert st.signing_serial == pki.serial_hex(inter.cert)


def test_empty_cert_chain_file_is_a_complete_bundle_for_a_two_level_ca(chain):
    """keycertbundle_test.go "Success - 2 level CA without cert chain file"; checkCABundleCompleteness only asks
    that cert-chain.pem exists (kubelet mounts an empty key as an empty file)."""
    root, inter = chain
    files = dict(native_cacerts(inter, root), **{"cert-chain.pem": b""})
    f, st = _start(files)
    assert st.mode == "plugged", st.last_error
    assert st.signing_serial == pki.serial_hex(inter.cert)
