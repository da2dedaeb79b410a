"""The fleet callback's "batch i of n" follows Ansible's own batching of serial (PlaybookExecutor)."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.callback.fleet import serial_batch_sizes


@pytest.mark.parametrize("serial,total,sizes", [
    ([], 5, [5]),
    ([1, "25%"], 3, [1, 1, 1]),        # 25 % of 3 rounds up to at least one host
    ([1, "25%"], 13, [1, 3, 3, 3, 3]),
    ([1, 5, "50%"], 2, [1, 1]),
    ([2], 5, [2, 2, 1]),
    (["100%"], 4, [4]),
])
def test_batch_sizes(serial, total, sizes):
    assert serial_batch_sizes(serial, total) == sizes


def test_final_line_of_a_refusal_is_the_api_sentence_and_the_playbooks_roles():
    """kubernetes.core's k8s_info failure (the whole ApiException, the Status JSON on one of its lines) becomes
    one line a person reads: the API server's sentence and docs/rbac/<file> of the playbook run."""
    import json
    from ansible_collections.meshpki.istio_ca.plugins.callback.fleet import CallbackModule

    sentence = ('customresourcedefinitions.apiextensions.k8s.io "istiooperators.install.istio.io" is forbidden: User '
                '"system:serviceaccount:meshpki-system:meshpki" cannot get resource "customresourcedefinitions" in '
                'API group "apiextensions.k8s.io" at the cluster scope')
    body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": sentence,
                       "reason": "Forbidden", "code": 403})
    msg = "Exception '403\nReason: Forbidden\nHTTP response headers: {}\nHTTP response body: %s\nOriginal ..." % body
    callback = CallbackModule()
    callback._playbook = "/srv/ansible_collections/meshpki/istio_ca/playbooks/deploy.yml"
    [line] = callback.failure_line(msg)
    assert line.startswith(sentence) and "docs/rbac/deploy.yaml" in line
    assert callback.failure_line("plain\nsecond") == ["plain"]
