"""Which changes make simulated cert-manager re-issue, and which it ignores (cert-manager internal/controller/certificates/policies).

Re-issues: duration changed when both old and new are set, key size/algorithm, issuerRef,
SANs/subject/isCA/usages, Secret deleted or emptied, renewalTime reached, manual trigger.
Ignored: adding duration where none was set, renewBefore (moves renewalTime only), key
encoding, secretTemplate (metadata only).
"""

from __future__ import annotations

import datetime as dt

import pytest

from kubesim import pki
from kubesim.controllers.certmanager import CertManagerSim
from kubesim.tests_support_fakecluster import (CM, ca_chain, certificate, condition, get_cert, issued, issuer,
                                               new_fake, secret_data, wait_issued)


def _serial(f, ns, name):
    return pki.load_certs(secret_data(f, ns, name)["tls.crt"])[0].serial_number


def _key_der(f, ns, name):
    return pki.public_bytes(pki.parse_private_key(secret_data(f, ns, name)["tls.key"]).public_key())


def _edit(f, ns, name, **spec):
    crt = get_cert(f, ns, name)
    for k, v in spec.items():
        if v is None:
            crt["spec"].pop(k, None)
        else:
            crt["spec"][k] = v
    f.client_update(crt)


def _settle(f, seconds=3.0):
    f.advance(seconds)
    assert CertManagerSim.of(f).errors == []


@pytest.fixture()
def f():
    fake = new_fake("v1.19.1", istio=False)
    ca_chain(fake)
    return fake


def _make(f, name="c", **spec):
    body = dict(commonName=name, privateKey={"algorithm": "ECDSA"})
    body.update(spec)
    f.client_create(certificate(name, "default", "ca-issuer", **body))
    return wait_issued(f, "default", name)


def test_duration_change_reissues_only_when_both_set(f):
    _make(f, "d1", duration="1440h")
    _make(f, "d2")
    s1, s2 = _serial(f, "default", "d1"), _serial(f, "default", "d2")
    _edit(f, "default", "d2", duration="720h")  # added where none was set: no re-issue
    _settle(f)
    assert get_cert(f, "default", "d2")["status"]["revision"] == 1 and _serial(f, "default", "d2") == s2
    _edit(f, "default", "d1", duration="720h")
    f.advance(0.3)
    crt = get_cert(f, "default", "d1")
    ready, issuing = condition(crt, "Ready"), condition(crt, "Issuing")
    assert (ready["status"], ready["reason"]) == ("False", "RequestChanged")
    assert ready["message"] == "Fields on existing CertificateRequest resource not up to date: [spec.duration]"
    assert (issuing["status"], issuing["reason"]) == ("True", "RequestChanged")
    crt = wait_issued(f, "default", "d1", revision=2)
    leaf = pki.load_certs(secret_data(f, "default", "d1")["tls.crt"])[0]
    assert leaf.serial_number != s1 and pki.not_after(leaf) - pki.not_before(leaf) == dt.timedelta(hours=720)
    assert condition(crt, "Ready")["observedGeneration"] == 2


