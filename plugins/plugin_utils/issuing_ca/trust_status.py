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


def _certs(result):
    if not isinstance(result, dict) or result.get("failed") or result.get("skipped"):
        return []
    return result.get("certificates") or []


def root_key_entry(cacerts_result):
    """The root cacerts trusts (its last certificate, when self-signed) as a key_exposure entry, or None."""
    certs = _certs(cacerts_result)
    if certs and certs[-1].get("self_signed"):
        return {"name": "fleet root (%s)" % certs[-1]["subject"],
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


def trust_status(cluster, issuing=None, exposure=None):
    """``ca_setup_trust_status``: the issuing CA's subject, serial and expiry, and any key exposure (a failure)."""
    certs = _certs(issuing)
    issuing_ca = None
    if certs:
        issuing_ca = {k: certs[0].get(k) for k in ("subject", "issuer", "serial_hex", "not_after", "seconds_remaining")}
    problems = []
    exposed = []
    if not isinstance(exposure, dict) or exposure.get("skipped"):
        problems.append("the Secrets of %s were not checked for CA keys" % cluster)
    elif exposure.get("failed"):
        problems.append("could not check the Secrets of %s for CA keys: %s" % (cluster, exposure.get("msg", "failed")))
    else:
        exposed = [{k: e.get(k) for k in ("namespace", "name", "data_key", "matches")}
                   for e in exposure.get("exposed") or []]
        for e in exposed:
            problems.append("Secret %s/%s (%s) on %s holds the private key of the %s; delete it (only the cluster's own "
                            "issuing CA Secret may hold its own key)"
                            % (e["namespace"], e["name"], e["data_key"], cluster, e["matches"]))
    return {"cluster": cluster, "issuing_ca": issuing_ca, "exposed": exposed, "ok": not problems,
            "problems": problems}
