"""Server-side printing: ``meta.k8s.io/v1`` Table responses for ``kubectl get``.

kubectl asks for ``Accept: application/json;as=Table;...``; the server picks the columns
(built-in printers, or a CRD's ``additionalPrinterColumns``). Ages are rendered from the
simulated clock like apimachinery's HumanDuration.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Callable, List, Optional

from ..util import parse_time


def wants_table(accept: str) -> bool:
    return "as=Table" in (accept or "")


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if rest == 0 else f"{hours // 24 // 365}y{rest}d"
    return f"{hours // 24 // 365}y"


def _age(obj: dict, now: _dt.datetime) -> str:
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    return human_duration((now - parse_time(ts)).total_seconds())


# ------------------------------------------------------------------ a small JSONPath

_TOKEN = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_.\-]+)\s*==\s*['\"]([^'\"]*)['\"]\)\]|\['([^']+)'\]")


def jsonpath(obj, path: str):
    """Evaluate the JSONPath subset used by printer columns; None when absent."""
    p = path.strip()
    if p.startswith("{") and p.endswith("}"):
        p = p[1:-1]
    if p.startswith("$"):
        p = p[1:]
    cur = [obj]
    pos = 0
    while pos < len(p):
        m = _TOKEN.match(p, pos)
        if not m:
            return None
        pos = m.end()
        nxt = []
        for c in cur:
            if m.group(1) is not None or m.group(5) is not None:
                key = m.group(1) if m.group(1) is not None else m.group(5)
                if isinstance(c, dict) and key in c:
                    nxt.append(c[key])
            elif m.group(2) is not None:
                i = int(m.group(2))
                if isinstance(c, list) and i < len(c):
                    nxt.append(c[i])
            else:
                field, want = m.group(3), m.group(4)
                if isinstance(c, list):
                    for item in c:
                        v = item
                        for part in field.split("."):
                            v = v.get(part) if isinstance(v, dict) else None
                        if v is not None and str(v) == want:
                            nxt.append(item)
        cur = nxt
        if not cur:
            return None
    if not cur:
        return None
    return cur[0] if len(cur) == 1 else cur


def _cell(value, typ: str, now: _dt.datetime):
    if value is None:
        return "<none>" if typ in ("string", "date") else None
    if typ == "date":
        try:
            return human_duration((now - parse_time(str(value))).total_seconds())
        except ValueError:
            return str(value)
    if typ == "integer":
        return value if isinstance(value, int) else None
    if typ == "number":
        return value if isinstance(value, (int, float)) else None
    if typ == "boolean":
        return value if isinstance(value, bool) else None
    if isinstance(value, (list, dict)):
        import json
        return json.dumps(value, separators=(",", ":"))
    return str(value)


# ------------------------------------------------------------------ built-in printers

Col = tuple  # (name, type, priority, description, fn(obj, now))


def _name(o, now):
    return o["metadata"]["name"]


def _pod_ready(o, now):
    cs = (o.get("status") or {}).get("containerStatuses") or []
    total = len((o.get("spec") or {}).get("containers") or [])
    return f"{sum(1 for c in cs if c.get('ready'))}/{total}"


def _pod_status(o, now):
    if o["metadata"].get("deletionTimestamp"):
        return "Terminating"
    st = o.get("status") or {}
    for c in st.get("containerStatuses") or []:
        waiting = (c.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            return waiting["reason"]
    return st.get("reason") or st.get("phase") or "Unknown"


def _containers(o):
    spec = (o.get("spec") or {}).get("template", {}).get("spec") or {}
    return spec.get("containers") or []


def _selector(o, now):
    sel = ((o.get("spec") or {}).get("selector") or {})
    ml = sel.get("matchLabels") if isinstance(sel, dict) and "matchLabels" in sel else sel
    return ",".join(f"{k}={v}" for k, v in sorted((ml or {}).items())) or "<none>"


def _svc_ports(o, now):
    out = []
    for p in (o.get("spec") or {}).get("ports") or []:
        s = f"{p.get('port')}/{p.get('protocol', 'TCP')}"
        if p.get("nodePort"):
            s = f"{p.get('port')}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
        out.append(s)
    return ",".join(out) or "<none>"


def _node_status(o, now):
    for c in (o.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return "Ready" if c.get("status") == "True" else "NotReady"
    return "Unknown"


def _node_roles(o, now):
    roles = sorted(k.split("/", 1)[1] for k in (o["metadata"].get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/"))
    return ",".join(roles) or "<none>"


def _age_col():
    return ("Age", "string", 0, "CreationTimestamp is a timestamp representing the server time when this object "
            "was created.", _age)


NAME = ("Name", "string", 0, "Name must be unique within a namespace.", _name)

BUILTIN_COLUMNS = {
    ("", "pods"): [NAME, ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic.",
                          _pod_ready),
                   ("Status", "string", 0, "The aggregate status of the containers in this pod.", _pod_status),
                   ("Restarts", "string", 0, "The number of times the containers in this pod have been restarted.",
                    lambda o, n: str(sum(c.get("restartCount", 0) for c in
                                         (o.get("status") or {}).get("containerStatuses") or []))),
                   _age_col(),
                   ("IP", "string", 1, "IP address allocated to the pod.",
                    lambda o, n: (o.get("status") or {}).get("podIP") or "<none>"),
                   ("Node", "string", 1, "Name of the Node this pod runs on.",
                    lambda o, n: (o.get("spec") or {}).get("nodeName") or "<none>")],
    ("apps", "deployments"): [
        NAME, ("Ready", "string", 0, "Number of the pod with ready state",
               lambda o, n: f"{(o.get('status') or {}).get('readyReplicas', 0)}/{(o.get('spec') or {}).get('replicas', 0)}"),
        ("Up-to-date", "integer", 0, "Total number of non-terminated pods targeted by this deployment that have the "
         "desired template spec.", lambda o, n: (o.get("status") or {}).get("updatedReplicas", 0)),
        ("Available", "integer", 0, "Total number of available pods (ready for at least minReadySeconds) targeted "
         "by this deployment.", lambda o, n: (o.get("status") or {}).get("availableReplicas", 0)),
        _age_col(),
        ("Containers", "string", 1, "Names of each container in the template.",
         lambda o, n: ",".join(c.get("name", "") for c in _containers(o))),
        ("Images", "string", 1, "Images referenced by each container in the template.",
         lambda o, n: ",".join(c.get("image", "") for c in _containers(o))),
        ("Selector", "string", 1, "Label selector for pods.", _selector)],
    ("apps", "replicasets"): [
        NAME, ("Desired", "integer", 0, "Number of desired pods.", lambda o, n: (o.get("spec") or {}).get("replicas", 0)),
        ("Current", "integer", 0, "Number of actual replicas.", lambda o, n: (o.get("status") or {}).get("replicas", 0)),
        ("Ready", "integer", 0, "Number of ready replicas.",
         lambda o, n: (o.get("status") or {}).get("readyReplicas", 0)),
        _age_col()],
    ("", "services"): [
        NAME, ("Type", "string", 0, "The type of service.", lambda o, n: (o.get("spec") or {}).get("type", "")),
        ("Cluster-IP", "string", 0, "The cluster IP of the service.",
         lambda o, n: (o.get("spec") or {}).get("clusterIP") or "<none>"),
        ("External-IP", "string", 0, "The external IP of the service.", lambda o, n: "<none>"),
        ("Port(s)", "string", 0, "The ports exposed by the service.", _svc_ports), _age_col(),
        ("Selector", "string", 1, "The label selector of the service.", _selector)],
    ("", "secrets"): [NAME, ("Type", "string", 0, "The type of secret", lambda o, n: o.get("type", "")),
                      ("Data", "string", 0, "The number of entries in the secret",
                       lambda o, n: str(len(o.get("data") or {}))), _age_col()],
    ("", "configmaps"): [NAME, ("Data", "string", 0, "The number of entries in the config map",
                                lambda o, n: str(len(o.get("data") or {}) + len(o.get("binaryData") or {}))),
                         _age_col()],
    ("", "namespaces"): [NAME, ("Status", "string", 0, "The status of the namespace",
                                lambda o, n: (o.get("status") or {}).get("phase", "")), _age_col()],
    ("", "serviceaccounts"): [NAME, ("Secrets", "string", 0, "The number of secrets",
                                     lambda o, n: str(len(o.get("secrets") or []))), _age_col()],
    ("", "nodes"): [NAME, ("Status", "string", 0, "The status of the node", _node_status),
                    ("Roles", "string", 0, "The roles of the node", _node_roles), _age_col(),
                    ("Version", "string", 0, "Kubelet Version reported by the node.",
                     lambda o, n: ((o.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", ""))],
    ("apiextensions.k8s.io", "customresourcedefinitions"): [
        NAME, ("Created At", "date", 0, "The time when the custom resource definition was created",
               lambda o, n: o["metadata"].get("creationTimestamp"))],
}


def _crd_columns(cluster, rt, version) -> Optional[List[Col]]:
    crd = cluster.peek("apiextensions.k8s.io/v1", "customresourcedefinitions", None, rt.crd_name or "")
    if crd is None:
        return None
    for v in (crd.get("spec") or {}).get("versions") or []:
        if v.get("name") == version:
            cols = v.get("additionalPrinterColumns")
            if not cols:
                return None
            out = [NAME]
            for c in cols:
                typ = c.get("type", "string")
                jp = c.get("jsonPath", "")

                def fn(o, now, jp=jp, typ=typ):
                    return _cell(jsonpath(o, jp), typ, now)
                out.append((c.get("name", ""), typ, int(c.get("priority", 0) or 0), c.get("description", ""), fn))
            return out
    return None


def columns_for(cluster, rt, version) -> List[Col]:
    if rt.builtin:
        cols = BUILTIN_COLUMNS.get(rt.rid)
    else:
        cols = _crd_columns(cluster, rt, version)
    return cols or [NAME, ("Created At", "date", 0, "CreationTimestamp is a timestamp representing the server time "
                                                    "when this object was created.",
                           lambda o, n: o["metadata"].get("creationTimestamp"))]


def _partial(obj: dict, include: str, present: Callable[[dict], dict]):
    if include == "None":
        return None
    if include == "Object":
        return present(obj)
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def table(cluster, rt, version, objs: List[dict], resource_version: str, include: str = "Metadata",
          present: Optional[Callable[[dict], dict]] = None, headers: bool = True, extra_meta=None) -> dict:
    now = cluster.now()
    cols = columns_for(cluster, rt, version)
    present = present or (lambda o: o)
    rows = []
    for o in objs:
        cells = []
        for _n, typ, _p, _d, fn in cols:
            v = fn(o, now)
            if typ == "date" and fn is not _age:
                v = _cell(v, "date", now) if v is not None and not _looks_rendered(v) else v
            cells.append("<none>" if v is None and typ == "string" else v)
        row = {"cells": cells}
        po = _partial(o, include, present)
        if po is not None:
            row["object"] = po
        rows.append(row)
    out = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version}}
    if extra_meta:
        out["metadata"].update(extra_meta)
    out["columnDefinitions"] = [{"name": n, "type": t, "format": "name" if n == "Name" else "",
                                 "description": d, "priority": p} for n, t, p, d, _f in cols] if headers else []
    out["rows"] = rows
    return out


def _looks_rendered(v) -> bool:
    return isinstance(v, str) and not re.match(r"^\d{4}-\d\d-\d\dT", v)
