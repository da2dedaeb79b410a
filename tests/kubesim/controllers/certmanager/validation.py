"""cert-manager's admission: the CRD schema checks the API server runs, then the webhook.

Rules and texts: cert-manager internal/apis/certmanager/validation (certificate.go,
issuer.go, warnings.go). Error strings are built the way k8s.io/apimachinery's
``field.Error`` prints them (``spec.renewBefore: Invalid value: 2160h0m0s: ...``) and joined
like ``ErrorList.ToAggregate()`` (one error alone, several as ``[a, b]``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, List, Optional, Tuple

from cryptography import x509

from . import duration as gd
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


def _qualified_name_errors(key: str) -> List[str]:
    name = key
    out = []
    if "/" in key:
        prefix, name = key.split("/", 1)
        if not prefix:
            out.append("prefix part must be non-empty")
        else:
            out += ["prefix part " + m for m in _dns_subdomain_errors(prefix)]
    if not name:
        out.append("name part must be non-empty")
    elif len(name) > 63:
        out.append("name part must be no more than 63 characters")
    elif not _QUALIFIED_NAME.match(name):
        out.append("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                   "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                   "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
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


def validate_duration(spec: dict) -> List[FieldError]:
    """ValidateDuration (validation/certificate.go), including its renewBeforePercentage complement bug."""
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
        # Upstream bug kept on purpose: the webhook checks the complement duration*(100-pct)/100.
        rb = duration * (100 - int(pct)) // 100
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


def _literal_subject_cn(literal: str, el: List[FieldError]) -> str:
    try:
        name = x509.Name.from_rfc4514_string(literal)
    except Exception as exc:  # noqa: BLE001
        el.append(FieldError("Invalid", "spec.literalSubject", literal, str(exc)))
        return ""
    cn = ""
    for attr in name:
        if attr.oid == x509.NameOID.COMMON_NAME:
            cn = attr.value
    return cn


def validate_certificate_spec(spec: dict, version: Version) -> List[FieldError]:
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
        if version < (1, 16, 0):
            el.append(FieldError("Forbidden", "spec.literalSubject", None,
                                 "Feature gate LiteralCertificateSubject must be enabled on both webhook and "
                                 "controller to use the alpha `literalSubject` field"))
        if common_name:
            el.append(FieldError("Invalid", "spec.commonName", common_name,
                                 "When providing a `LiteralSubject` no `commonName` may be provided."))
        subject_keys = ("organizations", "countries", "organizationalUnits", "localities", "provinces",
                        "streetAddresses", "postalCodes", "serialNumber")
        if any(subject.get(k) for k in subject_keys):
            el.append(FieldError("Invalid", "spec.subject", subject,
                                 "When providing a `LiteralSubject` no `Subject` properties may be provided."))
        common_name = _literal_subject_cn(literal, el) or common_name

    if not (common_name or spec.get("dnsNames") or spec.get("uris") or spec.get("emailAddresses")
            or spec.get("ipAddresses") or spec.get("otherNames")):
        el.append(FieldError("Invalid", "spec", "",
                             "at least one of commonName (from the commonName field or from a literalSubject), "
                             "dnsNames, emailSANs, ipAddresses, otherNames, or uriSANs must be set"))
    if len(common_name.encode("utf-8")) > 64:
        detail = "may not be more than 64 bytes" if version >= (1, 17, 0) else "must have at most 64 bytes"
        el.append(FieldError("TooLong", "spec.commonName", common_name, detail))
    for i, ip in enumerate(spec.get("ipAddresses") or []):
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            el.append(FieldError("Invalid", f"spec.ipAddresses[{i}]", ip, "invalid IP address"))
    for i, mail in enumerate(spec.get("emailAddresses") or []):
        if not re.match(r"^[^@\s<>]+@[^@\s<>]+$", str(mail)):
            el.append(FieldError("Invalid", f"spec.emailAddresses[{i}]", mail,
                                 "invalid email address: mail: missing '@' or angle-addr"))
    if spec.get("otherNames"):
        el.append(FieldError("Forbidden", "spec.OtherNames", None,
                             "Feature gate OtherNames must be enabled on both webhook and controller to use the "
                             "alpha `otherNames` field"))

    pk = spec.get("privateKey")
    if isinstance(pk, dict):
        algorithm = pk.get("algorithm") or ""
        size = pk.get("size") or 0
        if algorithm in ("", "RSA"):
            if size > 0 and (size < 2048 or size > 8192):
                el.append(FieldError("Invalid", "spec.privateKey.size", size,
                                     "must be between 2048 and 8192 for rsa keyAlgorithm"))
        elif algorithm == "ECDSA":
            if size > 0 and size not in (256, 384, 521):
                el.append(_not_supported("spec.privateKey.size", size, ["256", "384", "521"]))
        elif algorithm != "Ed25519":
            el.append(FieldError("Invalid", "spec.privateKey.algorithm", algorithm,
                                 "must be either empty or one of rsa, ecdsa or ed25519"))

    sig = spec.get("signatureAlgorithm") or ""
    if sig:
        key_alg = ((pk or {}).get("algorithm") if isinstance(pk, dict) else "") or "RSA"
        allowed = {"RSA": ["SHA256WithRSA", "SHA384WithRSA", "SHA512WithRSA"],
                   "ECDSA": ["ECDSAWithSHA256", "ECDSAWithSHA384", "ECDSAWithSHA512"],
                   "Ed25519": ["PureEd25519"]}.get(key_alg)
        if allowed and sig not in allowed:
            el.append(FieldError("Invalid", "spec.signatureAlgorithm", sig,
                                 f"for key algorithm {key_alg} the allowed signature algorithms are "
                                 f"[{' '.join(allowed)}]"))

    if spec.get("duration") is not None or spec.get("renewBefore") is not None:
        el += validate_duration(spec)
    elif spec.get("renewBeforePercentage") is not None:
        # Upstream only calls ValidateDuration when duration or renewBefore is set.
        pass
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
    for key in sorted((tmpl.get("annotations") or {})):
        if key.startswith("cert-manager.io/") and key != "cert-manager.io/allow-direct-injection":
            el.append(FieldError("Invalid", "spec.secretTemplate.annotations", key,
                                 "cert-manager.io/* annotations are not allowed"))
        for msg in _qualified_name_errors(key.lower()):
            el.append(FieldError("Invalid", "spec.secretTemplate.annotations", key, msg))

    nc = spec.get("nameConstraints")
    if nc is not None:
        if not spec.get("isCA"):
            el.append(FieldError("Invalid", "spec.nameConstraints", nc,
                                 "isCa should be true when nameConstraints is set"))
        if not nc.get("permitted") and not nc.get("excluded"):
            el.append(FieldError("Invalid", "spec.nameConstraints", nc,
                                 "either permitted or excluded must be set"))
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
