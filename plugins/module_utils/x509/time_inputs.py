# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Time inputs of x509_inspect: ``valid_at`` timespecs and ``min_remaining`` durations.

``valid_at`` accepts what community.crypto's x509_certificate_info accepts
(community.crypto's get_relative_time_option: ``+32w1d2h``, ``-1d``, ASN.1 ``YYYYMMDDHHMMSSZ``) plus
ISO 8601 dates and times (read by common/rfc3339.parse, lenient), so a user can move between the two modules. ``min_remaining`` is a Go
duration as cert-manager writes ``duration``/``renewBefore`` (cert-manager's API uses Go's time.ParseDuration:
``d`` is not a unit, so ``30d`` is rejected the way Go's time.ParseDuration rejects it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration, rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error

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
                return rfc3339.parse(datetime.datetime.strptime(text, fmt))
            except ValueError:
                pass
    when = rfc3339.parse(text, lenient=True)
    if when is None:
        raise X509Error('valid_at.%s: "%s" is not a time this module understands; use a relative time '
                        '("+2w", "-1d"), ASN.1 ("20300101000000Z") or ISO 8601 ("2030-01-01T00:00:00Z")'
                        % (name, value))
    return when


def parse_min_remaining(value, name="min_remaining"):
    """Seconds in a Go duration string such as ``360h``, ``1h30m`` or ``90s``; negative is refused.

    Parsed by common/go_duration.parse (Go's time.ParseDuration, so ``30d`` is refused as cert-manager
    refuses it); the message adds how to write it instead.
    """
    text = str(value).strip()
    try:
        nanoseconds = go_duration.parse(text)
    except go_duration.GoDurationError as exc:
        raise X509Error("%s: %s" % (name, go_duration.explain(exc, text)))
    if nanoseconds < 0:
        raise X509Error('%s must not be negative, got "%s"' % (name, text))
    return nanoseconds / float(go_duration.SECOND)


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
