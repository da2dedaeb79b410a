# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters of the root rotation's bundles and preflight (logic in plugin_utils/root_rotation/bundles.py, preflight.py).

- ``root_rotation_bundle``: the exact root bundle (``root-cert.pem``) of a phase, from what ``cacerts`` serves now;
- ``root_rotation_bundle_problems``: why an istiod of the cluster would refuse a bundle change (empty: none would),
  checked before anything is written;
- ``root_rotation_preflight``: the new root, its key and the cluster's istiod revisions, before any change.

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import bundles, preflight


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def root_rotation_bundle(phase, current, new_root):
    try:
        return _text(bundles.phase_bundle(phase, current or "", new_root or ""))
    except bundles.BundleError as exc:
        raise AnsibleFilterError("root_rotation_bundle: %s" % exc)


def root_rotation_bundle_problems(proposed, current, istiods):
    return bundles.change_problems(current or "", proposed or "", plain(istiods) or [])


def root_rotation_preflight(new_cert, new_key=None, old_bundle=None, istiods=None, record=None):
    """{"new_root": facts, "problems": [...]} of one cluster."""
    facts, problems = preflight.new_root_problems(new_cert or "", new_key or None, old_bundle or None,
                                                  record=plain(record) or None)
    if istiods is not None:
        problems = problems + preflight.istiod_problems(plain(istiods) or [])
    return {"new_root": facts, "problems": problems}


class FilterModule(object):
    """Root rotation bundle filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "root_rotation_bundle": root_rotation_bundle,
            "root_rotation_bundle_problems": root_rotation_bundle_problems,
            "root_rotation_preflight": root_rotation_preflight,
        }
