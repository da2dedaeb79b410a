# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``root_renewal_guard``: the spec fields that stop a cert-manager-made root from renewing.

The rule lives in plugins/module_utils/certificate/root_policy.py (``renewal_guard``), next to the check
the certificate module runs with ``check_root_policy``. Documentation is in ``root_renewal_guard.yml``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.root_policy import renewal_guard


def root_renewal_guard(cert_manager_version):
    """``{"renewal": {"policy": "Disabled"}}`` for cert-manager 1.21+, ``{}`` otherwise (or when unknown)."""
    return renewal_guard(cert_manager_version)


class FilterModule(object):
    """Root-of-trust filters of meshpki.istio_ca."""

    def filters(self):
        return {"root_renewal_guard": root_renewal_guard}
