# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters ``restore_plan`` (may a backup be restored on a cluster, and what must happen around it) and
``restore_request_problems`` (is exactly one backup named).

The logic is controller-only Python in plugin_utils/rotation/restore.py (unit-tested there).
Documentation is in ``restore_plan.yml`` beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.restore import restore_plan, restore_request_problems


class FilterModule(object):
    """Restore filter of meshpki.istio_ca."""

    def filters(self):
        return {"restore_plan": restore_plan, "restore_request_problems": restore_request_problems}
