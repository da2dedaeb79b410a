# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``istio_hot_reload_plan``: each istiod Deployment's Istio version and hot-reload setting.

The decision (version from the image tag, AUTO_RELOAD_PLUGIN_CERTS read with Go's ParseBool as istiod
reads it, which versions need it set) is module_utils/istiod/hot_reload_plan.py, shared with the
fleet report and istiod_reload_check. Documentation is in ``istio_hot_reload_plan.yml`` beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import hot_reload_plan as _plan
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain


def istio_hot_reload_plan(deployments, container_name="discovery", version=""):
    """One entry per istiod Deployment (a list, or a registered k8s_info result), in the given order."""
    deployments = _plain(deployments)
    if isinstance(deployments, dict) and "resources" in deployments:  # a registered k8s_info result
        deployments = deployments["resources"]
    if not isinstance(deployments, list) or not all(isinstance(d, dict) for d in deployments):
        raise AnsibleFilterError("istio_hot_reload_plan expects a list of Deployment objects (k8s_info resources)")
    version = str(version or "").strip()
    if version and _plan.versions.parse_version(version) is None:
        raise AnsibleFilterError("istio_hot_reload_plan: version %r is not an Istio version like 1.16.7" % version)
    return [_plan.plan(d, container_name or _plan.DISCOVERY_CONTAINER, version) for d in deployments]


class FilterModule(object):
    """Istio hot-reload filter of meshpki.istio_ca."""

    def filters(self):
        return {"istio_hot_reload_plan": istio_hot_reload_plan}
