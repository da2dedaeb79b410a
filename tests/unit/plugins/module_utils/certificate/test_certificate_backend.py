# -*- coding: utf-8 -*-
"""Orchestration against a scripted client: requests sent, changed/reissue decisions, error translation."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.backend import (
    FIELD_MANAGER, NO_CRD, CertificateBackend)
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError, K8sApiError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.wait import Waiter
from unit.fake_api import CERT_PATH, FakeApi, certificate, cond, no_resource, not_found, ready_cert, spec

SECRET = "/api/v1/namespaces/istio-system/secrets/cacerts"
CR1 = "/apis/cert-manager.io/v1/namespaces/istio-system/certificaterequests/cacerts-1"


def params(**overrides):
    base = dict(name="cacerts", namespace="istio-system", spec=spec(), state="present", renew="auto",
                wait=False, wait_timeout=30)
    base.update(overrides)
    return base


def run(client, check_mode=False, diff=False, **overrides):
    backend = CertificateBackend(client, params(**overrides), check_mode=check_mode, diff=diff)
    return backend.run()


def apply_answer(generation=1, revision=None, conditions=None, rv="11"):
    """The API's answer to the apply: the stored object with the applied spec."""
    def answer(body, query):
        return certificate(body["spec"], generation=generation, revision=revision, conditions=conditions, rv=rv)
    return answer


def echo(body, query):
    return body


def test_create_sends_get_apply_get_secret():
    client = FakeApi().on("GET", CERT_PATH, not_found()).on("PATCH", CERT_PATH, apply_answer())
    client.on("GET", SECRET, not_found("secrets", "cacerts", ""))
    result = run(client)
    assert [(c[0], c[1]) for c in client.calls] == [("GET", CERT_PATH), ("PATCH", CERT_PATH), ("GET", SECRET)]
    assert client.calls[1][3] == {"fieldManager": FIELD_MANAGER, "force": "false"}
    assert client.calls[1][2] == {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                                  "metadata": {"name": "cacerts", "namespace": "istio-system"}, "spec": spec()}
    assert result["changed"] is True and result["reissue"] == "spec_change" and result["api_requests"] == 3
    assert result["serial"] is None and result["secret_name"] == "cacerts" and result["spec"] == spec()


def test_unchanged_rerun_is_not_changed_and_costs_three_requests():
    live = ready_cert(spec(duration="720h"))
    client = FakeApi().on("GET", CERT_PATH, live).on("PATCH", CERT_PATH, live).on("GET", SECRET, {"data": {}})
    result = run(client, spec=spec(duration="720h"), wait=True)
    assert result["changed"] is False and result["reissue"] == "none" and result["reissue_reasons"] == []
    assert result["api_requests"] == 3  # wait is satisfied by the apply answer itself
    assert result["revision"] == 1 and result["renewal_time"] == "2026-01-21T00:00:00Z"
    assert result["not_after"] == "2026-01-31T00:00:00Z"  # from status when the Secret has no cert


def test_nulls_are_unset_and_validation_happens_before_any_request():
    client = FakeApi()
    with pytest.raises(CertificateError) as err:
        run(client, spec=spec(duration="30d", renewBefore=None))
    assert client.request_count == 0
    assert 'spec.duration: Invalid value: "30d": time: unknown unit "d" in duration "30d"' in err.value.message


def test_check_mode_is_a_dry_run_and_never_writes_status():
    live = ready_cert()
    client = FakeApi().on("GET", CERT_PATH, live).on("PATCH", CERT_PATH, apply_answer(revision=1))
    client.on("GET", SECRET, {"data": {}})
    result = run(client, check_mode=True, diff=True, renew="true", wait=True, spec=spec(renewBefore="100h"))
    assert client.calls[1][3]["dryRun"] == "All" and client.writes() == []
    assert result["reissue"] == "forced" and result["changed"] is True
    assert result["diff"] == {"before": spec(), "after": spec(renewBefore="100h")}


def test_renew_before_only_changes_nothing_about_issuance():
    client = FakeApi().on("GET", CERT_PATH, ready_cert()).on("PATCH", CERT_PATH, apply_answer(2, 1))
    client.on("GET", SECRET, {"data": {}})
    result = run(client, spec=spec(renewBefore="100h"))
    assert result["changed"] is True and result["reissue"] == "none"
    assert [c[0] for c in client.calls] == ["GET", "PATCH", "GET"]  # no CertificateRequest read, no status write


