"""cacerts of each step composed from cert-manager's staging Secret (plugin_utils/root_rotation/cacerts.py)."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import fingerprint
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import cacerts


def tls_data(inter, root):
    """A cert-manager kubernetes.io/tls Secret's data (base64), as the CA issuer writes it."""
    return {"tls.crt": base64.b64encode(inter.pem).decode(), "tls.key": base64.b64encode(inter.key_pem).decode(),
            "ca.crt": base64.b64encode(root.pem).decode()}


def files(secret):
    return {k: base64.b64decode(v) for k, v in secret["data"].items()}


def test_step_1_keeps_the_intermediate_and_istiods_chain_and_serves_the_combined_bundle(pki):
    a, b, a1 = pki["A"], pki["B"], pki["A1"]
    secret, facts = cacerts.compose("combined", tls_data(a1, a), a.pem + b.pem, fingerprint(b.cert))
    f = files(secret)
    assert secret["type"] == "Opaque" and sorted(f) == sorted(cacerts.NATIVE)
    assert f["ca-cert.pem"] == a1.pem and f["ca-key.pem"] == a1.key_pem
    assert f["cert-chain.pem"] == a1.pem + a.pem  # the chain istiod built from tls.crt + ca.crt
    assert f["root-cert.pem"] == a.pem + b.pem
    assert facts["root"] == fingerprint(a.cert) and facts["format"] == "native"
    assert "KEY" not in json.dumps(facts)


def test_step_2_needs_the_intermediate_under_the_new_root(pki):
    a, b = pki["A"], pki["B"]
    with pytest.raises(cacerts.ComposeError, match="not issued under the new root yet"):
        cacerts.compose("new_intermediate", tls_data(pki["A1"], a), a.pem + b.pem, fingerprint(b.cert))
    secret, facts = cacerts.compose("new_intermediate", tls_data(pki["B1"], b), a.pem + b.pem, fingerprint(b.cert))
    assert files(secret)["cert-chain.pem"] == pki["B1"].pem + b.pem and facts["root"] == fingerprint(b.cert)


def test_an_intermediate_the_bundle_does_not_trust_is_refused(pki):
    a, b = pki["A"], pki["B"]
    with pytest.raises(cacerts.ComposeError, match="does not chain to a root of the bundle"):
        cacerts.compose("new_only", tls_data(pki["A1"], a), b.pem, fingerprint(b.cert))
    with pytest.raises(cacerts.ComposeError, match="not issued under the old root yet"):
        cacerts.compose("abort_old_intermediate", tls_data(pki["B1"], b), a.pem + b.pem, fingerprint(b.cert))


def test_a_mismatched_key_is_refused_without_quoting_it(pki):
    a, b = pki["A"], pki["B"]
    data = tls_data(pki["A1"], a)
    data["tls.key"] = base64.b64encode(pki["B1"].key_pem).decode()
    with pytest.raises(cacerts.ComposeError) as err:
        cacerts.compose("combined", data, a.pem + b.pem, fingerprint(b.cert))
    assert "does not match" in str(err.value)
    assert pki["B1"].key_pem.decode().splitlines()[1] not in str(err.value)


def test_the_last_step_hands_back_a_cert_manager_secret(pki):
    b, b1 = pki["B"], pki["B1"]
    meta = {"annotations": {"cert-manager.io/certificate-name": "cacerts", "cert-manager.io/issuer-name": "x",
                            "unrelated": "dropped"},
            "labels": {"controller.cert-manager.io/fao": "true", "other": "dropped"}}
    secret, facts = cacerts.compose("new_only", tls_data(b1, b), b.pem, fingerprint(b.cert), source_meta=meta)
    assert secret["type"] == "kubernetes.io/tls" and facts["format"] == "tls"
    assert files(secret) == {"tls.crt": b1.pem, "tls.key": b1.key_pem, "ca.crt": b.pem}
    assert secret["metadata"]["annotations"] == {"cert-manager.io/certificate-name": "cacerts",
                                                 "cert-manager.io/issuer-name": "x"}
    assert secret["metadata"]["labels"] == {"controller.cert-manager.io/fao": "true"}
    assert cacerts.must_replace("Opaque", secret) and not cacerts.must_replace("kubernetes.io/tls", secret)


def test_a_native_backup_is_a_source_too(pki):
    a, b, a1 = pki["A"], pki["B"], pki["A1"]
    native, _ignored = cacerts.compose("combined", tls_data(a1, a), a.pem + b.pem, fingerprint(b.cert))
    secret, _ignored = cacerts.compose("aborted", native["data"], a.pem, fingerprint(b.cert))
    assert files(secret) == {"tls.crt": a1.pem, "tls.key": a1.key_pem, "ca.crt": a.pem}
    assert cacerts.served_bundle(files(native)) == a.pem + b.pem and cacerts.served_bundle(files(secret)) == a.pem


def test_backups_follow_the_certificate_modules_rules_in_either_format(pki):
    a, b, a1 = pki["A"], pki["B"], pki["A1"]
    tls_secret = {"type": "kubernetes.io/tls", "data": tls_data(a1, a)}
    copy = cacerts.backup(tls_secret, 3)
    assert copy["metadata"]["name"].startswith("cacerts-backup-r3-") and copy["data"] == tls_secret["data"]
    assert copy["metadata"]["labels"]["meshpki.istio_ca/backup-of"] == "cacerts" and copy["type"] == "kubernetes.io/tls"
    native, _ignored = cacerts.compose("combined", tls_data(a1, a), a.pem + b.pem, fingerprint(b.cert))
    copy2 = cacerts.backup(native, 3)
    assert copy2["metadata"]["name"] == copy["metadata"]["name"] + "-combined" and copy2["type"] == "Opaque"
    assert copy2["metadata"]["annotations"]["meshpki.istio_ca/root-fingerprint"] == fingerprint(b.cert)
