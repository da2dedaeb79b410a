"""cert-manager admission in kubesim: CRD schema, webhook availability, webhook rules and texts.

Rules from cert-manager internal/apis/certmanager/validation; the simulation must refuse what the real
webhook refuses (and accept its documented quirks, like the renewBeforePercentage bug).
"""

from __future__ import annotations

import pytest

from kubesim.controllers.certmanager import duration as gd
from kubesim.controllers.certmanager import validation as val
from kubesim.controllers.base import ApiError
from kubesim.tests_support_fakecluster import (certificate, ensure_namespace, issuer, new_fake,
                                               set_deployment_available)

V119 = (1, 19, 1)


def messages(spec, version=V119):
    return [str(e) for e in val.validate_certificate_spec(spec, version)]


def base_spec(**kw):
    spec = {"secretName": "s", "issuerRef": {"name": "ca", "kind": "ClusterIssuer"}, "commonName": "x"}
    spec.update(kw)
    return spec


# ------------------------------------------------------------------ Go durations


@pytest.mark.parametrize("text,ns,shown", [
    ("1h", gd.HOUR, "1h0m0s"), ("2160h", 2160 * gd.HOUR, "2160h0m0s"), ("90s", 90 * gd.SECOND, "1m30s"),
    ("1.5h", 90 * gd.MINUTE, "1h30m0s"), ("0", 0, "0s"), ("300ms", 300 * gd.MILLISECOND, "300ms")])
def test_go_durations_round_trip(text, ns, shown):
    assert gd.parse(text) == ns
    assert gd.to_string(ns) == shown


@pytest.mark.parametrize("text,error", [
    ("30d", 'time: unknown unit "d" in duration "30d"'), ("10", 'time: missing unit in duration "10"'),
    ("h", 'time: invalid duration "h"')])
def test_go_duration_errors(text, error):
    with pytest.raises(gd.DurationError, match="^" + error.replace("(", r"\(") + "$"):
        gd.parse(text)


# ------------------------------------------------------------------ webhook rules (Certificate)


def test_valid_tutorial_specs_pass():
    assert messages(base_spec(isCA=True, duration="21600h")) == []
    assert messages(base_spec(duration="1440h", renewBefore="360h", dnsNames=["istiod.istio-system.svc"],
                              usages=["digital signature", "key encipherment", "cert sign"])) == []


def test_duration_minimum_is_one_hour_inclusive():
    assert messages(base_spec(duration="1h")) == []
    assert messages(base_spec(duration="59m")) == [
        "spec.duration: Invalid value: 59m0s: certificate duration must be greater than 1h0m0s"]


def test_renew_before_rules():
    assert messages(base_spec(duration="2h", renewBefore="4m")) == [
        "spec.renewBefore: Invalid value: 4m0s: certificate renewBefore must be greater than 5m0s"]
    assert messages(base_spec(duration="720h", renewBefore="720h")) == [
        "spec.renewBefore: Invalid value: 720h0m0s: certificate duration 720h0m0s must be greater than "
        "renewBefore 720h0m0s"]


def test_renew_before_is_checked_against_the_default_duration_when_duration_is_unset():
    # cert-manager#4122: no duration means 2160h in the webhook.
    assert messages(base_spec(renewBefore="8720h")) == [
        "spec.renewBefore: Invalid value: 8720h0m0s: certificate duration 2160h0m0s must be greater than "
        "renewBefore 8720h0m0s"]
    assert messages(base_spec(renewBefore="2000h")) == []


def test_renew_before_and_percentage_are_exclusive():
    out = messages(base_spec(duration="720h", renewBefore="24h", renewBeforePercentage=20))
    assert out[:2] == [
        "spec.renewBefore: Invalid value: 24h0m0s: renewBefore and renewBeforePercentage are mutually exclusive "
        "and cannot both be set",
        "spec.renewBeforePercentage: Invalid value: 20: renewBefore and renewBeforePercentage are mutually "
        "exclusive and cannot both be set"]


