"""cert-manager's admission: the CRD schema checks the API server runs, then the webhook.

Rules and texts: cert-manager internal/apis/certmanager/validation (certificate.go,
issuer.go, warnings.go). Error strings are built the way k8s.io/apimachinery's
``field.Error`` prints them (``spec.renewBefore: Invalid value: 2160h0m0s: ...``) and joined
like ``ErrorList.ToAggregate()`` (one error alone, several as ``[a, b]``).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from cryptography import x509

from . import cron
from . import dn
from . import duration as gd
from . import mail
from ...pki import EXT_KEY_USAGES, KEY_USAGES

Version = Tuple[int, int, int]

MIN_DURATION = gd.HOUR  # cmapi.MinimumCertificateDuration
MIN_RENEW_BEFORE = 5 * gd.MINUTE  # cmapi.MinimumRenewBefore
DEFAULT_DURATION = 2160 * gd.HOUR  # cmapi.DefaultCertificateDuration (90d)


class GoDuration(int):
    """An int of nanoseconds that prints like Go's Duration (a fmt.Stringer)."""

    def __str__(self) -> str:  # pragma: no cover - trivial
        return gd.to_string(int(self))


class FieldError:
    """One k8s ``field.Error``; ``str()`` is ``<field>: <ErrorBody>``."""

    TYPES = {
        "Required": ("Required value", "FieldValueRequired"),
        "Invalid": ("Invalid value", "FieldValueInvalid"),
        "Forbidden": ("Forbidden", "FieldValueForbidden"),
        "TooLong": ("Too long", "FieldValueTooLong"),
        "NotSupported": ("Unsupported value", "FieldValueNotSupported"),
        "Duplicate": ("Duplicate value", "FieldValueDuplicate"),
    }

    def __init__(self, kind: str, field: str, value: Any = None, detail: str = ""):
        self.kind = kind
        self.field = field
        self.value = value
        self.detail = detail

    @staticmethod
    def _go_value(value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, GoDuration):
            return gd.to_string(int(value))
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, _RawGo):
            return str(value)
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return repr(value)

    def body(self) -> str:
        label = self.TYPES[self.kind][0]
        if self.kind in ("Required", "Forbidden", "TooLong"):
            text = label
        else:
            text = f"{label}: {self._go_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def cause(self) -> dict:
        return {"reason": self.TYPES[self.kind][1], "message": self.body(), "field": self.field}

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def aggregate(errors: List[FieldError]) -> str:
    """utilerrors.Aggregate.Error(): duplicates dropped, several wrapped in brackets."""
    msgs: List[str] = []
    for e in errors:
        s = str(e)
        if s not in msgs:
            msgs.append(s)
    if len(msgs) == 1:
        return msgs[0]
    return "[" + ", ".join(msgs) + "]"


class DecodeError(Exception):
    """The webhook could not decode the object (e.g. a duration Go cannot parse)."""


# --------------------------------------------------------------------------- CRD schema

_USAGE_ENUM = list(KEY_USAGES) + list(EXT_KEY_USAGES)
_USAGE_ORDER = ["signing", "digital signature", "content commitment", "key encipherment", "key agreement",
                "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
                "server auth", "client auth", "code signing", "email protection", "s/mime",
                "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
                "microsoft sgc", "netscape sgc"]
_SIG_ALGS = ["SHA256WithRSA", "SHA384WithRSA", "SHA512WithRSA", "ECDSAWithSHA256", "ECDSAWithSHA384",
             "ECDSAWithSHA512", "PureEd25519"]


def _not_supported(field: str, value: Any, allowed: List[str]) -> FieldError:
    detail = "supported values: " + ", ".join('"' + a + '"' for a in allowed)
    return FieldError("NotSupported", field, value, detail)


