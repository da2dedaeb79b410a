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
    (spec(isCA=False), spec(isCA=False, usages=["key encipherment", "digital signature"])),
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
