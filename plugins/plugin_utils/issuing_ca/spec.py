# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The issuing_ca action's options: one argument spec, validated the way AnsibleModule validates.

Why here and not in plugins/modules/issuing_ca.py: the action never ships a module to a target (the
root key must stay on the controller), so the doc stub there only documents this spec.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.args_common import AUTH_ARG_SPEC

ARGUMENT_SPEC = dict(
    root_cert=dict(type="str", required=True),
    root_key=dict(type="str", required=True, no_log=False),  # a path; the key itself never is an option
    cluster_name=dict(type="str", required=True),
    common_name=dict(type="str", default="Issuing CA"),
    organization=dict(type="str", default="Istio"),
    duration=dict(type="str", default="8760h"),
    min_remaining=dict(type="str", default="1440h"),
    path_length=dict(type="int", default=1),
    key_algorithm=dict(type="str", default="RSA", choices=["RSA", "ECDSA"]),
    key_size=dict(type="int", default=4096),
    secret_name=dict(type="str", default="meshpki-istio-issuing-ca"),
    namespace=dict(type="str", default="cert-manager"),
    rotate=dict(type="bool", default=False),
    field_manager=dict(type="str", default="meshpki-istio-ca"),
)
ARGUMENT_SPEC.update(copy.deepcopy(AUTH_ARG_SPEC))
