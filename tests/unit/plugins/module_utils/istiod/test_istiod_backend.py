"""The polling backend against a scripted fake API: what it asks for, how often, and what it returns."""

import datetime

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import backend
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import IstiodError, K8sApiError
from unit import istiod_lines as L
from unit.istiod_cluster import IstiodCluster
from unit.x509_factory import key, make, mesh

S = datetime.timedelta(seconds=1)
SINCE = datetime.datetime(2025, 1, 31, 12, 0, 0, tzinfo=datetime.timezone.utc)
BOOT = SINCE - datetime.timedelta(hours=2)
CREATED = BOOT - datetime.timedelta(days=1)
ROOT, OLD = mesh()
NEW = make("Intermediate CA", key("ec256", 2), issuer=ROOT, ca=True, pathlen=0, locality="cluster-1")


def api_with(pods, secret=None, **kw):
    kw.setdefault("root_pem", ROOT.pem)
    return IstiodCluster(secret or L.secret(NEW, ROOT, changed=SINCE, created=CREATED), pods, **kw)


def run(api, **kw):
    kw.setdefault("timeout", 30)
    return backend.ReloadCheck(api, sleep=api.sleep, monotonic=api.monotonic, **kw).run()


def four_pods():
    return [L.pod("istiod-a-1", started=BOOT), L.pod("istiod-a-2", started=BOOT),
            L.pod("istiod-canary-1", started=BOOT, revision="canary"),
            L.pod("istiod-canary-2", started=BOOT, revision="canary")]


def test_every_pod_of_every_revision_reloads_after_propagation():
    api = api_with(four_pods())
    for i, name in enumerate(["istiod-a-1", "istiod-a-2", "istiod-canary-1", "istiod-canary-2"]):
        api.add(name, L.startup_plugged(BOOT, OLD.cert, ROOT.cert))
        api.add(name, L.reload_ok(SINCE + (3 + i) * S, NEW.cert, ROOT.cert), at=3.0)
    result = run(api)
    assert result["reloaded"] is True and result["problems"] == []
    assert [(p["name"], p["revision"], p["how"]) for p in result["pods"]] == [
        ("istiod-canary-1", "canary", "hot_reload"), ("istiod-canary-2", "canary", "hot_reload"),
        ("istiod-a-1", "default", "hot_reload"), ("istiod-a-2", "default", "hot_reload")]
    assert all(p["signing_serial"] == "%x" % NEW.cert.serial_number for p in result["pods"])
    assert result["root_consistent"] is True and result["mismatched_namespaces"] == []
    assert result["since"] == "2025-01-31T12:00:00Z" and result["since_source"] == "managedFields (data)"
    assert result["expected_serial"] == "%x" % NEW.cert.serial_number
    assert result["intermediate"]["serial"] == result["expected_serial"]
    # polls at t=0 (nothing yet), t=2 (nothing), t=5 (all): secret + 3 x (list + 4 logs) + configmaps
    assert api.request_count == 1 + 3 * 5 + 1 == result["api_requests"]
    kinds = [c[0] for c in api.requests()]
    assert "metrics" not in kinds and "head" not in kinds
    # logs are always asked from since on, for the discovery container only
    assert {c[2] for c in api.requests() if c[0] == "log"} == {"2025-01-31T12:00:00Z"}
    assert {c[3] for c in api.requests() if c[0] == "log"} == {"discovery"}


