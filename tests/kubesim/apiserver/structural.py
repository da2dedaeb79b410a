"""Pruning and defaulting of custom resources by their structural schema, as kube-apiserver does.

Follows apiextensions-apiserver pkg/apiserver/schema/pruning/algorithm.go (``PruneWithOptions``):
fields a schema does not specify are dropped unless ``x-kubernetes-preserve-unknown-fields`` is set;
``additionalProperties`` schemas apply to every key; ``items`` to every element; at the resource
root (and in ``x-kubernetes-embedded-resource`` objects) apiVersion, kind and metadata are kept.
The dropped paths are what ``fieldValidation`` reports (customresource_handler.go's unstructured
decoder: ``strict decoding error: unknown field "spec.bogusField"`` for Strict, the same text as a
warning for Warn — the default — and nothing for Ignore).
Then nulls are dropped where the schema does not allow them and has no default
(pkg/apiserver/schema/defaulting/prunenulls.go ``PruneNonNullableNullsWithoutDefaults``; array items are
kept, so a null item fails validation). Defaulting follows pkg/apiserver/schema/defaulting/algorithm.go
(``Default``): an absent property — or a null one that is not ``nullable`` — with a ``default`` gets a
copy of it, recursively.
"""

from __future__ import annotations

import copy
import json
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


def prune_nulls(schema: Optional[dict], value) -> None:
    """Drop (in place) null properties whose schema is neither ``nullable`` nor has a ``default``."""
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        for key in list(value):
            sub = props.get(key) if key in props else (addl if isinstance(addl, dict) else None)
            if not isinstance(sub, dict):
                continue
            if value[key] is None and not sub.get("nullable") and "default" not in sub:
                del value[key]
            else:
                prune_nulls(sub, value[key])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            prune_nulls(schema["items"], item)


def apply_defaults(schema: Optional[dict], value) -> None:
    """Set absent (or non-nullable null) properties that have a ``default`` (in place), then recurse."""
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, sub in props.items():
            if not isinstance(sub, dict) or "default" not in sub:
                continue
            if key not in value or (value[key] is None and not sub.get("nullable")):
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



def _go_json(obj) -> str:
    """encoding/json's compact output of an unstructured object: map keys sorted, <, > and & escaped."""
    out = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return out.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def check_patched_unknown_fields(cluster, rt, version: str, patched, field_validation: Optional[str]) -> None:
    """``fieldValidation`` for a JSON or merge PATCH of a custom resource, as
    staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go (``jsonPatcher.applyPatchToCurrentObject``)
    does it: the patched object is decoded strictly; Strict (an unknown field) is 422
    ``errors.NewInvalid(schema.GroupKind{}, "", field.Invalid(field.NewPath("patch"), <patched JSON>,
    "strict decoding error: …"))``, Warn (the default) one warning per field, Ignore nothing. The fields are
    pruned later either way."""
    from .errors import invalid

    schema = schema_for(rt, version)
    if schema is None or not isinstance(patched, dict) or field_validation == "Ignore":
        return
    dropped = prune(schema, copy.deepcopy(patched))
    if not dropped:
        return
    if field_validation == "Strict":
        detail = "strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in dropped)
        shown = json.dumps(_go_json(patched), ensure_ascii=False)  # %q of the patched JSON
        err = invalid(None, "", [("patch", "FieldValueInvalid", f"Invalid value: {shown}: {detail}")])
        raise err
    sink = getattr(cluster._tls, "warnings", None)
    if sink is not None:
        sink.extend(unknown_field_warnings(dropped))


def check_applied_unknown_fields(rt, version: str, applied) -> None:
    """An apply patch with a field the schema does not declare fails whatever ``fieldValidation`` says:
    the field manager cannot type it (staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/
    structuredmerge.go ``Apply``: ``failed to create typed patch object (ns/name; gvk): .spec.x: field not
    declared in schema``). That error is a plain Go error, so the API server answers 500 with a Status that
    has no reason (kubernetes/kubernetes issue #139253, still open)."""
    from .errors import unknown_status

    schema = schema_for(rt, version)
    if schema is None or not isinstance(applied, dict):
        return
    dropped = prune(schema, copy.deepcopy(applied))
    if not dropped:
        return
    md = applied.get("metadata") if isinstance(applied.get("metadata"), dict) else {}
    gvk = f"{rt.group}/{version}, Kind={rt.kind}" if rt.group else f"/{version}, Kind={rt.kind}"
    errs = [f".{p}: field not declared in schema" for p in dropped]
    text = errs[0] if len(errs) == 1 else "errors:\n  " + "\n  ".join(errs)
    raise unknown_status(500, f"failed to create typed patch object ({md.get('namespace') or ''}/"
                              f"{md.get('name') or ''}; {gvk}): {text}")