def crd_schema_errors(plural: str, obj: dict) -> List[FieldError]:
    """The enum/required checks of cert-manager's shipped CRDs (run by the API server itself)."""
    errs: List[FieldError] = []
    spec = obj.get("spec")
    if plural == "certificates":
        if not isinstance(spec, dict):
            return errs
        if "issuerRef" not in spec:
            errs.append(FieldError("Required", "spec.issuerRef", None, ""))
        elif isinstance(spec.get("issuerRef"), dict) and "name" not in spec["issuerRef"]:
            errs.append(FieldError("Required", "spec.issuerRef.name", None, ""))
        if "secretName" not in spec:
            errs.append(FieldError("Required", "spec.secretName", None, ""))
        pk = spec.get("privateKey") or {}
        if isinstance(pk, dict):
            for key, allowed in (("algorithm", ["RSA", "ECDSA", "Ed25519"]), ("encoding", ["PKCS1", "PKCS8"]),
                                 ("rotationPolicy", ["Never", "Always"])):
                if key in pk and pk[key] not in allowed:
                    errs.append(_not_supported(f"spec.privateKey.{key}", pk[key], allowed))
        for i, u in enumerate(spec.get("usages") or []):
            if u not in _USAGE_ENUM:
                errs.append(_not_supported(f"spec.usages[{i}]", u, _USAGE_ORDER))
        if "signatureAlgorithm" in spec and spec["signatureAlgorithm"] not in _SIG_ALGS:
            errs.append(_not_supported("spec.signatureAlgorithm", spec["signatureAlgorithm"], _SIG_ALGS))
        errs += _crd_nested_errors(spec)
    return errs


_WINDOW_DURATION = r"^([0-9]+(\.[0-9]+)?(s|m|h))+$"


def _crd_nested_errors(spec: dict) -> List[FieldError]:
    """additionalOutputFormats, keystores and renewal as the v1.21.1 CRD (deploy/crds) constrains them."""
    errs: List[FieldError] = []
    for i, item in enumerate(spec.get("additionalOutputFormats") or []):
        if isinstance(item, dict):
            if "type" not in item:
                errs.append(FieldError("Required", f"spec.additionalOutputFormats[{i}].type", None, ""))
            elif item["type"] not in ("DER", "CombinedPEM"):
                errs.append(_not_supported(f"spec.additionalOutputFormats[{i}].type", item["type"],
                                           ["DER", "CombinedPEM"]))
    stores = spec.get("keystores") if isinstance(spec.get("keystores"), dict) else {}
    for key in ("jks", "pkcs12"):
        store = stores.get(key)
        if not isinstance(store, dict):
            continue
        if "create" not in store:
            errs.append(FieldError("Required", f"spec.keystores.{key}.create", None, ""))
        if isinstance(store.get("passwordSecretRef"), dict) and "name" not in store["passwordSecretRef"]:
            errs.append(FieldError("Required", f"spec.keystores.{key}.passwordSecretRef.name", None, ""))
        profiles = ["LegacyRC2", "LegacyDES", "Modern2023", "Modern2026"]
        if key == "pkcs12" and "profile" in store and store["profile"] not in profiles:
            errs.append(_not_supported("spec.keystores.pkcs12.profile", store["profile"], profiles))
    renewal = spec.get("renewal") if isinstance(spec.get("renewal"), dict) else {}
    if "policy" in renewal and renewal["policy"] not in ("RenewBefore", "Disabled"):
        errs.append(_not_supported("spec.renewal.policy", renewal["policy"], ["RenewBefore", "Disabled"]))
    for i, window in enumerate(renewal.get("windows") or []):
        if not isinstance(window, dict):
            continue
        path = f"spec.renewal.windows[{i}]"
        for key in ("cron", "windowDuration"):
            if key not in window:
                errs.append(FieldError("Required", f"{path}.{key}", None, ""))
        wd = window.get("windowDuration")
        if isinstance(wd, str) and not re.match(_WINDOW_DURATION, wd):
            errs.append(FieldError("Invalid", f"{path}.windowDuration", wd,
                                   f"{path}.windowDuration in body should match '{_WINDOW_DURATION}'"))
    return errs


# --------------------------------------------------------------------------- webhook: Certificate

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _dns_subdomain_errors(value: str) -> List[str]:
    out = []
    if len(value) > 253:
        out.append("must be no more than 253 characters")
    if not _DNS1123_SUBDOMAIN.match(value):
        out.append("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    return out


_QNAME_REGEX_ERROR = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                      "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
                      "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")


