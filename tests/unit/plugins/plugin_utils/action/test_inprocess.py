"""The in-process stand-in for AnsibleModule validates and reports exactly like AnsibleModule.

Each case runs the module's main() the way a module process does (args in, JSON out) and the same
args through run_in_process(), and compares the results.
"""

import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.meshpki.istio_ca.plugins.modules import certificate, istiod_reload_check, x509_inspect
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.action import inprocess
from unit.x509_factory import mesh

MODULES = {"certificate": certificate, "x509_inspect": x509_inspect, "istiod_reload_check": istiod_reload_check}
SPEC = {"secretName": "ca", "issuerRef": {"name": "root", "kind": "ClusterIssuer"}}


@pytest.fixture(autouse=True)
def no_ambient_k8s_env(monkeypatch):
    for key in [k for k in os.environ if k.startswith("K8S_AUTH_") or k == "KUBECONFIG"]:
        monkeypatch.delenv(key)


def module_path(capsys, name, args, check_mode=False):
    full = dict(args, _ansible_module_name="meshpki.istio_ca." + name, _ansible_check_mode=check_mode)
    with patch_module_args(full):
        with pytest.raises(SystemExit):
            MODULES[name].main()
    return json.loads(capsys.readouterr().out)


def in_process(name, args, check_mode=False):
    return inprocess.run_in_process(name, "meshpki.istio_ca." + name, args, check_mode=check_mode)


BAD = [
    ("x509_inspect", {}),
    ("x509_inspect", {"path": "/nonexistent", "content": "secret-text"}),
    ("x509_inspect", {"path": "/nonexistent", "bogus": 1}),
    ("x509_inspect", {"path": "/nonexistent", "istio_signing_ca": "maybe"}),
    ("x509_inspect", {"secret": {"namespace": "x"}}),
    ("x509_inspect", {"secret": {"name": "a"}, "private_key_content": "k"}),
    ("certificate", {}),
    ("certificate", {"name": "a", "namespace": "b"}),
    ("certificate", {"name": "a", "namespace": "b", "spec": SPEC, "state": "gone"}),
    ("certificate", {"name": "a", "namespace": "b", "spec": SPEC, "wait_timeout": "soon"}),
    ("istiod_reload_check", {"timeout": "abc"}),
    ("istiod_reload_check", {"nope": True, "api_key": "t0ken"}),
]


@pytest.mark.parametrize("name,args", BAD, ids=["%s-%d" % (n, i) for i, (n, _args) in enumerate(BAD)])
def test_validation_failures_are_identical(capsys, name, args):
    expected = module_path(capsys, name, args)
    got = in_process(name, args)
    assert expected["failed"] is True and got["failed"] is True
    assert got["msg"] == expected["msg"]
    assert got["invocation"] == expected["invocation"]


def test_no_log_values_are_censored_like_the_module(capsys):
    args = {"path": "/nonexistent", "content": "secret-text"}
    got = in_process("x509_inspect", args)
    assert "secret-text" not in json.dumps(got, default=str)
    assert got["invocation"]["module_args"]["content"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_successful_result_is_identical(capsys, tmp_path):
    root, inter = mesh("ec256")
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(inter.pem + root.pem)
    args = {"path": str(bundle), "private_key_content": inter.key_pem(), "istio_signing_ca": True,
            "valid_at": {"soon": "+1d"}}
    expected = module_path(capsys, "x509_inspect", args, check_mode=True)
    got = in_process("x509_inspect", args, check_mode=True)
    assert got.pop("_ansible_parsed") is True  # the controller adds it when it parses a module's output
    for result in (expected, got):
        result.pop("seconds_remaining")
        for cert in result["certificates"]:
            cert.pop("seconds_remaining")
    assert got == expected
    assert got["chain"]["key_matches"] is True
    assert "PRIVATE KEY" not in json.dumps(got, default=str)


def test_run_errors_go_through_run_module(capsys):
    # A connection failure is a K8sError; run_module turns it into the same fail_json both ways.
    args = {"secret": {"name": "cacerts"}, "host": "https://127.0.0.1:9", "api_key": "t0ken"}
    expected = module_path(capsys, "x509_inspect", args)
    got = in_process("x509_inspect", args)
    assert got["failed"] is True and got["msg"] == expected["msg"]
    assert "t0ken" not in json.dumps(got, default=str)


@pytest.mark.parametrize("env,var,want", [
    (None, None, True), ("0", None, False), ("false", None, False), ("1", None, True),
    (None, False, False), (None, "no", False), ("1", True, True), ("0", True, False),
])
def test_kill_switch(monkeypatch, env, var, want):
    monkeypatch.delenv(inprocess.KILL_SWITCH_ENV, raising=False)
    if env is not None:
        monkeypatch.setenv(inprocess.KILL_SWITCH_ENV, env)
    task_vars = {} if var is None else {inprocess.KILL_SWITCH_VAR: var}
    assert inprocess.in_process_enabled(task_vars) is want