def test_renew_before_percentage_complement_bug_is_kept():
    # 1h cert, 95%: the real renewBefore (57m) is fine, but the webhook checks 5% = 3m and refuses.
    assert messages(base_spec(duration="1h", renewBeforePercentage=95)) == [
        "spec.renewBeforePercentage: Invalid value: 95: certificate renewBeforePercentage must result in a "
        "renewBefore greater than 5m0s"]
    # 1h cert, 2%: the effective renewBefore (1m12s) is below the minimum, yet the webhook accepts it.
    assert messages(base_spec(duration="1h", renewBeforePercentage=2)) == []


def test_usages_issuer_ref_and_private_key():
    assert messages(base_spec(usages=["digital signature", "bogus"])) == [
        'spec.usages[1]: Invalid value: "bogus": unknown keyusage']
    assert messages(base_spec(issuerRef={"kind": "ClusterIssuer"})) == [
        "spec.issuerRef.name: Required value: must be specified"]
    assert messages(base_spec(issuerRef={"name": "x", "kind": "AWSPCAIssuer"})) == [
        'spec.issuerRef.kind: Invalid value: "AWSPCAIssuer": must be one of Issuer or ClusterIssuer (did you '
        'forget to set spec.issuerRef.kind.group?)']
    assert messages(base_spec(issuerRef={"name": "x", "kind": "AWSPCAIssuer", "group": "awspca.cert-manager.io"})) == []
    assert messages(base_spec(privateKey={"algorithm": "RSA", "size": 1024})) == [
        "spec.privateKey.size: Invalid value: 1024: must be between 2048 and 8192 for rsa keyAlgorithm"]
    assert messages(base_spec(privateKey={"algorithm": "ECDSA", "size": 512})) == [
        'spec.privateKey.size: Unsupported value: 512: supported values: "256", "384", "521"']
    assert messages(base_spec(privateKey={"algorithm": "Ed25519", "size": 1})) == []


def test_identities_common_name_literal_subject_and_misc():
    # The wording changed in v1.20 (certificate.go); 1.19 lists the SAN kinds in the older order.
    assert messages({"secretName": "s", "issuerRef": {"name": "ca"}}) == [
        'spec: Invalid value: "": at least one of commonName (from the commonName field or from a literalSubject), '
        'dnsNames, uriSANs, ipAddresses, emailSANs or otherNames must be set']
    assert messages({"secretName": "s", "issuerRef": {"name": "ca"}}, (1, 20, 0)) == [
        'spec: Invalid value: "": at least one of commonName (from the commonName field or from a literalSubject), '
        'dnsNames, emailSANs, ipAddresses, otherNames, or uriSANs must be set']
    assert messages(base_spec(commonName="c" * 65)) == [
        "spec.commonName: Too long: may not be more than 64 bytes"]
    assert messages(base_spec(commonName="c" * 65), (1, 16, 0)) == [
        "spec.commonName: Too long: must have at most 64 bytes"]
    assert messages(base_spec(literalSubject="CN=a,O=b")) == [
        'spec.commonName: Invalid value: "x": When providing a `LiteralSubject` no `commonName` may be provided.']
    assert messages(base_spec(revisionHistoryLimit=0)) == [
        "spec.revisionHistoryLimit: Invalid value: 0: must not be less than 1"]
    assert messages(base_spec(secretTemplate={"annotations": {"cert-manager.io/foo": "x",
                                                              "cert-manager.io/allow-direct-injection": "true"}})) == [
        'spec.secretTemplate.annotations: Invalid value: "cert-manager.io/foo": cert-manager.io/* annotations are '
        'not allowed']
    assert messages(base_spec(nameConstraints={"permitted": {"dnsDomains": ["a"]}}))[0].endswith(
        "isCa should be true when nameConstraints is set")
    assert messages(base_spec(ipAddresses=["10.0.0.300"])) == [
        'spec.ipAddresses[0]: Invalid value: "10.0.0.300": invalid IP address']


