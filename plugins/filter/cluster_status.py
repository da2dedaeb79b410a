# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters ``cluster_status`` and ``cached_cluster_statuses``: one cluster's entry of the fleet status.

The logic is controller-only Python in plugin_utils/report/fleet_status.py (unit-tested there); the
entry's ``last_rotation`` (what the last rotation of this cluster recorded, plugin_utils/rotation/journal.py)
is added here.

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import cached_cluster_statuses
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import cluster_status as _cluster_status
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.journal import describe_record, previous_run_note


def cluster_status(name, rotation=None, **kwargs):
    """One cluster's report entry; ``rotation`` is the record of its last rotation (or None)."""
    entry = _cluster_status(name, **kwargs)
    record = describe_record(rotation) if rotation else None
    if record:
        record["note"] = previous_run_note(record, verified=entry["ok"])
    entry["last_rotation"] = record
    return entry


class FilterModule(object):
    """Cluster status filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "cluster_status": cluster_status,
            "cached_cluster_statuses": cached_cluster_statuses,
        }