def test_auto_forces_when_duration_is_added_where_none_was_set():
    client = FakeApi().on("GET", CERT_PATH, ready_cert()).on("PATCH", CERT_PATH, apply_answer(2, 1))
    client.on("GET", CR1, {"spec": {"isCA": True}}).on("PUT", CERT_PATH + "/status", echo)
    client.on("GET", SECRET, {"data": {}})
    result = run(client, spec=spec(duration="720h"))
    assert result["reissue"] == "forced" and result["changed"] is True
    assert result["reissue_reasons"] == [
        "renew=auto: spec.duration changed, which cert-manager does not re-issue for on its own"]
    put = [c for c in client.calls if c[0] == "PUT"][0]
    issuing = put[2]["status"]["conditions"][-1]
    assert issuing["reason"] == "ManuallyTriggered" and issuing["observedGeneration"] == 2
    assert result["api_requests"] == 5


def test_duration_change_seen_by_cert_manager_is_not_forced():
    client = FakeApi().on("GET", CERT_PATH, ready_cert(spec(duration="720h")))
    client.on("PATCH", CERT_PATH, apply_answer(2, 1)).on("GET", CR1, {"spec": {"duration": "720h0m0s"}})
    client.on("GET", SECRET, {"data": {}})
    result = run(client, spec=spec(duration="1440h"))
    assert result["reissue"] == "spec_change" and not [c for c in client.calls if c[0] == "PUT"]


def test_duration_change_with_request_gone_is_forced_by_auto_but_not_by_false():
    for renew, expected in (("auto", "forced"), ("false", "none")):
        client = FakeApi().on("GET", CERT_PATH, ready_cert(spec(duration="720h")))
        client.on("PATCH", CERT_PATH, apply_answer(2, 1)).on("GET", CR1, not_found("certificaterequests", "cacerts-1"))
        client.on("PUT", CERT_PATH + "/status", echo).on("GET", SECRET, {"data": {}})
        assert run(client, spec=spec(duration="1440h"), renew=renew)["reissue"] == expected


def test_renew_true_on_unchanged_spec_forces_and_reports_changed():
    live = ready_cert()
    client = FakeApi().on("GET", CERT_PATH, live).on("PATCH", CERT_PATH, live).on("PUT", CERT_PATH + "/status", echo)
    client.on("GET", SECRET, {"data": {}})
    result = run(client, renew="true")
    assert result["changed"] is True and result["reissue"] == "forced"


def test_renew_true_on_create_forces_nothing():
    client = FakeApi().on("GET", CERT_PATH, not_found()).on("PATCH", CERT_PATH, apply_answer())
    client.on("GET", SECRET, {"data": {}})
    assert run(client, renew="true")["reissue"] == "spec_change" and client.writes()[-1][0] == "PATCH"


def test_wait_for_new_revision_polls_until_issued():
    issuing = certificate(generation=1, revision=None, conditions=[cond("Issuing", "True", "DoesNotExist")])
    issued = ready_cert()
    client = FakeApi().on("GET", CERT_PATH, not_found(), issuing, issued)
    client.on("PATCH", CERT_PATH, apply_answer()).on("GET", SECRET, {"data": {}})
    sleeps = []

    def factory(*args):
        return Waiter(*args, clock=lambda: 0.0, sleep=sleeps.append)
    backend = CertificateBackend(client, params(wait=True), waiter_factory=factory)
    result = backend.run()
    assert result["revision"] == 1 and sleeps == [0.5, 0.75] and result["api_requests"] == 5


def test_crd_missing_is_named():
    client = FakeApi().on("GET", CERT_PATH, no_resource())
    with pytest.raises(CertificateError) as err:
        run(client)
    assert err.value.message == NO_CRD + "." and client.request_count == 1


def test_webhook_not_ready_is_explained():
    message = ('Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to call webhook: '
               'Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s": connect: connection refused')
    client = FakeApi().on("GET", CERT_PATH, not_found())
    client.on("PATCH", CERT_PATH, K8sApiError(500, "InternalError", message))
    with pytest.raises(CertificateError) as err:
        run(client)
    assert err.value.message.startswith("cert-manager's admission webhook is not ready")
    assert "meshpki.istio_ca.cert_manager role" in err.value.message and message in err.value.message


def test_ssa_conflict_names_manager_and_field_and_never_forces():
    conflict = K8sApiError(409, "Conflict", 'Apply failed with 1 conflict: conflict with "kubectl": .spec.duration',
                           {"causes": [{"reason": "FieldManagerConflict", "message": 'conflict with "kubectl"',
                                        "field": ".spec.duration"}]})
    client = FakeApi().on("GET", CERT_PATH, ready_cert()).on("PATCH", CERT_PATH, conflict)
    with pytest.raises(CertificateError) as err:
        run(client, spec=spec(duration="720h"))
    assert '"kubectl" owns .spec.duration' in err.value.message and "--force-conflicts" in err.value.message
    assert err.value.result["conflicts"] == [{"manager": 'conflict with "kubectl"', "field": ".spec.duration"}]


