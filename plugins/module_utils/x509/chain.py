# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Chain analysis: is each certificate signed by the next, where does the chain end,
does the key belong to the first certificate. Problems come back as sentences that
say what is wrong and what to do; nothing here ever looks at key bytes, only at the
public half of a key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509 import der as x509_der
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import (
    cap, basic_constraints, certificate_public_key, der, fingerprint, is_self_signed, rfc4514, short_name,
    signed_by, spki_der,
)
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.time_inputs import format_duration


def same_cert(a, b):
    return der(a) == der(b)


def is_ca(cert):
    bc = basic_constraints(cert)
    return bool(bc is not None and bc.value.ca)


def may_sign_as_root(cert):
    """Whether verifiers accept ``cert`` as the trust anchor that signed the chain.

    Go's Certificate.CheckSignatureFrom refuses a parent only when it is v3 without basicConstraints
    or has basicConstraints without CA:TRUE, and Verify asks CA:TRUE of intermediates only
    (golang/go src/crypto/x509/x509.go, verify.go isValid); OpenSSL also accepts a self-signed v1
    root. So a v1/v2 root without basicConstraints is fine; an intermediate still needs CA:TRUE.
    """
    if is_ca(cert):
        return True
    version = x509_der.CertFields(der(cert)).version_number()
    return basic_constraints(cert) is None and version is not None and version < 2


def key_matches(key, cert):
    """True when the private key's public half is the certificate's public key (compared as SPKI DER)."""
    public_key = certificate_public_key(cert)[0]
    return public_key is not None and spki_der(key.public_key()) == spki_der(public_key)


def _label(i, cert, source):
    return "certificate %d in %s (%s)" % (i + 1, source, short_name(cert))


def _link_problem(i, certs, roots, source, roots_source):
    cert = certs[i]
    here = _label(i, cert, source)
    nxt = certs[i + 1]
    if is_self_signed(cert):
        return ("%s is a self-signed root but is not the last certificate; put roots at the end (or only in "
                "ca.crt) and order the rest leaf first, each followed by its issuer" % cap(here))
    for k, other in enumerate(certs):
        if k != i and signed_by(cert, other):
            return ("%s is not signed by the certificate that follows it (%s) but by certificate %d (%s): order "
                    "the bundle leaf first, each certificate followed by its issuer"
                    % (cap(here), short_name(nxt), k + 1, short_name(other)))
    for root in roots or []:
        if signed_by(cert, root):
            return ("%s is signed directly by %s (%s), so the certificates after it in %s do not belong to its "
                    "chain; remove them or fix the order" % (cap(here), roots_source, short_name(root), source))
    if cert.issuer == nxt.subject:
        return ("%s names %s as its issuer, but that certificate's key does not verify its signature: the two "
                "come from different key pairs (a re-keyed or re-created CA); use the issuer that really signed it"
                % (cap(here), short_name(nxt)))
    return ("%s is not signed by the certificate that follows it (%s); its issuer \"%s\" is not in the input: add "
            "that CA certificate right after it" % (cap(here), short_name(nxt), rfc4514(cert.issuer)))


def _validity_problems(cert, label, now):
    if cert.not_valid_after_utc < now:
        return ["%s expired at %s (%s ago); renew it" % (
            cap(label), rfc3339.format(cert.not_valid_after_utc),
            format_duration((now - cert.not_valid_after_utc).total_seconds()))]
    if cert.not_valid_before_utc > now:
        return ["%s is not valid before %s (in %s); check the issuer's clock or wait before using it" % (
            cap(label), rfc3339.format(cert.not_valid_before_utc),
            format_duration((cert.not_valid_before_utc - now).total_seconds()))]
    return []


def path_length_problems(path, labels):
    """RFC 5280 pathLenConstraint along ``path`` (leaf first): CA j may have at most pathlen CAs below it."""
    problems = []
    for j in range(1, len(path)):
        bc = basic_constraints(path[j])
        if bc is None or not bc.value.ca or bc.value.path_length is None:
            continue
        below = j - 1
        if below > bc.value.path_length:
            problems.append(
                "%s has pathlen:%d but %d CA certificate(s) sit between it and %s, so verifiers (istiod's "
                "Go x509 among them) reject the chain; re-issue it with a larger path length or shorten the chain"
                % (cap(labels[j]), bc.value.path_length, below, labels[0]))
    return problems


