# -*- coding: utf-8 -*-
"""meshpki.istio_ca.istiod_reload_check against kubesim's simulated istiod, across Istio versions.

One fleet, one cluster per scenario, all scenarios run at the same time in threads (the Secret
volume propagation delay is 3 s of wall time, so waiting in parallel keeps the module fast).
Each scenario drives the same code the module runs (istiod_backend.check with a real K8sClient
over HTTP); one ansible-playbook run at the end exercises the module itself, through
module_defaults of the k8s action group. Certificates are made here with cryptography.

kubesim note: its managedFields keep an entry's old ``time`` when the same manager changes the
values of fields it already owns (a real API server moves it), so rotations here write the
Secret with a second field manager; the check's default ``since`` then sees the change.
"""

from __future__ import absolute_import, division, print_function

import base64
import json
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers_ansible import run_playbook  # noqa: E402

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import backend as istiod_backend  # noqa: E402
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.args_common import AUTH_ARG_SPEC  # noqa: E402
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient, object_path  # noqa: E402
from kubesim.controllers.istiod import IstiodSim  # noqa: E402
from unit.x509_factory import key, make, mesh  # noqa: E402

pytestmark = pytest.mark.slow

NS = "istio-system"
DELAY = 3.0
ROOT, INTER1 = mesh()
INTER2 = make("Intermediate CA", key("ec256", 2), issuer=ROOT, ca=True, pathlen=0, locality="cluster-1")
OTHER_ROOT = make("Other Root CA", key("ec256", 3), ca=True)
OTHER_INTER = make("Intermediate CA", key("ec256", 4), issuer=OTHER_ROOT, ca=True, pathlen=0)

SCENARIOS = ("v122", "v116flag", "v118", "v127", "v116", "v113", "selfsigned", "rootchange", "badmaterial",
             "noistiod", "timeout", "metric", "restart", "warn122", "warn124")


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def tls_data(inter, root, key_of=None):
    return {"tls.crt": b64(inter.pem), "tls.key": b64((key_of or inter).key_pem("traditional")),
            "ca.crt": b64(root.pem)}


def native_data(inter, root):
    return {"ca-cert.pem": b64(inter.pem), "ca-key.pem": b64(inter.key_pem("traditional")),
            "cert-chain.pem": b64(inter.pem + root.pem), "root-cert.pem": b64(root.pem)}


def serial(issued):
    return "%x" % issued.cert.serial_number


