"""Unit tests of the backup decisions the roles reach through filters (plugin_utils/rotation/backups.py):
one name, one "newest", one retention rule for the in-cluster and the controller copies."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.filter.backups import backup_name, newest_backup
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.backups import backup_vault_file, vault_backup_problems


def secret(name, created, of="cacerts"):
    return {"metadata": {"name": name, "creationTimestamp": created, "labels": {"meshpki.istio_ca/backup-of": of}}}


def test_the_controller_copy_is_named_as_the_cluster_copy(tmp_path):
    path = backup_vault_file(str(tmp_path / "b" / ".." / "b"), "c1", "cacerts", 3, "5f1c2a9be03d7788")
    assert path == str(tmp_path / "b" / "c1" / (backup_name("cacerts", 3, "5f1c2a9be03d7788") + ".yml.vault"))
    assert path.endswith("/c1/cacerts-backup-r3-5f1c2a9be03d.yml.vault")
    with pytest.raises(AnsibleFilterError):
        backup_vault_file(str(tmp_path), "c1", "cacerts", 3, None)


def test_newest_backup_is_by_creation_time_then_name():
    secrets = [secret("b-old", "2030-01-01T00:00:00Z"), secret("b-z", "2030-01-03T00:00:00Z"),
               secret("b-a", "2030-01-03T00:00:00Z"), secret("other", "2030-02-01T00:00:00Z", of="x"),
               {"metadata": {"name": "unlabelled", "creationTimestamp": "2031-01-01T00:00:00Z"}}]
    assert newest_backup(secrets, "cacerts") == "b-z"
    assert newest_backup([], "cacerts") == ""


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
