# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters ``istio_multiroot_readiness`` (is a cluster ready for a multi-root rotation, and the fixes) and
``istio_multiroot_plan`` (what ``istio_multiroot=true`` changes: the istiod env, the mesh ConfigMaps).

The rule (istiod version and ISTIO_MULTIROOT_MESH per revision, PROXY_CONFIG_XDS_AGENT in each revision's mesh
config and in every sidecar as it started, which workloads to restart) lives in
plugins/plugin_utils/istio/multiroot.py. Documentation is in ``istio_multiroot_readiness.yml`` and
``istio_multiroot_plan.yml`` beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import versions
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.istio import multiroot


def istio_multiroot_readiness(deployments, configmaps, pods, managed=None, istio_operators=None, version="",
                              container_name="discovery", namespace="istio-system"):
    """``{ready, problems, restart, revisions, pcds_workloads, workloads}`` (see the .yml documentation)."""
    version = str(version or "").strip()
    if version and versions.parse_version(version) is None:
        raise AnsibleFilterError("istio_multiroot_readiness: version %r is not an Istio version like 1.22.3" % version)
    if managed is not None and not isinstance(_plain(managed), list):
        raise AnsibleFilterError("istio_multiroot_readiness: managed must be the list istio_manager_plan returns")
    try:
        return multiroot.readiness(_plain(deployments), _plain(configmaps), _plain(pods), _plain(managed),
                                   _plain(istio_operators), version, container_name or "discovery",
                                   namespace or "istio-system")
    except multiroot.MultirootInputError as exc:
        raise AnsibleFilterError("istio_multiroot_readiness: %s" % exc)


def istio_multiroot_plan(deployments, configmaps, managed=None, istio_operators=None, patch_managed=False,
                         version="", container_name="discovery", namespace="istio-system"):
    """``{istiod, mesh, refusals, warnings}``: what the istio role changes for istio_multiroot=true."""
    version = str(version or "").strip()
    if version and versions.parse_version(version) is None:
        raise AnsibleFilterError("istio_multiroot_plan: version %r is not an Istio version like 1.22.3" % version)
    try:
        return multiroot.plan(_plain(deployments), _plain(configmaps), _plain(managed), _plain(istio_operators),
                              bool(patch_managed), version, container_name or "discovery", namespace or "istio-system")
    except multiroot.MultirootInputError as exc:
        raise AnsibleFilterError("istio_multiroot_plan: %s" % exc)


class FilterModule(object):
    """Multi-root readiness filter of meshpki.istio_ca."""

    def filters(self):
        return {"istio_multiroot_readiness": istio_multiroot_readiness, "istio_multiroot_plan": istio_multiroot_plan}
