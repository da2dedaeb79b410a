# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the rotation record: what each cluster went through, on the controller and in the cluster.

- ``rotation_run_id``: the id of this run (from its start time).
- ``rotation_record``: one step's record (a journal line and the in-cluster ConfigMap's data).
- ``rotation_record_configmap``: the ConfigMap ``meshpki-istio-ca-rotation`` holding a record.
- ``rotation_previous_run``: the record a previous run left, from a k8s_info result.

The logic is controller-only Python in plugin_utils/rotation/journal.py (unit-tested there).

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.journal import (
    rotation_previous_run, rotation_record, rotation_record_configmap, rotation_run_id)


class FilterModule(object):
    """Rotation record filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "rotation_previous_run": rotation_previous_run,
            "rotation_record": rotation_record,
            "rotation_record_configmap": rotation_record_configmap,
            "rotation_run_id": rotation_run_id,
        }
