"""A failed preflight changes nothing anywhere and says which cluster and why.

Bad rotation requests (cert-manager's own rules, Go durations, the workload-TTL margin, a backup
that cannot be encrypted) on a healthy fleet, and broken fleets (a cluster without cacerts, one
down, one with another root, a rejected token, no RBAC on Secrets, a cert-manager-made root that
would rotate its key, an istiod that cannot hot-reload). After each: every cluster still has its
valid cacerts, nothing was written to any cluster, no backup was made.
"""

from __future__ import annotations

import json
import time

import pytest

from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_fleet_factory, kubesim_module_fleet_factory  # noqa: F401  pylint: disable=unused-import
import rotation_fleet as rf

pytestmark = pytest.mark.slow

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _writes(fleet, since):
    """API writes since ``since`` on every cluster, except server-side dry runs (the preflight's validation)."""
    out = {}
    for c in fleet.clusters:
        found = [f"{r['method']} {r['path']}" for r in c.requests if r["time"] >= since
                 and r["method"] in WRITES and "dryRun=All" not in (r["query"] or "")]
        if found:
            out[c.name] = found
    return out


def _preflight_failures(res):
    """{cluster: message} of the preflight's final check."""
    return rf.failures(res, "Stop unless every preflight check passed on every cluster of the play")


def _rotate(fleet, tmp_path, **extra):
    extra_vars = {"report_dir": str(tmp_path), "ca_rotation_reload_timeout": 30, "ca_rotation_api_retries": 2,
                  "ca_rotation_api_retry_delay": 1}
    extra_vars.update(extra)
    return run_playbook("playbooks/rotate.yml", inventory=fleet.inventory, extra_vars=extra_vars,
                        extra_args=["-f", str(max(5, len(fleet.names)))])


def _assert_untouched(fleet, before, since, clusters=None):
    assert _writes(fleet, since) == {}
    for name in clusters or fleet.names:
        st = rf.cluster_state(fleet, name)
        assert (st["serial"], st["revision"]) == (before[name]["serial"], before[name]["revision"]), name
        assert rf.backups(fleet, name) == [], name


@pytest.fixture(scope="module")
def healthy(kubesim_module_fleet_factory):  # noqa: F811
    fleet = kubesim_module_fleet_factory(n_clusters=2, preinstall=("cert-manager",), propagation_delay=0.2)
    fleet.root = rf.make_root()
    rf.setup_ca(fleet, fleet.root)
    return fleet


BAD_REQUESTS = [
    pytest.param({"ca_rotation_duration": "720h", "ca_rotation_renew_before": "720h"},
                 ["spec.renewBefore", "must be greater than renewBefore"], id="renewBefore-equals-duration"),
    pytest.param({"ca_rotation_duration": "720h", "ca_rotation_renew_before": "1000h"},
                 ["must be greater than renewBefore"], id="renewBefore-longer-than-duration"),
    pytest.param({"ca_rotation_duration": "30d"}, ['unknown unit "d"'], id="30d"),
    pytest.param({"ca_rotation_renew_before": "1h"},
                 ["shorter than the workload-certificate TTL", "at least 48h"], id="ttl-margin"),
    pytest.param({"ca_rotation_force": True, "ca_rotation_backup_mode": "controller"},
                 ["needs ca_rotation_backup_vault_password"], id="vault-backup-without-password"),
]


@pytest.mark.parametrize("request_vars,expected", BAD_REQUESTS)
def test_bad_request_fails_preflight_on_every_cluster(healthy, tmp_path, request_vars, expected):
    before = {n: rf.cluster_state(healthy, n) for n in healthy.names}
    since = time.time()
    res = _rotate(healthy, tmp_path, **request_vars)
    assert res.rc != 0, res.explain()
    failures = _preflight_failures(res)
    assert sorted(failures) == healthy.names, res.explain()
    for name, msg in failures.items():
        assert f"Preflight failed on cluster {name}; nothing was changed" in msg
        for text in expected:
            assert text in msg, msg
    _assert_untouched(healthy, before, since)
    assert not (tmp_path / "rotation-summary.json").exists()


