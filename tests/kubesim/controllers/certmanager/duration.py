"""Go ``time.Duration`` parsing and printing, as cert-manager's API uses them.

cert-manager's ``duration``/``renewBefore`` are ``metav1.Duration`` values: they are
parsed with Go's ``time.ParseDuration`` (so ``d`` is not a unit) and printed with
``Duration.String()`` (``1h0m0s``) in webhook messages and on CertificateRequests
(golang/go src/time/format.go ``ParseDuration``, ``Duration.String``). Values are integer nanoseconds, as in Go.
"""

from __future__ import annotations

import re

NANOSECOND = 1
MICROSECOND = 1000
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    "\u00b5s": MICROSECOND,  # micro sign
    "\u03bcs": MICROSECOND,  # Greek mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}

_MAX = (1 << 63) - 1


class DurationError(ValueError):
    """Raised with Go's own error text (``time: invalid duration "30d"``)."""


def _quote(text: str) -> str:
    # Go's %q for the ASCII texts met here.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse(text: str) -> int:
    """Parse like Go's ``time.ParseDuration``; returns nanoseconds."""
    orig = text
    s = text
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if s == "":
        raise DurationError("time: invalid duration " + _quote(orig))
    total_int = 0
    while s:
        m = re.match(r"([0-9]*)(\.([0-9]*))?", s)
        int_part, frac_part = m.group(1), m.group(3)
        if int_part == "" and (frac_part is None or frac_part == ""):
            raise DurationError("time: invalid duration " + _quote(orig))
        s = s[m.end():]
        u = re.match(r"[^0-9.]*", s).group(0)
        if u == "":
            raise DurationError("time: missing unit in duration " + _quote(orig))
        if u not in _UNITS:
            raise DurationError("time: unknown unit " + _quote(u) + " in duration " + _quote(orig))
        s = s[len(u):]
        unit = _UNITS[u]
        value = int(int_part or "0") * unit
        if frac_part:
            value += int(int(frac_part) * unit // (10 ** len(frac_part)))
        total_int += value
        if total_int > _MAX:
            raise DurationError("time: invalid duration " + _quote(orig))
    return -total_int if neg else total_int


def _fmt_frac(v: int, prec: int) -> "tuple[str, int]":
    """Go's fmtFrac: the fraction of v/10**prec without trailing zeros."""
    digits = []
    printed = False
    for _ in range(prec):
        digit = v % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        v //= 10
    text = ("." + "".join(reversed(digits))) if printed else ""
    return text, v


def to_string(ns: int) -> str:
    """Print like Go's ``Duration.String()``: ``2160h0m0s``, ``5m0s``, ``1.5s``, ``0s``."""
    if ns == 0:
        return "0s"
    neg = ns < 0
    u = -ns if neg else ns
    if u < SECOND:
        if u < MICROSECOND:
            out = f"{u}ns"
        elif u < MILLISECOND:
            frac, whole = _fmt_frac(u, 3)
            out = f"{whole}{frac}\u00b5s"
        else:
            frac, whole = _fmt_frac(u, 6)
            out = f"{whole}{frac}ms"
    else:
        frac, secs = _fmt_frac(u, 9)
        out = f"{secs % 60}{frac}s"
        mins = secs // 60
        if mins > 0:
            out = f"{mins % 60}m" + out
            hours = mins // 60
            if hours > 0:
                out = f"{hours}h" + out
    return ("-" + out) if neg else out


def seconds(ns: int) -> float:
    return ns / SECOND
