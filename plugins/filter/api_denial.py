# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters of refused API requests (401/403) in registered task results.

- ``api_denied``: whether a result failed because the credentials were refused or lack a permission
  (our modules' ``api_error``, or the Status JSON kubernetes.core embeds in its ``msg``).
- ``api_denial_message``: that failure as one readable sentence: the API server's own message (verb,
  resource, namespace, user) and which ``docs/rbac/<playbook>.yaml`` grants it.

Why filters: a kubernetes.core task's 403 arrives as escaped JSON, and a task retried ``until`` it succeeds
would retry a refusal until its timeout. The rules live in module_utils/common/forbidden.py, shared with our
modules' own errors and the fleet callback, so every path says the same. Documentation of each filter is in
the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import forbidden as _forbidden
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain


def api_denied(result):
    """True when the registered result carries a 401 or an RBAC 403 (also after a ``failed_when`` kept the task
    going so that a later task can fail with the readable message)."""
    result = _plain(result)
    return bool(isinstance(result, dict) and _forbidden.denial_of(result))


def api_denial_message(result, playbook=None):
    """The failure's message with an embedded 401/403 Status made readable, and the docs/rbac pointer."""
    result = _plain(result)
    if not isinstance(result, dict):
        return ""
    text = str(result.get("msg") or "")
    if _forbidden.embedded_status(text) is not None:
        return _forbidden.readable(text, playbook)
    denial = _forbidden.denial_of(result)
    if denial and playbook:  # our module's message already carries the generic hint; name the playbook's file
        return "%s %s" % (denial.get("message") or text, _forbidden.hint(denial.get("code"), playbook))
    return text


class FilterModule(object):
    """Filters of refused API requests."""

    def filters(self):
        return {"api_denied": api_denied, "api_denial_message": api_denial_message}
