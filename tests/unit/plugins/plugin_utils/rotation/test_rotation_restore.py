"""Unit tests of restore_plan (plugin_utils/rotation/restore.py): the decisions of playbooks/restore.yml."""

from __future__ import annotations

import json

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.restore import restore_plan

ROOT_A = "aa:" * 31 + "aa"
ROOT_B = "bb:" * 31 + "bb"


def inspect(serial, root=ROOT_A, ready=True, key_matches=True):
    return {"certificates": [{"serial_hex": serial, "not_after": "2030-02-01T00:00:00Z"}],
            "chain": {"root_fingerprint_sha256": root, "key_matches": key_matches, "problems": []},
            "istio_ready": ready, "istio_problems": [] if ready else ["tls.crt is not a CA"]}


OWNER = {"metadata": {"name": "cacerts", "labels": {"a": "b"}},
         "spec": {"secretName": "cacerts", "duration": "720h"}}


def test_same_root_detaches_the_owner_and_keeps_its_manifest():
    plan = restore_plan(inspect("01"), current=inspect("02"), certificates=[OWNER, {"spec": {"secretName": "x"}}],
                        backup_name="cacerts-backup-r1-01")
    assert plan["problems"] == [] and plan["root_change"] is False and plan["detach"] is True and plan["owner"] == "cacerts"
    manifest = json.loads(plan["detached_manifest"])
    assert manifest["kind"] == "Certificate" and manifest["spec"]["duration"] == "720h"
    assert (plan["serial"], plan["previous_serial"]) == ("01", "02")


def test_refusals():
    unusable = restore_plan(inspect("01", ready=False), current=inspect("02"), backup_name="b")
    assert "istio-system/b cannot be restored: tls.crt is not a CA" in unusable["problems"][0]
    other_root = restore_plan(inspect("01", root=ROOT_B), current=inspect("02"), backup_name="b")
    assert other_root["root_change"] is True
    assert "differs from the current root" in other_root["problems"][0]
    assert "restore_allow_root_change" in other_root["problems"][0]
    assert restore_plan(inspect("01", root=ROOT_B), current=inspect("02"), allow_root_change=True)["problems"] == []
    kept = restore_plan(inspect("01"), current=inspect("02"), certificates=[OWNER], detach_certificate=False)
    assert "Certificate istio-system/cacerts owns cacerts" in kept["problems"][0] and "would replace" in kept["problems"][0]
    # A missing cacerts (failed read) is no root change.
    assert restore_plan(inspect("01"), current={"failed": True, "msg": "not found"})["root_change"] is False


def test_restore_request_names_exactly_one_backup():
    from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.restore import restore_request_problems
    assert restore_request_problems("latest") == []
    assert restore_request_problems("", "f.vault", True) == []
    assert "exactly one of restore_backup" in restore_request_problems("")[0]
    assert "exactly one of restore_backup" in restore_request_problems("latest", "f.vault", True)[0]
    assert "needs restore_vault_password" in restore_request_problems("", "f.vault", False)[0]
