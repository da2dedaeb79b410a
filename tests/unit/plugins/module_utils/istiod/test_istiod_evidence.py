"""Per-pod verdicts: every way a pod can be proven, blocked or still pending."""

import datetime

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import evidence as ev
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import logs
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.pods import PodInfo
from unit import istiod_lines as L
from unit.x509_factory import key, make, mesh

S = datetime.timedelta(seconds=1)
SINCE = datetime.datetime(2025, 1, 31, 12, 0, 0, tzinfo=datetime.timezone.utc)
BOOT = SINCE - datetime.timedelta(hours=2)
ROOT, OLD = mesh()
NEW = make("Intermediate CA", key("ec256", 2), issuer=ROOT, ca=True, pathlen=0, locality="cluster-1")


def target(inter=NEW, **kw):
    args = dict(serial="%x" % inter.cert.serial_number, subject=inter.cert.subject.rfc4514_string(),
                not_after=inter.cert.not_valid_after_utc, secret_created=BOOT - datetime.timedelta(days=1))
    args.update(kw)
    return ev.Target(**args)


def events(*groups):
    return logs.parse_log(L.text([item for group in groups for item in group]))


def info(**kw):
    kw.setdefault("started", BOOT)
    return PodInfo(L.pod(**kw))


def codes(verdict):
    return [p["code"] for p in verdict.problems]


def test_hot_reload_after_since_is_proven():
    log = events(L.startup_plugged(BOOT, OLD.cert, ROOT.cert), L.reload_ok(SINCE + 40 * S, NEW.cert, ROOT.cert))
    verdict = ev.judge(info(), log, target(), SINCE)
    assert verdict.state == ev.RELOADED and verdict.reloaded
    assert verdict.how == ev.HOT_RELOAD
    assert verdict.signing_serial == "%x" % NEW.cert.serial_number
    assert any(L.MARKER in line for line in verdict.evidence)
    assert any("SN: %x" % NEW.cert.serial_number in line for line in verdict.evidence)
    assert verdict.problems == []


def test_startup_lines_before_since_are_not_a_reload():
    # The pod started with the new intermediate *before* since (e.g. an older Secret change): its startup
    # 'x509 cert' and 'certificates are reloaded' lines must not count for this change.
    log = events(L.startup_plugged(SINCE - 5 * S, NEW.cert, ROOT.cert), [L.line(SINCE - S, L.MARKER)])
    verdict = ev.judge(info(started=SINCE - 5 * S), log, target(), SINCE)
    assert verdict.state == ev.PENDING
    assert verdict.signing_serial is None
    assert verdict.evidence == []


def test_reload_of_other_serial_is_not_proof():
    log = events(L.reload_ok(SINCE + S, OLD.cert, ROOT.cert))
    verdict = ev.judge(info(), log, target(), SINCE)
    assert verdict.state == ev.PENDING
    assert verdict.signing_serial == "%x" % OLD.cert.serial_number
    assert codes(verdict) == ["other_intermediate_loaded"]


def test_marker_without_chain_lines_is_unproven_until_metric():
    log = events([L.line(SINCE + S, "Update Istiod cacerts"), L.line(SINCE + S, L.MARKER)])
    verdict = ev.judge(info(version="1.24.1"), log, target(), SINCE)
    assert verdict.state == ev.PENDING and codes(verdict) == ["reload_unproven"]
    metric = NEW.cert.not_valid_after_utc.timestamp()
    verdict = ev.judge(info(version="1.24.1"), log, target(), SINCE, metric=metric)
    assert verdict.state == ev.RELOADED and verdict.how == ev.METRIC
    assert any("citadel_server_cert_chain_expiry_timestamp" in line for line in verdict.evidence)


def test_metric_of_old_intermediate_is_no_proof():
    other = OLD.cert.not_valid_after_utc.timestamp() - 86400
    verdict = ev.judge(info(version="1.24.1"), [], target(), SINCE, metric=other)
    assert verdict.state == ev.PENDING


def test_chain_lines_without_marker_still_prove_the_ca_changed():
    log = events([x for x in L.reload_ok(SINCE + S, NEW.cert, ROOT.cert) if L.MARKER not in x])
    verdict = ev.judge(info(), log, target(), SINCE)
    assert verdict.reloaded and verdict.how == ev.HOT_RELOAD
    assert any("success marker was not seen" in note for note in verdict.notes)


