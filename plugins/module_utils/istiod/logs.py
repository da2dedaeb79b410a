# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Turn istiod log text (pods/log with timestamps=true) into typed events.

istiod says what its CA did only in its log; the exact message texts are in
docs/upstream/istiod.md#reload-steps, docs/upstream/istiod.md#serving-cert-log, docs/upstream/istiod.md#startup-log-lines.
Each line is matched on the message text, not on the level/scope columns, so the
plain and the JSON log formats both work. Timestamps come from kubelet's
RFC3339Nano prefix; a line without one falls back to istiod's own timestamp.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339

# Event kinds.
RELOAD_START = "reload_start"
FORMAT_TLS = "format_tls"
FORMAT_NATIVE = "format_native"
ROOT_REFUSED_MULTIROOT_OFF = "root_refused_multiroot_off"
ROOT_REFUSED = "root_refused"
ROOT_UPDATE = "root_update"
UPDATE_FAILED = "update_failed"
ROOT_READ_FAILED = "root_read_failed"
FORMAT_UNKNOWN = "format_unknown"
DNS_CERT_FAILED = "dns_cert_failed"
NO_CHANGES = "no_changes"
RELOAD_DONE = "reload_done"
X509 = "x509"
CERTS_RELOADED = "certs_reloaded"
PLUGGED_START = "plugged_start"
SELF_SIGNED_START = "self_signed_start"
WATCHER_ADDED = "watcher_added"
WATCHER_FAILED = "watcher_failed"
WATCH_ENDED = "watch_ended"
CA_CREATE_FAILED = "ca_create_failed"

SUCCESS_MARKER = "Istiod has detected the newly added intermediate CA and updated its key and certs accordingly"

# (kind, text, how): "prefix" texts carry a detail after them (kept as event.detail).
# Order matters where one text contains another: the more specific comes first.
_MESSAGES = (
    (ROOT_REFUSED_MULTIROOT_OFF, "Multi root is disabled, updating new ROOT-CA not supported", "exact"),
    (ROOT_REFUSED, "Updating new ROOT-CA not supported", "exact"),
    (ROOT_UPDATE, "Updating new ROOT-CA", "exact"),
    (RELOAD_DONE, SUCCESS_MARKER, "exact"),
    (RELOAD_START, "Update Istiod cacerts", "exact"),
    (FORMAT_TLS, "Using kubernetes.io/tls secret type for signing ca files", "exact"),
    (FORMAT_NATIVE, "Using istiod file format for signing ca files", "exact"),
    (UPDATE_FAILED, "Failed to update new Plug-in CA certs: ", "prefix"),
    (ROOT_READ_FAILED, "failed reading root-cert.pem: ", "prefix"),
    (FORMAT_UNKNOWN, "unable to determine signing file format", "prefix"),
    (DNS_CERT_FAILED, "Failed generating plugged-in istiod key cert: ", "prefix"),
    (NO_CHANGES, "No changes detected in root cert or CRL file data, skipping update", "exact"),
    (CERTS_RELOADED, "Istiod certificates are reloaded", "exact"),
    (PLUGGED_START, "Use local CA certificate", "exact"),
    (SELF_SIGNED_START, "Use self-signed certificate as the CA certificate", "exact"),
    (WATCHER_ADDED, "Added cacerts files watcher at ", "prefix"),
    (WATCHER_FAILED, "failed to add cacerts file watcher for ", "prefix"),
    (WATCHER_FAILED, "AUTO_RELOAD_PLUGIN_CERTS will not work, failed to add file watcher", "prefix"),
    (WATCH_ENDED, "failed to catch events on cacerts file", "prefix"),
    (CA_CREATE_FAILED, "failed to create an istiod CA: ", "prefix"),
    (CA_CREATE_FAILED, "failed to create CA KeyCertBundle", "prefix"),
)

