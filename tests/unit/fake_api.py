# -*- coding: utf-8 -*-
"""The one fake Kubernetes API of the unit tests.

``FakeApi`` is a K8sClient whose ``request`` answers from a route table instead of a server; get,
get_or_none, apply, pod_log and proxy_get are the real K8sClient methods, so the tests exercise the
request shapes (paths, query, content types) the modules send. Routes are exact ``(method, path)``
queues (``on``; the last answer repeats) or path patterns with a handler (``route``). An answer that is
an exception (a K8sApiError) is raised, as the client raises an error Status. Every request is recorded
in ``calls`` as ``(method, path, body, query)``.

``serve()`` puts the same routes behind a local HTTP server, for tests that run a module's ``main()``
against a kubeconfig/host (a K8sApiError answer becomes the Status body the API server would send).
``sleep``/``monotonic`` are a fake clock for code that waits.

Scenario builders (tests/unit/istiod_cluster.py) and sample objects (below) configure this fake; they
are not fakes of their own.
"""

from __future__ import absolute_import, division, print_function

import copy
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient

CERT_PATH = "/apis/cert-manager.io/v1/namespaces/istio-system/certificates/cacerts"


class FakeApi(K8sClient):
    """Answers from per-(method, path) queues or path-pattern handlers; records every request."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self.routes = {}
        self.patterns = []
        self.calls = []
        self.headers = []
        self.request_count = 0
        self.now = 0.0
        self._server = None

    # -- scripting ---------------------------------------------------------------------------------------------
    def on(self, method, path, *answers):
        """Answer ``method path`` with ``answers`` in turn (the last repeats); a callable gets (body, query)."""
        self.routes.setdefault((method, path), []).extend(answers)
        return self

    def route(self, method, pattern, handler):
        """Answer every ``method`` whose path fully matches ``pattern`` with ``handler(match, body, query)``."""
        self.patterns.append((method, re.compile(pattern), handler))
        return self

    # -- the client side ---------------------------------------------------------------------------------------
    def request(self, method, path, body=None, query=None, content_type=None, raw=False, attempts=None):
        self.request_count += 1
        query = dict((k, v) for k, v in (query or {}).items() if v is not None)
        self.calls.append((method, path, copy.deepcopy(body), query))
        queue = self.routes.get((method, path))
        if queue:
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
            if callable(answer) and not isinstance(answer, Exception):
                answer = answer(body, query)
        else:
            for verb, pattern, handler in self.patterns:
                match = pattern.fullmatch(path) if verb == method else None
                if match:
                    answer = handler(match, body, query)
                    break
            else:
                raise AssertionError("unexpected request %s %s" % (method, path))
        if isinstance(answer, Exception):
            raise answer
        return copy.deepcopy(answer)

    def writes(self):
        return [c for c in self.calls if c[0] != "GET" and not (c[3] or {}).get("dryRun")]

    # -- a fake clock ------------------------------------------------------------------------------------------
    def sleep(self, seconds):
        self.now += seconds

    def monotonic(self):
        return self.now

    # -- the same routes over HTTP -----------------------------------------------------------------------------
    def serve(self):
        """Start a local HTTP server answering from these routes; returns its URL. ``stop()`` ends it."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                api.headers.append((self.command, split.path, self.headers.get("Authorization")))
                try:
                    code, obj = 200, api.request(self.command, split.path, body, dict(parse_qsl(split.query)))
                except K8sApiError as exc:
                    code = exc.code
                    obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": exc.api_message, "reason": exc.reason, "details": exc.details, "code": exc.code}
                data = (obj if isinstance(obj, str) else json.dumps(obj)).encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain" if isinstance(obj, str) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


# -- sample objects and API errors ----------------------------------------------------------------------------
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