def value_constraints(schema: dict, value, path: str, causes: list) -> None:
    """The value keywords with kube-openapi's messages (k8s.io/kube-openapi pkg/validation/errors:
    ``%s in %s should match '%s'`` …), turned into field errors as apiextensions-apiserver's
    pkg/apiserver/validation/validation.go ``kubeOpenAPIResultToFieldErrors`` does: maxLength is
    ``field.TooLongMaxLength`` (``Too long: may not be longer than 253``), maxItems and maxProperties
    ``field.TooMany`` (``Too many: 3: must have at most 2 items``), a failed ``format``
    ``field.TypeInvalid`` (schema_formats.py), the rest ``field.Invalid``. Lengths count runes as
    kube-openapi's ``utf8.RuneCountInString`` does. ``uniqueItems: true`` is not allowed in a structural
    schema (apiextensions validation refuses it), so it never reaches here.
    Patterns are Go regexp (RE2) in kube-openapi's ``validate.Pattern``, so they are matched with RE2
    (google-re2, which cel-python brings)."""
    import re2

    from .errors import invalid_value
    from .schema_formats import format_error

    if isinstance(value, str) and not isinstance(value, bool):
        pattern = schema.get("pattern")
        if schema.get("maxLength") is not None and len(value) > schema["maxLength"]:
            causes.append((path, "FieldValueTooLong", f"Too long: may not be longer than {schema['maxLength']}"))
        if schema.get("minLength") is not None and len(value) < schema["minLength"]:
            causes.append(invalid_value(path, value, f"{path} in body should be at least {schema['minLength']} "
                                                     f"chars long"))
        if pattern is not None and re2.search(pattern, value) is None:
            causes.append(invalid_value(path, value, f"{path} in body should match '{pattern}'"))
        bad_format = format_error(path, schema.get("format") or "", value)
        if bad_format:
            causes.append((path, "FieldValueTypeInvalid", f'Invalid value: "{value}": {bad_format}'))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo is not None and (value <= lo if schema.get("exclusiveMinimum") else value < lo):
            word = "greater than" if schema.get("exclusiveMinimum") else "greater than or equal to"
            causes.append(invalid_value(path, value, f"{path} in body should be {word} {_num(lo)}"))
        if hi is not None and (value >= hi if schema.get("exclusiveMaximum") else value > hi):
            word = "less than" if schema.get("exclusiveMaximum") else "less than or equal to"
            causes.append(invalid_value(path, value, f"{path} in body should be {word} {_num(hi)}"))
        step = schema.get("multipleOf")
        if step and (value / step) != int(value / step):
            causes.append(invalid_value(path, value, f"{path} in body should be a multiple of {_num(step)}"))
    if isinstance(value, list):
        if schema.get("maxItems") is not None and len(value) > schema["maxItems"]:
            causes.append((path, "FieldValueTooMany", f"Too many: {len(value)}: must have at most "
                                                      f"{schema['maxItems']} items"))
        if schema.get("minItems") is not None and len(value) < schema["minItems"]:
            causes.append(invalid_value(path, len(value), f"{path} in body should have at least "
                                                          f"{schema['minItems']} items"))
    if isinstance(value, dict):
        if schema.get("maxProperties") is not None and len(value) > schema["maxProperties"]:
            causes.append((path, "FieldValueTooMany", f"Too many: {len(value)}: must have at most "
                                                      f"{schema['maxProperties']} items"))
        if schema.get("minProperties") is not None and len(value) < schema["minProperties"]:
            causes.append(invalid_value(path, len(value), f"{path} in body should have at least "
                                                          f"{schema['minProperties']} properties"))


def _num(n) -> str:
    """Go's %v of a float64 bound: 65535 not 65535.0."""
    return str(int(n)) if float(n).is_integer() else str(n)
