"""The cacerts Secret as istiod reads it, and the root ConfigMap comparison."""

import base64
import datetime
import json

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import roots
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import secret as sec
from unit import istiod_lines as L
from unit.x509_factory import mesh

T0 = datetime.datetime(2025, 1, 31, 12, 0, 0, tzinfo=datetime.timezone.utc)
ROOT, INTER = mesh()
OTHER_ROOT = mesh("ec384")[0]


@pytest.mark.parametrize("value,expected", [
    (255, "ff"), ("FF", "ff"), ("00ff", "ff"), ("0xFF", "ff"), ("0a:1B:2c", "a1b2c"), ("10", "10"), (0, "0"),
    (None, None), ("", None),
])
def test_normalize_serial(value, expected):
    assert sec.normalize_serial(value) == expected


@pytest.mark.parametrize("value", ["xyz", -1, True, "12 34"])
def test_normalize_serial_rejects(value):
    with pytest.raises(ValueError):
        sec.normalize_serial(value)


def test_tls_secret():
    material = sec.read_material(L.secret(INTER, ROOT, changed=T0, created=T0 - datetime.timedelta(days=3)),
                                 "istio-system", "cacerts")
    assert material.exists and material.format == "tls" and not material.problems
    assert material.serial == "%x" % INTER.cert.serial_number
    assert material.root_bytes == ROOT.pem.encode()
    summary = material.intermediate_summary()
    assert summary["subject"] == INTER.cert.subject.rfc4514_string()
    assert summary["not_after"].endswith("Z")
    # managedFields entry that owns data wins over a later label edit by another manager
    assert material.changed_at == T0 and material.changed_source == "managedFields (data)"
    assert not material.has_native_names


def test_native_secret_and_tls_precedence():
    material = sec.read_material(L.secret(INTER, ROOT, fmt="native"), "istio-system", "cacerts")
    assert material.format == "native" and material.serial == "%x" % INTER.cert.serial_number
    assert material.has_native_names
    # Both sets present: istiod uses tls.crt (docs/upstream/istiod.md#format-detection).
    both = L.secret(INTER, ROOT, fmt="native", extra={
        "tls.crt": base64.b64encode(ROOT.pem.encode()).decode(), "ca.crt": base64.b64encode(ROOT.pem.encode()).decode()})
    assert sec.read_material(both, "istio-system", "cacerts").serial == "%x" % ROOT.cert.serial_number


def test_key_values_are_never_decoded_or_returned():
    secret = L.secret(INTER, ROOT)
    secret["data"]["tls.key"] = base64.b64encode(b"-----BEGIN PRIVATE KEY-----\nSECRETSTUFF\n").decode()
    material = sec.read_material(secret, "istio-system", "cacerts")
    dumped = json.dumps(material.intermediate_summary()) + repr(vars(material))
    assert "SECRETSTUFF" not in dumped and "PRIVATE KEY" not in dumped


def test_missing_secret():
    material = sec.read_material(None, "istio-system", "cacerts")
    assert not material.exists and material.serial is None
    assert [p["code"] for p in material.problems] == ["secret_missing"]


def test_unreadable_and_rootless_secret():
    secret = L.secret(INTER, ROOT)
    secret["data"]["tls.crt"] = base64.b64encode(b"garbage").decode()
    del secret["data"]["ca.crt"]
    material = sec.read_material(secret, "istio-system", "cacerts")
    assert [p["code"] for p in material.problems] == ["secret_unreadable", "secret_without_root"]
    assert material.intermediate is None and material.intermediate_summary() is None


def test_secret_without_signing_cert():
    secret = {"metadata": {"name": "cacerts"}, "data": {"foo": "YmFy"}}
    material = sec.read_material(secret, "istio-system", "cacerts")
    assert material.problems[0]["code"] == "secret_unreadable"
    assert "neither tls.crt nor ca-cert.pem" in material.problems[0]["cause"]


@pytest.mark.parametrize("meta,expected,source", [
    ({"managedFields": [{"time": "2025-01-31T12:00:00Z", "fieldsV1": {"f:data": {}}},
                        {"time": "2025-01-31T13:00:00Z", "fieldsV1": {"f:metadata": {}}}],
      "creationTimestamp": "2025-01-01T00:00:00Z"}, T0, "managedFields (data)"),
    ({"managedFields": [{"time": "2025-01-31T11:00:00Z", "fieldsV1": {"f:data": {}}},
                        {"time": "2025-01-31T12:00:00Z", "fieldsV1": {"f:data": {}}}]}, T0, "managedFields (data)"),
    ({"managedFields": [{"time": "2025-01-31T12:00:00Z", "operation": "Update"}]}, T0, "managedFields"),
    ({"creationTimestamp": "2025-01-31T12:00:00Z"}, T0, "creationTimestamp"),
    ({}, None, None),
])
def test_data_changed_at(meta, expected, source):
    assert sec.data_changed_at(meta) == (expected, source)


def cm(namespace, text):
    return {"metadata": {"namespace": namespace, "name": roots.CONFIGMAP}, "data": {roots.DATA_KEY: text}}


def test_roots_consistent():
    check = roots.compare([cm("istio-system", ROOT.pem), cm("default", ROOT.pem)], ROOT.pem.encode())
    assert check.consistent is True and check.mismatched == [] and check.checked == 2 and check.problems == []


def test_roots_one_differs():
    check = roots.compare([cm("istio-system", ROOT.pem), cm("payments", OTHER_ROOT.pem), cm("a", ROOT.pem + "\n")],
                          ROOT.pem.encode())
    assert check.consistent is False
    assert check.mismatched == ["a", "payments"]
    assert check.whitespace_only == ["a"]
    assert check.problems[0]["code"] == "root_mismatch"
    assert "a, payments" in check.problems[0]["cause"]
    assert "whitespace" not in check.problems[0]["cause"]  # not every difference is whitespace-only


def test_roots_whitespace_only_is_explained():
    check = roots.compare([cm("istio-system", ROOT.pem.replace("\n", "\r\n"))], ROOT.pem.encode())
    assert check.consistent is False and check.whitespace_only == ["istio-system"]
    assert "only the bytes differ" in check.problems[0]["cause"]


def test_roots_none_or_no_secret_root():
    check = roots.compare([], ROOT.pem.encode())
    assert check.consistent is False and check.problems[0]["code"] == "root_configmaps_missing"
    check = roots.compare([cm("istio-system", ROOT.pem)], None)
    assert check.consistent is False and check.mismatched == ["istio-system"]
