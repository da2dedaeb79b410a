"""Unit tests of the saved fleet statuses: the per-run, per-slice file name, and the merge report.yml does for
``report_from=<dir or files>`` (newest per cluster, conflicts shown, clusters no slice reported named)."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import cluster_status, fleet_report
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.saved_status import (
    merged_fleet_report, saved_status_paths, status_file_name)

ROOT_A = "aa:" * 31 + "aa"


def entry(name, serial, checked_at, root=ROOT_A):
    """A healthy cluster entry as rotate.yml saves it (cluster_status of the reads after the change)."""
    cert = {"exists": True, "live_spec": {"secretName": "cacerts", "duration": "720h",
                                          "issuerRef": {"name": "mesh-root", "kind": "ClusterIssuer"}},
            "status": {"revision": 2, "notAfter": "2099-01-31T00:00:00Z",
                       "conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}]}}
    inspect = {"certificates": [{"serial_hex": serial, "not_after": "2099-01-31T00:00:00Z", "expired": False},
                                {"fingerprint_sha256": root}],
               "chain": {"root_fingerprint_sha256": root, "ends_at_root": True, "key_matches": True, "problems": []},
               "istio_ready": True, "istio_problems": [], "istio_warnings": []}
    reload = {"reloaded": True, "root_consistent": True, "problems": [], "pods": [{"name": "istiod-1", "version": "1.22.3"}]}
    return cluster_status(name, certificate=cert, inspect=inspect, reload=reload, now=checked_at)


def save(path, *entries):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fleet_report(list(entries), source="rotate.yml")))
    return path


def test_status_file_name_differs_per_slice_and_per_run_and_not_by_host_order():
    slices = [["cluster-%d" % i for i in range(k, 9, 4)] for k in range(1, 5)]  # AWX: hosts[k-1::4]
    names = [status_file_name(hosts, run="20260101T000000Z-3f9a") for hosts in slices]
    assert len(set(names)) == 4 and all(n.startswith("fleet-status-20260101T000000Z-3f9a-") for n in names)
    assert status_file_name(list(reversed(slices[0])), run="20260101T000000Z-3f9a") == names[0]
    assert status_file_name(slices[0], run="20260101T000001Z-0000") != names[0]
    with pytest.raises(AnsibleFilterError):
        status_file_name([], run="x")


def test_a_directory_of_slices_merges_into_one_report_of_every_cluster(tmp_path):
    hosts = ["cluster-%d" % i for i in range(1, 9)]
    for k in range(1, 5):  # one directory per slice job, as docs/awx.md gives report_dir
        share = hosts[k - 1::4]
        save(tmp_path / "wf-7" / ("job-%d" % k) / status_file_name(share, run="r%d" % k),
             *[entry(h, "s-%s" % h, "2030-01-01T00:0%d:00Z" % k) for h in share])
    (tmp_path / "wf-7" / "job-1" / "rotation-summary.json").write_text("{}")  # not a status: not read
    report = merged_fleet_report(str(tmp_path / "wf-7"), hosts)
    assert [c["name"] for c in report["clusters"]] == hosts
    assert [c["intermediate"]["serial_hex"] for c in report["clusters"]] == ["s-%s" % h for h in hosts]
    assert report["fleet"]["ok"] is True and report["fleet"]["root_consistent"] is True
    assert len(report["saved_statuses"]["files"]) == 4
    assert report["saved_statuses"]["conflicts"] == [] and report["saved_statuses"]["not_reported"] == []
    assert report["source"].startswith("saved: 4 statuses merged, newest per cluster")
    assert report["clusters"][0]["saved_from"]["file"].endswith(".json")


def test_newest_per_cluster_wins_and_the_conflict_is_shown(tmp_path):
    old = save(tmp_path / "a" / "fleet-status-old.json", entry("c1", "0001", "2030-01-01T00:00:00Z"),
               entry("c2", "0002", "2030-01-01T00:00:00Z"))
    new = save(tmp_path / "b" / "fleet-status-new.json", entry("c1", "0101", "2030-01-02T00:00:00Z"))
    for given in ([str(new), str(old)], "%s,%s" % (old, new)):  # order given does not decide; checked_at does
        report = merged_fleet_report(given, ["c1", "c2"])
        by_name = {c["name"]: c for c in report["clusters"]}
        assert by_name["c1"]["intermediate"]["serial_hex"] == "0101" and by_name["c2"]["intermediate"]["serial_hex"] == "0002"
        [conflict] = report["saved_statuses"]["conflicts"]
        assert conflict["cluster"] == "c1" and conflict["kept"]["serial_hex"] == "0101"
        assert [s["serial_hex"] for s in conflict["superseded"]] == ["0001"]
        assert "conflicting statuses of c1" in report["source"]
    # The same state saved twice is no conflict.
    same = save(tmp_path / "c" / "fleet-status-same.json", entry("c2", "0002", "2030-01-03T00:00:00Z"))
    assert merged_fleet_report([str(old), str(same)], ["c2"])["saved_statuses"]["conflicts"] == []


def test_a_cluster_no_slice_reported_is_named_and_the_fleet_is_not_ok(tmp_path):
    saved = save(tmp_path / "fleet-status-x.json", entry("c1", "0001", "2030-01-01T00:00:00Z"))
    report = merged_fleet_report(str(saved), ["c1", "c2"])
    assert report["saved_statuses"]["not_reported"] == ["c2"]
    missing = report["clusters"][1]
    assert missing["reachable"] is None and "no saved status for this cluster in %s" % saved in missing["problems"][0]
    assert report["fleet"]["ok"] is False and report["source"] == "saved: %s" % saved


def test_bad_report_from_fails_naming_the_path(tmp_path):
    with pytest.raises(AnsibleFilterError, match="does not exist"):
        saved_status_paths(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(AnsibleFilterError, match="holds no fleet-status"):
        saved_status_paths(str(tmp_path / "empty"))
    bogus = tmp_path / "bogus.json"
    bogus.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(AnsibleFilterError, match="is not a fleet status document of schema_version 1"):
        merged_fleet_report(str(bogus), ["c1"])
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(AnsibleFilterError, match="cannot read .*broken.json as JSON"):
        merged_fleet_report(str(tmp_path / "broken.json"), ["c1"])
    with pytest.raises(AnsibleFilterError, match="names no file"):
        saved_status_paths(" , ")