def test_renew_before_moves_renewal_time_only(f):
    crt = _make(f, "rb", duration="1440h", renewBefore="360h")
    serial = _serial(f, "default", "rb")
    na = dt.datetime.strptime(crt["status"]["notAfter"], "%Y-%m-%dT%H:%M:%SZ")
    _edit(f, "default", "rb", renewBefore="720h")
    _settle(f)
    crt = get_cert(f, "default", "rb")
    assert crt["status"]["revision"] == 1 and _serial(f, "default", "rb") == serial
    assert crt["status"]["renewalTime"] == (na - dt.timedelta(hours=720)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_encoding_and_secret_template_do_not_reissue(f):
    _make(f, "enc")
    serial = _serial(f, "default", "enc")
    _edit(f, "default", "enc", privateKey={"algorithm": "ECDSA", "encoding": "PKCS8"},
          secretTemplate={"labels": {"team": "mesh"}, "annotations": {"owner": "platform"}})
    _settle(f)
    assert get_cert(f, "default", "enc")["status"]["revision"] == 1 and _serial(f, "default", "enc") == serial
    sec = f.get("v1", "secrets", "default", "enc")
    assert sec["metadata"]["labels"]["team"] == "mesh" and sec["metadata"]["annotations"]["owner"] == "platform"
    assert secret_data(f, "default", "enc")["tls.key"].startswith(b"-----BEGIN EC PRIVATE KEY-----")


@pytest.mark.parametrize("change,reason", [
    ({"dnsNames": ["extra.example"]}, "RequestChanged"),
    ({"isCA": True}, "RequestChanged"),
    ({"issuerRef": {"name": "selfsigned", "kind": "ClusterIssuer", "group": "cert-manager.io"}}, "IncorrectIssuer"),
    ({"privateKey": {"algorithm": "ECDSA", "size": 384}}, "SecretMismatch"),
])
def test_spec_changes_that_reissue(f, change, reason):
    _make(f, "x")
    serial = _serial(f, "default", "x")
    _edit(f, "default", "x", **change)
    f.advance(0.3)
    issuing = condition(get_cert(f, "default", "x"), "Issuing")
    assert (issuing["status"], issuing["reason"]) == ("True", reason)
    wait_issued(f, "default", "x", revision=2)
    assert _serial(f, "default", "x") != serial


def test_incorrect_issuer_message(f):
    _make(f, "ii")
    _edit(f, "default", "ii", issuerRef={"name": "selfsigned", "kind": "ClusterIssuer", "group": "cert-manager.io"})
    f.advance(0.3)
    assert condition(get_cert(f, "default", "ii"), "Issuing")["message"] == \
        'Issuing certificate as Secret was previously issued by "ClusterIssuer.cert-manager.io/ca-issuer"'


def test_key_size_change_with_rotation_policy_never_needs_intervention(f):
    _make(f, "nv", privateKey={"algorithm": "ECDSA", "rotationPolicy": "Never"})
    _edit(f, "default", "nv", privateKey={"algorithm": "ECDSA", "size": 384, "rotationPolicy": "Never"})
    _settle(f, 5)
    crt = get_cert(f, "default", "nv")
    assert crt["status"]["revision"] == 1
    ready = condition(crt, "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False", "SecretMismatch", "Existing private key is not up to date for spec: [spec.privateKey.size]")
    events = [e for e in f.list("v1", "events", "default") if e["reason"] == "Manual"]
    assert events and events[0]["message"].startswith("User intervention required: existing private key in Secret")


def test_secret_deleted_or_emptied_reissues(f):
    _make(f, "gone")
    f.delete("v1", "secrets", "default", "gone")
    f.advance(0.3)
    assert condition(get_cert(f, "default", "gone"), "Issuing")["reason"] == "DoesNotExist"
    wait_issued(f, "default", "gone", revision=2)
    sec = f.get("v1", "secrets", "default", "gone")
    sec["data"] = {}
    f.client_update(sec)
    f.advance(0.3)
    crt = get_cert(f, "default", "gone")
    assert condition(crt, "Issuing")["message"] == "Issuing certificate as Secret does not contain any data"
    wait_issued(f, "default", "gone", revision=3)


def test_renewal_at_renewal_time_keeps_ready_true(f):
    crt = _make(f, "ren", duration="2h", renewBefore="1h")
    serial = _serial(f, "default", "ren")
    rt = dt.datetime.strptime(crt["status"]["renewalTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    f.jump((rt - f.now()).total_seconds() - 5)
    assert get_cert(f, "default", "ren")["status"]["revision"] == 1
    f.jump(5.2)
    crt = get_cert(f, "default", "ren")
    issuing = condition(crt, "Issuing")
    assert issuing["reason"] == "Renewing"
    assert issuing["message"] == "Renewing certificate as renewal was scheduled at " + rt.strftime(
        "%Y-%m-%d %H:%M:%S +0000 UTC")
    assert condition(crt, "Ready")["status"] == "True"  # no "nearing expiry" readiness check
    seen_not_ready = []
    f.run_until(lambda: seen_not_ready.append(condition(get_cert(f, "default", "ren"), "Ready")["status"] != "True")
                or issued(f, "default", "ren", 2), 10)
    assert not any(seen_not_ready)
    assert _serial(f, "default", "ren") != serial


def test_manual_trigger_reissues_and_rotation_policy_always_makes_a_new_key(f):
    _make(f, "man")
    key = _key_der(f, "default", "man")
    crt = get_cert(f, "default", "man")
    crt["status"]["conditions"].append({"type": "Issuing", "status": "True", "reason": "ManuallyTriggered",
                                        "message": "Certificate re-issuance manually triggered",
                                        "lastTransitionTime": "2026-01-01T00:00:00Z",
                                        "observedGeneration": crt["metadata"]["generation"]})
    f.client_update_status(crt)
    f.advance(0.3)
    assert condition(get_cert(f, "default", "man"), "Ready")["status"] == "True"
    assert get_cert(f, "default", "man")["status"].get("nextPrivateKeySecretName", "").startswith("man-")
    wait_issued(f, "default", "man", revision=2)
    assert _key_der(f, "default", "man") != key  # v1.19 default rotationPolicy Always


def test_rotation_policy_never_is_the_default_before_1_18():
    f = new_fake("v1.17.4", istio=False)
    f.client_create(issuer("ss", {"selfSigned": {}}))
    f.client_create(certificate("old", "default", "ss", commonName="old", privateKey={"algorithm": "ECDSA"}))
    wait_issued(f, "default", "old")
    key = _key_der(f, "default", "old")
    _edit(f, "default", "old", commonName="renamed")
    wait_issued(f, "default", "old", revision=2)
    assert _key_der(f, "default", "old") == key


def test_issuer_not_ready_keeps_request_pending(f):
    f.client_create(issuer("wait", {"ca": {"secretName": "not-yet"}}))
    f.client_create(certificate("p", "default", "wait", commonName="p", privateKey={"algorithm": "ECDSA"}))
    _settle(f)
    cr = f.get(CM, "certificaterequests", "default", "p-1")
    ready = condition(cr, "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False", "Pending", "Referenced issuer does not have a Ready status condition")
    crt = get_cert(f, "default", "p")
    assert condition(crt, "Ready")["status"] == "False" and condition(crt, "Issuing")["status"] == "True"
    root = f.get("v1", "secrets", "cert-manager", "root-secret")
    f.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "not-yet", "namespace": "cert-manager"},
              "type": "kubernetes.io/tls", "data": root["data"]})
    wait_issued(f, "default", "p")


