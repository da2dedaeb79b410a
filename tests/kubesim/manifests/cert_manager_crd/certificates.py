"""Certificate and CertificateRequest (pkg/apis/certmanager/v1/types_certificate.go,
types_certificaterequest.go) as each release's controller-gen output has them."""

from __future__ import annotations

from .builders import array, boolean, enum, integer, obj, root, string, string_map, strings, time
from .meta import conditions, issuer_ref, secret_key_selector, usages
from .versions import release


def _subject(atomic: bool) -> dict:
    """X509Subject: every field is ``[]string`` with omitempty, plus ``SerialNumber string``."""
    lists = ("countries", "localities", "organizationalUnits", "organizations", "postalCodes", "provinces",
             "streetAddresses")
    props = {k: strings(atomic) for k in lists}
    props["serialNumber"] = string()
    return obj(props)


def _name_constraint_item(atomic: bool) -> dict:
    return obj({k: strings(atomic) for k in ("dnsDomains", "emailAddresses", "ipRanges", "uriDomains")})


def _keystores(rel) -> dict:
    """CertificateKeystores. ``Password`` (literal) arrived in v1.18 and with it ``PasswordSecretRef``
    lost its ``required`` (one of the two must be set, checked by the webhook)."""
    new = rel >= (1, 18, 0)
    profiles = ["LegacyRC2", "LegacyDES", "Modern2023"] + (["Modern2026"] if rel >= (1, 21, 0) else [])
    jks = {"alias": string(), "create": boolean()}
    p12 = {"create": boolean()}
    if new:
        jks["password"] = string()
        p12["password"] = string()
    jks["passwordSecretRef"] = secret_key_selector()
    p12["passwordSecretRef"] = secret_key_selector()
    p12["profile"] = enum(*profiles)
    req = ["create"] if new else ["create", "passwordSecretRef"]
    return obj({"jks": obj(jks, required=req), "pkcs12": obj(p12, required=req)})


def _renewal(atomic: bool) -> dict:
    """CertificateRenewal (v1.21): policy enum and cron maintenance windows."""
    window = obj({"cron": string(minLength=1), "timezone": string(minLength=1),
                  "windowDuration": string(pattern=r"^([0-9]+(\.[0-9]+)?(s|m|h))+$")},
                 required=["cron", "windowDuration"])
    return obj({"policy": enum("RenewBefore", "Disabled"), "windows": array(window, atomic)})


def certificate(version: str) -> dict:
    rel = release(version)
    a = rel >= (1, 19, 0)
    spec = {
        "additionalOutputFormats": array(obj({"type": enum("DER", "CombinedPEM")}, required=["type"]), a),
        "commonName": string(),
        "dnsNames": strings(a),
        "duration": string(),
        "emailAddresses": strings(a),
        "encodeUsagesInRequest": boolean(),
        "ipAddresses": strings(a),
        "isCA": boolean(),
        "issuerRef": issuer_ref(),
        "keystores": _keystores(rel),
        "literalSubject": string(),
        "nameConstraints": obj({"critical": boolean(), "excluded": _name_constraint_item(a),
                                "permitted": _name_constraint_item(a)}),
        "otherNames": array(obj({"oid": string(), "utf8Value": string()}), a),
        "privateKey": obj({"algorithm": enum("RSA", "ECDSA", "Ed25519"), "encoding": enum("PKCS1", "PKCS8"),
                           "rotationPolicy": enum("Never", "Always"), "size": integer()}),
        "renewBefore": string(),
        "renewBeforePercentage": integer("int32"),
    }
    if rel >= (1, 21, 0):
        spec["renewal"] = _renewal(a)
    spec.update({
        "revisionHistoryLimit": integer("int32"),
        "secretName": string(),
        "secretTemplate": obj({"annotations": string_map(), "labels": string_map()}),
    })
    if rel >= (1, 18, 0):
        spec["signatureAlgorithm"] = enum("SHA256WithRSA", "SHA384WithRSA", "SHA512WithRSA", "ECDSAWithSHA256",
                                          "ECDSAWithSHA384", "ECDSAWithSHA512", "PureEd25519")
    spec.update({"subject": _subject(a), "uris": strings(a), "usages": usages(a)})
    status = {}
    if rel >= (1, 21, 0):
        window = obj({"end": time(), "start": time()}, required=["end", "start"])
        status["acme"] = obj({"ari": obj({"explanationURL": string(), "lastChecked": time(), "lastError": string(),
                                          "nextCheck": time(), "suggestedWindow": window})})
    status.update({"conditions": conditions(True), "failedIssuanceAttempts": integer(),
                   "lastFailureTime": time(), "nextPrivateKeySecretName": string(), "notAfter": time(),
                   "notBefore": time(), "renewalTime": time(), "revision": integer()})
    return root(obj(spec, required=["issuerRef", "secretName"]), obj(status))


def certificate_request(version: str) -> dict:
    a = release(version) >= (1, 19, 0)
    spec = obj({"duration": string(), "extra": {"type": "object", "additionalProperties": strings()},
                "groups": strings(True), "isCA": boolean(), "issuerRef": issuer_ref(),
                "request": string(format="byte"), "uid": string(), "usages": usages(a), "username": string()},
               required=["issuerRef", "request"])
    status = obj({"ca": string(format="byte"), "certificate": string(format="byte"), "conditions": conditions(False),
                  "failureTime": time()})
    return root(spec, status)
