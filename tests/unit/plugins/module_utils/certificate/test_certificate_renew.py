# -*- coding: utf-8 -*-
"""The cmctl-renew write: full status UPDATE with resourceVersion, 409 -> re-read and retry."""

from __future__ import absolute_import, division, print_function

import datetime

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError, K8sApiError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.renew import MAX_CONFLICTS, trigger
from unit.fake_api import CERT_PATH, FakeApi, not_found, ready_cert

NOW = datetime.datetime(2026, 8, 22, 10, 0, 0, tzinfo=datetime.timezone.utc)


def conflict():
    return K8sApiError(409, "Conflict", 'Operation cannot be fulfilled on certificates.cert-manager.io "cacerts": the '
                       "object has been modified; please apply your changes to the latest version and try again")


def echo(body, query):
    return body


def test_writes_status_subresource_with_resource_version_and_keeps_ready():
    client = FakeApi().on("PUT", CERT_PATH + "/status", echo)
    out = trigger(client, CERT_PATH, ready_cert(rv="41"), now=lambda: NOW)
    method, path, body = client.calls[0][:3]
    assert (method, path) == ("PUT", CERT_PATH + "/status")
    assert body["metadata"]["resourceVersion"] == "41"
    assert [c["type"] for c in body["status"]["conditions"]] == ["Ready", "Issuing"]
    assert out["status"]["conditions"][1]["reason"] == "ManuallyTriggered"


def test_conflict_rereads_and_retries_on_the_fresh_object():
    client = FakeApi().on("PUT", CERT_PATH + "/status", conflict(), echo)
    client.on("GET", CERT_PATH, ready_cert(rv="42"))
    trigger(client, CERT_PATH, ready_cert(rv="41"), now=lambda: NOW)
    assert [c[0] for c in client.calls] == ["PUT", "GET", "PUT"]
    assert client.calls[2][2]["metadata"]["resourceVersion"] == "42"


def test_gives_up_after_bounded_conflicts():
    client = FakeApi().on("PUT", CERT_PATH + "/status", conflict())
    client.on("GET", CERT_PATH, ready_cert())
    with pytest.raises(CertificateError) as err:
        trigger(client, CERT_PATH, ready_cert(), now=lambda: NOW)
    assert "%d resourceVersion conflicts" % MAX_CONFLICTS in err.value.message
    assert client.request_count == 2 * MAX_CONFLICTS


def test_other_errors_and_deletion():
    forbidden = K8sApiError(403, "Forbidden", "certificates.cert-manager.io \"cacerts\" is forbidden")
    with pytest.raises(K8sApiError):
        trigger(FakeApi().on("PUT", CERT_PATH + "/status", forbidden), CERT_PATH, ready_cert())
    client = FakeApi().on("PUT", CERT_PATH + "/status", conflict()).on("GET", CERT_PATH, not_found())
    with pytest.raises(CertificateError) as err:
        trigger(client, CERT_PATH, ready_cert())
    assert "disappeared" in err.value.message
