"""Server-side apply and managedFields bookkeeping.

Field ownership is tracked per manager as a set of paths. A path is a tuple whose
elements are map keys (str) or list-map item keys (``("k", '{"name":"c"}')``). Maps
are followed down to their leaves; lists are atomic unless they are associative
(built-ins: the strategic-merge keys; CRDs: ``x-kubernetes-list-type: map``), in which
case each item is tracked by its key, as structured-merge-diff does.
Serialised form is FieldsV1 (``f:``/``k:``/``.``), recorded in metadata.managedFields.
"""

from __future__ import annotations

import collections
import functools
import json
import threading
from typing import Callable, Dict, List, Optional, Set, Tuple

from ..controllers.base import ApiError
from .patch import merge_key
from ..util import deep_copy

Path = Tuple
_MISSING = object()
TRACKED_METADATA = ("labels", "annotations", "finalizers", "ownerReferences")


# ---------------------------------------------------------------- list keys


def builtin_list_keys(path: Path) -> Optional[List[str]]:
    names = tuple(p for p in path if isinstance(p, str))
    if names and names[-1] == "ports" and "containers" in names:
        return ["containerPort", "protocol"]
    if names and names[-1] == "ports" and names[:1] == ("spec",) and len(names) == 2:
        return ["port", "protocol"]
    k = merge_key(names)
    return [k] if k else None


def crd_list_keys(schema: Optional[dict]) -> Callable[[Path], Optional[List[str]]]:
    """List-map keys from an openAPIV3Schema (x-kubernetes-list-type: map)."""
    def lookup(path: Path):
        node = schema
        for p in path:
            if node is None:
                return None
            if isinstance(p, tuple):  # list item
                node = node.get("items")
                continue
            props = node.get("properties")
            if props and p in props:
                node = props[p]
            elif isinstance(node.get("additionalProperties"), dict):
                node = node["additionalProperties"]
            else:
                return None
        if node and node.get("x-kubernetes-list-type") == "map":
            return list(node.get("x-kubernetes-list-map-keys") or [])
        return None
    return lookup if schema else (lambda path: None)


_enc = json.encoder.encode_basestring


def _item_key(item: dict, keys: List[str]) -> Optional[str]:
    """Canonical JSON of the item's key fields (the ``k:`` form of FieldsV1)."""
    if type(item) is not dict:
        return None
    if len(keys) == 1:
        k = keys[0]
        if k not in item:
            return None
        v = item[k]
        if type(v) is str:
            return '{"' + k + '":' + _enc(v) + "}"
        return '{"' + k + '":' + json.dumps(v, sort_keys=True, separators=(",", ":")) + "}"
    kv = {k: item[k] for k in keys if k in item}
    if not kv:
        return None
    return json.dumps(kv, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------- field sets


_ITEM = object()  # value recorded for a list-map item marker


def _walk(value, path: Path, out: dict, keys_for) -> None:
    if type(value) is dict and value:
        for k, v in value.items():
            _walk(v, path + (k,), out, keys_for)
        return
    if type(value) is list and value:
        keys = keys_for(path)
        if keys:
            ikeys = [_item_key(x, keys) for x in value]
            if None not in ikeys:
                for item, ik in zip(value, ikeys):
                    ip = path + (("k", ik),)
                    out[ip] = _ITEM
                    for k, v in item.items():
                        _walk(v, ip + (k,), out, keys_for)
                return
    out[path] = value


def leaf_map(obj: dict, keys_for, subresource: Optional[str], has_status: bool) -> dict:
    """path -> leaf value for every field an object (or applied configuration) sets."""
    out: dict = {}
    for k, v in obj.items():
        if k in ("apiVersion", "kind"):
            continue
        if k == "metadata":
            for mk in TRACKED_METADATA:
                if isinstance(v, dict) and mk in v and v[mk] is not None:
                    _walk(v[mk], ("metadata", mk), out, keys_for)
            continue
        if has_status:
            if subresource == "status" and k != "status":
                continue
            if subresource != "status" and k == "status":
                continue
        _walk(v, (k,), out, keys_for)
    return out


def field_set(obj: dict, keys_for, subresource: Optional[str], has_status: bool) -> Set[Path]:
    """Paths an object (or applied configuration) sets."""
    return set(leaf_map(obj, keys_for, subresource, has_status))


@functools.lru_cache(maxsize=4096)
def _key_names(canon: str) -> List[str]:
    return list(json.loads(canon).keys())


def get_at(obj, path: Path):
    cur = obj
    for p in path:
        if isinstance(p, tuple):
            if not isinstance(cur, list):
                return _MISSING
            found = _MISSING
            for item in cur:
                if isinstance(item, dict) and _item_key(item, _key_names(p[1])) == p[1]:
                    found = item
                    break
            cur = found
            if cur is _MISSING:
                return _MISSING
        else:
            if not isinstance(cur, dict) or p not in cur:
                return _MISSING
            cur = cur[p]
    return cur


def path_string(path: Path) -> str:
    out = ""
    for p in path:
        if isinstance(p, tuple):
            kv = json.loads(p[1])
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in kv.items()) + "]"
        else:
            out += "." + p
    return out


