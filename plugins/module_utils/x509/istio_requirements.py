# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""What istiod requires of a plugged-in signing CA (istio pilot/pkg/bootstrap/istio_ca.go createIstioCA,
security/pkg/pki/ca/ca.go NewPluggedCertIstioCAOptions, security/pkg/pki/util/keycertbundle.go Verify).

istiod reads the first PEM block of tls.crt (or ca-cert.pem) as its signing cert and
requires it to be a CA at start-up; at start-up and on every hot reload it runs Go's
``x509.Certificate.Verify`` with the root file as Roots and all chain files as
Intermediates, parses the key's first PEM block, and checks the pair with
``tls.X509KeyPair``. This module re-creates those checks so a bad bundle is caught
before it is written to ``cacerts`` (a reload may accept material that crash-loops
istiod at its next restart: the IsCA check runs only at start-up). Each problem says what istiod does with it
and how to fix it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509 import crl as x509_crl
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.chain import (
    build_paths, is_ca, key_matches, path_length_problems, same_cert,
)
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import (
    cap, ANY_EKU, CLIENT_AUTH, SERVER_AUTH, SGC, basic_constraints, certificate_problems, certificate_public_key,
    eku_oids, is_self_signed, public_key_facts, short_name,
)
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.repair import readable_extensions
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import ISTIOD_KEY_BLOCKS, describe_block

ED_REASON = (
    "istiod's CA code only handles RSA and ECDSA signing keys: KeyCertBundle.CertOptions fails with "
    "'unknown private key type' for anything else and Istio's key generation states 'only ECDSA is currently "
    "supported' (security/pkg/pki/util/keycertbundle.go, generate_cert.go); istio/istio#27238 reports istiod "
    "failing at start with an Ed25519 cacerts ('x509: requested SignatureAlgorithm does not match private key "
    "type'). Re-issue the intermediate with an RSA (2048 bits or more) or ECDSA P-256/P-384 key "
    "(cert-manager: privateKey.algorithm RSA or ECDSA)"
)


class IstioInput(object):
    """What istiod would read: signing file certs, chain certs, root certs, the key and file names."""

    def __init__(self, signing, chain, roots, key, names, missing=(), layout="bundle", crl=None, crl_label=None,
                 istio_version=None):
        self.signing = signing      # certificates of tls.crt / ca-cert.pem (first one signs)
        self.chain = chain          # every certificate istiod puts in the Intermediates pool
        self.roots = roots          # certificates of ca.crt / root-cert.pem (None when absent)
        self.key = key              # LoadedKey or None
        self.names = names          # dict: cert, key, root -> file names for messages
        self.missing = list(missing)
        self.layout = layout        # "kubernetes.io/tls", "istio" or "bundle"
        self.crl = crl              # bytes of ca-crl.pem (or crl_content), None when there is none
        self.crl_label = crl_label
        self.istio_version = istio_version  # (major, minor, patch) or None: judge as the newest istiod


