"""Duplicates in ``x-kubernetes-list-type: set`` and ``map`` lists of custom resources.

Follows apiextensions-apiserver pkg/apiserver/schema/listtype/validation.go
(``ValidateListSetsAndMaps``): a set may not hold an item twice (``field.Duplicate(path[i], item)``), a
map list may not hold two items with the same ``x-kubernetes-list-map-keys`` values
(``field.Duplicate(path[i], {key: value})``). The CRD strategy runs it after schema validation and before
the CEL rules (pkg/registry/customresource/strategy.go ``Validate``).
"""

from __future__ import annotations

import json
from typing import Optional


def _go_value(v) -> str:
    """``%#v`` of the duplicate as field.Error prints it (strings quoted, numbers and bools plain)."""
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        inner = ", ".join(f"{json.dumps(k)}:{_go_value(x)}" for k, x in sorted(v.items()))
        return "map[string]interface {}{" + inner + "}"
    return json.dumps(v)


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate(schema: Optional[dict], value, path: str, causes: list) -> None:
    if not isinstance(schema, dict) or value is None:
        return
    if isinstance(value, list):
        kind = schema.get("x-kubernetes-list-type")
        if kind == "set":
            seen = []
            for i, item in enumerate(value):
                if item in seen:
                    causes.append((f"{path}[{i}]", "FieldValueDuplicate", f"Duplicate value: {_go_value(item)}"))
                else:
                    seen.append(item)
        elif kind == "map":
            keys = list(schema.get("x-kubernetes-list-map-keys") or [])
            seen = []
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    continue
                ident = {k: item[k] for k in keys if k in item}
                if ident in seen:
                    causes.append((f"{path}[{i}]", "FieldValueDuplicate", f"Duplicate value: {_go_value(ident)}"))
                else:
                    seen.append(ident)
        if isinstance(schema.get("items"), dict):
            for i, item in enumerate(value):
                validate(schema["items"], item, f"{path}[{i}]", causes)
    elif isinstance(value, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        for k, v in value.items():
            sub = props.get(k) if k in props else (addl if isinstance(addl, dict) else None)
            validate(sub, v, _child(path, k), causes)
