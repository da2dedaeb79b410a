# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""What each Istio version does with a changed ``cacerts`` (docs/upstream/istiod.md#hot-reload-versions).

The version comes from the istiod image tag; the flags from the pod's env. Each rule
returns a verdict, never raises, so an unknown version only weakens the diagnosis.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_TAG = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$")
# Build flavours are not pre-releases (e.g. 1.22.3-distroless).
_FLAVOURS = ("distroless", "debug")

# Hot-reload verdicts.
RELOAD_ON = "on"
RELOAD_OFF = "off"                  # 1.12-1.17 without AUTO_RELOAD_PLUGIN_CERTS=true, 1.18 with it set false
RELOAD_UNSUPPORTED = "unsupported"  # <= 1.11: no hot reload at all
RELOAD_INEFFECTIVE = "ineffective"  # 1.12-1.13: watcher ignores kubelet's ..data swap
RELOAD_UNKNOWN = "unknown"          # version unknown: assume on


class IstioVersion(object):
    """major.minor.patch plus an optional pre-release (``beta.0``, ``rc.1``)."""

    def __init__(self, major, minor, patch=0, pre=None, text=None):
        self.major = major
        self.minor = minor
        self.patch = patch
        self.pre = pre
        self.text = text or "%d.%d.%d%s" % (major, minor, patch, "-" + pre if pre else "")

    def key(self):
        return (self.major, self.minor, self.patch)

    def at_least(self, major, minor, patch=0):
        return self.key() >= (major, minor, patch)

    def __str__(self):
        return self.text

    def __repr__(self):
        return "IstioVersion(%s)" % self.text


def parse_version(text):
    """``1.22.3``, ``v1.27.0-rc.0``, ``1.22.3-distroless`` -> IstioVersion; anything else -> None."""
    if not text:
        return None
    match = _TAG.match(text.strip())
    if not match:
        return None
    major, minor, patch, suffix = match.groups()
    pre = None
    if suffix:
        parts = [p for p in suffix.split("-") if p and p not in _FLAVOURS]
        pre = "-".join(parts) or None
    return IstioVersion(int(major), int(minor), int(patch or 0), pre, text.strip())


def image_tag(image):
    """The tag of an image reference (``reg:5000/istio/pilot:1.22.3@sha256:...`` -> ``1.22.3``)."""
    if not image:
        return None
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    return last.rsplit(":", 1)[1]


def go_bool(value):
    """Go's strconv.ParseBool, which istiod's env flags use; None when unset or not a bool."""
    if value is None:
        return None
    text = str(value).strip()
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def hot_reload(version, auto_reload_env):
    """Does istiod reload a changed cacerts Secret volume without a restart?

    ``auto_reload_env`` is the raw AUTO_RELOAD_PLUGIN_CERTS value (None when unset).
    docs/upstream/istiod.md#hot-reload-versions: flag added 1.12 (default false), watcher broken on Secret
    volumes until 1.14 (PR #38367), default true in 1.18, removed (always on) in 1.19.
    """
    flag = go_bool(auto_reload_env)
    if version is None:
        return RELOAD_UNKNOWN
    if not version.at_least(1, 12):
        return RELOAD_UNSUPPORTED
    if not version.at_least(1, 14):
        return RELOAD_INEFFECTIVE
    if not version.at_least(1, 18):
        return RELOAD_ON if flag is True else RELOAD_OFF
    if not version.at_least(1, 19):
        return RELOAD_OFF if flag is False else RELOAD_ON
    return RELOAD_ON


def multiroot_supported(version):
    """ISTIO_MULTIROOT_MESH exists from 1.20 (PR #47063)."""
    return version is None or version.at_least(1, 20)


def root_refusal_text(version, multiroot):
    """The warning istiod logs when the root changed and it refuses the reload."""
    if multiroot_supported(version) and not multiroot:
        return "Multi root is disabled, updating new ROOT-CA not supported"
    return "Updating new ROOT-CA not supported"


def metric_fresh(version):
    """citadel_server_* expiry metrics follow a reload only from 1.24 (PR #52466, issue #55464)."""
    return version is None or version.at_least(1, 24)


def reads_tls_names(version):
    """tls.crt/tls.key/ca.crt in cacerts: 1.15.0, backported to 1.14.2 (PR #39732)."""
    if version is None:
        return True
    if version.key()[:2] == (1, 14):
        return version.patch >= 2
    return version.at_least(1, 15)


def ignores_intermediate_only(version):
    """1.27.0-beta/rc skipped intermediate-only updates (fixed in 1.27.0 GA, PR #57271)."""
    return version is not None and version.key() == (1, 27, 0) and bool(version.pre)


def strict_bundle(version):
    """1.27+ refuses to start with an incomplete cacerts bundle; older ones fell back to self-signed."""
    return version is None or version.at_least(1, 27)
