"""HTTP-agnostic request handling: routing, discovery, verbs, subresources, admin endpoint.

``handle(cluster, request)`` returns a ``Response``; server.py only moves bytes.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import traceback
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional
from urllib.parse import parse_qs

import yaml

from . import errors as E
from .controllers.base import ApiError
from .cluster import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, PATCH_TYPES, STRATEGIC_PATCH, Cluster
from .resources import SUBRESOURCE_KIND, SUBRESOURCE_VERBS, ResourceType
from .table import table, wants_table
from .util import dumps, parse_time, rfc3339nano

log = logging.getLogger("kubesim.api")

KUBE_VERSION = {"major": "1", "minor": "29", "gitVersion": "v1.29.0-kubesim", "gitCommit": "kubesim",
                "gitTreeState": "clean", "buildDate": "2024-01-01T00:00:00Z", "goVersion": "go1.21.5",
                "compiler": "gc", "platform": "linux/amd64"}
ADMIN_PREFIX = "/_kubesim"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Request:
    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes = b""
    raw_query: str = ""

    def q(self, name: str, default: Optional[str] = None) -> Optional[str]:
        v = self.query.get(name)
        return v[-1] if v else default

    def flag(self, name: str) -> bool:
        return (self.q(name) or "").lower() in ("true", "1")

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent") or ""


@dataclass
class Response:
    code: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: Dict[str, str] = field(default_factory=dict)
    stream: Optional[Iterator[bytes]] = None
    warnings: List[str] = field(default_factory=list)  # admission warnings, sent as Warning headers


def json_response(code: int, obj) -> Response:
    return Response(code, dumps(obj).encode())


def status_response(err: ApiError) -> Response:
    return json_response(err.code, err.status_body())


def parse_request_query(raw: str) -> Dict[str, List[str]]:
    return parse_qs(raw, keep_blank_values=True) if raw else {}


# ---------------------------------------------------------------------------- entry


def handle(cluster: Cluster, req: Request) -> Response:
    if req.path == ADMIN_PREFIX or req.path.startswith(ADMIN_PREFIX + "/"):
        try:
            return admin(cluster, req)
        except ApiError as exc:
            return status_response(exc)
        except (ValueError, TypeError, KeyError) as exc:
            return status_response(E.bad_request(f"admin request failed: {exc}"))
    token = cluster.required_token
    if token is not None and req.headers.get("authorization", "") != f"Bearer {token}":
        return status_response(ApiError(401, "Unauthorized", "Unauthorized", {}))
    fault = cluster.faults.decide(req.method, req.path)
    if fault is not None:
        code, reason, message, headers = fault
        details = {"retryAfterSeconds": int(headers["Retry-After"])} if "Retry-After" in headers else {}
        resp = status_response(ApiError(code, reason, message, details))
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
        return route(cluster, req)
    except ApiError as exc:
        return status_response(exc)
    except Exception as exc:  # a kubesim bug: answer like an apiserver panic would
        log.error("kubesim %s: %s %s failed:\n%s", cluster.name, req.method, req.path, traceback.format_exc())
        cluster.controller_errors.append(f"api {req.method} {req.path}: {type(exc).__name__}: {exc}")
        return status_response(E.internal(f"{type(exc).__name__}: {exc}"))


# ---------------------------------------------------------------------------- discovery


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
    if sub == "finalize" and req.method == "PUT":
        return item(cluster, req, rt, version, ns, name, None)
    raise E.method_not_allowed(rt)


def _manager(req: Request) -> str:
    fm = req.q("fieldManager")
    if fm:
        return fm
    ua = req.user_agent
    return ua.split("/")[0] if ua else "unknown"


def _dry_run(req: Request) -> bool:
    vals = req.query.get("dryRun") or []
    for v in vals:
        if v != "All":
            raise E.bad_request(f"Invalid dry run value: {v!r}")
    return bool(vals)


def _parse_body(req: Request, yaml_ok: bool = False):
    if "protobuf" in req.content_type:
        # kubesim speaks JSON only; client-go falls back to JSON on 415
        raise ApiError(415, "UnsupportedMediaType",
                       f'the body of the request was in an unknown format - accepted media types include: '
                       f'application/json, application/yaml', {})
    raw = req.body
    if not raw or not raw.strip():
        raise E.bad_request("the body of the request was empty")
    try:
        return json.loads(raw)
    except ValueError as exc:
        if yaml_ok or "yaml" in req.content_type:
            try:
                return yaml.load(raw, Loader=_YAML_LOADER)
            except yaml.YAMLError as yexc:
                raise E.bad_request(f"error decoding YAML: {str(yexc).splitlines()[0]}")
        raise E.bad_request(f"couldn't get version/kind; json parse error: {exc}")


def _present_item(cluster: Cluster, rt: ResourceType, version: str, obj: dict) -> dict:
    return cluster.present(rt, version, obj)


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
        with cluster._writing():
            obj = cluster._create(rt, version, ns, body, dry_run=dry, manager=_manager(req), admit=True,
                                  internal=False, owned=True)
        _after_write(cluster, dry)
        return json_response(201, cluster.present(rt, version, obj))
    if m == "DELETE":
        dry = _dry_run(req)
        objs, _ = cluster.list_objects(rt, ns, req.q("labelSelector"), req.q("fieldSelector"))
        out = []
        for o in objs:
            try:
                _code, body = cluster._delete(rt, version, o["metadata"].get("namespace"), o["metadata"]["name"],
                                              dry_run=dry, admit=True)
                out.append(o)
            except ApiError as exc:
                if exc.code != 404:
                    raise
        _after_write(cluster, dry)
        return json_response(200, {"kind": rt.list_kind, "apiVersion": rt.api_version(version),
                                   "metadata": {"resourceVersion": cluster.resource_version},
                                   "items": [cluster.present(rt, version, o) for o in out]})
    raise E.method_not_allowed(rt)


def _after_write(cluster: Cluster, dry: bool) -> None:
    """Let immediately-due controller work finish so clients see a converged cluster."""
    if not dry and cluster.sync_writes:
        cluster.settle(cluster.write_settle_timeout)


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
                                   manager=manager, force=force, admit=True)
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
    """Access/identity reviews: kubesim has no RBAC, so everything is allowed."""
    body = _parse_body(req)
    if not isinstance(body, dict):
        raise E.bad_request(f"the body of the request must be a {rt.kind} object")
    out = dict(body, apiVersion=rt.api_version(version), kind=rt.kind)
    out.setdefault("metadata", {})
    if rt.plural == "selfsubjectrulesreviews":
        out["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                         "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
    elif rt.plural == "selfsubjectreviews":
        out["status"] = {"userInfo": {"username": "kubesim-admin", "groups": ["system:masters",
                                                                             "system:authenticated"]}}
    else:
        out["status"] = {"allowed": True, "reason": "kubesim does not enforce RBAC"}
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


# ---------------------------------------------------------------------------- pods/log, pods/proxy, scale


def pod_log(cluster: Cluster, req: Request, rt: ResourceType, ns: str, name: str) -> Response:
    with cluster.lock:
        pod = cluster._stored(rt, ns, name)
    if pod is None:
        raise E.not_found(rt, name)
    spec = pod.get("spec") or {}
    names = [c.get("name") for c in spec.get("containers") or []]
    init_names = [c.get("name") for c in spec.get("initContainers") or []]
    container = req.q("container")
    if not container:
        if len(names) == 1:
            container = names[0]
        else:
            raise E.bad_request(f"a container name must be specified for pod {name}, choose one of: "
                                f"[{' '.join(names)}]" + (f" or one of the init containers: [{' '.join(init_names)}]"
                                                          if init_names else ""))
    elif container not in names and container not in init_names:
        raise E.bad_request(f"container {container} is not valid for pod {name}")
    if req.flag("previous"):
        raise E.bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
    since_time = req.q("sinceTime")
    since_seconds = req.q("sinceSeconds")
    if since_time and since_seconds:
        raise ApiError(422, "Invalid", 'PodLogOptions "" is invalid: []: Forbidden: at most one of `sinceTime` '
                       'or `sinceSeconds` may be specified', {"kind": "PodLogOptions"})
    cutoff = None
    try:
        if since_time:
            cutoff = parse_time(since_time)
        elif since_seconds:
            cutoff = cluster.now() - _dt.timedelta(seconds=int(since_seconds))
        tail = int(req.q("tailLines")) if req.q("tailLines") else None
        limit_bytes = int(req.q("limitBytes")) if req.q("limitBytes") else None
    except ValueError as exc:
        raise E.bad_request(f"invalid log options: {exc}")
    timestamps = req.flag("timestamps")

    def render(lines):
        if cutoff is not None:
            lines = [(t, s) for t, s in lines if t >= cutoff]
        return "".join((rfc3339nano(t) + " " if timestamps else "") + s + "\n" for t, s in lines)

    lines = cluster.pod_log_lines(ns, name, container)
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    text = render(lines)
    if limit_bytes is not None:
        text = text.encode()[:limit_bytes].decode(errors="ignore")
    if not req.flag("follow"):
        return Response(200, text.encode(), "text/plain")
    uid = pod["metadata"].get("uid")

    def stream():
        seen = len(cluster.pod_log_lines(ns, name, container))
        if text:
            yield text.encode()
        while not cluster.stopped:
            with cluster._logs_cond:
                cur = cluster._logs.get((ns, name), {}).get(container, [])
                if len(cur) <= seen:
                    cluster._logs_cond.wait(1.0)
                    cur = cluster._logs.get((ns, name), {}).get(container, [])
                new = cur[seen:]
                seen = len(cur)
            if new:
                yield render(new).encode()
            with cluster.lock:
                p = cluster._stored(rt, ns, name)
            if p is None or p["metadata"].get("uid") != uid:
                return
    return Response(200, content_type="text/plain", stream=stream())


def pod_proxy(cluster: Cluster, req: Request, rt: ResourceType, ns: Optional[str], name: Optional[str],
              subpath: str) -> Response:
    if ns is None or not name:
        raise E.unknown_resource()
    pod_name, _, port_s = name.partition(":")
    if port_s.startswith("http:"):
        port_s = port_s[5:]
    with cluster.lock:
        pod = cluster._stored(rt, ns, pod_name)
    if pod is None:
        raise E.not_found(rt, pod_name)
    port = None
    if port_s:
        if port_s.isdigit():
            port = int(port_s)
        else:
            for c in (pod.get("spec") or {}).get("containers") or []:
                for p in c.get("ports") or []:
                    if p.get("name") == port_s:
                        port = p.get("containerPort")
    else:
        for c in (pod.get("spec") or {}).get("containers") or []:
            for p in c.get("ports") or []:
                port = port or p.get("containerPort")
        port = port or 80
    handler = cluster.proxy_handler(ns, pod_name, port) if port else None
    ip = (pod.get("status") or {}).get("podIP", "10.244.0.1")
    if handler is None:
        raise ApiError(503, "ServiceUnavailable",
                       f"error trying to reach service: dial tcp {ip}:{port or port_s}: connect: connection refused",
                       {})
    path = subpath + (("?" + req.raw_query) if req.raw_query else "")
    code, ctype, body = handler(req.method, path)
    if isinstance(body, str):
        body = body.encode()
    return Response(int(code), body or b"", ctype or "text/plain")


def scale(cluster: Cluster, req: Request, rt: ResourceType, version: str, ns: str, name: str) -> Response:
    with cluster.lock:
        obj = cluster._stored(rt, ns, name)
    if obj is None:
        raise E.not_found(rt, name)

    def as_scale(o):
        md = o["metadata"]
        sel = ((o.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in md},
                "spec": {"replicas": (o.get("spec") or {}).get("replicas", 0)},
                "status": {"replicas": (o.get("status") or {}).get("replicas", 0),
                           "selector": ",".join(f"{k}={v}" for k, v in sorted(sel.items()))}}
    if req.method == "GET":
        return json_response(200, as_scale(obj))
    if req.method not in ("PUT", "PATCH"):
        raise E.method_not_allowed(rt)
    body = _parse_body(req)
    if req.method == "PATCH":
        from .patch import json_patch, merge_patch, strategic_merge_patch
        base = as_scale(obj)
        ct = req.content_type
        if ct == JSON_PATCH:
            body = json_patch(base, body)
        elif ct == MERGE_PATCH:
            body = merge_patch(base, body)
        elif ct == STRATEGIC_PATCH:
            body = strategic_merge_patch(base, body)
        else:
            raise E.unsupported_media_type()
    replicas = (body.get("spec") or {}).get("replicas") if isinstance(body, dict) else None
    if not isinstance(replicas, int) or replicas < 0:
        raise E.invalid(rt, name, [E.invalid_value("spec.replicas", replicas, "must be greater than or equal to 0")])
    want_rv = (body.get("metadata") or {}).get("resourceVersion")
    patch = [{"op": "replace" if "replicas" in (obj.get("spec") or {}) else "add", "path": "/spec/replicas",
              "value": replicas}]
    if want_rv and want_rv != obj["metadata"].get("resourceVersion"):
        raise E.conflict(rt, name)
    dry = _dry_run(req)
    _code, new = cluster._patch(rt, version, ns, name, JSON_PATCH, patch, subresource=None, dry_run=dry,
                                manager=_manager(req), force=False, admit=True)
    _after_write(cluster, dry)
    return json_response(200, as_scale(new))


# ---------------------------------------------------------------------------- admin endpoint


def admin(cluster: Cluster, req: Request) -> Response:
    """/_kubesim/...: see README. ``?cluster=NAME`` addresses a sibling in the same fleet."""
    target = req.q("cluster")
    if target and target != cluster.name:
        fleet = cluster.fleet
        if fleet is None or target not in fleet.names:
            raise E.bad_request(f"unknown cluster {target!r}")
        cluster = fleet[target]
    sub = req.path[len(ADMIN_PREFIX):].strip("/")
    m = req.method
    body = None
    if req.body and req.body.strip():
        body = json.loads(req.body)
    if sub == "":
        return json_response(200, {"cluster": cluster.name, "url": cluster.url, "resourceVersion":
                                   cluster.resource_version, "now": cluster.now_str(),
                                   "endpoints": ["requests", "faults", "clock", "logs", "errors", "settle",
                                                 "clusters"]})
    if sub == "clusters":
        fleet = cluster.fleet
        names = fleet.names if fleet is not None else [cluster.name]
        return json_response(200, {"clusters": [{"name": n, "url": (fleet[n].url if fleet else cluster.url),
                                                 "down": (fleet[n] if fleet else cluster).faults.down}
                                                for n in names]})
    if sub == "requests":
        if m == "DELETE":
            cluster.requests.clear()
            return json_response(200, {"cleared": True})
        since = int(req.q("since", "0") or 0)
        items = cluster.requests.matching(req.q("method"), req.q("path"))
        return json_response(200, {"requests": items[since:], "count": len(items)})
    if sub == "faults":
        if m == "DELETE":
            cluster.faults.reset()
        elif m in ("PUT", "POST", "PATCH"):
            if not isinstance(body, dict):
                raise E.bad_request("faults body must be a JSON object")
            if m == "PUT":
                cluster.faults.reset()
            cluster.faults.configure(**body)
        return json_response(200, cluster.faults.describe())
    if sub == "clock":
        if m == "POST":
            seconds = float((body or {}).get("advance", req.q("advance", "0")))
            cluster.clock.advance(seconds)
        return json_response(200, {"now": cluster.now_str(), "offset": cluster.clock.offset})
    if sub == "logs":
        if m != "POST" or not isinstance(body, dict):
            raise E.bad_request("POST a JSON object: namespace, pod, container (optional), line or lines")
        lines = body.get("lines") or [body.get("line", "")]
        for line in lines:
            cluster.append_log(body["namespace"], body["pod"], body.get("container"), line)
        return json_response(200, {"appended": len(lines)})
    if sub == "errors":
        return json_response(200, {"controller": list(cluster.controller_errors),
                                   "scheduler": cluster.scheduler_errors})
    if sub == "settle":
        ok = cluster.settle(float(req.q("timeout", "10")))
        return json_response(200, {"settled": ok})
    raise E.unknown_resource()