def analyze_chain(certs, roots, key, now, source="the input", roots_source=None, key_source=None):
    """The ``chain`` result: ``certs`` leaf first as given, ``roots`` from ca.crt (or None)."""
    problems = []
    roots = roots or []
    labels = [_label(i, c, source) for i, c in enumerate(certs)]
    root_labels = ["%s (%s)" % (roots_source, short_name(r)) if len(roots) == 1
                   else "certificate %d in %s (%s)" % (i + 1, roots_source, short_name(r))
                   for i, r in enumerate(roots)]
    signed_by_next = []
    path, path_labels = [certs[0]], [labels[0]]
    broken = False
    for i, cert in enumerate(certs):
        if i + 1 < len(certs):
            ok = signed_by(cert, certs[i + 1])
            if not ok:
                problems.append(_link_problem(i, certs, roots, source, roots_source))
            elif not is_ca(certs[i + 1]) and not (i + 2 == len(certs) and is_self_signed(certs[i + 1])
                                                  and may_sign_as_root(certs[i + 1])):
                problems.append("%s signs %s but is not a CA (basicConstraints CA:TRUE is missing), so verifiers "
                                "reject the chain; re-issue it as a CA" % (cap(labels[i + 1]), labels[i]))
            signed_by_next.append(ok)
            broken = broken or not ok
            if not broken:
                path.append(certs[i + 1])
                path_labels.append(labels[i + 1])
        elif roots:
            signer = next((k for k, r in enumerate(roots) if signed_by(cert, r)), None)
            signed_by_next.append(signer is not None)
            if signer is None:
                broken = True
                problems.append("The last certificate in %s (%s) is not signed by %s (%s): %s is not the root of "
                                "this chain; put the root that issued it there" % (
                                    source, short_name(cert), roots_source,
                                    ", ".join(short_name(r) for r in roots), roots_source))
            else:
                root = roots[signer]
                if not may_sign_as_root(root):
                    problems.append("%s signs %s but is not a CA (basicConstraints CA:TRUE is missing); verifiers "
                                    "reject the chain" % (cap(root_labels[signer]), labels[i]))
                if not broken and not same_cert(root, cert):
                    path.append(root)
                    path_labels.append(root_labels[signer])
        else:
            signed_by_next.append(None)
    for i, cert in enumerate(certs):
        problems.extend(_validity_problems(cert, labels[i], now))
    for i, root in enumerate(roots):
        problems.extend(_validity_problems(root, root_labels[i], now))
    if not broken:
        problems.extend(path_length_problems(path, path_labels))

    root = path[-1] if not broken and is_self_signed(path[-1]) else None
    from_roots = bool(roots and not broken and any(same_cert(path[-1], r) for r in roots))
    if from_roots and root is None:
        problems.append("%s holds %s, which is not self-signed: the chain ends at an intermediate, not at a root. "
                        "Whatever trusts this file as its root (istiod hands ca.crt to every workload as the mesh "
                        "root) will not share trust with clusters under the real root; put the self-signed root "
                        "there (with cert-manager: give the CA issuer the root, so it writes the root to ca.crt)"
                        % (roots_source, short_name(path[-1])))
    matches = None
    if key is not None:
        matches = key_matches(key, certs[0])
        if not matches:
            other = next((i for i, c in enumerate(certs) if key_matches(key, c)), None)
            hint = (" It belongs to certificate %d (%s) instead: put that certificate first." % (
                other + 1, short_name(certs[other])) if other is not None else
                " It belongs to none of the certificates: use the key that was issued with the certificate.")
            problems.append("%s does not belong to the first certificate in %s (%s).%s"
                            % (key_source or "The private key", source, short_name(certs[0]), hint))
    return {
        "length": len(certs) + len(roots),
        "signed_by_next": signed_by_next,
        "in_order": all(v is not False for v in signed_by_next),
        "ends_at_root": root is not None,
        "root_source": (roots_source if from_roots and not any(same_cert(root, c) for c in certs) else source)
        if root is not None else None,
        "root_subject": rfc4514(root.subject) if root is not None else None,
        "root_fingerprint_sha256": fingerprint(root) if root is not None else None,
        "root_in_bundle": bool(roots and any(same_cert(r, c) for r in roots for c in certs)),
        "key_matches": matches,
        "problems": problems,
    }


def build_paths(leaf, pool, roots, limit=8):
    """Every issuer path from ``leaf`` up to a certificate in ``roots``, the way Go's Verify searches.

    ``pool`` holds the candidate intermediates (istiod: every certificate of the chain files);
    a path ends at the first certificate that is in ``roots``. At most ``limit`` certificates long.
    """
    root_ders = set(der(r) for r in roots)
    candidates = []
    seen = set()
    for c in list(pool) + list(roots):
        d = der(c)
        if d not in seen:
            seen.add(d)
            candidates.append(c)
    found = []

    def walk(path):
        current = path[-1]
        if der(current) in root_ders:
            found.append(list(path))
            return
        if len(path) >= limit:
            return
        for cand in candidates:
            if any(same_cert(cand, p) for p in path):
                continue
            if cand.subject == current.issuer and signed_by(current, cand):
                walk(path + [cand])

    walk([leaf])
    return found
