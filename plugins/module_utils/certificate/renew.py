# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Force a re-issue the way ``cmctl renew`` does (cert-manager/cmctl pkg/renew/renew.go).

cmctl sets Issuing=True (ManuallyTriggered) on the fetched object and sends a full UPDATE of the
status subresource carrying its resourceVersion, so a concurrent controller write is never lost:
the API answers 409 and we re-read and try again (bounded). A JSON merge patch of
status.conditions would replace the whole list and drop Ready (docs/upstream/cert-manager.md#manual-renew).
Needs RBAC ``update`` on ``certificates/status``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import status as cst
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError, K8sApiError

MAX_CONFLICTS = 5


def trigger(client, path, obj, now=rfc3339.now):
    """Write the manual trigger on ``obj`` (fresh from the API) to ``path``/status; return the stored object."""
    for _attempt in range(MAX_CONFLICTS):
        try:
            return client.request("PUT", path + "/status", body=cst.with_manual_trigger(obj, now()))
        except K8sApiError as exc:
            if not exc.conflict:
                raise
        obj = client.get_or_none(path)
        if obj is None:
            raise CertificateError("The Certificate at %s disappeared while triggering its renewal." % path)
    raise CertificateError("Could not trigger the renewal of the Certificate at %s: its status kept changing "
                           "(%d resourceVersion conflicts in a row); run again." % (path, MAX_CONFLICTS))
