"""Resource types: the built-in kinds kubesim serves and the per-cluster registry.

A ResourceType describes one (group, plural) across its served versions. Objects are
stored once per (group, plural); with several served versions (CRDs) the stored body is
returned with the requested apiVersion, like a CRD with conversion strategy None.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..util import version_priority

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
NO_DELETECOLLECTION = frozenset({("", "namespaces")})


@dataclass
class ResourceType:
    group: str
    versions: List[str]
    plural: str
    singular: str
    kind: str
    namespaced: bool = True
    short_names: List[str] = field(default_factory=list)
    categories: List[str] = field(default_factory=list)
    subresources: Tuple[str, ...] = ()
    builtin: bool = True
    has_generation: bool = False
    return_deleted_object: bool = False
    crd_name: Optional[str] = None
    # per-version openAPIV3Schema (CRDs) for list-map keys and validation
    schemas: Dict[str, dict] = field(default_factory=dict)
    field_selectors: Tuple[str, ...] = ()
    # create-only review APIs (SelfSubjectAccessReview, ...): answered, never stored
    virtual: bool = False

    @property
    def verbs(self) -> List[str]:
        """The verbs discovery lists: what the resource's REST storage implements
        (staging/src/k8s.io/apiserver/pkg/endpoints/installer.go registerResourceHandlers). The
        namespace storage (pkg/registry/core/namespace/storage/storage.go REST) is no
        CollectionDeleter: no deletecollection, and a DELETE on the collection is 405."""
        if self.virtual:
            return ["create"]
        if self.rid in NO_DELETECOLLECTION:
            return [v for v in ALL_VERBS if v != "deletecollection"]
        return list(ALL_VERBS)

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def storage_version(self) -> str:
        return self.versions[0]

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def api_version(self, version: Optional[str] = None) -> str:
        v = version or self.versions[0]
        return f"{self.group}/{v}" if self.group else v

    @property
    def rid(self) -> Tuple[str, str]:
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return self.kind + "List"


def _b(group, version, plural, kind, singular=None, namespaced=True, short=(), subs=(), gen=False,
       ret=False, cats=(), fsel=()):
    return ResourceType(group=group, versions=[version], plural=plural, singular=singular or kind.lower(),
                        kind=kind, namespaced=namespaced, short_names=list(short), subresources=tuple(subs),
                        has_generation=gen, return_deleted_object=ret, categories=list(cats),
                        field_selectors=tuple(fsel))


BUILTINS: List[ResourceType] = [
    _b("", "v1", "namespaces", "Namespace", namespaced=False, short=("ns",), subs=("status", "finalize"),
       fsel=("status.phase",)),
    _b("", "v1", "secrets", "Secret", fsel=("type",)),
    _b("", "v1", "configmaps", "ConfigMap", short=("cm",)),
    _b("", "v1", "pods", "Pod", short=("po",), subs=("status", "log", "proxy", "eviction"), ret=True,
       cats=("all",), fsel=("status.phase", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                            "spec.serviceAccountName", "status.podIP", "status.nominatedNodeName")),
    _b("", "v1", "services", "Service", short=("svc",), subs=("status", "proxy"), cats=("all",)),
    _b("", "v1", "serviceaccounts", "ServiceAccount", short=("sa",), subs=("token",), ret=True),
    _b("", "v1", "events", "Event", short=("ev",),
       fsel=("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
             "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
             "reason", "reportingComponent", "source", "type")),
    _b("", "v1", "endpoints", "Endpoints", short=("ep",)),
    _b("", "v1", "nodes", "Node", namespaced=False, short=("no",), subs=("status", "proxy")),
    _b("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short=("pvc",), subs=("status",)),
    _b("", "v1", "resourcequotas", "ResourceQuota", short=("quota",), subs=("status",)),
    _b("", "v1", "limitranges", "LimitRange", short=("limits",)),
    _b("apps", "v1", "deployments", "Deployment", short=("deploy",), subs=("status", "scale"), gen=True,
       cats=("all",)),
    _b("apps", "v1", "replicasets", "ReplicaSet", short=("rs",), subs=("status", "scale"), gen=True,
       cats=("all",)),
    _b("apps", "v1", "statefulsets", "StatefulSet", short=("sts",), subs=("status", "scale"), gen=True,
       cats=("all",)),
    _b("apps", "v1", "daemonsets", "DaemonSet", short=("ds",), subs=("status",), gen=True, cats=("all",)),
    _b("batch", "v1", "jobs", "Job", subs=("status",), gen=True, cats=("all",)),
    _b("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False,
       short=("crd", "crds"), subs=("status",), gen=True),
    _b("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration",
       namespaced=False, gen=True),
    _b("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration",
       namespaced=False, gen=True),
    _b("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
    _b("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
    _b("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _b("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _b("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short=("pdb",), subs=("status",), gen=True),
    _b("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", short=("hpa",),
       subs=("status",), cats=("all",)),
    _b("coordination.k8s.io", "v1", "leases", "Lease"),
    _b("networking.k8s.io", "v1", "ingresses", "Ingress", short=("ing",), subs=("status",), gen=True),
    _b("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short=("netpol",), gen=True),
    _b("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", namespaced=False, short=("pc",)),
    _b("storage.k8s.io", "v1", "storageclasses", "StorageClass", namespaced=False, short=("sc",)),
]
for _rt in (_b("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", namespaced=False),
            _b("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", namespaced=False),
            _b("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", namespaced=False),
            _b("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", namespaced=False)):
    _rt.virtual = True
    BUILTINS.append(_rt)

# Verbs advertised per subresource in discovery.
SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "log": ["get"],
    "proxy": ["create", "delete", "get", "patch", "update"],
    "finalize": ["update"],
    "eviction": ["create"],
    "token": ["create"],
}

SUBRESOURCE_KIND = {"scale": ("autoscaling", "v1", "Scale"), "log": ("", "v1", "Pod"), "proxy": ("", "v1", "PodProxyOptions"),
                    "eviction": ("policy", "v1", "Eviction"), "token": ("authentication.k8s.io", "v1", "TokenRequest")}


class Registry:
    """The resource types one cluster serves (built-ins plus its CRDs)."""

    def __init__(self):
        self._lock = threading.RLock()
        self.by_gvr: Dict[Tuple[str, str, str], ResourceType] = {}
        self.by_rid: Dict[Tuple[str, str], ResourceType] = {}
        self.by_kind: Dict[Tuple[str, str], ResourceType] = {}
        for rt in BUILTINS:
            self.add(rt)

    def add(self, rt: ResourceType) -> None:
        with self._lock:
            old = self.by_rid.get(rt.rid)
            if old is not None:
                self.remove(old)
            self.by_rid[rt.rid] = rt
            for v in rt.versions:
                self.by_gvr[(rt.group, v, rt.plural)] = rt
            self.by_kind[(rt.group, rt.kind)] = rt

    def remove(self, rt: ResourceType) -> None:
        with self._lock:
            self.by_rid.pop(rt.rid, None)
            for v in rt.versions:
                if self.by_gvr.get((rt.group, v, rt.plural)) is rt:
                    del self.by_gvr[(rt.group, v, rt.plural)]
            if self.by_kind.get((rt.group, rt.kind)) is rt:
                del self.by_kind[(rt.group, rt.kind)]

    def lookup(self, group: str, version: str, plural: str) -> Optional[ResourceType]:
        return self.by_gvr.get((group, version, plural))

    def by_api_version(self, api_version: str, plural: str) -> Optional[ResourceType]:
        group, _, version = api_version.rpartition("/")
        return self.by_gvr.get((group, version, plural))

    def for_kind(self, api_version: str, kind: str) -> Optional[ResourceType]:
        group, _, version = api_version.rpartition("/")
        rt = self.by_kind.get((group, kind))
        if rt is not None and version in rt.versions:
            return rt
        return None

    def groups(self) -> Dict[str, List[str]]:
        """group -> served versions in priority order (core excluded)."""
        with self._lock:
            out: Dict[str, set] = {}
            for (g, v, _p) in self.by_gvr:
                if g:
                    out.setdefault(g, set()).add(v)
        return {g: sorted(vs, key=version_priority, reverse=True) for g, vs in sorted(out.items())}

    def resources_in(self, group: str, version: str) -> List[ResourceType]:
        with self._lock:
            return [rt for (g, v, _p), rt in sorted(self.by_gvr.items()) if g == group and v == version]

    def all_types(self) -> List[ResourceType]:
        with self._lock:
            return list(self.by_rid.values())
