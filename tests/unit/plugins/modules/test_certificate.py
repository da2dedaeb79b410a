# -*- coding: utf-8 -*-
"""certificate through main(): argument spec, one failure path, warnings, no key material in the JSON."""

from __future__ import absolute_import, division, print_function

import base64
import json

import pytest
from ansible.module_utils import _internal as ansible_internal
from ansible.module_utils.testing import patch_module_args

from ansible_collections.meshpki.istio_ca.plugins.modules import certificate
from unit.fake_api import CERT_PATH, FakeApi, not_found, ready_cert, spec
from unit.x509_factory import make

SECRET = "/api/v1/namespaces/istio-system/secrets/cacerts"


def run_main(monkeypatch, capsys, client, **args):
    monkeypatch.setattr(certificate.K8sClient, "from_params", classmethod(lambda cls, params: client))
    # Another test in the same process may have loaded controller code, which makes module warnings go to
    # the controller's display instead of the result; a module process never has that flag.
    monkeypatch.setattr(ansible_internal, "is_controller", False)
    base = dict(name="cacerts", namespace="istio-system", kubeconfig="/nonexistent")
    base.update(args)
    with patch_module_args(base):
        with pytest.raises(SystemExit):
            certificate.main()
    out = capsys.readouterr().out
    return json.loads(out), out


def issued_secret():
    root = make("root")
    leaf = make("istio-ca", issuer=root, serial=0x1F2E3D)
    data = {"tls.crt": base64.b64encode(leaf.pem.encode()).decode(),
            "tls.key": base64.b64encode(leaf.key_pem().encode()).decode(),
            "ca.crt": base64.b64encode(root.pem.encode()).decode()}
    return {"metadata": {"name": "cacerts"}, "data": data}, data["tls.key"]


def test_present_reports_serial_and_never_key_material(monkeypatch, capsys):
    secret, key_b64 = issued_secret()
    live = ready_cert()
    client = FakeApi().on("GET", CERT_PATH, live).on("PATCH", CERT_PATH, live).on("GET", SECRET, secret)
    result, raw = run_main(monkeypatch, capsys, client, spec=spec(), _ansible_diff=True)
    assert result["changed"] is False and result["serial"] == "1f2e3d" and result["serial_number"] == 0x1F2E3D
    assert result["diff"] == {"before": spec(), "after": spec()}
    assert "PRIVATE KEY" not in raw and key_b64 not in raw and key_b64[:40] not in raw


def test_renew_accepts_yaml_booleans(monkeypatch, capsys):
    live = ready_cert()
    client = FakeApi().on("GET", CERT_PATH, live).on("PATCH", CERT_PATH, live)
    client.on("GET", SECRET, {"data": {}}).on("PUT", CERT_PATH + "/status", lambda body, query: body)
    result = run_main(monkeypatch, capsys, client, spec=spec(), renew=True)[0]
    assert result["reissue"] == "forced"
    assert result["invocation"]["module_args"]["renew"] == "true"


def test_validation_failure_sends_nothing(monkeypatch, capsys):
    client = FakeApi()
    result = run_main(monkeypatch, capsys, client, spec=spec(duration="720h", renewBefore="720h"))[0]
    assert result["failed"] is True and result["changed"] is False and client.request_count == 0
    assert result["validation_errors"] == [
        "spec.renewBefore: Invalid value: 720h0m0s: certificate duration 720h0m0s must be greater than "
        "renewBefore 720h0m0s"]
    assert result["msg"].endswith(result["validation_errors"][0])


def test_warnings_go_through_module_warn(monkeypatch, capsys):
    client = FakeApi().on("GET", CERT_PATH, not_found()).on("PATCH", CERT_PATH, lambda body, query: body)
    client.on("GET", SECRET, not_found("secrets", "cacerts", ""))
    result = run_main(monkeypatch, capsys, client, spec=spec(renewbefore="1h"))[0]
    assert any("spec.renewbefore" in str(w) for w in result["warnings"])


def test_spec_required_for_present(monkeypatch, capsys):
    result = run_main(monkeypatch, capsys, FakeApi())[0]
    assert result["failed"] is True and "state is present but all of the following are missing: spec" in result["msg"]


def test_api_errors_fail_in_one_place(monkeypatch, capsys):
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError
    client = FakeApi().on("GET", CERT_PATH, K8sApiError(403, "Forbidden", 'certificates.cert-manager.io "cacerts" '
                                                        'is forbidden: User "x" cannot get resource'))
    result = run_main(monkeypatch, capsys, client, spec=spec())[0]
    assert result["failed"] is True and result["api_error"]["code"] == 403 and "403 Forbidden" in result["msg"]
