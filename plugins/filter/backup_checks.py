# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters about the controller copy of ``cacerts`` (the ca_rotation role's ansible-vault backup):

- ``backup_vault_file``: where the copy goes (named as the in-cluster copy, ``backup_name``).
- ``backup_source_problems``: whether the Secret read for the copy can be backed up.
- ``vault_backup_problems``: whether a decrypted copy may be restored on a cluster.

The logic is controller-only Python in plugin_utils/rotation/backups.py (unit-tested there).
Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.backups import (
    backup_source_problems, backup_vault_file, vault_backup_problems)


class FilterModule(object):
    """Controller backup filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "backup_source_problems": backup_source_problems,
            "backup_vault_file": backup_vault_file,
            "vault_backup_problems": vault_backup_problems,
        }