class Scenario(object):
    """One cluster of the fleet and what happened on it."""

    def __init__(self, fleet, name):
        self.fleet = fleet
        self.cluster = fleet[name]
        self.name = name
        self.results = {}
        self.error = None
        self.client = self.new_client()

    def new_client(self):
        params = dict((k, None) for k in AUTH_ARG_SPEC)
        params.update(kubeconfig=str(self.fleet.kubeconfig), context=self.name)
        return K8sClient.from_params(params)

    # -- setup -------------------------------------------------------------------------------------------------------
    def namespace(self, name):
        if self.cluster.get("v1", "namespaces", None, name) is None:
            self.cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def write_secret(self, data, manager):
        body = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls" if "tls.crt" in data else "Opaque",
                "metadata": {"name": "cacerts", "namespace": NS}, "data": data}
        return self.client.apply(object_path("v1", "secrets", NS, "cacerts"), body, manager, force=True)

    def istiod(self, version, replicas=1, revision="default", env=None, args=None):
        name = "istiod" if revision == "default" else "istiod-" + revision
        labels = {"app": "istiod", "istio.io/rev": revision}
        container = {"name": "discovery", "image": "docker.io/istio/pilot:%s" % version,
                     "args": list(args or ["discovery", "--monitoringAddr=:15014"]),
                     "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
                     "volumeMounts": [{"name": "cacerts", "mountPath": "/etc/cacerts", "readOnly": True}]}
        self.cluster.create({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {
                         "containers": [container],
                         "volumes": [{"name": "cacerts", "secret": {"secretName": "cacerts", "optional": True}}]}}}})

    @staticmethod
    def later_second():
        """The API's timestamps have whole seconds: keep a rotation out of the second the pods started in,
        as it is in real life (and so startup lines fall before since)."""
        time.sleep(1.05)

    def wait_serving(self, count, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sim = IstiodSim.of(self.cluster)
            states = list(sim.pods.values()) if sim else []
            if len(states) == count and all(s.mode in ("plugged", "self-signed") for s in states):
                return states
            time.sleep(0.05)
        raise AssertionError("%s: istiod pods did not start: %r" % (self.name, sim and sim.pods))

    def check(self, label, **params):
        client = self.new_client()
        args = {"namespace": NS, "secret_name": "cacerts", "expected_serial": None, "since": None, "timeout": 30,
                "fail_on_not_reloaded": False}
        args.update(params)
        started = time.monotonic()
        result = istiod_backend.check(client, args)
        result["_wall"] = time.monotonic() - started
        result["_requests"] = [r["path"] for r in self.cluster.requests[-client.request_count:]]
        self.results[label] = result
        return result


# -- scenarios (each runs in its own thread on its own cluster) -------------------------------------------------------

def run_v122(s):
    """2 revisions x 2 replicas; loaded at start, then a rotation that every pod must reload."""
    for ns in (NS, "apps-a", "apps-b"):
        s.namespace(ns)
    s.write_secret(tls_data(INTER1, ROOT), "meshpki-test-setup")
    s.later_second()
    s.istiod("1.22.3", replicas=2)
    s.istiod("1.22.3", replicas=2, revision="canary")
    s.wait_serving(4)
    s.check("at_start", timeout=5)
    s.later_second()
    s.write_secret(tls_data(INTER2, ROOT), "meshpki-test-rotate")
    s.check("startup_lines", expected_serial=serial(INTER1), timeout=0)
    s.check("rotated")
    s.check("old_serial_after_reload", expected_serial=serial(INTER1), timeout=0)


def rotate_one(version, env=None, native=False):
    def run(s):
        s.namespace(NS)
        data = native_data if native else tls_data
        s.write_secret(data(INTER1, ROOT), "meshpki-test-setup")
        s.istiod(version, env=env)
        s.wait_serving(1)
        s.later_second()
        s.write_secret(data(INTER2, ROOT), "meshpki-test-rotate")
        s.check("rotated")
    return run


def run_selfsigned(s):
    s.namespace(NS)
    s.istiod("1.22.3")
    s.wait_serving(1)
    s.write_secret(tls_data(INTER1, ROOT), "meshpki-test-setup")
    s.check("rotated")


def run_rootchange(s):
    s.namespace(NS)
    s.namespace("apps-a")
    s.write_secret(tls_data(INTER1, ROOT), "meshpki-test-setup")
    s.istiod("1.22.3")
    s.wait_serving(1)
    s.later_second()
    s.write_secret(tls_data(OTHER_INTER, OTHER_ROOT), "meshpki-test-rotate")
    s.check("rotated")


def run_badmaterial(s):
    s.namespace(NS)
    s.write_secret(tls_data(INTER1, ROOT), "meshpki-test-setup")
    s.istiod("1.22.3")
    s.wait_serving(1)
    # One namespace istiod never writes to carries a foreign root: the only mismatch.
    s.namespace("kube-public")
    s.cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "istio-ca-root-cert", "namespace": "kube-public"},
                      "data": {"root-cert.pem": OTHER_ROOT.pem}})
    s.later_second()
    s.write_secret(tls_data(INTER2, ROOT, key_of=OTHER_INTER), "meshpki-test-rotate")  # key does not match
    s.check("rotated")


def run_noistiod(s):
    s.namespace(NS)
    s.write_secret(tls_data(INTER1, ROOT), "meshpki-test-setup")
    # Without istiod nobody writes the ConfigMap; one written by hand differs in whitespace only.
    s.cluster.create({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "istio-ca-root-cert", "namespace": NS},
                      "data": {"root-cert.pem": ROOT.pem.replace("\n", "\r\n")}})
    s.check("rotated")


