# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters that decide whether and how one cluster's intermediate is rotated (the ``ca_rotation`` preflight).

- ``rotation_root_problems``: this cluster's root against the other clusters of the play and the expected root.
- ``rotation_plan``: one cluster's plan (``ca_rotation_plan``), the structure a rotation carries from the
  preflight to the change, the summary and fleet-status.json, with the findings of its status that block a
  rotation and whether the requested ``duration``/``renewBefore`` leaves the old intermediate valid for one
  workload-certificate lifetime after cert-manager renews it.
- ``rotation_new_chain_problems``: is the new ``cacerts`` what the change must produce?

The logic is controller-only Python in plugin_utils/rotation/{checks,plan}.py (unit-tested there); the
request the plan carries is ``rotation_request``'s (plugins/filter/rotation_request.py).

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.checks import rotation_new_chain_problems
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.plan import rotation_plan, rotation_root_problems


class FilterModule(object):
    """ca_rotation preflight filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "rotation_new_chain_problems": rotation_new_chain_problems,
            "rotation_plan": rotation_plan,
            "rotation_root_problems": rotation_root_problems,
        }
