# -*- coding: utf-8 -*-
"""The wait loop: adaptive polling, early failures with causes, timeout with the last conditions."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import status as cst
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.wait import Waiter
from unit.fake_api import CERT_PATH, FakeApi, certificate, cond, not_found

ISSUER = "/apis/cert-manager.io/v1/clusterissuers/root"
CR2 = "/apis/cert-manager.io/v1/namespaces/istio-system/certificaterequests/cacerts-2"


class Clock(object):
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 4))
        self.now += seconds


def waiter(client, clock, timeout=60):
    return Waiter(client, "istio-system", "cacerts", CERT_PATH, timeout, clock=clock, sleep=clock.sleep)


def issuing(revision=1):
    return certificate(revision=revision, conditions=[cond("Ready", "True"), cond("Issuing", "True", "ManuallyTriggered")])


def test_returns_at_once_when_the_first_sample_is_done():
    client, clock = FakeApi(), Clock()
    done = certificate(revision=2, conditions=[cond("Ready", "True")])
    assert waiter(client, clock).wait(done, cst.Expectation(True, 1)) == done
    assert client.request_count == 0 and clock.sleeps == []


def test_polls_with_growing_interval_until_new_revision():
    client, clock = FakeApi(), Clock()
    client.on("GET", ISSUER, ready_issuer())
    client.on("GET", CERT_PATH, *([issuing()] * 6 + [certificate(revision=2, conditions=[cond("Ready", "True")])]))
    out = waiter(client, clock).wait(issuing(), cst.Expectation(True, 1))
    assert cst.revision(out) == 2
    assert clock.sleeps == [0.5, 0.75, 1.125, 1.6875, 2.0, 2.0, 2.0]
    assert client.request_count == 7 + 2  # 7 polls + issuer checks (every 3 s, issuer Ready)


def ready_issuer():
    return {"status": {"conditions": [cond("Ready", "True", "KeyPairVerified", "Signing CA verified")]}}


@pytest.fixture
def polling_client():
    client = FakeApi()
    client.on("GET", ISSUER, ready_issuer())
    return client


def test_issuance_failure_names_the_request_reason():
    client, clock = FakeApi(), Clock()
    failed = certificate(revision=1, conditions=[
        cond("Ready", "True"),
        cond("Issuing", "False", "Failed", "The certificate request has failed to complete and will be retried: boom")])
    client.on("GET", CR2, {"status": {"conditions": [cond("Ready", "False", "Failed", "signing failed: boom")]}})
    client.on("GET", ISSUER, ready_issuer())
    with pytest.raises(CertificateError) as err:
        waiter(client, clock).wait(failed, cst.Expectation(True, 1))
    assert "Issuance of Certificate istio-system/cacerts failed: Issuing=False (Failed: The certificate request" in \
        err.value.message
    assert "CertificateRequest istio-system/cacerts-2: Ready=False (Failed: signing failed: boom)" in err.value.message
    assert err.value.result["conditions"][1]["reason"] == "Failed"


def test_issuer_not_ready_over_two_checks_fails_fast():
    client, clock = FakeApi(), Clock()
    client.on("GET", CERT_PATH, issuing())
    client.on("GET", ISSUER, {"status": {"conditions": [
        cond("Ready", "False", "ErrGetKeyPair", 'Error getting keypair for CA issuer: secret "root" not found')]}})
    with pytest.raises(CertificateError) as err:
        waiter(client, clock, timeout=120).wait(issuing(), cst.Expectation(True, 1))
    assert err.value.message.startswith(
        "Certificate istio-system/cacerts cannot be issued: ClusterIssuer root is not Ready: ErrGetKeyPair: "
        'Error getting keypair for CA issuer: secret "root" not found.')
    assert 6 <= clock.now - 100 < 10  # two checks 3 s apart, not the whole timeout


def test_missing_issuer_is_reported():
    client, clock = FakeApi(), Clock()
    client.on("GET", CERT_PATH, issuing())
    client.on("GET", ISSUER, not_found("clusterissuers", "root"))
    with pytest.raises(CertificateError) as err:
        waiter(client, clock).wait(issuing(), cst.Expectation(True, 1))
    assert "ClusterIssuer root does not exist" in err.value.message


def test_timeout_reports_last_conditions_request_and_no_controller(polling_client):
    clock = Clock()
    silent = certificate(revision=None, conditions=None)
    polling_client.on("GET", CERT_PATH, silent)
    polling_client.on("GET", "/apis/cert-manager.io/v1/namespaces/istio-system/certificaterequests/cacerts-1",
                      not_found("certificaterequests", "cacerts-1"))
    with pytest.raises(CertificateError) as err:
        waiter(polling_client, clock, timeout=3).wait(silent, cst.Expectation(True, None))
    assert err.value.message.startswith("Timed out after 3s waiting for Certificate istio-system/cacerts: wanted a new "
                                        "revision (status.revision > 0)")
    assert "no status conditions yet" in err.value.message
    assert "is the cert-manager controller running?" in err.value.message
    assert clock.now - 100 == pytest.approx(3.0)
    assert err.value.result == {"conditions": [], "revision": None}


def test_timeout_includes_pending_request(polling_client):
    clock = Clock()
    polling_client.on("GET", CERT_PATH, issuing())
    polling_client.on("GET", CR2, {"status": {"conditions": [cond("Ready", "False", "Pending", "Waiting on approval")]}})
    with pytest.raises(CertificateError) as err:
        waiter(polling_client, clock, timeout=2).wait(issuing(), cst.Expectation(True, 1))
    assert "last seen: revision 1, Ready=True, Issuing=True (ManuallyTriggered)" in err.value.message
    assert "CertificateRequest istio-system/cacerts-2: Ready=False (Pending: Waiting on approval)" in err.value.message
    assert err.value.result["conditions"][1]["type"] == "Issuing"


def test_deleted_while_waiting():
    client, clock = FakeApi(), Clock()
    client.on("GET", CERT_PATH, not_found())
    with pytest.raises(CertificateError) as err:
        waiter(client, clock).wait(issuing(), cst.Expectation(True, 1))
    assert "was deleted while waiting" in err.value.message