def test_a_proven_pod_is_not_fetched_again():
    api = api_with(four_pods()[:2])
    api.add("istiod-a-1", L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    api.add("istiod-a-2", L.reload_ok(SINCE + 9 * S, NEW.cert, ROOT.cert), at=4.0)
    result = run(api)
    assert result["reloaded"]
    fetched = [c[1] for c in api.requests() if c[0] == "log"]
    assert fetched.count("istiod-a-1") == 1 and fetched.count("istiod-a-2") == 3


def test_one_pod_not_reloading_fails_with_timeout_and_the_others_still_reported():
    api = api_with(four_pods()[:2])
    api.add("istiod-a-1", L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    result = run(api, timeout=12)
    assert result["reloaded"] is False
    by_name = {p["name"]: p for p in result["pods"]}
    assert by_name["istiod-a-1"]["reloaded"] and not by_name["istiod-a-2"]["reloaded"]
    assert [(p["code"], p["pod"]) for p in result["problems"]] == [("timeout", "istiod-a-2")]
    assert 12 <= result["elapsed"] < 13
    # 1.22's metric is not refreshed on reload (fresh from 1.24): never asked
    assert "metrics" not in [c[0] for c in api.requests()]
    # the head of the log is read once at the end to explain the timeout
    assert [c[:2] for c in api.requests() if c[0] == "head"] == [("head", "istiod-a-2")]


def test_fail_on_not_reloaded_raises_with_result():
    api = api_with([L.pod("istiod-a-1", started=BOOT, version="1.16.7")])
    with pytest.raises(IstiodError) as err:
        backend.check(api, {"timeout": 30, "fail_on_not_reloaded": True})
    assert "AUTO_RELOAD_PLUGIN_CERTS" in err.value.message and "Fix:" in err.value.message
    assert err.value.result["reloaded"] is False
    assert err.value.result["problems"][0]["code"] == "hot_reload_off"
    result = backend.check(api_with([L.pod("istiod-a-1", started=BOOT, version="1.16.7")]),
                           {"timeout": 30, "fail_on_not_reloaded": False})
    assert result["reloaded"] is False


def test_blocked_pods_stop_the_wait_early():
    api = api_with([L.pod("istiod-a-1", started=BOOT, version="1.16.7")])
    result = run(api, timeout=120)
    assert result["elapsed"] == 0 and api.request_count == 4  # secret, pods, log, configmaps


def test_no_istiod():
    api = api_with([])
    result = run(api)
    assert result["reloaded"] is False and result["pods"] == []
    assert [p["code"] for p in result["problems"]] == ["no_istiod"]
    assert api.request_count == 3


def test_terminating_and_finished_pods_are_ignored():
    api = api_with([L.pod("istiod-old", started=BOOT, deleting=True), L.pod("istiod-done", phase="Succeeded"),
                    L.pod("istiod-a-1", started=BOOT)])
    api.add("istiod-a-1", L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    result = run(api)
    assert [p["name"] for p in result["pods"]] == ["istiod-a-1"] and result["reloaded"]
    assert result["terminating_pods"] == ["istiod-old"]


def test_only_terminating_pods_listed_waits_for_their_replacement():
    """A rollout restart with the new pod not created yet: the old, terminating pod is no evidence,
    and the check keeps looking instead of reporting that there is no istiod."""
    api = api_with([L.pod("istiod-old", started=BOOT, deleting=True)])
    new_pod = L.pod("istiod-a-9", started=SINCE + 5 * S)
    api.add("istiod-a-9", L.startup_plugged(SINCE + 5 * S, NEW.cert, ROOT.cert))
    original_get = api.get

    def get(path, query=None):
        if path.endswith("/pods") and api.now >= 2:
            api.pods = [new_pod]
        return original_get(path, query)

    api.get = get
    result = run(api)
    assert [p["name"] for p in result["pods"]] == ["istiod-a-9"] and result["reloaded"]
    assert result["terminating_pods"] == [] and "no_istiod" not in [p["code"] for p in result["problems"]]


def test_pod_replaced_during_the_wait():
    api = api_with([L.pod("istiod-a-1", started=BOOT)])
    new_pod = L.pod("istiod-a-9", started=SINCE + 5 * S)
    api.add("istiod-a-9", L.startup_plugged(SINCE + 5 * S, NEW.cert, ROOT.cert))

    def pods(body, query):  # the rollout replaces the pod after 2 s of the check's wait
        if api.now >= 2:
            api.pods = [new_pod]
        return {"items": list(api.pods)}

    api.on("GET", "/api/v1/namespaces/istio-system/pods", pods)
    result = run(api)
    assert [p["name"] for p in result["pods"]] == ["istiod-a-9"]
    assert result["reloaded"] and result["pods"][0]["loaded_at_start"]


def test_self_signed_pod_is_confirmed_from_its_log_head():
    secret = L.secret(NEW, ROOT, changed=SINCE, created=BOOT + S)
    api = api_with([L.pod("istiod-a-1", started=BOOT)], secret=secret)
    api.add("istiod-a-1", L.startup_self_signed(BOOT))
    result = run(api)
    assert result["problems"][0]["code"] == "self_signed"
    assert "Use self-signed certificate" in result["problems"][0]["cause"]
    assert ("head", "istiod-a-1", str(backend.HEAD_BYTES)) in api.requests()
    assert result["elapsed"] == 0


def test_metric_proves_reload_on_124_when_log_is_silent():
    api = api_with([L.pod("istiod-a-1", started=BOOT, version="1.24.2")])
    api.metrics["istiod-a-1"] = (
        "# HELP citadel_server_cert_chain_expiry_timestamp ...\n# TYPE citadel_server_cert_chain_expiry_timestamp gauge\n"
        "citadel_server_cert_chain_expiry_timestamp %s\n" % repr(NEW.cert.not_valid_after_utc.timestamp()))
    result = run(api)
    pod = result["pods"][0]
    assert result["reloaded"] and pod["how"] == "metric"
    assert pod["metric_chain_expiry"] == NEW.cert.not_valid_after_utc.timestamp()
    assert 10 <= result["elapsed"] < 16


def test_unreachable_metrics_are_asked_once():
    api = api_with([L.pod("istiod-a-1", started=BOOT, version="1.24.2")])
    result = run(api, timeout=40)
    assert [c[0] for c in api.requests()].count("metrics") == 1
    assert result["problems"][0]["code"] == "timeout"


def test_metric_not_asked_before_124():
    api = api_with([L.pod("istiod-a-1", started=BOOT, version="1.23.4")])
    run(api, timeout=20)
    assert "metrics" not in [c[0] for c in api.requests()]


def test_root_mismatch_is_reported_without_failing_the_reload():
    cms = [{"metadata": {"namespace": "istio-system"}, "data": {"root-cert.pem": ROOT.pem}},
           {"metadata": {"namespace": "payments"}, "data": {"root-cert.pem": OLD.pem}}]
    api = api_with([L.pod("istiod-a-1", started=BOOT)], configmaps=cms)
    api.add("istiod-a-1", L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    result = backend.check(api, {"timeout": 5})
    assert result["reloaded"] and result["root_consistent"] is False
    assert result["mismatched_namespaces"] == ["payments"]
    assert result["problems"][0]["code"] == "root_mismatch"


def test_root_configmaps_forbidden_fails_naming_the_permission():
    """A 403 on the root ConfigMap list is a missing RBAC rule: the check fails with the API's sentence and
    the pointer to the shipped roles instead of returning "root not checked" as if the cluster were at fault."""
    denied = ('configmaps "istio-ca-root-cert" is forbidden: User "system:serviceaccount:ops:meshpki" cannot list '
              'resource "configmaps" in API group "" at the cluster scope')
    api = api_with([L.pod("istiod-a-1", started=BOOT)])
    api.add("istiod-a-1", L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    api.on("GET", "/api/v1/configmaps", K8sApiError(403, "Forbidden", denied))
    with pytest.raises(K8sApiError) as caught:
        run(api)
    assert str(caught.value).startswith(denied) and "docs/rbac/" in str(caught.value)


def test_root_configmaps_other_error_is_a_finding():
    api = api_with([L.pod("istiod-a-1", started=BOOT)])
    api.add("istiod-a-1", L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    api.on("GET", "/api/v1/configmaps", K8sApiError(500, "InternalError", "etcd timed out"))
    result = run(api)
    assert result["root_consistent"] is None
    assert result["problems"][0]["code"] == "root_check_failed"


def test_since_option_and_expected_serial_override():
    api = api_with([L.pod("istiod-a-1", started=BOOT)])
    api.add("istiod-a-1", L.reload_ok(SINCE + S, OLD.cert, ROOT.cert))
    result = run(api, since="2025-01-31T11:59:00Z", expected_serial="%X" % OLD.cert.serial_number, timeout=0)
    assert result["reloaded"] and result["since_source"] == "option" and result["since"] == "2025-01-31T11:59:00Z"
    assert [p["code"] for p in result["problems"]] == ["secret_serial_mismatch"]


def test_since_after_the_reload_hides_it():
    api = api_with([L.pod("istiod-a-1", started=BOOT)])
    api.add("istiod-a-1", L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    result = run(api, since=(SINCE + 10 * S).timestamp(), timeout=0)
    assert not result["reloaded"] and result["problems"][0]["code"] == "timeout"


def test_missing_secret_needs_serial_and_since():
    api = IstiodCluster(None, [L.pod("istiod-a-1", started=BOOT)], root_pem=ROOT.pem)
    with pytest.raises(IstiodError) as err:
        run(api)
    assert "expected_serial" in err.value.message
    with pytest.raises(IstiodError) as err:
        run(api, expected_serial=NEW.cert.serial_number)
    assert "set since" in err.value.message
    api.add("istiod-a-1", L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    result = run(api, expected_serial=NEW.cert.serial_number, since="2025-01-31T12:00:00")
    assert result["reloaded"] and result["intermediate"] is None
    assert result["problems"][0]["code"] == "secret_missing"


@pytest.mark.parametrize("since", ["tomorrow", "2025-13-01T00:00:00Z"])
def test_bad_since(since):
    with pytest.raises(IstiodError):
        run(api_with([]), since=since)


def test_bad_expected_serial():
    with pytest.raises(IstiodError) as err:
        run(api_with([]), expected_serial="not-hex")
    assert "neither hex" in err.value.message


def test_log_unavailable_is_pending_with_reason():
    api = api_with([L.pod("istiod-a-1", started=BOOT)])
    api.on("GET", "/api/v1/namespaces/istio-system/pods/istiod-a-1/log",
           K8sApiError(400, "BadRequest", 'container "discovery" in pod "istiod-a-1" is waiting to start'))
    result = run(api, timeout=3)
    assert [p["code"] for p in result["problems"]] == ["logs_unavailable"]
    assert "waiting to start" in result["problems"][0]["cause"]


def test_parse_since_forms():
    assert backend.parse_since("2025-01-31T12:00:00Z") == SINCE
    assert backend.parse_since("2025-01-31T13:00:00+01:00") == SINCE
    assert backend.parse_since(SINCE.timestamp()) == SINCE
    assert backend.parse_since(str(int(SINCE.timestamp()))) == SINCE
    assert backend.parse_since(None) is None


@pytest.mark.parametrize("text,value", [
    ("citadel_server_cert_chain_expiry_timestamp 1.7698608e+09\n", 1.7698608e+09),
    ('citadel_server_cert_chain_expiry_timestamp{revision="x"} 42\n', 42.0),
    ("citadel_server_cert_chain_expiry_timestamp_other 1\n", None),
    ("citadel_server_cert_chain_expiry_seconds 5\n", None),
    ("# citadel_server_cert_chain_expiry_timestamp 5\n", None),
    ("", None),
    # What a line scan misread: a "}" inside a label value, HELP/TYPE lines, Go's +Inf spelling.
    ('citadel_server_cert_chain_expiry_timestamp{note="a}b"} 7\n', 7.0),
    ("# HELP citadel_server_cert_chain_expiry_timestamp The unix timestamp, in seconds, when the chain expires.\n"
     "# TYPE citadel_server_cert_chain_expiry_timestamp gauge\ncitadel_server_cert_chain_expiry_timestamp 9\n", 9.0),
    ("citadel_server_cert_chain_expiry_timestamp +Inf\n", float("inf")),
    # A truncated scrape is no evidence.
    ('citadel_server_cert_chain_expiry_timestamp{revision="x\n', None),
])
def test_parse_metric(text, value):
    assert backend.parse_metric(text) == value


def test_summary_prefers_the_failing_pods_problem():
    result = {"pods": [{"name": "a", "reloaded": False}], "expected_serial": "ff",
              "problems": [{"code": "root_mismatch", "cause": "R.", "fix": "r"},
                           {"code": "timeout", "cause": "T.", "fix": "t", "pod": "a"}]}
    text = backend.summary(result)
    assert text.startswith("istiod has not loaded intermediate ff in 1 of 1 pod(s) (a). T. Fix: t")
    assert "(1 more problem(s)" in text


WARN = ["discovery", "--monitoringAddr=:15014", "--log_output_level=default:warn", "--domain", "cluster.local"]


def metric_of(cert):
    return "citadel_server_cert_chain_expiry_timestamp %s\n" % repr(cert.not_valid_after_utc.timestamp())


def test_log_level_above_info_before_124_fails_at_once_with_cause_and_fix():
    api = api_with([L.pod("istiod-a-1", started=BOOT, version="1.22.3", args=WARN)])
    result = run(api, timeout=180)
    assert result["reloaded"] is False and result["elapsed"] == 0  # not a 180 s timeout
    pod = result["pods"][0]
    assert pod["log_level"] == "warn"
    problem = result["problems"][0]
    assert problem["code"] == "log_level_hides_reload" and "--log_output_level=default:warn" in problem["cause"]
    assert "Istio 1.22.3 does not refresh" in problem["cause"]
    assert "global.logging.level=default:info" in problem["fix"]
    assert "metrics" not in [c[0] for c in api.calls]


def test_log_level_above_info_on_124_asks_the_metric_at_once():
    api = api_with([L.pod("istiod-a-1", started=BOOT, version="1.24.2", args=WARN)])
    api.metrics["istiod-a-1"] = metric_of(NEW.cert)
    result = run(api)
    pod = result["pods"][0]
    assert result["reloaded"] and pod["how"] == "metric" and result["elapsed"] == 0


def test_log_level_above_info_on_124_without_metrics_fails_at_once():
    api = api_with([L.pod("istiod-a-1", started=BOOT, version="1.24.2", args=WARN)])
    result = run(api, timeout=180)
    assert result["reloaded"] is False and result["elapsed"] == 0
    problem = result["problems"][0]
    assert problem["code"] == "log_level_hides_reload" and "metrics could not be read" in problem["cause"]


def test_log_level_above_info_still_reports_a_refused_root():
    api = api_with([L.pod("istiod-a-1", started=BOOT, version="1.22.3", args=WARN)])
    api.add("istiod-a-1", [L.line(SINCE + S, "Multi root is disabled, updating new ROOT-CA not supported", "warn")])
    result = run(api)
    assert result["problems"][0]["code"] == "root_change_refused"


@pytest.mark.parametrize("args, level", [
    (None, "info"), (["--log_output_level=default:info"], "info"), (["--log_output_level", "error"], "error"),
    (["--log_output_level=ads:debug"], "info"), (["--log_output_level=default:debug,ads:warn"], "debug"),
    (["--log_output_level=default:loud"], None),
])
def test_log_level_read_from_the_container_args(args, level):
    api = api_with([L.pod("istiod-a-1", started=BOOT, args=args)])
    api.add("istiod-a-1", L.reload_ok(SINCE + S, NEW.cert, ROOT.cert))
    result = run(api)
    assert result["pods"][0]["log_level"] == level
