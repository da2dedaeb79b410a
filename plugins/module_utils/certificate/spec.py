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
   validateUsages and the rest of cert-manager's internal/apis/certmanager/validation/certificate.go, same
   checks, same texts, by release (certificate_webhook_version). The CRD's enums, required fields and
   patterns belong to layer 1 (certificate_crd): the API server refuses ``rotationPolicy: always`` itself.

The test tests/unit/plugins/module_utils/test_certificate_validation_table.py runs cert-manager's own
validation table (certificate_test.go, v1.21.1) through this check and through kubesim's webhook.

Go durations that ``time.ParseDuration`` rejects (``30d``) fail with Go's text plus a hint.
Unknown spec keys only warn: a newer cert-manager may know them, and server-side apply
rejects truly unknown fields itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import crd
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import field_errors as fe
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import spec_outputs as outputs
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import spec_renewal as renewal_rules
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_dn
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration as gd
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_mail
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.webhook_version import Webhook
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
# The same rule's wording before v1.20.
IDENTITY_MESSAGE_OLD = ("at least one of commonName (from the commonName field or from a literalSubject), dnsNames, "
                        "uriSANs, ipAddresses, emailSANs or otherNames must be set")
SIGNATURE_CHECK_SINCE = (1, 18, 0)  # keyAlgToAllowedSigAlgs appeared in v1.18.0
TOTAL_ANNOTATION_SIZE = 256 * (1 << 10)  # apimachinery TotalAnnotationSizeLimitB

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
    "keystores.jks": _OBJECT, "keystores.pkcs12": _OBJECT, "keystores.jks.create": _BOOLEAN,
    "keystores.pkcs12.create": _BOOLEAN, "keystores.jks.password": _STRING, "keystores.pkcs12.password": _STRING,
    "keystores.jks.passwordSecretRef": _OBJECT, "keystores.pkcs12.passwordSecretRef": _OBJECT,
    "keystores.pkcs12.profile": _STRING, "renewal.policy": _STRING, "renewal.windows": _ARRAY,
    "nameConstraints.critical": _BOOLEAN, "nameConstraints.permitted": _OBJECT, "nameConstraints.excluded": _OBJECT,
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


def _schema_errors(spec, hook=None):
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
    if not errors:
        errors.extend(crd.errors(spec, with_renewal=hook is None or hook.refuses(renewal_rules.RENEWAL_SINCE)))
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


def _literal_subject_cn(literal, common_name, errors):
    """The CN the webhook takes from a literalSubject, adding its parse / unknown-key errors (certificate.go).

    Parsed as go-ldap's ParseDN does (go_dn); the first CN of the string wins, as in upstream's loop over
    the reversed RDN sequence.
    """
    try:
        attributes = go_dn.subject_attributes(literal)
    except go_dn.DNError as exc:
        errors.append(fe.invalid("spec.literalSubject", literal, str(exc)))
        return common_name
    for oid, value in attributes:
        if oid == go_dn.COMMON_NAME:
            common_name = value
    for oid, value in attributes:
        if oid is None:
            errors.append(fe.invalid("spec.literalSubject", literal,
                                     "Literal subject contains unrecognized key with value [%s]" % value))
    return common_name


def _validate_literal_subject(spec, errors, hook):
    common_name = spec.get("commonName", "")
    literal = spec.get("literalSubject", "")
    if not literal:
        return common_name
    if hook.gate("LiteralCertificateSubject") is False:
        errors.append(fe.forbidden("spec.literalSubject", "Feature gate LiteralCertificateSubject must be enabled on "
                                   "both webhook and controller to use the alpha `literalSubject` field"))
    if common_name:
        errors.append(fe.invalid("spec.commonName", common_name,
                                 "When providing a `LiteralSubject` no `commonName` may be provided."))
    subject = spec.get("subject")
    if isinstance(subject, dict) and any(subject.get(k) for k in _SUBJECT_LISTS + ("serialNumber",)):
        errors.append(fe.invalid_shown("spec.subject", fe.go_x509_subject(subject),
                                       "When providing a `LiteralSubject` no `Subject` properties may be provided."))
    return _literal_subject_cn(literal, common_name, errors)