def _qualified_name_errors(key: str) -> List[str]:
    """apimachinery validation.IsQualifiedName: an optional DNS-subdomain prefix, a name of 1-63 characters."""
    parts = key.split("/")
    out: List[str] = []
    if len(parts) > 2:
        return ["a qualified name " + _QNAME_REGEX_ERROR + " with an optional DNS subdomain prefix and '/' (e.g. "
                "'example.com/MyName')"]
    name = parts[-1]
    if len(parts) == 2:
        if not parts[0]:
            out.append("prefix part must be non-empty")
        else:
            out += ["prefix part " + m for m in _dns_subdomain_errors(parts[0])]
    if not name:
        out.append("name part must be non-empty")
    elif len(name) > 63:
        out.append("name part must be no more than 63 characters")
    if not _QUALIFIED_NAME.match(name):
        out.append("name part " + _QNAME_REGEX_ERROR)
    return out


def _duration(spec: dict, key: str) -> Optional[int]:
    raw = spec.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise DecodeError(f"json: cannot unmarshal {type(raw).__name__} into Go struct field "
                          f"CertificateSpec.spec.{key} of type string")
    try:
        return gd.parse(raw)
    except gd.DurationError as exc:
        raise DecodeError(str(exc)) from None


def _percentage_renew_before(duration: int, pct: int, version: Version) -> int:
    """The complement duration*(100-pct)/100 every released webhook checks (not the renewBefore the controller
    uses). v1.21 computes it in float64; v1.20 and older in int64, which wraps for long durations
    (cert-manager commit 94c413194, "validation ... was failing for long durations due to an int overflow")."""
    if version < (1, 21, 0):
        product = (duration * (100 - pct)) & ((1 << 64) - 1)
        if product >= 1 << 63:
            product -= 1 << 64
        quotient = abs(product) // 100  # Go's integer division truncates toward zero
        return quotient if product >= 0 else -quotient
    return int(float(duration) * float(100 - pct) / 100)


def validate_duration(spec: dict, version: Version = (1, 21, 1)) -> List[FieldError]:
    """ValidateDuration (validation/certificate.go), including its renewBeforePercentage complement."""
    el: List[FieldError] = []
    dur_ns = _duration(spec, "duration")
    rb_ns = _duration(spec, "renewBefore")
    pct = spec.get("renewBeforePercentage")
    duration = DEFAULT_DURATION if dur_ns is None else dur_ns
    if duration < MIN_DURATION:
        el.append(FieldError("Invalid", "spec.duration", GoDuration(duration),
                             f"certificate duration must be greater than {gd.to_string(MIN_DURATION)}"))
    if rb_ns is not None and pct is not None:
        el.append(FieldError("Invalid", "spec.renewBefore", GoDuration(rb_ns),
                             "renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set"))
        el.append(FieldError("Invalid", "spec.renewBeforePercentage", pct,
                             "renewBefore and renewBeforePercentage are mutually exclusive and cannot both be set"))
    if rb_ns is not None and rb_ns < MIN_RENEW_BEFORE:
        el.append(FieldError("Invalid", "spec.renewBefore", GoDuration(rb_ns),
                             f"certificate renewBefore must be greater than {gd.to_string(MIN_RENEW_BEFORE)}"))
    if rb_ns is not None and rb_ns >= duration:
        el.append(FieldError("Invalid", "spec.renewBefore", GoDuration(rb_ns),
                             f"certificate duration {gd.to_string(duration)} must be greater than renewBefore "
                             f"{gd.to_string(rb_ns)}"))
    if pct is not None:
        rb = _percentage_renew_before(duration, int(pct), version)
        if rb < MIN_RENEW_BEFORE:
            el.append(FieldError("Invalid", "spec.renewBeforePercentage", pct,
                                 "certificate renewBeforePercentage must result in a renewBefore greater than "
                                 f"{gd.to_string(MIN_RENEW_BEFORE)}"))
        if rb >= duration:
            el.append(FieldError("Invalid", "spec.renewBeforePercentage", pct,
                                 "certificate renewBeforePercentage must result in a renewBefore less than duration"))
    return el