def test_webhook_denial_is_reported_with_its_text():
    # A rule of cert-manager >= v1.18 that the pre-flight check leaves to the webhook when no version is given.
    denial = K8sApiError(403, "Forbidden", 'admission webhook "webhook.cert-manager.io" denied the request: '
                         'spec.signatureAlgorithm: Invalid value: "ECDSAWithSHA256": for key algorithm RSA the '
                         "allowed signature algorithms are [SHA256WithRSA SHA384WithRSA SHA512WithRSA]")
    client = FakeApi().on("GET", CERT_PATH, not_found()).on("PATCH", CERT_PATH, denial)
    with pytest.raises(CertificateError) as err:
        run(client, spec=spec(signatureAlgorithm="ECDSAWithSHA256"))
    assert err.value.message.startswith("cert-manager rejected Certificate istio-system/cacerts: admission webhook")


def test_other_api_errors_pass_through():
    client = FakeApi().on("GET", CERT_PATH, K8sApiError(403, "Forbidden", "forbidden"))
    with pytest.raises(K8sApiError):
        run(client)


def test_absent_deletes_and_reports_truthfully():
    client = FakeApi().on("DELETE", CERT_PATH, {"status": "Success"}, not_found())
    assert run(client, state="absent")["changed"] is True
    assert run(client, state="absent")["changed"] is False


def test_absent_check_mode_and_diff_only_reads():
    client = FakeApi().on("GET", CERT_PATH, ready_cert())
    result = run(client, state="absent", check_mode=True, diff=True)
    assert result["changed"] is True and result["diff"] == {"before": spec(), "after": {}}
    assert client.writes() == [] and result["secret_name"] == "cacerts"
    client = FakeApi().on("GET", CERT_PATH, no_resource())
    assert run(client, state="absent", check_mode=True)["changed"] is False


def test_absent_without_crd_is_ok():
    client = FakeApi().on("DELETE", CERT_PATH, no_resource())
    assert run(client, state="absent")["changed"] is False


def test_absent_waits_until_gone():
    client = FakeApi().on("DELETE", CERT_PATH, {"status": "Success"}).on("GET", CERT_PATH, ready_cert(), not_found())

    def factory(*args):
        return Waiter(*args, clock=lambda: 0.0, sleep=lambda seconds: None)
    result = CertificateBackend(client, params(state="absent", wait=True), waiter_factory=factory).run()
    assert result["changed"] is True and [c[0] for c in client.calls] == ["DELETE", "GET", "GET"]


def test_rotation_policy_never_key_change_warns():
    client = FakeApi().on("GET", CERT_PATH, ready_cert()).on("PATCH", CERT_PATH, apply_answer(2, 1))
    client.on("GET", SECRET, {"data": {}})
    backend = CertificateBackend(client, params(spec=spec(privateKey={"algorithm": "ECDSA", "rotationPolicy": "Never"})))
    result = backend.run()
    assert result["reissue"] == "spec_change" and "rotationPolicy is Never" in backend.warnings[0]


def test_cert_manager_version_selects_the_release_rules_before_any_request():
    # v1.19's webhook checks the signature algorithm against the key (RSA without privateKey), v1.17's does not.
    client = FakeApi()
    with pytest.raises(CertificateError) as err:
        run(client, spec=spec(signatureAlgorithm="ECDSAWithSHA256"), cert_manager_version="v1.19.1")
    assert "cert-manager would reject it" in err.value.message
    assert err.value.result["validation_errors"] == [
        'spec.signatureAlgorithm: Invalid value: "ECDSAWithSHA256": for key algorithm RSA the allowed signature '
        "algorithms are [SHA256WithRSA SHA384WithRSA SHA512WithRSA]"]
    assert client.calls == []
    with pytest.raises(CertificateError) as err:
        run(client, spec=spec(otherNames=[{"oid": "1.2.3", "utf8Value": "x"}]), cert_manager_version="v1.19.1",
            cert_manager_feature_gates="OtherNames=false")
    assert "Feature gate OtherNames must be enabled" in err.value.message
    with pytest.raises(CertificateError) as err:
        run(client, spec=spec(), cert_manager_version="latest")
    assert "is not a version such as v1.19.1" in err.value.message
    assert client.calls == []
