"""Constructors for the Status errors of staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go.

``details.kind`` is the plural resource (except for Invalid, which uses the Kind);
``group`` is omitted for the core group.
"""

from __future__ import annotations

from typing import Optional

from ..controllers.base import ApiError


def _details(rt, name: Optional[str], kind: Optional[str] = None) -> dict:
    d = {}
    if name is not None:
        d["name"] = name
    if rt is not None and rt.group:
        d["group"] = rt.group
    d["kind"] = kind or (rt.plural if rt is not None else "")
    return d


def not_found(rt, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def namespace_not_found(ns: str) -> ApiError:
    return ApiError(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})


def unknown_resource() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(rt, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{rt.qualified} "{name}" already exists', _details(rt, name))


def conflict(rt, name: str, why: str = "the object has been modified; please apply your changes "
                                       "to the latest version and try again") -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {rt.qualified} "{name}": {why}',
                    _details(rt, name))


def invalid(rt, name: str, causes: list) -> ApiError:
    """causes: list of (field, reason, message) where message is e.g. 'Required value'.
    ``rt`` None is ``schema.GroupKind{}`` (patch.go's strict-decoding error): empty kind, no group/kind keys."""
    if rt is None:
        out = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
        text = ", ".join(f"{f}: {m}" for f, _r, m in causes)
        text = text if len(causes) == 1 else f"[{text}]"
        return ApiError(422, "Invalid", f' "{name}" is invalid: {text}', {"causes": out})
    kind = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
    parts = []
    out = []
    for field, reason, message in causes:
        parts.append(f"{field}: {message}")
        out.append({"reason": reason, "message": message, "field": field})
    if len(parts) == 1:
        text = parts[0]
    else:
        text = "[" + ", ".join(parts) + "]"
    d = {"name": name or ""}
    if rt.group:
        d["group"] = rt.group
    d["kind"] = rt.kind
    d["causes"] = out
    return ApiError(422, "Invalid", f'{kind} "{name or ""}" is invalid: {text}', d)


def required(field: str, detail: str = "") -> tuple:
    return (field, "FieldValueRequired", "Required value" + (f": {detail}" if detail else ""))


def invalid_value(field: str, value, detail: str) -> tuple:
    if isinstance(value, str):
        shown = '"' + value + '"'
    elif value is None:
        shown = "null"
    else:
        shown = str(value)
    return (field, "FieldValueInvalid", f"Invalid value: {shown}: {detail}")


def forbidden_field(field: str, detail: str) -> tuple:
    return (field, "FieldValueForbidden", f"Forbidden: {detail}")


class _UnknownStatusError(ApiError):
    """A plain Go error turned into a Status by responsewriters' ``ErrorToAPIStatus``: code and message,
    no reason, no details."""

    def status_body(self) -> dict:
        body = super().status_body()
        body.pop("reason", None)
        body.pop("details", None)
        return body


def unknown_status(code: int, message: str) -> ApiError:
    return _UnknownStatusError(code, "", message, None)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message, {})


def unsupported_media_type(accepted=("application/json-patch+json", "application/merge-patch+json",
                                     "application/apply-patch+yaml")) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    + ", ".join(accepted), {})


def method_not_allowed(rt=None) -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                    _details(rt, None) if rt is not None else {})


def forbidden(rt, name: str, message: str, causes: Optional[list] = None) -> ApiError:
    d = _details(rt, name)
    if causes:
        d["causes"] = causes
    return ApiError(403, "Forbidden", message, d)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


def expired(message: str) -> ApiError:
    return ApiError(410, "Expired", message, {})


__all__ = ["ApiError", "not_found", "namespace_not_found", "unknown_resource", "already_exists", "conflict",
           "invalid", "required", "invalid_value", "forbidden_field", "bad_request", "unsupported_media_type",
           "method_not_allowed", "forbidden", "internal", "expired", "unknown_status"]
