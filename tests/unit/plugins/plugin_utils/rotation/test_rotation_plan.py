"""Unit tests of the ca_rotation fact filters: rotation_plan, rotation_root_problems, rotation_result."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import cluster_status
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.outcome import rotation_result
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.plan import rotation_plan as _rotation_plan
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.plan import rotation_root_problems
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.request import rotation_request
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.outcome import rotation_preflight_result, rotation_summary

ROOT_A = "aa:" * 31 + "aa"
ROOT_B = "bb:" * 31 + "bb"
LIVE_SPEC = {"secretName": "cacerts", "isCA": True, "duration": "1440h", "renewBefore": "360h",
             "issuerRef": {"name": "mesh-root", "kind": "ClusterIssuer", "group": "cert-manager.io"}}


def rotation_plan(status, force=False, **kwargs):
    kwargs.setdefault("request", rotation_request("720h", "", force))
    return _rotation_plan(status, **kwargs)


def healthy_status():
    status = {"revision": 3, "notBefore": "2030-01-01T00:00:00Z", "notAfter": "2030-03-02T00:00:00Z",
              "renewalTime": "2030-02-15T00:00:00Z",
              "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "ok"}]}
    inspect = {"certificates": [{"subject": "CN=Intermediate,L=c1", "serial_hex": "0a1b2c3d4e5f60718293",
                                 "serial_number": 1, "not_after": "2030-03-02T00:00:00Z", "expired": False},
                                {"subject": "CN=Root", "fingerprint_sha256": ROOT_A}],
               "chain": {"length": 2, "ends_at_root": True, "key_matches": True, "root_fingerprint_sha256": ROOT_A,
                         "problems": []},
               "istio_ready": True, "istio_problems": [], "istio_warnings": []}
    reload = {"reloaded": True, "root_consistent": True, "problems": [],
              "pods": [{"name": "istiod-1", "version": "1.22.3", "evidence": []}]}
    cert = {"exists": True, "live_spec": LIVE_SPEC, "status": status}
    return cluster_status("c1", certificate=cert, inspect=inspect, reload=reload)


def validated(spec_changes=None, changed=True, reissue="spec_change", root_policy=None):
    spec = dict(LIVE_SPEC, **(spec_changes or {"duration": "720h"}))
    result = {"changed": changed, "failed": False, "exists": True, "live_spec": LIVE_SPEC, "spec": spec,
              "reissue": reissue, "revision": 3}
    if root_policy is not None:
        result["root_policy"] = root_policy
    return result


def test_plan_of_a_healthy_cluster():
    plan = rotation_plan(healthy_status(), certificate=validated(), checked_at="2030-01-10T00:00:00Z")
    assert plan["problems"] == [] and plan["will_change"] is True and plan["reissue"] == "spec_change"
    assert plan["spec"]["duration"] == "720h" and plan["spec"]["issuerRef"]["name"] == "mesh-root"
    assert plan["old_serial"] == "0a1b2c3d4e5f60718293" and plan["root_fingerprint"] == ROOT_A
    assert plan["revision"] == 3 and plan["old_not_after"] == "2030-03-02T00:00:00Z"
    assert plan["ttl"]["renew_before_seconds"] == 360 * 3600


def test_nothing_to_change_unless_forced():
    same = validated(spec_changes={}, changed=False, reissue="none")
    assert rotation_plan(healthy_status(), certificate=same)["will_change"] is False
    assert rotation_plan(healthy_status(), certificate=same, force="true")["will_change"] is True


def test_invalid_request_blocks_with_the_module_message():
    failed = {"failed": False, "exists": True, "live_spec": LIVE_SPEC, "status": {},
              "msg": "spec.renewBefore: Invalid value: 720h0m0s: certificate duration 720h0m0s must be greater "
                     "than renewBefore 720h0m0s", "validation_errors": ["spec.renewBefore: ..."]}
    plan = rotation_plan(healthy_status(), certificate=failed)
    assert plan["spec"] is None and plan["will_change"] is False
    assert plan["problems"] == ["the requested spec is invalid: " + failed["msg"]]


def test_ttl_root_policy_and_vault_password_problems():
    policy = {"checked": True, "problems": ["the root of trust ... rotationPolicy Always ..."],
              "warnings": ["could not read ClusterIssuer/x"]}
    plan = rotation_plan(healthy_status(), certificate=validated({"renewBefore": "1h"}, root_policy=policy),
                         backup_mode="both", vault_password_set=False)
    text = " | ".join(plan["problems"])
    assert "set renewBefore to at least 48h" in text
    assert "rotationPolicy Always" in text
    assert "ca_rotation_backup_mode both needs ca_rotation_backup_vault_password" in text
    assert plan["warnings"] == ["could not read ClusterIssuer/x"]
    ok = rotation_plan(healthy_status(), certificate=validated(), backup_mode="controller", vault_password_set=True)
    assert ok["problems"] == [] and ok["backup"] == {"cluster": False, "controller": True}
    assert rotation_plan(healthy_status(), certificate=validated())["backup"] == {"cluster": True, "controller": False}
    with pytest.raises(AnsibleFilterError, match="ca_rotation_backup_mode must be one of"):
        rotation_plan(healthy_status(), certificate=validated(), backup_mode="tape")


def test_unreadable_cluster_is_not_called_an_invalid_request():
    down = cluster_status("c1", certificate={"msg": "connection refused"}, inspect={"msg": "connection refused"})
    plan = rotation_plan(down, certificate={"msg": "connection refused"})
    assert plan["problems"] and not any("invalid" in p for p in plan["problems"])
    assert all("could not read the cluster" in p for p in plan["problems"])


def test_root_problems():
    roots = {"c1": ROOT_A, "c2": ROOT_A, "c3": ROOT_B, "c4": None}
    found = rotation_root_problems(roots)
    assert found["c1"] == [] and found["c2"] == [] and found["c4"] == []
    assert len(found["c3"]) == 1 and "differs from the root of c1, c2" in found["c3"][0]
    pinned = rotation_root_problems(roots, expected=ROOT_B.upper())
    assert "not the expected root" in pinned["c1"][0] and pinned["c3"] == ["its root %s... differs from the root of "
                                                                           "c1, c2 (%s...): all clusters of a mesh "
                                                                           "must share one root"
                                                                           % (ROOT_B[:23], ROOT_A[:23])]
    tie = rotation_root_problems({"c1": ROOT_A, "c2": ROOT_B})
    assert len(tie["c1"]) == 1 and "no majority" in tie["c1"][0] and len(tie["c2"]) == 1
    with pytest.raises(AnsibleFilterError):
        rotation_root_problems(["c1"])
    # Registered x509_inspect results work as well (a failed read has no chain: its root is unknown).
    results = {"c1": {"chain": {"root_fingerprint_sha256": ROOT_A}}, "c2": {"msg": "not found"},
               "c3": {"chain": {"root_fingerprint_sha256": ROOT_B}}, "c4": {"chain": {"root_fingerprint_sha256": ROOT_A}}}
    found = rotation_root_problems(results)
    assert found["c2"] == [] and found["c1"] == [] and "differs from the root of c1, c4" in found["c3"][0]


def test_plan_carries_root_problems():
    plan = rotation_plan(healthy_status(), certificate=validated(), root_problems=["its root differs"])
    assert plan["problems"] == ["its root differs"]


def plan():
    return rotation_plan(healthy_status(), certificate=validated())


def after(serial="ff00", root=ROOT_A, revision=4, reloaded=True):
    """The cluster_status entry after the change, as the role builds it from the applied result."""
    applied = {"changed": True, "exists": True, "live_spec": LIVE_SPEC, "spec": dict(LIVE_SPEC, duration="720h"),
               "status": {"revision": revision, "notAfter": "2030-02-01T00:00:00Z"}}
    inspect = {"certificates": [{"serial_hex": serial, "not_after": "2030-02-01T00:00:00Z"},
                                {"fingerprint_sha256": root}],
               "chain": {"root_fingerprint_sha256": root, "key_matches": True, "ends_at_root": True}}
    return cluster_status("c1", certificate=applied, applied=True, inspect=inspect,
                          reload={"reloaded": reloaded, "problems": [], "pods": [{"name": "istiod-1"}]})


def test_result_rotated_with_backup():
    applied = {"changed": True, "reissue": "spec_change", "revision": 4,
               "backup": {"name": "cacerts-backup-r3-0a1b2c3d4e5f", "namespace": "istio-system",
                          "serial": "0a1b2c3d4e5f60718293", "created": True}}
    row = rotation_result(plan(), status=after(), apply=applied, started_at="2030-01-10T00:00:00Z", started_ts=0)
    assert row["status"] == "rotated" and row["old_serial"] == "0a1b2c3d4e5f60718293" and row["new_serial"] == "ff00"
    assert row["backup"] == {"cluster": "istio-system/cacerts-backup-r3-0a1b2c3d4e5f", "controller": None}
    assert row["revision"] == 4 and row["reloaded"] is True and row["error"] is None and "message" not in row
    # The row reads the status entry fleet-status.json saves: the stored lifetime, not the raw request.
    assert row["duration"] == "720h" and row["not_after"] == "2030-02-01T00:00:00Z"
    assert row["seconds"] > 0


def test_result_unchanged_checked_and_failed():
    noop = rotation_plan(healthy_status(), certificate=validated(spec_changes={}, changed=False, reissue="none"))
    unchanged = rotation_result(noop, status=healthy_status())
    # An unchanged cluster names its current serial on both sides ("a -> a", not "a -> ?").
    assert unchanged["status"] == "unchanged" and unchanged["new_serial"] == unchanged["old_serial"] == "0a1b2c3d4e5f60718293"
    assert rotation_result(noop, check_mode=True)["status"] == "checked"
    assert rotation_result(plan(), apply={"changed": True, "reissue": "spec_change"}, check_mode=True)["status"] == "checked"
    failed = rotation_result(plan(), apply={"msg": "timed out", "backup": {"name": "b1", "namespace": "ns"}},
                             failed_step="Apply", error="timed out waiting", host="c1")
    assert failed["status"] == "failed" and failed["backup"]["cluster"] == "ns/b1"
    assert 'cluster c1 in step "Apply": timed out waiting' in failed["message"]
    assert "ns/b1 (playbooks/restore.yml restores it)" in failed["message"]
    early = rotation_result(plan(), error="boom", failed_step="Start", host="c1")
    assert "No backup was needed" in early["message"]


def test_plan_carries_the_request_parsed_once():
    request = rotation_request("720h", "", False)
    assert request["changes"] == {"duration": "720h"} and request["duration_seconds"] == 720 * 3600
    assert request["renew"] == "auto" and request["asked"] is True
    assert rotation_request("", "", "true")["renew"] == "true"
    assert rotation_request("", "", False)["asked"] is False
    p = rotation_plan(healthy_status(), certificate=validated(), request=request, run="r1")
    assert p["request"] is request or p["request"] == request
    assert p["run"] == "r1"
    summary = rotation_summary({"c1": rotation_result(p, status=after())}, ["c1"], plan=p)
    assert summary["request"] == {"duration": "720h", "renew_before": None, "force": False} and summary["run"] == "r1"
    with pytest.raises(AnsibleFilterError, match="request must be the result of the rotation_request filter"):
        _rotation_plan(healthy_status(), certificate=validated(), request={"duration": "720h"})


@pytest.mark.parametrize("variable, args, text", [
    ("ca_rotation_duration", ("30d", "", False), 'unknown unit "d"'),
    ("ca_rotation_duration", ("720", "", False), "missing unit"),
    ("ca_rotation_renew_before", ("720h", "-1h", False), "must be a positive duration"),
])
def test_malformed_request_names_the_variable_and_blocks_every_cluster(variable, args, text):
    request = rotation_request(*args)
    assert len(request["problems"]) == 1 and variable in request["problems"][0] and text in request["problems"][0]
    # What is malformed is not asked of any cluster, and it blocks the plan.
    assert all(v.endswith("h") for v in request["changes"].values())
    assert request["problems"][0] in rotation_plan(healthy_status(), certificate=validated(), request=request)["problems"]


def test_plan_names_an_unfinished_previous_run():
    previous = {"run": "20300101T000000Z-abcd", "step": "applied", "at": "2030-01-01T00:00:05Z",
                "old_serial": "aa", "new_serial": "0a1b2c3d4e5f60718293", "finished": False}
    p = rotation_plan(healthy_status(), certificate=validated(spec_changes={}, changed=False, reissue="none"),
                      previous_run=previous)
    assert p["previous_run_unfinished"] is True and p["problems"] == []
    assert p["previous_run_note"] == ("rotated at 2030-01-01T00:00:05Z by run 20300101T000000Z-abcd that did not "
                                      "finish (serial aa -> 0a1b2c3d4e5f60718293); verified now")
    assert p["previous_run_note"] in p["warnings"]
    row = rotation_result(p, status=healthy_status())
    assert row["previous_run"] == p["previous_run_note"]
    line = rotation_summary({"c1": row}, ["c1"], plan=p)["lines"][0]
    assert line.startswith("c1") and line.endswith("verified now")
    # Not verified: the plan has problems, and the note says so.
    bad = rotation_plan(healthy_status(), certificate=validated(), previous_run=previous, root_problems=["x"])
    assert bad["previous_run_note"].endswith("NOT verified now: see the problems")
    done = dict(previous, step="verified", finished=True)
    assert rotation_plan(healthy_status(), certificate=validated(), previous_run=done)["previous_run_note"] is None


def test_preflight_knows_the_row_of_a_cluster_with_nothing_to_change():
    noop = rotation_plan(healthy_status(), certificate=validated(spec_changes={}, changed=False, reissue="none"))
    assert rotation_preflight_result(noop, status=healthy_status())["status"] == "unchanged"
    assert rotation_preflight_result(noop, status=healthy_status(), check_mode=True)["status"] == "checked"
    assert rotation_preflight_result(plan(), status=healthy_status()) == {}
    blocked = rotation_plan(healthy_status(), certificate=validated(spec_changes={}, changed=False, reissue="none"),
                            root_problems=["x"])
    assert rotation_preflight_result(blocked) == {}
