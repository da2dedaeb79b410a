"""The three non-apply patch formats: JSON patch (RFC 6902), JSON merge patch (RFC 7386)
and Kubernetes strategic merge patch for built-in kinds.

Each function returns a new document and never mutates its inputs (stored objects are
shared read-only between requests).
"""

from __future__ import annotations

from typing import Optional, Tuple

from .errors import ApiError, bad_request
from ..util import deep_copy


class PatchError(ApiError):
    """A patch that is well-formed but cannot be applied (422, like the apiserver)."""

    def __init__(self, message: str):
        super().__init__(422, "Invalid", message, {})


# ---------------------------------------------------------------- JSON patch


def _unescape(tok: str) -> str:
    return tok.replace("~1", "/").replace("~0", "~")


def _pointer(path: str):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer: {path!r}")
    return [_unescape(t) for t in path[1:].split("/")]


def _resolve_parent(doc, tokens, path):
    cur = doc
    for t in tokens[:-1]:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchError(f"doc is missing path: \"{path}\": missing value")
            cur = cur[t]
        elif isinstance(cur, list):
            try:
                cur = cur[int(t)]
            except (ValueError, IndexError):
                raise PatchError(f"doc is missing path: \"{path}\": missing value")
        else:
            raise PatchError(f"doc is missing path: \"{path}\": missing value")
    return cur


def _get(doc, tokens, path):
    parent = _resolve_parent(doc, tokens, path) if tokens else None
    if not tokens:
        return doc
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"doc is missing path: \"{path}\": missing value")
        return parent[last]
    if isinstance(parent, list):
        try:
            return parent[int(last)]
        except (ValueError, IndexError):
            raise PatchError(f"doc is missing path: \"{path}\": missing value")
    raise PatchError(f"doc is missing path: \"{path}\": missing value")


def _add(doc, tokens, value, path):
    if not tokens:
        return value
    parent = _resolve_parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                i = int(last)
            except ValueError:
                raise PatchError(f"invalid array index {last!r} in \"{path}\"")
            if i < 0 or i > len(parent):
                raise PatchError(f"add operation does not apply: doc is missing path: \"{path}\"")
            parent.insert(i, value)
    else:
        raise PatchError(f"doc is missing path: \"{path}\": missing value")
    return doc


def _remove(doc, tokens, path):
    if not tokens:
        raise PatchError("cannot remove the document root")
    parent = _resolve_parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"Unable to remove nonexistent key: {last}: missing value")
        return parent.pop(last)
    if isinstance(parent, list):
        try:
            return parent.pop(int(last))
        except (ValueError, IndexError):
            raise PatchError(f"Unable to remove nonexistent index in \"{path}\"")
    raise PatchError(f"doc is missing path: \"{path}\": missing value")


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = deep_copy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise bad_request("json patch operation is missing 'op'")
        kind = op["op"]
        path = op.get("path")
        if not isinstance(path, str):
            raise bad_request(f"json patch operation {kind!r} is missing 'path'")
        tokens = _pointer(path)
        if kind == "add":
            doc = _add(doc, tokens, deep_copy(op.get("value")), path)
        elif kind == "remove":
            _remove(doc, tokens, path)
        elif kind == "replace":
            if tokens:
                _get(doc, tokens, path)
                _remove(doc, tokens, path)
            doc = _add(doc, tokens, deep_copy(op.get("value")), path)
        elif kind in ("move", "copy"):
            frm = op.get("from")
            if not isinstance(frm, str):
                raise bad_request(f"json patch {kind} operation is missing 'from'")
            ftok = _pointer(frm)
            value = deep_copy(_get(doc, ftok, frm))
            if kind == "move":
                _remove(doc, ftok, frm)
            doc = _add(doc, tokens, value, path)
        elif kind == "test":
            if _get(doc, tokens, path) != op.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise bad_request(f"Unexpected kind: {kind}")
    return doc


# ---------------------------------------------------------------- merge patch


