# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""``backup``: keep a restorable copy of the Certificate's Secret before a re-issue replaces it.

Why: with rotationPolicy Always a re-issue replaces the key in the Secret
(docs/upstream/cert-manager.md#rotation-policy), so without a copy the old certificate and key are gone for good. The copy is a
Secret next to the original, named ``<secretName>-backup-r<revision>-<first 12 hex of the serial>``,
with the labels and annotations playbooks/restore.yml finds and restores it by (the same ones
roles/ca_rotation wrote). It is created with POST (never overwriting: an existing Secret of that
name is reused only when it holds the same data), read back and proven restorable (same data, the
key belongs to the first certificate of tls.crt) before anything is applied; afterwards the oldest
copies beyond ``backup_keep`` are deleted.

Key material stays in the Secrets: it is held in memory only to copy and compare it, and no
message, result or warning here ever carries it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError, K8sApiError, X509Error
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import object_path
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.chain import analyze_chain, key_matches
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import rfc4514, serial_hex
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_certificates, load_private_key

BACKUP_LABEL = "meshpki.istio_ca/backup-of"
MANAGED_BY = ("app.kubernetes.io/managed-by", "meshpki.istio_ca")
PREFIX = "meshpki.istio_ca/"


def backup_name(secret_name, revision, serial):
    """``<secretName>-backup-r<revision or 0>-<first 12 hex of the serial>``: the one naming rule of backups.

    The certificate module names its in-cluster copy so, and roles/ca_rotation's controller copy is this
    name plus ``.yml.vault`` (filter ``backup_name``), so the two copies of one rotation share a name.
    """
    serial = str(serial or "").lower()
    if not serial:
        raise CertificateError("A backup name needs the serial of the certificate it holds.")
    return "%s-backup-r%d-%s" % (secret_name, int(revision or 0), serial[:12])


def newest_first(entries):
    """``(created, name)`` pairs, newest first: the one order of backups (creation time, then name).

    RFC 3339 UTC times (``metadata.creationTimestamp``) and file mtimes both sort by value; the name
    breaks ties of the same second, so the order never depends on the API's list order.
    """
    return sorted(entries, key=lambda entry: (entry[0], entry[1]), reverse=True)


def backups_of(secrets, secret_name):
    """``(creationTimestamp, name)`` of the Secrets labelled ``meshpki.istio_ca/backup-of=<secret_name>``.

    Only metadata is read; the Secrets' data (key material) is never looked at.
    """
    found = []
    for sec in secrets or []:
        meta = (sec or {}).get("metadata") or {}
        if (meta.get("labels") or {}).get(BACKUP_LABEL) == secret_name and meta.get("name"):
            found.append((meta.get("creationTimestamp") or "", meta.get("name")))
    return found


def newest_backup(secrets, secret_name):
    """Name of the newest backup Secret of ``secret_name`` (what restore.yml's ``latest`` means), or ``""``."""
    ordered = newest_first(backups_of(secrets, secret_name))
    return ordered[0][1] if ordered else ""


def to_prune(entries, keep=5, new=None):
    """Names of ``(created, name)`` entries to delete so that ``keep`` remain, ``new`` (just written) counting as one.

    ``keep`` 0 (or less) keeps everything; ``new`` itself is never returned.
    """
    keep = int(keep)
    if keep <= 0:
        return []
    ordered = [entry for entry in newest_first(entries) if entry[1] != new]
    room = keep - 1 if new else keep
    return [entry[1] for entry in ordered[max(room, 0):]]


def backups_to_prune(secrets, secret_name, keep=5, new=None):
    """Names of the backup Secrets of ``secret_name`` to delete so that ``keep`` remain with ``new``."""
    return to_prune(backups_of(secrets, secret_name), keep, new)


def _decoded(data, key, where):
    try:
        return base64.b64decode(data.get(key) or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise CertificateError("%s: %s is not valid base64, so it cannot be backed up; nothing was changed."
                               % (where, key))


def describe(data, where, now=None):
    """Public facts of a Secret's data for the backup's name and annotations; proves tls.key fits tls.crt.

    Returns serial (hex), not_after, subject (of the first certificate of tls.crt) and
    root_fingerprint (SHA-256 of the root the chain ends at, with ca.crt as roots, as x509_inspect's
    ``chain.root_fingerprint_sha256``; "" when it ends at none).
    """
    try:
        certs = load_certificates(_decoded(data, "tls.crt", where), "%s key tls.crt" % where)
        roots = load_certificates(_decoded(data, "ca.crt", where), "%s key ca.crt" % where) \
            if data.get("ca.crt") else None
        key = load_private_key(_decoded(data, "tls.key", where), "%s key tls.key" % where)
        matches = key_matches(key, certs[0])
        key = None  # drop the parsed key at once
        chain = analyze_chain(certs, roots, None, now or rfc3339.now(), source="tls.crt", roots_source="ca.crt")
    except X509Error as exc:
        raise CertificateError("%s cannot be backed up: %s; nothing was changed." % (where, exc.message))
    if not matches:
        raise CertificateError("%s cannot be backed up restorably: its tls.key does not belong to the first "
                               "certificate of tls.crt; nothing was changed. Repair the Secret first." % where)
    leaf = certs[0]
    return {"serial": serial_hex(leaf), "not_after": rfc3339.format(leaf.not_valid_after_utc),
            "subject": rfc4514(leaf.subject), "root_fingerprint": chain["root_fingerprint_sha256"] or ""}


def backup_object(source, namespace, secret_name, name, revision, facts):
    """The backup Secret: all data keys and the type of ``source``, with restore.yml's labels and annotations."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": source.get("type") or "Opaque",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {BACKUP_LABEL: secret_name, MANAGED_BY[0]: MANAGED_BY[1]},
            "annotations": {
                PREFIX + "source": "%s/%s" % (namespace, secret_name),
                PREFIX + "serial": facts["serial"],
                PREFIX + "not-after": facts["not_after"],
                PREFIX + "subject": facts["subject"],
                PREFIX + "root-fingerprint": facts["root_fingerprint"],
                PREFIX + "revision": str(revision) if revision else "",
            },
        },
        "data": dict(source.get("data") or {}),
    }


def verify_copy(copy, source, name, namespace, secret_name, created):
    """Prove the copy read back restores ``source``: same type and data, labelled, key matching its cert."""
    where = "Secret %s/%s" % (namespace, name)
    if copy is None:
        raise CertificateError("The backup %s disappeared right after it was written; nothing was changed, run "
                               "again." % where)
    same = (copy.get("data") or {}) == (source.get("data") or {}) and \
        (copy.get("type") or "Opaque") == (source.get("type") or "Opaque")
    labelled = ((copy.get("metadata") or {}).get("labels") or {}).get(BACKUP_LABEL) == secret_name
    if not created and not (same and labelled):
        why = "other data" if not same else "no %s=%s label" % (BACKUP_LABEL, secret_name)
        raise CertificateError(
            "A Secret %s already exists but is not a backup of the current %s/%s (%s); it was not overwritten and "
            "nothing was changed. Delete or rename it, then run again." % (where, namespace, secret_name, why))
    if not same:
        raise CertificateError("The backup %s read back does not hold the data of %s/%s; nothing was changed."
                               % (where, namespace, secret_name))
    describe(copy.get("data") or {}, where)  # parses it and proves the key belongs to tls.crt's first cert


def take(client, namespace, secret_name, revision, source):
    """Back up ``source`` (the Secret object read just before); returns (backup result or None, note)."""
    where = "Secret %s/%s" % (namespace, secret_name)
    if source is None:
        return None, "%s does not exist: nothing to back up." % where
    if not (source.get("data") or {}).get("tls.key"):
        return None, "%s has no tls.key: nothing to back up." % where
    facts = describe(source["data"], where)
    name = backup_name(secret_name, revision, facts["serial"])
    body = backup_object(source, namespace, secret_name, name, revision, facts)
    created = True
    try:
        client.request("POST", object_path("v1", "secrets", namespace), body=body)
    except K8sApiError as exc:
        if exc.code != 409:
            raise
        created = False  # AlreadyExists: reused only when it is the same backup (rerun)
    body = None
    verify_copy(client.get_or_none(object_path("v1", "secrets", namespace, name)), source, name, namespace,
                secret_name, created)
    return {"name": name, "namespace": namespace, "created": created, "serial": facts["serial"],
            "root_fingerprint": facts["root_fingerprint"] or None, "pruned": []}, None


def prune(client, namespace, secret_name, keep, new):
    """Delete the oldest backups beyond ``keep`` (one LIST by label); returns (deleted names, warnings).

    A transient failure is a warning (the backups are still there, the next run prunes them); a 401/403 is
    raised: the credentials cannot honour ``backup_keep`` on any run until someone grants the rule."""
    if int(keep) <= 0:
        return [], []
    warnings, pruned = [], []
    try:
        listed = client.get(object_path("v1", "secrets", namespace),
                            query={"labelSelector": "%s=%s" % (BACKUP_LABEL, secret_name)})
    except K8sApiError as exc:
        if exc.denied:
            raise  # a missing RBAC rule: fail with the API's sentence, backup_keep cannot be honoured
        return [], ["Old backups of %s/%s were not pruned: listing them failed: %s" % (namespace, secret_name, exc)]
    metas = [{"metadata": (item or {}).get("metadata") or {}} for item in listed.get("items") or []]
    listed = None  # the list carried key material: keep only the metadata
    for name in backups_to_prune(metas, secret_name, keep, new):
        try:
            client.request("DELETE", object_path("v1", "secrets", namespace, name))
        except K8sApiError as exc:
            if exc.denied:
                raise
            if not exc.not_found:
                warnings.append("Old backup %s/%s was not deleted: %s" % (namespace, name, exc))
                continue
        pruned.append(name)
    return pruned, warnings
