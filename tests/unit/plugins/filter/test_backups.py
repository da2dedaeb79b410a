"""The backup filters: the name the certificate module gives a backup, and which backup is the newest."""

from __future__ import annotations

import base64

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.filter.backups import FilterModule
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import backup as cb
from unit.fake_api import FakeApi
from unit.x509_factory import mesh

FILTERS = FilterModule().filters()
SECRETS = "/api/v1/namespaces/istio-system/secrets"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def backup(name, created, of="cacerts"):
    return {"metadata": {"name": name, "creationTimestamp": created, "labels": {cb.BACKUP_LABEL: of}},
            "data": {"tls.key": "c2VjcmV0"}}


def test_backup_name_is_the_name_the_certificate_module_writes():
    root, inter = mesh()
    source = {"metadata": {"name": "cacerts"}, "type": "kubernetes.io/tls",
              "data": {"tls.crt": b64(inter.pem), "tls.key": b64(inter.key_pem()), "ca.crt": b64(root.pem)}}
    written = []

    def stored(body, query):
        written.append(body)
        return body

    client = FakeApi().on("POST", SECRETS, stored)
    client.on("GET", SECRETS + "/" + cb.backup_name("cacerts", 4, "%x" % inter.cert.serial_number),
              lambda body, query: written[0])
    made, _note = cb.take(client, "istio-system", "cacerts", 4, source)
    assert made["name"] == FILTERS["backup_name"]("cacerts", 4, "%x" % inter.cert.serial_number)
    assert made["name"] == "cacerts-backup-r4-" + ("%x" % inter.cert.serial_number)[:12]


@pytest.mark.parametrize("revision, serial, name", [
    (3, "5e2f0c1a9b4d77aa01", "cacerts-backup-r3-5e2f0c1a9b4d"),
    (None, "abc", "cacerts-backup-r0-abc"),
    ("", "ABCDEF", "cacerts-backup-r0-abcdef"),
    ("7", "1", "cacerts-backup-r7-1"),
])
def test_backup_name(revision, serial, name):
    assert FILTERS["backup_name"]("cacerts", revision, serial) == name


@pytest.mark.parametrize("revision, serial, message", [(1, "", "needs the serial"), ("x", "ab", "backup_name")])
def test_backup_name_refuses_what_cannot_name_a_backup(revision, serial, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["backup_name"]("cacerts", revision, serial)


def test_newest_backup_by_creation_time_then_name_whatever_the_list_order():
    listed = [backup("cacerts-backup-r2-bb", "2026-01-02T00:00:00Z"), backup("cacerts-backup-r3-cc", "2026-01-03T00:00:00Z"),
              backup("cacerts-backup-r9-zz", "2026-01-09T00:00:00Z", of="other"), backup("cacerts-backup-r1-aa", "2026-01-01T00:00:00Z"),
              {"metadata": {"name": "cacerts", "creationTimestamp": "2027-01-01T00:00:00Z"}}]
    newest = FILTERS["newest_backup"]
    assert newest(listed, "cacerts") == "cacerts-backup-r3-cc"
    assert newest(list(reversed(listed)), "cacerts") == "cacerts-backup-r3-cc"
    assert newest({"resources": listed}, "cacerts") == "cacerts-backup-r3-cc"  # the registered k8s_info result
    same_second = [backup("b", "2026-01-01T00:00:00Z"), backup("c", "2026-01-01T00:00:00Z"), backup("a", "2026-01-01T00:00:00Z")]
    assert newest(same_second, "cacerts") == "c"
    assert newest([], "cacerts") == "" and newest(listed, "nothing") == ""


def test_the_newest_backup_is_the_one_pruning_keeps_last():
    listed = [backup("b%d" % day, "2026-01-0%dT00:00:00Z" % day) for day in (3, 1, 2)]
    assert cb.backups_to_prune(listed, "cacerts", keep=1) == ["b2", "b1"]
    assert FILTERS["newest_backup"](listed, "cacerts") == "b3"


def test_newest_backup_bad_input():
    with pytest.raises(AnsibleFilterError, match="as kubernetes.core.k8s_info lists them"):
        FILTERS["newest_backup"]("cacerts", "cacerts")


def test_backup_files_to_prune_keeps_the_newest_by_mtime_counting_the_new_one():
    found = {"files": [{"path": "/b/c1/r1.yml.vault", "mtime": 100.0}, {"path": "/b/c1/r3.yml.vault", "mtime": 300.0},
                       {"path": "/b/c1/r2.yml.vault", "mtime": 200.0}, {"path": "/b/c1/r4.yml.vault", "mtime": 400.0}]}
    prune = FILTERS["backup_files_to_prune"]
    assert prune(found, keep=2, new="/b/c1/r4.yml.vault") == ["/b/c1/r2.yml.vault", "/b/c1/r1.yml.vault"]
    assert prune(found["files"], keep=3) == ["/b/c1/r1.yml.vault"]
    assert prune(found, keep=0) == []
    with pytest.raises(AnsibleFilterError, match="as ansible.builtin.find lists them"):
        prune([{"mtime": 1}])
