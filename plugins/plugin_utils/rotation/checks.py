# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The checks that can block a rotation of one cluster's intermediate (controller-only).

- ``rotation_spec_checks``: does a requested ``duration``/``renewBefore`` leave the old
  intermediate valid for one workload-certificate lifetime after cert-manager renews it?
  (cert-manager's own field rules are checked by the certificate module.)
- ``rotation_preflight``: which findings of a cluster's status block a rotation.
- ``rotation_new_chain_problems``: is the ``cacerts`` a change produced what a rotation must produce?

Used by rotation_plan (plugins/filter/rotation_plan.py, documented in rotation_plan.yml there).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration

# cert-manager's default when spec.duration is unset: 90 days (docs/upstream/cert-manager.md#certificate-defaults).
_DEFAULT_DURATION = 2160 * go_duration.HOUR


def _human(nanoseconds):
    hours = nanoseconds / float(go_duration.HOUR)
    return ("%dh" % hours) if hours == int(hours) else go_duration.format(nanoseconds)


def rotation_spec_checks(spec, workload_cert_ttl="24h", margin="24h"):
    """Effective renewal lead time of ``spec`` and the problems with it (empty list when fine).

    docs/upstream/cert-manager.md#renewal-time: renewBefore is used when 0 < renewBefore < duration, else
    renewBeforePercentage, else duration/3; renewal happens at notAfter - that.
    docs/upstream/istiod.md#workload-cert-ttl: workload certs live 24h by default and, before Istio 1.31, are not
    clamped to the intermediate's notAfter, so the old intermediate must outlive the renewal by
    at least one workload TTL (plus a margin for propagation and clock skew).
    """
    spec = _plain(spec) or {}
    if not isinstance(spec, dict):
        raise AnsibleFilterError("rotation_spec_checks expects the Certificate spec (a mapping)")
    try:
        ttl = go_duration.parse(str(workload_cert_ttl))
        extra = go_duration.parse(str(margin))
    except go_duration.GoDurationError as exc:
        raise AnsibleFilterError("ca_rotation_workload_cert_ttl/ca_rotation_ttl_margin: %s" % exc)
    result = {"duration_seconds": None, "renew_before_seconds": None, "renew_before_source": None,
              "in_use_seconds": None, "required_seconds": (ttl + extra) // go_duration.SECOND, "problems": []}
    try:
        duration = go_duration.parse(spec["duration"]) if spec.get("duration") else _DEFAULT_DURATION
        renew_before = go_duration.parse(spec["renewBefore"]) if spec.get("renewBefore") else None
    except (go_duration.GoDurationError, TypeError) as exc:
        # The certificate module refuses such a spec first (cert-manager's message); should one reach
        # here anyway, it blocks the rotation rather than skipping the check.
        result["problems"].append("the lifetime of the spec to apply cannot be checked against the "
                                  "workload-certificate TTL: %s" % exc)
        return result
    pct = spec.get("renewBeforePercentage")
    if renew_before is not None and 0 < renew_before < duration:
        lead, source = renew_before, "renewBefore"
    elif isinstance(pct, int) and not isinstance(pct, bool) and 0 < pct < 100:
        lead, source = duration * pct // 100, "renewBeforePercentage"
    else:
        lead, source = duration // 3, "cert-manager's default (duration/3)"
    result.update(duration_seconds=duration // go_duration.SECOND, renew_before_seconds=lead // go_duration.SECOND,
                  renew_before_source=source, in_use_seconds=(duration - lead) // go_duration.SECOND)
    problems = result["problems"]
    if lead < ttl + extra:
        problems.append(
            "renewal lead time %s (%s) is shorter than the workload-certificate TTL %s plus margin %s: after "
            "cert-manager renews the intermediate, the old one expires before workload certificates it signed "
            "(Istio before 1.31 does not clamp them to it); set renewBefore to at least %s"
            % (_human(lead), source, _human(ttl), _human(extra), _human(ttl + extra)))
    if duration - lead < ttl:
        problems.append(
            "duration %s with a renewal lead of %s keeps each intermediate in use for only %s, less than one "
            "workload-certificate TTL (%s); lengthen duration or shorten renewBefore"
            % (_human(duration), _human(lead), _human(duration - lead), _human(ttl)))
    return result


def rotation_preflight(status, require_hot_reload=True, reload_checked=True):
    """Judge one ``cluster_status`` entry for a rotation: ``{problems, warnings}``.

    Problems block the rotation of the whole fleet; warnings are shown and do not.
    An expired or expiring intermediate is a warning: rotating is the fix for it.
    """
    status = _plain(status) or {}
    problems, warnings = [], []
    name = status.get("name", "this cluster")
    cert = status.get("certificate") or {}
    inter = status.get("intermediate")
    chain = status.get("chain") or {}
    istiod = status.get("istiod") or {}
    errors = list(status.get("errors") or [])
    for text in errors:
        problems.append("could not read the cluster: %s" % text)
    if errors and not inter and not cert.get("exists"):
        return {"problems": problems, "warnings": warnings}
    if not cert.get("exists"):
        problems.append("there is no Certificate %s/%s: cacerts is not issued by cert-manager here, so there is "
                        "nothing to rotate; run deploy.yml (ca_setup) first"
                        % (cert.get("namespace"), cert.get("name")))
    else:
        if cert.get("issuing"):
            problems.append("Certificate %s/%s is being issued right now (Issuing=True); wait until it is done "
                            "and run again" % (cert.get("namespace"), cert.get("name")))
        if cert.get("ready") is False:
            warnings.append("Certificate %s/%s is not Ready (%s: %s)" % (
                cert.get("namespace"), cert.get("name"), cert.get("ready_reason"), cert.get("ready_message")))
    # cluster_status puts a cacerts finding in problems (not errors) only when the Secret is not there.
    secret_missing = not inter and not any(str(e).startswith("cacerts:") for e in errors) and \
        any(str(p).startswith("cacerts:") for p in status.get("problems") or [])
    if secret_missing:
        problems.append("cacerts does not exist in %s: there is no intermediate to rotate yet; run deploy.yml "
                        "first" % (cert.get("namespace") or "istio-system"))
    elif not inter:
        if not any(str(e).startswith("cacerts:") for e in errors):
            found = [p for p in status.get("problems") or [] if str(p).startswith("cacerts:")]
            problems.append("the cacerts Secret could not be read, so it cannot be backed up or compared"
                            + (" (%s)" % "; ".join(found) if found else ""))
    else:
        if chain.get("key_matches") is not True:
            problems.append("cacerts is incomplete or inconsistent: tls.key %s the first certificate of tls.crt"
                            % ("is missing, so it cannot be checked against" if chain.get("key_matches") is None
                               else "does not match"))
        if chain.get("ends_at_root") is not True:
            problems.append("cacerts' chain does not verify up to a root in ca.crt: %s"
                            % ("; ".join(chain.get("problems") or []) or "no root found"))
        if inter.get("expired"):
            warnings.append("the current intermediate expired at %s; rotating replaces it" % inter.get("not_after"))
        else:
            for text in chain.get("istio_problems") or []:
                problems.append("istiod would not accept the current cacerts: %s" % text)
        warnings.extend(chain.get("istio_warnings") or [])
    if istiod.get("found") is None:
        pass  # not looked at (no cacerts to check istiod against): the finding above says what to do
    elif not istiod.get("found"):
        problems.append("no istiod Deployment (label app=istiod) in %s: nothing would load the new intermediate"
                        % (cert.get("namespace") or "istio-system"))
    elif istiod.get("hot_reload_state") not in ("on", "unknown"):
        text = ("istiod %s does not hot-reload cacerts: %s. Run the istio role (deploy.yml), which sets "
                "AUTO_RELOAD_PLUGIN_CERTS=true where the version needs it" % (istiod.get("version"),
                                                                              istiod.get("hot_reload")))
        (problems if require_hot_reload else warnings).append(text)
    elif reload_checked and istiod.get("reloaded") is False:
        reason = "; ".join(istiod.get("problems") or []) or "no evidence in its logs"
        problems.append("istiod does not sign with the intermediate now in cacerts, so a rotation could not be "
                        "verified; fix that first: %s" % reason)
    return {"problems": problems, "warnings": warnings}


def rotation_new_chain_problems(after, plan, apply=None):
    """Why the new ``cacerts`` (x509_inspect result) is not what the change must produce (empty when it is):
    the key matches, istiod would accept it, it verifies to the root of the plan, and after a re-issue
    its serial is new (the old one is the backup's, else the plan's)."""
    after, plan, apply = _plain(after) or {}, _plain(plan) or {}, _plain(apply) or {}
    if not isinstance(after, dict) or not isinstance(plan, dict) or not isinstance(apply, dict):
        raise AnsibleFilterError("rotation_new_chain_problems expects the x509_inspect result, the plan and the "
                                 "certificate result")
    chain = after.get("chain") or {}
    first = (after.get("certificates") or [{}])[0]
    backup = apply.get("backup") if isinstance(apply.get("backup"), dict) else {}
    old_serial = backup.get("serial") or plan.get("old_serial")
    problems = []
    if chain.get("key_matches") is not True:
        problems.append("tls.key does not match the new certificate")
    if not after.get("istio_ready"):
        problems.append("istiod would not accept it: %s" % ("; ".join(after.get("istio_problems") or []) or "not ready"))
    if chain.get("root_fingerprint_sha256") != plan.get("root_fingerprint"):
        problems.append("its root changed: %s -> %s" % (plan.get("root_fingerprint"), chain.get("root_fingerprint_sha256")))
    if (apply.get("reissue") or "none") != "none" and first.get("serial_hex") == old_serial:
        problems.append("a re-issue was expected but the serial is still %s" % old_serial)
    return problems
