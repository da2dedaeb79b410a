"""A refused request reads the same on every path: the API's sentence, then where the roles are documented."""

from __future__ import annotations

import json

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import forbidden
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError

# kube-apiserver's 403 (responsewriters/errors.go forbiddenMessage) as kubesim and a real server send it
SENTENCE = ('clusterissuers.cert-manager.io "meshpki-api-check" is forbidden: User '
            '"system:serviceaccount:meshpki-system:meshpki" cannot get resource "clusterissuers" in API group '
            '"cert-manager.io" at the cluster scope')
STATUS = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": SENTENCE,
          "reason": "Forbidden", "details": {"name": "meshpki-api-check", "group": "cert-manager.io",
                                             "kind": "clusterissuers"}, "code": 403}
# kubernetes.core plugins/module_utils/k8s/service.py retrieve: "Failed to retrieve requested object: <e.body>"
CORE_MSG = "Failed to retrieve requested object: " + json.dumps(STATUS, separators=(",", ":"))
# kubernetes.core k8s_info: the whole ApiException, the body on its own line
INFO_MSG = ("Exception '403\nReason: Forbidden\nHTTP response headers: HTTPHeaderDict({'Audit-Id': 'x'})\n"
            "HTTP response body: %s\nOriginal traceback: ..." % json.dumps(STATUS))


@pytest.mark.parametrize("playbook,path", [("deploy", "docs/rbac/deploy.yaml"), ("playbooks/restore.yml",
                                           "docs/rbac/rotate.yaml"), ("report.yml", "docs/rbac/report.yaml")])
def test_kubernetes_core_json_becomes_the_sentence_and_the_playbooks_roles(playbook, path):
    text = forbidden.readable(CORE_MSG, playbook)
    assert text.startswith("Failed to retrieve requested object: " + SENTENCE)
    assert path in text and '{"kind"' not in text and '\\"' not in text


def test_an_exception_dump_keeps_only_the_sentence():
    text = forbidden.readable(INFO_MSG, "deploy")
    assert text.startswith(SENTENCE) and "HTTP response headers" not in text and "docs/rbac/deploy.yaml" in text


def test_other_answers_and_webhook_refusals_stay_as_they_are():
    webhook = dict(STATUS, message='admission webhook "webhook.cert-manager.io" denied the request: spec.ca: Required')
    for text in ("Failed: " + json.dumps(dict(STATUS, code=404, reason="NotFound")), "Failed: " + json.dumps(webhook),
                 "plain text, no JSON", ""):
        assert forbidden.readable(text, "deploy") == text


def test_our_modules_generic_hint_is_made_the_playbooks_own():
    error = K8sApiError(403, "Forbidden", SENTENCE)
    assert "docs/rbac/<playbook>.yaml" in str(error) and error.denied
    text = forbidden.for_playbook(str(error), "rotate.yml")
    assert text.startswith(SENTENCE) and "docs/rbac/rotate.yaml" in text and "<playbook>" not in text
    assert forbidden.for_playbook(str(error), "site.yml") == str(error)  # not one of ours: the generic pointer


def test_denial_of_a_registered_result():
    assert forbidden.denial_of({"failed": True, "msg": CORE_MSG})["code"] == 403
    ours = K8sApiError(401, "Unauthorized", "Unauthorized").failure()
    assert forbidden.denial_of(ours)["code"] == 401
    assert forbidden.denial_of({"failed": True, "msg": "connection refused"}) is None
    assert forbidden.denial_of(K8sApiError(409, "Conflict", "x").failure()) is None
