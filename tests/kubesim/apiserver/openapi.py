"""OpenAPI v3 (``/openapi/v3``) and v2 (``/openapi/v2``, JSON) documents with the CRDs' schemas.

What kubectl needs from them:

- ``kubectl explain certificates.spec.duration`` (1.27+ reads OpenAPI v3): a group/version document whose
  ``components.schemas`` hold the resource's schema tagged with ``x-kubernetes-group-version-kind``. CRD
  schemas are published as apiextensions-apiserver's pkg/controller/openapi/builder/builder.go
  (``BuildOpenAPIV3``/``BuildOpenAPIV2``) does: named by ``util.ToRESTFriendlyName`` (``io.cert-manager.v1.
  Certificate``), the CRD's ``openAPIV3Schema`` with ``apiVersion``/``kind`` descriptions added and
  ``metadata`` a reference to ObjectMeta, plus the ``…List`` kind.
- ``kubectl apply``/``create`` (1.29+): the POST/PUT/PATCH operations list a ``fieldValidation`` query
  parameter, so kubectl leaves field validation to the server (the server enforces it: structural.py).

Built-in kinds are listed with their operations but no schemas (kubectl then computes strategic merge
patches from its compiled-in types, as before); ObjectMeta is the one shared definition served. The v2
document is also served as gnostic protobuf (openapi_v2_proto.py), which kubectl ≤ 1.28 asks for first for its
client-side validation, so every kubectl from 1.27 to 1.33 applies without switching validation off.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Optional

from ..util import dumps

_PARAMS = ["dryRun", "fieldManager", "fieldValidation", "pretty"]
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
LIST_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
_API_VERSION_DOC = ("APIVersion defines the versioned schema of this representation of an object. Servers should "
                    "convert recognized schemas to the latest internal value, and may reject unrecognized values. "
                    "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/"
                    "api-conventions.md#resources")
_KIND_DOC = ("Kind is a string value representing the REST resource this object represents. Servers may infer "
             "this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: "
             "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds")
_METADATA_DOC = ("Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/"
                 "sig-architecture/api-conventions.md#metadata")
# A reduced ObjectMeta/ListMeta (kube-openapi names; the fields clients set); the full definitions come
# with the built-in schemas, which kubesim does not serve.
_META_SCHEMAS = {
    OBJECT_META: {
        "description": "ObjectMeta is metadata that all persisted resources must have, which includes all "
                       "objects users must create.",
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "Name must be unique within a namespace."},
            "generateName": {"type": "string", "description": "GenerateName is an optional prefix, used by the "
                                                               "server, to generate a unique name."},
            "namespace": {"type": "string", "description": "Namespace defines the space within which each name "
                                                           "must be unique."},
            "labels": {"type": "object", "additionalProperties": {"type": "string", "default": ""},
                       "description": "Map of string keys and values that can be used to organize and "
                                      "categorize (scope and select) objects."},
            "annotations": {"type": "object", "additionalProperties": {"type": "string", "default": ""},
                            "description": "Annotations is an unstructured key value map stored with a resource "
                                           "that may be set by external tools to store and retrieve arbitrary "
                                           "metadata."},
            "resourceVersion": {"type": "string", "description": "An opaque value that represents the internal "
                                                                 "version of this object."},
            "uid": {"type": "string", "description": "UID is the unique in time and space value for this "
                                                     "object."},
        },
    },
    LIST_META: {
        "description": "ListMeta describes metadata that synthetic resources must have, including lists and "
                       "various status objects.",
        "type": "object",
        "properties": {"resourceVersion": {"type": "string"}, "continue": {"type": "string"},
                       "remainingItemCount": {"type": "integer", "format": "int64"}},
    },
}


def _gv_key(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def rest_friendly_name(group: str, version: str, kind: str) -> str:
    """apiextensions-apiserver pkg/controller/openapi/builder ``util.ToRESTFriendlyName``: the group's
    labels reversed, then version and kind (``cert-manager.io`` → ``io.cert-manager.v1.Certificate``)."""
    return ".".join(list(reversed(group.split("."))) + [version, kind])


def index(cluster) -> dict:
    paths = {}
    gvs = [("", "v1")] + [(g, v) for g, vs in cluster.registry.groups().items() for v in vs]
    for g, v in gvs:
        doc = dumps(gv_document(cluster, g, v))
        h = hashlib.sha512(doc.encode()).hexdigest()[:32].upper()
        key = _gv_key(g, v)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={h}"}
    return {"paths": paths}


def _op(rt, version, action, params):
    return {"operationId": f"{action}{rt.kind}", "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": rt.group, "version": version, "kind": rt.kind},
            "parameters": [{"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
                           for p in params],
            "responses": {"200": {"description": "OK"}}}


def _ref(name: str, v3: bool) -> str:
    return f"#/components/schemas/{name}" if v3 else f"#/definitions/{name}"


def crd_schemas(rt, version: str, v3: bool = True) -> dict:
    """{name: schema} for a custom resource kind and its list, as builder.go publishes them."""
    schema = rt.schemas.get(version)
    gvk = [{"group": rt.group, "version": version, "kind": rt.kind}]
    name = rest_friendly_name(rt.group, version, rt.kind)
    if schema is None:
        return {}
    out = copy.deepcopy(schema)
    props = out.setdefault("properties", {})
    props["apiVersion"] = {"type": "string", "description": _API_VERSION_DOC}
    props["kind"] = {"type": "string", "description": _KIND_DOC}
    props["metadata"] = ({"allOf": [{"$ref": _ref(OBJECT_META, v3)}], "description": _METADATA_DOC} if v3 else
                         {"$ref": _ref(OBJECT_META, v3), "description": _METADATA_DOC})
    out["x-kubernetes-group-version-kind"] = gvk
    list_kind = f"{rt.kind}List"
    items = {"$ref": _ref(name, v3)}
    lst = {"description": f"{list_kind} is a list of {rt.kind}", "type": "object", "required": ["items"],
           "properties": {"apiVersion": {"type": "string", "description": _API_VERSION_DOC},
                          "items": {"type": "array", "items": items,
                                    "description": f"List of {rt.plural}. More info: https://git.k8s.io/"
                                                   f"community/contributors/devel/sig-architecture/"
                                                   f"api-conventions.md"},
                          "kind": {"type": "string", "description": _KIND_DOC},
                          "metadata": ({"allOf": [{"$ref": _ref(LIST_META, v3)}]} if v3 else
                                       {"$ref": _ref(LIST_META, v3)})},
           "x-kubernetes-group-version-kind": [{"group": rt.group, "version": version, "kind": list_kind}]}
    return {name: out, rest_friendly_name(rt.group, version, list_kind): lst}


def gv_document(cluster, group: str, version: str) -> Optional[dict]:
    rts = [rt for rt in cluster.registry.resources_in(group, version) if not rt.virtual]
    if not rts and not (group == "" and version == "v1"):
        return None
    prefix = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    paths = {}
    schemas = {}
    for rt in rts:
        coll = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
        paths[coll] = {"post": _op(rt, version, "post", _PARAMS)}
        paths[coll + "/{name}"] = {"put": _op(rt, version, "put", _PARAMS),
                                   "patch": _op(rt, version, "patch", _PARAMS + ["force"])}
        if not rt.builtin:
            schemas.update(crd_schemas(rt, version))
    if schemas:
        schemas.update(copy.deepcopy(_META_SCHEMAS))
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes (kubesim)", "version": "v1.29.0"},
            "paths": paths, "components": {"schemas": schemas}}


def v2_document(cluster) -> dict:
    """The aggregated OpenAPI v2 (Swagger 2.0) document: every CRD kind's definition and ObjectMeta."""
    defs = copy.deepcopy(_META_SCHEMAS)
    for g, vs in cluster.registry.groups().items():
        for v in vs:
            for rt in cluster.registry.resources_in(g, v):
                if not rt.builtin and not rt.virtual:
                    defs.update(crd_schemas(rt, v, v3=False))
    return {"swagger": "2.0", "info": {"title": "Kubernetes (kubesim)", "version": "v1.29.0"}, "paths": {},
            "definitions": defs}
