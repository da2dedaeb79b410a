# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The one exception type of the certificate layer.

Everything the certificate module can tell a person to fix (an invalid spec, cert-manager
missing or its webhook not ready, an issuer that is not Ready, a failed issuance, a
timeout) is a CertificateError. Its ``result`` carries what is worth returning on
failure (validation errors, last seen conditions, revision); never key material.
module_runner.run_module turns it into fail_json.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError


class CertificateError(CollectionError):
    """A Certificate problem with a message a person can act on."""
