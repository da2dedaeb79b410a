"""The api_denied / api_denial_message filters a role uses to stop on a refusal and say it readably."""

from __future__ import annotations

import json

from ansible_collections.meshpki.istio_ca.plugins.filter.api_denial import api_denial_message, api_denied

SENTENCE = ('secrets "meshpki-istio-issuing-ca" is forbidden: User "system:serviceaccount:ops:meshpki" cannot get '
            'resource "secrets" in API group "" in the namespace "cert-manager"')
STATUS = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": SENTENCE, "reason": "Forbidden",
          "code": 403}


def test_a_kubernetes_core_refusal():
    result = {"failed": True, "msg": "Failed to retrieve requested object: " + json.dumps(STATUS)}
    assert api_denied(result)
    text = api_denial_message(result, "deploy")
    assert text == ("Failed to retrieve requested object: %s The credentials lack permission (403 Forbidden): grant "
                    "the missing RBAC verb on the named resource: docs/rbac/deploy.yaml in this collection holds the "
                    "roles deploy.yml needs (meshpki-istio-ca-deploy)." % SENTENCE)


def test_a_refusal_kept_going_by_failed_when_still_counts():
    assert api_denied({"failed": False, "msg": "x: " + json.dumps(STATUS)})


def test_not_a_refusal():
    for result in ({"failed": True, "msg": "webhook not ready: connection refused"}, {"changed": False}, None, "x"):
        assert not api_denied(result)
    assert api_denial_message({"failed": True, "msg": "timeout"}, "deploy") == "timeout"