def run_timeout(s):
    s.cluster.options["propagation_delay"] = 120.0  # kubelet is slow on this cluster
    s.namespace(NS)
    s.write_secret(tls_data(INTER1, ROOT), "meshpki-test-setup")
    s.istiod("1.22.3")
    s.wait_serving(1)
    s.later_second()
    s.write_secret(tls_data(INTER2, ROOT), "meshpki-test-rotate")
    s.check("rotated", timeout=4)


def run_metric(s):
    """1.24+: the log lost its lines (kubelet rotated it); the chain-expiry metric still proves the reload."""
    s.namespace(NS)
    s.write_secret(tls_data(INTER1, ROOT), "meshpki-test-setup")
    s.istiod("1.24.3")
    state = s.wait_serving(1)[0]
    s.later_second()
    s.write_secret(tls_data(INTER2, ROOT), "meshpki-test-rotate")
    deadline = time.monotonic() + 15
    while state.reloads < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    s.cluster.set_pod_log(NS, state.name, "", "discovery")
    s.check("rotated")


TERMINATION = 12  # simulated seconds the old istiod takes to stop after SIGTERM (grace period 30)


def run_restart(s):
    """istiod started self-signed; `kubectl rollout restart` while cacerts exists. The old pod stays
    Terminating (graceful deletion) while the new one already serves the plugged CA: the check runs in
    that overlap, then once more after the old pod is gone."""
    s.namespace(NS)
    s.istiod("1.22.3")
    old = s.wait_serving(1)[0].name
    s.write_secret(tls_data(INTER1, ROOT), "meshpki-test-setup")
    s.later_second()
    s.check("before_restart", timeout=0)
    s.cluster.options["pod_termination_seconds"] = TERMINATION  # istiod drains before it exits
    patch = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}}}}
    s.client.request("PATCH", object_path("apps/v1", "deployments", NS, "istiod"), body=patch,
                     content_type="application/strategic-merge-patch+json")
    s.overlap_old = old
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(
            p["metadata"].get("deletionTimestamp") for p in s.cluster.list("v1", "pods", NS)):
        time.sleep(0.05)
    s.wait_serving(1)
    s.overlap_pods = [(p["metadata"]["name"], bool(p["metadata"].get("deletionTimestamp")))
                      for p in s.cluster.list("v1", "pods", NS)]
    s.check("overlap", timeout=20)
    deadline = time.monotonic() + 3 * TERMINATION
    while time.monotonic() < deadline and s.cluster.get("v1", "pods", NS, old) is not None:
        time.sleep(0.2)
    s.check("after_overlap", timeout=0)


def rotate_quiet(version):
    """istiod as the chart renders it with global.logging.level=default:warn."""
    def run(s):
        s.namespace(NS)
        s.write_secret(tls_data(INTER1, ROOT), "meshpki-test-setup")
        s.istiod(version, args=["discovery", "--monitoringAddr=:15014", "--log_output_level=default:warn"])
        s.wait_serving(1)
        s.later_second()
        s.write_secret(tls_data(INTER2, ROOT), "meshpki-test-rotate")
        s.check("rotated", timeout=60)
    return run


RUNNERS = {
    "v122": run_v122,
    "v116flag": rotate_one("1.16.7", {"AUTO_RELOAD_PLUGIN_CERTS": "true"}),
    "v118": rotate_one("1.18.5"),
    "v127": rotate_one("1.27.1"),
    "v116": rotate_one("1.16.7"),
    "v113": rotate_one("1.13.9", {"AUTO_RELOAD_PLUGIN_CERTS": "true"}, native=True),
    "selfsigned": run_selfsigned,
    "rootchange": run_rootchange,
    "badmaterial": run_badmaterial,
    "noistiod": run_noistiod,
    "timeout": run_timeout,
    "metric": run_metric,
    "restart": run_restart,


    "warn122": rotate_quiet("1.22.3"),
    "warn124": rotate_quiet("1.24.3"),
}


