"""The discovery documents kubectl and client libraries read first (/api, /apis, groups).

Shapes follow staging/src/k8s.io/apiserver/pkg/endpoints/discovery/ (legacy.go, group.go,
root.go, version.go: APIVersions, APIGroupList, APIGroup, APIResourceList).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from . import errors as E
from .registry import SUBRESOURCE_KIND, SUBRESOURCE_VERBS, ResourceType
from .request import Response, json_response

if TYPE_CHECKING:  # only for annotations: kubesim.cluster imports this package
    from ..cluster import Cluster  # noqa: F401


KUBE_VERSION = {"major": "1", "minor": "29", "gitVersion": "v1.29.0-kubesim", "gitCommit": "kubesim",
                "gitTreeState": "clean", "buildDate": "2024-01-01T00:00:00Z", "goVersion": "go1.21.5",
                "compiler": "gc", "platform": "linux/amd64"}


def _resource_entries(cluster: Cluster, group: str, version: str) -> List[dict]:
    out = []
    for rt in cluster.registry.resources_in(group, version):
        entry = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced, "kind": rt.kind,
                 "verbs": list(_verbs(rt))}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        entry["storageVersionHash"] = ""
        out.append(entry)
        for sub in rt.subresources:
            se = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                  "kind": rt.kind, "verbs": list(SUBRESOURCE_VERBS.get(sub, ["get"]))}
            if sub in SUBRESOURCE_KIND:
                g, v, k = SUBRESOURCE_KIND[sub]
                se["kind"] = k
                if g:
                    se["group"] = g
                    se["version"] = v
            out.append(se)
    return out


def _verbs(rt: ResourceType):
    return rt.verbs


def _group_entry(group: str, versions: List[str]) -> dict:
    vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": vs, "preferredVersion": vs[0]}


def discovery(cluster: Cluster, segs: List[str]) -> Optional[Response]:
    if segs == ["api"]:
        return json_response(200, {"kind": "APIVersions", "versions": ["v1"],
                                   "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                                   "serverAddress": f"127.0.0.1:{cluster.port}"}]})
    if segs == ["api", "v1"]:
        return json_response(200, {"kind": "APIResourceList", "groupVersion": "v1",
                                   "resources": _resource_entries(cluster, "", "v1")})
    if segs == ["apis"]:
        groups = [_group_entry(g, vs) for g, vs in cluster.registry.groups().items()]
        return json_response(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    if len(segs) == 2 and segs[0] == "apis":
        vs = cluster.registry.groups().get(segs[1])
        if not vs:
            raise E.unknown_resource()
        body = _group_entry(segs[1], vs)
        body.update({"kind": "APIGroup", "apiVersion": "v1"})
        return json_response(200, body)
    if len(segs) == 3 and segs[0] == "apis":
        if segs[2] not in cluster.registry.groups().get(segs[1], []):
            raise E.unknown_resource()
        return json_response(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                   "groupVersion": f"{segs[1]}/{segs[2]}",
                                   "resources": _resource_entries(cluster, segs[1], segs[2])})
    return None
