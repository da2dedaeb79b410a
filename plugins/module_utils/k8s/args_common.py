# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Argument specs shared by every module that talks to Kubernetes.

Composed the way kubernetes.core does it (plugins/module_utils/args_common.py ``AUTH_ARG_SPEC``,
which its modules take with ``copy.deepcopy`` and extend): one dict here, and each module's
``argument_spec()`` starts from ``copy.deepcopy(AUTH_ARG_SPEC)`` so no module can change another's.
The option names, types and aliases are kubernetes.core's, so one ``module_defaults`` block
(``group/meshpki.istio_ca.k8s``, which extends ``kubernetes.core.k8s`` in meta/runtime.yml) serves
both collections' modules. Documented once in plugins/doc_fragments/k8s_auth.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

AUTH_ARG_SPEC = dict(
    kubeconfig=dict(type="raw", no_log=True),
    context=dict(type="str"),
    host=dict(type="str"),
    api_key=dict(type="str", no_log=True),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    validate_certs=dict(type="bool", aliases=["verify_ssl"]),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"]),
    client_cert=dict(type="path", aliases=["cert_file"]),
    client_key=dict(type="path", aliases=["key_file"], no_log=False),
    proxy=dict(type="str"),
    no_proxy=dict(type="str"),
    impersonate_user=dict(type="str"),
    impersonate_groups=dict(type="list", elements="str"),
)
