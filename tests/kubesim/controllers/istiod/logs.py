"""istiod's log line and metrics formats.

Log lines look like istio's zap encoder writes them: ``<RFC3339 µs>Z<TAB>level<TAB>[scope<TAB>]message``
(istio pkg/log, zap's console encoder). The ``x509 cert`` line is
``loadIstiodCert``'s ``Issuer: %q, Subject: %q, SN: %x, NotBefore: %q, NotAfter: %q`` with Go's
``pkix.Name.String()`` names (pilot/pkg/bootstrap/istio_ca.go). Metrics are the Prometheus text format.
"""

from __future__ import annotations

import datetime as _dt
import math

from cryptography import x509

from ... import pki

MARKER = "Istiod has detected the newly added intermediate CA and updated its key and certs accordingly"

# istio pkg/log: levels in order; a scope writes a line when the line's level is at or above the scope's.
LEVELS = ("debug", "info", "warn", "error", "fatal", "none")


def output_levels(args) -> dict:
    """Scope -> minimum level from ``--log_output_level`` in the container args (istio ``pkg/log/options.go``).

    Comma-separated ``<scope>:<level>`` items, a bare ``<level>`` for the default scope
    (``convertScopedLevel``); the last flag given wins, like a cobra string flag. Scopes not named keep
    info, the default output level. An invalid value raises ValueError (istiod refuses to start).
    """
    text = None
    args = [str(a) for a in args or []]
    for i, arg in enumerate(args):
        for flag in ("--log_output_level", "-log_output_level"):
            if arg.startswith(flag + "="):
                text = arg[len(flag) + 1:]
            elif arg == flag and i + 1 < len(args):
                text = args[i + 1]
    levels = {}
    for item in (text or "").split(","):
        if not item:
            continue
        pieces = item.split(":")
        if len(pieces) > 2:
            raise ValueError(f"invalid output level format '{item}'")
        scope, level = ("default", pieces[0]) if len(pieces) == 1 else pieces
        if level not in LEVELS:
            raise ValueError(f"invalid output level '{item}'")
        levels[scope] = level
    return levels


def written(levels: dict, scope: str, level: str) -> bool:
    """Whether a line of ``level`` in ``scope`` ("" = default) reaches the log."""
    floor = levels.get(scope or "default", "info")
    return floor != "none" and LEVELS.index(level) >= LEVELS.index(floor)


def stamp(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def line(when: _dt.datetime, level: str, message: str, scope: str = "") -> str:
    return f"{stamp(when)}\t{level}\t" + (f"{scope}\t" if scope else "") + message


def go_quote(text: str) -> str:
    """strconv.Quote for the printable texts met here."""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _rfc3339(when: _dt.datetime) -> str:
    return when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def x509_message(cert: x509.Certificate) -> str:
    return ("x509 cert - Issuer: " + go_quote(pki.go_name_string(cert.issuer))
            + ", Subject: " + go_quote(pki.go_name_string(cert.subject))
            + ", SN: " + pki.serial_hex(cert)
            + ", NotBefore: " + go_quote(_rfc3339(pki.not_before(cert)))
            + ", NotAfter: " + go_quote(_rfc3339(pki.not_after(cert))))


def go_float(value: float) -> str:
    """strconv.FormatFloat(v, 'g', -1, 64), as the Prometheus text encoder writes values."""
    if value == 0:
        return "0"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    digits = repr(float(value))
    mantissa, _, exp = digits.lower().partition("e")
    neg = mantissa.startswith("-")
    mantissa = mantissa.lstrip("-")
    intpart, _, frac = mantissa.partition(".")
    e = int(exp or 0)
    all_digits = (intpart + frac).lstrip("0")
    # decimal exponent of the first significant digit
    if intpart.strip("0"):
        point = len(intpart.lstrip("0")) + e
    else:
        point = -(len(frac) - len(frac.lstrip("0"))) + e
    all_digits = all_digits.rstrip("0") or "0"
    x = point - 1
    if x < -4 or x >= 6:  # shortest %g switches to an exponent at 1e6
        m = all_digits[0] + ("." + all_digits[1:] if len(all_digits) > 1 else "")
        out = f"{m}e{'-' if x < 0 else '+'}{abs(x):02d}"
    else:
        if point <= 0:
            out = "0." + "0" * (-point) + all_digits
        elif point >= len(all_digits):
            out = all_digits + "0" * (point - len(all_digits))
        else:
            out = all_digits[:point] + "." + all_digits[point:]
    return ("-" if neg else "") + out


def metrics_text(chain_expiry: float, root_expiry: float, version: str) -> str:
    """The istiod /metrics lines the collection reads (security/pkg/server/ca/monitoring.go)."""
    return (
        "# HELP citadel_server_cert_chain_expiry_timestamp The unix timestamp, in seconds, when Citadel cert "
        "chain will expire. A negative time indicates the cert is expired.\n"
        "# TYPE citadel_server_cert_chain_expiry_timestamp gauge\n"
        f"citadel_server_cert_chain_expiry_timestamp {go_float(chain_expiry)}\n"
        "# HELP citadel_server_root_cert_expiry_timestamp The unix timestamp, in seconds, when Citadel root "
        "cert will expire. A negative time indicates the cert is expired.\n"
        "# TYPE citadel_server_root_cert_expiry_timestamp gauge\n"
        f"citadel_server_root_cert_expiry_timestamp {go_float(root_expiry)}\n"
        "# HELP istio_build Istio component build info\n"
        "# TYPE istio_build gauge\n"
        f'istio_build{{component="pilot",tag="{version}"}} 1\n'
    )
