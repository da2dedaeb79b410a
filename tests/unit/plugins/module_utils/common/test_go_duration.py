# -*- coding: utf-8 -*-
"""Go duration parsing/printing matches Go's time package (values and error texts)."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration as gd


@pytest.mark.parametrize("text, nanos", [
    ("0", 0),
    ("-0", 0),
    ("+0", 0),
    ("0s", 0),
    ("1h", gd.HOUR),
    ("720h", 720 * gd.HOUR),
    ("2160h0m0s", 2160 * gd.HOUR),
    ("1h30m", 90 * gd.MINUTE),
    ("5m", 5 * gd.MINUTE),
    ("1.5h", 90 * gd.MINUTE),
    (".5s", 500 * gd.MILLISECOND),
    ("1.s", gd.SECOND),
    ("-1.5h", -90 * gd.MINUTE),
    ("300ms", 300 * gd.MILLISECOND),
    ("10us", 10 * gd.MICROSECOND),
    (u"10\u00b5s", 10 * gd.MICROSECOND),
    (u"10\u03bcs", 10 * gd.MICROSECOND),
    ("7ns", 7),
    ("1h1h", 2 * gd.HOUR),
    ("0.000000001s", 1),
    ("9223372036854775807ns", (1 << 63) - 1),
    ("-9223372036854775808ns", -(1 << 63)),
])
def test_parse(text, nanos):
    assert gd.parse(text) == nanos


@pytest.mark.parametrize("text, message", [
    ("30d", 'time: unknown unit "d" in duration "30d"'),
    ("1y", 'time: unknown unit "y" in duration "1y"'),
    ("1H", 'time: unknown unit "H" in duration "1H"'),
    ("30", 'time: missing unit in duration "30"'),
    ("", 'time: invalid duration ""'),
    ("-", 'time: invalid duration "-"'),
    ("h", 'time: invalid duration "h"'),
    (".s", 'time: invalid duration ".s"'),
    ("1h ", 'time: unknown unit "h " in duration "1h "'),
    (" 1h", 'time: invalid duration " 1h"'),
    ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
    ("3000000h", 'time: invalid duration "3000000h"'),
    ('1"x', 'time: unknown unit "\\"x" in duration "1\\"x"'),
    (u"1\u00e9", 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'),
])
def test_parse_errors_use_go_messages(text, message):
    with pytest.raises(gd.GoDurationError) as err:
        gd.parse(text)
    assert str(err.value) == message
    assert isinstance(err.value, ValueError)


def test_parse_rejects_non_strings():
    with pytest.raises(gd.GoDurationError):
        gd.parse(3600)


@pytest.mark.parametrize("nanos, text", [
    (0, "0s"),
    (1, "1ns"),
    (1100, u"1.1\u00b5s"),
    (2200 * gd.MICROSECOND, "2.2ms"),
    (100 * gd.MILLISECOND, "100ms"),
    (gd.SECOND, "1s"),
    (1500 * gd.MILLISECOND, "1.5s"),
    (5 * gd.MINUTE, "5m0s"),
    (gd.HOUR, "1h0m0s"),
    (90 * gd.MINUTE, "1h30m0s"),
    (720 * gd.HOUR, "720h0m0s"),
    (2160 * gd.HOUR, "2160h0m0s"),
    (2 * gd.HOUR + 500 * gd.MILLISECOND, "2h0m0.5s"),
    (-5 * gd.MINUTE, "-5m0s"),
    ((1 << 63) - 1, "2562047h47m16.854775807s"),
])
def test_format(nanos, text):
    assert gd.format(nanos) == text


def test_canonical_round_trip():
    assert gd.canonical("720h") == "720h0m0s"
    assert gd.canonical("90m") == "1h30m0s"
    for text in ("1h0m0s", "1.5s", "100ms", "2160h0m0s"):
        assert gd.canonical(text) == text


# The cases the collection's options meet, against Go's documented time.ParseDuration (src/time/format.go):
# "A duration string is a possibly signed sequence of decimal numbers, each with optional fraction and a
# unit suffix ... Valid time units are "ns", "us" (or "µs"), "ms", "s", "m", "h"."
@pytest.mark.parametrize("text, nanos", [
    ("1h30m", 90 * gd.MINUTE),
    ("1.5h", 90 * gd.MINUTE),
    ("-1h", -gd.HOUR),
    ("+5s", 5 * gd.SECOND),
    ("0", 0),
    (u"1\u00b5s", gd.MICROSECOND),
    ("1us", gd.MICROSECOND),
])
def test_documented_go_forms(text, nanos):
    assert gd.parse(text) == nanos


@pytest.mark.parametrize("text, message", [
    ("", 'time: invalid duration ""'),
    ("1", 'time: missing unit in duration "1"'),
    ("+", 'time: invalid duration "+"'),
    ("2562048h", 'time: invalid duration "2562048h"'),  # past int64 nanoseconds (~292 years)
    ("-9223372036854775809ns", 'time: invalid duration "-9223372036854775809ns"'),
    ("9223372036854775807ns1ns", 'time: invalid duration "9223372036854775807ns1ns"'),
])
def test_documented_go_errors(text, message):
    with pytest.raises(gd.GoDurationError) as err:
        gd.parse(text)
    assert str(err.value) == message


@pytest.mark.parametrize("value, seconds", [
    (3600, 3600.0),
    (7.5, 7.5),
    ("3600", 3600.0),  # -e report_expiring_within=3600 arrives as a string: seconds, as documented
    (" 90.5 ", 90.5),
    ("0", 0.0),
    ("360h", 360 * 3600.0),
    ("1h30m", 5400.0),
    ("500ms", 0.5),
    ("-1h", -3600.0),
])
def test_to_seconds_takes_seconds_or_a_go_duration(value, seconds):
    assert gd.to_seconds(value) == seconds


@pytest.mark.parametrize("value, message", [
    ("30d", 'time: unknown unit "d" in duration "30d"'),
    ("3600x", 'time: unknown unit "x" in duration "3600x"'),
    ("", 'time: invalid duration ""'),
    (True, 'expected seconds or a Go duration such as "360h", got True'),
    (None, 'expected seconds or a Go duration such as "360h", got None'),
    ([1], 'expected seconds or a Go duration such as "360h", got [1]'),
])
def test_to_seconds_errors(value, message):
    with pytest.raises(gd.GoDurationError) as err:
        gd.to_seconds(value)
    assert str(err.value) == message


@pytest.mark.parametrize("text, advice", [
    ("30d", 'Go durations, as cert-manager uses them, have no day or week unit: use hours (30d is "720h").'),
    ("2w", 'Go durations, as cert-manager uses them, have no day or week unit: use hours (2w is "336h").'),
    ("1.5d", 'Go durations, as cert-manager uses them, have no day or week unit: use hours (1.5d is "36h").'),
    ("30", 'Add a unit: h, m or s (e.g. "30h" or "30s").'),
    ("soon", 'Write it as a Go duration, e.g. "360h" or "1h30m".'),
])
def test_advice_says_how_to_write_it(text, advice):
    assert gd.advice(text) == advice
