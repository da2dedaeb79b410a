"""Small helpers shared by the store, the HTTP layer and the controllers."""

from __future__ import annotations

import datetime as _dt
import json
import marshal
import random
import re
import string

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads
_mdumps = marshal.dumps
_mloads = marshal.loads

# k8s name suffix alphabet (no vowels, no ambiguous characters): apimachinery utilrand.
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def dumps(obj) -> str:
    return _dumps(obj)


def deep_copy(obj):
    """Copy a JSON-shaped value. A marshal round trip (C) is ~7x faster than copy.deepcopy."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return _mloads(_mdumps(obj))


def rand_suffix(n: int = 5, rng: random.Random | None = None) -> str:
    r = rng or random
    return "".join(r.choice(SUFFIX_ALPHABET) for _ in range(n))


def rfc3339(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339nano(when: _dt.datetime) -> str:
    when = when.astimezone(_dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d000Z" % when.microsecond


def parse_time(text: str) -> _dt.datetime:
    """Parse RFC3339 (with or without fraction, Z or offset)."""
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", t)
    if m and m.group(2):
        frac = (m.group(2) + "000000")[:7]
        t = m.group(1) + frac + m.group(3)
    when = _dt.datetime.fromisoformat(t)
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when


_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(v: str):
    """Sort key giving kube-aware version order: v1 > v1beta2 > v1beta1 > v1alpha1 > other."""
    m = _VERSION_RE.match(v)
    if not m:
        return (0, 0, 0, v)
    major = int(m.group(1))
    stage = {None: 3, "beta": 2, "alpha": 1}[m.group(2)]
    minor = int(m.group(3) or 0)
    return (stage, major, minor, "")


DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

__all__ = ["dumps", "deep_copy", "rand_suffix", "rfc3339", "rfc3339nano", "parse_time",
           "version_priority", "DNS1123_SUBDOMAIN", "DNS1123_LABEL", "SUFFIX_ALPHABET", "string"]
