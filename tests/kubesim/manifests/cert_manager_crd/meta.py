"""Types of cert-manager's pkg/apis/meta/v1 and the shared ones of pkg/apis/certmanager/v1."""

from __future__ import annotations

from .builders import array, enum, integer, obj, string, time

# pkg/apis/certmanager/v1/types.go: KeyUsage (+kubebuilder:validation:Enum, RFC 5280 names).
KEY_USAGES = ("signing", "digital signature", "content commitment", "key encipherment", "key agreement",
              "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any", "server auth",
              "client auth", "code signing", "email protection", "s/mime", "ipsec end system", "ipsec tunnel",
              "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc")


def usages(atomic: bool) -> dict:
    return array(enum(*KEY_USAGES), atomic)


def issuer_ref() -> dict:
    """cmmeta.ObjectReference / IssuerReference: ``Name string`` has no omitempty."""
    return obj({"group": string(), "kind": string(), "name": string()}, required=["name"])


def secret_key_selector() -> dict:
    """cmmeta.SecretKeySelector: LocalObjectReference (name, required) + ``Key string `json:"key,omitempty"```."""
    return obj({"key": string(), "name": string()}, required=["name"])


def local_object_reference() -> dict:
    return obj({"name": string()}, required=["name"])


def conditions(with_observed_generation: bool) -> dict:
    """``[]CertificateCondition`` etc.: ``+listType=map``, ``+listMapKey=type``; ConditionStatus enum."""
    props = {"lastTransitionTime": time(), "message": string(), "reason": string(),
             "status": enum("True", "False", "Unknown"), "type": string()}
    if with_observed_generation:
        props["observedGeneration"] = integer("int64")
    return array(obj(props, required=["status", "type"]), **{"x-kubernetes-list-map-keys": ["type"],
                                                             "x-kubernetes-list-type": "map"})