def test_broken_fleet_names_each_cluster_and_cause(kubesim_fleet_factory, tmp_path):  # noqa: F811
    """7 clusters: 1-2 sound (root A), 3 never deployed (no cacerts), 4 down, 5 on another root,
    6 rejects the token (401), 7 forbids reading Secrets (403); plus two inventory hosts whose
    kubeconfig context or file does not exist. Nothing may change on any of them."""
    fleet = kubesim_fleet_factory(n_clusters=7, preinstall=("cert-manager",), propagation_delay=0.2)
    fleet.root = rf.make_root()
    other = rf.make_root("Another Root CA")
    rf.setup_ca(fleet, fleet.root, clusters=[n for n in fleet.names if n != "cluster-3"],
                roots={"cluster-5": other})
    from kubesim.manifests import preinstall
    preinstall(fleet["cluster-3"], ["istio"])  # istiod without cacerts: self-signed, as before a deploy
    before = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    fleet["cluster-4"].faults.down = True
    fleet["cluster-6"].faults.unauthorized = True
    fleet["cluster-7"].faults.fail_next(1000, path="/secrets", code=403,
                                        message='secrets "cacerts" is forbidden: User "ci" cannot get resource "secrets"')
    inventory = fleet.inventory_dict()
    hosts = inventory["all"]["children"]["clusters"]["hosts"]
    hosts["ghost-context"] = dict(hosts["cluster-1"], k8s_context="no-such-context")
    hosts["ghost-file"] = dict(hosts["cluster-1"], k8s_kubeconfig=str(tmp_path / "no-such-kubeconfig"))
    (tmp_path / "inventory.yml").write_text(json.dumps(inventory))
    since = time.time()
    try:
        res = run_playbook("playbooks/rotate.yml", inventory=tmp_path / "inventory.yml", extra_args=["-f", "9"],
                           extra_vars={"report_dir": str(tmp_path), "ca_rotation_duration": "720h",
                                       "ca_rotation_api_retries": 2, "ca_rotation_api_retry_delay": 1})
    finally:
        for c in fleet.clusters:
            c.faults.reset()
    assert res.rc != 0
    failures = _preflight_failures(res)
    assert sorted(failures) == ["cluster-3", "cluster-4", "cluster-5", "cluster-6", "cluster-7",
                                "ghost-context", "ghost-file"], res.explain()
    assert "no-such-context" in failures["ghost-context"]
    assert "no-such-kubeconfig" in failures["ghost-file"]
    assert "there is no Certificate istio-system/cacerts" in failures["cluster-3"]
    assert "cacerts does not exist in istio-system" in failures["cluster-3"]  # the true finding before a deploy
    assert "could not read the cluster" in failures["cluster-4"] and "onnect" in failures["cluster-4"]
    assert f"its root {other.fingerprint[:23]}... differs from the root of cluster-1, cluster-2 (" in failures["cluster-5"]
    assert "401" in failures["cluster-6"] or "Unauthorized" in failures["cluster-6"]
    assert "403" in failures["cluster-7"] or "forbidden" in failures["cluster-7"].lower()
    # any_errors_fatal: the sound clusters passed their own checks and were not touched either.
    _assert_untouched(fleet, before, since)
    for name in ("cluster-1", "cluster-2", "cluster-5"):
        st = rf.cluster_state(fleet, name)
        assert st["valid"] and st["istiod_serial"] == st["serial"], name


def test_cert_manager_root_that_would_rotate_its_key_is_refused(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("cert-manager",), propagation_delay=0.2)
    rf.setup_ca(fleet, rf.make_root(), root_rotation_policy="Always")
    before = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    since = time.time()
    res = _rotate(fleet, tmp_path, ca_rotation_force=True)
    assert res.rc != 0
    msg = _preflight_failures(res)["cluster-1"]
    assert "cert-manager/meshpki-istio-root-ca (self-signed) with privateKey.rotationPolicy Always" in msg
    _assert_untouched(fleet, before, since)


def test_istiod_without_hot_reload(kubesim_fleet_factory, tmp_path):  # noqa: F811
    """Istio 1.16 without AUTO_RELOAD_PLUGIN_CERTS: the preflight refuses with the cause; when the
    user overrides that, the rotation happens and the reload check fails with the cause (not silently)."""
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("cert-manager",), propagation_delay=0.2)
    fleet.root = rf.make_root()
    rf.setup_ca(fleet, fleet.root, istio_version="1.16.7")
    before = rf.cluster_state(fleet, "cluster-1")
    since = time.time()
    res = _rotate(fleet, tmp_path, ca_rotation_force=True)
    assert res.rc != 0
    msg = _preflight_failures(res)["cluster-1"]
    assert "istiod 1.16.7 does not hot-reload cacerts" in msg and "AUTO_RELOAD_PLUGIN_CERTS" in msg
    _assert_untouched(fleet, {"cluster-1": before}, since)

    res = _rotate(fleet, tmp_path, ca_rotation_force=True, ca_rotation_require_hot_reload=False,
                  ca_rotation_reload_timeout=10)
    assert res.rc != 0
    msg = rf.failures(res, "Fail this cluster with the cause")["cluster-1"]
    assert 'step "Prove istiod signs with the new intermediate"' in msg
    assert "AUTO_RELOAD_PLUGIN_CERTS" in msg
    after = rf.cluster_state(fleet, "cluster-1")
    # cacerts holds a valid new intermediate under the same root; istiod keeps signing with the old,
    # still valid one until it is restarted: degraded, never broken.
    assert after["valid"] and after["root"] == fleet.root.fingerprint and after["serial"] != before["serial"]
    assert after["istiod_serial"] == before["serial"]
    assert len(rf.backups(fleet, "cluster-1")) == 1
