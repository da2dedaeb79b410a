# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Cron syntax of ``spec.renewal.windows[].cron``, with the errors cert-manager's webhook gives.

cert-manager v1.21 (pkg/util/util.go CronParse) prefixes ``CRON_TZ=<timezone> `` when the window has a
timezone and parses with its copy of robfig/cron (internal/cron/parser.go) using
Minute | Hour | Dom | Month | Dow | Descriptor: five fields or a descriptor (@yearly, @monthly, @weekly,
@daily, @midnight, @hourly, @every <duration>), an optional ``TZ=``/``CRON_TZ=`` prefix, ranges, steps,
lists and month/day names. Only whether it parses and the error text matter here; no schedule is built.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration as gd

_MONTHS = dict((n, i + 1) for i, n in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")))
_DAYS = dict((n, i) for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat")))
# (min, max, names) for minute, hour, day of month, month, day of week.
_BOUNDS = ((0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTHS), (0, 6, _DAYS))
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_ATOI = re.compile(r"^[+-]?[0-9]+$")


class CronError(Exception):
    pass


def load_location(name):
    """Go's time.LoadLocation: "" and "UTC" are UTC, "Local" is local; others must be in the tz database."""
    if name in ("", "UTC", "Local"):
        return True
    if name.startswith("/") or ".." in name or "\\" in name:
        return False
    try:
        from zoneinfo import ZoneInfo  # Python 3.9+
        ZoneInfo(name)
        return True
    except Exception:  # pylint: disable=broad-except  # ZoneInfoNotFoundError, ValueError, IsADirectoryError
        return False


def _atoi(expr):
    if not _ATOI.match(expr):
        raise CronError('failed to parse int from %s: strconv.Atoi: parsing "%s": invalid syntax' % (expr, expr))
    value = int(expr)
    if not -(1 << 63) <= value < (1 << 63):
        raise CronError('failed to parse int from %s: strconv.Atoi: parsing "%s": value out of range' % (expr, expr))
    if value < 0:
        raise CronError("negative number (%d) not allowed: %s" % (value, expr))
    return value


def _int_or_name(expr, names):
    if names and expr.lower() in names:
        return names[expr.lower()]
    return _atoi(expr)


def _range(expr, bounds):
    low, high, names = bounds
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = _int_or_name(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], names)
        else:
            raise CronError("too many hyphens: %s" % expr)
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _atoi(range_and_step[1])
        if single:
            end = high
    else:
        raise CronError("too many slashes: %s" % expr)
    if start < low:
        raise CronError("beginning of range (%d) below minimum (%d): %s" % (start, low, expr))
    if end > high:
        raise CronError("end of range (%d) above maximum (%d): %s" % (end, high, expr))
    if start > end:
        raise CronError("beginning of range (%d) beyond end of range (%d): %s" % (start, end, expr))
    if step == 0:
        raise CronError("step of range should be a positive number: %s" % expr)


def _parse(spec):
    if not spec:
        raise CronError("empty spec string")
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        space, equals = spec.find(" "), spec.find("=")
        if space == -1:
            raise CronError("expected timezone prefix to be followed by a cron spec: %s" % spec)
        location = spec[equals + 1:space]
        if not load_location(location):
            raise CronError("provided bad location %s: unknown time zone %s" % (location, location))
        spec = spec[space:].strip()
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return
        if spec.startswith("@every "):
            try:
                gd.parse(spec[len("@every "):])
            except gd.GoDurationError as exc:
                raise CronError("failed to parse duration %s: %s" % (spec, exc))
            return
        raise CronError("unrecognized descriptor: %s" % spec)
    fields = spec.split()
    if len(fields) != 5:
        raise CronError("expected exactly 5 fields, found %d: [%s]" % (len(fields), " ".join(fields)))
    for field, bounds in zip(fields, _BOUNDS):
        for expr in (e for e in field.split(",") if e):
            _range(expr, bounds)


def cron_parse_error(cron, timezone=""):
    """None when cert-manager's CronParse accepts ``cron`` (with the window's timezone), else its error text."""
    text = cron if not timezone else "CRON_TZ=%s %s" % (timezone, cron)
    try:
        _parse(text)
    except CronError as exc:
        return "failed to parse cron spec '%s': %s" % (cron, exc)
    return None