_TS = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})"
_LEADING_TS = re.compile(r"^(%s)\s?" % _TS)
_GO_Q = r'"((?:[^"\\]|\\.)*)"'
# istiod certcontroller.go: "x509 cert - Issuer: %q, Subject: %q, SN: %x, NotBefore: %q, NotAfter: %q"
_X509 = re.compile(r"x509 cert - Issuer: %s, Subject: %s, SN: ([0-9A-Fa-f]+), NotBefore: %s, NotAfter: %s"
                   % (_GO_Q, _GO_Q, _GO_Q, _GO_Q))
_GO_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def go_unquote(text):
    """Undo Go's %q escaping (the x509 line quotes Issuer/Subject/times with it)."""
    def _one(match):
        seq = match.group(1)
        if seq[0] in "xuU" and len(seq) > 1:
            return chr(int(seq[1:], 16))
        return _SIMPLE_ESCAPES.get(seq, seq)
    return _GO_ESCAPE.sub(_one, text)


class X509Line(object):
    """One ``x509 cert - ...`` line: a certificate of istiod's own serving chain."""

    def __init__(self, issuer, subject, serial, not_before, not_after):
        self.issuer = issuer
        self.subject = subject
        self.serial = serial.lower().lstrip("0") or "0"
        self.not_before = not_before
        self.not_after = not_after


class LogEvent(object):
    """A recognized istiod log line: when, what kind, the message, and parsed details."""

    def __init__(self, when, kind, message, detail=None, x509=None):
        self.when = when
        self.kind = kind
        self.message = message
        self.detail = detail
        self.x509 = x509

    def short(self, limit=240):
        """The line as evidence: timestamp plus message, cut to ``limit`` characters."""
        stamp = rfc3339.format(self.when, fraction=True) if self.when else "-"
        text = "%s %s" % (stamp, self.message)
        return text if len(text) <= limit else text[:limit - 3] + "..."

    def __repr__(self):
        return "<LogEvent %s %s>" % (self.kind, self.when)


def _message_of(rest):
    """The message part of an istiod line (plain ``time\\tlevel\\t[scope\\t]msg`` or JSON)."""
    stripped = rest.strip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(stripped)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("msg"), str):
            return doc["msg"], rfc3339.parse(doc.get("time") or "")
    own_time = None
    match = _LEADING_TS.match(stripped)
    if match:
        own_time = rfc3339.parse(match.group(1))
    return stripped, own_time


def classify(message):
    """(kind, detail, x509) for a message, or None when it is no CA-related line."""
    match = _X509.search(message)
    if match:
        issuer, subject, serial, not_before, not_after = match.groups()
        return X509, None, X509Line(go_unquote(issuer), go_unquote(subject), serial,
                                    go_unquote(not_before), go_unquote(not_after))
    for kind, text, how in _MESSAGES:
        pos = message.find(text)
        if pos < 0:
            continue
        if how == "exact":
            tail = message[pos + len(text):]
            if tail[:1].isalnum() or tail.startswith(" not supported"):
                continue  # a longer, different message that merely starts with this text
            return kind, None, None
        return kind, message[pos + len(text):].strip() or None, None
    return None


def _trimmed(message):
    """The message from its known text on (drops istiod's own time/level/scope columns)."""
    parts = message.split("\t")
    return parts[-1].strip() if len(parts) > 1 else message


def parse_log(text):
    """Every CA-related event of a log text, in log order."""
    events = []
    for raw in (text or "").splitlines():
        if not raw.strip():
            continue
        when = None
        match = _LEADING_TS.match(raw)
        rest = raw
        if match:
            when = rfc3339.parse(match.group(1))
            rest = raw[match.end():]
        message, own_time = _message_of(rest)
        found = classify(message)
        if found is None:
            continue
        kind, detail, x509 = found
        events.append(LogEvent(when or own_time, kind, _trimmed(message), detail, x509))
    return events


def since_filter(events, since):
    """Events at or after ``since``; a line without any timestamp cannot be placed, so it is dropped
    (a startup line must never pass for a reload)."""
    if since is None:
        return list(events)
    return [e for e in events if e.when is not None and e.when >= since]
