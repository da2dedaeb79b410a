"""The one RFC 3339 parser/formatter: what Kubernetes, istiod's logs and a person typing a time write."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339

UTC = datetime.timezone.utc
NOON = datetime.datetime(2025, 1, 31, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    ("2025-01-31T12:00:00Z", NOON),  # metav1.Time
    ("2025-01-31T12:00:00.123456789Z", NOON.replace(microsecond=123456)),  # RFC3339Nano, truncated to µs
    ("2025-01-31T14:00:00+02:00", NOON),
    ("2025-01-31T11:30:00-00:30", NOON),
    ("2025-01-31T11:30:00-0030", NOON),
    ("2025-01-31 12:00:00z", NOON),  # RFC 3339 5.6: space and lower-case z allowed
    ("  2025-01-31T12:00:00Z\n", NOON),
    ("2025-01-01T00:30:00+01:00", datetime.datetime(2024, 12, 31, 23, 30, tzinfo=UTC)),
])
def test_parse_strict(text, expected):
    when = rfc3339.parse(text)
    assert when == expected and when.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize("text", [
    "yesterday", "", None, 1738324800, "2025-01-31T12:00:00",  # no zone: not RFC 3339
    "2025-01-31", "2025-01-31T12:00Z", "2025-13-01T00:00:00Z", "2025-01-31T25:00:00Z", "2025-01-31Z",
])
def test_parse_strict_refuses(text):
    assert rfc3339.parse(text) is None


@pytest.mark.parametrize("text, expected", [
    ("2025-01-31T12:00:00", NOON),  # no zone: UTC
    ("2025-01-31 12:00", NOON),
    ("2025-01-31", NOON.replace(hour=0)),
    ("2025-01-31T14:00:00+02:00", NOON),
])
def test_parse_lenient_is_for_people(text, expected):
    assert rfc3339.parse(text, lenient=True) == expected


def test_parse_takes_datetimes_naive_as_utc():
    assert rfc3339.parse(NOON.replace(tzinfo=None)) == NOON
    assert rfc3339.parse(NOON.astimezone(datetime.timezone(datetime.timedelta(hours=5)))) == NOON


def test_format():
    half = NOON + datetime.timedelta(microseconds=500000)
    assert rfc3339.format(NOON) == "2025-01-31T12:00:00Z"
    assert rfc3339.format(half) == "2025-01-31T12:00:00Z"  # metav1.Time: whole seconds
    assert rfc3339.format(half, fraction=True) == "2025-01-31T12:00:00.500000Z"
    assert rfc3339.format(NOON, fraction=True) == "2025-01-31T12:00:00Z"
    assert rfc3339.format(datetime.datetime(2025, 1, 31, 14, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))) \
        == "2025-01-31T12:00:00Z"


def test_round_trip_and_now():
    assert rfc3339.parse(rfc3339.format(NOON)) == NOON
    assert rfc3339.now().tzinfo is not None
