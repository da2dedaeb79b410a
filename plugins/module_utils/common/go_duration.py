# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Go ``time.Duration`` strings, parsed and printed exactly as Go does.

Kubernetes and cert-manager store durations (``spec.duration``, ``spec.renewBefore``)
as Go duration strings and print them back with ``Duration.String()`` in their
messages (``720h0m0s``). Shared by the modules that read or validate such fields.

- ``parse(text)`` -> int nanoseconds; raises ``GoDurationError`` with Go's own
  message (``time: unknown unit "d" in duration "30d"``) for anything
  ``time.ParseDuration`` rejects. Units: ns, us, µs, μs, ms, s, m, h (no days).
- ``format(nanoseconds)`` -> Go's ``Duration.String()`` (``1h30m0s``, ``1.5s``, ``100ms``, ``0s``).
- ``to_seconds(value)`` -> float seconds, for options documented as "seconds or a Go duration":
  a number, or a string that is a plain decimal number (``"3600"``: ``-e`` passes numbers as
  strings), is seconds; any other string must be a Go duration (``"360h"``). Go itself rejects
  ``"3600"`` (missing unit); options documented as a Go duration only use ``parse``.
- ``advice(text)`` -> a sentence to append to Go's error text saying how to write it instead;
  ``explain(exc, value)`` -> Go's error text followed by that advice.
- ``NANOSECOND`` ... ``HOUR`` constants.

Behaviour follows Go's ``src/time/format.go`` (ParseDuration, leadingInt,
leadingFraction, quote) and ``src/time/time.go`` (Duration.String); this is an
independent Python rendering of the documented algorithm.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

NANOSECOND = 1
MICROSECOND = 1000 * NANOSECOND
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

_UNITS = {
    "ns": NANOSECOND,
    "us": MICROSECOND,
    u"\u00b5s": MICROSECOND,  # micro sign
    u"\u03bcs": MICROSECOND,  # Greek letter mu
    "ms": MILLISECOND,
    "s": SECOND,
    "m": MINUTE,
    "h": HOUR,
}

_MAX = 1 << 63  # magnitude bound of an int64 (Go works in uint64 and checks against this)


class GoDurationError(ValueError):
    """A string Go's time.ParseDuration rejects; str() is Go's exact error text."""


def go_quote(text):
    """Go's ``time.quote``: double quotes, ``\\"`` and ``\\\\`` escaped, non-printable/non-ASCII as ``\\xNN`` bytes."""
    out = ['"']
    for char in text:
        if ord(char) >= 0x80 or char < " ":
            out.extend("\\x%02x" % byte for byte in char.encode("utf-8"))
        else:
            if char in ('"', "\\"):
                out.append("\\")
            out.append(char)
    out.append('"')
    return "".join(out)


def _is_digit(char):
    return "0" <= char <= "9"


def _leading_int(text):
    """Consume [0-9]*; return (value, rest). Raises OverflowError past 1<<63."""
    value = 0
    i = 0
    while i < len(text) and _is_digit(text[i]):
        if value > _MAX // 10:
            raise OverflowError
        value = value * 10 + (ord(text[i]) - 48)
        if value > _MAX:
            raise OverflowError
        i += 1
    return value, text[i:]


def _leading_fraction(text):
    """Consume [0-9]*; return (value, scale, rest). Digits past int64 precision are dropped, as in Go."""
    value, scale, i, overflow = 0, 1.0, 0, False
    while i < len(text) and _is_digit(text[i]):
        if not overflow:
            if value > (_MAX - 1) // 10:
                overflow = True
            else:
                candidate = value * 10 + (ord(text[i]) - 48)
                if candidate > _MAX:
                    overflow = True
                else:
                    value = candidate
                    scale *= 10
        i += 1
    return value, scale, text[i:]