def to_fields_v1(paths: Set[Path]) -> dict:
    tree: dict = {}
    for path in paths:
        node = tree
        for i, p in enumerate(path):
            key = ("k:" + p[1]) if isinstance(p, tuple) else ("f:" + p)
            node = node.setdefault(key, {})
        if path and isinstance(path[-1], tuple):
            node.setdefault(".", {})
    return tree


_FV1_CACHE: "collections.OrderedDict[int, tuple]" = collections.OrderedDict()
_FV1_LOCK = threading.Lock()


def parse_fields_v1(tree: dict) -> Set[Path]:
    """from_fields_v1 with a cache: stored managedFields are immutable, so parse each once."""
    key = id(tree)
    with _FV1_LOCK:
        hit = _FV1_CACHE.get(key)
        if hit is not None and hit[0] is tree:
            _FV1_CACHE.move_to_end(key)
            return hit[1]
    parsed = frozenset(from_fields_v1(tree))
    with _FV1_LOCK:
        _FV1_CACHE[key] = (tree, parsed)
        if len(_FV1_CACHE) > 20000:
            _FV1_CACHE.popitem(last=False)
    return parsed


def from_fields_v1(tree: dict, prefix: Path = ()) -> Set[Path]:
    out: Set[Path] = set()
    for key, sub in (tree or {}).items():
        if key == ".":
            out.add(prefix)
            continue
        if key.startswith("f:"):
            p = prefix + (key[2:],)
        elif key.startswith("k:"):
            try:
                canon = json.dumps(json.loads(key[2:]), sort_keys=True, separators=(",", ":"))
            except ValueError:
                continue
            p = prefix + (("k", canon),)
        else:
            continue
        if sub:
            out |= from_fields_v1(sub, p)
            if isinstance(p[-1], tuple) and "." not in sub:
                pass
        else:
            out.add(p)
    return out


# ---------------------------------------------------------------- managers


class Manager:
    __slots__ = ("manager", "operation", "api_version", "time", "subresource", "fields", "touched")

    def __init__(self, manager, operation, api_version, time, subresource, fields):
        self.manager = manager
        self.operation = operation
        self.api_version = api_version
        self.time = time
        self.subresource = subresource or ""
        self.fields = fields
        self.touched = False  # changed the object in this write: its entry gets a fresh time

    @property
    def ident(self):
        return (self.manager, self.operation, self.subresource)

    def to_entry(self) -> dict:
        e = {"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version,
             "time": self.time, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(self.fields)}
        if self.subresource:
            e["subresource"] = self.subresource
        return e


