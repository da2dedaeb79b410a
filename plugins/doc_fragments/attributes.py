# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The ``attributes`` every module of the meshpki.istio_ca.k8s action group shares.

Written once so they cannot drift between modules. A module adds what is its own (how it runs in
check mode, whether it supports diff) in its own ``attributes``, which ansible-doc merges over these
(ansible ``utils/plugin_docs.py`` ``add_fragments``: the module's keys win). Use together with
``ansible.builtin.action_common_attributes`` and ``ansible.builtin.action_common_attributes.flow``,
which describe the attributes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
  action_group:
    description: Use C(group/meshpki.istio_ca.k8s) in C(module_defaults) to set the connection options once for
      this collection's modules and C(kubernetes.core)'s (the group extends C(kubernetes.core.k8s)).
    support: full
    membership:
      - meshpki.istio_ca.k8s
  action:
    support: full
    details:
      - On the C(local) connection the action plugin runs the module inside the Ansible worker (no module
        process); C(MESHPKI_IN_PROCESS=0) or C(meshpki_in_process=false) forces the normal module path.
  async:
    support: full
  bypass_host_loop:
    support: none
"""
