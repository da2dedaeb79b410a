# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Which cert-manager webhook the pre-flight check imitates: its version and its feature gates.

Several Certificate rules exist only from some release on, and three fields sit behind webhook feature gates
whose defaults changed (cert-manager internal/webhook/feature/features.go per tag):

- LiteralCertificateSubject: alpha (off) until v1.14, beta (on) from v1.15;
- NameConstraints: alpha (off) until v1.16, beta (on) from v1.17;
- OtherNames: alpha (off) until v1.19, beta (on) from v1.20.

When the version is not known, the check applies only what every release from v1.16 to v1.21 refuses and
leaves version- and gate-dependent decisions to the webhook itself (the module's dry-run apply asks it);
so it never refuses what the cluster's webhook would accept.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

NEWEST = (1, 21, 1)
_GATE_DEFAULTS = (("LiteralCertificateSubject", (1, 15, 0)), ("NameConstraints", (1, 17, 0)),
                  ("OtherNames", (1, 20, 0)))
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text):
    """``v1.19.1`` / ``1.19`` / ``v1.20.0-beta.0`` -> (1, 19, 1); None for None, "", "unknown"."""
    if not text:
        return None
    match = _VERSION.match(str(text).strip())
    if not match:
        raise ValueError("cert_manager_version %r is not a version such as v1.19.1" % (text,))
    return tuple(int(g or 0) for g in match.groups())


def parse_gates(text):
    """The webhook's ``--feature-gates`` value (``A=true,B=false``) as a dict."""
    gates = {}
    for part in (text or "").split(","):
        name, sep, value = part.strip().partition("=")
        if name and sep:
            gates[name.strip()] = value.strip().lower() == "true"
    return gates


class Webhook(object):
    """A cert-manager webhook of one version (or of an unknown one) with its feature gates."""

    def __init__(self, version=None, gates=None):
        self.version = parse_version(version) if not isinstance(version, tuple) else version
        self.gates = dict(gates or {})

    @property
    def known(self):
        return self.version is not None

    def at_least(self, version):
        """True/False for a known version; None when unknown."""
        return None if self.version is None else self.version >= version

    def gate(self, name):
        """Whether a feature gate is on: an explicit setting, else the version's default, else None."""
        if name in self.gates:
            return self.gates[name]
        if self.version is None:
            return None
        return dict((n, self.version >= since) for n, since in _GATE_DEFAULTS).get(name, False)

    def refuses(self, since):
        """Whether a rule added in ``since`` applies: only when the version is known and not older."""
        return bool(self.at_least(since))

    def newer_text(self, since):
        """Message wording: the newer one unless the version is known to be older."""
        return self.at_least(since) is not False
