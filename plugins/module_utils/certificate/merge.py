# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""``merge_live_spec``: build the spec to apply from the live Certificate plus only the fields to change.

Why: a rotation usually changes one or two fields (duration, renewBefore); reading the live spec
here saves the caller a separate read (a kubernetes.core task per cluster) and the Jinja that
combined the two. Rules:
- top-level keys of the given spec replace the live ones whole (``privateKey`` is replaced as one
  object, not merged key by key);
- a key given as null removes that field;
- ``renewBefore`` and ``renewBeforePercentage`` are mutually exclusive (docs/upstream/cert-manager.md#webhook-validation,
  "renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set"), so giving
  one drops the other from the live spec.
A field can only be removed by server-side apply if no other field manager owns it too (the API
server keeps fields another manager owns), so that is checked before anything is sent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError

EXCLUSIVE = (("renewBefore", "renewBeforePercentage"), ("renewBeforePercentage", "renewBefore"))


def merge(live_spec, changes):
    """(merged spec, removed top-level keys) for ``changes`` applied on top of ``live_spec``."""
    merged = copy.deepcopy(live_spec or {})
    changes = changes or {}
    removed = []
    for key, value in changes.items():
        if value is None:
            if key in merged:
                removed.append(key)
                del merged[key]
        else:
            merged[key] = copy.deepcopy(value)
    for given, dropped in EXCLUSIVE:
        if changes.get(given) is not None and dropped not in changes and dropped in merged:
            removed.append(dropped)
            del merged[dropped]
    return merged, removed


def spec_owners(obj, key):
    """Field managers that own ``spec.<key>`` of ``obj`` (from metadata.managedFields, FieldsV1)."""
    owners = []
    for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        fields = (entry.get("fieldsV1") or {}).get("f:spec") or {}
        if "f:%s" % key in fields and entry.get("manager") not in owners:
            owners.append(entry.get("manager"))
    return owners


def check_removable(live, removed, field_manager, namespace, name):
    """Fail before any write when a field to remove is also owned by another manager (it would stay)."""
    problems = []
    for key in removed:
        others = [m for m in spec_owners(live, key) if m != field_manager]
        if others:
            problems.append("spec.%s is also owned by field manager %s" % (key, ", ".join(others)))
    if problems:
        raise CertificateError(
            "merge_live_spec cannot remove fields of Certificate %s/%s: %s, and server-side apply keeps fields "
            "another manager owns. Nothing was changed. Remove them with the tool that set them, or hand them "
            "over once with kubectl apply --server-side --force-conflicts --field-manager=%s."
            % (namespace, name, "; ".join(problems), field_manager),
            result={"exists": True, "live_spec": (live or {}).get("spec")})


def absent_error(namespace, name):
    return CertificateError(
        "merge_live_spec: Certificate %s/%s does not exist, so there is no live spec to merge into; nothing was "
        "changed. Create it first with a full spec (merge_live_spec: false)." % (namespace, name),
        result={"exists": False, "live_spec": None})
