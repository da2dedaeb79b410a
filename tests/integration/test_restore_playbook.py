"""playbooks/restore.yml round trip: rotate two clusters with both backup kinds, then restore one
from its in-cluster backup Secret and the other from its ansible-vault file on the controller.

Also shown here: why restore.yml detaches the cert-manager Certificate. Writing the old key and
certificate into cacerts while the Certificate still owns it makes cert-manager issue a new one at
once (the key does not match its current CertificateRequest; docs/upstream/cert-manager.md#reissue-triggers).
"""

from __future__ import annotations

import json
import time
import os
import stat

import pytest

from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import
import rotation_fleet as rf

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"


def test_restore_round_trip(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=2, preinstall=("cert-manager",), propagation_delay=0.2)
    fleet.root = rf.make_root()
    rf.setup_ca(fleet, fleet.root)
    original = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    backup_dir = tmp_path / "backups"
    res = run_playbook("playbooks/rotate.yml", inventory=fleet.inventory, extra_vars={
        "report_dir": str(tmp_path), "ca_rotation_duration": "720h", "ca_rotation_backup_mode": "both",
        "ca_rotation_backup_dir": str(backup_dir), "ca_rotation_backup_vault_password": PASSWORD,
        "rotate_serial": [2], "ca_rotation_reload_timeout": 30})
    assert res.rc == 0, res.explain()
    rotated = rf.assert_fleet_sound(fleet, fleet.root.fingerprint)
    summary = {r["cluster"]: r for r in json.loads((tmp_path / "rotation-summary.json").read_text())["clusters"]}

    # The controller copies are ansible-vault files, 0600 in 0700 directories, with nothing readable inside.
    for name in fleet.names:
        vault_file = summary[name]["backup"]["controller"]
        assert vault_file.startswith(str(backup_dir / name))
        text = open(vault_file).read()
        assert text.startswith("$ANSIBLE_VAULT;1.2;AES256;meshpki_backup")
        assert "PRIVATE KEY" not in text and "CERTIFICATE" not in text
        assert stat.S_IMODE((backup_dir / name).stat().st_mode) == 0o700
        assert stat.S_IMODE(os.stat(vault_file).st_mode) == 0o600

    # Refused while a Certificate owns cacerts and detaching is not allowed: nothing changes.
    res = run_playbook("playbooks/restore.yml", inventory=fleet.inventory, limit="cluster-1",
                       extra_vars={"restore_backup": "latest", "restore_detach_certificate": False})
    assert res.rc != 0
    msg = res.failed_tasks()[0][2]
    assert "Certificate istio-system/cacerts owns cacerts" in msg and "would replace" in msg
    assert rf.cluster_state(fleet, "cluster-1")["serial"] == rotated["cluster-1"]["serial"]

    # What restore.yml avoids: the old key written back under a live Certificate is replaced at once.
    c2 = fleet["cluster-2"]
    old = rf.backups(fleet, "cluster-2")[0]
    live = c2.get("v1", "secrets", "istio-system", "cacerts")
    live["data"] = dict(old["data"])
    c2.update(live)
    rf.wait_for(lambda: rf.cluster_state(fleet, "cluster-2")["revision"] == rotated["cluster-2"]["revision"] + 1,
                timeout=20, what="cert-manager to re-issue over the written-back Secret")
    reissued = rf.cluster_state(fleet, "cluster-2")
    assert reissued["serial"] not in (original["cluster-2"]["serial"], rotated["cluster-2"]["serial"])
    rf.wait_for(lambda: rf.istiod_signing_serial(fleet, "cluster-2") == reissued["serial"], timeout=20,
                what="istiod to follow")

    # One run, per-host choices: cluster-1 from its newest in-cluster backup Secret, cluster-2 from the
    # controller's vault file.
    inventory = fleet.inventory_dict()
    hosts = inventory["all"]["children"]["clusters"]["hosts"]
    hosts["cluster-1"]["restore_backup"] = "latest"
    hosts["cluster-2"].update(restore_vault_file=summary["cluster-2"]["backup"]["controller"],
                              restore_vault_password=PASSWORD)
    (tmp_path / "restore-inventory.yml").write_text(json.dumps(inventory))
    res = run_playbook("playbooks/restore.yml", inventory=tmp_path / "restore-inventory.yml",
                       extra_vars={"restore_reload_timeout": 30, "restore_serial": 2})
    assert res.rc == 0, res.explain()

    time.sleep(1.0)  # would cert-manager fight the restore? give it the chance
    for name in fleet.names:
        st = rf.cluster_state(fleet, name)
        assert st["valid"] and st["serial"] == original[name]["serial"], name
        assert st["istiod_serial"] == original[name]["serial"], name
        assert st["root"] == fleet.root.fingerprint
        assert st["certificate"] is None, f"{name}: the Certificate should be detached"
        sec = fleet[name].get("v1", "secrets", "istio-system", "cacerts")
        detached = json.loads(sec["metadata"]["annotations"]["meshpki.istio_ca/detached-certificate"])
        assert detached["kind"] == "Certificate" and detached["spec"]["duration"] == "720h"
        assert not sec["metadata"].get("ownerReferences")
    assert fleet["cluster-1"].get("v1", "secrets", "istio-system", "cacerts")["metadata"]["annotations"][
        "meshpki.istio_ca/restored-from"] == rf.backups(fleet, "cluster-1")[-1]["metadata"]["name"]
    # The vault restore put its decrypted copy in the cluster as a labelled backup Secret too.
    names = [b["metadata"]["name"] for b in rf.backups(fleet, "cluster-2")]
    assert fleet["cluster-2"].get("v1", "secrets", "istio-system", "cacerts")["metadata"]["annotations"][
        "meshpki.istio_ca/restored-from"] in names
    # And the restored data is byte for byte the backup.
    assert fleet["cluster-1"].get("v1", "secrets", "istio-system", "cacerts")["data"] == \
        rf.backups(fleet, "cluster-1")[-1]["data"]


