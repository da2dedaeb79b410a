"""``x-kubernetes-validations`` (CEL) rules of custom resources, evaluated with cel-python (``celpy``).

Follows kubernetes 1.29 (the version kubesim reports)
staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go:

- ``Validator.validate`` walks the schema with the value: rules of a node run with ``self`` bound to the
  value there (never to null: ``validateExpressions`` skips null values); then properties,
  ``additionalProperties`` and ``items`` are walked. ``oldSelf`` is the correlated old value: map keys
  and properties correlate, list items only in ``x-kubernetes-list-type: map`` lists (by their keys).
  A rule using ``oldSelf`` (a transition rule) runs only where an old value exists.
- a false rule is ``field.Invalid(path, <schema type>, detail)`` — ``spec.venafi: Invalid value:
  "object": exactly one of tpp, cloud, or ngts must be configured`` — with ``path`` extended by the rule's
  ``fieldPath``; ``reason`` picks ``Forbidden``/``Required``/``Duplicate`` as ``fieldErrorForReason`` does;
  the detail is ``messageExpression``'s string, else ``message``, else ``failed rule: <rule>``
  (``ruleMessageOrDefault``; a failing messageExpression falls back to it).
- a rule that does not evaluate is ``<error> evaluating rule: <rule>``; one that does not compile is
  ``rule compile error: …`` (apiextensions refuses such a CRD at creation; kubesim reports it per object).
- at the resource root ``self`` carries apiVersion, kind and metadata.name/generateName only
  (``model.WithTypeAndObjectMeta``); the root path prints as ``<nil>`` like a nil ``field.Path``.

Kubernetes' CEL environment adds libraries (lists, regex, url, quantity, ip/cidr, authz); none of the
CRDs kubesim serves uses them (cert-manager's only rule is ``has()`` arithmetic on Issuers' ``venafi``), so
only CEL's standard environment — ``has``, ``size``, ``matches``, macros — is bound. The cost budget is not
modelled.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Dict, List, Optional, Tuple

import celpy

from .errors import invalid_value

_ENV = celpy.Environment()
_CACHE: Dict[str, Tuple[Any, Optional[str]]] = {}
_LOCK = threading.Lock()
_OLD_SELF = re.compile(r"\boldSelf\b")
ROOT = "<nil>"


def _program(expr: str):
    """(program, None) or (None, compile error text), cached per expression."""
    with _LOCK:
        hit = _CACHE.get(expr)
    if hit is None:
        try:
            hit = (_ENV.program(_ENV.compile(expr)), None)
        except celpy.CELParseError as exc:
            hit = (None, " ".join(str(exc).split()))
        with _LOCK:
            _CACHE[expr] = hit
    return hit


def _eval(expr: str, self_value, old_value, has_old: bool):
    """The CEL result, or raise ``celpy.CELEvalError``."""
    prog, err = _program(expr)
    if prog is None:
        raise SyntaxError(err)
    activation = {"self": celpy.json_to_cel(self_value)}
    if has_old:
        activation["oldSelf"] = celpy.json_to_cel(old_value)
    out = prog.evaluate(activation)
    if isinstance(out, celpy.CELEvalError):
        raise out
    return out


def _eval_error_text(exc: Exception) -> str:
    """cel-go's runtime error texts for the common cases (``no such key: x``, ``division by zero``)."""
    args = getattr(exc, "args", ())
    text = str(args[0]) if args else str(exc)
    m = re.match(r"no such member in mapping: '(.*)'", text)
    if m:
        return f"no such key: {m.group(1)}"
    if "divide by zero" in text:
        return "division by zero"
    return text


def _child(path: str, name: str) -> str:
    return name if path in ("", ROOT) else f"{path}.{name}"


def _rule_field_path(path: str, field_path: str) -> str:
    """``fieldPath`` (``.a.b`` or ``['a']``) appended to ``path`` (``NormalizedRuleFieldPath``)."""
    out = path
    for part in re.findall(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]", field_path):
        out = _child(out, part[0] or part[1])
    return out


def _rule_error(path: str, type_: str, detail: str, reason: Optional[str]) -> tuple:
    if reason == "FieldValueForbidden":
        return (path, "FieldValueForbidden", f"Forbidden: {detail}")
    if reason == "FieldValueRequired":
        return (path, "FieldValueRequired", f"Required value: {detail}")
    if reason == "FieldValueDuplicate":
        return (path, "FieldValueDuplicate", f'Duplicate value: "{type_}"')
    return invalid_value(path, type_, detail)