def check(inp, now):
    """(istio_ready, problems, warnings) for ``inp`` at ``now``."""
    problems, warnings = [], []
    names = inp.names
    signing = inp.signing[0]
    first = "The first certificate in %s (%s)" % (names["cert"], short_name(signing))

    for missing in inp.missing:
        problems.append(missing)
    problems.extend(_unreadable_problems(inp))

    # 1. Start-up: the signing cert must be a CA (ca.go NewPluggedCertIstioCAOptions).
    if not is_ca(signing):
        other = next((i for i, c in enumerate(inp.signing) if i and is_ca(c)), None)
        if other is not None:
            hint = " Certificate %d in %s (%s) is a CA: put it first." % (
                other + 1, names["cert"], short_name(inp.signing[other]))
        else:
            hint = " Issue the signing certificate with isCA: true (basicConstraints CA:TRUE)."
        problems.append("%s is not a CA (basicConstraints CA:TRUE is missing), so istiod refuses to start with "
                        "'certificate is not authorized to sign other certificates'; a hot reload does not repeat this "
                        "check, so it would crash-loop istiod at its next restart (istio security/pkg/pki/ca/ca.go NewPluggedCertIstioCAOptions).%s"
                        % (first, hint))

    # 2. Go x509 Verify of the signing cert against the roots (keycertbundle.go Verify).
    roots = inp.roots or []
    if not roots:
        if inp.layout == "bundle":
            problems.append("The input does not end with a self-signed root, so istiod's chain check has nothing "
                            "to verify against; put the root certificate last (it becomes ca.crt)")
        # Without a root no path can be built; still judge what each given certificate decides alone.
        problems.extend(_path_problems(inp.signing, now, structure=False, source=names["cert"]))
    else:
        problems.extend(_verify_problems(inp, signing, roots, now))

    # 3. Key: first PEM block type, key type, pair match (keycertbundle.go Verify: ParsePemEncodedKey, tls.X509KeyPair).
    problems.extend(_key_type_problems(signing, names, warnings))
    if inp.key is None:
        if inp.layout == "bundle":
            warnings.append("No private key was given (private_key_path or private_key_content), so whether the "
                            "key matches the signing certificate and parses for istiod was not checked")
    else:
        if inp.key.first_block is not None and inp.key.first_block not in ISTIOD_KEY_BLOCKS:
            problems.append("%s starts with %s; istiod parses only the first PEM block and accepts only a PKCS#1 "
                            "RSA, SEC 1 EC or PKCS#8 key there, so it fails with 'unsupported PEM block type for a "
                            "private key'. Remove that block (openssl ecparam -genkey writes an EC PARAMETERS block "
                            "first unless given -noout)" % (names["key"], describe_block(inp.key.first_block)))
        elif inp.key.first_block is None:
            problems.append("%s is DER, but istiod reads only PEM keys; convert it with openssl pkey -outform PEM"
                            % names["key"])
        if not key_matches(inp.key, signing):
            problems.append("%s does not match the signing certificate (%s), so istiod fails with 'the cert does not "
                            "match the key'; write the key and certificate of the same issuance together"
                            % (names["key"], short_name(signing)))

    # 4. The CRL (1.27+).
    _crl_step(inp, problems, warnings)

    # 5. Root hygiene.
    if roots and inp.layout == "kubernetes.io/tls":
        dup = [c for c in inp.signing if any(same_cert(c, r) for r in roots)]
        if dup:
            warnings.append("tls.crt also contains the root (%s). istiod builds its chain as tls.crt followed by "
                            "ca.crt, so workloads receive the root twice (istio/istio#39001); it works, but "
                            "cert-manager's current layout keeps the root only in ca.crt" % short_name(dup[0]))
    for root in roots:
        if not is_self_signed(root):
            warnings.append("%s holds %s, which is not self-signed; istiod distributes it as the mesh root, so "
                            "clusters under the same real root would not share trust (Istio multicluster "
                            "needs one common root)" % (names["root"], short_name(root)))
    if is_ca(signing) and not _has_cert_sign(signing):
        warnings.append("%s has a keyUsage without keyCertSign; istiod does not check it, but Envoy peers and "
                        "OpenSSL reject certificates issued by it. Keep keyCertSign (cert-manager adds "
                        "'cert sign' for isCA: true)" % first)
    return not problems, problems, warnings


def _crl_step(inp, problems, warnings):
    """ca-crl.pem as istiod reads it: Istio layout only, from 1.27 (x509_crl); unknown version = newest."""
    if inp.crl is None:
        return
    label = inp.crl_label
    if inp.layout == "kubernetes.io/tls":
        warnings.append("The Secret has %s, but istiod ignores it in the kubernetes.io/tls layout: it looks for "
                        "the CRL only with Istio's own file names (istio pilot/pkg/bootstrap/istio_ca.go "
                        "detectSigningCABundleAndCRL), so no CRL reaches the workloads" % label)
        return
    error = x509_crl.istiod_crl_error(inp.crl, inp.chain, label)
    if error is None:
        return
    effect = ("istiod refuses the bundle with '%s' (istio security/pkg/pki/util/keycertbundle.go Verify): at "
              "start it crash-loops ('failed to create CA KeyCertBundle'), on a hot reload it keeps the old CA "
              "('Failed to update new Plug-in CA certs'). Envoy needs a CRL from every CA of the chain once one is "
              "given: add a CRL signed by each certificate of %s (each a CA with cRLSign) or remove %s"
              % (error, inp.names.get("chain") or inp.names["cert"], label))
    if inp.istio_version is not None and inp.istio_version < x509_crl.CRL_SINCE:
        warnings.append("%s is not accepted by istiod 1.27 and later, which check it; istiod %s does not read it yet, "
                        "but after an upgrade it would: %s" % (label, ".".join(str(p) for p in inp.istio_version),
                                                               effect))
        return
    assumed = ("; with istio_version unset this assumes istiod 1.27 or later" if inp.istio_version is None else "")
    problems.append("%s does not cover the chain, so %s (PILOT_ENABLE_CA_CRL=false turns istiod's check off%s)"
                    % (label, effect, assumed))


