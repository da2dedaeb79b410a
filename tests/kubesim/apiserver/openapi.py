"""A minimal OpenAPI v3 surface: enough for kubectl to see that the server validates
fields itself (``fieldValidation``), so ``kubectl apply``/``create`` work without
``--validate=false``.

Each group/version document lists, per resource, the POST/PUT/PATCH operations with
their ``x-kubernetes-group-version-kind`` and query parameters. It carries no schemas
and no PATCH request bodies, so kubectl keeps computing strategic merge patches from
its built-in types (as with ``--validate=false``) and ``kubectl explain`` has nothing
to show. The server enforces ``fieldValidation`` for custom resources (structural.py).
"""

from __future__ import annotations

import hashlib
from typing import Optional

from ..util import dumps

_PARAMS = ["dryRun", "fieldManager", "fieldValidation", "pretty"]


def _gv_key(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


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


def gv_document(cluster, group: str, version: str) -> Optional[dict]:
    rts = [rt for rt in cluster.registry.resources_in(group, version) if not rt.virtual]
    if not rts and not (group == "" and version == "v1"):
        return None
    prefix = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    paths = {}
    for rt in rts:
        coll = f"{prefix}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"{prefix}/{rt.plural}"
        paths[coll] = {"post": _op(rt, version, "post", _PARAMS)}
        paths[coll + "/{name}"] = {"put": _op(rt, version, "put", _PARAMS),
                                   "patch": _op(rt, version, "patch", _PARAMS + ["force"])}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes (kubesim)", "version": "v1.29.0"},
            "paths": paths, "components": {"schemas": {}}}