def test_restore_across_a_root_change(kubesim_fleet_factory, tmp_path):  # noqa: F811
    """cacerts was re-issued under a new root (istiod refuses that at reload); restoring the backup from the
    old root is refused by default and, with restore_allow_root_change, done with an istiod restart."""
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("cert-manager",), propagation_delay=0.2)
    old_root, new_root = rf.make_root("Old Root CA"), rf.make_root("New Root CA")
    rf.setup_ca(fleet, old_root)
    cluster = fleet["cluster-1"]
    original = rf.cluster_state(fleet, "cluster-1")
    live = cluster.get("v1", "secrets", "istio-system", "cacerts")
    cluster.create({"apiVersion": "v1", "kind": "Secret", "type": live["type"], "data": live["data"],
                    "metadata": {"name": "cacerts-backup-manual", "namespace": "istio-system",
                                 "labels": {"meshpki.istio_ca/backup-of": "cacerts"}}})
    # The CA issuer's key pair is replaced by another root and cacerts re-issued under it.
    ca = cluster.get("v1", "secrets", "cert-manager", rf.ROOT_SECRET)
    ca["data"] = {"tls.crt": rf._b64(new_root.cert_pem), "tls.key": rf._b64(new_root.key_pem),
                  "ca.crt": rf._b64(new_root.cert_pem)}
    cluster.update(ca)
    cluster.delete("v1", "secrets", "istio-system", "cacerts")
    rf.wait_for(lambda: rf.cluster_state(fleet, "cluster-1")["root"] == new_root.fingerprint, timeout=20,
                what="cacerts re-issued under the new root")
    assert rf.istiod_signing_serial(fleet, "cluster-1") == original["serial"]  # istiod refused the new root

    res = run_playbook("playbooks/restore.yml", inventory=fleet.inventory,
                       extra_vars={"restore_backup": "cacerts-backup-manual"})
    assert res.rc != 0
    msg = rf.failures(res, "Stop unless the backup is usable and keeps the root")["cluster-1"]
    assert "differs from the current root" in msg and "restore_allow_root_change" in msg
    assert rf.cluster_state(fleet, "cluster-1")["root"] == new_root.fingerprint

    res = run_playbook("playbooks/restore.yml", inventory=fleet.inventory, extra_vars={
        "restore_backup": "cacerts-backup-manual", "restore_allow_root_change": True, "restore_reload_timeout": 60})
    assert res.rc == 0, res.explain()
    st = rf.cluster_state(fleet, "cluster-1")
    assert st["valid"] and st["root"] == old_root.fingerprint and st["serial"] == original["serial"]
    assert st["istiod_serial"] == original["serial"]
    deployment = cluster.get("apps/v1", "deployments", "istio-system", "istiod")
    assert "kubectl.kubernetes.io/restartedAt" in deployment["spec"]["template"]["metadata"].get("annotations", {})
    shown = res.task_results("Record the restore")["cluster-1"]["ansible_facts"]["restore_result"]
    assert shown["istiod_restarted"] is True and shown["serial"] == original["serial"]
