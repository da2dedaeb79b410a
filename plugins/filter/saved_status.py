# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters ``status_file_name`` and ``merged_fleet_report``: each rotation run (each slice of a sliced AWX job)
saves its clusters' status under a name of its own, and report.yml merges saved statuses into one report.

The logic is controller-only Python in plugin_utils/report/saved_status.py (unit-tested there).
Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.saved_status import (
    merged_fleet_report, status_file_name)


class FilterModule(object):
    """Saved fleet status filters of meshpki.istio_ca."""

    def filters(self):
        return {"merged_fleet_report": merged_fleet_report, "status_file_name": status_file_name}
