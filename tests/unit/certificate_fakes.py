# -*- coding: utf-8 -*-
"""A scripted stand-in for K8sClient and sample Certificate objects, for certificate unit tests.

Only ``request`` is replaced: get/get_or_none/apply are the real K8sClient methods, so the tests
exercise the same request shapes (paths, query, content types) the module sends.
"""

from __future__ import absolute_import, division, print_function

import copy

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError

CERT_PATH = "/apis/cert-manager.io/v1/namespaces/istio-system/certificates/cacerts"


class FakeClient(K8sClient):
    """Answers from per-(method, path) queues; the last answer of a queue repeats."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self.routes = {}
        self.calls = []
        self.request_count = 0

    def on(self, method, path, *answers):
        self.routes.setdefault((method, path), []).extend(answers)
        return self

    def request(self, method, path, body=None, query=None, content_type=None, raw=False):
        self.request_count += 1
        self.calls.append((method, path, copy.deepcopy(body), dict(query or {})))
        queue = self.routes.get((method, path))
        if not queue:
            raise AssertionError("unexpected request %s %s" % (method, path))
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if callable(answer) and not isinstance(answer, Exception):
            answer = answer(body, query)
        if isinstance(answer, Exception):
            raise answer
        return copy.deepcopy(answer)

    def writes(self):
        return [c for c in self.calls if c[0] != "GET" and not (c[3] or {}).get("dryRun")]


def not_found(kind="certificates", name="cacerts", group="cert-manager.io"):
    return K8sApiError(404, "NotFound", '%s.%s "%s" not found' % (kind, group, name),
                       {"name": name, "group": group, "kind": kind}, "GET")


def no_resource():
    return K8sApiError(404, "NotFound", "the server could not find the requested resource", {}, "GET")


def spec(**overrides):
    base = {"secretName": "cacerts", "commonName": "istio-ca", "isCA": True,
            "issuerRef": {"name": "root", "kind": "ClusterIssuer", "group": "cert-manager.io"}}
    base.update(overrides)
    return base


def cond(ctype, status, reason="", message="", gen=1, when="2026-01-01T00:00:00Z"):
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "observedGeneration": gen, "lastTransitionTime": when}


def certificate(spec_=None, generation=1, revision=None, conditions=None, rv="10", **status):
    obj = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
           "metadata": {"name": "cacerts", "namespace": "istio-system", "generation": generation,
                        "resourceVersion": rv},
           "spec": spec_ if spec_ is not None else spec(), "status": dict(status)}
    if revision is not None:
        obj["status"]["revision"] = revision
    if conditions is not None:
        obj["status"]["conditions"] = conditions
    return obj


def ready_cert(spec_=None, generation=1, revision=1, rv="10"):
    return certificate(spec_, generation, revision, [cond("Ready", "True", "Ready", gen=generation)], rv=rv,
                       notBefore="2026-01-01T00:00:00Z", notAfter="2026-01-31T00:00:00Z",
                       renewalTime="2026-01-21T00:00:00Z")
