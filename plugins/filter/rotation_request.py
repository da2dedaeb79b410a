# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``rotation_request``: what a rotation run was asked to do, validated and parsed once, and whether
"nothing" is an error.

Why: rotate.yml with neither ``ca_rotation_duration``, ``ca_rotation_renew_before`` nor ``ca_rotation_force``
changes nothing and used to exit 0 (issue 18), which is how a misspelled variable goes unnoticed; and the
request used to be parsed in several places (issue 17). The logic is controller-only Python in
plugin_utils/rotation/request.py (unit-tested there); the plan (``rotation_plan``) carries its result.
Documentation is in rotation_request.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.request import rotation_request


class FilterModule(object):
    """Rotation request filter of meshpki.istio_ca."""

    def filters(self):
        return {"rotation_request": rotation_request}