def test_aggregate_wraps_several_errors_in_brackets():
    errs = val.validate_certificate_spec(base_spec(duration="30m", renewBefore="1m"), V119)
    text = val.aggregate(errs)
    assert text.startswith("[spec.duration: Invalid value: 30m0s") and text.endswith("]")
    assert ", spec.renewBefore: Invalid value: 1m0s: certificate renewBefore must be greater than 5m0s" in text


def test_issuer_rules():
    assert [str(e) for e in val.validate_issuer_spec({"ca": {}})] == ["spec.ca.secretName: Required value"]
    assert [str(e) for e in val.validate_issuer_spec({})] == [
        "spec: Required value: at least one issuer must be configured"]
    assert [str(e) for e in val.validate_issuer_spec({"ca": {"secretName": "x"}, "selfSigned": {}})] == [
        "spec.selfSigned: Forbidden: may not specify more than one issuer type"]


def test_rotation_policy_warning_only_in_1_18_and_1_19():
    spec = base_spec()
    assert val.certificate_warnings(spec, (1, 17, 5)) == []
    assert val.certificate_warnings(spec, (1, 18, 0)) == [val.ROTATION_POLICY_WARNING]
    assert val.certificate_warnings(spec, (1, 19, 1)) == [val.ROTATION_POLICY_WARNING]
    assert val.certificate_warnings(spec, (1, 20, 0)) == []
    assert val.certificate_warnings(base_spec(privateKey={"rotationPolicy": "Never"}), (1, 19, 0)) == []


# ------------------------------------------------------------------ admission through the cluster


@pytest.fixture(scope="module")
def fake():
    f = new_fake("v1.19.1", istio=False)
    ensure_namespace(f, "apps")
    return f


def test_webhook_denial_is_a_403_with_the_webhook_prefix(fake):
    with pytest.raises(ApiError) as exc:
        fake.client_create(certificate("bad", "apps", "ca", commonName="c", duration="1440h", renewBefore="1440h"))
    err = exc.value
    assert (err.code, err.reason) == (403, "Forbidden")
    assert err.message == ('admission webhook "webhook.cert-manager.io" denied the request: spec.renewBefore: '
                           'Invalid value: 1440h0m0s: certificate duration 1440h0m0s must be greater than renewBefore '
                           '1440h0m0s')
    assert fake.get("cert-manager.io/v1", "certificates", "apps", "bad") is None


def test_dry_run_is_validated_too(fake):
    with pytest.raises(ApiError) as exc:
        fake.client_create(issuer("broken", {"ca": {}}), dry_run=True)
    assert exc.value.message.endswith("denied the request: spec.ca.secretName: Required value")
    fake.client_create(issuer("fine", {"selfSigned": {}}), dry_run=True)
    assert fake.get("cert-manager.io/v1", "clusterissuers", None, "fine") is None


def test_undecodable_duration_is_a_400(fake):
    with pytest.raises(ApiError) as exc:
        fake.client_create(certificate("d", "apps", "ca", commonName="c", duration="90d"))
    assert exc.value.code == 400
    assert exc.value.message == ('admission webhook "webhook.cert-manager.io" denied the request: time: unknown unit '
                                 '"d" in duration "90d"')


def test_crd_schema_enums_are_422_invalid(fake):
    with pytest.raises(ApiError) as exc:
        fake.client_create(certificate("e", "apps", "ca", privateKey={"encoding": "DER"}))
    err = exc.value
    assert (err.code, err.reason) == (422, "Invalid")
    assert err.message == ('Certificate.cert-manager.io "e" is invalid: spec.privateKey.encoding: Unsupported value: '
                           '"DER": supported values: "PKCS1", "PKCS8"')
    assert err.details["causes"] == [{"reason": "FieldValueNotSupported", "field": "spec.privateKey.encoding",
                                      "message": 'Unsupported value: "DER": supported values: "PKCS1", "PKCS8"'}]
    with pytest.raises(ApiError) as exc:
        fake.client_create(certificate("u", "apps", "ca", usages=["server auth", "serverAuth"]))
    assert exc.value.code == 422 and 'spec.usages[1]: Unsupported value: "serverAuth"' in exc.value.message


