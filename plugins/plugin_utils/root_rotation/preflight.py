# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""What must hold before a root rotation changes anything (controller-only).

Why before: a refused preflight changes nothing anywhere, so every problem found here is one the fleet never
meets half-way. Checked here: the new root (one certificate, a self-signed CA, valid now and beyond the rotation,
not already trusted), the new key (matches), and every istiod revision's version (1.20+, where
``ISTIO_MULTIROOT_MESH`` exists: PR #47063) with the flag on. Each problem says its fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.versions import parse_version
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.chain import key_matches
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import fingerprint
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_private_key
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import bundles

# The rotation needs the new root valid for at least this long (three steps, the workload TTL between two).
MIN_VALIDITY = datetime.timedelta(days=30)


def new_root_problems(cert_pem, key_pem=None, old_bundle=None, now=None, record=None):
    """(facts, problems) of the new root; ``key_pem`` None when cert-manager's issuer holds the key
    (root_rotation_new_issuer_ref); ``record``: the cluster's rotation record (a rotation to this root in progress
    has put it in the bundle already). No message quotes the key."""
    problems = []
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        certs = bundles.certificates(cert_pem, "root_rotation_new_ca_cert")
    except bundles.BundleError as exc:
        return {}, [str(exc)]
    if len(certs) != 1:
        return {}, ["root_rotation_new_ca_cert holds %d certificates: give the new root alone" % len(certs)]
    cert = certs[0]
    facts = {"fingerprint": fingerprint(cert), "subject": cert.subject.rfc4514_string(),
             "not_after": cert.not_valid_after_utc.isoformat()}
    if not bundles.is_root_ca(cert):
        problems.append("root_rotation_new_ca_cert is not a self-signed CA certificate (basicConstraints CA:TRUE, "
                        "subject = issuer): give the new root, not an intermediate")
    if cert.not_valid_before_utc > now:
        problems.append("the new root is not valid before %s" % cert.not_valid_before_utc.isoformat())
    if cert.not_valid_after_utc < now + MIN_VALIDITY:
        problems.append("the new root expires %s, within %d days: issue a longer-lived root"
                        % (cert.not_valid_after_utc.isoformat(), MIN_VALIDITY.days))
    if key_pem is not None:
        try:
            key = load_private_key(key_pem, "root_rotation_new_ca_key")
        except Exception as exc:  # noqa: BLE001 - the loader's message never quotes the key
            problems.append(str(exc))
        else:
            if not key_matches(key.key, cert):
                problems.append("root_rotation_new_ca_key does not match root_rotation_new_ca_cert: give the key "
                                "of the new root")
    if old_bundle:
        try:
            old = bundles.fingerprints(old_bundle, "the old root bundle")
        except bundles.BundleError as exc:
            problems.append(str(exc))
        else:
            facts["old_roots"] = old
            resuming = bool(record) and record.get("new_root") == facts["fingerprint"] and not (
                record.get("phase") in ("new_only", "aborted") and record.get("state") == "verified")
            if facts["fingerprint"] in old and not resuming:
                problems.append("the new root %s is already in the cluster's root bundle: nothing to rotate (or "
                                "rerun to resume the rotation that put it there)" % facts["fingerprint"])
    return facts, problems


def istiod_problems(istiods):
    """Problems of the istiod revisions ``[{"name", "version", "multiroot"}]`` of one cluster."""
    problems = []
    if not istiods:
        problems.append("no istiod found: the rotation needs a running istiod in every cluster")
    for istiod in istiods or []:
        name = istiod.get("name") or "istiod"
        version = parse_version(istiod.get("version") or "")
        if version is None:
            problems.append("%s: version %r unknown; the rotation needs 1.20 or later" % (name, istiod.get("version")))
        elif not version.at_least(1, 20):
            problems.append("%s: Istio %s cannot change its root without a restart (ISTIO_MULTIROOT_MESH exists "
                            "from 1.20): upgrade istiod first" % (name, version))
        elif not istiod.get("multiroot"):
            problems.append("%s: ISTIO_MULTIROOT_MESH is not true, so istiod refuses any root change: deploy with "
                            "-e istio_multiroot=true and let istiod restart" % name)
    return problems
