"""Unit tests of the fleet report filters: cluster_status, fleet_report, root_consensus."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import (
    cached_cluster_statuses, cluster_status, fleet_report, root_consensus)
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report import model as report_model

ROOT_A = "aa:" * 31 + "aa"
ROOT_B = "bb:" * 31 + "bb"


def certificate(revision=2, ready="True", issuing=False):
    conds = [{"type": "Ready", "status": ready, "reason": "Ready" if ready == "True" else "Expired",
              "message": "Certificate is up to date and has not expired"}]
    if issuing:
        conds.append({"type": "Issuing", "status": "True", "reason": "ManuallyTriggered"})
    # The certificate module's check-mode result (merge_live_spec), the one shape cluster_status takes.
    return {"changed": False, "exists": True, "reissue": "none",
            "live_spec": {"secretName": "cacerts", "duration": "720h", "renewBefore": "360h",
                          "issuerRef": {"name": "mesh-root", "kind": "ClusterIssuer"}},
            "status": {"revision": revision, "notBefore": "2030-01-01T00:00:00Z", "notAfter": "2030-01-31T00:00:00Z",
                       "renewalTime": "2030-01-16T00:00:00Z", "conditions": conds}}


def inspect(root=ROOT_A, key_matches=True, problems=(), istio_problems=()):
    return {"changed": False,
            "certificates": [{"subject": "CN=Intermediate CA,O=Istio,L=c1", "issuer": "CN=Root CA",
                              "serial_hex": "abc123", "serial_number": 11256099, "not_before": "2030-01-01T00:00:00Z",
                              "not_after": "2030-01-31T00:00:00Z", "seconds_remaining": 100, "expired": False,
                              "fingerprint_sha256": "cc:dd", "public_key_type": "ECC", "public_key_size": 256},
                             {"subject": "CN=Root CA", "fingerprint_sha256": root, "not_after": "2040-01-01T00:00:00Z"}],
            "chain": {"length": 2, "ends_at_root": True, "key_matches": key_matches, "root_fingerprint_sha256": root,
                      "root_subject": "CN=Root CA", "problems": list(problems)},
            "istio_ready": not istio_problems, "istio_problems": list(istio_problems), "istio_warnings": []}


def deployment(version="1.22.3", env=()):
    return {"metadata": {"name": "istiod"}, "spec": {"template": {"spec": {"containers": [
        {"name": "discovery", "image": f"docker.io/istio/pilot:{version}", "env": list(env)}]}}}}


RELOADED = {"changed": False, "reloaded": True, "root_consistent": True, "problems": [],
            "pods": [{"name": "istiod-1", "version": "1.22.3", "how": "hot_reload",
                      "evidence": ["2030-01-01T00:00:05.1Z x509 cert - Issuer: ...",
                                   "2030-01-01T00:00:05.2Z Istiod has detected the newly added intermediate CA"]}]}


def test_healthy_cluster_entry():
    entry = cluster_status("c1", certificate=certificate(), inspect=inspect(), istiod=[deployment()],
                           reload=RELOADED, now="2030-01-10T00:00:00Z")
    assert entry["ok"] is True and entry["problems"] == [] and entry["reachable"] is True
    assert entry["intermediate"]["serial_hex"] == "abc123"
    assert entry["intermediate"]["serial_number"] == "11256099"
    assert entry["certificate"]["revision"] == 2 and entry["certificate"]["ready"] is True
    assert entry["certificate"]["issuer_ref"] == {"name": "mesh-root", "kind": "ClusterIssuer", "group": "cert-manager.io"}
    assert entry["root"]["fingerprint_sha256"] == ROOT_A
    assert entry["istiod"]["hot_reload"] == "enabled" and entry["istiod"]["version"] == "1.22.3"
    assert entry["istiod"]["last_reload"] == {"time": "2030-01-01T00:00:05.2Z", "pod": "istiod-1", "how": "hot_reload",
                                              "line": "Istiod has detected the newly added intermediate CA"}
    json.dumps(entry)  # plain JSON types only


def test_istiod_version_from_reload_pods_when_deployments_not_read():
    entry = cluster_status("c1", certificate=certificate(), inspect=inspect(), istiod=[], reload=RELOADED)
    assert entry["istiod"]["found"] is True and entry["istiod"]["hot_reload_state"] == "on"


@pytest.mark.parametrize("version,env,state", [
    ("1.16.7", [], "off"),
    ("1.16.7", [{"name": "AUTO_RELOAD_PLUGIN_CERTS", "value": "true"}], "on"),
    ("1.13.0", [{"name": "AUTO_RELOAD_PLUGIN_CERTS", "value": "true"}], "ineffective"),
    ("1.18.1", [{"name": "AUTO_RELOAD_PLUGIN_CERTS", "value": "false"}], "off"),
])
def test_hot_reload_verdicts_make_problems(version, env, state):
    entry = cluster_status("c1", certificate=certificate(), inspect=inspect(), istiod=[deployment(version, env)],
                           reload=RELOADED)
    assert entry["istiod"]["hot_reload_state"] == state
    assert (state == "on") == (entry["problems"] == [])


def test_problems_from_every_source():
    reload = dict(RELOADED, reloaded=False, problems=[{"code": "hot_reload_off", "cause": "Hot reload is off.",
                                                      "fix": "Set AUTO_RELOAD_PLUGIN_CERTS=true."}])
    entry = cluster_status("c1", certificate=certificate(ready="False", issuing=True),
                           inspect=inspect(key_matches=False, problems=["chain broken"], istio_problems=["not a CA"]),
                           istiod=[deployment()], reload=reload)
    text = " | ".join(entry["problems"])
    for part in ("is not Ready", "Issuing=True", "chain broken", "not a CA",
                 "Hot reload is off. Fix: Set AUTO_RELOAD_PLUGIN_CERTS=true."):
        assert part in text
    assert entry["ok"] is False


def test_unreachable_cluster():
    entry = cluster_status("c9", errors=["Read the Certificate that issues cacerts: Failed to get client due to "
                                         "HTTPConnectionPool: Max retries exceeded (Connection refused)"])
    assert entry["reachable"] is False and entry["intermediate"] is None and entry["ok"] is False
    assert entry["certificate"]["exists"] is False


def test_missing_certificate_and_secret():
    entry = cluster_status("c2", certificate=None, inspect={"failed": True, "msg": "Secret istio-system/cacerts not found"},
                           istiod=[deployment()], errors=["cacerts: Secret istio-system/cacerts not found"])
    assert any("cacerts not found" in p for p in entry["problems"])
    assert entry["reachable"] is True


def certificate_module_result(**extra):
    """What meshpki.istio_ca.certificate returns with merge_live_spec in check mode (failed_when: false)."""
    obj = certificate()
    result = {"changed": False, "failed": False, "exists": True, "live_spec": obj["live_spec"], "status": obj["status"],
              "spec": obj["live_spec"], "reissue": "none", "revision": 2}
    result.update(extra)
    return result


def test_certificate_from_the_certificate_module_result():
    entry = cluster_status("c1", certificate=certificate_module_result(), inspect=inspect(), istiod=[deployment()],
                           reload=RELOADED)
    assert entry["ok"] is True
    assert entry["certificate"]["exists"] is True and entry["certificate"]["revision"] == 2
    assert entry["certificate"]["duration"] == "720h"


def test_certificate_module_result_absent_and_failed():
    absent = cluster_status("c1", certificate={"failed": False, "exists": False, "msg": "does not exist"},
                            inspect=inspect(), istiod=[deployment()], reload=RELOADED)
    assert absent["certificate"]["exists"] is False and absent["errors"] == []
    assert any("does not exist" in p and "deploy.yml" in p for p in absent["problems"])
    down = cluster_status("c1", certificate={"failed": False, "msg": "connection refused by 127.0.0.1:1"},
                          inspect={"failed": False, "msg": "connection refused by 127.0.0.1:1"}, reload={"skipped": True})
    assert down["errors"] == ["Certificate: connection refused by 127.0.0.1:1",
                              "cacerts: connection refused by 127.0.0.1:1"]
    assert down["reachable"] is False and down["ok"] is False


def test_istiod_deployments_skipped_or_failed():
    skipped = cluster_status("c1", certificate=certificate(), inspect=inspect(),
                             istiod={"skipped": True, "changed": False}, reload=RELOADED)
    assert skipped["ok"] is True and skipped["istiod"]["version"] == "1.22.3"
    failed = cluster_status("c1", certificate=certificate(), inspect=inspect(),
                            istiod={"failed": True, "msg": "Forbidden"}, reload=RELOADED)
    assert "istiod Deployments: Forbidden" in failed["errors"]


@pytest.mark.parametrize("version,env,state", [
    ("1.16.7", None, "off"),
    ("1.16.7", "true", "on"),
    ("1.18.1", "false", "off"),
    ("1.22.3", None, "on"),
])
def test_hot_reload_from_the_pods_env(version, env, state):
    reload = dict(RELOADED, pods=[dict(RELOADED["pods"][0], version=version, auto_reload_plugin_certs=env)])
    entry = cluster_status("c1", certificate=certificate(), inspect=inspect(), reload=reload)
    assert entry["istiod"]["hot_reload_state"] == state
    assert entry["istiod"]["deployments"][0]["auto_reload_plugin_certs"] == env


def test_root_consensus():
    assert root_consensus({"a": ROOT_A, "b": ROOT_A, "c": ROOT_B, "d": None}) == {
        "consistent": False, "reference": ROOT_A, "groups": {ROOT_A: ["a", "b"], ROOT_B: ["c"]},
        "differing": ["c"], "unknown": ["d"],
        "describe": "%s...: a, b; %s...: c" % (ROOT_A[:23], ROOT_B[:23])}
    tie = root_consensus({"a": ROOT_A, "b": ROOT_B})
    assert tie["reference"] is None and tie["differing"] == ["a", "b"]
    assert root_consensus({"a": ROOT_A.upper(), "b": ROOT_A})["consistent"] is True
    with pytest.raises(AnsibleFilterError):
        root_consensus(["a"])


def test_fleet_report_document_and_renderer_compatibility():
    now = "2030-01-20T00:00:00Z"
    entries = [
        cluster_status("cluster-10", certificate=certificate(), inspect=inspect(), istiod=[deployment()], reload=RELOADED),
        cluster_status("cluster-2", certificate=certificate(), inspect=inspect(root=ROOT_B), istiod=[deployment()],
                       reload=RELOADED),
        cluster_status("cluster-1", certificate=certificate(), inspect=inspect(), istiod=[deployment()], reload=RELOADED),
        cluster_status("cluster-3", errors=["x: Connection refused"]),
    ]
    doc = fleet_report(entries, expiring_within="360h", generated_at=now)
    assert doc["schema_version"] == 1 and doc["generated_at"] == now
    assert [c["name"] for c in doc["clusters"]] == ["cluster-1", "cluster-2", "cluster-3", "cluster-10"]
    fleet = doc["fleet"]
    assert fleet["root_consistent"] is False and fleet["reference_root"] == ROOT_A
    assert fleet["root_differs"] == ["cluster-2"] and fleet["root_unknown"] == ["cluster-3"]
    assert fleet["expiring_within_threshold"] == ["cluster-1", "cluster-2", "cluster-10"]  # 11 days left < 15
    assert fleet["failing_checks"] == ["cluster-2", "cluster-3"] and fleet["unreachable"] == ["cluster-3"]
    assert fleet["clusters_ok"] == 2
    assert doc["clusters"][0]["intermediate"]["seconds_remaining"] == 11 * 86400
    assert any("differs from the root most clusters share" in p for p in doc["clusters"][1]["problems"])
    view = report_model.build_view(json.loads(json.dumps(doc)))
    assert view["fleet"]["fail"] == ["cluster-2", "cluster-3"]
    assert fleet_report([], generated_at=now)["fleet"]["clusters_total"] == 0
    with pytest.raises(AnsibleFilterError, match="30d"):
        fleet_report([], expiring_within="30d")
    with pytest.raises(AnsibleFilterError):
        fleet_report([{"no": "name"}])


def test_cached_cluster_statuses_keeps_saved_entries_and_names_unknown_clusters():
    saved = fleet_report([cluster_status("c1", certificate=certificate(), inspect=inspect(), reload=RELOADED,
                                         now="2030-01-10T00:00:00Z")], generated_at="2030-01-10T00:00:00Z")
    entries = cached_cluster_statuses(json.loads(json.dumps(saved)), ["c1", "c9"], path="old.json")
    assert entries[0]["checked_at"] == "2030-01-10T00:00:00Z" and entries[0]["intermediate"]["serial_hex"] == "abc123"
    assert entries[1]["name"] == "c9" and entries[1]["ok"] is False
    assert "no saved status for this cluster in old.json" in entries[1]["problems"][0]
    again = fleet_report(entries, generated_at="2030-01-11T00:00:00Z", source="saved: old.json")
    assert again["clusters"][0]["intermediate"]["seconds_remaining"] == 20 * 86400  # counted from the new time
    with pytest.raises(AnsibleFilterError, match="not a fleet status document"):
        cached_cluster_statuses({"hello": "world"}, ["c1"], path="bogus.json")


# Issue 18: what the modules return when the cluster cannot be read (reads registered with failed_when: false).
# A failure without api_error never reached an API server (module_utils/module_runner.py: K8sError).
MISSPELLED = {"changed": False, "failed": False,
              "msg": "Cannot read kubeconfig /home/ops/.kube/clsuter-2.yaml: No such file or directory."}
UNAUTHORIZED = {"changed": False, "failed": False,
                "msg": "Unauthorized The credentials were rejected (401 Unauthorized): check the token or client "
                       "certificate of this cluster's kubeconfig context.",
                "api_error": {"code": 401, "reason": "Unauthorized", "message": "Unauthorized", "causes": []}}


@pytest.mark.parametrize("failure", [MISSPELLED, UNAUTHORIZED], ids=["kubeconfig-misspelled", "401"])
def test_a_cluster_no_read_reached_is_unreachable_with_the_cause(failure):
    entry = cluster_status("cluster-2", certificate=dict(failure), inspect=dict(failure), reload={"skipped": True})
    assert entry["reachable"] is False and entry["ok"] is False
    assert entry["unreachable_cause"] == failure["msg"]
    assert entry["problems"] == ["cannot read this cluster: %s" % failure["msg"]]
    assert entry["errors"] == ["Certificate: %s" % failure["msg"], "cacerts: %s" % failure["msg"]]
    assert entry["root"] is None


def test_an_api_answer_means_reachable_even_when_the_read_failed():
    """403 (authenticated, not allowed) and 404 (no CRD) are answers of a reachable API server; a cacerts
    that does not parse is a finding about a cluster that was read."""
    forbidden = {"msg": "secrets is forbidden", "api_error": {"code": 403, "reason": "Forbidden"}}
    no_crd = {"msg": "cert-manager's Certificate CRD is not installed.", "api_error": {"code": 404, "reason": "NotFound"}}
    entry = cluster_status("c1", certificate=no_crd, inspect=forbidden, reload={"skipped": True})
    assert entry["reachable"] is True and entry["unreachable_cause"] is None and entry["ok"] is False
    parsed_badly = cluster_status("c1", certificate=certificate_module_result(),
                                  inspect={"msg": "Secret istio-system/cacerts key ca-cert.pem is not PEM"})
    assert parsed_badly["reachable"] is True


def test_root_unknown_makes_one_shared_root_unknown_and_the_fleet_not_ok():
    now = "2030-01-20T00:00:00Z"
    healthy = [cluster_status(n, certificate=certificate(), inspect=inspect(), istiod=[deployment()], reload=RELOADED)
               for n in ("cluster-1", "cluster-3")]
    down = cluster_status("cluster-2", certificate=dict(MISSPELLED), inspect=dict(MISSPELLED), reload={"skipped": True})
    doc = fleet_report(healthy + [down], generated_at=now)
    fleet = doc["fleet"]
    assert fleet["root_consistent"] is None and fleet["root_unknown"] == ["cluster-2"]
    assert fleet["unreachable"] == ["cluster-2"] and fleet["ok"] is False
    assert fleet_report(healthy, generated_at=now)["fleet"]["root_consistent"] is True
    assert fleet_report(healthy, generated_at=now, expiring_within="1h")["fleet"]["ok"] is True


def test_a_cluster_the_saved_status_does_not_know_is_not_contacted_not_unreachable():
    saved = fleet_report([cluster_status("cluster-1", certificate=certificate(), inspect=inspect(),
                                         istiod=[deployment()], reload=RELOADED)], generated_at="2030-01-20T00:00:00Z")
    entries = cached_cluster_statuses(saved, ["cluster-1", "cluster-9"])
    assert entries[1]["reachable"] is None and entries[1]["unreachable_cause"] is None
    assert len(entries[1]["problems"]) == 1 and "no saved status" in entries[1]["problems"][0]
    assert fleet_report(entries)["fleet"]["root_consistent"] is None


@pytest.mark.parametrize("value", [3600, "3600", "1h", "60m", 3600.0])
def test_expiring_within_is_seconds_or_a_go_duration_in_every_filter(value):
    """report.yml documents report_expiring_within as "Go duration or seconds"; -e passes 3600 as a string."""
    doc = fleet_report([], expiring_within=value, generated_at="2025-06-01T00:00:00Z")
    assert doc["settings"]["expiring_within_seconds"] == 3600
    assert report_model.build_view(doc, expiring_within=value)["threshold"] == 3600


def test_root_renewal_time_and_its_problem_from_the_root_policy():
    from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.markdown import render_markdown
    policy = {"checked": True, "issuer": "ClusterIssuer/mesh-root", "root_certificate": "cert-manager/root-ca",
              "self_signed": True, "rotation_policy": "Never", "root_renewal_time": "2030-01-05T00:00:00Z",
              "root_not_after": "2030-03-01T00:00:00Z", "root_renewal_policy": None,
              "problems": ["The root Certificate cert-manager/root-ca renews at 2030-01-05T00:00:00Z, before ..."],
              "warnings": []}
    entry = cluster_status("c1", certificate=certificate_module_result(root_policy=policy), inspect=inspect(),
                           istiod=[deployment()], reload=RELOADED, now="2030-01-01T00:00:00Z")
    assert entry["root_certificate"]["renewal_time"] == "2030-01-05T00:00:00Z"
    assert entry["root_certificate"]["name"] == "cert-manager/root-ca"
    assert entry["ok"] is False and policy["problems"][0] in entry["problems"]
    page = render_markdown(fleet_report([entry], generated_at="2030-01-01T00:00:00Z"), now="2030-01-01T00:00:00Z")
    assert "| Root renewal |" in page and "2030-01-05T00:00:00Z" in page
    plain = cluster_status("c1", certificate=certificate_module_result(), inspect=inspect(), istiod=[deployment()],
                           reload=RELOADED)
    assert plain["root_certificate"] is None and plain["ok"] is True


def test_a_hot_reload_patch_its_manager_does_not_hold_is_flagged():
    helm = {"app": "istiod", "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "istiod-1.16.7"}
    env = [{"name": "AUTO_RELOAD_PLUGIN_CERTS", "value": "true"}]
    patched = deployment("1.16.7", env)
    patched["metadata"].update(labels=helm, annotations={"meshpki.istio_ca/hot-reload-patch": "true"})
    entry = cluster_status("c1", certificate=certificate(), inspect=inspect(), istiod=[patched], reload=RELOADED)
    assert entry["istiod"]["managed_by"] == "helm" and entry["istiod"]["deployments"][0]["managed_by"] == "helm"
    assert entry["ok"] is False
    assert any("lives only in a patch of the live Deployment, which helm" in p for p in entry["problems"])
    in_values = deployment("1.16.7", env)
    in_values["metadata"]["labels"] = helm  # set through the chart's pilot.env: no patch mark
    clean = cluster_status("c1", certificate=certificate(), inspect=inspect(), istiod=[in_values], reload=RELOADED)
    assert clean["ok"] is True and clean["istiod"]["hot_reload_patch_at_risk"] == []


def test_the_trust_check_lands_in_each_entry_and_its_finding_fails_the_cluster():
    """report.yml passes ca_setup's trust check per cluster; an exposed CA key is that cluster's problem, the trust
    facts are in the entry and in the rendered row; an unreachable cluster keeps its one cause."""
    healthy = {"cluster": "c1", "source": "offline_root", "ca_secret": "cert-manager/meshpki-istio-issuing-ca",
               "root_key": "not in any Secret of this cluster", "ok": True, "problems": [], "exposed": [],
               "issuing_ca": {"subject": "CN=Issuing CA,L=c1", "serial_hex": "0A", "not_after": "2031-01-01T00:00:00Z"}}
    text = "Secret cert-manager/meshpki-istio-root-ca (tls.key) on c2 holds the private key of the fleet root (CN=Root)"
    exposed = {"cluster": "c2", "source": "root key in the cluster", "ca_secret": "cert-manager/meshpki-istio-root-ca",
               "root_key": "in this cluster: Secret cert-manager/meshpki-istio-root-ca", "ok": False,
               "problems": [text], "exposed": [{"namespace": "cert-manager", "name": "meshpki-istio-root-ca",
                                                "data_key": "tls.key", "matches": "fleet root (CN=Root)"}],
               "issuing_ca": None}
    entries = [cluster_status(n, certificate=certificate(), inspect=inspect(), istiod=[deployment()], reload=RELOADED)
               for n in ("c1", "c2")] + [cluster_status("c3", errors=["x: Connection refused"])]
    doc = fleet_report(entries, generated_at="2030-01-02T00:00:00Z",
                       trust={"c1": healthy, "c2": exposed,
                              "c3": {"source": "other", "ok": False, "problems": ["could not check: refused"]}})
    by = {c["name"]: c for c in doc["clusters"]}
    assert by["c1"]["ok"] is True and by["c1"]["trust"]["source"] == "offline_root"
    assert by["c2"]["ok"] is False and text in by["c2"]["problems"]
    assert by["c2"]["trust"]["root_key"].startswith("in this cluster")
    assert "could not check: refused" not in by["c3"]["problems"]  # unreachable: one cause, not a trust finding
    assert doc["fleet"]["failing_checks"] == ["c2", "c3"]
    rows = {r["name"]: r for r in report_model.build_view(json.loads(json.dumps(doc)))["rows"]}
    assert rows["c1"]["trust_source"] == "offline_root" and rows["c1"]["issuing_ca_serial"] == "0a"
    assert rows["c2"]["root_key"] == "in this cluster: Secret cert-manager/meshpki-istio-root-ca"
    # Without trust (a saved document, the rotation summary) entries keep what they have.
    assert "trust" not in fleet_report(entries[:1], generated_at="2030-01-02T00:00:00Z")["clusters"][0]
    with pytest.raises(AnsibleFilterError, match="trust must be a mapping"):
        fleet_report(entries[:1], trust=["c1"])
