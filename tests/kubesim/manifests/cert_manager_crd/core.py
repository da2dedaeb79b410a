"""The Kubernetes core/v1 types cert-manager's ACME HTTP01 solver pod template embeds
(k8s.io/api/core/v1 Affinity, Toleration-like and resource types; cert-manager's own
ACMEChallengeSolverHTTP01IngressPodSpec / ACMEChallengeSolverHTTP01IngressPodSecurityContext in
pkg/apis/acme/v1/types_issuer.go), as controller-gen renders them.

k8s.io/api marks its lists ``+listType=atomic`` and selectors ``+structType=atomic``; those
markers appear in every release. cert-manager's own lists gained them in v1.19 (``atomic``).
"""

from __future__ import annotations

from .builders import array, integer, obj, string, string_map, strings

# k8s.io/apimachinery/pkg/api/resource Quantity: int-or-string with the quantity pattern.
QUANTITY_PATTERN = (r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)"
                    r"|(\.[0-9]+))))?$")


def quantity() -> dict:
    return {"anyOf": [{"type": "integer"}, {"type": "string"}], "pattern": QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": True}


def _requirement() -> dict:
    """NodeSelectorRequirement / LabelSelectorRequirement."""
    return obj({"key": string(), "operator": string(), "values": strings(True)}, required=["key", "operator"])


def _node_selector_term() -> dict:
    return obj({"matchExpressions": array(_requirement(), True), "matchFields": array(_requirement(), True)},
               **{"x-kubernetes-map-type": "atomic"})


def label_selector() -> dict:
    return obj({"matchExpressions": array(_requirement(), True), "matchLabels": string_map()},
               **{"x-kubernetes-map-type": "atomic"})


def _pod_affinity_term() -> dict:
    return obj({"labelSelector": label_selector(), "matchLabelKeys": strings(True),
                "mismatchLabelKeys": strings(True), "namespaceSelector": label_selector(),
                "namespaces": strings(True), "topologyKey": string()}, required=["topologyKey"])


def _pod_affinity() -> dict:
    weighted = obj({"podAffinityTerm": _pod_affinity_term(), "weight": integer("int32")},
                   required=["podAffinityTerm", "weight"])
    return obj({"preferredDuringSchedulingIgnoredDuringExecution": array(weighted, True),
                "requiredDuringSchedulingIgnoredDuringExecution": array(_pod_affinity_term(), True)})


def affinity() -> dict:
    preferred = obj({"preference": _node_selector_term(), "weight": integer("int32")},
                    required=["preference", "weight"])
    required = obj({"nodeSelectorTerms": array(_node_selector_term(), True)}, required=["nodeSelectorTerms"],
                   **{"x-kubernetes-map-type": "atomic"})
    node = obj({"preferredDuringSchedulingIgnoredDuringExecution": array(preferred, True),
                "requiredDuringSchedulingIgnoredDuringExecution": required})
    return obj({"nodeAffinity": node, "podAffinity": _pod_affinity(), "podAntiAffinity": _pod_affinity()})


def pod_security_context(atomic: bool) -> dict:
    return obj({"fsGroup": integer("int64"), "fsGroupChangePolicy": string(), "runAsGroup": integer("int64"),
                "runAsNonRoot": {"type": "boolean"}, "runAsUser": integer("int64"),
                "seLinuxOptions": obj({k: string() for k in ("level", "role", "type", "user")}),
                "seccompProfile": obj({"localhostProfile": string(), "type": string()}, required=["type"]),
                "supplementalGroups": array(integer("int64"), atomic),
                "sysctls": array(obj({"name": string(), "value": string()}, required=["name", "value"]), atomic)})


def pod_template(rel) -> dict:
    """ACMEChallengeSolverHTTP01IngressPodTemplate. ``resources`` arrived in v1.19, with
    ``imagePullSecrets`` becoming ``+listType=map`` keyed by name."""
    atomic = rel >= (1, 19, 0)
    pull = {"type": "array", "items": obj({"name": {"default": "", "type": "string"}},
                                          **{"x-kubernetes-map-type": "atomic"})}
    if atomic:
        pull.update({"x-kubernetes-list-map-keys": ["name"], "x-kubernetes-list-type": "map"})
    spec = {"affinity": affinity(), "imagePullSecrets": pull, "nodeSelector": string_map(),
            "priorityClassName": string()}
    if atomic:
        spec["resources"] = obj({"limits": {"type": "object", "additionalProperties": quantity()},
                                 "requests": {"type": "object", "additionalProperties": quantity()}})
    spec.update({"securityContext": pod_security_context(atomic), "serviceAccountName": string(),
                 "tolerations": array(obj({"effect": string(), "key": string(), "operator": string(),
                                           "tolerationSeconds": integer("int64"), "value": string()}), atomic)})
    return obj({"metadata": obj({"annotations": string_map(), "labels": string_map()}), "spec": obj(spec)})