def _unreadable_problems(inp):
    """Certificates istiod reads that this module cannot read whole: not shown to be usable.

    istiod parses the signing certificate with Go's x509.ParseCertificate (util.ParsePemEncodedCertificate)
    and the chain and root files with x509.CertPool.AppendCertsFromPEM, which silently drops a certificate
    it cannot parse (istio security/pkg/pki/util/keycertbundle.go Verify). Go refuses most encodings that
    cryptography refuses (duplicate extensions, malformed names or constraints), and a check that cannot
    read a part cannot vouch for it, so any unreadable part of those certificates makes istio_ready false.
    """
    seen, found = [], []
    groups = ((inp.signing, inp.names["cert"]), (inp.roots or [], inp.names["root"]),
              (inp.chain, inp.names.get("chain") or inp.names["cert"]))
    for certs, where in groups:
        for i, cert in enumerate(certs):
            if any(same_cert(cert, s) for s in seen):
                continue
            seen.append(cert)
            parts = certificate_problems(cert)
            if parts:
                found.append("Certificate %d in %s (%s) cannot be read in full: %s. istiod parses it with Go's "
                             "crypto/x509, which refuses such encodings or drops the certificate from its pool "
                             "(istio security/pkg/pki/util/keycertbundle.go Verify), and this check cannot vouch for "
                             "what it cannot read; re-issue it with a current CA tool"
                             % (i + 1, where, short_name(cert), "; ".join(parts)))
    return found


def _has_cert_sign(cert):
    from cryptography import x509
    ext = readable_extensions(cert).extensions
    try:
        ku = ext.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return ku.key_cert_sign


def _verify_problems(inp, signing, roots, now):
    """Re-create x509.Certificate.Verify(Roots=roots, Intermediates=chain) with default options."""
    names = inp.names
    paths = build_paths(signing, inp.chain, roots)
    if not paths:
        return ["istiod cannot verify the signing certificate (%s) up to %s: no chain of issuers from it reaches "
                "a certificate in %s (istiod logs 'cannot verify the cert with the provided root chain and cert "
                "pool'); make sure the intermediates are in %s and the issuing root is in %s"
                % (short_name(signing), names["root"], names["root"], names["cert"], names["root"])]
    best = None
    for path in paths:
        found = _path_problems(path, now)
        if not found:
            return []
        if best is None or len(found) < len(best):
            best = found
    return best