def parse_managers(obj: Optional[dict]) -> List[Manager]:
    out = []
    for e in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if not isinstance(e, dict):
            continue
        out.append(Manager(e.get("manager", ""), e.get("operation", "Update"), e.get("apiVersion", ""),
                           e.get("time"), e.get("subresource", ""), set(parse_fields_v1(e.get("fieldsV1") or {}))))
    return out


def render_managers(managers: List[Manager], old: Optional[dict]) -> Optional[list]:
    """Entries, keeping an unchanged manager's old entry (and timestamp) verbatim."""
    old_entries = {}
    for e in ((old or {}).get("metadata") or {}).get("managedFields") or []:
        old_entries[(e.get("manager", ""), e.get("operation", ""), e.get("subresource", ""))] = e
    out = []
    for m in managers:
        if not m.fields:
            continue
        prev = old_entries.get(m.ident)
        if prev is not None and not m.touched and parse_fields_v1(prev.get("fieldsV1") or {}) == m.fields \
                and prev.get("apiVersion") == m.api_version:
            out.append(prev)
        else:
            out.append(m.to_entry())
    return out or None


def _differs(a, b) -> bool:
    return a != b


def record_update(old: Optional[dict], new: dict, manager: str, api_version: str, now: str,
                  keys_for, subresource: Optional[str], has_status: bool,
                  base: Optional[list] = None) -> Optional[list]:
    """managedFields after a non-apply write by ``manager``: it takes the fields it changed.

    ``base``: client-supplied entries replacing the live ones (None keeps the live ones).
    """
    if base is not None:
        managers = parse_managers({"metadata": {"managedFields": base}})
        if old is not None:
            old = dict(old, metadata=dict(old["metadata"], managedFields=base))
    else:
        managers = parse_managers(old)
    sub = subresource if subresource == "status" else ""
    new_map = leaf_map(new, keys_for, sub or None, has_status)
    if old is None:
        changed, removed = set(new_map), set()
    else:
        old_map = leaf_map(old, keys_for, sub or None, has_status)
        removed = {p for p in old_map if p not in new_map}
        missing = _MISSING
        changed = {p for p, v in new_map.items() if old_map.get(p, missing) is not v and old_map.get(p, missing) != v}
    if not changed and not removed:
        return render_managers(managers, old) if old is not None else None
    mine = None
    for m in managers:
        if m.ident == (manager, "Update", sub):
            mine = m
        elif m.subresource == sub:
            m.fields = m.fields - changed - removed
    if mine is None:
        mine = Manager(manager, "Update", api_version, now, sub, set())
        managers.append(mine)
    mine.fields = (mine.fields | changed) - removed
    mine.time = now
    mine.touched = True
    mine.api_version = api_version
    return render_managers(managers, old)


def _prefixes(paths: Set[Path]) -> Set[Path]:
    out = set()
    for p in paths:
        for i in range(1, len(p)):
            out.add(p[:i])
    return out


def _conflict_error(conflicts: List[Tuple[str, Path]]) -> ApiError:
    causes = [{"reason": "FieldManagerConflict", "message": f'conflict with "{m}"', "field": path_string(p)}
              for m, p in conflicts]
    if len(conflicts) == 1:
        m, p = conflicts[0]
        msg = f'Apply failed with 1 conflict: conflict with "{m}": {path_string(p)}'
    else:
        by: Dict[str, List[str]] = {}
        for m, p in conflicts:
            by.setdefault(m, []).append(path_string(p))
        parts = [f'conflicts with "{m}":\n- ' + "\n- ".join(ps) for m, ps in by.items()]
        msg = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(parts)
    return ApiError(409, "Conflict", msg, {"causes": causes})


def _remove_path(obj, path: Path) -> None:
    parent = get_at(obj, path[:-1]) if len(path) > 1 else obj
    last = path[-1]
    if isinstance(last, tuple):
        if isinstance(parent, list):
            keys = list(json.loads(last[1]).keys())
            parent[:] = [x for x in parent if _item_key(x, keys) != last[1]]
        return
    if isinstance(parent, dict):
        parent.pop(last, None)
        # prune maps emptied by the removal, but never top-level sections
        if len(path) > 2 and not parent:
            _remove_path(obj, path[:-1])


