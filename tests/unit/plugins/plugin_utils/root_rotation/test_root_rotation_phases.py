"""The phase model (plugin_utils/root_rotation/phases.py): steps in order, resumption, abort."""

from __future__ import annotations

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation.phases import fleet_plan

NEW = "aa:bb"


def rec(phase, state="verified", new_root=NEW):
    return {"phase": phase, "state": state, "new_root": new_root}


def steps(plan):
    return [(s["step"], s["clusters"]) for s in plan["steps"]]


def test_a_fresh_fleet_runs_the_three_steps_everywhere():
    plan = fleet_plan({"c1": None, "c2": None}, new_root=NEW)
    assert plan["problems"] == []
    assert steps(plan) == [(s, {"c1": "apply", "c2": "apply"}) for s in ("combined", "new_intermediate", "new_only")]


def test_a_run_killed_in_step_2_resumes_it_without_repeating_step_1():
    plan = fleet_plan({"c1": rec("new_intermediate"), "c2": rec("new_intermediate", "applied"),
                       "c3": rec("combined"), "c4": rec("combined")}, new_root=NEW)
    assert plan["problems"] == []
    assert steps(plan) == [
        ("new_intermediate", {"c1": "done", "c2": "resume", "c3": "apply", "c4": "apply"}),
        ("new_only", {"c1": "apply", "c2": "apply", "c3": "apply", "c4": "apply"})]


def test_a_cluster_two_steps_ahead_is_refused_never_skipped():
    plan = fleet_plan({"c1": rec("new_intermediate", "applied"), "c2": None}, new_root=NEW)
    assert plan["steps"] == [] and "more than one step apart" in plan["problems"][0]


def test_a_finished_fleet_has_nothing_left_and_a_new_rotation_starts_afresh():
    done = {"c1": rec("new_only"), "c2": rec("new_only")}
    assert fleet_plan(done, new_root=NEW)["steps"] == []
    again = fleet_plan(done, new_root="cc:dd")
    assert [s for s, _ignored in steps(again)] == ["combined", "new_intermediate", "new_only"]


def test_an_unfinished_rotation_to_another_root_stops_the_run():
    plan = fleet_plan({"c1": rec("combined")}, new_root="cc:dd")
    assert plan["steps"] == [] and "another root (aa:bb)" in plan["problems"][0]


def test_abort_after_step_1_goes_straight_back_to_the_old_root():
    plan = fleet_plan({"c1": rec("combined"), "c2": rec("combined", "applied")}, abort=True, new_root=NEW)
    assert plan["problems"] == [] and plan["mode"] == "abort"
    assert steps(plan) == [("aborted", {"c1": "apply", "c2": "apply"})]


def test_abort_in_step_2_restores_the_old_intermediate_first_where_the_new_one_went():
    plan = fleet_plan({"c1": rec("new_intermediate"), "c2": rec("new_intermediate", "applied"),
                       "c3": rec("combined")}, abort=True, new_root=NEW)
    assert steps(plan) == [
        ("abort_old_intermediate", {"c1": "apply", "c2": "apply", "c3": "done"}),
        ("aborted", {"c1": "apply", "c2": "apply", "c3": "apply"})]
    resumed = fleet_plan({"c1": rec("abort_old_intermediate"), "c2": rec("aborted", "applied"),
                          "c3": rec("abort_old_intermediate")}, abort=True, new_root=NEW)
    assert steps(resumed) == [("aborted", {"c1": "apply", "c2": "resume", "c3": "apply"})]


def test_abort_is_refused_once_step_3_started_and_a_forward_run_during_an_abort():
    late = fleet_plan({"c1": rec("new_only", "applied"), "c2": rec("new_intermediate")}, abort=True, new_root=NEW)
    assert late["steps"] == [] and "can no longer be aborted" in late["problems"][0]
    mid = fleet_plan({"c1": rec("abort_old_intermediate")}, new_root=NEW)
    assert mid["steps"] == [] and "root_rotation_abort=true" in mid["problems"][0]
    after = fleet_plan({"c1": rec("aborted")}, new_root=NEW)  # an aborted rotation may be started again
    assert [s for s, _ignored in steps(after)] == ["combined", "new_intermediate", "new_only"]


def test_unknown_phase_is_a_problem():
    plan = fleet_plan({"c1": {"phase": "step9", "state": "verified"}})
    assert plan["steps"] == [] and "unknown phase" in plan["problems"][0]
