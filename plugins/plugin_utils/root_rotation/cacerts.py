# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The ``cacerts`` Secret of each rotation step, composed from the intermediate cert-manager issued.

How the combined bundle gets into ``cacerts`` while cert-manager owns the intermediate (docs/root-rotation.md):

- A cert-manager ``kubernetes.io/tls`` Secret carries one root in ``ca.crt`` and cert-manager rewrites its keys at
  every renewal (cert-manager pkg/controller/certificates/issuing ``issueCertificate`` via the secrets manager),
  so the combined bundle cannot live there. During the rotation the ``cacerts`` Certificate writes to the staging
  Secret ``cacerts-staging`` instead, and the collection composes ``cacerts`` from it in istiod's own file format
  (``ca-cert.pem``, ``ca-key.pem``, ``cert-chain.pem``, ``root-cert.pem``; istio/istio security/pkg/pki/ca/ca.go
  constants, pilot/pkg/bootstrap/istio_ca.go ``detectSigningCABundleAndCRL``: without ``tls.crt`` istiod reads those
  names). A Secret's type is immutable (kubernetes pkg/apis/core/validation ``ValidateSecretUpdate``), so the
  ``kubernetes.io/tls`` Secret is replaced by an ``Opaque`` one (deleted and created; istiod keeps the CA it holds
  in memory while the files are missing — handleEvent logs and returns on a read error).
- A cert-manager renewal during the rotation writes only the staging Secret: it never undoes a step. The next step
  (or a rerun) composes from whatever the staging Secret then holds.
- The last step (``new_only``, or ``aborted``) hands ``cacerts`` back: a ``kubernetes.io/tls`` Secret with
  ``tls.crt``/``tls.key`` of the staging Secret and ``ca.crt`` = the final bundle (its cert-manager annotations
  copied, so cert-manager takes it as its own when the Certificate points at ``cacerts`` again), the normal
  cert-manager-renewed state.

``cert-chain.pem`` is ``tls.crt`` followed by ``ca.crt`` of the staging Secret: the very chain istiod builds from
the TLS names (``CertChainFiles = [tls.crt, ca.crt]``), so workloads see the same chain as before the rotation.

Everything here handles key material: it runs inside the module that reads the staging Secret and writes
``cacerts``; nothing it returns besides the Secret body carries a key, and no message quotes one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import backup as certificate_backup
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.chain import key_matches
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import der, fingerprint, serial_hex, signed_by
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_certificates, load_private_key
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import bundles, phases

SECRET = "cacerts"
STAGING = "cacerts-staging"
TLS_TYPE = "kubernetes.io/tls"
OPAQUE = "Opaque"
TLS = ("tls.crt", "tls.key", "ca.crt")
NATIVE = ("ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem")
# What cert-manager reads back from its Secret (pkg/apis/certmanager/v1 types.go annotation and label keys).
_CERT_MANAGER_PREFIXES = ("cert-manager.io/", "controller.cert-manager.io/")
# Marks a cacerts composed by this rotation (a string; the ConfigMap record has the details).
COMPOSED_BY = "meshpki.istio_ca/root-rotation"


class ComposeError(ValueError):
    """The staging material cannot make the step's cacerts (the message never quotes key material)."""