@pytest.fixture(scope="module")
def world(kubesim_module_fleet_factory):
    fleet = kubesim_module_fleet_factory(names=list(SCENARIOS), propagation_delay=DELAY)
    scenarios = dict((name, Scenario(fleet, name)) for name in SCENARIOS)

    def guarded(name):
        try:
            RUNNERS[name](scenarios[name])
        except Exception:  # noqa: BLE001 - reported by the test that reads this scenario
            scenarios[name].error = traceback.format_exc()

    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        list(pool.map(guarded, SCENARIOS))
    scenarios["_fleet"] = fleet
    return scenarios


def outcome(world, name, label="rotated"):
    scenario = world[name]
    assert scenario.error is None, scenario.error
    result = scenario.results[label]
    assert result["changed"] is False
    assert "PRIVATE KEY" not in json.dumps(result)
    sim = IstiodSim.of(scenario.cluster)
    assert sim is None or sim.errors == []
    return result


def codes(result):
    return [p["code"] for p in result["problems"]]


def assert_reloaded(result, pods):
    assert result["reloaded"] is True, json.dumps(result["problems"], indent=1)
    assert len(result["pods"]) == pods and result["problems"] == []
    for pod in result["pods"]:
        assert pod["reloaded"] and pod["how"] == "hot_reload"
        assert pod["signing_serial"] == serial(INTER2)
        assert any("Istiod has detected the newly added intermediate CA" in line for line in pod["evidence"])
        assert any("SN: %s," % serial(INTER2) in line for line in pod["evidence"])
    assert result["expected_serial"] == serial(INTER2)
    assert result["intermediate"]["serial"] == serial(INTER2)
    # the Secret volume changed DELAY seconds after the write: the check had to wait for it
    assert result["elapsed"] >= DELAY - 1.0
    assert result["root_consistent"] is True and result["mismatched_namespaces"] == []


# -- reloaded -----------------------------------------------------------------------------------------------------------

def test_every_pod_of_both_revisions_reloads(world):
    result = outcome(world, "v122")
    assert_reloaded(result, 4)
    assert sorted((p["revision"], p["version"]) for p in result["pods"]) == [
        ("canary", "1.22.3"), ("canary", "1.22.3"), ("default", "1.22.3"), ("default", "1.22.3")]
    sim_serials = set(s.signing_serial for s in IstiodSim.of(world["v122"].cluster).pods.values())
    assert sim_serials == {serial(INTER2)}
    assert result["since_source"] == "managedFields (data)"
    assert result["root_configmaps_checked"] >= 4  # istio-system, apps-a, apps-b, default, ...


def test_request_cost_of_one_call(world):
    result = outcome(world, "v122")
    paths = world["v122"].results["rotated"]["_requests"]
    polls = sum(1 for p in paths if p.endswith("/pods"))
    logs = sum(1 for p in paths if p.endswith("/log"))
    # one Secret read, per poll one pod list and at most one log read per pod, one ConfigMap list
    assert result["api_requests"] == len(paths) == 1 + polls + logs + 1
    assert logs <= 4 * polls
    assert not [p for p in paths if "/proxy/" in p]  # the log proved it: no metrics fetched
    print("\nAPI requests for a 4-pod rotation check: %d (%d polls, %.1f s)" % (
        result["api_requests"], polls, result["elapsed"]))


@pytest.mark.parametrize("name,version", [("v116flag", "1.16.7"), ("v118", "1.18.5"), ("v127", "1.27.1")])
def test_reloaded_on_other_versions(world, name, version):
    result = outcome(world, name)
    assert_reloaded(result, 1)
    assert result["pods"][0]["version"] == version


def test_pods_started_after_the_secret_loaded_it_at_start(world):
    result = outcome(world, "v122", "at_start")
    assert result["reloaded"] is True
    assert result["expected_serial"] == serial(INTER1)
    assert [p["how"] for p in result["pods"]] == ["at_start"] * 4
    assert all(p["loaded_at_start"] for p in result["pods"])
    assert all(any("Use local CA certificate" in line for line in p["evidence"]) for p in result["pods"])