def _merge_applied(cur, app, path: Path, keys_for):
    if isinstance(app, dict):
        if not isinstance(cur, dict):
            cur = {}
        out = dict(cur)
        for k, v in app.items():
            if v is None:
                out.pop(k, None)
                continue
            out[k] = _merge_applied(out.get(k), v, path + (k,), keys_for)
        return out
    if isinstance(app, list):
        keys = keys_for(path)
        if keys and isinstance(cur, list) and all(_item_key(x, keys) is not None for x in app):
            out = list(cur)
            for item in app:
                ik = _item_key(item, keys)
                idx = next((i for i, o in enumerate(out) if _item_key(o, keys) == ik), None)
                ip = path + (("k", ik),)
                if idx is None:
                    out.append(deep_copy(item))
                else:
                    out[idx] = _merge_applied(out[idx], item, ip, keys_for)
            return out
        return deep_copy(app)
    return deep_copy(app)


def _content(obj: dict) -> dict:
    """The object without managedFields/resourceVersion (what an apply can change)."""
    md = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("managedFields", "resourceVersion")}
    return dict(obj, metadata=md)


def apply(current: Optional[dict], applied: dict, manager: str, force: bool, api_version: str, now: str,
          keys_for, subresource: Optional[str], has_status: bool) -> Tuple[dict, Optional[list]]:
    """Merge an applied configuration; return (object, managedFields). Raises 409 on conflicts."""
    sub = "status" if subresource == "status" else ""
    applied_body = {k: v for k, v in applied.items()}
    if has_status:
        if sub == "status":
            applied_body = {k: v for k, v in applied_body.items() if k in ("apiVersion", "kind", "metadata", "status")}
        else:
            applied_body.pop("status", None)
    mine_fields = field_set(applied_body, keys_for, sub or None, has_status)
    managers = parse_managers(current)
    if current is not None:
        conflicts: List[Tuple[str, Path]] = []
        leaf_fields = {p for p in mine_fields if not isinstance(p[-1], tuple)}
        for m in managers:
            if m.subresource != sub or (m.manager == manager and m.operation == "Apply"):
                continue
            owned_prefixes = _prefixes(m.fields)
            hit = []
            for p in leaf_fields:
                at = None
                if p in m.fields or p in owned_prefixes:
                    at = p
                else:
                    for i in range(1, len(p)):
                        if p[:i] in m.fields and not isinstance(p[i - 1], tuple):
                            at = p[:i]
                            break
                if at is None:
                    continue
                if at == p:
                    if get_at(current, p) != get_at(applied_body, p):
                        hit.append(p)
                else:
                    hit.append(at)
            if hit:
                if force:
                    m.fields = m.fields - set(hit) - {q for q in m.fields if any(q[:len(h)] == h for h in hit)}
                else:
                    conflicts.extend((m.manager, p) for p in sorted(set(hit), key=path_string))
        if conflicts:
            raise _conflict_error(conflicts)
    result = deep_copy(current) if current is not None else {}
    prev = next((m for m in managers if m.ident == (manager, "Apply", sub)), None)
    if prev is not None and current is not None:
        others = set()
        for m in managers:
            if m is not prev and m.subresource == sub:
                others |= m.fields
        stale = prev.fields - mine_fields - others
        for p in sorted(stale, key=len, reverse=True):
            if get_at(result, p) is not _MISSING:
                _remove_path(result, p)
    merged = _merge_applied(result, applied_body, (), keys_for)
    if prev is None:
        prev = Manager(manager, "Apply", api_version, now, sub, set())
        managers.append(prev)
    if prev.fields != mine_fields or current is None or _content(merged) != _content(current):
        prev.time = now
        prev.touched = True
    prev.fields = mine_fields
    prev.api_version = api_version
    return merged, render_managers(managers, current)
