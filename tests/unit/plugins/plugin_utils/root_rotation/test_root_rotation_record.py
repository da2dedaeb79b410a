"""The in-cluster record (plugin_utils/root_rotation/record.py)."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import record


def test_record_history_and_times_follow_the_steps():
    r1 = record.record_data("combined", "applied", "run1", "bb", ["aa"], "2030-01-01T00:00:00Z")
    d1 = record.describe(r1)
    r2 = record.record_data("combined", "verified", "run1", "bb", ["aa"], "2030-01-01T00:00:30Z", previous=d1)
    d2 = record.describe(r2)
    assert d2["applied_at"] == "2030-01-01T00:00:00Z" and d2["verified_at"] == "2030-01-01T00:00:30Z"
    assert d2["started_at"] == "2030-01-01T00:00:00Z" and d2["old_roots"] == ["aa"]
    r3 = record.record_data("new_intermediate", "applied", "run2", "bb", ["aa"], "2030-01-01T00:01:00Z", previous=d2)
    d3 = record.describe(r3)
    assert d3["history"] == ["2030-01-01T00:00:00Z combined applied run1", "2030-01-01T00:00:30Z combined verified run1",
                             "2030-01-01T00:01:00Z new_intermediate applied run2"]
    assert d3["run"] == "run2" and d3["started_at"] == "2030-01-01T00:00:00Z"
    assert all(isinstance(v, str) for v in r3.values())
    cm = record.configmap(r3)
    assert cm["metadata"]["name"] == "meshpki-root-rotation" and cm["data"] == r3
    assert record.from_k8s_info({"resources": [cm]}) == d3 and record.from_k8s_info({"resources": []}) is None


def test_a_finished_rotation_does_not_leak_into_the_next_one():
    done = record.describe(record.record_data("new_only", "verified", "r1", "bb", ["aa"], "2030-01-01T00:00:00Z"))
    nxt = record.describe(record.record_data("combined", "applied", "r2", "cc", ["bb"], "2031-01-01T00:00:00Z",
                                             previous=done))
    assert nxt["started_at"] == "2031-01-01T00:00:00Z" and len(nxt["history"]) == 1


@pytest.mark.parametrize("args", [("none", "applied"), ("combined", "done"), ("step9", "applied")])
def test_bad_records_are_refused(args):
    with pytest.raises(record.RecordError):
        record.record_data(args[0], args[1], "r", "bb", [], "2030-01-01T00:00:00Z")
