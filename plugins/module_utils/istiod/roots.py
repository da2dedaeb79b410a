# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Compare every namespace's ``istio-ca-root-cert`` ConfigMap with the Secret's root.

istiod writes the root file's verbatim bytes into key ``root-cert.pem`` and compares
roots with bytes.Equal (docs/upstream/istiod.md#root-comparison, docs/upstream/istiod.md#root-configmap), so the comparison here is
byte for byte too; the parsed certificates are compared only to explain a difference
that is whitespace or encoding alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import problems
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.secret import ders_of

CONFIGMAP = "istio-ca-root-cert"
DATA_KEY = "root-cert.pem"


class RootCheck(object):
    def __init__(self, consistent, mismatched=None, checked=0, problems_=None, whitespace_only=None):
        self.consistent = consistent
        self.mismatched = mismatched or []
        self.checked = checked
        self.problems = problems_ or []
        self.whitespace_only = whitespace_only or []


def compare(configmaps, root_bytes):
    """RootCheck for ConfigMap objects (any namespaces) against the Secret's root bytes."""
    if not configmaps:
        return RootCheck(False, [], 0, [problems.no_root_configmaps()])
    if not root_bytes:
        # The Secret's own problem (no root) is reported with the Secret; nothing to compare against.
        return RootCheck(False, sorted(_ns(cm) for cm in configmaps), len(configmaps))
    wanted_ders = None
    mismatched, whitespace_only = [], []
    for cm in configmaps:
        value = ((cm.get("data") or {}).get(DATA_KEY) or "").encode("utf-8")
        if value == root_bytes:
            continue
        mismatched.append(_ns(cm))
        if wanted_ders is None:
            wanted_ders = ders_of(root_bytes)
        ders = ders_of(value)
        if ders and wanted_ders and sorted(ders) == sorted(wanted_ders):
            whitespace_only.append(_ns(cm))
    mismatched.sort()
    found = []
    if mismatched:
        found.append(problems.root_mismatch(mismatched, bool(whitespace_only) and
                                            len(whitespace_only) == len(mismatched)))
    return RootCheck(not mismatched, mismatched, len(configmaps), found, sorted(whitespace_only))


def _ns(cm):
    return (cm.get("metadata") or {}).get("namespace") or "?"
