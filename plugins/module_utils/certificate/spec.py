# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Pre-flight validation of a cert-manager Certificate spec, with cert-manager's own messages.

Runs before any request (check mode too), so a bad rotation request fails before a
cluster is touched. Two layers, in the API server's order:

1. the CRD's structural schema (required ``secretName``/``issuerRef``, JSON types),
   message form ``spec.isCA: Invalid value: "string": spec.isCA in body must be of type
   boolean: "string"``; when these fail the webhook never runs, so only they are reported;
2. cert-manager's validating webhook, ValidateCertificateSpec/ValidateDuration/validateIssuerRef/
   validateUsages (docs/upstream/cert-manager.md#webhook-validation; cert-manager
   internal/apis/certmanager/validation/certificate.go), same checks, same texts.

Go durations that ``time.ParseDuration`` rejects (``30d``) fail with Go's text plus a hint.
Unknown spec keys only warn: a newer cert-manager may know them, and server-side apply
rejects truly unknown fields itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import field_errors as fe
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration as gd
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError

MIN_DURATION = gd.HOUR  # MinimumCertificateDuration
MIN_RENEW_BEFORE = 5 * gd.MINUTE  # MinimumRenewBefore
DEFAULT_DURATION = 2160 * gd.HOUR  # DefaultCertificateDuration (90d), used when duration is unset

# pkg/apis/certmanager/v1/types.go KeyUsage values.
KEY_USAGES = (
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
    "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system",
    "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc",
)
DEFAULT_USAGES = ("digital signature", "key encipherment")

SIGNATURE_ALGORITHMS = {
    "RSA": ("SHA256WithRSA", "SHA384WithRSA", "SHA512WithRSA"),
    "ECDSA": ("ECDSAWithSHA256", "ECDSAWithSHA384", "ECDSAWithSHA512"),
    "Ed25519": ("PureEd25519",),
}

IDENTITY_MESSAGE = ("at least one of commonName (from the commonName field or from a literalSubject), dnsNames, "
                    "emailSANs, ipAddresses, otherNames, or uriSANs must be set")

# Certificate spec fields of cert-manager v1.21 (types_certificate.go), for the unknown-key warning.
KNOWN_FIELDS = frozenset((
    "additionalOutputFormats", "commonName", "dnsNames", "duration", "emailAddresses", "encodeUsagesInRequest",
    "ipAddresses", "isCA", "issuerRef", "keystores", "literalSubject", "nameConstraints", "otherNames",
    "privateKey", "renewBefore", "renewBeforePercentage", "renewal", "revisionHistoryLimit", "secretName",
    "secretTemplate", "signatureAlgorithm", "subject", "uris", "usages",
))

_STRING, _INTEGER, _BOOLEAN, _ARRAY, _OBJECT = "string", "integer", "boolean", "array", "object"
_SUBJECT_LISTS = ("organizations", "countries", "organizationalUnits", "localities", "provinces",
                  "streetAddresses", "postalCodes")
# JSON types of the CRD schema for the fields this module reads or validates.
_SCHEMA = {
    "secretName": _STRING, "commonName": _STRING, "duration": _STRING, "renewBefore": _STRING,
    "literalSubject": _STRING, "signatureAlgorithm": _STRING,
    "renewBeforePercentage": _INTEGER, "revisionHistoryLimit": _INTEGER,
    "isCA": _BOOLEAN, "encodeUsagesInRequest": _BOOLEAN,
    "dnsNames": _ARRAY, "ipAddresses": _ARRAY, "uris": _ARRAY, "emailAddresses": _ARRAY, "usages": _ARRAY,
    "otherNames": _ARRAY, "additionalOutputFormats": _ARRAY,
    "issuerRef": _OBJECT, "privateKey": _OBJECT, "subject": _OBJECT, "secretTemplate": _OBJECT,
    "nameConstraints": _OBJECT, "keystores": _OBJECT, "renewal": _OBJECT,
    "issuerRef.name": _STRING, "issuerRef.kind": _STRING, "issuerRef.group": _STRING,
    "privateKey.algorithm": _STRING, "privateKey.encoding": _STRING, "privateKey.rotationPolicy": _STRING,
    "privateKey.size": _INTEGER, "subject.serialNumber": _STRING,
    "secretTemplate.labels": _OBJECT, "secretTemplate.annotations": _OBJECT,
}
_SCHEMA.update(("subject." + key, _ARRAY) for key in _SUBJECT_LISTS)
_STRING_LISTS = ("dnsNames", "ipAddresses", "uris", "emailAddresses", "usages") + tuple(
    "subject." + key for key in _SUBJECT_LISTS)


