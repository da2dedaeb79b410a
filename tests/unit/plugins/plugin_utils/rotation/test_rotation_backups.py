"""Unit tests of the backup decisions the roles reach through filters (plugin_utils/rotation/backups.py):
one name, one "newest", one retention rule for the in-cluster and the controller copies."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.backup import backup_name as module_name
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.backups import (
    backup_name, backup_vault_file, controller_backups_to_prune, newest_backup, vault_backup_problems)


def secret(name, created, of="cacerts"):
    return {"metadata": {"name": name, "creationTimestamp": created, "labels": {"meshpki.istio_ca/backup-of": of}}}


def test_one_name_for_both_copies(tmp_path):
    assert backup_name("cacerts", 3, "5f1c2a9be03d7788") == module_name("cacerts", 3, "5f1c2a9be03d7788") == \
        "cacerts-backup-r3-5f1c2a9be03d"
    assert backup_name("cacerts", None, "ab") == "cacerts-backup-r0-ab"
    path = backup_vault_file(str(tmp_path / "b" / ".." / "b"), "c1", "cacerts", 3, "5f1c2a9be03d7788")
    assert path == str(tmp_path / "b" / "c1" / "cacerts-backup-r3-5f1c2a9be03d.yml.vault")
    with pytest.raises(AnsibleFilterError):
        backup_name("cacerts", 3, None)


def test_newest_backup_is_by_creation_time_then_name():
    secrets = [secret("b-old", "2030-01-01T00:00:00Z"), secret("b-z", "2030-01-03T00:00:00Z"),
               secret("b-a", "2030-01-03T00:00:00Z"), secret("other", "2030-02-01T00:00:00Z", of="x"),
               {"metadata": {"name": "unlabelled", "creationTimestamp": "2031-01-01T00:00:00Z"}}]
    assert newest_backup(secrets, "cacerts") == "b-z"
    assert newest_backup([], "cacerts") == ""


def test_controller_copies_pruned_like_the_cluster_ones():
    files = [{"path": "/d/r1.yml.vault", "mtime": 100.0}, {"path": "/d/r2.yml.vault", "mtime": 200.0},
             {"path": "/d/r3.yml.vault", "mtime": 300.0}, {"path": "/d/r4.yml.vault", "mtime": 400.0}]
    assert controller_backups_to_prune(files, keep=2, new="/d/r4.yml.vault") == ["/d/r2.yml.vault", "/d/r1.yml.vault"]
    assert controller_backups_to_prune(files, keep=0, new="/d/r4.yml.vault") == []
    assert controller_backups_to_prune(files, keep="5") == []


def test_vault_copy_of_another_cluster_is_refused():
    doc = {"kind": "meshpki.istio_ca/cacerts-backup", "cluster": "c2", "data": {"tls.crt": "x"}}
    assert vault_backup_problems(doc, "c2") == []
    assert "a backup of c2, not of c1; set restore_any_cluster=true" in vault_backup_problems(doc, "c1")[0]
    assert vault_backup_problems(doc, "c1", any_cluster=True) == []
    assert "not a cacerts backup" in vault_backup_problems({"kind": "x"}, "c1")[0]


def test_backup_source_needs_a_key():
    from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.backups import backup_source_problems
    assert backup_source_problems({"data": {"tls.crt": "x", "tls.key": "y"}}, "ns", "cacerts") == []
    assert backup_source_problems({"data": {"ca-cert.pem": "x", "ca-key.pem": "y"}}, "ns", "cacerts") == []
    assert backup_source_problems({}, "ns", "cacerts") == ["ns/cacerts is missing or has no key since the preflight; "
                                                           "nothing was changed"]
    assert backup_source_problems({"data": {"tls.crt": "x"}}, "ns", "cacerts") != []
