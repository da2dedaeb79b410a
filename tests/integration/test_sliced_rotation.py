"""rotate.yml run the way AWX runs a job template with job slicing, and report.yml merging what the slices saved.

AWX executes every job with ansible-runner, and a sliced job is one job per slice, each on a share of the
inventory taken by host index: the hosts ordered by name, slice k of n takes ``hosts[k-1::n]`` (AWX
``Inventory.get_script_data``). Here four slices of one rotation run at once through ``ansible_runner``, each
limited to its share, on an 8-cluster simulated fleet, with the variables AWX gives every job (``awx_job_id``,
``awx_workflow_job_id``). Nothing is shared between them but the directory they save their status in.

Then: every cluster rotated (new serial, same root, istiod signing with it), each slice touched only its own
clusters, four saved statuses (none overwrote another), and ``report.yml -e report_from=<that directory>``
(the scheduled report job) merges them into one report of all 8 without contacting a cluster. And a slice of
one cluster whose root is not the fleet's is refused by that slice alone, with the trust root given either way,
while an AWX job given no trust root at all is refused before it changes anything.
"""

from __future__ import annotations

import json
import threading
import time

import ansible_runner
import pytest

from helpers_ansible import REPO, ansible_env, run_playbook
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import
import rotation_fleet as rf

pytestmark = pytest.mark.slow

ROTATE = str(REPO / "playbooks" / "rotate.yml")
TIMEOUTS = {"ca_rotation_reload_timeout": 60, "ca_rotation_issue_timeout": 60}


def awx_slices(hosts, count):
    """AWX's slice inventories: hosts ordered by name, slice k (1-based) of ``count`` is ``hosts[k-1::count]``."""
    ordered = sorted(hosts)
    return [ordered[offset::count] for offset in range(count)]


def run_slice(work, inventory, hosts, extravars, number):
    """One slice job through ansible-runner, as AWX runs it (its own private data dir, a limit, extra vars)."""
    env = ansible_env(json_output=False)
    private = work / ("runner-%d" % number)
    private.mkdir(parents=True, exist_ok=True)
    return ansible_runner.run(private_data_dir=str(private), playbook=ROTATE,
                              inventory=inventory, limit=",".join(hosts), extravars=extravars, envvars=env,
                              quiet=True)


def failure_messages(runner):
    """The ``msg`` of every failed task result of a runner's run, by host."""
    found = {}
    for event in runner.events:
        if event.get("event") == "runner_on_failed":
            data = event.get("event_data") or {}
            found.setdefault(data.get("host"), []).append(str((data.get("res") or {}).get("msg")))
    return found


def hosts_run(runner):
    stats = runner.stats or {}
    return sorted(set().union(*(set((stats.get(k) or {}).keys()) for k in ("ok", "changed", "failures", "skipped"))))