def _issuer_ref_errors(ref: dict) -> List[FieldError]:
    el = []
    if not ref.get("name"):
        el.append(FieldError("Required", "spec.issuerRef.name", None, "must be specified"))
    group = ref.get("group") or ""
    kind = ref.get("kind") or ""
    if group in ("", "cert-manager.io") and kind not in ("", "Issuer", "ClusterIssuer"):
        msg = "must be one of Issuer or ClusterIssuer"
        if group == "":
            msg += " (did you forget to set spec.issuerRef.kind.group?)"
        el.append(FieldError("Invalid", "spec.issuerRef.kind", kind, msg))
    return el


def _literal_subject_cn(literal: str, cn: str, el: List[FieldError]) -> str:
    """pki.UnmarshalSubjectStringToRDNSequence (go-ldap ParseDN, see certmanager_dn) and the webhook's two loops:
    the CN (the first one of the string wins), then one error per attribute type without an OID."""
    try:
        attributes = dn.subject_attributes(literal)
    except dn.DNError as exc:
        el.append(FieldError("Invalid", "spec.literalSubject", literal, str(exc)))
        return cn
    for oid, value in attributes:
        if oid == dn.COMMON_NAME:
            cn = value
    for oid, value in attributes:
        if oid is None:
            el.append(FieldError("Invalid", "spec.literalSubject", literal,
                                 f"Literal subject contains unrecognized key with value [{value}]"))
    return cn


# Webhook feature gates and the release whose default turned them on (internal/webhook/feature/features.go).
GATE_DEFAULTS = {"LiteralCertificateSubject": (1, 15, 0), "NameConstraints": (1, 17, 0), "OtherNames": (1, 20, 0),
                 "AdditionalCertificateOutputFormats": (1, 15, 0)}


def feature_gates(version: Version, explicit: Optional[Dict[str, bool]] = None) -> Dict[str, bool]:
    """The gates a webhook of ``version`` runs with: its defaults, overridden by ``--feature-gates``."""
    gates = {name: version >= since for name, since in GATE_DEFAULTS.items()}
    gates.update(explicit or {})
    return gates


def parse_feature_gates(args: List[str]) -> Dict[str, bool]:
    """``--feature-gates=A=true,B=false`` from a container's args (the flag may repeat; the last one wins)."""
    gates: Dict[str, bool] = {}
    for arg in args or []:
        if arg.startswith("--feature-gates="):
            gates = {}
            for part in arg.split("=", 1)[1].split(","):
                name, sep, value = part.partition("=")
                if name.strip() and sep:
                    gates[name.strip()] = value.strip().lower() == "true"
    return gates


def _go_strings(values: Optional[list]) -> str:
    if values is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
                                   for v in values) + "}"


def _go_subject(subject: dict) -> "_RawGo":
    """``%#v`` of the internal X509Subject, which apimachinery prints for a struct BadValue."""
    keys = (("Organizations", "organizations"), ("Countries", "countries"),
            ("OrganizationalUnits", "organizationalUnits"), ("Localities", "localities"),
            ("Provinces", "provinces"), ("StreetAddresses", "streetAddresses"), ("PostalCodes", "postalCodes"))
    parts = [f"{go}:{_go_strings(subject.get(key))}" for go, key in keys]
    serial = str(subject.get("serialNumber") or "").replace("\\", "\\\\").replace('"', '\\"')
    parts.append(f'SerialNumber:"{serial}"')
    return _RawGo("certmanager.X509Subject{" + ", ".join(parts) + "}")


def _go_name_constraints(nc: dict) -> "_RawGo":
    """``%#v`` of the internal NameConstraints; a set pointer prints an address nobody can predict (0x…)."""
    def ptr(value):
        return "(*certmanager.NameConstraintItem)(" + ("nil" if value is None else "0x\u2026") + ")"
    critical = "true" if nc.get("critical") else "false"
    return _RawGo(f"certmanager.NameConstraints{{Critical:{critical}, Permitted:{ptr(nc.get('permitted'))}, "
                  f"Excluded:{ptr(nc.get('excluded'))}}}")


