"""report_model: which clusters the report flags, and why (shared by Markdown and HTML)."""

import copy
import json
import os

import pytest

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.model import (
    ReportDataError, build_view, human_duration, natural_key, parse_time, threshold_seconds)

SAMPLE = os.path.join(os.path.dirname(__file__), "report_sample.json")


@pytest.fixture
def report():
    with open(SAMPLE) as handle:
        return json.load(handle)


def codes(row):
    return sorted(w["code"] for w in row["warnings"])


def rows_by_name(view):
    return {r["name"]: r for r in view["rows"]}


def test_sample_statuses_and_reasons(report):
    rows = rows_by_name(build_view(report))
    assert rows["cluster-1"]["status"] == "ok" and codes(rows["cluster-1"]) == []
    assert rows["cluster-2"]["status"] == "ok"
    assert rows["cluster-3"]["status"] == "warn"
    assert codes(rows["cluster-3"]) == ["expiring", "renewal_overdue"]
    assert rows["cluster-4"]["status"] == "fail"
    assert codes(rows["cluster-4"]) == ["not_reloaded", "problem"]
    assert rows["cluster-5"]["status"] == "fail"
    assert codes(rows["cluster-5"]) == ["problem", "problem"]    # ConfigMap root, and root differs (fleet_report)
    assert any("differs from the root most clusters share" in w["text"] for w in rows["cluster-5"]["warnings"])


def test_fleet_summary(report):
    view = build_view(report)
    fleet = view["fleet"]
    assert fleet["cluster_count"] == 5
    assert fleet["ok"] == ["cluster-1", "cluster-2"]
    assert fleet["warn"] == ["cluster-3"]
    assert fleet["fail"] == ["cluster-4", "cluster-5"]
    assert fleet["expiring"] == ["cluster-3"]
    assert fleet["root_consistent"] is False
    assert len(fleet["roots"]) == 2
    assert [w["code"] for w in view["warnings"]] == ["root_mismatch", "expiring", "failing"]


def test_time_left_is_measured_from_generated_at(report):
    view = build_view(report)
    row = rows_by_name(view)["cluster-1"]
    assert view["now"] == parse_time("2025-06-01T12:00:00Z")
    assert row["remaining"] == (parse_time("2025-07-30T11:00:00Z") - view["now"]).total_seconds()


def test_now_override_moves_every_judgement(report):
    rows = rows_by_name(build_view(report, now="2025-07-25T00:00:00Z"))
    assert "expired" in codes(rows["cluster-2"])      # not_after 2025-07-19
    assert "expiring" in codes(rows["cluster-1"])     # 5 days left < 15d
    with pytest.raises(ReportDataError, match="not an ISO 8601 time"):
        build_view(report, now="tomorrow")


def test_threshold_from_argument_settings_and_default(report):
    assert build_view(report)["threshold"] == 1296000          # settings.expiring_within_seconds
    wide = build_view(report, expiring_within="1200h")         # 50 days: cluster-2 (47d left) now expiring
    assert "cluster-2" in wide["fleet"]["expiring"]
    del report["settings"]
    assert build_view(report)["threshold"] == 360 * 3600


def test_root_consistency_from_fingerprints_when_fleet_block_is_silent(report):
    del report["fleet"]
    for entry in report["clusters"]:
        entry["root"]["fingerprint_sha256"] = "aa:bb"
        entry["istiod"]["root_consistent"] = True
    view = build_view(report)
    assert view["fleet"]["root_consistent"] is True
    assert all("root_mismatch" not in codes(r) for r in view["rows"])


def test_fleet_report_root_decision_stands(report):
    report["fleet"]["root_differs"] = ["cluster-2"]      # no problem sentence about it on cluster-2
    rows = rows_by_name(build_view(report))
    assert "root_mismatch" in codes(rows["cluster-2"]) and rows["cluster-2"]["status"] == "fail"
    assert "root_mismatch" not in codes(rows["cluster-5"])


def test_root_tie_uses_first_cluster_in_name_order(report):
    two = copy.deepcopy(report)
    del two["fleet"]
    two["clusters"] = [c for c in two["clusters"] if c["name"] in ("cluster-1", "cluster-5")]
    two["clusters"][1]["problems"] = []
    rows = rows_by_name(build_view(two))
    assert "root_mismatch" not in codes(rows["cluster-1"])
    assert "root_mismatch" in codes(rows["cluster-5"])


def test_missing_or_unreachable_cluster_fails():
    view = build_view({"generated_at": "2025-01-01T00:00:00Z",
                       "clusters": [{"name": "empty"}, {"name": "gone", "reachable": False}]})
    rows = rows_by_name(view)
    assert codes(rows["empty"]) == ["no_intermediate"]
    # Nothing of an unreachable cluster is known: "no intermediate" would be a finding it does not have.
    assert codes(rows["gone"]) == ["unreachable"]
    assert view["fleet"]["fail"] == ["empty", "gone"]
    assert view["fleet"]["failing"] == ["empty"] and view["fleet"]["unreachable"] == ["gone"]
    assert [r["name"] for r in view["rows"]] == ["gone", "empty"]  # unreachable first
    assert view["fleet"]["root_consistent"] is None  # no root read at all: unknown, not yes


