# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters ``cluster_status`` and ``cached_cluster_statuses``: one cluster's entry of the fleet status.

The logic is controller-only Python in plugin_utils/report/fleet_status.py (unit-tested there).

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import cached_cluster_statuses, cluster_status


class FilterModule(object):
    """Cluster status filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "cluster_status": cluster_status,
            "cached_cluster_statuses": cached_cluster_statuses,
        }
