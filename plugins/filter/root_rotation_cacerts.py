# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters that compose the root rotation's ``cacerts`` (logic in plugin_utils/root_rotation/cacerts.py).

- ``root_rotation_cacerts``: the ``cacerts`` Secret of a step from the Secret holding the step's intermediate
  (key material: only in tasks with ``no_log``);
- ``root_rotation_backup``: the in-cluster backup Secret of ``cacerts`` before a step (the certificate module's
  backup naming and labels, so restore.yml finds it; key material: ``no_log``);
- ``root_rotation_served_bundle``: the root bundle istiod reads from a ``cacerts`` Secret (public, but the input
  holds the key: ``no_log`` there too).

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import bundles, cacerts


def root_rotation_cacerts(phase, source, bundle, new_root, current_type=None, namespace="istio-system"):
    source = plain(source) or {}
    try:
        secret, facts = cacerts.compose(phase, source.get("data") or {}, (bundle or "").encode("utf-8"),
                                        new_root, source_meta=source.get("metadata") or {}, namespace=namespace)
    except (cacerts.ComposeError, bundles.BundleError) as exc:
        raise AnsibleFilterError("root_rotation_cacerts: %s" % exc)
    return {"secret": secret, "facts": facts, "replace": cacerts.must_replace(current_type, secret)}


def root_rotation_backup(secret, revision=None, namespace="istio-system", secret_name="cacerts"):
    try:
        return cacerts.backup(plain(secret) or {}, revision, namespace, secret_name)
    except (cacerts.ComposeError, bundles.BundleError) as exc:
        raise AnsibleFilterError("root_rotation_backup: %s" % exc)


def root_rotation_served_bundle(secret):
    secret = plain(secret) or {}
    try:
        return cacerts.served_bundle(cacerts.decode(secret.get("data") or {})).decode("utf-8")
    except cacerts.ComposeError as exc:
        raise AnsibleFilterError("root_rotation_served_bundle: %s" % exc)


class FilterModule(object):
    """Root rotation cacerts filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "root_rotation_backup": root_rotation_backup,
            "root_rotation_cacerts": root_rotation_cacerts,
            "root_rotation_served_bundle": root_rotation_served_bundle,
        }