def merge_patch(doc, patch):
    if not isinstance(patch, dict):
        return deep_copy(patch)
    result = dict(doc) if isinstance(doc, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            result[k] = merge_patch(result.get(k), v)
        else:
            result[k] = deep_copy(v)
    return result


# ---------------------------------------------------------------- strategic merge patch

# Merge keys of built-in list fields (x-kubernetes-patch-merge-key / patchStrategy=merge in
# the k8s OpenAPI). Keyed by field name; "ports" depends on its parent.
_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "conditions": "type", "hostAliases": "ip", "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey", "resourceClaims": "name", "schedulingGates": "name",
    "secrets": "name", "taints": "key", "addresses": "type", "images": None,
}
# Lists of scalars merged as sets (patchStrategy merge without key).
_PRIMITIVE_MERGE = {"finalizers"}


def merge_key(path: Tuple[str, ...]) -> Optional[str]:
    """Merge key for the list at ``path`` (map keys only; list positions elided)."""
    if not path:
        return None
    name = path[-1]
    if name == "ports":
        if "containers" in path or "initContainers" in path or "ephemeralContainers" in path:
            return "containerPort"
        if len(path) >= 2 and path[-2] == "spec":
            return "port"
        return None
    if name == "conditions" and path[:1] != ("status",) and "status" not in path:
        return None
    if name == "secrets" and path != ("secrets",):
        return None
    if name == "addresses" and "status" not in path:
        return None
    return _MERGE_KEYS.get(name)


def _strip_directives(v):
    if isinstance(v, dict):
        return {k: _strip_directives(x) for k, x in v.items() if not k.startswith("$")}
    if isinstance(v, list):
        return [_strip_directives(x) for x in v if not (isinstance(x, dict) and x.get("$patch") == "delete")]
    return v


_DELETE = object()


def _smp_map(orig, patch, path):
    if not isinstance(orig, dict):
        orig = {}
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives(deep_copy(patch))
    if directive == "delete":
        return _DELETE
    if directive is not None:
        raise bad_request(f"Unknown patch type: {directive}")
    result = dict(orig)
    orders = {}
    for k, v in patch.items():
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(v, list):
                result[field] = [x for x in result[field] if x not in v]
            continue
        if k in ("$patch", "$retainKeys"):
            continue
        if v is None:
            result.pop(k, None)
            continue
        cur = result.get(k)
        if isinstance(v, dict):
            merged = _smp_map(cur, v, path + (k,))
            if merged is _DELETE:
                result.pop(k, None)
            else:
                result[k] = merged
        elif isinstance(v, list):
            result[k] = _smp_list(cur if isinstance(cur, list) else [], v, path + (k,))
        else:
            result[k] = deep_copy(v)
    for field, order in orders.items():
        if isinstance(result.get(field), list) and isinstance(order, list):
            result[field] = _reorder(result[field], order, merge_key(path + (field,)))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _reorder(items, order, key):
    def ident(x):
        if key and isinstance(x, dict):
            return ("k", repr(x.get(key)))
        return ("v", repr(x))
    pos = {ident(o): i for i, o in enumerate(order)}
    listed = [x for x in items if ident(x) in pos]
    listed.sort(key=lambda x: pos[ident(x)])
    rest = [x for x in items if ident(x) not in pos]
    return listed + rest


def _smp_list(orig, patch, path):
    key = merge_key(path)
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [_strip_directives(deep_copy(x)) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    if path[-1] in _PRIMITIVE_MERGE:
        out = list(orig)
        for x in patch:
            if x not in out:
                out.append(deep_copy(x))
        return out
    if not key:
        return _strip_directives(deep_copy(patch))
    out = list(orig)
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request(f"invalid list item for merge key {key!r} at {'.'.join(path)}")
        kv = item.get(key)
        idx = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(key) == kv), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(_strip_directives(deep_copy(item)))
        else:
            merged = _smp_map(out[idx], item, path)
            if merged is _DELETE:
                out.pop(idx)
            else:
                out[idx] = merged
    return out


def strategic_merge_patch(doc, patch):
    if not isinstance(patch, dict):
        raise bad_request("strategic merge patch body must be a JSON object")
    result = _smp_map(doc, patch, ())
    if result is _DELETE:
        return {}
    return result