def parse(text):
    """Parse a Go duration string into integer nanoseconds (may be negative)."""
    if not isinstance(text, str):
        raise GoDurationError("time: invalid duration %s" % go_quote(str(text)))
    orig, rest, negative = text, text, False
    invalid = "time: invalid duration " + go_quote(orig)
    if rest and rest[0] in "+-":
        negative = rest[0] == "-"
        rest = rest[1:]
    if rest == "0":
        return 0
    if rest == "":
        raise GoDurationError(invalid)
    total = 0
    while rest:
        if not (rest[0] == "." or _is_digit(rest[0])):
            raise GoDurationError(invalid)
        before = len(rest)
        try:
            whole, rest = _leading_int(rest)
        except OverflowError:
            raise GoDurationError(invalid)
        had_int = before != len(rest)
        frac, scale, had_frac = 0, 1.0, False
        if rest and rest[0] == ".":
            rest = rest[1:]
            before = len(rest)
            frac, scale, rest = _leading_fraction(rest)
            had_frac = before != len(rest)
        if not had_int and not had_frac:
            raise GoDurationError(invalid)
        i = 0
        while i < len(rest) and not (rest[i] == "." or _is_digit(rest[i])):
            i += 1
        if i == 0:
            raise GoDurationError("time: missing unit in duration " + go_quote(orig))
        unit_text, rest = rest[:i], rest[i:]
        unit = _UNITS.get(unit_text)
        if unit is None:
            raise GoDurationError("time: unknown unit %s in duration %s" % (go_quote(unit_text), go_quote(orig)))
        if whole > _MAX // unit:
            raise GoDurationError(invalid)
        whole *= unit
        if frac > 0:
            # Go uses float64 here so fractions of hours stay nanosecond accurate.
            whole += int(float(frac) * (float(unit) / scale))
            if whole > _MAX:
                raise GoDurationError(invalid)
        total += whole
        if total > _MAX:
            raise GoDurationError(invalid)
    if negative:
        return -total
    if total > _MAX - 1:
        raise GoDurationError(invalid)
    return total


def _frac(value, precision):
    """Go's fmtFrac: ('.123' without trailing zeros or '', value // 10**precision)."""
    digits = []
    printed = False
    for _digit in range(precision):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits.append(str(digit))
        value //= 10
    text = ("." + "".join(reversed(digits))) if printed else ""
    return text, value


def format(nanoseconds):  # pylint: disable=redefined-builtin
    """Go's ``Duration.String()`` for an integer number of nanoseconds."""
    value = abs(int(nanoseconds))
    sign = "-" if nanoseconds < 0 else ""
    if value < SECOND:
        if value == 0:
            return "0s"
        if value < MICROSECOND:
            unit, precision = "ns", 0
        elif value < MILLISECOND:
            unit, precision = u"\u00b5s", 3
        else:
            unit, precision = "ms", 6
        frac, value = _frac(value, precision)
        return "%s%d%s%s" % (sign, value, frac, unit)
    frac, value = _frac(value, 9)
    text = "%d%ss" % (value % 60, frac)
    value //= 60
    if value > 0:
        text = "%dm%s" % (value % 60, text)
        value //= 60
        if value > 0:
            text = "%dh%s" % (value, text)
    return sign + text


def canonical(text):
    """``format(parse(text))``: the form the API server and cert-manager print (``720h`` -> ``720h0m0s``)."""
    return format(parse(text))


_SECONDS = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)$")
_DAYS = re.compile(r"^\+?(\d+(?:\.\d*)?)(d|day|days|w|week|weeks)$", re.IGNORECASE)


def advice(text):
    """How to write ``text`` (a string Go rejected) as a Go duration, as one sentence to append."""
    text = str(text).strip()
    days = _DAYS.match(text)
    if days:
        hours = float(days.group(1)) * (24 if days.group(2).lower().startswith("d") else 168)
        return ('Go durations, as cert-manager uses them, have no day or week unit: use hours (%s is "%sh").'
                % (text, ("%f" % hours).rstrip("0").rstrip(".")))
    if _SECONDS.match(text):
        return 'Add a unit: h, m or s (e.g. "%sh" or "%ss").' % (text, text)
    return 'Write it as a Go duration, e.g. "360h" or "1h30m".'


def to_seconds(value):
    """Seconds from a number of seconds or a Go duration string (see the module docstring)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise GoDurationError('expected seconds or a Go duration such as "360h", got %r' % (value,))
    if isinstance(value, (int, float)):
        return float(value)
    text = value.strip()
    if _SECONDS.match(text):
        return float(text)
    return parse(text) / float(SECOND)


def explain(exc, value):
    """``time: unknown unit "d" in duration "30d". Go durations ... use hours (30d is "720h").``"""
    if isinstance(value, str):
        return "%s. %s" % (exc, advice(value))
    return str(exc)
