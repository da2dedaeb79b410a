"""The string ``format`` values apiextensions-apiserver validates in custom resources.

apiextensions-apiserver pkg/apiserver/validation/formats.go (``supportedFormats``) keeps only formats of
kube-openapi's strfmt registry (k8s.io/kube-openapi pkg/validation/strfmt/default.go); any other format
(``int32``, ``int64``, ``double``, ``quantity`` …) is stripped and never checked. A value that fails its
format is kube-openapi's ``errors.InvalidType(path, "body", format, value)`` — ``spec.x in body must be of
type date-time: "tomorrow"`` — reported as ``field.TypeInvalid`` (validation.go
``kubeOpenAPIResultToFieldErrors``).

Each checker follows the strfmt function named in its comment; the standard library does the parsing
where it implements the same standard (base64, ipaddress, uuid).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import re
import uuid
from typing import Callable, Dict


def _date(s: str) -> bool:
    # strfmt IsDate: time.Parse("2006-01-02", s)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return False
    try:
        datetime.date(int(s[:4]), int(s[5:7]), int(s[8:10]))
    except ValueError:
        return False
    return True


_TIME_OF_DAY = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")


def _date_time(s: str) -> bool:
    # strfmt IsDateTime: lower-cased, split at "t", a full-date then DateTimePattern with hh<=23, mm,ss<=59
    if len(s) < 4:
        return False
    parts = s.lower().split("t")
    if len(parts) < 2 or not _date(parts[0]):
        return False
    m = _TIME_OF_DAY.match(parts[1])
    return bool(m) and m.group(1) <= "23" and m.group(2) <= "59" and m.group(3) <= "59"


def _byte(s: str) -> bool:
    # strfmt "byte": base64.StdEncoding.DecodeString (padding required; CR/LF ignored)
    try:
        base64.b64decode(s.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _ipv4(s: str) -> bool:
    # strfmt IsIPv4: net.ParseIP and a dotted quad
    try:
        return isinstance(ipaddress.ip_address(s), ipaddress.IPv4Address)
    except ValueError:
        return False


def _ipv6(s: str) -> bool:
    # strfmt IsIPv6: net.ParseIP and a colon in it
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return ":" in s


def _cidr(s: str) -> bool:
    # strfmt IsCIDR: net.ParseCIDR (host bits may be set)
    try:
        ipaddress.ip_network(s, strict=False)
    except ValueError:
        return False
    return "/" in s


def _uuid(version=None) -> Callable[[str], bool]:
    # strfmt IsUUID*: the 8-4-4-4-12 hex pattern (with the version nibble for uuid3/4/5)
    def check(s: str) -> bool:
        if not re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", s):
            return False
        return version is None or uuid.UUID(s).version == version
    return check


_HOSTNAME = re.compile(r"^([a-zA-Z0-9]((-?[a-zA-Z0-9]{0,62})?)|"
                       r"([a-zA-Z0-9](([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.)){1,}([a-zA-Z]){2,63})$")


def _hostname(s: str) -> bool:
    # strfmt IsHostname (ASCII subset of its pattern), at most 255 characters
    return len(s) <= 255 and bool(_HOSTNAME.match(s))


CHECKS: Dict[str, Callable[[str], bool]] = {
    "date": _date, "date-time": _date_time, "datetime": _date_time, "byte": _byte,
    "ipv4": _ipv4, "ipv6": _ipv6, "cidr": _cidr, "hostname": _hostname,
    "uuid": _uuid(), "uuid3": _uuid(3), "uuid4": _uuid(4), "uuid5": _uuid(5),
}


def format_error(path: str, fmt: str, value) -> str:
    """kube-openapi's text, or '' when the format is unchecked or the value fits."""
    check = CHECKS.get(fmt)
    if check is None or not isinstance(value, str) or check(value):
        return ""
    return f'{path} in body must be of type {fmt}: "{value}"'
