# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""RFC 3339 times: the one parser and the one formatter of the collection.

Kubernetes writes every time as RFC 3339 in UTC with second precision (apimachinery
``pkg/apis/meta/v1/time.go``: ``metav1.Time`` marshals with ``time.RFC3339`` after ``UTC()``);
istiod's zap logger and the API's ``pods/log?timestamps=true`` write nanoseconds
(``time.RFC3339Nano``); cert-manager's ``status.notAfter``/``renewalTime`` are ``metav1.Time``.

- ``parse(value)`` -> an aware UTC ``datetime`` or None when absent or unreadable (the caller
  decides whether that is an error). Strict by default: ``YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm)``,
  ``T``/``t``/space between date and time (RFC 3339 section 5.6 allows the space), fractions of any
  length truncated to microseconds (Python's resolution). ``lenient=True`` is for times a person
  types: the zone may be left out (UTC is assumed), and so may the seconds or the whole time of day
  (``2030-01-01``, ``2030-01-01 06:30``).
- ``format(when)`` -> ``2025-01-02T03:04:05Z`` (UTC, ``Z``, whole seconds: how ``metav1.Time``
  prints); ``fraction=True`` keeps microseconds when there are any (``pods/log`` ``sinceTime``
  accepts them).
- ``now()`` -> the current time, aware, in UTC.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

UTC = datetime.timezone.utc

_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$"
)


def now():
    """The current time, timezone-aware in UTC."""
    return datetime.datetime.now(UTC)


def parse(value, lenient=False):
    """An aware UTC datetime from RFC 3339 text (or a datetime; naive means UTC), else None."""
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str):
        return None
    match = _TIME.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = match.groups()
    zoned = bool(zulu or sign)
    if not lenient and (second is None or not zoned):
        return None
    if hour is None and zoned:
        return None  # a zone without a time of day is no format anyone writes
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        when = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                                 int(second or 0), micro, tzinfo=UTC)
        if sign:
            offset = datetime.timedelta(hours=int(off_h), minutes=int(off_m))
            when = when - offset if sign == "+" else when + offset
    except (ValueError, OverflowError):  # month 13, hour 25, out of range after the offset
        return None
    return when


def format(when, fraction=False):  # pylint: disable=redefined-builtin
    """``2025-01-02T03:04:05Z``; with ``fraction`` and a non-zero microsecond, ``...05.123456Z``."""
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    if fraction and when.microsecond:
        return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
