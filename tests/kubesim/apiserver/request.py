"""One API request and its response, and the request options every verb reads.

``Request``/``Response`` are HTTP-agnostic: ``server`` moves bytes, ``routing`` decides.
fieldManager defaulting follows staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go
(the user agent's first token); dryRun=All as in handlers/create.go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs

import yaml

from . import errors as E
from ..controllers.base import ApiError
from .registry import ResourceType
from ..util import dumps

if TYPE_CHECKING:  # only for annotations: kubesim.cluster imports this package
    from ..cluster import Cluster  # noqa: F401
    from .authentication import UserInfo  # noqa: F401


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Request:
    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes = b""
    raw_query: str = ""
    peer: Optional[Tuple[str, List[str]]] = None  # (CN, O values) of a verified client certificate
    header_lists: Dict[str, List[str]] = field(default_factory=dict)  # headers sent more than once
    user: Optional["UserInfo"] = None  # set by authentication (after impersonation)

    def header_values(self, name: str) -> List[str]:
        """Every value of a header that may repeat (Impersonate-Group), in order."""
        name = name.lower()
        if name in self.header_lists:
            return list(self.header_lists[name])
        return [self.headers[name]] if name in self.headers else []

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


def _after_write(cluster: Cluster, dry: bool) -> None:
    """Let immediately-due controller work finish so clients see a converged cluster."""
    if not dry and cluster.sync_writes:
        cluster.settle(cluster.write_settle_timeout)
