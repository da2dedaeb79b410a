# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters about backups of the ``cacerts`` Secret: their names, the newest, which ones retention deletes.

- ``backup_name`` / ``backup_vault_file``: the name of a backup (in-cluster Secret and controller copy alike)
  and where the controller copy goes.
- ``newest_backup``: the backup Secret restore.yml's ``restore_backup=latest`` restores.
- ``backups_to_prune`` / ``controller_backups_to_prune``: retention, in the cluster and on the controller.
- ``backup_source_problems``: whether the Secret read for the controller copy can be backed up.
- ``vault_backup_problems``: whether a decrypted controller copy may be restored on a cluster.

Every rule lives in module_utils/certificate/backup.py (shared with the certificate module's ``backup``
option) and plugin_utils/rotation/backups.py. Documentation is in ``<filter name>.yml`` beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.backup import backups_to_prune as _backups_to_prune
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.backups import (
    backup_name, backup_source_problems, backup_vault_file, controller_backups_to_prune, newest_backup,
    vault_backup_problems)


def backups_to_prune(secrets, secret_name, keep=5, new=None):
    """Names of the backup Secrets of ``secret_name`` to delete so that ``keep`` remain with ``new``."""
    return _backups_to_prune(_plain(secrets) or [], secret_name, keep=keep, new=new)


class FilterModule(object):
    """Backup filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "backup_name": backup_name,
            "backup_source_problems": backup_source_problems,
            "backup_vault_file": backup_vault_file,
            "backups_to_prune": backups_to_prune,
            "controller_backups_to_prune": controller_backups_to_prune,
            "newest_backup": newest_backup,
            "vault_backup_problems": vault_backup_problems,
        }
