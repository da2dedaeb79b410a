# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The one place where a collection error becomes ``fail_json``.

Each layer raises its own exception type (K8sError for the API, X509Error for
certificate parsing, ...); all of them derive from ``errors.CollectionError``
or ``K8sError`` and carry a message a person can act on. Anything else is a bug and
is reported with its traceback by Ansible itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.errors import K8sApiError, K8sError


def run_module(module, fn):
    """Run ``fn()`` (returns the result dict) and exit the module with it or with one clear failure."""
    try:
        result = fn()
    except K8sApiError as exc:
        module.fail_json(msg=str(exc), api_error=exc.as_dict(), changed=False)
    except K8sError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except CollectionError as exc:
        failure = dict(exc.result)
        failure.setdefault("changed", False)
        module.fail_json(msg=exc.message, **failure)
    module.exit_json(**result)
