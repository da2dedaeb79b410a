# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the root rotation's phases and records (logic in plugin_utils/root_rotation/phases.py, record.py).

- ``root_rotation_plan``: from every cluster's record, the steps the fleet still runs and per step each
  cluster's part (apply, resume, done), or the problems that stop the run before any change;
- ``root_rotation_step``: what the role does in a step (source of the intermediate, issuer change, hand-over);
- ``root_rotation_record``: a cluster's record after a step was applied or verified (the ConfigMap's data);
- ``root_rotation_record_configmap``: the ConfigMap ``meshpki-root-rotation`` holding a record;
- ``root_rotation_previous``: the record in a ``k8s_info`` result of that ConfigMap.

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import phases, record


def root_rotation_plan(records, abort=False, new_root=None):
    try:
        return phases.fleet_plan(plain(records) or {}, abort=bool(abort), new_root=new_root or None)
    except phases.PhaseError as exc:
        raise AnsibleFilterError("root_rotation_plan: %s" % exc)


def root_rotation_step(step):
    try:
        return phases.step_facts(step)
    except phases.PhaseError as exc:
        raise AnsibleFilterError("root_rotation_step: %s" % exc)


def root_rotation_record(phase, state, run, new_root, old_roots, at, previous=None, mode="forward", old_issuer=None,
                         switched_at=None):
    try:
        return record.record_data(phase, state, run, new_root, plain(old_roots) or [], at,
                                  previous=plain(previous) or None, mode=mode, old_issuer=old_issuer or None,
                                  switched_at=switched_at or None)
    except record.RecordError as exc:
        raise AnsibleFilterError("root_rotation_record: %s" % exc)


def root_rotation_record_configmap(data, namespace="istio-system"):
    return record.configmap(plain(data) or {}, namespace)


def root_rotation_previous(result):
    return record.from_k8s_info(plain(result) or {})


class FilterModule(object):
    """Root rotation phase and record filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "root_rotation_plan": root_rotation_plan,
            "root_rotation_previous": root_rotation_previous,
            "root_rotation_record": root_rotation_record,
            "root_rotation_record_configmap": root_rotation_record_configmap,
            "root_rotation_step": root_rotation_step,
        }
