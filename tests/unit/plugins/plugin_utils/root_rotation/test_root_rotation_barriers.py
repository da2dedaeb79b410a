"""Step proofs and the fleet barrier (plugin_utils/root_rotation/barriers.py)."""

from __future__ import annotations

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.logs import SUCCESS_MARKER
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import barriers

SINCE = "2030-01-01T00:00:10Z"


def log(*lines):
    return "\n".join("2030-01-01T00:00:%02d.000000000Z\t%s" % (sec, "info\t" + msg) for sec, msg in lines)


def test_a_root_step_needs_the_root_line_and_the_marker_after_it_on_every_pod():
    good = log((5, "Updating new ROOT-CA"), (5, SUCCESS_MARKER), (11, "Update Istiod cacerts"),
               (11, "Updating new ROOT-CA"), (12, SUCCESS_MARKER))
    old_only = log((5, "Updating new ROOT-CA"), (5, SUCCESS_MARKER))  # before the step was written
    ev = barriers.istiod_evidence("combined", {"istiod-a": good, "istiod-b": old_only}, SINCE)
    assert not ev["done"] and ev["problems"] == ["istiod-b has not logged 'Updating new ROOT-CA' yet"]
    assert ev["pods"]["istiod-a"]["marker"].endswith(SUCCESS_MARKER)
    assert barriers.istiod_evidence("combined", {"istiod-a": good}, SINCE)["done"]
    # step 2 changes only the intermediate: the marker suffices
    assert barriers.istiod_evidence("new_intermediate", {"p": log((11, SUCCESS_MARKER))}, SINCE)["done"]


def test_a_refusal_is_reported_as_such():
    ev = barriers.istiod_evidence("new_only", {"p": log((11, "Updating new ROOT-CA not supported"))}, SINCE)
    assert not ev["done"] and "refused the step: Updating new ROOT-CA not supported" in ev["problems"][0]
    assert ev["settled"]  # the role's wait stops here: polling longer would not change the verdict


def test_a_pod_still_reloading_is_not_settled_so_the_wait_goes_on():
    ev = barriers.istiod_evidence("combined", {"p": log((11, "Updating new ROOT-CA"))}, SINCE)
    assert not ev["done"] and not ev["settled"]
    assert barriers.istiod_evidence("combined", {"p": log((11, "Updating new ROOT-CA"), (12, SUCCESS_MARKER))},
                                    SINCE)["settled"]


def test_bundle_evidence_is_byte_exact():
    cms = [{"metadata": {"namespace": "a"}, "data": {"root-cert.pem": "X\n"}},
           {"metadata": {"namespace": "b"}, "data": {"root-cert.pem": "X"}}]
    ev = barriers.bundle_evidence("X\n", b"X\n", cms)
    assert ev == {"cacerts": True, "namespaces": 2, "mismatched": ["b"], "done": False}
    assert barriers.bundle_evidence("X\n", "X\n", cms[:1])["done"]


def test_workloads_count_from_their_leaf_issue_time_or_start():
    switched, now, ttl = "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z", 86400
    ws = [{"pod": "a/new", "created": "2030-01-01T00:30:00Z", "expiry_seconds": None},
          {"pod": "a/renewed", "created": "2029-12-31T00:00:00Z", "expiry_seconds": 86400 - 600},  # issued 00:50
          {"pod": "a/old", "created": "2029-12-31T00:00:00Z", "expiry_seconds": 86400 - 7200}]  # issued 23:00
    ev = barriers.workload_evidence(ws, switched, now, ttl)
    assert not ev["ready"] and ev["pending"] == ["a/old"]
    assert 0 < ev["wait_seconds"] <= 0.51 * ttl  # renews at half its lifetime
    assert barriers.workload_evidence(ws[:2], switched, now, ttl)["ready"]


def test_without_a_gauge_the_barrier_waits_one_ttl():
    ws = [{"pod": "a/x", "created": "2029-12-31T00:00:00Z", "expiry_seconds": None}]
    early = barriers.workload_evidence(ws, "2030-01-01T00:00:00Z", "2030-01-01T20:00:00Z", 86400)
    assert not early["ready"] and early["wait_seconds"] == 4 * 3600
    assert barriers.workload_evidence(ws, "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z", 86400)["ready"]
    restarted = barriers.workload_evidence([dict(ws[0], created="2030-01-01T00:10:00Z")], "2030-01-01T00:00:00Z",
                                           "2030-01-01T00:20:00Z", 86400, restarted_at="2030-01-01T00:05:00Z")
    assert restarted["ready"]


def test_the_barrier_opens_only_when_every_cluster_is_done():
    done = {"bundle": {"done": True}, "istiod": {"done": True, "problems": []}}
    moving = dict(done, workloads={"ready": False, "pending": ["a/old"], "wait_seconds": 60})
    ready = dict(done, workloads={"ready": True, "pending": []})
    assert barriers.fleet_barrier({"c1": done, "c2": moving}, "new_intermediate", "abort_old_intermediate")["open"]
    for step, nxt in (("combined", "new_intermediate"), ("new_intermediate", "new_only"),
                      ("abort_old_intermediate", "aborted")):
        shut = barriers.fleet_barrier({"c1": ready, "c2": moving}, step, nxt)
        assert not shut["open"] and list(shut["waiting"]) == ["c2"] and "a/old" in shut["waiting"]["c2"][0]
        assert not barriers.fleet_barrier({"c1": done}, step, nxt)["open"]  # workloads not checked
        assert barriers.fleet_barrier({"c1": ready}, step, nxt)["open"]
    assert barriers.fleet_barrier({"c1": done}, "combined", "aborted")["open"]  # leaves never left the old root
    assert not barriers.fleet_barrier({}, "none", "combined")["open"]


def test_a_failed_read_during_the_secrets_recreation_is_not_a_refusal():
    text = log((11, "Update Istiod cacerts"), (11, "failed reading root-cert.pem: open ./etc/cacerts/root-cert.pem: no such file"),
               (12, "Update Istiod cacerts"), (12, "Updating new ROOT-CA"), (12, SUCCESS_MARKER))
    ev = barriers.istiod_evidence("combined", {"p": text}, SINCE)
    assert ev["done"] and ev["switched_at"] == "2030-01-01T00:00:12Z"
    late = text + "\n" + log((13, "Update Istiod cacerts"), (13, "Updating new ROOT-CA not supported"))
    assert not barriers.istiod_evidence("combined", {"p": late}, SINCE)["done"]