def test_warning_returned_for_unset_rotation_policy(fake):
    fake.warnings.clear()
    fake.client_create(certificate("warned", "apps", "missing-issuer", commonName="c"))
    assert fake.warnings == [val.ROTATION_POLICY_WARNING]
    fake.warnings.clear()
    fake.client_create(certificate("quiet", "apps", "missing-issuer", commonName="c",
                                   privateKey={"rotationPolicy": "Always"}))
    assert fake.warnings == []


def test_status_updates_go_through_the_webhook_too(fake):
    crt = fake.get("cert-manager.io/v1", "certificates", "apps", "quiet")
    crt["spec"]["duration"] = "10m"  # only reachable by a status write carrying a bad spec
    with pytest.raises(ApiError) as exc:
        fake.client_update_status(crt)
    assert exc.value.code == 403


def test_disable_validation_label_skips_the_validating_webhook(fake):
    ensure_namespace(fake, "novalidate", {"cert-manager.io/disable-validation": "true"})
    fake.client_create(certificate("lax", "novalidate", "ca", commonName="c", duration="10m"))
    assert fake.get("cert-manager.io/v1", "certificates", "novalidate", "lax") is not None


def test_webhook_not_available_fails_like_connection_refused():
    f = new_fake("v1.19.1", istio=False, webhook_available=False)
    with pytest.raises(ApiError) as exc:
        f.client_create(issuer("selfsigned", {"selfSigned": {}}))
    err = exc.value
    assert (err.code, err.reason) == (500, "InternalError")
    assert err.message == (
        'Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to call webhook: Post '
        '"https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s": dial tcp 10.96.0.10:443: '
        'connect: connection refused')
    assert err.details == {"causes": [{"message": err.message[len("Internal error occurred: "):]}]}
    # CertificateRequests meet the mutating webhook first.
    with pytest.raises(ApiError) as exc:
        f.client_create({"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
                         "metadata": {"name": "cr", "namespace": "default"},
                         "spec": {"request": "", "issuerRef": {"name": "x"}}})
    assert "/mutate?timeout=30s" in exc.value.message
    set_deployment_available(f, "cert-manager", "cert-manager-webhook", True)
    f.client_create(issuer("selfsigned", {"selfSigned": {}}))


def test_ca_bundle_not_injected_yet_is_an_unknown_authority_error():
    f = new_fake("v1.19.1", istio=False)
    set_deployment_available(f, "cert-manager", "cert-manager-cainjector", False)
    with pytest.raises(ApiError) as exc:
        f.client_create(issuer("selfsigned", {"selfSigned": {}}))
    assert exc.value.code == 500
    assert exc.value.message.endswith("tls: failed to verify certificate: x509: certificate signed by unknown "
                                      "authority")


def test_crds_without_a_webhook_accept_anything():
    f = new_fake(None, istio=False)
    f.create({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
              "metadata": {"name": "certificates.cert-manager.io"}, "spec": {}})
    f.advance(0.1)
    f.client_create(certificate("unchecked", "default", "ca", duration="1m"))
    assert f.get("cert-manager.io/v1", "certificates", "default", "unchecked") is not None


def test_freshly_installed_webhook_is_unverifiable_until_cainjector_injects_its_ca():
    f = new_fake("v1.19.1", istio=False, preinstalled=False)
    with pytest.raises(ApiError) as exc:
        f.client_create(issuer("early", {"selfSigned": {}}), dry_run=True)
    assert exc.value.code == 500 and "x509: certificate signed by unknown authority" in exc.value.message
    f.advance(2.5)
    f.client_create(issuer("early", {"selfSigned": {}}), dry_run=True)


