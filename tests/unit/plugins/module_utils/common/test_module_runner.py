"""run_module: the one place an error of any layer becomes the module's failure, and what that failure holds."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import errors
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.module_runner import run_module


class Exited(Exception):
    pass


class Module:
    """What run_module may call on an AnsibleModule: exit_json and fail_json (both end the module)."""

    def __init__(self):
        self.outcome = None

    def exit_json(self, **result):
        self.outcome = ("exit", result)
        raise Exited()

    def fail_json(self, **failure):
        self.outcome = ("fail", failure)
        raise Exited()


def outcome(fn, **kwargs):
    module = Module()
    with pytest.raises(Exited):
        run_module(module, fn, **kwargs)
    return module.outcome


def raiser(exc):
    def fn():
        raise exc
    return fn


@pytest.mark.parametrize("cls", [errors.K8sError, errors.CertificateError, errors.X509Error, errors.IstiodError])
def test_every_layer_error_is_a_collection_error(cls):
    assert issubclass(cls, errors.CollectionError)
    assert issubclass(errors.K8sApiError, errors.K8sError)


def test_success_exits_with_the_result():
    assert outcome(lambda: {"changed": True, "serial": "ab"}) == ("exit", {"changed": True, "serial": "ab"})


def test_layer_error_fails_with_its_message_and_partial_result():
    kind, failure = outcome(raiser(errors.CertificateError("Timed out.", result={"conditions": [{"type": "Ready"}]})))
    assert kind == "fail"
    assert failure == {"msg": "Timed out.", "changed": False, "conditions": [{"type": "Ready"}]}


def test_partial_result_may_say_something_changed():
    failure = outcome(raiser(errors.CertificateError("Failed.", result={"changed": True, "backup": {"name": "b"}})))[1]
    assert failure["changed"] is True and failure["backup"] == {"name": "b"}


def test_k8s_error_message_carries_its_hint():
    failure = outcome(raiser(errors.K8sError("Cannot read kubeconfig x.", "Set kubeconfig.")))[1]
    assert failure == {"msg": "Cannot read kubeconfig x. Set kubeconfig.", "changed": False}


def test_api_status_is_returned_under_api_error_with_an_rbac_hint():
    body = ('{"kind": "Status", "code": 403, "reason": "Forbidden", "message": "secrets is forbidden",'
            ' "details": {"causes": [{"reason": "x"}]}}')
    exc = errors.K8sApiError.from_response(403, "Forbidden", body, "GET", "/api/v1/secrets")
    failure = outcome(raiser(exc))[1]
    assert failure["msg"].startswith("secrets is forbidden The credentials lack permission (403 Forbidden)")
    assert failure["api_error"] == {"code": 403, "reason": "Forbidden", "message": "secrets is forbidden",
                                    "causes": [{"reason": "x"}]}


def test_x509_error_message_starts_with_a_capital_unless_it_names_an_option():
    assert str(errors.X509Error("file x is empty")) == "File x is empty"
    assert str(errors.X509Error("valid_at.x: bad")) == "valid_at.x: bad"


def test_missing_library_fails_before_any_work():
    calls = []
    kind, failure = outcome(lambda: calls.append(1), required_libraries=[("cryptography", False)])
    assert kind == "fail" and calls == [] and "cryptography" in failure["msg"] and failure["changed"] is False


def test_other_exceptions_are_bugs_and_propagate():
    with pytest.raises(ZeroDivisionError):
        run_module(Module(), lambda: 1 / 0)