def _message(rule: dict, self_value, old_value, has_old: bool) -> str:
    expr = rule.get("messageExpression")
    if expr:
        try:
            out = _eval(expr, self_value, old_value, has_old)
        except (celpy.CELEvalError, SyntaxError, TypeError):
            out = None
        if isinstance(out, str) and out.strip() and "\n" not in out:
            return out.strip()
    if (rule.get("message") or "").strip():
        return rule["message"].strip()
    return f"failed rule: {(rule.get('rule') or '').strip()}"


def _check_rules(schema: dict, value, old, has_old: bool, path: str, causes: list) -> None:
    type_ = schema.get("type") or ""
    for rule in schema.get("x-kubernetes-validations") or []:
        expr = (rule.get("rule") or "").strip()
        if not expr:
            continue
        if _OLD_SELF.search(expr) and not has_old:
            continue  # transition rules need a comparable existing value
        _prog, compile_error = _program(expr)
        if compile_error is not None:
            causes.append(invalid_value(path, type_, f"rule compile error: {compile_error}"))
            continue
        try:
            result = _eval(expr, value, old, has_old)
        except (celpy.CELEvalError, TypeError) as exc:
            causes.append(invalid_value(path, type_, f"{_eval_error_text(exc)} evaluating rule: "
                                                     f"{(rule.get('message') or '').strip() or expr}"))
            continue
        if result is True or (isinstance(result, celpy.celtypes.BoolType) and bool(result)):
            continue
        where = _rule_field_path(path, rule["fieldPath"]) if rule.get("fieldPath") else path
        causes.append(_rule_error(where, type_, _message(rule, value, old, has_old), rule.get("reason")))


def _map_keys(schema: dict) -> Optional[List[str]]:
    if schema.get("x-kubernetes-list-type") == "map":
        return list(schema.get("x-kubernetes-list-map-keys") or [])
    return None


def walk(schema: Optional[dict], value, old, has_old: bool, path: str, causes: list) -> None:
    """Evaluate every rule under ``schema`` for ``value`` (old value ``old`` when ``has_old``)."""
    if not isinstance(schema, dict) or value is None:
        return
    _check_rules(schema, value, old, has_old, path, causes)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        old_map = old if has_old and isinstance(old, dict) else {}
        for key, sub in value.items():
            sub_schema = props.get(key) if key in props else (addl if isinstance(addl, dict) else None)
            if sub_schema is None:
                continue
            walk(sub_schema, sub, old_map.get(key), key in old_map, _child(path, key), causes)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        keys = _map_keys(schema)
        old_items = {}
        if keys is not None and has_old and isinstance(old, list):
            for item in old:
                if isinstance(item, dict):
                    old_items[tuple(repr(item.get(k)) for k in keys)] = item
        for i, item in enumerate(value):
            key = tuple(repr(item.get(k)) for k in keys) if keys is not None and isinstance(item, dict) else None
            walk(schema["items"], item, old_items.get(key), key in old_items, f"{path}[{i}]", causes)


def _root_view(obj: dict) -> dict:
    """``self`` at the resource root: apiVersion, kind and metadata.name/generateName only."""
    out = dict(obj)
    md = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    out["metadata"] = {k: md[k] for k in ("name", "generateName") if k in md}
    return out


_HAS_RULES: Dict[int, Tuple[dict, bool]] = {}


def has_rules(schema) -> bool:
    """Whether any node of ``schema`` carries rules (remembered per served schema object)."""
    hit = _HAS_RULES.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    found = _has_rules(schema)
    _HAS_RULES[id(schema)] = (schema, found)
    return found


def _has_rules(schema) -> bool:
    if isinstance(schema, dict):
        if schema.get("x-kubernetes-validations"):
            return True
        return any(_has_rules(v) for v in schema.values() if isinstance(v, (dict, list)))
    if isinstance(schema, list):
        return any(_has_rules(v) for v in schema)
    return False


BLOCKING = ("FieldValueNotSupported", "FieldValueTypeInvalid")


def validate(schema: dict, obj: dict, old: Optional[dict], causes: list) -> None:
    """Append the CEL rule failures of ``obj`` to ``causes``; when schema validation already found a type
    or enum error the rules are not run (strategy.go ``hasBlockingErr``) and one cause says so."""
    if not has_rules(schema):
        return
    if any(c[1] in BLOCKING for c in causes):
        # field.Invalid(nil, nil, …): a nil value prints as "null" (field.Error.ErrorBody)
        causes.append(invalid_value(ROOT, "null", "some validation rules were not checked because the object was "
                                                "invalid; correct the existing errors to complete validation"))
        return
    found: list = []
    walk(schema, _root_view(obj), _root_view(old) if old is not None else None, old is not None, ROOT, found)
    causes.extend(found)
