# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The trust check of one cluster for the fleet report: which keys to look for, and what was found.

Why here (controller-side): the list of keys a cluster must not hold is a fleet fact — the root every
cluster trusts (the self-signed ``ca.crt`` of its ``cacerts``) and every *other* cluster's issuing CA —
so it is assembled from all hosts' read-only results; ca_setup's ``inspect_trust`` entry point feeds
it to the key_exposure module and publishes the outcome as ``ca_setup_trust_status``. No key material
passes through: only certificates' public facts and SHA-256 fingerprints of public keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


# key_exposure names each key it looks for; the root's name starts with this (issuing CAs: "issuing CA of <host>").
ROOT_ENTRY_PREFIX = "fleet root"


def _certs(result):
    if not isinstance(result, dict) or result.get("failed") or result.get("skipped"):
        return []
    return result.get("certificates") or []


def root_key_entry(cacerts_result):
    """The root cacerts trusts (its last certificate, when self-signed) as a key_exposure entry, or None."""
    certs = _certs(cacerts_result)
    if certs and certs[-1].get("self_signed"):
        return {"name": "%s (%s)" % (ROOT_ENTRY_PREFIX, certs[-1]["subject"]),
                "sha256": certs[-1]["public_key_fingerprints"]["sha256"]}
    return None


def issuing_key_entry(host, issuing_result):
    certs = _certs(issuing_result)
    if not certs:
        return None
    return {"name": "issuing CA of %s" % host, "sha256": certs[0]["public_key_fingerprints"]["sha256"]}


def trust_exposure_keys(me, hostvars, hosts, cacerts_var="ca_setup__trust_cacerts",
                        issuing_var="ca_setup__trust_issuing"):
    """Keys ``me``'s cluster must not hold: the root(s) of every cluster and every other cluster's issuing CA."""
    entries, seen = [], set()
    for host in hosts:
        facts = hostvars.get(host) or {}
        candidates = [root_key_entry(facts.get(cacerts_var))]
        if host != me:
            candidates.append(issuing_key_entry(host, facts.get(issuing_var)))
        for entry in candidates:
            if entry and entry["sha256"] not in seen:
                seen.add(entry["sha256"])
                entries.append(entry)
    return entries


OFFLINE_ROOT, CA_KEYPAIR, ROOT_IN_CLUSTER, OTHER = "offline_root", "ca_keypair", "root key in the cluster", "other"


def _ca_secret(issuer):
    """``spec.ca.secretName`` of the CA ClusterIssuer from its k8s_info result; ``""`` when it is no CA issuer,
    None when it was not read or is not there."""
    if not isinstance(issuer, dict) or issuer.get("failed") or issuer.get("skipped"):
        return None
    resources = issuer.get("resources") or []
    if not resources:
        return None
    return (((resources[0].get("spec") or {}).get("ca") or {}).get("secretName")) or ""


def trust_source(issuer, root_holders, issuing_secret, ca_secret, namespace="cert-manager"):
    """``{source, ca_secret, root_key}``: the trust source as the cluster shows it, and where the root key lives.

    Read from the cluster, not from the inventory: the CA ClusterIssuer signs with the Secret its
    ``spec.ca.secretName`` names (cert-manager's CA issuer, pkg/issuer/ca). Naming the issuing CA Secret it is
    ``offline_root``; naming the key pair Secret it is ``ca_keypair`` - or, when a Secret of the cluster
    holds the root's own key, "root key in the cluster" (ca_keypair with the root, or the demo's selfsigned).
    No CA ClusterIssuer of this collection: ``other`` (issuer_ref, or not deployed). ``root_holders`` are the
    Secrets (``ns/name``) key_exposure found holding the root key; None when that check did not run.
    """
    secret = _ca_secret(issuer)
    if root_holders:
        root_key = "in this cluster: Secret %s" % ", ".join(root_holders)
    elif root_holders is None:
        root_key = "unknown (the Secrets were not checked)"
    else:
        root_key = "not in any Secret of this cluster"
    if secret is None or secret == "":
        source = OTHER
    elif secret == issuing_secret:
        source = OFFLINE_ROOT  # a stray copy of the root key is then in root_key (and a problem)
    elif root_holders:
        source = ROOT_IN_CLUSTER
    elif secret == ca_secret:
        source = CA_KEYPAIR
    else:
        source = OTHER
    return {"source": source, "ca_secret": "%s/%s" % (namespace, secret) if secret else None, "root_key": root_key}


def trust_status(cluster, issuing=None, exposure=None, issuer=None, issuing_secret="meshpki-istio-issuing-ca",
                 ca_secret="meshpki-istio-root-ca", namespace="cert-manager"):
    """``ca_setup_trust_status``: the trust source the cluster shows (``issuer``: k8s_info of the CA ClusterIssuer),
    where the root key lives, the issuing CA's subject, serial and expiry, and any key exposure (a failure)."""
    certs = _certs(issuing)
    issuing_ca = None
    if certs:
        issuing_ca = {k: certs[0].get(k) for k in ("subject", "issuer", "serial_hex", "not_after", "seconds_remaining")}
    problems = []
    exposed = []
    checked = False
    if not isinstance(exposure, dict) or exposure.get("skipped"):
        problems.append("the Secrets of %s were not checked for CA keys" % cluster)
    elif exposure.get("failed"):
        problems.append("could not check the Secrets of %s for CA keys: %s" % (cluster, exposure.get("msg", "failed")))
    else:
        checked = True
        exposed = [{k: e.get(k) for k in ("namespace", "name", "data_key", "matches")}
                   for e in exposure.get("exposed") or []]
        for e in exposed:
            problems.append("Secret %s/%s (%s) on %s holds the private key of the %s; delete it (only the cluster's own "
                            "issuing CA Secret may hold its own key)"
                            % (e["namespace"], e["name"], e["data_key"], cluster, e["matches"]))
    holders = sorted(set("%s/%s" % (e["namespace"], e["name"]) for e in exposed
                         if str(e.get("matches") or "").startswith(ROOT_ENTRY_PREFIX))) if checked else None
    out = {"cluster": cluster, "issuing_ca": issuing_ca, "exposed": exposed, "ok": not problems,
           "problems": problems}
    out.update(trust_source(issuer, holders, issuing_secret, ca_secret, namespace))
    return out
