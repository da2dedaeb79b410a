# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Backups of ``cacerts`` as the roles see them (controller-only): the name and place of a copy, which
copy is the newest, which ones retention deletes.

Why: the name used to be built in Jinja next to ``backup_name`` in module_utils/certificate/backup.py,
and "newest" was decided three ways (restore.yml's sort, the module's retention, the controller
copies' mtime sort). Every decision here calls module_utils/certificate/backup.py, which the
certificate module uses too, so a backup Secret and a controller copy of one revision share one name
and every "newest" is the same ordering (``newest_first``).

Served as filters by plugins/filter/backups.py; documented in ``<filter name>.yml`` there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import backup as _backup

VAULT_SUFFIX = ".yml.vault"
VAULT_KIND = "meshpki.istio_ca/cacerts-backup"


def backup_name(secret_name, revision, serial):
    """The backup's name, as the certificate module names the in-cluster copy."""
    if not serial:
        raise AnsibleFilterError("backup_name: the serial of the certificate to back up is unknown")
    return _backup.backup_name(str(secret_name), revision, str(serial))


def backup_vault_file(backup_dir, cluster, secret_name, revision, serial):
    """``<backup_dir, absolute>/<cluster>/<backup name>.yml.vault``: where the controller copy goes."""
    return os.path.join(os.path.realpath(str(backup_dir)), str(cluster),
                        backup_name(secret_name, revision, serial) + VAULT_SUFFIX)


def newest_backup(secrets, secret_name):
    """Name of the newest backup Secret of ``secret_name`` among ``secrets`` (k8s_info resources), or ""."""
    found = _backup.secret_backups(_plain(secrets) or [], str(secret_name))
    return found[0]["name"] if found else ""


def _file_created(entry):
    when = datetime.datetime.fromtimestamp(float(entry.get("mtime") or 0), datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def controller_backups_to_prune(files, keep=5, new=None):
    """Paths of the controller copies (``ansible.builtin.find`` results) that retention deletes: the same
    ordering and rule as the in-cluster copies (the file's modification time stands for its creation)."""
    files = _plain(files) or []
    if not isinstance(files, list):
        raise AnsibleFilterError("controller_backups_to_prune expects the files of ansible.builtin.find")
    backups = [{"name": f.get("path"), "created": _file_created(f)} for f in files if isinstance(f, dict)]
    return _backup.to_prune(backups, keep=keep, new=new)


def vault_backup_problems(document, cluster, any_cluster=False, path="the vault file"):
    """Why a decrypted controller copy cannot be restored on ``cluster`` (empty when it can)."""
    document = _plain(document)
    if not isinstance(document, dict) or document.get("kind") != VAULT_KIND or not isinstance(document.get("data"), dict):
        return ["%s is not a cacerts backup made by the ca_rotation role" % path]
    if document.get("cluster") != cluster and not boolean(any_cluster, strict=False):
        return ["%s is a backup of %s, not of %s; set restore_any_cluster=true to restore it anyway"
                % (path, document.get("cluster") or "?", cluster)]
    return []


# The keys that hold the private key of a cacerts Secret: cert-manager's (tls.key) or Istio's own
# plugged-in layout (ca-key.pem; istio security/pkg/pki/ca/ca.go, caKeyFile).
_KEY_FIELDS = ("tls.key", "ca-key.pem")


def backup_source_problems(secret, namespace, secret_name):
    """Why ``secret`` (the Secret object read right before the controller copy) cannot be backed up."""
    secret = _plain(secret) or {}
    data = secret.get("data") if isinstance(secret, dict) else None
    if not secret or not isinstance(data, dict) or not any(data.get(k) for k in _KEY_FIELDS):
        return ["%s/%s is missing or has no key since the preflight; nothing was changed" % (namespace, secret_name)]
    return []