def _annotation_size_errors(annotations: dict) -> List[FieldError]:
    """apivalidation.ValidateAnnotations: keys and values together at most TotalAnnotationSizeLimitB (256 KiB)."""
    limit = 256 * (1 << 10)
    size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items())
    if size > limit:
        return [FieldError("TooLong", "spec.secretTemplate.annotations", "", f"may not be more than {limit} bytes")]
    return []


def validate_additional_output_formats(spec: dict) -> List[FieldError]:
    """validateAdditionalOutputFormats: each type once (field.Duplicate, keyed on "type")."""
    seen, el = set(), []
    for item in spec.get("additionalOutputFormats") or []:
        kind = item.get("type", "") if isinstance(item, dict) else ""
        if kind in seen:
            el.append(FieldError("Duplicate", "spec.additionalOutputFormats[type]", kind, ""))
            continue
        seen.add(kind)
    return el


def _keystore_errors(stores: dict) -> List[FieldError]:
    """validateKeystores (v1.17+), with upstream's wording."""
    el = []
    for key, label in (("jks", "JKS"), ("pkcs12", "PKCS#12")):
        store = stores.get(key)
        if not isinstance(store, dict):
            continue
        password = store.get("password")
        ref = (store.get("passwordSecretRef") or {}).get("name") or ""
        if password is not None and ref:
            el.append(FieldError("Forbidden", f"spec.keystores.{key}", None, "exactly one of passwordSecretRef and "
                                 f"password must be provided for {label} keystores; cannot set both"))
        if password is None and not ref:
            el.append(FieldError("Forbidden", f"spec.keystores.{key}", None, "must set exactly one of "
                                 f"passwordSecretRef and password must for {label} keystores"))
        if password is not None and len(password) == 0:
            el.append(FieldError("Forbidden", f"spec.keystores.{key}.password", None,
                                 f"literal password cannot be empty if set on {label} keystores"))
    return el


def _renewal_errors(renewal: dict) -> List[FieldError]:
    """validateCertificateRenewal / validateCertificateRenewalWindows (v1.21+)."""
    el: List[FieldError] = []
    policy = renewal.get("policy") or ""
    windows = renewal.get("windows") or []
    if policy == "Disabled":
        if windows:
            el.append(FieldError("Forbidden", "spec.renewal.windows", None,
                                 "windows cannot be set when `renewal.policy` is set to Disabled"))
        return el
    if policy != "RenewBefore":
        el.append(_not_supported("spec.renewal.policy", policy, ["Disabled", "RenewBefore"]))
    for i, window in enumerate(windows):
        window = window if isinstance(window, dict) else {}
        path = f"spec.renewal.windows[{i}]"
        if window.get("windowDuration") is None:
            el.append(FieldError("Required", f"{path}.windowDuration", None,
                                 "windowDuration must be specified and should be greater than 0"))
        tz = window.get("timezone") or ""
        if tz and not cron.load_location(tz):
            el.append(FieldError("Invalid", f"{path}.timezone", tz,
                                 "invalid value for timezone. timezone must be IANA compliant"))
        spec_text = window.get("cron") or ""
        problem = cron.cron_parse_error(spec_text, tz)
        if problem:
            el.append(FieldError("Invalid", f"{path}.cron", spec_text,
                                 f"invalid cron syntax: {problem}. cron needs to follow: cron.Minute | cron.Hour | "
                                 "cron.Dom | cron.Month | cron.Dow"))
    return el


