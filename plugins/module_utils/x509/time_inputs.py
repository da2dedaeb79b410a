# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Time inputs of x509_inspect: ``valid_at`` timespecs and ``min_remaining`` durations.

``valid_at`` accepts what community.crypto's x509_certificate_info accepts
(community.crypto's get_relative_time_option: ``+32w1d2h``, ``-1d``, ASN.1 ``YYYYMMDDHHMMSSZ``) plus
ISO 8601, so a user can move between the two modules. ``min_remaining`` is a Go
duration as cert-manager writes ``duration``/``renewBefore`` (cert-manager's API uses Go's time.ParseDuration:
``d`` is not a unit, so ``30d`` is rejected the way Go's time.ParseDuration rejects it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error

UTC = datetime.timezone.utc

_RELATIVE = re.compile(
    r"^(?P<sign>[+-])(?:(?P<w>\d+)[wW])?(?:(?P<d>\d+)[dD])?(?:(?P<h>\d+)[hH])?"
    r"(?:(?P<m>\d+)[mM])?(?:(?P<s>\d+)[sS]?)?$"
)
_ASN1_FORMATS = (
    ("%Y%m%d%H%M%SZ", 15),
    ("%Y%m%d%H%MZ", 13),
    ("%Y%m%d%H%M%S%z", 19),
    ("%Y%m%d%H%M%z", 17),
)
# Go time.ParseDuration units, in nanoseconds.
_GO_UNITS = {
    "ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3,
    "s": 1.0, "m": 60.0, "h": 3600.0,
}
_GO_PART = re.compile(r"(\d*\.?\d*)([^\d.]*)")


def utcnow():
    """The current time, timezone-aware in UTC."""
    return datetime.datetime.now(UTC)


def iso8601(when):
    """``2025-01-02T03:04:05Z``: ISO 8601 in UTC with a Z, no fractions."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timespec(value, name, now):
    """Turn one ``valid_at`` value into an aware datetime (naive inputs are UTC)."""
    if not isinstance(value, str) or not value.strip():
        raise X509Error('valid_at.%s must be a non-empty string such as "+2w", "20300101000000Z" '
                        'or "2030-01-01T00:00:00Z"' % name)
    text = value.strip()
    if text[0] in "+-":
        match = _RELATIVE.match(text)
        if not match or len(text) == 1:
            raise X509Error('valid_at.%s: "%s" is not a relative time; write it like "+32w1d2h3m4s" or "-1d"'
                            % (name, value))
        delta = datetime.timedelta(
            weeks=int(match.group("w") or 0), days=int(match.group("d") or 0),
            hours=int(match.group("h") or 0), minutes=int(match.group("m") or 0),
            seconds=int(match.group("s") or 0))
        return now + delta if match.group("sign") == "+" else now - delta
    for fmt, length in _ASN1_FORMATS:
        if len(text) == length:
            try:
                return _aware(datetime.datetime.strptime(text, fmt))
            except ValueError:
                pass
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return _aware(datetime.datetime.fromisoformat(iso))
    except ValueError:
        raise X509Error('valid_at.%s: "%s" is not a time this module understands; use a relative time '
                        '("+2w", "-1d"), ASN.1 ("20300101000000Z") or ISO 8601 ("2030-01-01T00:00:00Z")'
                        % (name, value))


def _aware(when):
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_go_duration(value, name="min_remaining"):
    """Seconds in a Go duration string such as ``360h``, ``1h30m`` or ``90s`` (no ``d``, like cert-manager)."""
    text = str(value).strip()
    failure = 'time: invalid duration "%s"' % text
    body = text[1:] if text[:1] in "+-" else text
    if text[:1] == "-":
        raise X509Error('%s must not be negative, got "%s"' % (name, text))
    if body == "0":
        return 0.0
    total = 0.0
    pos = 0
    if not body:
        raise X509Error('%s: %s. Write it as a Go duration, e.g. "360h" or "1h30m"' % (name, failure))
    while pos < len(body):
        match = _GO_PART.match(body, pos)
        number, unit = match.group(1), match.group(2)
        if number in ("", "."):
            raise X509Error('%s: %s. Write it as a Go duration, e.g. "360h" or "1h30m"' % (name, failure))
        if unit == "":
            raise X509Error('%s: time: missing unit in duration "%s". Add a unit: h, m or s (e.g. "360h")'
                            % (name, text))
        if unit not in _GO_UNITS:
            hint = ""
            if unit.lower() in ("d", "day", "days", "w", "week", "weeks"):
                factor = 24 if unit.lower().startswith("d") else 168
                try:
                    hint = ' (%s%s is "%sh")' % (number, unit, _trim(float(number) * factor))
                except ValueError:
                    hint = ""
            raise X509Error('%s: time: unknown unit "%s" in duration "%s". Go durations, as cert-manager '
                            'uses them, have no day or week unit: use hours%s' % (name, unit, text, hint))
        total += float(number) * _GO_UNITS[unit]
        pos = match.end()
    return total


def _trim(number):
    return ("%f" % number).rstrip("0").rstrip(".")


def format_duration(seconds):
    """A short human form such as ``14d 3h`` or ``-2h 5m`` for messages."""
    sign = "-" if seconds < 0 else ""
    rest = int(abs(seconds))
    days, rest = divmod(rest, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append("%dd" % days)
    if hours:
        parts.append("%dh" % hours)
    if minutes and not days:
        parts.append("%dm" % minutes)
    if not parts:
        parts.append("%ds" % secs)
    return sign + " ".join(parts)
