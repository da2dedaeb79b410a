# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Controller copies of ``cacerts`` as the ca_rotation role makes and restores them (controller-only):
where a copy goes, whether the Secret read for it can be backed up, whether a decrypted copy may be
restored on a cluster.

The name of a copy, "newest" and retention are module_utils/certificate/backup.py's (filters
``backup_name``, ``newest_backup``, ``backup_files_to_prune`` in plugins/filter/backups.py), shared with
the certificate module, so a backup Secret and a controller copy of one revision share one name.

Served as filters by plugins/filter/backup_checks.py; documented in ``<filter name>.yml`` there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import backup as _backup

VAULT_SUFFIX = ".yml.vault"
VAULT_KIND = "meshpki.istio_ca/cacerts-backup"


def backup_vault_file(backup_dir, cluster, secret_name, revision, serial):
    """``<backup_dir, absolute>/<cluster>/<backup name>.yml.vault``: where the controller copy goes."""
    if not serial:
        raise AnsibleFilterError("backup_vault_file: the serial of the certificate to back up is unknown")
    return os.path.join(os.path.realpath(str(backup_dir)), str(cluster),
                        _backup.backup_name(str(secret_name), revision, str(serial)) + VAULT_SUFFIX)


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
