# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The collection's one exception hierarchy: a base and one subclass per layer.

Every error a person can act on derives from ``CollectionError``, so a caller catches one type
and ``module_runner.run_module`` (the one place that calls ``fail_json``) turns any of them into
the module's failure through ``failure()``:

- ``K8sError``: reaching or configuring the Kubernetes API (kubeconfig, TLS, transport), and its
  ``K8sApiError`` for an error ``Status`` the API server answered (apimachinery
  ``pkg/apis/meta/v1/types.go`` Status; its ``code``/``reason``/``details.causes`` are returned
  under ``api_error`` so a playbook can branch on them).
- ``CertificateError``: anything the certificate module can tell a person to fix (invalid spec,
  cert-manager missing or its webhook not ready, an issuer not Ready, a failed issuance, a timeout).
- ``X509Error``: input x509_inspect cannot read or judge (empty, garbage, a key where a certificate
  belongs, a Secret without tls.crt, ...).
- ``IstiodError``: the istiod reload check could not run, or istiod has not reloaded and the
  caller asked to fail.

``result`` carries partial results worth returning on failure (validation errors, last seen
conditions, a backup made before the failure); it never holds key material, and no message
contains any.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import forbidden


class CollectionError(Exception):
    """A failure with a message a person can act on; ``result`` goes into the module's failure."""

    def __init__(self, message, result=None):
        super(CollectionError, self).__init__(message)
        self.message = message
        self.result = result or {}

    def __str__(self):
        return self.message

    def failure(self):
        """The keyword arguments of ``fail_json`` for this error."""
        failure = dict(self.result)
        failure.setdefault("changed", False)
        failure["msg"] = str(self)
        return failure


class K8sError(CollectionError):
    """A problem reaching or configuring the Kubernetes API (no Status body); ``hint`` says what to check."""

    def __init__(self, message, hint=None, result=None):
        super(K8sError, self).__init__(message, result)
        self.hint = hint

    def __str__(self):
        if self.hint:
            return "%s %s" % (self.message, self.hint)
        return self.message


class K8sApiError(K8sError):
    """The API server answered with an error ``Status`` (apimachinery ``metav1.Status``)."""

    def __init__(self, code, reason, message, details=None, method=None, path=None):
        self.code = code
        self.reason = reason or ""
        self.api_message = message or ""
        self.details = details or {}
        self.method = method
        self.path = path
        text = self.api_message or ("HTTP %s %s" % (code, self.reason)).strip()
        super(K8sApiError, self).__init__(text, None if self.admission_denied else forbidden.hint(code))

    @classmethod
    def from_response(cls, code, http_reason, body, method=None, path=None):
        """Build from a raw HTTP answer; parse the Status body when it is one."""
        status = None
        if body:
            try:
                status = json.loads(body)
            except ValueError:
                status = None
        if isinstance(status, dict) and status.get("kind") == "Status":
            return cls(status.get("code") or code, status.get("reason") or http_reason,
                       status.get("message"), status.get("details"), method, path)
        text = body.strip() if isinstance(body, str) else ""
        if len(text) > 300:
            text = text[:300] + "..."
        return cls(code, http_reason, text or ("%s %s" % (code, http_reason)), None, method, path)

    @property
    def causes(self):
        return (self.details or {}).get("causes") or []

    def as_dict(self):
        """The parts a playbook may branch on (returned under ``api_error``)."""
        return {
            "code": self.code,
            "reason": self.reason,
            "message": self.api_message,
            "causes": self.causes,
        }

    def failure(self):
        failure = super(K8sApiError, self).failure()
        failure["api_error"] = self.as_dict()
        return failure

    @property
    def admission_denied(self):
        """A validating webhook refused the object (403 too, but not an RBAC problem)."""
        return "admission webhook" in self.api_message and "denied the request" in self.api_message

    @property
    def denied(self):
        """The credentials were refused (401) or lack an RBAC permission (403, not a webhook's refusal)."""
        return self.code in (401, 403) and not self.admission_denied

    @property
    def not_found(self):
        return self.code == 404

    @property
    def conflict(self):
        return self.code == 409


class CertificateError(CollectionError):
    """A Certificate problem with a message a person can act on."""


class X509Error(CollectionError):
    """Input that cannot be read or judged; the message says what to fix."""

    def __init__(self, message, result=None):
        first = message.split(" ", 1)[0]
        if first.isalpha() and first.islower():  # "file x is empty" -> "File x ...", but keep "valid_at.x: ..."
            message = message[:1].upper() + message[1:]
        super(X509Error, self).__init__(message, result)


class IstiodError(CollectionError):
    """The reload check could not run, or istiod has not reloaded and the caller asked to fail; ``result`` says why."""
