"""valid_at timespecs (community.crypto's forms plus ISO 8601) and Go durations (only) for min_remaining."""

import datetime

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.time_inputs import (
    format_duration, parse_min_remaining, parse_timespec,
)

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("spec, expected", [
    ("+32w1d2h", NOW + datetime.timedelta(weeks=32, days=1, hours=2)),
    ("-1d", NOW - datetime.timedelta(days=1)),
    ("+1h30m15s", NOW + datetime.timedelta(hours=1, minutes=30, seconds=15)),
    ("+90", NOW + datetime.timedelta(seconds=90)),  # community.crypto: a bare number is seconds
    ("20300101000000Z", datetime.datetime(2030, 1, 1, tzinfo=UTC)),
    ("203001010000Z", datetime.datetime(2030, 1, 1, tzinfo=UTC)),
    ("20300101020000+0200", datetime.datetime(2030, 1, 1, tzinfo=UTC)),
    ("2030-01-01T00:00:00Z", datetime.datetime(2030, 1, 1, tzinfo=UTC)),
    ("2030-01-01T01:00:00+01:00", datetime.datetime(2030, 1, 1, tzinfo=UTC)),
    ("2030-01-01", datetime.datetime(2030, 1, 1, tzinfo=UTC)),
    ("2030-01-01 06:30", datetime.datetime(2030, 1, 1, 6, 30, tzinfo=UTC)),
])
def test_timespecs(spec, expected):
    assert parse_timespec(spec, "t", NOW) == expected


@pytest.mark.parametrize("spec", ["+", "+2x", "tomorrow", "2030-13-01", "", "-1y"])
def test_bad_timespecs_name_the_option(spec):
    with pytest.raises(X509Error) as err:
        parse_timespec(spec, "soon", NOW)
    assert "valid_at.soon" in str(err.value)


def test_non_string_timespec():
    with pytest.raises(X509Error, match="must be a non-empty string"):
        parse_timespec(20300101, "t", NOW)


@pytest.mark.parametrize("text, seconds", [
    ("360h", 360 * 3600), ("30m", 1800), ("1h30m", 5400), ("1.5h", 5400), ("90s", 90),
    ("0", 0), ("2h45m30s", 9930), ("500ms", 0.5), ("+1h", 3600),
])
def test_go_durations(text, seconds):
    assert parse_min_remaining(text) == pytest.approx(seconds)


def test_days_are_refused_like_cert_manager_with_the_hours_to_use():
    with pytest.raises(X509Error) as err:
        parse_min_remaining("30d")
    msg = str(err.value)
    assert 'unknown unit "d" in duration "30d"' in msg
    assert '"720h"' in msg


@pytest.mark.parametrize("text, fragment", [
    ("30", "missing unit"), ("", "invalid duration"), ("h", "invalid duration"),
    ("-1h", "must not be negative"), ("2w", 'unknown unit "w"'), ("1h30x", 'unknown unit "x"'),
])
def test_bad_go_durations(text, fragment):
    with pytest.raises(X509Error) as err:
        parse_min_remaining(text)
    assert fragment in str(err.value)
    assert str(err.value).startswith("min_remaining")


def test_missing_unit_says_which_units_to_add():
    with pytest.raises(X509Error) as err:
        parse_min_remaining("3600")
    assert str(err.value) == ('min_remaining: time: missing unit in duration "3600". '
                              'Add a unit: h, m or s (e.g. "3600h" or "3600s").')


def test_format_duration():
    assert format_duration(3 * 86400 + 4 * 3600) == "3d 4h"
    assert format_duration(-90) == "-1m"
    assert format_duration(5) == "5s"
