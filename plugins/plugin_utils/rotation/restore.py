# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The decisions of a restore of ``cacerts`` from a backup (controller-only; the ca_rotation role's
``restore`` entry point, playbooks/restore.yml).

- ``restore_request_problems``: is exactly one backup named (a backup Secret or a vault file with its password)?
- ``restore_plan``: from the x509_inspect results of the backup and of the current ``cacerts`` and the
  Certificates in the namespace: may it be restored, does the root change (istiod must then restart:
  it refuses a root change at hot reload, "Multi root is disabled", docs/upstream/istiod.md#root-comparison),
  which Certificate owns ``cacerts`` and must be detached first (cert-manager would at once re-issue over a
  restored key that does not match its CertificateRequest, docs/upstream/cert-manager.md#reissue-triggers).

Served as a filter by plugins/filter/restore_plan.py; documented in ``restore_plan.yml`` there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain

DETACHED_ANNOTATION = "meshpki.istio_ca/detached-certificate"


def _root(inspect):
    return ((inspect or {}).get("chain") or {}).get("root_fingerprint_sha256") if isinstance(inspect, dict) else None


def _first(inspect):
    certs = (inspect or {}).get("certificates") if isinstance(inspect, dict) else None
    return certs[0] if certs else {}


def restore_plan(backup, current=None, certificates=None, backup_name="", secret_name="cacerts",
                 namespace="istio-system", allow_root_change=False, detach_certificate=True):
    """``{problems, root_change, detach, owner, detached_manifest, serial, previous_serial, not_after}``."""
    backup = _plain(backup) or {}
    current = _plain(current) or {}
    if not isinstance(backup, dict) or not isinstance(current, dict):
        raise AnsibleFilterError("restore_plan expects the x509_inspect results of the backup and of cacerts")
    where = "%s/%s" % (namespace, backup_name)
    problems = []
    chain = backup.get("chain") or {}
    if not backup.get("istio_ready") or not chain.get("key_matches"):
        found = list(backup.get("istio_problems") or []) + list(chain.get("problems") or [])
        problems.append("%s cannot be restored: %s" % (where, "; ".join(found) or "its key does not match its certificate"))
    old_root, new_root = _root(current), _root(backup)
    root_change = bool(old_root) and old_root != new_root
    if root_change and not boolean(allow_root_change, strict=False):
        problems.append("%s cannot be restored: its root %s differs from the current root %s: istiod refuses a "
                        "root change at hot reload, workloads then need restarts; set restore_allow_root_change=true "
                        "to restore it and restart istiod" % (where, new_root, old_root))
    owners = [c for c in (_plain(certificates) or [])
              if isinstance(c, dict) and (c.get("spec") or {}).get("secretName") == secret_name]
    owner = owners[0] if owners else None
    if owner and not boolean(detach_certificate, strict=False):
        problems.append("Certificate %s/%s owns %s: cert-manager would replace a restored key and certificate at "
                        "once (they do not match its current CertificateRequest). Set "
                        "restore_detach_certificate=true (the default) to detach it first"
                        % (namespace, (owner.get("metadata") or {}).get("name"), secret_name))
    manifest = None
    if owner:
        meta = owner.get("metadata") or {}
        manifest = json.dumps({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                               "metadata": {"name": meta.get("name"), "namespace": namespace,
                                            "labels": meta.get("labels") or {},
                                            "annotations": meta.get("annotations") or {}},
                               "spec": owner.get("spec") or {}}, sort_keys=True)
    return {
        "problems": problems,
        "root_change": root_change,
        "detach": bool(owner),
        "owner": (owner.get("metadata") or {}).get("name") if owner else None,
        "detached_manifest": manifest,
        "serial": _first(backup).get("serial_hex"),
        "previous_serial": _first(current).get("serial_hex"),
        "not_after": _first(backup).get("not_after"),
    }


def restore_request_problems(backup="", vault_file="", vault_password="", namespace="istio-system"):
    """Why the restore request is not one backup (empty when it is)."""
    if bool(backup) == bool(vault_file):
        return ['Give exactly one of restore_backup (a backup Secret name in %s, or "latest") and restore_vault_file '
                "(a controller vault file, with restore_vault_password)" % namespace]
    if vault_file and not vault_password:
        return ["restore_vault_file %s needs restore_vault_password" % vault_file]
    return []
