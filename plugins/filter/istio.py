# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``istio_manager_plan``: per istiod revision, whether the istio role patches hot reload on.

The decision (which versions need ``AUTO_RELOAD_PLUGIN_CERTS``, who manages each istiod, the overlay
for that manager) lives in plugins/plugin_utils/istio/install_manager.py. Documentation is in
``istio_manager_plan.yml`` beside this file. Filter ``istio_reload_window``: the reload window
from kubelet's sync cadence (plugins/module_utils/istiod/timing.py), documented in ``istio_reload_window.yml``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import timing
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.istio import install_manager


def istio_manager_plan(istiod, deployments, istio_operators=None, patch_managed=False,
                       namespace="istio-system"):
    """The role's istiod list with ``manager``, ``needs_auto_reload_env``, ``action``, ``message``, ``warning``."""
    return install_manager.plan(_plain(istiod) or [], _plain(deployments) or [], _plain(istio_operators) or [],
                                bool(patch_managed), namespace)


def istio_reload_window(sync_frequency="1m", cache_ttl="0s", margin="30s"):
    """Seconds until every istiod pod can be expected to have a changed cacerts (timing.reload_window)."""
    try:
        return timing.reload_window(sync_frequency, cache_ttl, margin)
    except timing.TimingError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """istio role filters of meshpki.istio_ca."""

    def filters(self):
        return {"istio_manager_plan": istio_manager_plan, "istio_reload_window": istio_reload_window}
