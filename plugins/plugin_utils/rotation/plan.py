# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The ``ca_rotation`` role's per-cluster facts, built in Python rather than in the role's Jinja.

- ``rotation_plan``: one cluster's plan (the ``ca_rotation_plan`` fact) - the request (parsed once by
  ``rotation_request``), the spec that would be applied, whether it changes anything, what a previous
  run left, and every reason not to rotate - from its ``cluster_status`` entry and the check-mode
  ``certificate`` result that merged the request into the live spec. The one structure that carries a
  rotation from the preflight to the change, the summary and the saved status (keys: rotation_plan.yml).
- ``rotation_root_problems``: this cluster's root against the other clusters of the play and the
  expected root (a mesh needs one root everywhere).

Served as filters by plugins/filter/rotation_plan.py; documented in ``<filter name>.yml`` there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import root_consensus
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.checks import rotation_preflight, rotation_spec_checks
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.journal import previous_run_note

# ca_rotation_backup_mode -> where the current cacerts is copied before a change.
_BACKUP_MODES = {"cluster": {"cluster": True, "controller": False}, "controller": {"cluster": False, "controller": True},
                 "both": {"cluster": True, "controller": True}, "none": {"cluster": False, "controller": False}}


def _validation_problem(certificate):
    """The requested change failed cert-manager's rules (or could not be checked) on an existing Certificate."""
    if not isinstance(certificate, dict) or certificate.get("skipped") or "reissue" in certificate:
        return []
    if certificate.get("exists") is False or "exists" not in certificate and "validation_errors" not in certificate:
        return []  # the Certificate could not be read at all: the status entry already says why
    text = certificate.get("msg") or "the certificate module failed"
    if certificate.get("validation_errors"):
        return ["the requested spec is invalid: %s" % text]
    return ["the requested change cannot be applied (server-side dry run): %s" % text]


def rotation_plan(status, certificate=None, request=None, require_hot_reload=True, reload_checked=True,
                  workload_cert_ttl="24h", margin="24h", backup_mode="cluster", vault_password_set=False,
                  root_problems=None, previous_run=None, run=None, checked_at=None):
    """``ca_rotation_plan`` for one cluster (see rotation_plan.yml for the keys)."""
    status = _plain(status) or {}
    certificate = _plain(certificate) or {}
    request = _plain(request) or {}
    if not isinstance(status, dict) or not isinstance(certificate, dict) or not isinstance(request, dict):
        raise AnsibleFilterError("rotation_plan expects a cluster_status entry, a certificate module result and "
                                 "the rotation_request")
    if "changes" not in request:
        raise AnsibleFilterError("rotation_plan: request must be the result of the rotation_request filter")
    verdict = rotation_preflight(status, require_hot_reload=require_hot_reload, reload_checked=reload_checked)
    problems = list(request.get("problems") or []) + list(verdict["problems"]) + _validation_problem(certificate)
    warnings = list(verdict["warnings"])
    spec = certificate.get("spec") if "reissue" in certificate else None
    ttl = {}
    if isinstance(spec, dict):
        ttl = rotation_spec_checks(spec, workload_cert_ttl=workload_cert_ttl, margin=margin)
        problems.extend(ttl["problems"])
    problems.extend(_plain(root_problems) or [])
    policy = certificate.get("root_policy") or {}
    problems.extend(policy.get("problems") or [])
    warnings.extend(policy.get("warnings") or [])
    if backup_mode not in _BACKUP_MODES:
        raise AnsibleFilterError("ca_rotation_backup_mode must be one of %s, got %r" % (", ".join(_BACKUP_MODES), backup_mode))
    backup = dict(_BACKUP_MODES[backup_mode])
    if backup["controller"] and not boolean(vault_password_set, strict=False):
        problems.append("ca_rotation_backup_mode %s needs ca_rotation_backup_vault_password (the controller copy "
                        "is encrypted with it)" % backup_mode)
    intermediate = status.get("intermediate") or {}
    cert = status.get("certificate") or {}
    previous = _plain(previous_run) or None
    note = previous_run_note(previous, verified=not problems)
    if note:
        warnings.append(note)
    return {
        "run": run,
        "request": request,
        "checked_at": checked_at or rfc3339.format(rfc3339.now()),
        "root_fingerprint": (status.get("root") or {}).get("fingerprint_sha256"),
        "old_serial": intermediate.get("serial_hex"),
        "old_not_after": intermediate.get("not_after"),
        "subject": intermediate.get("subject"),
        "revision": cert.get("revision"),
        "spec": spec,
        "will_change": bool(certificate.get("changed")) or bool(request.get("force")),
        "reissue": certificate.get("reissue") or "none",
        "ttl": ttl,
        "backup": backup,
        "previous_run": previous,
        "previous_run_note": note,
        "previous_run_unfinished": bool(note),
        "problems": problems,
        "warnings": warnings,
    }


def _fingerprint(value):
    """A fingerprint as given, or the root fingerprint of a registered x509_inspect result (None if it failed)."""
    if isinstance(value, dict):
        return (value.get("chain") or {}).get("root_fingerprint_sha256")
    return value


def rotation_root_problems(fingerprints, expected=""):
    """``{cluster: [problems]}``: roots that are not the expected one, or not the one most clusters share.

    ``expected`` is a fingerprint, or the result of ``rotation_trust_root`` (plugin_utils/rotation/trust_root.py):
    its fingerprint is then the expected root, named by its source, and its problems (no trust root where one is
    required) go to every cluster. The expected root is what makes the check hold for one slice of a sliced job;
    the comparison between the play's clusters only adds what they show each other.
    Computed once for the whole play (the role runs it with run_once), rather than once per cluster.
    """
    fingerprints = _plain(fingerprints) or {}
    if not isinstance(fingerprints, dict):
        raise AnsibleFilterError("rotation_root_problems expects a mapping of cluster name to root fingerprint")
    fingerprints = dict((host, _fingerprint(value)) for host, value in fingerprints.items())
    expected = _plain(expected)
    source, everywhere = "ca_rotation_expected_root_fingerprint", []
    if isinstance(expected, dict):
        source = expected.get("source") or source
        everywhere = [str(p) for p in expected.get("problems") or []]
        expected = expected.get("fingerprint")
    expected = str(expected or "").lower()
    consensus = root_consensus(fingerprints)
    out = {}
    for host in fingerprints:
        own = str(fingerprints.get(host) or "").lower()
        problems = out[host] = list(everywhere)
        if expected and own and own != expected:
            problems.append("its root %s... is not the expected root %s... (%s)" % (own[:23], expected[:23], source))
        if consensus["reference"] and host in consensus["differing"]:
            problems.append("its root %s... differs from the root of %s (%s...): all clusters of a mesh must share "
                            "one root" % (own[:23], ", ".join(consensus["groups"][consensus["reference"]]),
                                          consensus["reference"][:23]))
        elif not consensus["reference"] and len(consensus["groups"]) > 1 and own:
            problems.append("the clusters do not share one root and no majority says which is right: %s"
                            % consensus["describe"])
    return out
