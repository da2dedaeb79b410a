# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``fleet_report``: the fleet CA status document (report.json).

The logic is controller-only Python in plugin_utils/report/fleet_status.py (unit-tested there).

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import fleet_report


class FilterModule(object):
    """Fleet report filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "fleet_report": fleet_report,
        }
