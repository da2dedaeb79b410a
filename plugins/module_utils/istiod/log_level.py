# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""istiod's log level for the default scope, read from its container's ``--log_output_level`` argument.

The reload proof reads istiod's Info lines (the success marker in ``pilot/pkg/bootstrap/istio_ca.go``
``handleEvent``, the ``x509 cert`` lines of ``loadIstiodCert`` in ``certcontroller.go``), all logged in
the default scope. istio's ``pkg/log`` (``options.go`` ``convertScopedLevel``) takes
``--log_output_level`` as comma-separated ``<scope>:<level>`` items, a bare ``<level>`` meaning the
default scope; levels are debug, info, warn, error, fatal, none; the default is info. The Helm chart
(``manifests/charts/istio-control/istio-discovery``) passes ``--log_output_level={{ global.logging.level }}``
(``default:info`` unless changed). An unparsable value makes istiod refuse to start, so it reads as
unknown here (None) rather than as a guess.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

FLAG = "--log_output_level"
DEFAULT_SCOPE = "default"
LEVELS = ("debug", "info", "warn", "error", "fatal", "none")


def flag_value(args):
    """The last ``--log_output_level`` value in ``args`` (``--flag=v``, ``--flag v``, one dash too), or None."""
    value = None
    args = [str(a) for a in (args or [])]
    for i, arg in enumerate(args):
        for prefix in (FLAG, FLAG[1:]):
            if arg.startswith(prefix + "="):
                value = arg[len(prefix) + 1:]
            elif arg == prefix and i + 1 < len(args):
                value = args[i + 1]
    return value


def default_scope_level(args):
    """(level of the default scope, the flag's text): ("info", None) without the flag, (None, text) if unparsable."""
    text = flag_value(args)
    if text is None:
        return "info", None
    level = "info"
    for item in text.split(","):
        pieces = item.split(":")
        if len(pieces) == 1:
            scope, name = DEFAULT_SCOPE, pieces[0]
        elif len(pieces) == 2:
            scope, name = pieces
        else:
            return None, text
        if name not in LEVELS:
            return None, text
        if scope == DEFAULT_SCOPE:
            level = name
    return level, text


def writes_info(level):
    """Whether Info lines of the default scope are written at ``level`` (None, unknown: assumed yes)."""
    return level is None or LEVELS.index(level) <= LEVELS.index("info")
