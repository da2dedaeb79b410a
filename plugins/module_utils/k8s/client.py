# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""One small Kubernetes API client for our modules: one connection, no discovery.

Our modules only touch resources whose paths are known (Secrets, Pods, ConfigMaps,
cert-manager Certificates), so they skip discovery and talk JSON over one keep-alive
connection. Retries (docs/upstream/kubernetes-api.md#retryable-responses): connection errors, 429 and 5xx with bounded
backoff, only where a repeat cannot do harm; 401/403 fail at once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import random
import socket
import ssl
import tempfile
import time

try:  # Python 3
    import http.client as http_client
    from urllib.parse import quote, urlencode, urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported by this collection
    import httplib as http_client  # noqa
    from urllib import quote, urlencode  # noqa
    from urlparse import urlparse  # noqa

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s import config as k8s_config
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError, K8sError

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

RETRY_CODES = (429, 500, 502, 503, 504)
# Bounded backoff: at most MAX_ATTEMPTS tries, sleeps 0.25, 0.5, 1, 2, 4 s (+ jitter), each capped.
MAX_ATTEMPTS = int(os.environ.get("MESHPKI_K8S_MAX_ATTEMPTS", "6"))
BACKOFF_BASE = float(os.environ.get("MESHPKI_K8S_BACKOFF", "0.25"))
BACKOFF_CAP = 4.0
REQUEST_TIMEOUT = float(os.environ.get("MESHPKI_K8S_TIMEOUT", "30"))


def _safe_to_repeat(method, content_type):
    """A request that may be sent again after the server may have acted on it."""
    if method in ("GET", "HEAD", "PUT", "DELETE"):
        return True  # PUT carries resourceVersion in our modules; DELETE of a gone object is a 404
    return method == "PATCH" and content_type in (APPLY_PATCH, MERGE_PATCH)


class K8sClient(object):
    """JSON over one HTTP(S) connection to one API server."""

    def __init__(self, settings):
        self.settings = settings
        url = urlparse(settings.server)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise K8sError("The API server address %r is not an http(s) URL." % settings.server)
        self._scheme = url.scheme
        self._host = url.hostname
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._prefix = url.path.rstrip("/")
        self._conn = None
        self._tmpfiles = []
        self._ssl = self._ssl_context() if url.scheme == "https" else None
        self.request_count = 0

    @classmethod
    def from_params(cls, params):
        """Build from a module's params (connection options + K8S_AUTH_* fallbacks)."""
        return cls(k8s_config.resolve(params))

    # -- transport -------------------------------------------------------------------------------------------------
    def _ssl_context(self):
        s = self.settings
        ctx = ssl.create_default_context()
        if not s.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif s.ca_file or s.ca_data:
            ctx.load_verify_locations(cafile=s.ca_file, cadata=s.ca_data.decode("ascii") if s.ca_data else None)
        cert_file, key_file = s.cert_file, s.key_file
        if s.cert_data:
            cert_file = self._private_tmp(s.cert_data)
        if s.key_data:
            key_file = self._private_tmp(s.key_data)
        try:
            if cert_file:
                ctx.load_cert_chain(cert_file, key_file)
        finally:
            self._drop_tmpfiles()
        return ctx

    def _private_tmp(self, data):
        # ssl can only load a client key pair from files: keep it 0600 and only for the load call.
        fd, path = tempfile.mkstemp(prefix="meshpki-k8s-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        self._tmpfiles.append(path)
        return path

    def _drop_tmpfiles(self):
        while self._tmpfiles:
            try:
                os.unlink(self._tmpfiles.pop())
            except OSError:
                pass

    def _use_proxy(self):
        s = self.settings
        if not s.proxy:
            return False
        for entry in (s.no_proxy or "").split(","):
            entry = entry.strip().lstrip(".")
            if entry and (self._host == entry or self._host.endswith("." + entry) or entry == "*"):
                return False
        return True

    def _connect(self):
        if self._conn is not None:
            return self._conn
        if self._use_proxy():
            proxy = urlparse(self.settings.proxy)
            if self._scheme == "https":
                conn = http_client.HTTPSConnection(proxy.hostname, proxy.port or 3128, timeout=REQUEST_TIMEOUT,
                                                   context=self._ssl)
                conn.set_tunnel(self._host, self._port)
            else:
                conn = http_client.HTTPConnection(proxy.hostname, proxy.port or 3128, timeout=REQUEST_TIMEOUT)
        elif self._scheme == "https":
            conn = http_client.HTTPSConnection(self._host, self._port, timeout=REQUEST_TIMEOUT, context=self._ssl)
        else:
            conn = http_client.HTTPConnection(self._host, self._port, timeout=REQUEST_TIMEOUT)
        self._conn = conn
        return conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _headers(self, content_type, accept):
        s = self.settings
        headers = {"Accept": accept, "User-Agent": "meshpki.istio_ca"}
        if content_type:
            headers["Content-Type"] = content_type
        if s.token:
            headers["Authorization"] = "Bearer %s" % s.token
        elif s.username:
            import base64  # pylint: disable=import-outside-toplevel
            pair = ("%s:%s" % (s.username, s.password or "")).encode("utf-8")
            headers["Authorization"] = "Basic %s" % base64.b64encode(pair).decode("ascii")
        if s.impersonate_user:
            headers["Impersonate-User"] = s.impersonate_user
            if s.impersonate_groups:
                headers["Impersonate-Group"] = ",".join(s.impersonate_groups)
        return headers

    def _send_once(self, method, url, body, headers):
        conn = self._connect()
        try:
            conn.request(method, url, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (socket.error, http_client.HTTPException, ssl.SSLError):
            self.close()
            raise
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, resp.reason, resp.getheader("Retry-After"), data

    def request(self, method, path, body=None, query=None, content_type=None, raw=False, attempts=None):
        """Send one API request; return the decoded JSON (or text when ``raw``).

        ``attempts`` lowers the retry budget for calls whose 5xx rarely heals (pods/proxy).
        Raises K8sApiError for an error Status, K8sError when the server cannot be reached.
        """
        max_attempts = min(attempts or MAX_ATTEMPTS, MAX_ATTEMPTS)
        url = self._prefix + path
        if query:
            url += "?" + urlencode([(k, v) for k, v in query.items() if v is not None], doseq=True)
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            content_type = content_type or JSON
        headers = self._headers(content_type, "*/*" if raw else JSON)
        repeatable = _safe_to_repeat(method, content_type)
        attempt = 0
        while True:
            attempt += 1
            self.request_count += 1
            try:
                code, reason, retry_after, data = self._send_once(method, url, payload, headers)
            except ConnectionRefusedError as exc:  # nothing was sent: always safe to repeat
                if attempt < max_attempts:
                    self._sleep(attempt, None)
                    continue
                raise K8sError("Cannot connect to the Kubernetes API at %s (%s): %s." % (
                    self.settings.server, self.settings.source, exc.strerror or exc),
                    "Is the cluster up and the kubeconfig current?")
            except (socket.error, http_client.HTTPException, ssl.SSLError) as exc:
                if repeatable and attempt < max_attempts and not isinstance(exc, ssl.SSLCertVerificationError):
                    self._sleep(attempt, None)
                    continue
                raise K8sError("Request %s %s to %s failed: %s." % (method, path, self.settings.server, exc))
            if code < 400:
                text = data.decode("utf-8", "replace")
                if raw:
                    return text
                return json.loads(text) if text.strip() else {}
            # 429 means the server refused before acting: safe to repeat for any verb.
            if code in RETRY_CODES and (repeatable or code == 429) and attempt < max_attempts:
                self._sleep(attempt, retry_after)
                continue
            raise K8sApiError.from_response(code, reason, data.decode("utf-8", "replace"), method, path)

    @staticmethod
    def _sleep(attempt, retry_after):
        delay = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** (attempt - 1)))
        if retry_after:
            try:
                delay = min(BACKOFF_CAP, max(delay, float(retry_after)))
            except ValueError:
                pass
        time.sleep(delay * (0.9 + 0.2 * random.random()))

    # -- conveniences --------------------------------------------------------------------------------------------
    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def get_or_none(self, path, query=None):
        try:
            return self.request("GET", path, query=query)
        except K8sApiError as exc:
            if exc.not_found:
                return None
            raise

    def apply(self, path, obj, field_manager, force=False, dry_run=False):
        """Server-side apply (upsert) of ``obj`` at its object ``path``."""
        query = {"fieldManager": field_manager, "force": "true" if force else "false"}
        if dry_run:
            query["dryRun"] = "All"
        return self.request("PATCH", path, body=obj, query=query, content_type=APPLY_PATCH)

    def pod_log(self, namespace, pod, container=None, since_time=None, tail_lines=None):
        query = {"container": container, "sinceTime": since_time, "timestamps": "true",
                 "tailLines": tail_lines}
        return self.request("GET", "/api/v1/namespaces/%s/pods/%s/log" % (quote(namespace), quote(pod)),
                            query=query, raw=True)

    def proxy_get(self, namespace, pod, port, path, attempts=2):
        """GET through the pods/proxy subresource; a 503 there usually means the port is closed."""
        return self.request("GET", "/api/v1/namespaces/%s/pods/%s:%d/proxy/%s" % (
            quote(namespace), quote(pod), int(port), path.lstrip("/")), raw=True, attempts=attempts)


def object_path(api_version, plural, namespace, name=None, subresource=None):
    """REST path of a resource collection or object (docs/upstream/kubernetes-api.md#rest-paths)."""
    base = "/api/v1" if api_version == "v1" else "/apis/%s" % api_version
    if namespace:
        base += "/namespaces/%s" % quote(namespace)
    base += "/%s" % plural
    if name:
        base += "/%s" % quote(name)
    if subresource:
        base += "/%s" % subresource
    return base