def test_signing_failure_sets_issuing_false_and_backs_off(f):
    # A CA Secret whose key does not belong to its certificate: Setup does not notice, signing fails.
    root = f.get("v1", "secrets", "cert-manager", "root-secret")
    other = f.get("v1", "secrets", "cert-manager", "root-secret")
    import base64
    from cryptography.hazmat.primitives.asymmetric import ec
    wrong = pki.encode_key(ec.generate_private_key(ec.SECP256R1()))
    other["data"]["tls.key"] = base64.b64encode(wrong).decode()
    f.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mismatch", "namespace": "cert-manager"},
              "type": "kubernetes.io/tls", "data": other["data"]})
    assert root is not None
    f.client_create(issuer("badca", {"ca": {"secretName": "mismatch"}}))
    f.client_create(certificate("fail", "default", "badca", commonName="fail", privateKey={"algorithm": "ECDSA"}))
    _settle(f)
    crt = get_cert(f, "default", "fail")
    issuing = condition(crt, "Issuing")
    assert (issuing["status"], issuing["reason"]) == ("False", "Failed")
    assert issuing["message"].startswith("The certificate request has failed to complete and will be retried: "
                                         "Error signing certificate: x509: signature over certificate returned by "
                                         "signer is invalid")
    assert crt["status"]["failedIssuanceAttempts"] == 1 and crt["status"]["lastFailureTime"]
    f.jump(1800)
    assert condition(get_cert(f, "default", "fail"), "Issuing")["status"] == "False"  # still backing off (1h)
    f.jump(1900)
    f.advance(2)
    assert get_cert(f, "default", "fail")["status"]["failedIssuanceAttempts"] == 2


def _request_names(f, ns, name):
    return sorted(r["metadata"]["name"] for r in f.list(CM, "certificaterequests", ns)
                  if (r["metadata"].get("annotations") or {}).get("cert-manager.io/certificate-name") == name)


def test_revision_history_limit_one_deletes_the_current_request_during_a_renewal(f):
    """revisionmanager counts every owned request, the in-flight one too: with revisionHistoryLimit 1 (the
    v1.18+ default) the current-revision request is deleted while the renewal runs and Ready stays True."""
    crt = _make(f, "gc", duration="2h", renewBefore="1h")
    assert _request_names(f, "default", "gc") == ["gc-1"]
    rt = dt.datetime.strptime(crt["status"]["renewalTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    f.jump((rt - f.now()).total_seconds() + 0.2)
    seen = []

    def in_flight():
        now = get_cert(f, "default", "gc")
        issuing = condition(now, "Issuing")
        if issuing and issuing["status"] == "True":
            seen.append((_request_names(f, "default", "gc"), condition(now, "Ready")["status"]))
        return issued(f, "default", "gc", 2)
    assert f.run_until(in_flight, 10, step=0.05)
    assert (["gc-2"], "True") in seen  # gc-1 gone while gc-2 is still in flight, Ready still True
    assert _request_names(f, "default", "gc") == ["gc-2"]


def test_without_revision_history_limit_before_1_18_requests_are_kept():
    f = new_fake("v1.17.4", istio=False)
    f.client_create(issuer("ss", {"selfSigned": {}}))
    f.client_create(certificate("keep", "default", "ss", commonName="keep", privateKey={"algorithm": "ECDSA"}))
    wait_issued(f, "default", "keep")
    _edit(f, "default", "keep", commonName="renamed")
    wait_issued(f, "default", "keep", revision=2)
    _settle(f, 1.0)
    assert _request_names(f, "default", "keep") == ["keep-1", "keep-2"]
