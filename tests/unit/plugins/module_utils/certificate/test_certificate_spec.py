# -*- coding: utf-8 -*-
"""Pre-flight validation: every cert-manager webhook rule, with its exact message."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import spec as cs
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError


def spec(**overrides):
    base = {
        "secretName": "cacerts",
        "commonName": "istio-ca",
        "isCA": True,
        "issuerRef": {"name": "root-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"},
    }
    base.update(overrides)
    return base


def messages(s):
    errors = cs.validate(s)[0]
    return [str(e) for e in errors]


def test_valid_spec_has_no_errors_or_warnings():
    assert cs.validate(spec(duration="720h", renewBefore="240h", usages=["cert sign", "digital signature"],
                            privateKey={"algorithm": "ECDSA", "size": 384})) == ([], [])


def test_exactly_one_hour_and_five_minutes_pass():
    assert messages(spec(duration="1h", renewBefore="5m")) == []


# --- durations (ValidateDuration) ------------------------------------------------------------------------------------

def test_duration_below_one_hour():
    assert messages(spec(duration="59m")) == [
        "spec.duration: Invalid value: 59m0s: certificate duration must be greater than 1h0m0s"]


def test_renew_before_below_five_minutes():
    assert messages(spec(renewBefore="4m59s")) == [
        "spec.renewBefore: Invalid value: 4m59s: certificate renewBefore must be greater than 5m0s"]


def test_renew_before_equal_to_duration():
    assert messages(spec(duration="720h", renewBefore="720h")) == [
        "spec.renewBefore: Invalid value: 720h0m0s: certificate duration 720h0m0s must be greater than "
        "renewBefore 720h0m0s"]


def test_renew_before_checked_against_default_duration_when_unset():
    # cert-manager#4122: the webhook compares with the 90d default when duration is unset.
    assert messages(spec(renewBefore="8760h")) == [
        "spec.renewBefore: Invalid value: 8760h0m0s: certificate duration 2160h0m0s must be greater than "
        "renewBefore 8760h0m0s"]
    assert messages(spec(renewBefore="2159h")) == []


def test_renew_before_and_percentage_are_exclusive_on_both_fields():
    assert messages(spec(duration="720h", renewBefore="240h", renewBeforePercentage=30)) == [
        "spec.renewBefore: Invalid value: 240h0m0s: renewBefore and renewBeforePercentage are mutually exclusive "
        "and cannot both be set",
        "spec.renewBeforePercentage: Invalid value: 30: renewBefore and renewBeforePercentage are mutually "
        "exclusive and cannot both be set"]


def test_percentage_rejected_when_every_webhook_version_rejects_it():
    errors = messages(spec(duration="720h", renewBeforePercentage=100))
    assert errors == ["spec.renewBeforePercentage: Invalid value: 100: certificate renewBeforePercentage must "
                      "result in a renewBefore greater than 5m0s"]


def test_percentage_is_checked_as_its_complement_like_every_released_webhook():
    # 1h with 99%: every released webhook (v1.15-v1.21) checks duration*(100-99)/100 = 36s and refuses.
    assert messages(spec(duration="1h", renewBeforePercentage=99)) == [
        "spec.renewBeforePercentage: Invalid value: 99: certificate renewBeforePercentage must result in a "
        "renewBefore greater than 5m0s"]


def test_percentage_the_webhook_accepts_but_the_controller_reads_differently_warns():
    # 1h with 2%: the webhook checks 58m48s and accepts; the controller renews 1m12s before expiry.
    errors, warnings = cs.validate(spec(duration="1h", renewBeforePercentage=2))
    assert errors == []
    assert len(warnings) == 1 and "renews 1m12s before expiry" in warnings[0]


def test_long_durations_with_small_percentages_overflow_before_v1_21():
    # cert-manager commit 94c413194: v1.20 computes duration*(100-pct) in int64.
    ten_years = spec(duration="87600h", renewBeforePercentage=1)
    assert messages(ten_years) == []
    assert cs.validate(ten_years, "v1.20.3")[0][0].detail.endswith("greater than 5m0s")


def test_percentage_alone_is_not_webhook_validated_but_warned():
    errors, warnings = cs.validate(spec(renewBeforePercentage=150))
    assert errors == [] and "outside 1..99" in warnings[0]


@pytest.mark.parametrize("field", ["duration", "renewBefore"])
def test_go_duration_without_day_unit(field):
    errors = messages(spec(**{field: "30d"}))
    assert len(errors) == 1
    assert errors[0].startswith('spec.%s: Invalid value: "30d": time: unknown unit "d" in duration "30d"' % field)
    assert "no d (day) unit" in errors[0] and "2160h" in errors[0]


def test_go_duration_missing_unit():
    assert messages(spec(duration="720"))[0].startswith(
        'spec.duration: Invalid value: "720": time: missing unit in duration "720"')


# --- issuerRef ---------------------------------------------------------------------------------------------------------

def test_issuer_name_empty():
    assert messages(spec(issuerRef={"name": "", "kind": "ClusterIssuer"})) == [
        "spec.issuerRef.name: Required value: must be specified"]


def test_issuer_kind_in_cert_manager_group():
    assert messages(spec(issuerRef={"name": "x", "kind": "Vault", "group": "cert-manager.io"})) == [
        'spec.issuerRef.kind: Invalid value: "Vault": must be one of Issuer or ClusterIssuer']


def test_issuer_kind_with_empty_group_adds_upstream_hint():
    assert messages(spec(issuerRef={"name": "x", "kind": "AWSPCAClusterIssuer"})) == [
        'spec.issuerRef.kind: Invalid value: "AWSPCAClusterIssuer": must be one of Issuer or ClusterIssuer '
        '(did you forget to set spec.issuerRef.kind.group?)']


def test_external_issuer_group_is_not_checked():
    assert messages(spec(issuerRef={"name": "x", "kind": "AWSPCAClusterIssuer", "group": "awspca.cert-manager.io"})) == []


# --- secretName, identities --------------------------------------------------------------------------------------------

def test_secret_name_empty_and_invalid():
    assert messages(spec(secretName="")) == ["spec.secretName: Required value: must be specified"]
    assert messages(spec(secretName="Bad_Name")) == [
        "spec.secretName: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case "
        "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
        "'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
        "[a-z0-9])?)*')"]


def test_at_least_one_identity():
    s = spec()
    del s["commonName"]
    assert messages(s) == ['spec: Invalid value: "": ' + cs.IDENTITY_MESSAGE]
    assert messages(dict(s, dnsNames=["istiod.istio-system.svc"])) == []
    assert messages(dict(s, literalSubject="CN=istio-ca,O=acme")) == []


def test_common_name_at_most_64_bytes():
    assert messages(spec(commonName="x" * 64)) == []
    assert messages(spec(commonName="x" * 65)) == ["spec.commonName: Too long: may not be more than 64 bytes"]
    assert [str(e) for e in cs.validate(spec(commonName="x" * 65), "v1.16.3")[0]] == [
        "spec.commonName: Too long: must have at most 64 bytes"]


def test_literal_subject_excludes_common_name_and_subject():
    errors = messages(spec(literalSubject="CN=a", subject={"organizations": ["acme"]}))
    assert errors == [
        'spec.commonName: Invalid value: "istio-ca": When providing a `LiteralSubject` no `commonName` may be provided.',
        'spec.subject: Invalid value: certmanager.X509Subject{Organizations:[]string{"acme"}, Countries:[]string(nil), '
        'OrganizationalUnits:[]string(nil), Localities:[]string(nil), Provinces:[]string(nil), '
        'StreetAddresses:[]string(nil), PostalCodes:[]string(nil), SerialNumber:""}: When providing a '
        '`LiteralSubject` no `Subject` properties may be provided.']


def test_ip_and_email_addresses():
    assert messages(spec(ipAddresses=["10.0.0.1", "::1", "10.0.0.300"])) == [
        'spec.ipAddresses[2]: Invalid value: "10.0.0.300": invalid IP address']
    assert messages(spec(emailAddresses=["ca@example.com", "nobody"])) == [
        "spec.emailAddresses[1]: Invalid value: \"nobody\": invalid email address: mail: missing '@' or angle-addr"]


# --- privateKey, signatureAlgorithm --------------------------------------------------------------------------------------

def test_rsa_size_bounds():
    assert messages(spec(privateKey={"algorithm": "RSA", "size": 1024})) == [
        "spec.privateKey.size: Invalid value: 1024: must be between 2048 and 8192 for rsa keyAlgorithm"]
    assert messages(spec(privateKey={"size": 8192})) == []


def test_ecdsa_sizes():
    assert messages(spec(privateKey={"algorithm": "ECDSA", "size": 2048})) == [
        'spec.privateKey.size: Unsupported value: 2048: supported values: "256", "384", "521"']


def test_unknown_algorithm_is_refused_by_the_crd_and_ed25519_size_ignored():
    assert messages(spec(privateKey={"algorithm": "DSA"})) == [
        'spec.privateKey.algorithm: Unsupported value: "DSA": supported values: "RSA", "ECDSA", "Ed25519"']
    assert messages(spec(privateKey={"algorithm": "Ed25519", "size": 1})) == []


def test_signature_algorithm_must_match_key_from_v1_18():
    ecdsa_with_rsa = spec(privateKey={"algorithm": "ECDSA"}, signatureAlgorithm="SHA256WithRSA")
    assert messages(ecdsa_with_rsa) == []  # version unknown: a v1.17 webhook accepts it
    assert cs.validate(ecdsa_with_rsa, "v1.17.4") == ([], [])
    assert [str(e) for e in cs.validate(ecdsa_with_rsa, "v1.18.0")[0]] == [
        'spec.signatureAlgorithm: Invalid value: "SHA256WithRSA": for key algorithm ECDSA the allowed signature '
        'algorithms are [ECDSAWithSHA256 ECDSAWithSHA384 ECDSAWithSHA512]']


# --- usages, revisionHistoryLimit, secretTemplate, nameConstraints ------------------------------------------------------

def test_unknown_usage_is_refused_by_the_crd_enum():
    assert messages(spec(usages=["cert sign", "server-auth"]))[0].startswith(
        'spec.usages[1]: Unsupported value: "server-auth": supported values: "signing", "digital signature"')


def test_revision_history_limit():
    assert messages(spec(revisionHistoryLimit=0)) == [
        "spec.revisionHistoryLimit: Invalid value: 0: must not be less than 1"]


def test_secret_template_annotations_and_labels():
    errors = messages(spec(secretTemplate={
        "annotations": {"cert-manager.io/issuer-name": "x", "cert-manager.io/allow-direct-injection": "true"},
        "labels": {"app": "bad value"}}))
    assert errors[0].startswith('spec.secretTemplate.labels: Invalid value: "bad value": a valid label must be an '
                                'empty string or consist of alphanumeric characters')
    assert ('spec.secretTemplate.annotations: Invalid value: "cert-manager.io/issuer-name": cert-manager.io/* '
            'annotations are not allowed') in errors
    assert len(errors) == 2


def test_name_constraints_need_is_ca():
    errors = messages(spec(isCA=False, nameConstraints={"permitted": {"dnsDomains": ["example.com"]}}))
    assert errors == ['spec.nameConstraints: Invalid value: certmanager.NameConstraints{Critical:false, '
                      'Permitted:(*certmanager.NameConstraintItem)(0x\u2026), Excluded:(*certmanager.NameConstraintItem)'
                      '(nil)}: isCa should be true when nameConstraints is set']


# --- schema layer --------------------------------------------------------------------------------------------------------

def test_missing_required_fields_are_schema_errors():
    assert messages({"commonName": "x"}) == ["spec.secretName: Required value", "spec.issuerRef: Required value"]
    assert messages(spec(issuerRef={"kind": "ClusterIssuer"})) == ["spec.issuerRef.name: Required value"]


def test_type_errors_use_api_server_form_and_stop_webhook_checks():
    assert messages(spec(isCA="yes", duration=720, renewBefore="1m")) == [
        'spec.duration: Invalid value: "integer": spec.duration in body must be of type string: "integer"',
        'spec.isCA: Invalid value: "string": spec.isCA in body must be of type boolean: "string"']
    assert messages(spec(dnsNames=["a", 3])) == [
        'spec.dnsNames[1]: Invalid value: "integer": spec.dnsNames[1] in body must be of type string: "integer"']


def test_spec_must_be_a_mapping():
    assert messages(["x"]) == ['spec: Invalid value: "array": spec in body must be of type object: "array"']


def test_unknown_field_warns():
    errors, warnings = cs.validate(spec(renewbefore="1h"))
    assert errors == [] and warnings[0].startswith("spec.renewbefore is not a Certificate field")


def test_clean_drops_nulls_recursively():
    assert cs.clean({"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None}]}) == {"b": {"d": 1}, "e": [{}]}


def test_check_raises_with_all_messages_and_returns_warnings():
    with pytest.raises(CertificateError) as err:
        cs.check(spec(duration="30m", revisionHistoryLimit=0), "istio-system", "cacerts")
    assert err.value.message.startswith("Certificate istio-system/cacerts is invalid, cert-manager would reject it "
                                        "(nothing was sent to the cluster): spec.duration: Invalid value: 30m0s")
    assert err.value.result["validation_errors"] == [
        "spec.duration: Invalid value: 30m0s: certificate duration must be greater than 1h0m0s",
        "spec.revisionHistoryLimit: Invalid value: 0: must not be less than 1"]
    assert cs.check(spec(extra=1), "ns", "n")[0].startswith("spec.extra")


_ODD = [None, 1, True, "x", "", [], {}, [1], ["a"], [{}], [{"type": 1}], {"a": 1}, 2.5, [{"cron": 5}]]


@pytest.mark.parametrize("field,value", [(f, v) for f in (
    "additionalOutputFormats", "keystores", "renewal", "otherNames", "nameConstraints", "literalSubject",
    "emailAddresses", "ipAddresses", "privateKey", "secretTemplate", "subject", "renewBeforePercentage") for v in _ODD]
    + [("keystores", {"jks": {"create": True, "password": v}}) for v in _ODD]
    + [("renewal", {"policy": "RenewBefore", "windows": [{"cron": v, "windowDuration": "1h"}]}) for v in _ODD]
    + [("renewal", {"windows": v}) for v in _ODD] + [("nameConstraints", {"permitted": v}) for v in _ODD])
def test_odd_values_give_field_errors_never_an_exception(field, value):
    for version in (None, "v1.21.1", "v1.16.0"):
        errors, _warnings = cs.validate(spec(**{field: value}), version)
        assert all(str(e).startswith("spec") for e in errors)


def test_renewal_is_judged_only_for_releases_that_have_it():
    bad = spec(renewal={"policy": "Never", "windows": [{"windowDuration": "1h", "cron": "0 25 * * *"}]})
    assert messages(bad) == []  # version unknown: CRDs before v1.21 have no renewal field
    assert cs.validate(bad, "v1.20.3") == ([], [])
    assert [str(e) for e in cs.validate(bad, "v1.21.0")[0]] == [
        'spec.renewal.policy: Unsupported value: "Never": supported values: "RenewBefore", "Disabled"']