def test_four_slices_rotate_at_once_and_one_report_merges_them(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=8, preinstall=("cert-manager",), propagation_delay=0.5)
    fleet.root = rf.make_root()
    rf.setup_ca(fleet, fleet.root)
    before = {n: rf.cluster_state(fleet, n) for n in fleet.names}
    saved = tmp_path / "rotation-wf-7"
    slices = awx_slices(fleet.names, 4)
    assert slices[0] == ["cluster-1", "cluster-5"]

    runners = [None] * 4

    def launch(k):
        extravars = dict(TIMEOUTS, ca_rotation_duration="720h", report_dir=str(saved),
                         ca_rotation_expected_root_fingerprint=fleet.root.fingerprint.upper(),
                         awx_job_id=100 + k, awx_workflow_job_id=7)
        try:
            runners[k] = run_slice(tmp_path, fleet.inventory, slices[k], extravars, k + 1)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below, with the slice
            runners[k] = exc

    threads = [threading.Thread(target=launch, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for k, runner in enumerate(runners):
        assert not isinstance(runner, Exception), (k, runner)
        assert (runner.status, runner.rc) == ("successful", 0), (k, runner.status, failure_messages(runner))
        assert hosts_run(runner) == slices[k]  # a slice never reaches another slice's clusters
    after = rf.assert_fleet_sound(fleet, fleet.root.fingerprint)
    for name in fleet.names:
        assert after[name]["serial"] != before[name]["serial"], name
        assert after[name]["revision"] == before[name]["revision"] + 1, name
        assert after[name]["certificate"]["spec"]["duration"] == "720h", name

    # Four slices, one directory, four saved statuses: none overwrote another.
    files = sorted(saved.glob("fleet-status-*.json"))
    assert len(files) == 4
    assert sorted(sorted(c["name"] for c in json.loads(p.read_text())["clusters"]) for p in files) == \
        sorted(sorted(s) for s in slices)

    # The scheduled report job: unsliced, the whole inventory, from what the slices saved; no cluster contacted.
    since = time.time()
    res = run_playbook("playbooks/report.yml", inventory=fleet.inventory,
                       extra_vars={"report_from": str(saved), "report_dir": str(tmp_path / "merged")})
    assert res.rc == 0, res.explain()
    assert not [r for c in fleet.clusters for r in c.requests if r["time"] >= since]
    report = json.loads((tmp_path / "merged" / "report.json").read_text())
    assert [c["name"] for c in report["clusters"]] == fleet.names
    for entry in report["clusters"]:
        assert entry["intermediate"]["serial_hex"] == after[entry["name"]]["serial"], entry["name"]
        assert entry["root"]["fingerprint_sha256"] == fleet.root.fingerprint and entry["ok"], entry["problems"]
    assert report["fleet"]["ok"] is True and report["fleet"]["root_consistent"] is True
    assert sorted(report["saved_statuses"]["files"]) == [str(p) for p in files]
    assert report["saved_statuses"]["conflicts"] == [] and report["saved_statuses"]["not_reported"] == []
    assert "4 statuses merged" in (tmp_path / "merged" / "report.md").read_text()


@pytest.mark.parametrize("trust", ["fingerprint", "root_file", "none"])
def test_a_one_cluster_slice_refuses_a_wrong_root_on_its_own(kubesim_fleet_factory, tmp_path, trust):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=2, preinstall=("cert-manager",), propagation_delay=0.2)
    fleet.root = rf.make_root()
    stranger = rf.make_root("Another Root CA")
    rf.setup_ca(fleet, fleet.root, roots={"cluster-2": stranger})
    before = rf.cluster_state(fleet, "cluster-2")
    extravars = dict(TIMEOUTS, ca_rotation_duration="720h", report_dir=str(tmp_path / "out"), awx_job_id=201)
    if trust == "fingerprint":
        extravars["ca_rotation_expected_root_fingerprint"] = fleet.root.fingerprint
    elif trust == "root_file":
        extravars["ca_setup_ca_cert"] = fleet.root.write(tmp_path / "root")["ca_setup_ca_cert"]
    # The slice of cluster-2 alone: in its play it agrees with itself; only the trust root can tell it is wrong.
    runner = run_slice(tmp_path, fleet.inventory, ["cluster-2"], extravars, 1)
    assert runner.status == "failed" and runner.rc != 0
    messages = " ".join(failure_messages(runner).get("cluster-2", []))
    if trust == "none":
        assert "no trust root is known for this run: an AWX job may be one slice of several" in messages, messages
    else:
        assert "is not the expected root %s..." % fleet.root.fingerprint[:23] in messages, messages
        assert ("ca_rotation_expected_root_fingerprint" if trust == "fingerprint" else "ca_setup_ca_cert") in messages
    assert "Preflight failed on cluster cluster-2; nothing was changed" in messages, messages
    now = rf.cluster_state(fleet, "cluster-2")
    assert (now["serial"], now["revision"], now["root"]) == (before["serial"], before["revision"], stranger.fingerprint)
    assert now["certificate"]["spec"]["duration"] == "1440h" and rf.backups(fleet, "cluster-2") == []
