#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: key_exposure
short_description: Find Secrets that hold the private key of a given CA (matched by public key)
version_added: 0.2.0
description:
  - Lists every Secret of the cluster (or of O(namespaces)), parses every PEM private key in every data value,
    and reports each one whose public key (SHA-256 of the SubjectPublicKeyInfo) is one of O(public_keys).
  - Meant for the fleet root (which must be in no cluster with C(offline_root)) and the other clusters'
    issuing CAs (each must be only in its own cluster).
  - Read-only. Never returns key material, only where a matching key is and which entry it matches.
  - Needs C(list) on Secrets in the namespaces checked; a 403 fails with the API server's message.
options:
  public_keys:
    description: The public keys to look for.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Label reported with a match (for example C(fleet root) or C(issuing CA of cluster-2)).
        type: str
        required: true
      sha256:
        description:
          - SHA-256 fingerprint of the SubjectPublicKeyInfo, hex with or without colons
            (x509_inspect's RV(meshpki.istio_ca.x509_inspect#module:certificates[].public_key_fingerprints.sha256)).
        type: str
        required: true
  namespaces:
    description: Namespaces to check; empty means every namespace (one cluster-wide list).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - meshpki.istio_ca.k8s_auth
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
  action:
    support: full
    details: On the C(local) connection the action plugin runs the module inside the Ansible worker.
  async:
    support: full
  bypass_host_loop:
    support: none
author:
  - meshpki.istio_ca maintainers (@meshpki)
"""

EXAMPLES = r"""
- name: Read the root the cluster trusts
  meshpki.istio_ca.x509_inspect:
    secret: {name: cacerts, namespace: istio-system}
  register: cacerts

- name: Fail when any Secret of this cluster holds the fleet root's key
  meshpki.istio_ca.key_exposure:
    public_keys:
      - name: fleet root
        sha256: "{{ cacerts.certificates[-1].public_key_fingerprints.sha256 }}"
  register: exposure
  failed_when: not exposure.ok
"""

RETURN = r"""
ok:
  description: True when no Secret holds any of the keys.
  type: bool
  returned: success
exposed:
  description: One entry per private key found that matches.
  type: list
  elements: dict
  returned: success
  contains:
    namespace:
      description: Namespace of the Secret.
      type: str
    name:
      description: Name of the Secret.
      type: str
    data_key:
      description: The data key holding the private key.
      type: str
    matches:
      description: The O(public_keys[].name) it matches.
      type: str
    public_key_sha256:
      description: The matching fingerprint, colon hex.
      type: str
secrets_checked:
  description: How many Secrets were read.
  type: int
  returned: success
private_keys_found:
  description: How many parseable private keys those Secrets hold in all.
  type: int
  returned: success
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.args_common import AUTH_ARG_SPEC
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.module_runner import run_module

try:
    import cryptography  # noqa: F401  pylint: disable=unused-import
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

if HAS_CRYPTOGRAPHY:
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.key_exposure import check


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        public_keys=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            sha256=dict(type="str", required=True),
        )),
        namespaces=dict(type="list", elements="str", default=[]),
    )
    return spec


MODULE_KWARGS = dict(supports_check_mode=True)


def run(module):
    """Run on ``module`` (an AnsibleModule, or the action plugin's in-process stand-in)."""
    run_module(module, lambda: check(module.params, client_factory=lambda: K8sClient.from_params(module.params)),
               required_libraries=[("cryptography", HAS_CRYPTOGRAPHY)])


def main():
    run(AnsibleModule(argument_spec=argument_spec(), **MODULE_KWARGS))


if __name__ == "__main__":
    main()
