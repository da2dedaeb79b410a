"""Admission warnings reach clients as ``Warning: 299 - "<text>"`` headers.

kube-apiserver records each admission webhook's AdmissionResponse ``warnings`` and sends
them as RFC 7234 warn-code 299 headers (apimachinery util/net NewWarningHeader: agent
``-``, text quoted with ``\\`` and ``"`` escaped; repeated texts once per request). kubectl
prints them as ``Warning: <text>``. The cert-manager sim warns about an unset
``rotationPolicy`` in v1.18/v1.19 (cert-manager internal/apis/certmanager/validation/warnings.go).
"""

from __future__ import annotations

import json

import pytest

from kubesim.controllers.base import ApiError, Controller
from kubesim.controllers.certmanager.validation import ROTATION_POLICY_WARNING
from kubesim.fleet import find_kubectl

CM = "cert-manager.io/v1"
NS = "default"
CERTS = f"/apis/{CM}/namespaces/{NS}/certificates"
CMAPS = f"/api/v1/namespaces/{NS}/configmaps"
HEADER = f'299 - "{ROTATION_POLICY_WARNING}"'


class _Warner(Controller):
    """Warns on configmaps named warn-*; a text with quotes, a backslash, a newline, twice."""

    name = "test-warner"

    def admit(self, operation, api_version, plural, obj, old, dry_run):
        name = ((obj or old or {}).get("metadata") or {}).get("name", "")
        if plural != "configmaps" or not name.startswith("warn-"):
            return None
        return ['say "hi" \\ bye\nnext', "plain", 'say "hi" \\ bye\nnext', "", "café"]


class _Denier(Controller):
    """Runs after _Warner: denies configmaps named warn-deny-*."""

    name = "test-denier"

    def admit(self, operation, api_version, plural, obj, old, dry_run):
        name = ((obj or {}).get("metadata") or {}).get("name", "")
        if plural == "configmaps" and name.startswith("warn-deny-"):
            raise ApiError(403, "Forbidden", 'admission webhook "deny.example.com" denied the request: no')
        return None


@pytest.fixture(scope="module")
def fleet(kubesim_module_fleet_factory):
    f = kubesim_module_fleet_factory(n_clusters=1, preinstall=("cert-manager",))
    c = f["cluster-1"]
    c.add_controller(_Warner())
    c.add_controller(_Denier())
    c.create({"apiVersion": CM, "kind": "ClusterIssuer", "metadata": {"name": "selfsigned"},
              "spec": {"selfSigned": {}}})
    return f


def _cert(name, **private_key):
    spec = {"secretName": name, "commonName": name, "privateKey": dict(algorithm="ECDSA", size=256, **private_key),
            "issuerRef": {"name": "selfsigned", "kind": "ClusterIssuer"}}
    return {"apiVersion": CM, "kind": "Certificate", "metadata": {"name": name, "namespace": NS}, "spec": spec}


def _raw(fleet, method, path, body=None, query=""):
    """(status, [Warning header values as UTF-8 text], body) over a raw http.client connection."""
    conn = fleet.connection("cluster-1")
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path + (f"?{query}" if query else ""), body=data,
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        resp = conn.getresponse()
        payload = resp.read()
        # http.client decodes header bytes as latin-1; the server sends UTF-8
        warnings = [w.encode("latin-1").decode("utf-8") for w in resp.msg.get_all("Warning") or []]
        return resp.status, warnings, json.loads(payload)
    finally:
        conn.close()


def test_cert_manager_warning_on_create_dry_run_and_update(fleet):
    code, warnings, obj = _raw(fleet, "POST", CERTS, _cert("w-dry"), query="dryRun=All")
    assert (code, warnings) == (201, [HEADER])
    code, warnings, obj = _raw(fleet, "POST", CERTS, _cert("w-unset"))
    assert (code, warnings) == (201, [HEADER])
    # An update as a client makes it: read, then write that resourceVersion; cert-manager may write the
    # object's status in between (a real 409 Conflict), and the client reads again, as kubectl does.
    for _attempt in range(5):
        code, warnings, obj = _raw(fleet, "GET", CERTS + "/w-unset")
        assert (code, warnings) == (200, [])
        code, warnings, _ = _raw(fleet, "PUT", CERTS + "/w-unset", obj)
        if code != 409:
            break
    assert (code, warnings) == (200, [HEADER])
    code, warnings, _ = _raw(fleet, "POST", CERTS, _cert("w-never", rotationPolicy="Never"))
    assert (code, warnings) == (201, [])


def test_warning_text_is_quoted_escaped_and_deduplicated(fleet):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "warn-escape"}, "data": {"a": "1"}}
    code, warnings, _ = _raw(fleet, "POST", CMAPS, cm)
    assert code == 201
    assert warnings == ['299 - "say \\"hi\\" \\\\ bye next"', '299 - "plain"', '299 - "café"']
    code, warnings, _ = _raw(fleet, "DELETE", CMAPS + "/warn-escape")
    assert code == 200 and len(warnings) == 3


def test_warnings_go_out_with_a_denial(fleet):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "warn-deny-1"}}
    code, warnings, body = _raw(fleet, "POST", CMAPS, cm)
    assert code == 403 and body["reason"] == "Forbidden"
    assert warnings[1] == '299 - "plain"'


def test_internal_writes_collect_no_warnings(fleet):
    c = fleet["cluster-1"]
    c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "warn-internal", "namespace": NS}})
    code, warnings, _ = _raw(fleet, "GET", CMAPS + "/warn-internal")
    assert (code, warnings) == (200, [])


def test_python_client_sees_the_warning_header(fleet):
    from kubernetes import client as kclient
    api = fleet.python_client("cluster-1")
    try:
        _data, status, headers = kclient.CustomObjectsApi(api).create_namespaced_custom_object_with_http_info(
            "cert-manager.io", "v1", NS, "certificates", _cert("w-python"))
    finally:
        api.close()
    assert status == 201
    assert headers.getlist("Warning") == [HEADER]


@pytest.mark.kubectl
def test_kubectl_prints_the_warning(fleet):
    if not find_kubectl():
        pytest.skip("kubectl is not on PATH (it ships with the machine image's Google Cloud SDK)")
    manifest = json.dumps(_cert("w-kubectl"))
    res = fleet.kubectl("apply", "-f", "-", cluster="cluster-1", input=manifest)
    assert res.returncode == 0, res.stderr
    assert f"Warning: {ROTATION_POLICY_WARNING}" in res.stderr.splitlines()
    res = fleet.kubectl("apply", "--server-side", "--field-manager=t", "-f", "-", cluster="cluster-1",
                        input=json.dumps(_cert("w-kubectl-ssa", rotationPolicy="Always")))
    assert res.returncode == 0, res.stderr
    assert "Warning:" not in res.stderr
