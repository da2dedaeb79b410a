"""Label and field selectors (apimachinery labels.Parse / fields.ParseSelector semantics)."""

from __future__ import annotations

import re
from typing import Callable, List, Optional

from .errors import bad_request

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VAL = r"[-A-Za-z0-9_.]*"
_SET_RE = re.compile(r"^\s*(" + _KEY + r")\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*(" + _KEY + r")\s*(==|=|!=)\s*(" + _VAL + r")\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*(" + _KEY + r")\s*$")


def _split_terms(text: str) -> List[str]:
    terms, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    terms.append("".join(cur))
    return terms


def parse_label_selector(text: Optional[str]) -> Optional[Callable[[dict], bool]]:
    """Return a predicate over a labels dict, or None when the selector is empty."""
    if text is None or not text.strip():
        return None
    reqs = []
    for term in _split_terms(text):
        if not term.strip():
            raise bad_request(f"unable to parse requirement: found '', expected: identifier in {text!r}")
        m = _SET_RE.match(term)
        if m:
            key, op, vals = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in":
                reqs.append(lambda lb, k=key, vs=vals: k in lb and lb[k] in vs)
            else:
                reqs.append(lambda lb, k=key, vs=vals: k not in lb or lb[k] not in vs)
            continue
        m = _EQ_RE.match(term)
        if m:
            key, op, val = m.groups()
            if op == "!=":
                reqs.append(lambda lb, k=key, v=val: lb.get(k) != v)
            else:
                reqs.append(lambda lb, k=key, v=val: lb.get(k) == v)
            continue
        m = _EXISTS_RE.match(term)
        if m:
            neg, key = m.groups()
            if neg:
                reqs.append(lambda lb, k=key: k not in lb)
            else:
                reqs.append(lambda lb, k=key: k in lb)
            continue
        raise bad_request(f"unable to parse requirement: invalid label selector term {term.strip()!r}")

    def match(labels: dict) -> bool:
        lb = labels or {}
        return all(r(lb) for r in reqs)

    return match


def _get_path(obj: dict, path: str):
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def parse_field_selector(text: Optional[str], allowed=()) -> Optional[Callable[[dict], bool]]:
    """Return a predicate over an object. Only metadata.name, metadata.namespace and the
    resource's own selectable fields are allowed, like the real API (400 otherwise)."""
    if text is None or not text.strip():
        return None
    reqs = []
    for term in text.split(","):
        term = term.strip()
        if not term:
            continue
        m = re.match(r"^([^!=]+)(==|=|!=)(.*)$", term)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, val = m.group(1).strip(), m.group(2), m.group(3).strip()
        if field not in ("metadata.name", "metadata.namespace") and field not in allowed:
            raise bad_request(f'field label not supported: {field}')

        def pred(obj, f=field, o=op, v=val):
            got = _get_path(obj, f)
            got = "" if got is None else str(got)
            return (got != v) if o == "!=" else (got == v)
        reqs.append(pred)
    if not reqs:
        return None
    return lambda obj: all(r(obj) for r in reqs)
