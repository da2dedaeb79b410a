# -*- coding: utf-8 -*-
"""Reading the issued certificate from the Secret: first cert of tls.crt only, never tls.key."""

from __future__ import absolute_import, division, print_function

import base64

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.secret_leaf import describe
from unit.x509_factory import DAY, NOW, make


def b64(text):
    return base64.b64encode(text.encode()).decode()


def secret(tls_crt, tls_key="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"):
    data = {"tls.crt": b64(tls_crt), "tls.key": b64(tls_key), "ca.crt": b64(tls_crt)}
    return {"metadata": {"name": "cacerts"}, "data": data}


def test_describes_the_leaf_not_the_chain():
    root = make("root", serial=0x0ABCDEF)
    leaf = make("intermediate", issuer=root, serial=0x00DEADBEEF01, not_before=NOW - DAY, not_after=NOW + 30 * DAY)
    info = describe(secret(leaf.pem + root.pem, leaf.key_pem()))
    assert info == {"serial": "deadbeef01", "serial_number": 0xDEADBEEF01,
                    "not_before": (NOW - DAY).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "not_after": (NOW + 30 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert "PRIVATE KEY" not in repr(info)


def test_empty_or_missing_secret():
    assert describe(None) == {}
    assert describe({"data": {}}) == {}
    assert describe({"data": {"tls.crt": ""}}) == {}


def test_garbage_tls_crt_fails_clearly_without_key_material():
    with pytest.raises(X509Error) as err:
        describe(secret("not a certificate"))
    assert err.value.message == "Secret cacerts: tls.crt does not start with a readable PEM certificate."
    with pytest.raises(X509Error) as err:
        describe({"metadata": {"name": "cacerts"}, "data": {"tls.crt": "%%%"}})
    assert "not valid base64" in err.value.message
