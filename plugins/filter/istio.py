# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``istio_hot_reload_plan``: per istiod revision, whether the istio role patches hot reload on.

The decision (which versions need ``AUTO_RELOAD_PLUGIN_CERTS``, who manages each istiod, the overlay
for that manager) lives in plugins/plugin_utils/istio/install_manager.py. Documentation is in
``istio_hot_reload_plan.yml`` beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.istio import install_manager


def istio_hot_reload_plan(istiod, deployments, istio_operators=None, patch_managed=False, namespace="istio-system"):
    """The role's istiod list with ``manager``, ``needs_auto_reload_env``, ``action``, ``message``, ``warning``."""
    return install_manager.plan(_plain(istiod) or [], _plain(deployments) or [], _plain(istio_operators) or [],
                                bool(patch_managed), namespace)


class FilterModule(object):
    """istio role filters of meshpki.istio_ca."""

    def filters(self):
        return {"istio_hot_reload_plan": istio_hot_reload_plan}
