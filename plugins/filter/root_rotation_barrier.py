# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the root rotation's proofs and barriers (logic in plugin_utils/root_rotation/barriers.py).

- ``root_rotation_step_evidence``: one cluster's proof of a step (bundle in ``cacerts`` and in every namespace's
  ``istio-ca-root-cert``, istiod's log lines since the step was written);
- ``root_rotation_workload_evidence``: whether every workload holds a leaf issued after istiod switched
  intermediates (pod start times and pilot-agent's certificate expiry gauge);
- ``root_rotation_workload_readings``: those readings from the pods (sidecars only);
- ``root_rotation_barrier``: whether the fleet may start the next step, and what each cluster still waits for.

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import barriers


def root_rotation_step_evidence(step, expected, cacerts_bundle, configmaps, pod_logs, since):
    try:
        bundle = barriers.bundle_evidence(expected or "", cacerts_bundle or "", plain(configmaps) or [])
        istiod = barriers.istiod_evidence(step, plain(pod_logs) or {}, since)
        return {"bundle": bundle, "istiod": istiod, "done": bundle["done"] and istiod["done"]}
    except ValueError as exc:
        raise AnsibleFilterError("root_rotation_step_evidence: %s" % exc)


def root_rotation_workload_evidence(workloads, switched_at, now, ttl, restarted_at=None):
    try:
        return barriers.workload_evidence(plain(workloads) or [], switched_at, now, ttl, restarted_at or None)
    except ValueError as exc:
        raise AnsibleFilterError("root_rotation_workload_evidence: %s" % exc)


def root_rotation_workload_readings(pods, gauges=None, namespace="istio-system"):
    return barriers.workload_readings(plain(pods) or [], plain(gauges) or {}, namespace)


def root_rotation_barrier(clusters, step, next_step=None):
    return barriers.fleet_barrier(plain(clusters) or {}, step, next_step or None)


class FilterModule(object):
    """Root rotation barrier filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "root_rotation_barrier": root_rotation_barrier,
            "root_rotation_step_evidence": root_rotation_step_evidence,
            "root_rotation_workload_evidence": root_rotation_workload_evidence,
            "root_rotation_workload_readings": root_rotation_workload_readings,
        }
