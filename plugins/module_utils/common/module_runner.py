# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The one place where a collection error becomes ``fail_json``.

Every layer raises a subclass of ``errors.CollectionError`` whose ``failure()`` is the
failure to return (message, partial result, ``api_error`` for an API Status). A missing
Python library is reported the same way, before any work starts. Anything else is a bug
and is reported with its traceback by Ansible itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError


def run_module(module, fn, required_libraries=()):
    """Run ``fn()`` (returns the result dict) and exit the module with it or with one clear failure.

    ``required_libraries``: ``(name, importable)`` pairs; a missing one fails before ``fn`` runs.
    """
    try:
        for name, importable in required_libraries:
            if not importable:
                raise CollectionError(missing_required_lib(name))
        result = fn()
    except CollectionError as exc:
        module.fail_json(**exc.failure())
    module.exit_json(**result)