def _path_problems(path, now, structure=True, source=None):
    """Problems of one issuer path (leaf first); ``structure=False`` judges each certificate alone."""
    problems = []
    if structure:
        labels = ["%s (%s)" % ("the signing certificate" if i == 0 else "its issuer" if i == 1
                               else "the CA %d levels up" % i, short_name(c)) for i, c in enumerate(path)]
    else:
        labels = ["certificate %d in %s (%s)" % (i + 1, source, short_name(c)) for i, c in enumerate(path)]
    for i, cert in enumerate(path):
        if cert.not_valid_after_utc < now or cert.not_valid_before_utc > now:
            state = ("expired at %s" % rfc3339.format(cert.not_valid_after_utc) if cert.not_valid_after_utc < now
                     else "is not valid before %s" % rfc3339.format(cert.not_valid_before_utc))
            problems.append("In istiod's chain check, %s %s, so Go's Verify fails with 'x509: certificate has "
                            "expired or is not yet valid'; renew it" % (labels[i], state))
        if structure and 0 < i < len(path) - 1 and not is_ca(cert):
            problems.append("In istiod's chain check, %s is used as an intermediate but is not a CA, so Go's "
                            "Verify fails; re-issue it with basicConstraints CA:TRUE" % labels[i])
        ekus = eku_oids(cert)
        if ekus and ANY_EKU not in ekus:
            if SERVER_AUTH not in ekus and not any(o in ekus for o in SGC):
                problems.append(
                    "%s has an extendedKeyUsage without serverAuth. istiod verifies its CA chain with Go's x509 "
                    "Verify and no requested usage, which Go treats as serverAuth, so every certificate that lists "
                    "EKUs must include it; istiod fails with 'x509: certificate specifies an incompatible key "
                    "usage' (istio security/pkg/pki/util/keycertbundle.go Verify). Drop the extendedKeyUsage from CA certificates, or list both serverAuth "
                    "and clientAuth" % cap(labels[i]))
            elif CLIENT_AUTH not in ekus:
                problems.append(
                    "%s has an extendedKeyUsage with serverAuth but without clientAuth. istiod accepts it, but Envoy "
                    "checks the EKUs of the CA chain when it verifies client certificates, so mTLS client "
                    "authentication of workloads (and Envoy's connection to istiod) fails without a useful log "
                    "(istio/istio#27193). Drop the extendedKeyUsage from CA certificates, or list "
                    "both serverAuth and clientAuth" % cap(labels[i]))
    if structure:
        problems.extend("In istiod's chain check, " + p[0].lower() + p[1:]
                        for p in path_length_problems(path, labels))
        problems.extend(_workload_room_problems(path, labels))
    return problems


def _workload_room_problems(path, labels):
    """The workload certificates istiod signs sit one level below the signing certificate.

    Go's Verify at istiod's load checks the path that ends at the signing certificate, so a CA above
    it with pathlen exactly filled passes there; every peer that verifies a workload's chain (Envoy's
    BoringSSL, Go clients) counts the signing certificate as one more CA below it (RFC 5280
    pathLenConstraint) and rejects it. Typical with an issuing CA above istiod's intermediate that
    was given pathlen:0.
    """
    problems = []
    for j in range(1, len(path)):
        bc = basic_constraints(path[j])
        if bc is None or not bc.value.ca or bc.value.path_length is None or bc.value.path_length != j - 1:
            continue
        problems.append(
            "%s has pathlen:%d: istiod loads the chain, but the workload certificates istiod signs sit one more level "
            "below, so peers verifying a workload's chain (Envoy, Go) reject it for exceeding the path length; "
            "re-issue it with pathlen:%d or more (or without a limit)" % (cap(labels[j]), bc.value.path_length, j))
    return problems


def _key_type_problems(signing, names, warnings):
    facts = public_key_facts(certificate_public_key(signing)[0])
    kind = facts["type"]
    article = "an" if kind[0].upper() in "AEIOU" else "a"
    what = "The signing certificate (%s) has %s %s key" % (short_name(signing), article, kind)
    if kind == "RSA":
        size = facts["size"] or 0
        if size < 2048:
            warnings.append("%s of only %s bits; RSA keys under 2048 bits are considered weak and newer TLS "
                            "stacks refuse them. Use 2048 bits or more" % (what, size))
        return []
    if kind == "ECC":
        curve = facts["curve"]
        if curve in ("secp256r1", "secp384r1"):
            return []
        if curve == "secp521r1":
            warnings.append("%s on curve P-521; istiod signs with it, but its own key generation only knows P-256 "
                            "and P-384 (generate_cert.go), so Istio's tested path is P-256/P-384. Prefer those"
                            % what)
            return []
        return ["%s on curve %s; Go's x509 (and so istiod) supports only the NIST curves, and Istio expects P-256 "
                "or P-384. Re-issue the intermediate with an ECDSA P-256 or P-384 key" % (what, curve)]
    if kind == "Ed448":
        return ["%s, which istiod cannot use: Go's crypto/x509 does not support Ed448 keys at all. Use RSA "
                "(2048 bits or more) or ECDSA P-256/P-384" % what]
    if kind == "Ed25519":
        return ["%s, which istiod cannot use as its CA key: %s" % (what, ED_REASON)]
    return ["%s, which istiod cannot use as its CA key; use RSA (2048 bits or more) or ECDSA P-256/P-384" % what]
