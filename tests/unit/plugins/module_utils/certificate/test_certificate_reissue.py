# -*- coding: utf-8 -*-
"""Which spec changes cert-manager re-issues for (docs/upstream/cert-manager.md#reissue-triggers), and renew=auto."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import reissue as r
from unit.fake_api import spec

CR_WITH_DURATION = {"spec": {"duration": "720h0m0s"}}
CR_WITHOUT_DURATION = {"spec": {}}


def decide(old, new, request, known=True):
    changed = r.changed_issuance_fields(old, new)
    return changed, r.cert_manager_reasons(changed, new, request, request_known=known)


@pytest.mark.parametrize("old, new", [
    (spec(dnsNames=["a", "b"]), spec(dnsNames=["b", "a"])),
    (spec(duration="720h"), spec(duration="720h0m0s")),
    (spec(issuerRef={"name": "root"}), spec(issuerRef={"name": "root", "kind": "Issuer", "group": "cert-manager.io"})),
    (spec(privateKey={"algorithm": "RSA"}), spec(privateKey={"size": 2048})),
    (spec(usages=["digital signature", "key encipherment"]), spec(usages=["key encipherment", "digital signature"])),
    (spec(renewBefore="240h"), spec(renewBefore="100h")),
    (spec(), spec(renewBeforePercentage=25)),
    (spec(), spec(secretTemplate={"labels": {"a": "b"}})),
    (spec(), spec(privateKey={"encoding": "PKCS8", "rotationPolicy": "Never"})),
    (spec(), spec(revisionHistoryLimit=3, additionalOutputFormats=[{"type": "DER"}])),
])
def test_changes_cert_manager_compares_as_equal_or_ignores(old, new):
    assert r.changed_issuance_fields(old, new) == []


def test_duration_added_where_none_was_set_is_not_reissued():
    changed, reasons = decide(spec(), spec(duration="720h"), CR_WITHOUT_DURATION)
    assert changed == ["duration"] and reasons == []
    assert r.needs_current_request(changed)


def test_duration_removed_is_not_reissued():
    changed, reasons = decide(spec(duration="720h"), spec(), CR_WITH_DURATION)
    assert changed == ["duration"] and reasons == []


def test_duration_changed_with_both_set_is_request_changed():
    changed, reasons = decide(spec(duration="720h"), spec(duration="2160h"), CR_WITH_DURATION)
    assert reasons == ["RequestChanged: spec.duration differs from the current CertificateRequest"]


def test_duration_changed_while_request_gone_is_not_reissued():
    reasons = decide(spec(duration="720h"), spec(duration="2160h"), None)[1]
    assert reasons == []


@pytest.mark.parametrize("field, old, new", [
    ("subject", {}, {"organizations": ["acme"]}),
    ("isCA", False, True),
    ("usages", ["digital signature"], ["digital signature", "server auth"]),
    ("literalSubject", "", "CN=x"),
])
def test_request_only_fields(field, old, new):
    before, after = spec(**{field: old}), spec(**{field: new})
    changed, with_request = decide(before, after, CR_WITHOUT_DURATION)
    assert field in changed and with_request and with_request[0].startswith("RequestChanged: spec.%s" % field)
    without_request = decide(before, after, None)[1]
    assert without_request == []  # the fallback compares only names with the issued certificate


@pytest.mark.parametrize("field, value", [("dnsNames", ["x.example"]), ("commonName", "other"),
                                          ("ipAddresses", ["10.0.0.1"]), ("uris", ["spiffe://x"])])
def test_name_changes_reissue_with_or_without_request(field, value):
    changed, with_request = decide(spec(), spec(**{field: value}), CR_WITHOUT_DURATION)
    assert with_request and not r.needs_current_request(changed)
    without_request = decide(spec(), spec(**{field: value}), None)[1]
    assert without_request[0].startswith("SecretMismatch: spec.%s" % field)


def test_issuer_and_key_changes_are_judged_from_the_secret():
    changed, reasons = decide(spec(), spec(issuerRef={"name": "other", "kind": "ClusterIssuer"}), None)
    assert reasons[0].startswith("IncorrectIssuer") and not r.needs_current_request(changed)
    changed, reasons = decide(spec(), spec(privateKey={"algorithm": "ECDSA"}), None)
    assert reasons[0].startswith("SecretMismatch: spec.privateKey")
    changed, reasons = decide(spec(privateKey={"size": 2048}), spec(privateKey={"size": 4096}), None)
    assert reasons and changed == ["privateKey"]


def test_unwatched_fields_are_never_reissued():
    changed, reasons = decide(spec(), spec(signatureAlgorithm="SHA512WithRSA"), CR_WITHOUT_DURATION)
    assert changed == ["signatureAlgorithm"] and reasons == []
    assert not r.needs_current_request(changed)


def test_auto_renew_forces_exactly_when_cert_manager_will_not():
    assert r.auto_renew_reason(["duration"], False, True) == (
        "renew=auto: spec.duration changed, which cert-manager does not re-issue for on its own")
    assert r.auto_renew_reason(["duration"], True, True) is None  # cert-manager re-issues by itself
    assert r.auto_renew_reason([], False, True) is None  # e.g. renewBefore only
    assert r.auto_renew_reason(["duration"], False, False) is None  # never issued: the first issuance comes anyway


def test_rotation_policy_never_warning():
    new = spec(privateKey={"algorithm": "ECDSA", "rotationPolicy": "Never"})
    assert "rotationPolicy is Never" in r.rotation_never_warning(["privateKey"], new)
    assert r.rotation_never_warning(["duration"], new) is None
    assert r.rotation_never_warning(["privateKey"], spec(privateKey={"algorithm": "ECDSA"})) is None


@pytest.mark.parametrize("old, new", [
    # RequestMatchesSpec compares the request's usages (a verbatim copy of crt.Spec.Usages) raw.
    (spec(), spec(usages=["digital signature", "key encipherment"])),
    (spec(usages=["digital signature", "key encipherment"]), spec()),
    (spec(isCA=True), spec(isCA=True, usages=["cert sign"])),
    (spec(isCA=True, usages=["digital signature"]), spec(isCA=True, usages=["digital signature", "cert sign"])),
])
def test_usages_are_compared_raw_as_cert_manager_does(old, new):
    changed, reasons = decide(old, new, CR_WITHOUT_DURATION)
    assert changed == ["usages"]
    assert reasons == ["RequestChanged: spec.usages differs from the current CertificateRequest"]


ISSUED = {"status": {"revision": 2, "conditions": [{"type": "Ready", "status": "True"}]}}
RENEWING = {"status": {"revision": 2, "conditions": [
    {"type": "Ready", "status": "True"}, {"type": "Issuing", "status": "True"}]}}


def test_prediction_is_certain_with_the_current_request_and_nothing_in_flight():
    changed = r.changed_issuance_fields(spec(), spec(usages=["digital signature"]))
    assert r.prediction_doubt(changed, ISSUED, CR_WITHOUT_DURATION, True) is None
    assert r.prediction_doubt([], RENEWING, None, True) is None  # nothing changed: nothing to predict


def test_prediction_is_uncertain_when_the_current_request_is_gone():
    changed = r.changed_issuance_fields(spec(), spec(usages=["digital signature"]))
    doubt = r.prediction_doubt(changed, ISSUED, None, True)
    assert "current CertificateRequest is gone" in doubt and "spec.usages" in doubt
    # Names are judged from the issued certificate: the missing request does not matter for them.
    assert r.prediction_doubt(["dnsNames"], ISSUED, None, False) is None


def test_prediction_is_uncertain_while_an_issuance_is_in_flight():
    doubt = r.prediction_doubt(["duration"], RENEWING, CR_WITH_DURATION, True)
    assert "in flight" in doubt