def test_leaf_not_issued_by_expected_intermediate_is_no_proof():
    inter_subject = NEW.cert.subject.rfc4514_string()
    lines = [L.x509_line(SINCE + S, "CN=someone else", "", 1),
             L.x509_line(SINCE + S, "CN=Root CA,O=meshpki-test", inter_subject, NEW.cert.serial_number),
             L.line(SINCE + S, L.MARKER)]
    verdict = ev.judge(info(), events(lines), target(), SINCE)
    assert verdict.state == ev.PENDING


def test_pod_started_after_change_loaded_at_start():
    start = SINCE + 30 * S
    log = events(L.startup_plugged(start, NEW.cert, ROOT.cert))
    verdict = ev.judge(info(started=start), log, target(), SINCE)
    assert verdict.reloaded and verdict.how == ev.AT_START
    assert any("Use local CA certificate" in line for line in verdict.evidence)
    assert any("loaded at start" in note for note in verdict.notes)


def test_pod_started_after_change_self_signed():
    start = SINCE + 30 * S
    verdict = ev.judge(info(started=start), events(L.startup_self_signed(start)), target(), SINCE)
    assert verdict.state == ev.BLOCKED and codes(verdict) == ["self_signed"]
    assert "rollout restart deployment/istiod" in verdict.problems[0]["fix"]


def test_self_signed_from_startup_log_head():
    head = events(L.startup_self_signed(BOOT))
    verdict = ev.judge(info(), [], target(secret_created=None), SINCE, head_events=head)
    assert verdict.state == ev.BLOCKED and codes(verdict) == ["self_signed"]
    assert "Use self-signed certificate as the CA certificate" in verdict.problems[0]["cause"]


def test_self_signed_inferred_when_pod_started_before_secret_existed():
    verdict = ev.judge(info(started=BOOT), [], target(secret_created=BOOT + S), SINCE)
    assert verdict.state == ev.BLOCKED and codes(verdict) == ["self_signed"]
    assert "before the cacerts Secret was created" in verdict.problems[0]["cause"]
    # ...unless the startup log says it did start as a plugged CA.
    head = events(L.startup_plugged(BOOT, OLD.cert, ROOT.cert))
    verdict = ev.judge(info(started=BOOT), [], target(secret_created=BOOT + S), SINCE, head_events=head)
    assert verdict.state == ev.PENDING


@pytest.mark.parametrize("version,multiroot,fix_part", [
    ("1.22.3", None, "multi-root procedure"),
    ("1.19.4", None, "multi-root needs 1.20+"),
    ("1.22.3", "true", "must contain the old one"),
])
def test_root_change_refused(version, multiroot, fix_part):
    env = {"ISTIO_MULTIROOT_MESH": multiroot} if multiroot else {}
    log = events(L.reload_root_refused(SINCE + S, multiroot_text=version >= "1.20" and not multiroot))
    verdict = ev.judge(info(version=version, env=env), log, target(), SINCE)
    assert verdict.state == ev.BLOCKED and codes(verdict) == ["root_change_refused"]
    assert fix_part in verdict.problems[0]["fix"]
    assert "ROOT-CA not supported" in verdict.evidence[0]


@pytest.mark.parametrize("error,fix_part", [
    ("the cert does not match the key: tls: private key does not match public key", "not the key of tls.crt"),
    ("cannot verify the cert with the provided root chain and cert pool with error: x509: certificate signed by "
     "unknown authority", "does not verify against the root"),
    ("failed to parse private key PEM: unsupported", "PEM block of type"),
    ("something new", "Fix the cacerts material"),
])
def test_bad_material(error, fix_part):
    verdict = ev.judge(info(), events(L.reload_failed(SINCE + S, error)), target(), SINCE)
    assert verdict.state == ev.BLOCKED and codes(verdict) == ["update_failed"]
    problem = verdict.problems[0]
    assert error in problem["cause"] and "keeps signing with the old intermediate" in problem["cause"]
    assert fix_part in problem["fix"] and "x509_inspect" in problem["fix"]


@pytest.mark.parametrize("message,code", [
    ("unable to determine signing file format", "format_unknown"),
    ("failed to catch events on cacerts file: watcher closed", "watcher_stopped"),
    ("No changes detected in root cert or CRL file data, skipping update", "intermediate_update_ignored"),
    ("failed reading root-cert.pem: open ./etc/cacerts/ca.crt: no such file", "root_file_missing"),
    ("Failed generating plugged-in istiod key cert: unsupported key", "dns_cert_failed"),
])
def test_other_log_blockers(message, code):
    verdict = ev.judge(info(), events([L.line(SINCE + S, message, "error")]), target(), SINCE)
    assert verdict.state == ev.BLOCKED and codes(verdict) == [code]


