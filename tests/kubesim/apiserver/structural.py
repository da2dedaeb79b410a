"""Pruning and defaulting of custom resources by their structural schema, as kube-apiserver does.

Follows apiextensions-apiserver pkg/apiserver/schema/pruning/algorithm.go (``PruneWithOptions``):
fields a schema does not specify are dropped unless ``x-kubernetes-preserve-unknown-fields`` is set;
``additionalProperties`` schemas apply to every key; ``items`` to every element; at the resource
root (and in ``x-kubernetes-embedded-resource`` objects) apiVersion, kind and metadata are kept.
The dropped paths are what ``fieldValidation`` reports (customresource_handler.go's unstructured
decoder: ``strict decoding error: unknown field "spec.bogusField"`` for Strict, the same text as a
warning for Warn — the default — and nothing for Ignore).
Defaulting follows pkg/apiserver/schema/defaulting/algorithm.go (``Default``): an absent property
with a ``default`` gets a copy of it, recursively, after pruning.
"""

from __future__ import annotations

import copy
from typing import List, Optional

_ROOT_KEEP = ("apiVersion", "kind", "metadata")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def prune(schema: Optional[dict], value, path: str = "", root: bool = True) -> List[str]:
    """Drop the fields of ``value`` (in place) that ``schema`` does not specify; return their paths."""
    if not isinstance(schema, dict):
        return []
    dropped: List[str] = []
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        keep_meta = root or schema.get("x-kubernetes-embedded-resource")
        for key in list(value):
            sub = _join(path, key)
            if keep_meta and key in _ROOT_KEEP:
                if key != "metadata" and key in props:
                    dropped += prune(props[key], value[key], sub, False)
                continue
            if key in props:
                dropped += prune(props[key], value[key], sub, False)
            elif isinstance(addl, dict):
                dropped += prune(addl, value[key], sub, False)
            elif addl is True or preserve:
                continue
            else:
                del value[key]
                dropped.append(sub)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            dropped += prune(schema["items"], item, f"{path}[{i}]", False)
    return dropped


def apply_defaults(schema: Optional[dict], value) -> None:
    """Set absent properties that have a ``default`` (in place), then recurse into present ones."""
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, sub in props.items():
            if key not in value and isinstance(sub, dict) and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
        for key, item in value.items():
            if key in props:
                apply_defaults(props[key], item)
            elif isinstance(schema.get("additionalProperties"), dict):
                apply_defaults(schema["additionalProperties"], item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(schema["items"], item)


def strict_decoding_error(kind: str, version: str, dropped: List[str]) -> str:
    """The 400 message of a Strict write with unknown fields (apimachinery runtime.NewStrictDecodingError,
    wrapped by the handler's "cannot be handled as a" message)."""
    fields = ", ".join(f'unknown field "{p}"' for p in dropped)
    return f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: {fields}'


def unknown_field_warnings(dropped: List[str]) -> List[str]:
    return [f'unknown field "{p}"' for p in dropped]


def schema_for(rt, version: str) -> Optional[dict]:
    """The structural schema a custom resource type serves ``version`` with (None for built-ins)."""
    if rt.builtin:
        return None
    return rt.schemas.get(version) or rt.schemas.get(rt.storage_version)


def check_unknown_fields(cluster, rt, version: str, body, field_validation: Optional[str]) -> None:
    """``fieldValidation`` for a create/update body of a custom resource: Strict refuses unknown
    fields (400), Warn (the default since Kubernetes 1.27) sends one warning per field, Ignore is
    silent. The fields are pruned later either way (``prepare``)."""
    from .errors import bad_request

    schema = schema_for(rt, version)
    if schema is None or not isinstance(body, dict) or field_validation == "Ignore":
        return
    dropped = prune(schema, copy.deepcopy(body))
    if not dropped:
        return
    if field_validation == "Strict":
        raise bad_request(strict_decoding_error(rt.kind, version, dropped))
    sink = getattr(cluster._tls, "warnings", None)
    if sink is not None:
        sink.extend(unknown_field_warnings(dropped))


def value_constraints(schema: dict, value, path: str, causes: list) -> None:
    """pattern, minLength, minimum/maximum and minItems, with kube-openapi's messages
    (k8s.io/kube-openapi pkg/validation/errors: ``%s in %s should match '%s'`` …), reported by
    apiextensions-apiserver's kubeOpenAPIResultToFieldErrors as ``field.Invalid`` (the default case).
    Patterns are ECMA/RE2 in Kubernetes; Python's ``re`` agrees on the ones CRDs use."""
    import re

    from .errors import invalid_value

    if isinstance(value, str) and not isinstance(value, bool):
        pattern = schema.get("pattern")
        if pattern is not None and re.search(pattern, value) is None:
            causes.append(invalid_value(path, value, f"{path} in body should match '{pattern}'"))
        if schema.get("minLength") is not None and len(value) < schema["minLength"]:
            causes.append(invalid_value(path, value, f"{path} in body should be at least {schema['minLength']} "
                                                     f"chars long"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and (value <= lo if schema.get("exclusiveMinimum") else value < lo):
            word = "greater than" if schema.get("exclusiveMinimum") else "greater than or equal to"
            causes.append(invalid_value(path, value, f"{path} in body should be {word} {_num(lo)}"))
        if hi is not None and (value >= hi if schema.get("exclusiveMaximum") else value > hi):
            word = "less than" if schema.get("exclusiveMaximum") else "less than or equal to"
            causes.append(invalid_value(path, value, f"{path} in body should be {word} {_num(hi)}"))
    if isinstance(value, list) and schema.get("minItems") is not None and len(value) < schema["minItems"]:
        causes.append(invalid_value(path, len(value), f"{path} in body should have at least {schema['minItems']} "
                                                      f"items"))


def _num(n) -> str:
    """Go's %v of a float64 bound: 65535 not 65535.0."""
    return str(int(n)) if float(n).is_integer() else str(n)
