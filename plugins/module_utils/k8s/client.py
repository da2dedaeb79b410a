# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Our modules' Kubernetes API client: the official ``kubernetes.client.ApiClient``, no discovery.

Our modules only touch resources whose REST paths are known (Secrets, Pods, ConfigMaps,
cert-manager Certificates), so they skip discovery and send JSON through the official client's
``param_serialize``/``call_api`` (its auth settings, exec-plugin token refresh, TLS, proxies and
urllib3 connection pool). One ``ApiClient`` per cluster per process (a task, both in-process
and as a module process), keyed like kubernetes.core's ``_configuration_digest``.

Retries (docs/upstream/kubernetes-api.md#retryable-responses) stay ours, because they depend on
the verb: urllib3's own retries are off (``Configuration.retries = False``). Connection errors,
429 and 5xx are retried with bounded backoff only where a repeat cannot do harm; 401/403 fail at
once. Error Status bodies become ``K8sApiError`` (reason, message, code, causes).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import random
import time

try:  # Python 3
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported by this collection
    from urllib import quote  # noqa

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s import config as k8s_config
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError, K8sError

try:
    import urllib3
    from kubernetes.client import ApiClient
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config import kube_config
except ImportError:  # pragma: no cover - k8s_config.resolve reports it before any request
    pass

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
USER_AGENT = "meshpki.istio_ca"

# digest of the connection settings -> ApiClient: one pooled connection per cluster per process.
_POOL = {}


def _safe_to_repeat(method, content_type):
    """A request that may be sent again after the server may have acted on it."""
    if method in ("GET", "HEAD", "PUT", "DELETE"):
        return True  # PUT carries resourceVersion in our modules; DELETE of a gone object is a 404
    return method == "PATCH" and content_type in (APPLY_PATCH, MERGE_PATCH)


def _digest(connection):
    """kubernetes.core ``_configuration_digest``: the settings, file contents included, and the headers."""
    conf = connection.configuration
    digest = hashlib.sha256()
    for attr in ("host", "api_key", "username", "password", "verify_ssl", "ssl_ca_cert", "cert_file", "key_file",
                 "proxy", "no_proxy", "proxy_headers", "tls_server_name", "ca_cert_data"):
        value = getattr(conf, attr, None)
        if value and attr in ("ssl_ca_cert", "cert_file", "key_file"):
            try:
                with open(str(value), "rb") as handle:
                    digest.update(handle.read())
            except (IOError, OSError):
                digest.update(str(value).encode("utf-8"))
        else:
            digest.update(repr(value).encode("utf-8"))
        digest.update(b"\0")
    digest.update(repr(sorted(connection.headers.items())).encode("utf-8"))
    return digest.hexdigest()


def _api_client(connection):
    """The pooled ApiClient for these settings (made on first use, urllib3 retries off)."""
    key = _digest(connection)
    client = _POOL.get(key)
    if client is None:
        conf = connection.configuration
        conf.retries = False  # ours below: they depend on the verb
        if not conf.verify_ssl:  # the user chose it; kubernetes.core silences the same warning
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        client = ApiClient(conf)
        client.user_agent = USER_AGENT
        for header, value in connection.headers.items():
            client.set_default_header(header, value)
        _POOL[key] = client
    return client


def _forget_temp_files(configuration):
    """Delete the files the kubeconfig loader wrote for inline credentials of this configuration.

    ``kube_config`` writes ``*-data`` (CA, client certificate and key) to temp files because ssl
    loads them only from files, and deletes them at exit; a forked Ansible worker leaves with
    ``os._exit``, which runs no exit handlers, so the in-process path deletes them here.
    """
    try:
        temp_files = kube_config._temp_files  # pylint: disable=protected-access
    except NameError:  # pragma: no cover - no kubernetes package, nothing was written
        return
    for attr in ("ssl_ca_cert", "cert_file", "key_file"):
        path = getattr(configuration, attr, None)
        for key, value in list(temp_files.items()):
            if value == path:
                temp_files.pop(key, None)
                try:
                    os.unlink(path)
                except OSError:
                    pass


def close_all():
    """Close every pooled connection and delete the loader's temp credential files (end of a task)."""
    while _POOL:
        client = _POOL.popitem()[1]
        try:
            client.close()
        finally:
            _forget_temp_files(client.configuration)


class K8sClient(object):
    """JSON requests on known REST paths to one API server, through the official client."""

    def __init__(self, connection):
        self.connection = connection
        self.api = _api_client(connection)
        self.request_count = 0

    @classmethod
    def from_params(cls, params):
        """Build from a module's params (connection options + K8S_AUTH_* fallbacks)."""
        return cls(k8s_config.resolve(params))

    def close(self):
        """Close this cluster's pooled connection and delete the loader's temp credential files."""
        for key, client in list(_POOL.items()):
            if client is self.api:
                _POOL.pop(key, None)
        self.api.close()
        _forget_temp_files(self.api.configuration)

    # -- transport -------------------------------------------------------------------------------------------------
    def _send_once(self, method, path, query, body, content_type, accept):
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        serialized = self.api.param_serialize(method, path, query_params=query, header_params=headers,
                                              body=body, auth_settings=["BearerToken"])
        response = self.api.call_api(*serialized, _request_timeout=REQUEST_TIMEOUT)
        data = response.read()
        return response.status, response.reason, response.getheader("Retry-After"), data

    def request(self, method, path, body=None, query=None, content_type=None, raw=False, attempts=None):
        """Send one API request; return the decoded JSON (or text when ``raw``).

        ``attempts`` lowers the retry budget for calls whose 5xx rarely heals (pods/proxy).
        Raises K8sApiError for an error Status, K8sError when the server cannot be reached.
        """
        max_attempts = min(attempts or MAX_ATTEMPTS, MAX_ATTEMPTS)
        query = [(k, v) for k, v in (query or {}).items() if v is not None]
        if body is not None:
            content_type = content_type or JSON
            if isinstance(body, bytes):
                body = json.loads(body.decode("utf-8"))
        repeatable = _safe_to_repeat(method, content_type)
        attempt = 0
        while True:
            attempt += 1
            self.request_count += 1
            try:
                code, reason, retry_after, data = self._send_once(method, path, query, body, content_type,
                                                                  "*/*" if raw else JSON)
            except ApiException as exc:  # the client's wrapping of TLS errors (status 0): never retried
                raise self._transport_error(method, path, exc.reason or exc)
            except urllib3.exceptions.NewConnectionError as exc:  # nothing was sent: always safe to repeat
                if attempt < max_attempts:
                    self._sleep(attempt, None)
                    continue
                raise K8sError("Cannot connect to the Kubernetes API at %s (%s): %s." % (
                    self.connection.server, self.connection.source, _reason(exc)),
                    "Is the cluster up and the kubeconfig current?")
            except urllib3.exceptions.SSLError as exc:
                raise self._transport_error(method, path, exc)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if repeatable and attempt < max_attempts:
                    self._sleep(attempt, None)
                    continue
                raise self._transport_error(method, path, exc)
            if code < 400:
                text = data.decode("utf-8", "replace")
                if raw:
                    return text
                return json.loads(text) if text.strip() else {}
            # 429 means the server refused before acting: safe to repeat for any verb.
            if code in RETRY_CODES and (repeatable or code == 429) and attempt < max_attempts:
                self._sleep(attempt, retry_after)
                continue
            error = K8sApiError.from_response(code, reason, data.decode("utf-8", "replace"), method, path)
            if code == 401 and self.connection.load_errors:
                error.hint = "%s The kubeconfig loader reported: %s" % (error.hint, "; ".join(
                    self.connection.load_errors))
            raise error

    def _transport_error(self, method, path, exc):
        text = _reason(exc)
        hint = None
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text.lower():
            hint = ("The API server's certificate is not trusted by %s: check its certificate-authority "
                    "(ca_cert), or tls-server-name." % self.connection.source)
        return K8sError("Request %s %s to %s failed: %s." % (method, path, self.connection.server, text), hint)

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


def _reason(exc):
    """The innermost readable cause of a urllib3/ssl error (urllib3 nests them)."""
    text = str(getattr(exc, "reason", None) or exc)
    return text.replace("\n", ": ").strip()


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
