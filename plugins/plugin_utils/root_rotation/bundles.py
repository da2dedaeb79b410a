# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The root bundle (``root-cert.pem``) of each step and whether istiod accepts the change (controller-only).

Why byte-exact: with ``ISTIO_MULTIROOT_MESH=true`` istiod's ``handleEvent`` (istio/istio
pilot/pkg/bootstrap/istio_ca.go) compares the root file with the root in memory by ``bytes.Equal`` and, when they
differ, accepts the change only when one bundle is a subset of the other: by raw bytes
(``bytes.Contains(current, new) || bytes.Contains(new, current)``) up to 1.29, by sets of DER certificates
(``pemBundleHasSubsetRelation``, PR #59909, on release-1.30 from 1.30.0-beta.0 through #59953) after that
(docs/upstream/istiod.md#multi-root, #root-comparison). So the combined bundle is built as the old bundle's bytes
exactly as istiod holds them, followed by the new root in canonical PEM: step 1 (old -> old+new) and step 3
(old+new -> new) are then byte containments, accepted by every version from 1.20. Anything else a version
refuses is refused here, before it is written.

Certificates are canonical PEM as Go's ``pem.Encode`` writes them (64-column base64, ``\\n`` line ends), which is
also what cert-manager writes into ``ca.crt`` (cert-manager pkg/util/pki ``EncodeX509``), so the new root's bytes in
the bundle match the ``ca.crt`` of an intermediate cert-manager issues under it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - a controller without cryptography gets the error when a filter runs
    x509 = serialization = None

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.versions import parse_version
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import fingerprint
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_certificates
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import phases

RULE_BYTES = "bytes"  # bytes.Contains both ways
RULE_SET = "set"      # pemBundleHasSubsetRelation: sets of DER certificates
RULE_NONE = "none"    # no multi-root: any root change is refused


class BundleError(ValueError):
    """A bundle that is no PEM certificate bundle, or a change istiod would refuse."""


def certificates(data, source="root bundle"):
    """Every certificate of a PEM bundle (cryptography objects), in order."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        return load_certificates(data or b"", source)
    except Exception as exc:  # noqa: BLE001 - the loader's own message says what is wrong
        raise BundleError("%s: %s" % (source, exc))


def canonical_pem(cert):
    """One certificate as Go's pem.Encode writes it."""
    return cert.public_bytes(serialization.Encoding.PEM)


def fingerprints(data, source="root bundle"):
    """SHA-256 fingerprints (colon hex, x509/info.fingerprint) of every certificate of a bundle, in order."""
    return [fingerprint(c) for c in certificates(data, source)]


def der_set(data):
    """pemToRawCertSet: the DER of every CERTIFICATE block (empty when there is none)."""
    try:
        return set(c.public_bytes(serialization.Encoding.DER) for c in certificates(data))
    except BundleError:
        return set()


def new_root_pem(new_root):
    """The new root (PEM text or bytes, one certificate) in canonical PEM."""
    certs = certificates(new_root, "new root")
    if len(certs) != 1:
        raise BundleError("new root: expected exactly one certificate, found %d" % len(certs))
    return canonical_pem(certs[0])


def combined_bundle(old_bundle, new_root):
    """Steps 1 and 2: the old bundle's bytes unchanged, then the new root (a line end between them)."""
    old = old_bundle.encode("utf-8") if isinstance(old_bundle, str) else (old_bundle or b"")
    if not certificates(old, "old root bundle"):
        raise BundleError("old root bundle: no certificate")
    new = new_root_pem(new_root)
    if fingerprint(certificates(new)[0]) in fingerprints(old, "old root bundle"):
        raise BundleError("the new root is already in the old bundle: nothing to rotate")
    return old + (b"" if old.endswith(b"\n") else b"\n") + new


def old_bundle_of(combined, new_root):
    """The old bundle's exact bytes from the combined bundle (for the abort path and resumption)."""
    combined = combined.encode("utf-8") if isinstance(combined, str) else (combined or b"")
    new = new_root_pem(new_root)
    if not combined.endswith(new):
        raise BundleError("the bundle does not end with the new root: it was not made by this rotation")
    old = combined[:-len(new)]
    if not certificates(old, "old root bundle"):
        raise BundleError("the bundle holds no old root before the new one")
    return old


def subset_rule(version, multiroot=True):
    """Which comparison istiod of ``version`` (text) applies to a changed root bundle."""
    if not multiroot:
        return RULE_NONE
    parsed = parse_version(version) if isinstance(version, str) else version
    if parsed is None:
        return RULE_BYTES  # unknown: the stricter rule
    if not parsed.at_least(1, 20):
        return RULE_NONE
    if parsed.at_least(1, 30, 0) and not (parsed.key() == (1, 30, 0) and (parsed.pre or "").startswith("alpha")):
        return RULE_SET
    return RULE_BYTES


def accepts(current, proposed, version, multiroot=True):
    """(accepted, why): whether istiod of ``version`` takes ``proposed`` after holding ``current``."""
    cur = current.encode("utf-8") if isinstance(current, str) else (current or b"")
    new = proposed.encode("utf-8") if isinstance(proposed, str) else (proposed or b"")
    if cur == new:
        return True, "same bundle (bytes.Equal): no root change"
    rule = subset_rule(version, multiroot)
    if rule == RULE_NONE:
        return False, "istiod %s refuses any root change without ISTIO_MULTIROOT_MESH=true (1.20+)" % version
    if rule == RULE_SET:
        a, b = der_set(cur), der_set(new)
        if a and b and (a <= b or b <= a):
            return True, "one set of certificates contains the other (pemBundleHasSubsetRelation)"
        return False, "neither bundle's certificates contain the other's (pemBundleHasSubsetRelation, istiod %s)" % version
    if cur in new or new in cur:
        return True, "one bundle's bytes contain the other's (bytes.Contains)"
    return False, ("istiod %s compares root bundles by raw bytes (bytes.Contains) and neither contains the other: "
                   "the order, line ends or encoding differ" % version)


def change_problems(current, proposed, istiods):
    """Problems (strings with the fix) for writing ``proposed`` where every istiod in ``istiods``
    (``[{"name", "version", "multiroot"}]``) holds ``current``; [] when every one accepts it."""
    found = []
    for istiod in istiods or []:
        ok, why = accepts(current, proposed, istiod.get("version"), bool(istiod.get("multiroot")))
        if not ok:
            found.append("%s would refuse the new root bundle (%s); nothing was written: compose it as the old "
                         "bundle's exact bytes followed by the new root (root_rotation_bundle)"
                         % (istiod.get("name") or "istiod", why))
    return found


def is_root_ca(cert):
    """A self-signed CA certificate (basicConstraints CA:TRUE, subject == issuer, signature verifies)."""
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    if not bc.ca or cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:  # noqa: BLE001 - any failure: not self-signed
        return False
    return True


def split(current, new_root):
    """(old bundle bytes, position) of what ``cacerts`` serves now: ``"old"`` (the rotation has not changed it),
    ``"combined"`` (old + new, as ``combined_bundle`` made it) or ``"new"`` (the new root alone, old unknown: None)."""
    cur = current.encode("utf-8") if isinstance(current, str) else (current or b"")
    new = new_root_pem(new_root)
    if cur == new:
        return None, "new"
    if cur.endswith(new) and len(cur) > len(new):
        return old_bundle_of(cur, new_root), "combined"
    return cur, "old"


def phase_bundle(phase, current, new_root):
    """The exact root bundle of ``phase`` (phases.STATE) given what ``cacerts`` serves now."""
    if phase not in phases.STATE:
        raise BundleError("unknown phase %r" % (phase,))
    wanted = phases.STATE[phase][1]
    old, _position = split(current, new_root)
    if wanted == "new":
        return new_root_pem(new_root)
    if old is None:
        raise BundleError("cacerts serves the new root alone: the old bundle is gone, so phase %s cannot be "
                          "composed (restore the old cacerts from its backup first)" % phase)
    if wanted == "old":
        return old
    return combined_bundle(old, new_root)