def decode(data):
    """A Secret's ``data`` (base64 strings) -> {name: bytes}."""
    out = {}
    for name, value in (data or {}).items():
        try:
            out[name] = base64.b64decode(value or "", validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise ComposeError("key %s of the Secret is not base64" % name)
    return out


def _b64(value):
    return base64.b64encode(value).decode("ascii")


def _join(*parts):
    out = b""
    for part in parts:
        if out and not out.endswith(b"\n"):
            out += b"\n"
        out += part
    return out


def signing_material(files):
    """(cert bytes, key bytes, signer bytes) of a Secret in either format (decoded data): the signing cert file,
    its key, and what follows it in istiod's chain (``ca.crt`` in the TLS format; what ``cert-chain.pem`` holds
    after the signing cert in the native one)."""
    if "tls.crt" in files:
        missing = [n for n in TLS if not files.get(n)]
        if missing:
            raise ComposeError("the staging Secret lacks %s (cert-manager writes tls.crt, tls.key, ca.crt)"
                               % ", ".join(missing))
        return files["tls.crt"], files["tls.key"], files["ca.crt"]
    missing = [n for n in NATIVE if not files.get(n)]
    if missing:
        raise ComposeError("the Secret has neither tls.crt nor %s" % ", ".join(missing))
    cert = files["ca-cert.pem"]
    chain = files["cert-chain.pem"]
    rest = chain[len(cert):] if chain.startswith(cert) else chain
    return cert, files["ca-key.pem"], rest.lstrip(b"\n")


def check_signing(cert_bytes, key_bytes, signer_bytes, bundle, new_root, side):
    """Facts about the signing intermediate (serial, issuer root fingerprint); ComposeError when it is not on
    ``side`` ("new": under ``new_root``, a fingerprint; "old": under another root), its key does not match, or the
    bundle does not trust it."""
    try:
        certs = load_certificates(cert_bytes, "the signing certificate")
        signer = load_certificates(signer_bytes, "the chain after the signing certificate")
        key = load_private_key(key_bytes, "the signing key")
    except Exception as exc:  # noqa: BLE001 - the loaders' messages never quote a key
        raise ComposeError(str(exc))
    inter = certs[0]
    if not key_matches(key.key, inter):
        raise ComposeError("the signing key does not match the signing certificate (serial %s)" % serial_hex(inter))
    pool = certs[1:] + signer
    trusted = bundles.certificates(bundle, "root bundle")
    root = _root_of(inter, pool, trusted)
    if root is None:
        raise ComposeError("the intermediate (serial %s) does not chain to a root of the bundle" % serial_hex(inter))
    if side == "new" and fingerprint(root) != new_root:
        raise ComposeError("the intermediate (serial %s) is under root %s, not the new root %s: cert-manager has not "
                           "issued under the new root yet" % (serial_hex(inter), fingerprint(root), new_root))
    if side == "old" and fingerprint(root) == new_root:
        raise ComposeError("the intermediate (serial %s) is under the new root %s, where this step needs one under "
                           "the old root: cert-manager has not issued under the old root yet"
                           % (serial_hex(inter), new_root))
    return {"serial": serial_hex(inter), "root": fingerprint(root), "issuer": inter.issuer.rfc4514_string(),
            "subject": inter.subject.rfc4514_string()}


def _root_of(cert, pool, trusted, depth=0):
    for anchor in trusted:
        if signed_by(cert, anchor):
            return anchor
    if depth > 8:
        return None
    for parent in pool:
        if der(parent) != der(cert) and signed_by(cert, parent):
            found = _root_of(parent, pool, trusted, depth + 1)
            if found is not None:
                return found
    return None


def compose(phase, source_data, bundle, new_root, source_meta=None, namespace="istio-system"):
    """The ``cacerts`` Secret of ``phase``: (secret object, facts without key material).

    ``source_data``: the ``data`` of the Secret holding the step's intermediate (the staging Secret, or a backup
    of ``cacerts``), ``bundle``: the phase's root bundle bytes (``bundles``), ``new_root``: the new root's
    fingerprint (the phase says whether its intermediate must be under it or under an old root: phases.STATE),
    ``source_meta``: that Secret's metadata (cert-manager's annotations and labels are carried to the handed-back
    Secret)."""
    if phase not in phases.STATE or phase == phases.NONE:
        raise ComposeError("no cacerts for phase %r" % (phase,))
    files = decode(source_data)
    cert, key, signer = signing_material(files)
    facts = check_signing(cert, key, signer, bundle, new_root, phases.STATE[phase][0])
    meta = {"name": SECRET, "namespace": namespace, "annotations": {COMPOSED_BY: phase}}
    if phase in phases.HANDS_BACK:
        source_meta = source_meta or {}
        for field in ("annotations", "labels"):
            carried = dict((k, v) for k, v in (source_meta.get(field) or {}).items()
                           if k.startswith(_CERT_MANAGER_PREFIXES))
            if carried:
                meta.setdefault(field, {}).update(carried)
        meta["annotations"].pop(COMPOSED_BY)
        if not meta["annotations"]:
            del meta["annotations"]
        secret = {"apiVersion": "v1", "kind": "Secret", "type": TLS_TYPE, "metadata": meta,
                  "data": {"tls.crt": _b64(cert), "tls.key": _b64(key), "ca.crt": _b64(bundle)}}
        facts["format"] = "tls"
    else:
        secret = {"apiVersion": "v1", "kind": "Secret", "type": OPAQUE, "metadata": meta,
                  "data": {"ca-cert.pem": _b64(cert), "ca-key.pem": _b64(key),
                           "cert-chain.pem": _b64(_join(cert, signer)), "root-cert.pem": _b64(bundle)}}
        facts["format"] = "native"
    facts["bundle_fingerprints"] = bundles.fingerprints(bundle)
    return secret, facts


def served_bundle(files):
    """The root bundle istiod reads from a ``cacerts`` (decoded data): ``ca.crt`` when ``tls.crt`` exists, else
    ``root-cert.pem`` (detectSigningCABundleAndCRL); b"" when neither."""
    if "tls.crt" in files:
        return files.get("ca.crt") or b""
    return files.get("root-cert.pem") or b""


def must_replace(current_type, new_secret):
    """Whether writing ``new_secret`` needs the current Secret deleted first (its type is immutable)."""
    return current_type is not None and (current_type or OPAQUE) != new_secret.get("type", OPAQUE)


def backup(secret, revision, namespace="istio-system", secret_name=SECRET):
    """The in-cluster backup of ``cacerts`` before a step, in either format: the backup rules of the certificate
    module (module_utils/certificate/backup.py: ``backup_name``, its labels and annotations, so restore.yml finds
    and restores it), the name carrying the intermediate's serial; a ``cacerts`` this rotation composed (it holds the
    same intermediate as the cert-manager Secret before it) adds the phase it was composed for, so the pre-rotation
    copy is never overwritten."""
    data = (secret or {}).get("data") or {}
    cert, key, _signer = signing_material(decode(data))
    try:
        inter = load_certificates(cert, "the signing certificate")[0]
    except Exception as exc:  # noqa: BLE001 - the loader's message never quotes a key
        raise ComposeError(str(exc))
    del key
    name = certificate_backup.backup_name(secret_name, revision, serial_hex(inter))
    composed = (((secret or {}).get("metadata") or {}).get("annotations") or {}).get(COMPOSED_BY)
    if composed:
        name = "%s-%s" % (name, composed.replace("_", "-"))
    served = served_bundle(decode(data))
    roots = bundles.fingerprints(served, "the served root bundle") if served else []
    return {"apiVersion": "v1", "kind": "Secret", "type": (secret or {}).get("type") or OPAQUE,
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {certificate_backup.BACKUP_LABEL: secret_name,
                                    certificate_backup.MANAGED_BY[0]: certificate_backup.MANAGED_BY[1]},
                         "annotations": {
                             certificate_backup.PREFIX + "source": "%s/%s" % (namespace, secret_name),
                             certificate_backup.PREFIX + "serial": serial_hex(inter),
                             certificate_backup.PREFIX + "not-after": inter.not_valid_after_utc.strftime(
                                 "%Y-%m-%dT%H:%M:%SZ"),
                             certificate_backup.PREFIX + "subject": inter.subject.rfc4514_string(),
                             certificate_backup.PREFIX + "root-fingerprint": roots[-1] if roots else "",
                             certificate_backup.PREFIX + "revision": str(revision) if revision else ""}},
            "data": dict(data)}
