# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``ca_setup_dry_run_scope``: where ca_setup's check-mode (``--check``) run has to stop.

A server-side dry run (``dryRun=All``) persists nothing, so a trust source cannot be dry-run before
cert-manager's CRDs exist, and nothing namespaced before its namespace exists. This filter says where
the dry run stops, why, and what a real run would create from there on.

Documentation is in ``ca_setup_dry_run_scope.yml`` beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain

_CERT_MANAGER_TRUST = ("selfsigned", "ca_keypair", "offline_root")  # these put a Secret or Certificate in cert-manager's namespace


def ca_setup_dry_run_scope(trust_source, crds_missing, namespaces, cert_manager_namespace, namespace,
                           trust_objects, certificate):
    """Where ca_setup's dry run stops: ``trust`` (before the trust source), ``intermediate`` (before
    the cacerts Certificate) or ``""`` (it can dry-run everything), the reason, and what a real run
    would create from that step on.

    A trust source can be dry-run once cert-manager's CRDs exist (and, for ``selfsigned`` and
    ``ca_keypair``, cert-manager's namespace, which holds the root Secret); the Certificate needs
    istiod's namespace. The namespace itself is dry-run created by its own step, so it is listed
    here only when the run stops before that step.
    """
    crds_missing = _plain(crds_missing) or []
    existing = set(_plain(namespaces) or [])
    trust_objects = _plain(trust_objects) or []
    stop_at, reason = "", ""
    if crds_missing:
        stop_at = "trust"
        reason = "cert-manager is not installed yet (CRD(s) %s missing)" % ", ".join(crds_missing)
    elif trust_source in _CERT_MANAGER_TRUST and cert_manager_namespace not in existing:
        stop_at = "trust"
        reason = "cert-manager's namespace %s does not exist yet" % cert_manager_namespace
    elif namespace not in existing:
        stop_at = "intermediate"
        reason = "istiod's namespace %s does not exist yet" % namespace
    would_create = []
    if stop_at == "trust":
        would_create = list(trust_objects) + ([] if namespace in existing else ["Namespace %s" % namespace])
        if trust_source == "issuer_ref":
            reason += "; the referenced issuer must exist and be Ready before a real run"
    if stop_at:
        would_create.append(certificate)
    return {"stop_at": stop_at, "reason": reason, "would_create": would_create}


class FilterModule(object):
    """ca_setup check-mode scope filter of meshpki.istio_ca."""

    def filters(self):
        return {"ca_setup_dry_run_scope": ca_setup_dry_run_scope}
