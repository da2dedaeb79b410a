# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Which spec changes make cert-manager re-issue on its own, and when ``renew: auto`` must force one.

Model (docs/upstream/cert-manager.md#reissue-triggers, the trigger policy chain):
- issuerRef (name, kind/group with their defaults) -> IncorrectIssuer, read from the Secret's annotations;
- privateKey algorithm/size (with defaults) -> SecretMismatch, read from the key in the Secret;
- with the current-revision CertificateRequest ``<name>-<revision>`` present: SANs, commonName, subject,
  literalSubject, isCA, usages, otherNames -> RequestChanged; ``duration`` only when *both* the CR and the
  new spec set it (the CR copies spec.duration verbatim, unset stays unset); ``usages`` raw, exactly as
  cert-manager's ``RequestMatchesSpec`` (``pkg/util/pki/match.go``, ``util.EqualKeyUsagesUnsorted``)
  compares the request's usages, which ``createNewCertificateRequest``
  (``pkg/controller/certificates/requestmanager/requestmanager_controller.go``) copies verbatim from
  ``crt.Spec.Usages``: no defaults, no implied ``cert sign`` for isCA, so unset -> the explicit defaults
  re-issues;
- with that CR gone: only the SANs/commonName are compared with the issued certificate;
- renewBefore, renewBeforePercentage, renewal, secretTemplate, privateKey.encoding/rotationPolicy,
  revisionHistoryLimit, additionalOutputFormats, keystores: never a re-issue.
Values are compared the way cert-manager does: lists unordered, durations by value (720h == 720h0m0s),
defaults applied only where cert-manager applies them (key algorithm/size, issuer kind/group; never usages).

A prediction is *uncertain* (``prediction_doubt``) when it rests on something the module cannot read:
the current-revision request is gone (revisionHistoryLimit garbage collection, from cert-manager 1.18
with a default limit of 1, deletes it while a renewal is in flight) or an issuance is in flight (the
request manager compares the in-flight request with the new spec and replaces it). Callers back up then.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration as gd

SAN_FIELDS = ("commonName", "dnsNames", "ipAddresses", "uris", "emailAddresses")
REQUEST_ONLY_FIELDS = ("otherNames", "subject", "literalSubject", "isCA", "usages", "duration")
SECRET_FIELDS = ("issuerRef", "privateKey")
# Fields that shape the issued certificate but that cert-manager never compares.
UNWATCHED_FIELDS = ("signatureAlgorithm", "nameConstraints", "encodeUsagesInRequest")
ISSUANCE_FIELDS = SAN_FIELDS + REQUEST_ONLY_FIELDS + SECRET_FIELDS + UNWATCHED_FIELDS

_DEFAULT_KEY_SIZE = {"RSA": 2048, "ECDSA": 256}


def _sorted(values):
    return sorted(json.dumps(v, sort_keys=True) for v in (values or []))


def _duration(text):
    if text is None:
        return None
    try:
        return gd.parse(text)
    except gd.GoDurationError:
        return text  # validation rejects these before we get here; compare as text otherwise


def normalized(spec, field):
    """The value of ``field`` as cert-manager compares it (defaults applied, lists unordered)."""
    spec = spec or {}
    if field in ("dnsNames", "ipAddresses", "uris", "emailAddresses", "otherNames"):
        return _sorted(spec.get(field))
    if field in ("commonName", "literalSubject", "signatureAlgorithm"):
        return spec.get(field) or ""
    if field in ("isCA", "encodeUsagesInRequest"):
        return bool(spec.get(field))
    if field == "usages":
        # Raw, duplicates kept: util.EqualKeyUsagesUnsorted sorts copies and compares them element-wise.
        return sorted(spec.get("usages") or [])
    if field == "subject":
        subject = spec.get("subject") or {}
        return dict((k, _sorted(v) if isinstance(v, list) else v) for k, v in subject.items() if v)
    if field == "duration":
        return _duration(spec.get("duration"))
    if field == "issuerRef":
        ref = spec.get("issuerRef") or {}
        return (ref.get("name") or "", ref.get("kind") or "Issuer", ref.get("group") or "cert-manager.io")
    if field == "privateKey":
        key = spec.get("privateKey") or {}
        algorithm = key.get("algorithm") or "RSA"
        return (algorithm, key.get("size") or _DEFAULT_KEY_SIZE.get(algorithm))
    return spec.get(field)


def changed_issuance_fields(old, new):
    """Fields that change the certificate cert-manager would issue, old spec -> new spec."""
    return [f for f in ISSUANCE_FIELDS if normalized(old, f) != normalized(new, f)]


def needs_current_request(changed):
    """Whether the decision depends on the current CertificateRequest (fetch it only then)."""
    certain = any(f in changed for f in SECRET_FIELDS + SAN_FIELDS)
    return not certain and any(f in changed for f in REQUEST_ONLY_FIELDS)


def cert_manager_reasons(changed, new, request, request_known=True):
    """Why cert-manager's trigger controller would re-issue after this change ([] = it would not).

    ``request`` is the current-revision CertificateRequest (dict) or None when it is gone;
    ``request_known=False`` means it was not looked up because the answer does not depend on it.
    """
    reasons = []
    if "issuerRef" in changed:
        reasons.append("IncorrectIssuer: spec.issuerRef changed, the Secret was issued by another issuer")
    if "privateKey" in changed:
        reasons.append("SecretMismatch: spec.privateKey algorithm/size no longer match the key in the Secret")
    if request is not None or not request_known:
        for field in SAN_FIELDS + REQUEST_ONLY_FIELDS:
            if field not in changed:
                continue
            if field == "duration":
                old_value = _duration(((request or {}).get("spec") or {}).get("duration"))
                new_value = normalized(new, "duration")
                if old_value is None or new_value is None or old_value == new_value:
                    continue
            reasons.append("RequestChanged: spec.%s differs from the current CertificateRequest" % field)
    else:
        for field in SAN_FIELDS:
            if field in changed:
                reasons.append("SecretMismatch: spec.%s differs from the issued certificate (no current "
                               "CertificateRequest to compare with)" % field)
    return reasons


def prediction_doubt(changed, live, request, request_known):
    """Why the re-issue prediction cannot be trusted (a sentence), or None when it can.

    ``live`` is the Certificate as read; ``request``/``request_known`` as for cert_manager_reasons.
    Uncertain: an issuance in flight (Issuing=True: cert-manager's request manager compares the in-flight
    request with the new spec and replaces it, ``deleteRequestsNotMatchingSpec``), or a request-only field
    changed while the current-revision request could not be read (garbage-collected by the revision
    manager, ``pkg/controller/certificates/revisionmanager``, or never named ``<name>-<revision>``).
    """
    if not changed:
        return None
    conditions = ((live or {}).get("status") or {}).get("conditions") or []
    if any(c.get("type") == "Issuing" and c.get("status") == "True" for c in conditions):
        return ("an issuance is in flight (Issuing=True): cert-manager compares its request with the new spec "
                "and may replace it")
    if request_known and request is None and any(f in changed for f in REQUEST_ONLY_FIELDS):
        return ("the current CertificateRequest is gone (revisionHistoryLimit garbage collection), so "
                "cert-manager's own comparison for spec.%s cannot be read" % ", spec.".join(
                    f for f in changed if f in REQUEST_ONLY_FIELDS))
    return None


def auto_renew_reason(changed, cert_manager_will_reissue, previously_issued):
    """Why ``renew: auto`` forces a re-issue, or None.

    Force exactly when the applied change alters the certificate to issue but cert-manager will not
    re-issue on its own (e.g. duration added where none was set, or changed while the current
    CertificateRequest is gone). Never for a new Certificate, never for renewBefore-only changes.
    """
    if not previously_issued or cert_manager_will_reissue or not changed:
        return None
    return ("renew=auto: spec.%s changed, which cert-manager does not re-issue for on its own"
            % ", spec.".join(changed))


def rotation_never_warning(changed, new):
    """cert-manager refuses a new key under rotationPolicy Never: the re-issue would stall (docs/upstream/cert-manager.md#reissue-triggers)."""
    policy = ((new or {}).get("privateKey") or {}).get("rotationPolicy")
    if "privateKey" in changed and policy == "Never":
        return ("spec.privateKey algorithm/size changed while rotationPolicy is Never: cert-manager will not "
                "generate a new key (\"User intervention required\"); set rotationPolicy: Always for this change.")
    return None
