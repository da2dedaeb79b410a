"""The ``/_kubesim`` admin endpoint: faults, clock, request log, pod logs for tests and the CLI.

Not part of any real API server; it is how a test outside the process steers the simulation.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from . import errors as E
from .request import Request, Response, json_response

if TYPE_CHECKING:  # only for annotations: kubesim.cluster imports this package
    from ..cluster import Cluster  # noqa: F401


ADMIN_PREFIX = "/_kubesim"


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
