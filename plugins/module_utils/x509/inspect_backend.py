# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""x509_inspect's backend: read the input, describe every certificate, judge the chain.

Read-only by construction (a GET of a Secret at most), so check mode changes nothing.
The result carries public facts only: no private key, nothing derived from one except
the yes/no of ``key_matches``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509 import istio_requirements
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.chain import analyze_chain
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.crl import parse_istio_version
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import certificate_info, short_name
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.source import from_params
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.time_inputs import format_duration, parse_min_remaining, parse_timespec


def inspect(params, client_factory=None, now=None):
    """The module result for ``params`` (the module's validated parameters)."""
    now = now or rfc3339.now()
    parse_istio_version(params.get("istio_version"))  # a bad version fails before anything is read
    valid_at = dict((name, parse_timespec(value, name, now))
                    for name, value in sorted((params.get("valid_at") or {}).items()))
    min_remaining = params.get("min_remaining")
    min_seconds = parse_min_remaining(min_remaining) if min_remaining not in (None, "") else None

    material = from_params(params, client_factory)
    roots = material.roots if material.roots is not None else None
    everything = list(material.certs) + list(roots or [])
    sources = list(material.cert_sources) + [material.root_label] * len(roots or [])
    certificates = [certificate_info(cert, now, valid_at, i, sources[i]) for i, cert in enumerate(everything)]

    chain = analyze_chain(material.certs, roots, material.key, now, source=material.label,
                          roots_source=material.root_label, key_source=material.key_label)
    # A certificate whose notAfter cannot be read has seconds_remaining null and its reason in problems.
    timed = [c for c in certificates if c["seconds_remaining"] is not None] or certificates
    first = min(timed, key=lambda c: c["seconds_remaining"] if c["seconds_remaining"] is not None else 0)
    result = {
        "changed": False,
        "source": {"kind": material.kind, "secret": material.secret},
        "certificates": certificates,
        "chain": chain,
        "valid_at": dict((name, all(c["valid_at"][name] for c in certificates)) for name in valid_at),
        "seconds_remaining": first["seconds_remaining"],
        "expires_first": {"index": first["index"], "subject": first["subject"], "not_after": first["not_after"],
                          "source": first["source"]},
        "min_remaining_ok": None,
    }
    if min_seconds is not None:
        short = [(i, c) for i, c in enumerate(certificates)
                 if c["seconds_remaining"] is None or c["seconds_remaining"] < min_seconds]
        result["min_remaining_ok"] = not short
        result["min_remaining_seconds"] = int(min_seconds)
        for i, info in short:
            if info["seconds_remaining"] is None:
                chain["problems"].append(
                    "Certificate %d in %s (%s) has a notAfter that cannot be read, so whether it has min_remaining "
                    "%s left is unknown; re-issue it" % (i + 1, info["source"], short_name(everything[i]),
                                                         min_remaining))
                continue
            chain["problems"].append(
                "Certificate %d in %s (%s) has %s left (until %s), less than min_remaining %s; renew it" % (
                    i + 1, info["source"], short_name(everything[i]), format_duration(info["seconds_remaining"]),
                    info["not_after"], min_remaining))
    if params.get("istio_signing_ca"):
        inp = _istio_input(material, parse_istio_version(params.get("istio_version")))
        ready, problems, warnings = istio_requirements.check(inp, now)
        result.update(istio_ready=ready, istio_problems=problems, istio_warnings=warnings)
    return result


def _istio_input(material, istio_version):
    crl = dict(crl=material.crl, crl_label=material.crl_label, istio_version=istio_version)
    if material.kind == "secret":
        return istio_requirements.IstioInput(material.certs, material.chain_pool, material.roots, material.key,
                                             material.names, material.missing, material.layout, **crl)
    roots = material.bundle_roots()
    names = dict(material.names)
    if roots:
        names["root"] = "the root at the end of %s (%s)" % (material.label, short_name(roots[0]))
    return istio_requirements.IstioInput(material.certs, material.certs, roots, material.key, names, (), "bundle", **crl)
