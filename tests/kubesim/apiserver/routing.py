"""Request routing: URL → resource, verb and subresource; the collection, item, watch and review handlers.

``handle(cluster, request)`` returns a ``Response``; server.py only moves bytes.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import TYPE_CHECKING, Optional

from . import authorization as authz
from . import errors as E
from . import serviceaccount_tokens as sat
from . import structural
from .admin import ADMIN_PREFIX, admin
from .authentication import authenticate
from .authorization import check, impersonate
from ..controllers.base import ApiError
from .discovery import KUBE_VERSION, discovery
from .registry import ResourceType
from .requestinfo import request_info
from .request import (Request, Response, _after_write, _dry_run, _manager, _parse_body,
                      json_response, parse_request_query, status_response)  # noqa: F401  (parse_request_query: re-exported for server)
from .subresources import pod_log, pod_proxy, scale
from .table import table, wants_table
from ..util import dumps
from .verbs import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, PATCH_TYPES, STRATEGIC_PATCH

if TYPE_CHECKING:  # only for annotations: kubesim.cluster imports this package
    from ..cluster import Cluster  # noqa: F401

log = logging.getLogger("kubesim.api")

# ---------------------------------------------------------------------------- entry


def handle(cluster: Cluster, req: Request) -> Response:
    if req.path == ADMIN_PREFIX or req.path.startswith(ADMIN_PREFIX + "/"):
        try:
            return admin(cluster, req)
        except ApiError as exc:
            return status_response(exc)
        except (ValueError, TypeError, KeyError) as exc:
            return status_response(E.bad_request(f"admin request failed: {exc}"))
    try:
        req.user = authenticate(cluster, req)
    except ApiError as exc:
        return status_response(exc)
    fault = cluster.faults.decide(req.method, req.path)
    if fault is not None:
        code, reason, message, headers = fault
        details = {"retryAfterSeconds": int(headers["Retry-After"])} if "Retry-After" in headers else {}
        # an injected 401 is the real one: NewUnauthorized's Status has no details
        resp = status_response(ApiError(code, reason, message, details, omit_details=code == 401))
        resp.headers.update(headers)
        return resp
    with cluster.collecting_warnings() as warnings:
        resp = _route_or_status(cluster, req)
    # like the apiserver's warning recorder: headers added during the request go out with
    # whatever response follows, success or error (a webhook may warn and another deny)
    resp.warnings = warnings
    return resp


def _route_or_status(cluster: Cluster, req: Request) -> Response:
    try:
        # filters in the order of DefaultBuildHandlerChain (staging/src/k8s.io/apiserver/pkg/server/config.go):
        # authentication (in handle) → impersonation → authorization → the handler
        req.user = impersonate(cluster, req, req.user)
        check(cluster, req.user, request_info(req))
        return route(cluster, req)
    except ApiError as exc:
        return status_response(exc)
    except Exception as exc:  # a kubesim bug: answer like an apiserver panic would
        log.error("kubesim %s: %s %s failed:\n%s", cluster.name, req.method, req.path, traceback.format_exc())
        cluster.controller_errors.append(f"api {req.method} {req.path}: {type(exc).__name__}: {exc}")
        return status_response(E.internal(f"{type(exc).__name__}: {exc}"))


# ---------------------------------------------------------------------------- routing


def route(cluster: Cluster, req: Request) -> Response:
    path = req.path
    if path == "/version" or path == "/version/":
        return json_response(200, KUBE_VERSION)
    if path in ("/healthz", "/readyz", "/livez"):
        return Response(200, b"ok", "text/plain; charset=utf-8")
    segs = [s for s in path.split("/") if s]
    if segs[:2] == ["openapi", "v3"] and req.method == "GET":
        from . import openapi
        if len(segs) == 2:
            return json_response(200, openapi.index(cluster))
        rest = segs[2:]
        if rest[:1] == ["api"] and len(rest) == 2:
            doc = openapi.gv_document(cluster, "", rest[1])
        elif rest[:1] == ["apis"] and len(rest) == 3:
            doc = openapi.gv_document(cluster, rest[1], rest[2])
        else:
            doc = None
        if doc is None:
            raise E.unknown_resource()
        return json_response(200, doc)
    if segs == ["openapi", "v2"] and req.method == "GET":
        from . import openapi
        from . import openapi_v2_proto
        accept = req.headers.get("accept", "") or "*/*"
        if openapi_v2_proto.MEDIA_TYPE in accept:
            return Response(200, openapi_v2_proto.document(openapi.v2_document(cluster)),
                            openapi_v2_proto.RESPONSE_TYPE)
        if "json" not in accept and "*/*" not in accept:
            return Response(406, b"406: Not Acceptable", "text/plain; charset=utf-8")
        return json_response(200, openapi.v2_document(cluster))
    if not segs or segs[0] not in ("api", "apis"):
        raise E.unknown_resource()
    if req.method == "GET":
        d = discovery(cluster, segs)
        if d is not None:
            return d
    if segs[0] == "api":
        if len(segs) < 3 or segs[1] != "v1":
            raise E.unknown_resource()
        group, version, rest = "", "v1", segs[2:]
    else:
        if len(segs) < 4:
            raise E.unknown_resource()
        group, version, rest = segs[1], segs[2], segs[3:]
    watch_path = False
    if rest and rest[0] == "watch":
        watch_path, rest = True, rest[1:]
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        ns, rest = rest[1], rest[2:]
    if not rest:
        raise E.unknown_resource()
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    tail = rest[3:]
    rt = cluster.registry.lookup(group, version, plural)
    if rt is None:
        raise E.unknown_resource()
    if ns is not None and not rt.namespaced:
        raise E.unknown_resource()
    if rt.namespaced and ns is None and name is not None:
        raise E.unknown_resource()
    if sub == "proxy" and rt.plural == "pods":
        return pod_proxy(cluster, req, rt, ns, name, "/" + "/".join(tail) + ("/" if path.endswith("/") and tail
                                                                             else ""))
    if tail:
        raise E.unknown_resource()
    if sub is not None and sub not in rt.subresources:
        raise E.unknown_resource()
    if rt.virtual:
        if name is not None or req.method != "POST":
            raise E.method_not_allowed(rt)
        return review(cluster, req, rt, version)
    if name is None:
        return collection(cluster, req, rt, version, ns, watch_path)
    if watch_path:
        raise E.unknown_resource()
    if sub is None or sub == "status":
        return item(cluster, req, rt, version, ns, name, sub)
    if sub == "log":
        if req.method != "GET":
            raise E.method_not_allowed(rt)
        return pod_log(cluster, req, rt, ns, name)
    if sub == "scale":
        return scale(cluster, req, rt, version, ns, name)
    if sub == "token" and rt.plural == "serviceaccounts":
        if req.method != "POST":
            raise E.method_not_allowed(rt)
        return json_response(201, sat.token_request(cluster, ns, name, _parse_body(req)))
    if sub == "finalize" and req.method == "PUT":
        return item(cluster, req, rt, version, ns, name, None)
    raise E.method_not_allowed(rt)


def collection(cluster: Cluster, req: Request, rt: ResourceType, version: str, ns: Optional[str],
               watch_path: bool) -> Response:
    m = req.method
    if m == "GET":
        if watch_path or req.flag("watch"):
            return watch(cluster, req, rt, version, ns)
        objs, rv = cluster.list_objects(rt, ns, req.q("labelSelector"), req.q("fieldSelector"))
        meta = {"resourceVersion": rv}
        limit = req.q("limit")
        cont = req.q("continue")
        start = 0
        if cont:
            try:
                start = int(cont.split(":", 1)[1])
            except (IndexError, ValueError):
                raise E.bad_request("continue key is not valid: incorrect encoded start resourceVersion")
        if limit and limit.isdigit() and int(limit) > 0:
            end = start + int(limit)
            if end < len(objs):
                meta["continue"] = f"kubesim:{end}"
                meta["remainingItemCount"] = len(objs) - end
            objs = objs[start:end]
        elif start:
            objs = objs[start:]
        if wants_table(req.headers.get("accept", "")):
            return json_response(200, table(cluster, rt, version, objs, meta["resourceVersion"],
                                            req.q("includeObject", "Metadata"),
                                            lambda o: cluster.present(rt, version, o),
                                            extra_meta={k: v for k, v in meta.items() if k != "resourceVersion"}))
        if rt.builtin:
            items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in objs]
        else:
            items = [cluster.present(rt, version, o) for o in objs]
        return json_response(200, {"kind": rt.list_kind, "apiVersion": rt.api_version(version), "metadata": meta,
                                    "items": items})
    if m == "POST":
        if rt.namespaced and ns is None:
            raise E.method_not_allowed(rt)
        body = _parse_body(req)
        dry = _dry_run(req)
        structural.check_unknown_fields(cluster, rt, version, body, req.q("fieldValidation"))
        with cluster._writing():
            obj = cluster._create(rt, version, ns, body, dry_run=dry, manager=_manager(req), admit=True,
                                  internal=False, owned=True)
        _after_write(cluster, dry)
        return json_response(201, cluster.present(rt, version, obj))
    if m == "DELETE":
        if "deletecollection" not in rt.verbs:
            raise E.method_not_allowed(rt)
        dry = _dry_run(req)
        objs, _ = cluster.list_objects(rt, ns, req.q("labelSelector"), req.q("fieldSelector"))
        out = []
        coll_options = {k: req.q(k) for k in ("gracePeriodSeconds", "propagationPolicy") if req.q(k)}
        for o in objs:
            try:
                _code, body = cluster._delete(rt, version, o["metadata"].get("namespace"), o["metadata"]["name"],
                                              dry_run=dry, options=dict(coll_options), admit=True)
                out.append(o)
            except ApiError as exc:
                if exc.code != 404:
                    raise
        _after_write(cluster, dry)
        return json_response(200, {"kind": rt.list_kind, "apiVersion": rt.api_version(version),
                                   "metadata": {"resourceVersion": cluster.resource_version},
                                   "items": [cluster.present(rt, version, o) for o in out]})
    raise E.method_not_allowed(rt)


def item(cluster: Cluster, req: Request, rt: ResourceType, version: str, ns: Optional[str], name: str,
         sub: Optional[str]) -> Response:
    m = req.method
    if m == "GET":
        with cluster.lock:
            obj = cluster._stored(rt, ns, name)
        if obj is None:
            raise E.not_found(rt, name)
        if sub is None and wants_table(req.headers.get("accept", "")):
            return json_response(200, table(cluster, rt, version, [obj], obj["metadata"].get("resourceVersion", ""),
                                            req.q("includeObject", "Metadata"),
                                            lambda o: cluster.present(rt, version, o)))
        return json_response(200, cluster.present(rt, version, obj))
    if m == "PUT":
        body = _parse_body(req)
        dry = _dry_run(req)
        structural.check_unknown_fields(cluster, rt, version, body, req.q("fieldValidation"))
        obj = cluster._update(rt, version, ns, name, body, subresource=sub, dry_run=dry, manager=_manager(req),
                              admit=True, internal=False)
        _after_write(cluster, dry)
        return json_response(200, cluster.present(rt, version, obj))
    if m == "PATCH":
        ptype = req.content_type
        force = req.flag("force")
        if ptype not in PATCH_TYPES:
            raise E.unsupported_media_type(
                (JSON_PATCH, MERGE_PATCH, APPLY_PATCH) if not rt.builtin else
                (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH))
        if ptype == STRATEGIC_PATCH and not rt.builtin:
            raise E.unsupported_media_type()
        body = _parse_body(req, yaml_ok=(ptype == APPLY_PATCH))
        dry = _dry_run(req)
        manager = req.q("fieldManager") if ptype == APPLY_PATCH else _manager(req)
        code, obj = cluster._patch(rt, version, ns, name, ptype, body, subresource=sub, dry_run=dry,
                                   manager=manager, force=force, admit=True,
                                   field_validation=req.q("fieldValidation") or "Warn")
        _after_write(cluster, dry)
        return json_response(code, cluster.present(rt, version, obj))
    if m == "DELETE" and sub is None:
        options = {}
        if req.body and req.body.strip():
            try:
                options = json.loads(req.body)
            except ValueError as exc:
                raise E.bad_request(f"couldn't get version/kind; json parse error: {exc}")
            if not isinstance(options, dict):
                raise E.bad_request("DeleteOptions must be an object")
        if req.q("propagationPolicy") and "propagationPolicy" not in options:
            options["propagationPolicy"] = req.q("propagationPolicy")
        if req.q("gracePeriodSeconds") and "gracePeriodSeconds" not in options:
            options["gracePeriodSeconds"] = req.q("gracePeriodSeconds")
        if req.q("orphanDependents") and "orphanDependents" not in options:
            options["orphanDependents"] = req.flag("orphanDependents")
        dry = _dry_run(req) or options.get("dryRun") == ["All"]
        code, body = cluster._delete(rt, version, ns, name, dry_run=dry, options=options, admit=True)
        _after_write(cluster, dry)
        if body.get("kind") == "Status":
            return json_response(code, body)
        return json_response(code, cluster.present(rt, version, body))
    raise E.method_not_allowed(rt)


def review(cluster: Cluster, req: Request, rt: ResourceType, version: str) -> Response:
    """Access and identity reviews, answered for the requesting user and never stored."""
    body = _parse_body(req)
    if not isinstance(body, dict):
        raise E.bad_request(f"the body of the request must be a {rt.kind} object")
    out = dict(body, apiVersion=rt.api_version(version), kind=rt.kind)
    out["metadata"] = dict(out.get("metadata") or {}, creationTimestamp=None)
    user = req.user
    if rt.plural == "selfsubjectrulesreviews":
        out["status"] = authz.rules_review(cluster, user, body)
    elif rt.plural == "selfsubjectreviews":
        out["status"] = {"userInfo": authz.user_info_dict(user)}
    else:
        out["status"] = authz.access_review(cluster, user, body, rt.kind)
    return json_response(201, out)


# ---------------------------------------------------------------------------- watch


def watch(cluster: Cluster, req: Request, rt: ResourceType, version: str, ns: Optional[str]) -> Response:
    timeout = req.q("timeoutSeconds")
    try:
        timeout_s = float(timeout) if timeout else 1800.0
    except ValueError:
        raise E.bad_request(f"invalid timeoutSeconds: {timeout!r}")
    rv = req.q("resourceVersion")
    send_initial = None
    if req.q("sendInitialEvents") is not None:
        send_initial = req.flag("sendInitialEvents")
    # validate selectors before streaming so a bad selector is a plain 400
    cluster._select(rt, ns, req.q("labelSelector"), req.q("fieldSelector"))
    events = cluster.watch(rt, ns, req.q("labelSelector"), req.q("fieldSelector"), rv, timeout_s, send_initial)

    as_table = wants_table(req.headers.get("accept", ""))
    include = req.q("includeObject", "Metadata")

    def stream():
        first = True
        try:
            for etype, obj in events:
                if etype is None:
                    yield b""
                    continue
                if as_table:
                    out = table(cluster, rt, version, [obj], obj["metadata"].get("resourceVersion", ""), include,
                                lambda o: cluster.present(rt, version, o), headers=first)
                    first = False
                else:
                    out = cluster.present(rt, version, obj)
                yield (dumps({"type": etype, "object": out}) + "\n").encode()
        except ApiError as exc:
            yield (dumps({"type": "ERROR", "object": exc.status_body()}) + "\n").encode()

    return Response(200, content_type="application/json", stream=stream())
