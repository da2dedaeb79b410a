# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""What a refused request (401/403) tells its reader, in one place.

Why a module of its own: the same denial reaches a person through three paths — our modules'
``K8sApiError`` (errors.py), a ``kubernetes.core`` task whose message embeds the API's ``Status`` as
JSON (kubernetes.core ``plugins/module_utils/k8s/service.py`` ``retrieve``: "Failed to retrieve
requested object: <e.body>"), and the fleet callback's last line per cluster — and each must say the
same: the API server's own sentence, which already names the verb, resource, API group, namespace and
user (kubernetes ``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go``
``forbiddenMessage``), followed by where the collection documents the roles that grant it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

# Playbook (file name without .yml) -> the docs/rbac/ file whose roles it runs with.
RBAC_FILE = {"deploy": "deploy", "rotate": "rotate", "restore": "rotate", "report": "report"}

UNAUTHORIZED_HINT = ("The credentials were rejected (401 Unauthorized): check the token or client certificate "
                     "of this cluster's kubeconfig context.")

_FORBIDDEN = "The credentials lack permission (403 Forbidden): grant the missing RBAC verb on the named resource"


def rbac_file(playbook):
    """``docs/rbac/<file>.yaml`` for a playbook name or path (``rotate``, ``playbooks/restore.yml``), else None."""
    if not playbook:
        return None
    name = re.sub(r"\.ya?ml$", "", str(playbook).replace("\\", "/").rsplit("/", 1)[-1])
    found = RBAC_FILE.get(name)
    return "docs/rbac/%s.yaml" % found if found else None


def forbidden_hint(playbook=None):
    """The sentence after a 403: which shipped roles to apply (the playbook's own file when it is known)."""
    path = rbac_file(playbook)
    if path:
        name = re.sub(r"\.ya?ml$", "", str(playbook).replace("\\", "/").rsplit("/", 1)[-1])
        return "%s: %s in this collection holds the roles %s.yml needs (meshpki-istio-ca-%s)." % (
            _FORBIDDEN, path, name, path[len("docs/rbac/"):-len(".yaml")])
    return ("%s: this collection's docs/rbac/<playbook>.yaml holds the roles each playbook needs (deploy.yaml "
            "for deploy.yml, rotate.yaml for rotate.yml and restore.yml, report.yaml for report.yml)." % _FORBIDDEN)


def hint(code, playbook=None):
    """The hint for an API answer's code, or None when the code is not a credentials problem."""
    if code == 401:
        return UNAUTHORIZED_HINT
    if code == 403:
        return forbidden_hint(playbook)
    return None


def embedded_status(text):
    """The first API ``Status`` object (a dict) embedded as JSON in a message, else None."""
    if not isinstance(text, str) or '"Status"' not in text:
        return None
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ignored = decoder.raw_decode(text[start:])
        except ValueError:
            value = None
        if isinstance(value, dict) and value.get("kind") == "Status":
            return value
        start = text.find("{", start + 1)
    return None


def is_denial(status):
    """A refusal of the credentials (401) or of the permission (403), not a webhook's 403."""
    if not isinstance(status, dict) or status.get("code") not in (401, 403):
        return False
    message = status.get("message") or ""
    return not ("admission webhook" in message and "denied the request" in message)


def readable(text, playbook=None):
    """A message whose embedded 401/403 Status JSON is replaced by the API's sentence and the hint.

    ``Failed to retrieve requested object: {"kind":"Status",...,"message":"x is forbidden: User ..."}``
    becomes ``Failed to retrieve requested object: x is forbidden: User ... <hint>``. Any other text,
    or a Status that is not a denial, is returned as it is.
    """
    status = embedded_status(text)
    if not is_denial(status):
        return text
    head = text[:text.find("{")].rstrip(" :")
    if "\n" in head:
        head = ""  # kubernetes.core's k8s_info dumps the exception (code, reason, headers): the Status says it all
    sentence = status.get("message") or "%s %s" % (status.get("code"), status.get("reason") or "")
    extra = hint(status.get("code"), playbook)
    return "%s%s%s" % ("%s: " % head if head else "", sentence.strip(), " " + extra if extra else "")


def denial_of(result):
    """The 401/403 ``Status``-like dict (code, reason, message) behind a registered task result, else None:
    our modules return it as ``api_error``; kubernetes.core embeds it in ``msg``."""
    if not isinstance(result, dict):
        return None
    api_error = result.get("api_error")
    if isinstance(api_error, dict) and is_denial(api_error):
        return api_error
    status = embedded_status(result.get("msg"))
    return status if is_denial(status) else None


def for_playbook(text, playbook):
    """``readable`` for a known playbook, and our modules' generic hint made that playbook's own."""
    text = readable(text, playbook)
    generic = forbidden_hint()
    if playbook and rbac_file(playbook) and generic in text:
        text = text.replace(generic, forbidden_hint(playbook))
    return text
