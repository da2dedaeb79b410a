# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters of cacerts backups: how one is named and which is the newest.

- ``backup_name``: the name of the backup of a Secret at a Certificate revision and serial (the
  certificate module's in-cluster copy; roles/ca_rotation's controller copy adds ``.yml.vault``).
- ``newest_backup``: the newest backup Secret of a Secret (restore.yml's ``latest``).
- ``backup_files_to_prune``: the controller copies beyond the ones to keep.

The rules live in module_utils/certificate/backup.py, shared with the certificate module's ``backup``
and ``backup_keep`` options, so the roles, the playbooks and the module name, order and prune alike.
Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import backup as _backup
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain


def backup_name(secret_name, revision, serial):
    """``<secret_name>-backup-r<revision>-<first 12 hex of serial>``."""
    try:
        return _backup.backup_name(str(secret_name), revision, serial)
    except (CollectionError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("backup_name: %s" % exc)


def newest_backup(secrets, secret_name):
    """Name of the newest Secret labelled as a backup of ``secret_name``, or an empty string."""
    secrets = _plain(secrets)
    if isinstance(secrets, dict) and "resources" in secrets:  # a registered k8s_info result
        secrets = secrets["resources"]
    if not isinstance(secrets, list):
        raise AnsibleFilterError("newest_backup expects the Secrets as kubernetes.core.k8s_info lists them")
    return _backup.newest_backup(secrets, secret_name)


def backup_files_to_prune(files, keep=5, new=None):
    """Paths of the controller backup files (``ansible.builtin.find`` ``files``) to delete, oldest last kept."""
    files = _plain(files)
    if isinstance(files, dict) and "files" in files:  # a registered find result
        files = files["files"]
    if not isinstance(files, list) or not all(isinstance(f, dict) and f.get("path") for f in files):
        raise AnsibleFilterError("backup_files_to_prune expects the files as ansible.builtin.find lists them")
    return _backup.to_prune([(float(f.get("mtime") or 0), f["path"]) for f in files], keep, new)


class FilterModule(object):
    """Backup filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "backup_name": backup_name,
            "newest_backup": newest_backup,
            "backup_files_to_prune": backup_files_to_prune,
        }
