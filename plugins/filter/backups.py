# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``backups_to_prune``: which backup Secrets of the ``cacerts`` Secret retention deletes.

The rule lives in module_utils/certificate/backup.py, shared with the certificate module's
``backup`` option, so the role and the module prune alike. Documentation is in
``backups_to_prune.yml`` beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.backup import backups_to_prune as _backups_to_prune


def backups_to_prune(secrets, secret_name, keep=5, new=None):
    """Names of the backup Secrets of ``secret_name`` to delete so that ``keep`` remain with ``new``.

    The rule lives in module_utils/certificate/backup.py, shared with the certificate module's
    ``backup`` option, so the role and the module prune alike.
    """
    return _backups_to_prune(_plain(secrets) or [], secret_name, keep=keep, new=new)


class FilterModule(object):
    """Backup retention filter of meshpki.istio_ca."""

    def filters(self):
        return {"backups_to_prune": backups_to_prune}
