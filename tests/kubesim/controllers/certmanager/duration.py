"""Go ``time.Duration`` parsing and printing, as cert-manager's API uses them: one port, the collection's.

cert-manager's ``duration``/``renewBefore`` are ``metav1.Duration`` values: they are
parsed with Go's ``time.ParseDuration`` (so ``d`` is not a unit) and printed with
``Duration.String()`` (``1h0m0s``) in webhook messages and on CertificateRequests
(golang/go src/time/format.go ``ParseDuration``, ``Duration.String``). Values are integer nanoseconds, as in Go.
The port lives in plugins/module_utils/common/go_duration.py (tested there against Go's documented edge cases);
kubesim re-exports it under the names its controllers use rather than keep a second copy.
"""

from __future__ import annotations

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.go_duration import (  # noqa: F401
    GoDurationError as DurationError,
    format as to_string,
    parse,
)

NANOSECOND = 1
MICROSECOND = 1000
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


def seconds(ns: int) -> float:
    return ns / SECOND