def validate_certificate_spec(spec: dict, version: Version, gates: Optional[Dict[str, bool]] = None
                              ) -> List[FieldError]:
    """ValidateCertificateSpec of the given release, with its webhook's feature gates (certificate.go per tag)."""
    gates = feature_gates(version, gates)
    el: List[FieldError] = []
    secret_name = spec.get("secretName") or ""
    if not secret_name:
        el.append(FieldError("Required", "spec.secretName", None, "must be specified"))
    else:
        for msg in _dns_subdomain_errors(secret_name):
            el.append(FieldError("Invalid", "spec.secretName", secret_name, msg))
    el += _issuer_ref_errors(spec.get("issuerRef") or {})

    common_name = spec.get("commonName") or ""
    literal = spec.get("literalSubject") or ""
    subject = spec.get("subject") or {}
    if literal:
        if not gates["LiteralCertificateSubject"]:
            el.append(FieldError("Forbidden", "spec.literalSubject", None,
                                 "Feature gate LiteralCertificateSubject must be enabled on both webhook and "
                                 "controller to use the alpha `literalSubject` field"))
        if common_name:
            el.append(FieldError("Invalid", "spec.commonName", common_name,
                                 "When providing a `LiteralSubject` no `commonName` may be provided."))
        subject_keys = ("organizations", "countries", "organizationalUnits", "localities", "provinces",
                        "streetAddresses", "postalCodes", "serialNumber")
        if any(subject.get(k) for k in subject_keys):
            el.append(FieldError("Invalid", "spec.subject", _go_subject(subject),
                                 "When providing a `LiteralSubject` no `Subject` properties may be provided."))
        common_name = _literal_subject_cn(literal, common_name, el)

    if not (common_name or spec.get("dnsNames") or spec.get("uris") or spec.get("emailAddresses")
            or spec.get("ipAddresses") or spec.get("otherNames")):
        sans = ("emailSANs, ipAddresses, otherNames, or uriSANs" if version >= (1, 20, 0)
                else "uriSANs, ipAddresses, emailSANs or otherNames")
        el.append(FieldError("Invalid", "spec", "", "at least one of commonName (from the commonName field or from "
                                                    f"a literalSubject), dnsNames, {sans} must be set"))
    if len(common_name.encode("utf-8")) > 64:
        detail = "may not be more than 64 bytes" if version >= (1, 17, 0) else "must have at most 64 bytes"
        el.append(FieldError("TooLong", "spec.commonName", common_name, detail))
    for i, ip in enumerate(spec.get("ipAddresses") or []):
        if mail.go_parse_ip(str(ip)) is None:  # net.ParseIP: no zones
            el.append(FieldError("Invalid", f"spec.ipAddresses[{i}]", ip, "invalid IP address"))
    for i, address in enumerate(spec.get("emailAddresses") or []):
        try:
            _name, parsed = mail.parse_address(str(address))
        except mail.MailError as exc:
            el.append(FieldError("Invalid", f"spec.emailAddresses[{i}]", address, f"invalid email address: {exc}"))
            continue
        if parsed != address:
            el.append(FieldError("Invalid", f"spec.emailAddresses[{i}]", address, "invalid email address: make sure "
                                 "the supplied value only contains the email address itself"))
    if spec.get("otherNames"):
        if not gates["OtherNames"]:
            el.append(FieldError("Forbidden", "spec.OtherNames", None,
                                 "Feature gate OtherNames must be enabled on both webhook and controller to use the "
                                 "alpha `otherNames` field"))
        else:
            oid_msg = "invalid oid syntax" if version >= (1, 20, 0) else "oid syntax invalid"
            for i, other in enumerate(spec["otherNames"]):
                other = other if isinstance(other, dict) else {}
                oid = other.get("oid") or ""
                if not oid:
                    el.append(FieldError("Required", f"spec.otherNames[{i}].oid", None, "must be specified"))
                if dn.parse_oid(oid) is None:
                    el.append(FieldError("Invalid", f"spec.otherNames[{i}].oid", oid, oid_msg))
                if not other.get("utf8Value"):
                    el.append(FieldError("Required", f"spec.otherNames[{i}].utf8Value", None,
                                         "must be set to a valid non-empty UTF8 string"))

    pk = spec.get("privateKey")
    if isinstance(pk, dict):
        algorithm = pk.get("algorithm") or ""
        size = pk.get("size") or 0
        if algorithm in ("", "RSA"):
            if size > 0 and (size < 2048 or size > 8192):
                joiner = "and" if version >= (1, 17, 0) else "&"
                el.append(FieldError("Invalid", "spec.privateKey.size", size,
                                     f"must be between 2048 {joiner} 8192 for rsa keyAlgorithm"))
        elif algorithm == "ECDSA":
            if size > 0 and size not in (256, 384, 521):
                el.append(_not_supported("spec.privateKey.size", size, ["256", "384", "521"]))
        elif algorithm != "Ed25519":
            el.append(FieldError("Invalid", "spec.privateKey.algorithm", algorithm,
                                 "must be either empty or one of rsa, ecdsa or ed25519"))

    sig = spec.get("signatureAlgorithm") or ""
    if sig and version >= (1, 18, 0):  # keyAlgToAllowedSigAlgs is new in v1.18.0
        key_alg = ((pk or {}).get("algorithm") if isinstance(pk, dict) else "") or "RSA"
        allowed = {"RSA": ["SHA256WithRSA", "SHA384WithRSA", "SHA512WithRSA"],
                   "ECDSA": ["ECDSAWithSHA256", "ECDSAWithSHA384", "ECDSAWithSHA512"],
                   "Ed25519": ["PureEd25519"]}.get(key_alg)
        if allowed and sig not in allowed:
            el.append(FieldError("Invalid", "spec.signatureAlgorithm", sig,
                                 f"for key algorithm {key_alg} the allowed signature algorithms are "
                                 f"[{' '.join(allowed)}]"))

    if spec.get("duration") is not None or spec.get("renewBefore") is not None:
        el += validate_duration(spec, version)
    # Upstream only calls ValidateDuration when duration or renewBefore is set: a lone percentage passes.
    for i, u in enumerate(spec.get("usages") or []):
        if u not in KEY_USAGES and u not in EXT_KEY_USAGES:
            el.append(FieldError("Invalid", f"spec.usages[{i}]", u, "unknown keyusage"))
    rhl = spec.get("revisionHistoryLimit")
    if rhl is not None and rhl < 1:
        el.append(FieldError("Invalid", "spec.revisionHistoryLimit", rhl, "must not be less than 1"))

    tmpl = spec.get("secretTemplate") or {}
    for key in sorted((tmpl.get("labels") or {})):
        for msg in _qualified_name_errors(key):
            el.append(FieldError("Invalid", "spec.secretTemplate.labels", key, msg))
        value = (tmpl.get("labels") or {})[key]
        if len(str(value)) > 63 or not _LABEL_VALUE.match(str(value)):
            el.append(FieldError("Invalid", "spec.secretTemplate.labels", value,
                                 "a valid label must be an empty string or consist of alphanumeric characters, "
                                 "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                                 "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                                 "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"))
    annotations = tmpl.get("annotations") or {}
    for key in sorted(annotations):
        if key.startswith("cert-manager.io/") and key != "cert-manager.io/allow-direct-injection":
            el.append(FieldError("Invalid", "spec.secretTemplate.annotations", key,
                                 "cert-manager.io/* annotations are not allowed"))
        for msg in _qualified_name_errors(key.lower()):
            el.append(FieldError("Invalid", "spec.secretTemplate.annotations", key, msg))
    el += _annotation_size_errors(annotations)

    nc = spec.get("nameConstraints")
    if nc is not None:
        if not gates["NameConstraints"]:
            el.append(FieldError("Forbidden", "spec.nameConstraints", None, "feature gate NameConstraints must be "
                                                                           "enabled"))
        else:
            shown = _go_name_constraints(nc)
            if not spec.get("isCA"):
                el.append(FieldError("Invalid", "spec.nameConstraints", shown,
                                     "isCa should be true when nameConstraints is set"))
            if nc.get("permitted") is None and nc.get("excluded") is None:
                el.append(FieldError("Invalid", "spec.nameConstraints", shown,
                                     "either permitted or excluded must be set"))

    if version < (1, 18, 0) and not gates["AdditionalCertificateOutputFormats"]:
        if spec.get("additionalOutputFormats"):
            el.append(FieldError("Forbidden", "spec.additionalOutputFormats", None,
                                 "feature gate AdditionalCertificateOutputFormats must be enabled"))
    else:
        el += validate_additional_output_formats(spec)
    if isinstance(spec.get("keystores"), dict) and version >= (1, 17, 0):
        el += _keystore_errors(spec["keystores"])
    if isinstance(spec.get("renewal"), dict) and version >= (1, 21, 0):
        el += _renewal_errors(spec["renewal"])
    return el


