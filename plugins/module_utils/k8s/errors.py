# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Errors of the Kubernetes connection layer.

One exception family for this layer: ``K8sError`` for configuration and transport
problems, ``K8sApiError`` for a ``Status`` answer from the API server. Both read as
one sentence a person can act on; module_runner turns them into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


class K8sError(Exception):
    """A problem reaching or configuring the Kubernetes API (no Status body)."""

    def __init__(self, message, hint=None):
        super(K8sError, self).__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self):
        if self.hint:
            return "%s %s" % (self.message, self.hint)
        return self.message


# Codes whose cause is the caller's credentials or permissions: retrying cannot help.
_HINTS = {
    401: "The credentials were rejected (401 Unauthorized): check the token or client certificate "
         "of this cluster's kubeconfig context.",
    403: "The credentials lack permission (403 Forbidden): grant the missing RBAC verb on the named resource.",
}


class K8sApiError(K8sError):
    """The API server answered with an error ``Status`` (reference/kube-api.md §5)."""

    def __init__(self, code, reason, message, details=None, method=None, path=None):
        self.code = code
        self.reason = reason or ""
        self.api_message = message or ""
        self.details = details or {}
        self.method = method
        self.path = path
        text = self.api_message or ("HTTP %s %s" % (code, self.reason)).strip()
        super(K8sApiError, self).__init__(text, None if self.admission_denied else _HINTS.get(code))

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

    @property
    def admission_denied(self):
        """A validating webhook refused the object (403 too, but not an RBAC problem)."""
        return "admission webhook" in self.api_message and "denied the request" in self.api_message

    @property
    def not_found(self):
        return self.code == 404

    @property
    def conflict(self):
        return self.code == 409