def test_log_blocker_before_since_is_ignored():
    verdict = ev.judge(info(), events(L.reload_failed(SINCE - S)), target(), SINCE)
    assert verdict.state == ev.PENDING


@pytest.mark.parametrize("version,env,code", [
    ("1.11.8", {}, "hot_reload_unsupported"),
    ("1.13.4", {"AUTO_RELOAD_PLUGIN_CERTS": "true"}, "hot_reload_ineffective"),
    ("1.16.7", {}, "hot_reload_off"),
    ("1.17.2", {"AUTO_RELOAD_PLUGIN_CERTS": "false"}, "hot_reload_off"),
    ("1.18.3", {"AUTO_RELOAD_PLUGIN_CERTS": "false"}, "hot_reload_off"),
])
def test_version_rules_block(version, env, code):
    verdict = ev.judge(info(version=version, env=env), [], target(), SINCE)
    assert verdict.state == ev.BLOCKED and codes(verdict) == [code]
    assert "rollout restart deployment/istiod" in verdict.problems[0]["fix"]


def test_hot_reload_off_texts():
    cause = ev.judge(info(version="1.16.7"), [], target(), SINCE).problems[0]["cause"]
    assert "does not set AUTO_RELOAD_PLUGIN_CERTS" in cause and "1.16.7" in cause
    cause = ev.judge(info(version="1.18.3", env={"AUTO_RELOAD_PLUGIN_CERTS": "false"}), [], target(),
                     SINCE).problems[0]["cause"]
    assert "1.18 defaults to true" in cause


@pytest.mark.parametrize("version,env", [
    ("1.16.7", {"AUTO_RELOAD_PLUGIN_CERTS": "true"}),
    ("1.18.3", {}),
    ("1.22.3", {"AUTO_RELOAD_PLUGIN_CERTS": "false"}),
])
def test_version_rules_allow(version, env):
    assert ev.judge(info(version=version, env=env), [], target(), SINCE).state == ev.PENDING


def test_version_rule_does_not_apply_to_pod_started_after_change():
    start = SINCE + 5 * S
    log = events(L.startup_plugged(start, NEW.cert, ROOT.cert))
    verdict = ev.judge(info(version="1.16.7", started=start), log, target(), SINCE)
    assert verdict.reloaded and verdict.how == ev.AT_START


def test_proof_wins_over_version_rule():
    # An image tag that lies (e.g. a patched build) must not hide real evidence.
    log = events(L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    assert ev.judge(info(version="1.16.7"), log, target(), SINCE).reloaded


def test_tls_names_on_old_istio():
    verdict = ev.judge(info(version="1.14.1", env={"AUTO_RELOAD_PLUGIN_CERTS": "true"}), [],
                       target(tls_only=True), SINCE)
    assert codes(verdict) == ["tls_names_unsupported"]
    assert ev.judge(info(version="1.14.2", env={"AUTO_RELOAD_PLUGIN_CERTS": "true"}), [],
                    target(tls_only=True), SINCE).state == ev.PENDING


def test_unknown_version_is_noted_and_assumed_on():
    verdict = ev.judge(info(version=None), [], target(), SINCE)
    assert verdict.state == ev.PENDING
    assert any("version unknown" in note for note in verdict.notes)


def test_no_serial_falls_back_to_leaf_issuer():
    log = events(L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    verdict = ev.judge(info(), log, target(serial=None), SINCE)
    assert verdict.reloaded


def test_finalize_turns_pending_into_timeout():
    verdict = ev.finalize(ev.judge(info(), [], target(), SINCE), info(), 12.5, SINCE)
    assert codes(verdict) == ["timeout"]
    assert "12.5s" in verdict.problems[0]["cause"] and "Raise timeout" in verdict.problems[0]["fix"]
    blocked = ev.judge(info(version="1.16.7"), [], target(), SINCE)
    assert ev.finalize(blocked, info(), 10, SINCE).problems == blocked.problems
    unproven = ev.judge(info(), events([L.line(SINCE + S, L.MARKER)]), target(), SINCE)
    assert codes(ev.finalize(unproven, info(), 10, SINCE)) == ["reload_unproven"]