def test_startup_lines_are_not_taken_for_a_reload(world):
    # Right after the rotation every pod's log holds startup lines naming the old intermediate (its
    # 'x509 cert' lines and 'Istiod certificates are reloaded'). Asked for that old serial with the
    # default since (the rotation), the check must not count them.
    result = outcome(world, "v122", "startup_lines")
    assert result["reloaded"] is False
    assert result["expected_serial"] == serial(INTER1)
    assert all(not p["reloaded"] and p["evidence"] == [] for p in result["pods"])
    assert set(codes(result)) == {"secret_serial_mismatch", "timeout"}


def test_after_the_reload_the_old_serial_is_named_as_other(world):
    result = outcome(world, "v122", "old_serial_after_reload")
    assert result["reloaded"] is False
    assert set(codes(result)) == {"secret_serial_mismatch", "other_intermediate_loaded"}
    assert all(p["signing_serial"] == serial(INTER2) for p in result["pods"])


def test_metric_proves_the_reload_when_the_log_lost_it(world):
    result = outcome(world, "metric")
    assert result["reloaded"] is True, json.dumps(result["problems"], indent=1)
    pod = result["pods"][0]
    assert pod["how"] == "metric" and pod["version"] == "1.24.3"
    assert pod["metric_chain_expiry"] == INTER2.cert.not_valid_after_utc.timestamp()
    assert any("citadel_server_cert_chain_expiry_timestamp" in line for line in pod["evidence"])
    paths = world["metric"].results["rotated"]["_requests"]
    assert len([p for p in paths if p.endswith(":15014/proxy/metrics")]) == 1
    assert result["elapsed"] >= istiod_backend.METRIC_AFTER


# -- not reloaded, with cause and fix -------------------------------------------------------------------------------------

def assert_problem(result, code, *texts):
    assert result["reloaded"] is False
    found = [p for p in result["problems"] if p["code"] == code]
    assert found, json.dumps(result["problems"], indent=1)
    for text in texts:
        assert any(text in p["cause"] + " " + p["fix"] for p in found), (text, found)
    assert all(p["cause"] and p["fix"] for p in result["problems"])
    return found[0]


def test_hot_reload_off_without_the_flag(world):
    result = outcome(world, "v116")
    assert_problem(result, "hot_reload_off", "AUTO_RELOAD_PLUGIN_CERTS", "1.16.7", "restart")
    assert result["elapsed"] < 2.0  # nothing to wait for: istiod 1.16 without the flag never reloads


def test_1_13_never_reloads_from_a_secret_volume(world):
    assert_problem(outcome(world, "v113"), "hot_reload_ineffective", "..data", "upgrade to Istio 1.14+")


def test_istiod_started_self_signed(world):
    problem = assert_problem(outcome(world, "selfsigned"), "self_signed", "rollout restart deployment/istiod")
    assert "Use self-signed certificate as the CA certificate" in problem["cause"] or "before the cacerts" in \
        problem["cause"]
    # istiod keeps its self-signed root in the ConfigMaps: not the Secret's root
    assert outcome(world, "selfsigned")["root_consistent"] is False


def test_root_change_without_multi_root(world):
    result = outcome(world, "rootchange")
    assert_problem(result, "root_change_refused", "Multi root is disabled, updating new ROOT-CA not supported",
                   "multi-root procedure")
    assert result["elapsed"] < 15
    assert result["root_consistent"] is False
    assert {"istio-system", "apps-a", "default"} <= set(result["mismatched_namespaces"])
    assert "root_mismatch" in codes(result)


def test_bad_material(world):
    result = outcome(world, "badmaterial")
    problem = assert_problem(result, "update_failed", "Failed to update new Plug-in CA certs", "keeps signing",
                             "x509_inspect")
    assert problem["pod"].startswith("istiod-")
    assert result["pods"][0]["signing_serial"] is None  # no chain was logged for the rejected material
    sim = IstiodSim.of(world["badmaterial"].cluster)
    assert [s.signing_serial for s in sim.pods.values()] == [serial(INTER1)]  # istiod kept the old CA


def test_one_namespace_with_another_root(world):
    result = outcome(world, "badmaterial")
    assert result["root_consistent"] is False
    assert result["mismatched_namespaces"] == ["kube-public"]


