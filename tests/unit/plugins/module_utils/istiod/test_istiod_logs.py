"""istiod log parsing: every message of docs/upstream/istiod.md#reload-steps and the timestamp rules."""

import datetime

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import logs
from unit import istiod_lines as L

T0 = datetime.datetime(2025, 1, 31, 12, 0, 0, tzinfo=datetime.timezone.utc)


def one(message, level="info"):
    events = logs.parse_log(L.line(T0, message, level))
    assert len(events) == 1, events
    return events[0]


@pytest.mark.parametrize("message,kind,detail", [
    ("Update Istiod cacerts", logs.RELOAD_START, None),
    ("Using kubernetes.io/tls secret type for signing ca files", logs.FORMAT_TLS, None),
    ("Using istiod file format for signing ca files", logs.FORMAT_NATIVE, None),
    ("Multi root is disabled, updating new ROOT-CA not supported", logs.ROOT_REFUSED_MULTIROOT_OFF, None),
    ("Updating new ROOT-CA not supported", logs.ROOT_REFUSED, None),
    ("Updating new ROOT-CA", logs.ROOT_UPDATE, None),
    ("Failed to update new Plug-in CA certs: the cert does not match the key", logs.UPDATE_FAILED,
     "the cert does not match the key"),
    ("failed reading root-cert.pem: open ./etc/cacerts/ca.crt: no such file or directory",
     logs.ROOT_READ_FAILED, "open ./etc/cacerts/ca.crt: no such file or directory"),
    ("unable to determine signing file format", logs.FORMAT_UNKNOWN, None),
    ("Failed generating plugged-in istiod key cert: boom", logs.DNS_CERT_FAILED, "boom"),
    ("No changes detected in root cert or CRL file data, skipping update", logs.NO_CHANGES, None),
    (L.MARKER, logs.RELOAD_DONE, None),
    ("Istiod certificates are reloaded", logs.CERTS_RELOADED, None),
    ("Use local CA certificate", logs.PLUGGED_START, None),
    ("Use self-signed certificate as the CA certificate", logs.SELF_SIGNED_START, None),
    ("Added cacerts files watcher at ./etc/cacerts", logs.WATCHER_ADDED, "./etc/cacerts"),
    ("failed to add cacerts file watcher for ./etc/cacerts: too many open files", logs.WATCHER_FAILED,
     "./etc/cacerts: too many open files"),
    ("AUTO_RELOAD_PLUGIN_CERTS will not work, failed to add file watcher: x", logs.WATCHER_FAILED, ": x"),
    ("failed to catch events on cacerts file: closed", logs.WATCH_ENDED, ": closed"),
    ("failed to create an istiod CA: incomplete signing CA bundle detected", logs.CA_CREATE_FAILED,
     "incomplete signing CA bundle detected"),
])
def test_each_message_kind(message, kind, detail):
    event = one(message)
    assert event.kind == kind
    assert event.detail == detail
    assert event.message == message  # istiod's own time and level columns are dropped
    assert event.when == T0


def test_root_messages_do_not_shadow_each_other():
    # "Updating new ROOT-CA" is a prefix of the refusal; the refusal is contained in the multi-root text
    # only case-insensitively. Each must keep its own kind.
    kinds = [e.kind for e in logs.parse_log(L.text([
        L.line(T0, "Updating new ROOT-CA not supported", "warn"),
        L.line(T0, "Updating new ROOT-CA"),
        L.line(T0, "Multi root is disabled, updating new ROOT-CA not supported", "warn"),
    ]))]
    assert kinds == [logs.ROOT_REFUSED, logs.ROOT_UPDATE, logs.ROOT_REFUSED_MULTIROOT_OFF]


def test_x509_line_fields_and_go_unquoting():
    raw = L.x509_line(T0, 'CN=Intermediate \\"A\\",O=Istio', 'CN=x\\,y', 0x00ABCDEF,
                      "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    event = logs.parse_log(raw)[0]
    assert event.kind == logs.X509
    assert event.x509.issuer == 'CN=Intermediate \\"A\\",O=Istio'
    assert event.x509.subject == "CN=x\\,y"
    assert event.x509.serial == "abcdef"
    assert event.x509.not_after == "2026-01-01T00:00:00Z"


def test_go_unquote_escapes():
    assert logs.go_unquote(r"a\"b\\c\x41\u00e9\n") == 'a"b\\cA\u00e9\n'


def test_json_format_lines_are_read():
    raw = ('2025-01-31T12:00:00.5Z {"level":"warn","time":"2025-01-31T12:00:00.400000Z","scope":"default",'
           '"msg":"Multi root is disabled, updating new ROOT-CA not supported"}')
    event = logs.parse_log(raw)[0]
    assert event.kind == logs.ROOT_REFUSED_MULTIROOT_OFF
    assert event.when == T0 + datetime.timedelta(milliseconds=500)  # kubelet's time wins


def test_scope_column_is_dropped():
    event = logs.parse_log("2025-01-31T12:00:00Z 2025-01-31T12:00:00.000000Z\tinfo\tpki\tUse local CA certificate")[0]
    assert event.kind == logs.PLUGGED_START
    assert event.message == "Use local CA certificate"


def test_istiod_time_is_used_without_kubelet_prefix():
    event = logs.parse_log("2025-01-31T12:00:03.250000Z\tinfo\tUpdate Istiod cacerts")[0]
    assert event.when == T0 + datetime.timedelta(seconds=3, milliseconds=250)


def test_unrelated_and_empty_lines_are_skipped():
    text = L.text([L.line(T0, "ads\tPush debounce stable[12] 1"), "", "   ",
                   L.line(T0, "Update Istiod cacerts")])
    assert [e.kind for e in logs.parse_log(text)] == [logs.RELOAD_START]


def test_since_filter_drops_earlier_and_untimed_lines():
    events = logs.parse_log(L.text([
        L.line(T0 - datetime.timedelta(seconds=1), "Istiod certificates are reloaded"),
        L.line(T0, "Update Istiod cacerts"),
    ]))
    events.append(logs.LogEvent(None, logs.RELOAD_DONE, L.MARKER))
    kept = logs.since_filter(events, T0)
    assert [e.kind for e in kept] == [logs.RELOAD_START]
    assert len(logs.since_filter(events, None)) == 3


def test_short_evidence_is_bounded():
    event = one("Failed to update new Plug-in CA certs: " + "x" * 500)
    assert len(event.short()) == 240
    assert event.short().startswith("2025-01-31T12:00:00")
    assert event.short().endswith("...")
