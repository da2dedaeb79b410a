# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters ``rotation_result`` (one cluster's row), ``rotation_preflight_result`` (the row the preflight
already knows) and ``rotation_summary`` (the fleet table) of a rotation.

The logic is controller-only Python in plugin_utils/rotation/outcome.py (unit-tested there).

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.outcome import (
    rotation_preflight_result, rotation_result, rotation_summary)


class FilterModule(object):
    """ca_rotation outcome filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "rotation_preflight_result": rotation_preflight_result,
            "rotation_result": rotation_result,
            "rotation_summary": rotation_summary,
        }