def _validate_identity(spec, errors, hook):
    common_name = _validate_literal_subject(spec, errors, hook)
    if not (common_name or spec.get("dnsNames") or spec.get("uris") or spec.get("emailAddresses")
            or spec.get("ipAddresses") or spec.get("otherNames")):
        errors.append(fe.invalid("spec", "", IDENTITY_MESSAGE if hook.newer_text((1, 20, 0)) else IDENTITY_MESSAGE_OLD))
    if len(common_name.encode("utf-8")) > 64:
        error = fe.too_long("spec.commonName", 64)
        if not hook.newer_text((1, 17, 0)):
            error.detail = "must have at most 64 bytes"
        errors.append(error)
    for i, address in enumerate(spec.get("ipAddresses") or []):
        if go_mail.go_parse_ip(address) is None:
            errors.append(fe.invalid("spec.ipAddresses[%d]" % i, address, "invalid IP address"))
    for i, address in enumerate(spec.get("emailAddresses") or []):
        problem = _email_problem(address)
        if problem:
            errors.append(fe.invalid("spec.emailAddresses[%d]" % i, address, problem))
    _validate_other_names(spec, errors, hook)


def _validate_other_names(spec, errors, hook):
    """otherNames: Forbidden while the OtherNames gate is off (its default before v1.20), else each entry checked.

    With an unknown version the entry checks still apply: a gate that is off refuses the field anyway.
    """
    others = spec.get("otherNames") or []
    if not others:
        return
    if hook.gate("OtherNames") is False:
        errors.append(fe.forbidden("spec.OtherNames", "Feature gate OtherNames must be enabled on both webhook and "
                                   "controller to use the alpha `otherNames` field"))
        return
    oid_message = "invalid oid syntax" if hook.newer_text((1, 20, 0)) else "oid syntax invalid"
    for i, other in enumerate(others):
        other = other if isinstance(other, dict) else {}
        oid = other.get("oid") or ""
        if not oid:
            errors.append(fe.required("spec.otherNames[%d].oid" % i, "must be specified"))
        if go_dn.parse_oid(oid) is None:
            errors.append(fe.invalid("spec.otherNames[%d].oid" % i, oid, oid_message))
        if not other.get("utf8Value"):
            errors.append(fe.required("spec.otherNames[%d].utf8Value" % i, "must be set to a valid non-empty UTF8 string"))


def _email_problem(address):
    """validateEmailAddresses: Go's net/mail.ParseAddress must accept it and return the very same address."""
    try:
        _name, parsed = go_mail.parse_address(address)
    except go_mail.MailError as exc:
        return "invalid email address: %s" % exc
    if parsed != address:
        return "invalid email address: make sure the supplied value only contains the email address itself"
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


def _validate_private_key(spec, errors, hook):
    key = spec.get("privateKey")
    if isinstance(key, dict):
        _validate_key_size(key, errors, hook)
    # No privateKey means an RSA key (upstream's actualKeyAlg); checked from v1.18 only.
    algorithm = key.get("algorithm", "") if isinstance(key, dict) else ""
    signature = spec.get("signatureAlgorithm", "")
    allowed = SIGNATURE_ALGORITHMS.get(algorithm or "RSA")
    if signature and allowed and signature not in allowed and hook.refuses(SIGNATURE_CHECK_SINCE):
        errors.append(fe.invalid("spec.signatureAlgorithm", signature, "for key algorithm %s the allowed signature "
                                 "algorithms are [%s]" % (algorithm or "RSA", " ".join(allowed))))


