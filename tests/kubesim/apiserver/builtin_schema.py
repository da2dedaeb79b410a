"""Type and required-field checks of built-in kinds from Kubernetes' published OpenAPI schemas.

The schemas are the v1.29 definitions (kubesim reports 1.29) that the ``kubernetes-validate`` package
ships (``kubernetes_validate/kubernetes-json-schema/v1.29.0-local/_definitions.json``: the API server's
OpenAPI v2 definitions as JSON Schema, each kind tagged with ``x-kubernetes-group-version-kind``); none
is written here.

- a value of the wrong JSON type is a decode error: kube-apiserver decodes built-ins into Go structs
  (sigs.k8s.io/json, encoding/json's errors), so the first mismatch in document order is 400
  ``Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go
  struct field DeploymentSpec.spec.replicas of type int32`` (staging/src/k8s.io/apiserver/pkg/endpoints/
  handlers/create.go/update.go wrap it with ``cannot be handled as a``). The Go type is derived from the
  schema (``int32``, ``string``, ``v1.PodSpec``, ``[]v1.Container``, ``map[string]string``); named string
  types (``v1.SecretType``) print as ``string`` because the schema does not name them. JSON ``null`` is
  accepted everywhere, as Go does.
- a ``required`` property that is absent is ``<path>: Required value`` (field.Required, as
  pkg/apis/core/validation reports e.g. ``spec.template.spec.containers[0].name``), added only where
  kubesim's per-kind validation (strategies.py) has not already reported that field.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

SCHEMA_DIR = "kubernetes-json-schema/v1.29.0-local"


@lru_cache(maxsize=1)
def _definitions() -> Tuple[Dict[str, dict], Dict[Tuple[str, str, str], str]]:
    from importlib import resources

    text = resources.files("kubernetes_validate").joinpath(f"{SCHEMA_DIR}/_definitions.json").read_text()
    defs = json.loads(text)["$defs"]
    by_gvk = {}
    for name, d in defs.items():
        for gvk in d.get("x-kubernetes-group-version-kind") or []:
            by_gvk.setdefault((gvk.get("group", ""), gvk["version"], gvk["kind"]), name)
    return defs, by_gvk


def definition_for(group: str, version: str, kind: str) -> Optional[str]:
    return _definitions()[1].get((group, version, kind))


def _resolve(schema: dict) -> Tuple[dict, Optional[str]]:
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return _definitions()[0][name], name
    return schema, None


def _types(schema: dict) -> List[str]:
    t = schema.get("type")
    if t is None:
        return []
    return [x for x in ([t] if isinstance(t, str) else t) if x != "null"]


def _go_type(schema: dict) -> str:
    target, name = _resolve(schema)
    if name:
        parts = name.split(".")
        return f"{parts[-2]}.{parts[-1]}"
    types = _types(target)
    t = types[0] if types else ""
    if t == "integer":
        return target.get("format") if target.get("format") in ("int32", "int64") else "int"
    if t == "number":
        return "float64"
    if t == "boolean":
        return "bool"
    if t == "string":
        return "[]uint8" if target.get("format") == "byte" else "string"
    if t == "array":
        return "[]" + _go_type(target.get("items") or {})
    if t == "object" and isinstance(target.get("additionalProperties"), dict):
        return "map[string]" + _go_type(target["additionalProperties"])
    return "map[string]interface {}"


def _json_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    return "number"


def _fits(types: List[str], value, schema: dict) -> Optional[str]:
    """None when ``value`` fits; else the UnmarshalTypeError value word (``string``, ``number 1.5``)."""
    if not types:
        return None
    kind = _json_kind(value)
    for t in types:
        if t == "object" and kind == "object" or t == "array" and kind == "array" or \
                t == "string" and kind == "string" or t == "boolean" and kind == "bool":
            return None
        if t == "number" and kind == "number":
            return None
        if t == "integer" and kind == "number":
            bits = {"int32": 31, "int64": 63}.get(schema.get("format"), 63)
            if isinstance(value, int) and -(1 << bits) <= value < (1 << bits):
                return None
            return f"number {json.dumps(value)}"
    return kind


def _first_type_error(schema: dict, value, struct: str, fields: List[str]) -> Optional[str]:
    if value is None:
        return None
    target, name = _resolve(schema)
    if "oneOf" in target:  # IntOrString, Quantity: one of the branches' types
        if any(_fits(_types(b), value, b) is None for b in target["oneOf"]):
            return None
        return (f"json: cannot unmarshal {_json_kind(value)} into Go struct field {struct}.{'.'.join(fields)} "
                f"of type {_go_type(schema)}")
    bad = _fits(_types(target), value, target)
    if bad is not None:
        return (f"json: cannot unmarshal {bad} into Go struct field {struct}.{'.'.join(fields)} "
                f"of type {_go_type(schema)}")
    inner = name.rsplit(".", 1)[-1] if name else struct
    if isinstance(value, dict):
        props = target.get("properties") or {}
        addl = target.get("additionalProperties")
        for key, sub in value.items():
            if key in props:
                found = _first_type_error(props[key], sub, inner, fields + [key])
            elif isinstance(addl, dict):
                found = _first_type_error(addl, sub, inner, fields)
            else:
                found = None
            if found:
                return found
    elif isinstance(value, list) and isinstance(target.get("items"), dict):
        for item in value:
            found = _first_type_error(target["items"], item, inner, fields)
            if found:
                return found
    return None


def decode_error(group: str, version: str, kind: str, obj) -> Optional[str]:
    """The ``json: cannot unmarshal …`` text of the first wrong-typed value of ``obj``, or None."""
    name = definition_for(group, version, kind)
    if name is None or not isinstance(obj, dict):
        return None
    root = _definitions()[0][name]
    for key, sub in obj.items():
        props = root.get("properties") or {}
        if key in props and key not in ("apiVersion", "kind"):
            found = _first_type_error(props[key], sub, kind, [key])
            if found:
                return found
    return None


def _required(schema: dict, value, path: str, out: List[str]) -> None:
    if value is None:
        return
    target, _name = _resolve(schema)
    if isinstance(value, dict):
        props = target.get("properties") or {}
        for r in target.get("required") or []:
            if r not in value:
                out.append(f"{path}.{r}" if path else r)
        addl = target.get("additionalProperties")
        for key, sub in value.items():
            if key in props:
                _required(props[key], sub, f"{path}.{key}" if path else key, out)
            elif isinstance(addl, dict):
                _required(addl, sub, f"{path}[{key}]", out)
    elif isinstance(value, list) and isinstance(target.get("items"), dict):
        for i, item in enumerate(value):
            _required(target["items"], item, f"{path}[{i}]", out)


def missing_required(group: str, version: str, kind: str, obj) -> List[str]:
    """Paths of required properties absent from ``obj`` (in document order)."""
    name = definition_for(group, version, kind)
    if name is None or not isinstance(obj, dict):
        return []
    out: List[str] = []
    _required({"$ref": f"#/$defs/{name}"}, obj, "", out)
    return out