def test_older_webhooks_answer_406_and_wait_10s():
    f = new_fake("v1.11.5", istio=False)
    with pytest.raises(ApiError) as exc:
        f.client_create(issuer("broken", {"ca": {}}))
    assert (exc.value.code, exc.value.reason) == (406, "NotAcceptable")
    set_deployment_available(f, "cert-manager", "cert-manager-webhook", False)
    with pytest.raises(ApiError) as exc:
        f.client_create(issuer("broken", {"ca": {}}))
    assert "/validate?timeout=10s" in exc.value.message


def test_certificate_request_rules(fake):
    import base64

    from kubesim import pki
    cr = {"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest",
          "metadata": {"name": "manual", "namespace": "apps"}, "spec": {"issuerRef": {"name": "x"}}}
    with pytest.raises(ApiError) as exc:
        fake.client_create(cr, dry_run=True)
    assert exc.value.message.endswith("denied the request: spec.request: Required value: must be specified")
    cr["spec"]["request"] = base64.b64encode(b"junk").decode()
    with pytest.raises(ApiError) as exc:
        fake.client_create(cr, dry_run=True)
    assert exc.value.message.endswith('spec.request: Invalid value: []byte{0x6a, 0x75, 0x6e, 0x6b}: failed to decode '
                                      'csr: error decoding certificate request PEM block')
    key = pki.generate_key("ECDSA", 256)
    csr = pki.build_csr(key, pki.build_name("manual"), None)
    from cryptography.hazmat.primitives import serialization
    cr["spec"]["request"] = base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()
    created = fake.client_create(cr)
    created["spec"]["isCA"] = True
    with pytest.raises(ApiError) as exc:
        fake.client_update(created)
    assert exc.value.message.endswith("denied the request: spec: Forbidden: cannot change spec after creation")


def test_acme_and_vault_issuer_required_fields():
    assert [str(e) for e in val.validate_issuer_spec({"acme": {}})] == [
        "spec.acme.privateKeySecretRef.name: Required value: private key secret name is a required field",
        "spec.acme.server: Required value: acme server URL is a required field"]
    assert [str(e) for e in val.validate_issuer_spec({"vault": {"server": "https://v", "path": "pki/sign/x"}})] == [
        "spec.vault.auth: Required value: please supply one of: appRole, kubernetes, tokenSecretRef, "
        "clientCertificate, aws"]


def test_escaped_literal_subject_is_admitted_issued_and_not_reissued():
    # certificate_test.go's special-characters case: go-ldap ParseDN reads "\," and '\"' as escapes and Go's
    # encoding/asn1 takes "C=Spain" as it is (cryptography's RFC 4514 parser refuses a 5-letter country).
    from kubesim.tests_support_fakecluster import ca_chain, ensure_namespace, secret_data, wait_issued
    from kubesim import pki
    from cryptography.x509.oid import NameOID

    f = new_fake("v1.21.1", istio=False)
    ensure_namespace(f, "apps")
    ca_chain(f)
    literal = ('CN=James \\"Jim\\" Smith\\, III,DC=dc,DC=net,UID=jamessmith,STREET=La Rambla,L=Barcelona,C=Spain,'
               'O=Acme,OU=IT,OU=Admins')
    f.client_create(certificate("lit", "apps", "selfsigned", literalSubject=literal, dnsNames=["lit.example"]))
    crt = wait_issued(f, "apps", "lit")
    leaf = pki.load_certs(secret_data(f, "apps", "lit")["tls.crt"])[0]
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'James "Jim" Smith, III'
    assert leaf.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "Spain"
    f.advance(60)
    assert wait_issued(f, "apps", "lit")["status"]["revision"] == crt["status"]["revision"] == 1