def _validate_key_size(key, errors, hook):
    algorithm, size = key.get("algorithm", ""), key.get("size", 0) or 0
    if algorithm in ("", "RSA"):
        if size > 0 and not 2048 <= size <= 8192:
            joiner = "and" if hook.newer_text((1, 17, 0)) else "&"
            errors.append(fe.invalid("spec.privateKey.size", size,
                                     "must be between 2048 %s 8192 for rsa keyAlgorithm" % joiner))
    elif algorithm == "ECDSA":
        if size > 0 and size not in (256, 384, 521):
            errors.append(fe.not_supported("spec.privateKey.size", size, ("256", "384", "521")))
    elif algorithm != "Ed25519":
        errors.append(fe.invalid("spec.privateKey.algorithm", algorithm, "must be either empty or one of rsa, ecdsa or ed25519"))


def _validate_durations(spec, errors, warnings, hook):
    """ValidateDuration, which the webhook runs only when duration or renewBefore is set (certificate.go)."""
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
    errors.extend(validate_duration(spec, hook))
    percentage = spec.get("renewBeforePercentage")
    if percentage is not None and "renewBefore" not in spec:
        _warn_percentage(DEFAULT_DURATION if duration is None else duration, percentage, warnings)


def validate_duration(spec, hook=None):
    """cert-manager's ValidateDuration for a spec whose durations parse; the field errors it returns."""
    hook = hook or Webhook()
    errors = []
    duration = gd.parse(spec["duration"]) if spec.get("duration") is not None else DEFAULT_DURATION
    renew_before = gd.parse(spec["renewBefore"]) if spec.get("renewBefore") is not None else None
    percentage = spec.get("renewBeforePercentage")
    if duration < MIN_DURATION:
        errors.append(fe.invalid_shown("spec.duration", gd.format(duration),
                                       "certificate duration must be greater than %s" % gd.format(MIN_DURATION)))
    mutual = "renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set"
    if renew_before is not None and percentage is not None:
        errors.append(fe.invalid_shown("spec.renewBefore", gd.format(renew_before), mutual))
        errors.append(fe.invalid("spec.renewBeforePercentage", percentage, mutual))
    if renew_before is not None and renew_before < MIN_RENEW_BEFORE:
        errors.append(fe.invalid_shown("spec.renewBefore", gd.format(renew_before),
                                       "certificate renewBefore must be greater than %s" % gd.format(MIN_RENEW_BEFORE)))
    if renew_before is not None and renew_before >= duration:
        errors.append(fe.invalid_shown("spec.renewBefore", gd.format(renew_before),
                                       "certificate duration %s must be greater than renewBefore %s"
                                       % (gd.format(duration), gd.format(renew_before))))
    if percentage is not None:
        checked = _percentage_renew_before(duration, percentage, hook)
        if checked < MIN_RENEW_BEFORE:
            errors.append(fe.invalid("spec.renewBeforePercentage", percentage,
                                     "certificate renewBeforePercentage must result in a renewBefore greater than %s"
                                     % gd.format(MIN_RENEW_BEFORE)))
        if checked >= duration:
            errors.append(fe.invalid("spec.renewBeforePercentage", percentage,
                                     "certificate renewBeforePercentage must result in a renewBefore less than "
                                     "duration"))
    return errors


def _percentage_renew_before(duration, percentage, hook):
    """The renewBefore every released webhook checks: the complement, duration*(100-pct)/100.

    v1.21 computes it in float64; v1.20 and older in int64, which wraps for long durations
    (duration*(100-pct) > 2^63 ns, e.g. 10 years at 1%) into a negative value (cert-manager commit 94c413194).
    """
    if hook.at_least((1, 21, 0)) is False:
        product = (duration * (100 - percentage)) & ((1 << 64) - 1)
        if product >= 1 << 63:
            product -= 1 << 64
        quotient = abs(product) // 100
        return quotient if product >= 0 else -quotient
    return int(float(duration) * float(100 - percentage) / 100)