def test_unreachable_cause_shown_once_and_root_unknown_never_yes(report):
    """Issue 18: a cluster that could not be read makes "one shared root" unknown, even when report.json
    (of an older release) said true; its cause is the warning, not repeated from its problems."""
    gone = dict(report["clusters"][0], name="cluster-0", reachable=False, intermediate=None, root=None,
                unreachable_cause="Cannot read kubeconfig /nope.yaml: No such file or directory.",
                problems=["cannot read this cluster: Cannot read kubeconfig /nope.yaml: No such file or directory."])
    report["clusters"].append(gone)
    report["fleet"].update(root_consistent=True, root_differs=[], roots={"aa": []}, root_unknown=[])
    for entry in report["clusters"]:
        if entry["name"] != "cluster-0":
            entry["root"] = {"fingerprint_sha256": "aa"}
    view = build_view(report)
    assert view["rows"][0]["name"] == "cluster-0" and view["rows"][0]["status"] == "fail"
    assert [w["text"] for w in view["rows"][0]["warnings"]] == [
        "unreachable: Cannot read kubeconfig /nope.yaml: No such file or directory."]
    assert view["fleet"]["root_consistent"] is None and view["fleet"]["root_unknown"] == ["cluster-0"]
    assert [w["code"] for w in view["warnings"]][:2] == ["unreachable", "root_unknown"]
    assert "Root unknown on: cluster-0." in view["warnings"][1]["text"]


def test_clusters_as_mapping_sorted_naturally():
    entry = {"intermediate": {"not_before": "2025-01-01T00:00:00Z", "not_after": "2026-01-01T00:00:00Z"}}
    view = build_view({"generated_at": "2025-02-01T00:00:00Z",
                       "clusters": {"cluster-10": entry, "cluster-2": entry, "cluster-1": entry}})
    assert [r["name"] for r in view["rows"]] == ["cluster-1", "cluster-2", "cluster-10"]


def test_accepts_json_text_and_rejects_garbage(report):
    assert build_view(json.dumps(report))["fleet"]["cluster_count"] == 5
    with pytest.raises(ReportDataError, match="not valid JSON"):
        build_view("{not json")
    with pytest.raises(ReportDataError, match="must be a mapping"):
        build_view([1, 2])
    with pytest.raises(ReportDataError, match='no "clusters" list'):
        build_view({"schema_version": 1})


def test_evidence_and_problem_shapes():
    view = build_view({"generated_at": "2025-01-01T00:00:00Z", "clusters": [{
        "name": "c", "istiod": {"last_reload": [{"time": "t1", "pod": "p", "line": "old"},
                                                {"time": "t2", "pod": "p", "line": "new line"}],
                                "hot_reload": True},
        "problems": "one problem"}]})
    row = view["rows"][0]
    assert row["last_reload"] == "t2 p new line"
    assert row["hot_reload"] == "enabled"
    assert row["problems"] == ["one problem"]


@pytest.mark.parametrize("seconds,text", [
    (None, ""), (0, "0s"), (59, "59s"), (61, "1m 1s"), (3600 * 5 + 180, "5h 3m"),
    (86400 * 29 + 3600 * 23, "29d 23h"), (-(86400 * 2 + 3600 * 4), "-2d 4h")])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_threshold_parsing():
    assert threshold_seconds("1h30m") == 5400
    assert threshold_seconds("90") == 90
    assert threshold_seconds(7.5) == 7.5
    assert threshold_seconds(None) is None
    with pytest.raises(ReportDataError, match=r'expiring_within: time: unknown unit "d" in duration "30d"\. .*\(30d is "720h"\)'):
        threshold_seconds("30d")


def test_parse_time_forms():
    assert parse_time("2025-01-02T03:04:05Z").tzinfo is not None
    assert parse_time("2025-01-02T03:04:05+02:00") == parse_time("2025-01-02T01:04:05Z")
    assert parse_time("garbage") is None and parse_time(None) is None


def test_natural_key():
    assert sorted(["c-10", "c-9", "C-1"], key=natural_key) == ["C-1", "c-9", "c-10"]


def test_root_warning_sentence(report):
    assert build_view(report)["warnings"][0]["text"].startswith("The fleet does not share one root (2 distinct roots)")
    report["fleet"]["roots"] = {"aa": ["cluster-1"]}
    report["fleet"]["root_unknown"] = ["cluster-9"]
    text = build_view(report)["warnings"][0]["text"]
    assert text == "The fleet is not known to share one root. Root unknown on: cluster-9."
