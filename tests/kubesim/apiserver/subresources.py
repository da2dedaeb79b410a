"""The subresources with their own semantics: pods/log, pods/proxy and */scale.

pods/log follows pkg/registry/core/pod/rest/log.go (container, tailLines, sinceSeconds,
timestamps, follow); pods/proxy pkg/registry/core/pod/rest/subresources.go (ProxyREST);
scale pkg/registry/apps/deployment/storage/storage.go (ScaleREST, autoscaling/v1 Scale).
"""

from __future__ import annotations

import datetime as _dt
import logging
from typing import TYPE_CHECKING, Optional

from . import errors as E
from ..controllers.base import ApiError
from .registry import ResourceType
from .request import Request, Response, _after_write, _dry_run, _manager, _parse_body, json_response
from ..util import parse_time, rfc3339nano
from .verbs import JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH

if TYPE_CHECKING:  # only for annotations: kubesim.cluster imports this package
    from ..cluster import Cluster  # noqa: F401

log = logging.getLogger("kubesim.api")

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