def clean(value):
    """A copy without null-valued keys: ``duration: null`` means "unset", as in a kubectl manifest."""
    if isinstance(value, dict):
        return dict((k, clean(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def json_type(value):
    if isinstance(value, bool):
        return _BOOLEAN
    if isinstance(value, int):
        return _INTEGER
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return _STRING
    if isinstance(value, list):
        return _ARRAY
    if isinstance(value, dict):
        return _OBJECT
    return "null" if value is None else type(value).__name__


def _lookup(spec, dotted):
    node = spec
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _schema_errors(spec):
    """CRD structural-schema errors (types, required fields); the webhook only runs when there are none."""
    errors = []
    for dotted in sorted(_SCHEMA, key=lambda d: (d.count("."), d)):
        value = _lookup(spec, dotted)
        if value is None:
            continue
        want, got = _SCHEMA[dotted], json_type(value)
        if want != got:
            path = "spec." + dotted
            errors.append(fe.invalid(path, got, "%s in body must be of type %s: %s" % (path, want, fe.go_quote(got))))
    for dotted in _STRING_LISTS:
        value = _lookup(spec, dotted)
        if isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    path = "spec.%s[%d]" % (dotted, i)
                    got = json_type(item)
                    errors.append(fe.invalid(path, got, "%s in body must be of type string: %s" % (path, fe.go_quote(got))))
    for field in ("secretName", "issuerRef"):
        if field not in spec:
            errors.append(fe.required("spec." + field))
    if isinstance(spec.get("issuerRef"), dict) and "name" not in spec["issuerRef"]:
        errors.append(fe.required("spec.issuerRef.name"))
    return errors


def _duration_field(spec, field, errors):
    """Parse spec.<field> as a Go duration; on failure add Go's message (and a hint) and return None."""
    text = spec.get(field)
    if text is None:
        return None
    try:
        return gd.parse(text)
    except gd.GoDurationError as exc:
        hint = ("a Go duration: a number with unit h, m, s, ms, us or ns, such as 2160h for 90 days; "
                "Go durations have no d (day) unit")
        errors.append(fe.invalid("spec." + field, text, "%s (%s)" % (exc, hint)))
        return None


def _literal_subject_cn(literal):
    """The CN of a literalSubject such as ``CN=istio-ca,O=acme`` (RFC 4514, no escapes handled)."""
    for part in literal.split(","):
        key, _sep, value = part.strip().partition("=")
        if key.strip().upper() == "CN":
            return value.strip()
    return ""


def _validate_identity(spec, errors):
    common_name = spec.get("commonName", "")
    literal = spec.get("literalSubject", "")
    if literal:
        if common_name:
            errors.append(fe.invalid("spec.commonName", common_name,
                                     "When providing a `LiteralSubject` no `commonName` may be provided."))
        subject = spec.get("subject") or {}
        if any(subject.get(k) for k in _SUBJECT_LISTS + ("serialNumber",)):
            errors.append(fe.invalid("spec.subject", subject,
                                     "When providing a `LiteralSubject` no `Subject` properties may be provided."))
        common_name = _literal_subject_cn(literal)
    if not (common_name or spec.get("dnsNames") or spec.get("uris") or spec.get("emailAddresses")
            or spec.get("ipAddresses") or spec.get("otherNames")):
        errors.append(fe.invalid("spec", "", IDENTITY_MESSAGE))
    if len(common_name.encode("utf-8")) > 64:
        errors.append(fe.too_long("spec.commonName", 64))
    for i, address in enumerate(spec.get("ipAddresses") or []):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            errors.append(fe.invalid("spec.ipAddresses[%d]" % i, address, "invalid IP address"))
    for i, address in enumerate(spec.get("emailAddresses") or []):
        problem = _email_problem(address)
        if problem:
            errors.append(fe.invalid("spec.emailAddresses[%d]" % i, address, problem))
    for i, other in enumerate(spec.get("otherNames") or []):
        other = other if isinstance(other, dict) else {}
        if not other.get("oid"):
            errors.append(fe.required("spec.otherNames[%d].oid" % i, "must be specified"))
        if not other.get("utf8Value"):
            errors.append(fe.required("spec.otherNames[%d].utf8Value" % i, "must be set to a valid non-empty UTF8 string"))


def _email_problem(address):
    """An approximation of Go's net/mail.ParseAddress check as the webhook uses it."""
    if "<" in address or " " in address.strip():
        return "invalid email address: make sure the supplied value only contains the email address itself"
    local, at, domain = address.rpartition("@")
    if not at:
        return "invalid email address: mail: missing '@' or angle-addr"
    if not local:
        return "invalid email address: mail: no angle-addr"
    if not domain:
        return "invalid email address: mail: no domain in addr-spec"
    return None


def _validate_issuer_ref(spec, errors):
    ref = spec.get("issuerRef") or {}
    if not ref.get("name"):
        errors.append(fe.required("spec.issuerRef.name", "must be specified"))
    group, kind = ref.get("group", ""), ref.get("kind", "")
    if group in ("", "cert-manager.io") and kind not in ("", "Issuer", "ClusterIssuer"):
        message = "must be one of Issuer or ClusterIssuer"
        if group == "":
            # Upstream builds the hint from the kind path, so it reads spec.issuerRef.kind.group (sic).
            message += " (did you forget to set spec.issuerRef.kind.group?)"
        errors.append(fe.invalid("spec.issuerRef.kind", kind, message))


def _validate_private_key(spec, errors):
    key = spec.get("privateKey")
    if not isinstance(key, dict):
        return
    algorithm, size = key.get("algorithm", ""), key.get("size", 0) or 0
    if algorithm in ("", "RSA"):
        if size > 0 and not 2048 <= size <= 8192:
            errors.append(fe.invalid("spec.privateKey.size", size, "must be between 2048 and 8192 for rsa keyAlgorithm"))
    elif algorithm == "ECDSA":
        if size > 0 and size not in (256, 384, 521):
            errors.append(fe.not_supported("spec.privateKey.size", size, ("256", "384", "521")))
    elif algorithm != "Ed25519":
        errors.append(fe.invalid("spec.privateKey.algorithm", algorithm, "must be either empty or one of rsa, ecdsa or ed25519"))
    signature = spec.get("signatureAlgorithm", "")
    allowed = SIGNATURE_ALGORITHMS.get(algorithm or "RSA")
    if signature and allowed and signature not in allowed:
        errors.append(fe.invalid("spec.signatureAlgorithm", signature, "for key algorithm %s the allowed signature "
                                 "algorithms are [%s]" % (algorithm or "RSA", " ".join(allowed))))


def _validate_durations(spec, errors, warnings):
    """ValidateDuration: only when duration or renewBefore is set (as upstream)."""
    duration = _duration_field(spec, "duration", errors)
    renew_before = _duration_field(spec, "renewBefore", errors)
    if ("duration" in spec and duration is None) or ("renewBefore" in spec and renew_before is None):
        return  # unparseable: the webhook could not even decode the object
    if "duration" not in spec and "renewBefore" not in spec:
        percentage = spec.get("renewBeforePercentage")
        if percentage is not None and not 0 < percentage < 100:
            # The webhook skips ValidateDuration here; the controller then ignores the value (renews at 2/3).
            warnings.append("spec.renewBeforePercentage %d is outside 1..99: cert-manager ignores it and renews at "
                            "2/3 of the lifetime." % percentage)
        return
    effective = DEFAULT_DURATION if duration is None else duration
    if effective < MIN_DURATION:
        errors.append(fe.invalid_shown("spec.duration", gd.format(effective),
                                       "certificate duration must be greater than %s" % gd.format(MIN_DURATION)))
    percentage = spec.get("renewBeforePercentage")
    mutual = "renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set"
    if renew_before is not None and percentage is not None:
        errors.append(fe.invalid_shown("spec.renewBefore", gd.format(renew_before), mutual))
        errors.append(fe.invalid("spec.renewBeforePercentage", percentage, mutual))
    if renew_before is not None and renew_before < MIN_RENEW_BEFORE:
        errors.append(fe.invalid_shown("spec.renewBefore", gd.format(renew_before),
                                       "certificate renewBefore must be greater than %s" % gd.format(MIN_RENEW_BEFORE)))
    if renew_before is not None and renew_before >= effective:
        errors.append(fe.invalid_shown("spec.renewBefore", gd.format(renew_before),
                                       "certificate duration %s must be greater than renewBefore %s"
                                       % (gd.format(effective), gd.format(renew_before))))
    if percentage is not None:
        _validate_percentage(effective, percentage, errors, warnings)


def _validate_percentage(duration, percentage, errors, warnings):
    """renewBeforePercentage: webhooks through v1.21.1 check the complement, duration*(100-pct)/100, while the
    controller (and the fix, cert-manager PR #9129) uses duration*pct/100 (docs/upstream/cert-manager.md#renewbeforepercentage).
    Reject only what both would reject, and warn where they disagree."""
    complement = duration * (100 - percentage) // 100
    effective = duration * percentage // 100

    def failures(renew_before):
        found = []
        if renew_before < MIN_RENEW_BEFORE:
            found.append("certificate renewBeforePercentage must result in a renewBefore greater than %s"
                         % gd.format(MIN_RENEW_BEFORE))
        if renew_before >= duration:
            found.append("certificate renewBeforePercentage must result in a renewBefore less than duration")
        return found

    old, new = failures(complement), failures(effective)
    if old and new:
        errors.extend(fe.invalid("spec.renewBeforePercentage", percentage, text) for text in old)
    elif old or new:
        warnings.append("spec.renewBeforePercentage %d with duration %s: cert-manager webhooks up to v1.21 validate "
                        "the complement of the percentage and %s it, later ones %s it (cert-manager PR #9129); "
                        "an absolute spec.renewBefore avoids the difference."
                        % (percentage, gd.format(duration), "reject" if old else "accept",
                           "reject" if new else "accept"))


def _validate_usages(spec, errors):
    for i, usage in enumerate(spec.get("usages") or []):
        if usage not in KEY_USAGES:
            errors.append(fe.invalid("spec.usages[%d]" % i, usage, "unknown keyusage"))


def _validate_secret(spec, errors):
    name = spec.get("secretName", "")
    if name == "":
        errors.append(fe.required("spec.secretName", "must be specified"))
    else:
        errors.extend(fe.invalid("spec.secretName", name, msg) for msg in fe.dns1123_subdomain(name))
    template = spec.get("secretTemplate") or {}
    labels = template.get("labels") or {}
    for key in sorted(labels):
        errors.extend(fe.invalid("spec.secretTemplate.labels", key, msg) for msg in fe.qualified_name(key))
        value = labels[key] if isinstance(labels[key], str) else str(labels[key])
        errors.extend(fe.invalid("spec.secretTemplate.labels", value, msg) for msg in fe.label_value(value))
    annotations = template.get("annotations") or {}
    for key in sorted(annotations):
        if key.startswith("cert-manager.io/") and key != "cert-manager.io/allow-direct-injection":
            errors.append(fe.invalid("spec.secretTemplate.annotations", key, "cert-manager.io/* annotations are not allowed"))
    for key in sorted(annotations):
        errors.extend(fe.invalid("spec.secretTemplate.annotations", key, msg) for msg in fe.qualified_name(key.lower()))


def validate(spec):
    """Return (errors, warnings): field errors as the API server + webhook would report them, and advice."""
    if not isinstance(spec, dict):
        return [fe.invalid("spec", json_type(spec), "spec in body must be of type object: %s" % fe.go_quote(json_type(spec)))], []
    errors = _schema_errors(spec)
    if errors:
        return errors, []
    warnings = []
    for key in sorted(set(spec) - KNOWN_FIELDS):
        warnings.append("spec.%s is not a Certificate field this module knows (cert-manager v1.21); field names are "
                        "camelCase as in cert-manager's API. Server-side apply rejects it if the CRD does not know it."
                        % key)
    _validate_secret(spec, errors)
    _validate_issuer_ref(spec, errors)
    _validate_identity(spec, errors)
    _validate_private_key(spec, errors)
    _validate_durations(spec, errors, warnings)
    _validate_usages(spec, errors)
    limit = spec.get("revisionHistoryLimit")
    if limit is not None and limit < 1:
        errors.append(fe.invalid("spec.revisionHistoryLimit", limit, "must not be less than 1"))
    constraints = spec.get("nameConstraints")
    if constraints is not None:
        if not spec.get("isCA"):
            errors.append(fe.invalid("spec.nameConstraints", constraints, "isCa should be true when nameConstraints is set"))
        if constraints.get("permitted") is None and constraints.get("excluded") is None:
            errors.append(fe.invalid("spec.nameConstraints", constraints, "either permitted or excluded must be set"))
    return errors, warnings


def check(spec, namespace, name):
    """Validate; raise CertificateError naming every failing field, else return the warnings."""
    errors, warnings = validate(spec)
    if errors:
        texts = []
        for err in errors:
            if str(err) not in texts:
                texts.append(str(err))
        raise CertificateError(
            "Certificate %s/%s is invalid, cert-manager would reject it (nothing was sent to the cluster): %s"
            % (namespace, name, "; ".join(texts)),
            result={"validation_errors": texts})
    return warnings