ROTATION_POLICY_WARNING = ("spec.privateKey.rotationPolicy: In cert-manager >= v1.18.0, the default value "
                           "changed from `Never` to `Always`.")


def certificate_warnings(spec: dict, version: Version) -> List[str]:
    """v1.18/v1.19 warn when rotationPolicy is unset (validation/warnings.go; removed in v1.20)."""
    if (1, 18, 0) <= version < (1, 20, 0):
        pk = spec.get("privateKey")
        if not isinstance(pk, dict) or not pk.get("rotationPolicy"):
            return [ROTATION_POLICY_WARNING]
    return []


# --------------------------------------------------------------------------- webhook: Issuer/ClusterIssuer


def validate_issuer_spec(spec: dict) -> List[FieldError]:
    """ValidateIssuerConfig (validation/issuer.go) for the issuer types this simulation knows."""
    el: List[FieldError] = []
    count = 0
    for key in ("acme", "ca", "selfSigned", "vault", "venafi"):
        if spec.get(key) is None:
            continue
        if count > 0:
            el.append(FieldError("Forbidden", f"spec.{key}", None, "may not specify more than one issuer type"))
            continue
        count += 1
        cfg = spec.get(key) or {}
        if key == "ca" and not cfg.get("secretName"):
            el.append(FieldError("Required", "spec.ca.secretName", None, ""))
        elif key == "acme":
            if not (cfg.get("privateKeySecretRef") or {}).get("name"):
                el.append(FieldError("Required", "spec.acme.privateKeySecretRef.name", None,
                                     "private key secret name is a required field"))
            if not cfg.get("server"):
                el.append(FieldError("Required", "spec.acme.server", None, "acme server URL is a required field"))
        elif key == "vault":
            if not cfg.get("server"):
                el.append(FieldError("Required", "spec.vault.server", None, ""))
            if not cfg.get("path"):
                el.append(FieldError("Required", "spec.vault.path", None, ""))
            auth = cfg.get("auth") or {}
            if not any(auth.get(k) for k in ("tokenSecretRef", "appRole", "clientCertificate", "kubernetes", "aws")):
                el.append(FieldError("Required", "spec.vault.auth", None, "please supply one of: appRole, kubernetes, "
                                                                          "tokenSecretRef, clientCertificate, aws"))
    if count == 0:
        el.append(FieldError("Required", "spec", None, "at least one issuer must be configured"))
    return el


