"""The client retries only what is safe to repeat and turns Status bodies into one clear error."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s import client as k8s_client
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient, object_path
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError, K8sError


class Script(object):
    """Answers queued per request; records what was asked."""

    def __init__(self):
        self.answers = []
        self.seen = []


def make_server(script):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            script.seen.append((self.command, self.path, self.headers.get("Content-Type"),
                                self.headers.get("Authorization"), body))
            code, payload, extra = script.answers.pop(0) if script.answers else (200, {}, {})
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture(autouse=True)
def fresh_pool():
    yield
    k8s_client.close_all()


@pytest.fixture
def api(monkeypatch):
    monkeypatch.setattr(k8s_client, "BACKOFF_BASE", 0.01)
    script = Script()
    server = make_server(script)
    url = "http://127.0.0.1:%d" % server.server_address[1]
    yield script, K8sClient.from_params({"host": url, "api_key": "sekret-token"})
    server.shutdown()


def status(code, reason, message, **details):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "details": details, "code": code}


def test_get_sends_token_and_parses_json(api):
    script, client = api
    script.answers.append((200, {"kind": "Secret", "metadata": {"name": "cacerts"}}, {}))
    assert client.get("/api/v1/namespaces/istio-system/secrets/cacerts")["metadata"]["name"] == "cacerts"
    assert script.seen[0][3] == "Bearer sekret-token"


def test_status_body_becomes_one_clear_error(api):
    script, client = api
    not_found = status(404, "NotFound", 'secrets "cacerts" not found', name="cacerts", kind="secrets")
    script.answers.append((404, not_found, {}))
    with pytest.raises(K8sApiError) as err:
        client.get("/api/v1/namespaces/istio-system/secrets/cacerts")
    assert err.value.code == 404 and err.value.reason == "NotFound"
    assert str(err.value) == 'secrets "cacerts" not found'


def test_get_or_none_only_swallows_404(api):
    script, client = api
    script.answers.append((404, status(404, "NotFound", "x"), {}))
    assert client.get_or_none("/api/v1/namespaces/a/secrets/x") is None
    script.answers.append((403, status(403, "Forbidden", 'secrets "x" is forbidden'), {}))
    with pytest.raises(K8sApiError) as err:
        client.get_or_none("/api/v1/namespaces/a/secrets/x")
    assert "403 Forbidden" in str(err.value)


def test_get_retries_5xx_and_429_then_succeeds(api):
    script, client = api
    script.answers += [(503, status(503, "ServiceUnavailable", "busy"), {}),
                       (429, status(429, "TooManyRequests", "slow down"), {"Retry-After": "0"}),
                       (200, {"ok": True}, {})]
    assert client.get("/version") == {"ok": True}
    assert len(script.seen) == 3


def test_retries_are_bounded(api):
    script, client = api
    script.answers += [(500, status(500, "InternalError", "boom"), {})] * 10
    with pytest.raises(K8sApiError):
        client.get("/version")
    assert len(script.seen) == k8s_client.MAX_ATTEMPTS


def test_401_is_not_retried_and_says_why(api):
    script, client = api
    script.answers.append((401, status(401, "Unauthorized", "Unauthorized"), {}))
    with pytest.raises(K8sApiError) as err:
        client.get("/version")
    assert len(script.seen) == 1
    assert "credentials were rejected" in str(err.value)


def test_post_is_not_repeated_after_a_5xx(api):
    script, client = api
    script.answers.append((500, status(500, "InternalError", "boom"), {}))
    with pytest.raises(K8sApiError):
        client.request("POST", "/api/v1/namespaces/a/configmaps", body={"metadata": {"name": "x"}})
    assert len(script.seen) == 1


def test_server_side_apply_sends_field_manager_and_apply_content_type(api):
    script, client = api
    client.apply("/apis/cert-manager.io/v1/namespaces/istio-system/certificates/cacerts",
                 {"apiVersion": "cert-manager.io/v1", "kind": "Certificate"}, "meshpki.istio_ca", dry_run=True)
    method, path, ctype = script.seen[0][:3]
    assert method == "PATCH" and ctype == "application/apply-patch+yaml"
    assert "fieldManager=meshpki.istio_ca" in path and "dryRun=All" in path and "force=false" in path


def test_connection_refused_is_retried_then_clear(monkeypatch):
    monkeypatch.setattr(k8s_client, "BACKOFF_BASE", 0.001)
    client = K8sClient.from_params({"host": "http://127.0.0.1:1", "api_key": "x"})
    with pytest.raises(K8sError) as err:
        client.get("/version")
    assert client.request_count == k8s_client.MAX_ATTEMPTS
    assert "Cannot connect to the Kubernetes API at http://127.0.0.1:1 (host option" in str(err.value)


def test_object_path():
    assert object_path("v1", "secrets", "istio-system", "cacerts") == "/api/v1/namespaces/istio-system/secrets/cacerts"
    assert object_path("cert-manager.io/v1", "clusterissuers", None, "ca", "status") == \
        "/apis/cert-manager.io/v1/clusterissuers/ca/status"


def test_webhook_denial_is_not_called_an_rbac_problem(api):
    script, client = api
    message = ('admission webhook "webhook.cert-manager.io" denied the request: spec.renewBefore: Invalid value: '
               '720h0m0s: certificate duration 720h0m0s must be greater than renewBefore 720h0m0s')
    script.answers.append((403, status(403, "Forbidden", message), {}))
    with pytest.raises(K8sApiError) as err:
        client.apply("/apis/cert-manager.io/v1/namespaces/a/certificates/c", {}, "m")
    assert err.value.admission_denied
    assert str(err.value) == message


def test_one_pooled_connection_per_cluster(api):
    script, client = api
    again = K8sClient.from_params({"host": client.connection.server, "api_key": "sekret-token"})
    for _attempt in range(5):
        client.get("/version")
        again.get("/version")
    assert again.api is client.api
    manager = client.api.rest_client.pool_manager
    pools = [manager.pools[key] for key in manager.pools.keys()]
    assert [p.num_connections for p in pools] == [1] and pools[0].num_requests == 10


def test_impersonation_headers_are_sent(api, monkeypatch):
    script, client = api
    monkeypatch.setenv("K8S_AUTH_IMPERSONATE_GROUPS", "ops,,auditors")
    other = K8sClient.from_params({"host": client.connection.server, "api_key": "t", "impersonate_user": "jane"})
    other.get("/version")
    assert script.seen[-1][3] == "Bearer t"
    assert other.api.default_headers["Impersonate-User"] == "jane"
    assert other.api.default_headers["Impersonate-Group"] == "ops,auditors"


def test_failed_exec_plugin_is_named_on_401(api, tmp_path):
    script, client = api
    plugin = tmp_path / "cred.sh"
    plugin.write_text("#!/bin/sh\necho 'login expired' >&2\nexit 3\n")
    plugin.chmod(0o755)
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
                  "clusters": [{"name": "c", "cluster": {"server": client.connection.server}}],
                  "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                  "users": [{"name": "u", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1",
                                                            "command": str(plugin), "interactiveMode": "Never"}}}]}
    other = K8sClient.from_params({"kubeconfig": kubeconfig})
    script.answers.append((401, status(401, "Unauthorized", "Unauthorized"), {}))
    with pytest.raises(K8sApiError) as err:
        other.get("/version")
    assert script.seen[-1][3] is None  # the official loader went on without credentials
    assert "credentials were rejected" in str(err.value) and "login expired" in str(err.value)


def test_close_all_deletes_the_loaders_credential_files():
    """A forked Ansible worker runs no exit handlers: the client key written for *-data must go at task end."""
    import base64
    import os
    # the loader writes client credentials only for https servers (kube_config._load_cluster_info); none is contacted
    kubeconfig = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
                  "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                  "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                  "users": [{"name": "u", "user": {
                      "client-certificate-data": base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode(),
                      "client-key-data": base64.b64encode(b"-----BEGIN PRIVATE KEY-----\n").decode()}}]}
    other = K8sClient.from_params({"kubeconfig": kubeconfig})
    files = [other.connection.configuration.cert_file, other.connection.configuration.key_file]
    assert all(os.path.exists(f) for f in files)
    k8s_client.close_all()
    assert not any(os.path.exists(f) for f in files)
