"""Unit tests of the rotation record (plugin_utils/rotation/journal.py) and its place in the status entry."""

from __future__ import annotations

import datetime
import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.filter.cluster_status import cluster_status
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.journal import (
    rotation_previous_run, rotation_record, rotation_record_configmap, rotation_run_id)

PLAN = {"old_serial": "aa11", "revision": 3, "run": "r1"}


def test_run_id_is_the_start_time_and_differs_between_runs():
    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    first, second = rotation_run_id(when), rotation_run_id(when)
    assert re.fullmatch(r"20300102T030405Z-[0-9a-f]{4}", first)
    assert first != second or rotation_run_id(when) != first  # 4 random hex digits


def test_record_is_strings_without_key_material_and_lands_in_a_configmap():
    rec = rotation_record("applied", PLAN, "r1", "c1", new_serial="bb22", revision=4,
                          started_at="2030-01-01T00:00:00Z", at="2030-01-01T00:00:09Z")
    assert rec == {"run": "r1", "cluster": "c1", "step": "applied", "at": "2030-01-01T00:00:09Z",
                   "started_at": "2030-01-01T00:00:00Z", "old_serial": "aa11", "new_serial": "bb22", "revision": "4",
                   "error": "", "verified_by": "", "verified_at": ""}
    cm = rotation_record_configmap(rec, "istio-system")
    assert cm["kind"] == "ConfigMap" and cm["metadata"] == {
        "name": "meshpki-istio-ca-rotation", "namespace": "istio-system",
        "labels": {"app.kubernetes.io/managed-by": "meshpki.istio_ca"}}
    assert cm["data"] == rec
    with pytest.raises(AnsibleFilterError, match="unknown step"):
        rotation_record("halfway", PLAN, "r1", "c1")


def test_previous_run_finished_or_not():
    assert rotation_previous_run({"resources": []}) is None
    assert rotation_previous_run({"failed": True, "msg": "forbidden"}) is None
    left = rotation_record("applied", PLAN, "r1", "c1", new_serial="bb22")
    found = rotation_previous_run({"resources": [{"data": left}]})
    assert found["step"] == "applied" and found["finished"] is False and found["acknowledged"] is False
    assert found["error"] is None  # empty strings read back as unknown
    # The next run acknowledges it: the same rotation, marked verified by that run.
    acked = rotation_record("verified", PLAN, "r2", "c1", previous=found)
    assert (acked["run"], acked["step"], acked["verified_by"], acked["new_serial"], acked["at"]) == \
        ("r1", "verified", "r2", "bb22", left["at"])
    again = rotation_previous_run({"resources": [{"data": acked}]})
    assert again["finished"] is True and again["acknowledged"] is True


def test_status_entry_carries_the_last_rotation_with_a_note():
    left = rotation_record("applied", PLAN, "r1", "c1", new_serial="bb22", at="2030-01-01T00:00:09Z")
    entry = cluster_status("c1", errors=["x: connection refused"], rotation=left)
    assert entry["last_rotation"]["run"] == "r1"
    assert entry["last_rotation"]["note"] == ("rotated at 2030-01-01T00:00:09Z by run r1 that did not finish "
                                              "(serial aa11 -> bb22); NOT verified now: see the problems")
    assert cluster_status("c1", errors=["x"])["last_rotation"] is None
    done = rotation_record("verified", PLAN, "r1", "c1", new_serial="bb22")
    assert cluster_status("c1", errors=["x"], rotation=done)["last_rotation"]["note"] is None