# --------------------------------------------------------------------------- webhook: CertificateRequest


def _go_bytes(data: bytes) -> str:
    return "[]byte{" + ", ".join("0x%x" % b for b in data) + "}"


def validate_certificate_request(obj: dict, old: Optional[dict]) -> List[FieldError]:
    """ValidateCertificateRequest / ValidateUpdateCertificateRequest (internal/apis/certmanager/validation)."""
    import base64

    spec = obj.get("spec") or {}
    if old is not None:
        if (old.get("spec") or {}) != spec:
            return [FieldError("Forbidden", "spec", None, "cannot change spec after creation")]
        return []
    el = _issuer_ref_errors(spec.get("issuerRef") or {})
    raw = spec.get("request") or ""
    try:
        request = base64.b64decode(raw) if raw else b""
    except Exception:  # noqa: BLE001
        raise DecodeError("illegal base64 data at input byte 0") from None
    if not request:
        el.append(FieldError("Required", "spec.request", None, "must be specified"))
    else:
        try:
            x509.load_pem_x509_csr(request)
        except ValueError:
            el.append(FieldError("Invalid", "spec.request", _RawGo(_go_bytes(request)),
                                 "failed to decode csr: error decoding certificate request PEM block"))
    for i, u in enumerate(spec.get("usages") or []):
        if u not in KEY_USAGES and u not in EXT_KEY_USAGES:
            el.append(FieldError("Invalid", f"spec.usages[{i}]", u, "unknown keyusage"))
    return el


class _RawGo(str):
    """A value already printed the Go way."""
