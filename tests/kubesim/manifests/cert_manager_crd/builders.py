"""The few schema shapes controller-gen emits for cert-manager's Go types.

Each builder corresponds to one Go construct, so a type file reads like its Go source:
``string`` → :func:`string`, ``[]string`` → :func:`strings`, a struct → :func:`obj`.
``atomic`` is whether the release carries ``+listType=atomic`` markers (v1.19 on).
"""

from __future__ import annotations

from typing import Iterable, Optional


def string(**extra) -> dict:
    return {"type": "string", **extra}


def time() -> dict:
    """``metav1.Time`` / ``*metav1.Time``."""
    return {"type": "string", "format": "date-time"}


def integer(fmt: Optional[str] = None, **extra) -> dict:
    s = {"type": "integer", **extra}
    if fmt:
        s["format"] = fmt
    return s


def boolean() -> dict:
    return {"type": "boolean"}


def enum(*values: str) -> dict:
    return {"type": "string", "enum": list(values)}


def array(items: dict, atomic: bool = False, **extra) -> dict:
    s = {"type": "array", "items": items, **extra}
    if atomic:
        s["x-kubernetes-list-type"] = "atomic"
    return s


def strings(atomic: bool = False) -> dict:
    """``[]string`` (with ``+listType=atomic`` where the release marks it)."""
    return array(string(), atomic)


def string_map() -> dict:
    """``map[string]string``."""
    return {"type": "object", "additionalProperties": string()}


def obj(props: dict, required: Iterable[str] = (), **extra) -> dict:
    s = {"type": "object", "properties": props, **extra}
    req = list(required)
    if req:
        s["required"] = req
    return s


def root(spec: dict, status: dict) -> dict:
    """A CRD's top level: TypeMeta, ObjectMeta (``metadata: {type: object}``), spec, status."""
    return obj({"apiVersion": string(), "kind": string(), "metadata": {"type": "object"}, "spec": spec,
                "status": status})