def _warn_percentage(duration, percentage, warnings):
    """The webhook checks the complement; the controller renews pct% of the lifetime before expiry."""
    effective = duration * percentage // 100
    if 0 < percentage < 100 and (effective < MIN_RENEW_BEFORE or effective >= duration):
        warnings.append("spec.renewBeforePercentage %d with duration %s: cert-manager's webhook checks "
                        "duration*(100-%d)/100, but the controller renews %s before expiry; an absolute "
                        "spec.renewBefore says what is meant."
                        % (percentage, gd.format(duration), percentage, gd.format(effective)))


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


def _validate_secret_template(spec, errors):
    """metavalidation.ValidateLabels and apivalidation.ValidateAnnotations (keys, 256 KiB in all), plus
    cert-manager's ban on its own annotation keys."""
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
    size = sum(len(k.encode("utf-8")) + len(str(v).encode("utf-8")) for k, v in annotations.items())
    if size > TOTAL_ANNOTATION_SIZE:
        errors.append(fe.too_long("spec.secretTemplate.annotations", TOTAL_ANNOTATION_SIZE))


def _validate_name_constraints(spec, errors, hook):
    constraints = spec.get("nameConstraints")
    if constraints is None:
        return
    if hook.gate("NameConstraints") is False:
        errors.append(fe.forbidden("spec.nameConstraints", "feature gate NameConstraints must be enabled"))
        return
    shown = fe.go_name_constraints(constraints)
    if not spec.get("isCA"):
        errors.append(fe.invalid_shown("spec.nameConstraints", shown, "isCa should be true when nameConstraints is set"))
    if constraints.get("permitted") is None and constraints.get("excluded") is None:
        errors.append(fe.invalid_shown("spec.nameConstraints", shown, "either permitted or excluded must be set"))


def webhook_errors(spec, hook):
    """ValidateCertificateSpec (cert-manager internal/apis/certmanager/validation/certificate.go), rule by rule
    in upstream's order, for a spec that passed the CRD schema."""
    errors, warnings = [], []
    _validate_secret(spec, errors)
    _validate_issuer_ref(spec, errors)
    _validate_identity(spec, errors, hook)
    _validate_private_key(spec, errors, hook)
    _validate_durations(spec, errors, warnings, hook)
    _validate_usages(spec, errors)
    limit = spec.get("revisionHistoryLimit")
    if limit is not None and limit < 1:
        errors.append(fe.invalid("spec.revisionHistoryLimit", limit, "must not be less than 1"))
    _validate_secret_template(spec, errors)
    _validate_name_constraints(spec, errors, hook)
    errors.extend(outputs.additional_output_formats(spec))
    errors.extend(outputs.keystores(spec, hook))
    errors.extend(renewal_rules.renewal(spec, hook))
    return errors, warnings


def validate(spec, cert_manager_version=None, feature_gates=None):
    """Return (errors, warnings): field errors as the API server + webhook would report them, and advice.

    ``cert_manager_version`` (``v1.19.1``) and ``feature_gates`` (the webhook's, as a dict) select the
    release's rules; without a version only the rules every release from v1.16 on shares are applied.
    """
    if not isinstance(spec, dict):
        return [fe.invalid("spec", json_type(spec), "spec in body must be of type object: %s" % fe.go_quote(json_type(spec)))], []
    hook = Webhook(cert_manager_version, feature_gates)
    errors = _schema_errors(spec, hook)
    if errors:
        return errors, []
    warnings = []
    for key in sorted(set(spec) - KNOWN_FIELDS):
        warnings.append("spec.%s is not a Certificate field this module knows (cert-manager v1.21); field names are "
                        "camelCase as in cert-manager's API. Server-side apply rejects it if the CRD does not know it."
                        % key)
    errors, more = webhook_errors(spec, hook)
    return errors, warnings + more


def check(spec, namespace, name, cert_manager_version=None, feature_gates=None):
    """Validate; raise CertificateError naming every failing field, else return the warnings."""
    errors, warnings = validate(spec, cert_manager_version, feature_gates)
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