def test_no_istiod_and_whitespace_only_root_difference(world):
    result = outcome(world, "noistiod")
    assert_problem(result, "no_istiod", "istio-system")
    assert result["pods"] == [] and result["elapsed"] < 2
    assert result["root_consistent"] is False and result["mismatched_namespaces"] == ["istio-system"]
    assert_problem(result, "root_mismatch", "only the bytes differ")


def test_timeout_names_kubelet_propagation(world):
    result = outcome(world, "timeout")
    assert_problem(result, "timeout", "kubelet", "Raise timeout")
    assert 4 <= result["elapsed"] < 6
    assert result["pods"][0]["evidence"] == []


# -- the module through Ansible -----------------------------------------------------------------------------------------

PLAYBOOK = """
- name: Check istiod reload
  hosts: clusters
  gather_facts: false
  module_defaults:
    group/meshpki.istio_ca.k8s:
      kubeconfig: "{{ k8s_kubeconfig }}"
      context: "{{ k8s_context }}"
  tasks:
    - name: Check
      meshpki.istio_ca.istiod_reload_check:
        timeout: 10
      check_mode: true
      register: reload
      ignore_errors: true
"""


def test_module_through_ansible_playbook(world, tmp_path):
    fleet = world["_fleet"]
    playbook = tmp_path / "check.yml"
    playbook.write_text(PLAYBOOK)
    res = run_playbook(playbook, inventory=fleet.inventory, limit="v122,v116")
    results = res.task_results("Check")
    assert set(results) == {"v122", "v116"}, res.explain()
    ok, failed = results["v122"], results["v116"]
    assert not ok.get("failed") and ok["reloaded"] is True and ok["changed"] is False, res.explain()
    assert failed["failed"] is True and failed["reloaded"] is False
    assert "hot_reload_off" in [p["code"] for p in failed["problems"]]
    assert "AUTO_RELOAD_PLUGIN_CERTS" in failed["msg"]
    assert "PRIVATE KEY" not in json.dumps(results)


def test_restart_overlap_old_terminating_pod_is_no_evidence(world):
    """During a rollout restart `app=istiod` lists the old, Terminating pod next to the new one. The
    old one (self-signed) is neither judged nor counted; the new one loaded cacerts at start."""
    scenario = world["restart"]
    before = outcome(world, "restart", "before_restart")
    assert "self_signed" in codes(before)
    overlap = outcome(world, "restart", "overlap")
    assert (scenario.overlap_old, True) in scenario.overlap_pods  # the check really ran in the overlap
    assert overlap["terminating_pods"] == [scenario.overlap_old]
    assert [p["name"] for p in overlap["pods"]] != [scenario.overlap_old] and len(overlap["pods"]) == 1
    assert overlap["reloaded"] is True and overlap["pods"][0]["loaded_at_start"] is True, overlap["problems"]
    assert "self_signed" not in codes(overlap)
    after = outcome(world, "restart", "after_overlap")
    assert after["terminating_pods"] == [] and after["reloaded"] is True
    assert [p["name"] for p in after["pods"]] == [p["name"] for p in overlap["pods"]]


def test_no_scenario_failed_to_run(world):
    assert not [name for name in SCENARIOS if world[name].error], [world[n].error for n in SCENARIOS]


def test_log_level_above_info_fails_at_once_before_1_24(world):
    result = outcome(world, "warn122")
    assert result["reloaded"] is False and codes(result) == ["log_level_hides_reload"]
    assert result["pods"][0]["log_level"] == "warn"
    assert result["elapsed"] < 5  # at once, not after the 60 s timeout
    assert "global.logging.level=default:info" in result["problems"][0]["fix"]
    assert IstiodSim.of(world["warn122"].cluster).pods[result["pods"][0]["name"]].signing_serial == serial(INTER2)


def test_log_level_above_info_is_proven_by_the_metric_on_1_24(world):
    result = outcome(world, "warn124")
    assert result["reloaded"] is True, json.dumps(result["problems"], indent=1)
    assert result["pods"][0]["how"] == "metric" and result["pods"][0]["log_level"] == "warn"
