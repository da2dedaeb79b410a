# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""What a rotation run was asked to do, and whether "nothing" is an error.

Why: rotate.yml with neither ``ca_rotation_duration``, ``ca_rotation_renew_before`` nor ``ca_rotation_force``
changes nothing and used to exit 0 (issue 18), which is how a misspelled variable goes unnoticed. The run
must say that nothing was requested and fail, unless the user asked for a check only (``ca_rotation_allow_noop``).
Documentation is in rotation_request.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean


def rotation_request(duration="", renew_before="", force=False, allow_noop=False):
    """``{'changes': {...}, 'force': bool, 'requested': [...], 'problem': str}``."""
    try:
        force, allow_noop = boolean(force, strict=True), boolean(allow_noop, strict=True)
    except TypeError as exc:
        raise AnsibleFilterError("rotation_request: %s" % exc)
    changes = {key: str(value) for key, value in (("duration", duration), ("renewBefore", renew_before))
               if value not in (None, "")}
    requested = ["ca_rotation_%s=%s" % (name, changes[key])
                 for name, key in (("duration", "duration"), ("renew_before", "renewBefore")) if key in changes]
    if force:
        requested.append("ca_rotation_force=true")
    problem = ""
    if not requested and not allow_noop:
        problem = ("nothing to rotate was requested: set ca_rotation_duration (e.g. -e ca_rotation_duration=720h), "
                   "ca_rotation_renew_before, or ca_rotation_force=true; to only check the fleet and change "
                   "nothing, set ca_rotation_allow_noop=true (or run playbooks/report.yml)")
    return {"changes": changes, "force": force, "requested": requested, "problem": problem}


class FilterModule(object):
    """Rotation request filter of meshpki.istio_ca."""

    def filters(self):
        return {"rotation_request": rotation_request}
