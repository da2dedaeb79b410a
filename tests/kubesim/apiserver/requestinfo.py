"""What a request asks to do, in the terms authorization speaks: verb, group, resource, name.

A transcription of staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go
(``RequestInfoFactory.NewRequestInfo``): paths under /api and /apis are resource requests
(``/namespaces/<ns>/...`` sets the namespace, so ``GET /api/v1/namespaces/foo`` is "get
namespaces foo in namespace foo"); the HTTP method gives the verb, a GET without a name is
list or watch (``?watch``), a DELETE without a name deletecollection; ``/watch/`` and
``/proxy/`` path prefixes are verbs; a list or watch with ``fieldSelector=metadata.name=X``
names X. Everything else is a non-resource request whose verb is the lower-cased method.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .request import Request  # noqa: F401

API_PREFIXES = ("api", "apis")
GROUPLESS_PREFIXES = ("api",)
SPECIAL_VERBS = ("proxy", "watch")
SPECIAL_VERBS_NO_SUBRESOURCES = ("proxy",)
NAMESPACE_SUBRESOURCES = ("status", "finalize")
_METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass
class Attributes:
    """authorizer.AttributesRecord (staging/src/k8s.io/apiserver/pkg/authorization/authorizer/interfaces.go)."""

    verb: str
    resource_request: bool
    path: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


def _exact_name(field_selector: Optional[str]) -> str:
    """fieldSelector ``metadata.name=X`` (or ``==``) alone or among other terms: X, else ""."""
    if not field_selector:
        return ""
    for term in field_selector.split(","):
        key, sep, value = term.partition("==") if "==" in term else term.partition("=")
        if sep and not key.endswith("!") and key.strip() == "metadata.name" and value and "/" not in value \
                and value not in (".", ".."):
            return value.strip()
    return ""


def request_info(req: "Request") -> Attributes:
    method = req.method.upper()
    parts = [p for p in req.path.strip("/").split("/") if p] if req.path.strip("/") else []
    info = Attributes(verb=method.lower(), resource_request=False, path=req.path)
    if len(parts) < 3 or parts[0] not in API_PREFIXES:
        return info
    prefix, parts = parts[0], parts[1:]
    group = ""
    if prefix not in GROUPLESS_PREFIXES:
        if len(parts) < 3:
            return info
        group, parts = parts[0], parts[1:]
    info.resource_request = True
    info.api_group = group
    info.api_version, parts = parts[0], parts[1:]
    if parts and parts[0] in SPECIAL_VERBS:
        if len(parts) < 2:
            return info
        info.verb, parts = parts[0], parts[1:]
    else:
        info.verb = _METHOD_VERBS.get(method, "")
    if parts and parts[0] == "namespaces":
        if len(parts) > 1:
            info.namespace = parts[1]
            if len(parts) > 2 and parts[2] not in NAMESPACE_SUBRESOURCES:
                parts = parts[2:]
    if len(parts) >= 3 and info.verb not in SPECIAL_VERBS_NO_SUBRESOURCES:
        info.subresource = parts[2]
    if len(parts) >= 2:
        info.name = parts[1]
    if len(parts) >= 1:
        info.resource = parts[0]
    if not info.name and info.verb == "get":
        watch = req.query.get("watch")
        info.verb = "watch" if watch and watch[0].lower() not in ("false", "0") else "list"
        info.name = _exact_name(req.q("fieldSelector"))
    if not info.name and info.verb == "delete":
        info.verb = "deletecollection"
    return info

