"""The in-process action plugins against kubesim: same results as the module path, without module processes.

One playbook calls each of our modules (connection options from module_defaults for
group/meshpki.istio_ca.k8s, check mode, diff, a validation failure, an alias warning, a no_log
option) and runs twice on the same unchanged cluster: in the worker (default on the local
connection) and with MESHPKI_IN_PROCESS=0 (the AnsiballZ module path). Registered results must be
identical apart from fields that depend on the clock.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers_ansible import run_playbook  # noqa: E402

from kubesim import Fleet  # noqa: E402
from unit.x509_factory import mesh  # noqa: E402

pytestmark = pytest.mark.slow

CLOCK_FIELDS = {"seconds_remaining", "since", "checked_at", "elapsed", "elapsed_seconds", "waited"}


def _secret(name, data):
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": "istio-system"},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


SPEC = {"secretName": "mesh-ca", "isCA": True, "commonName": "mesh-ca", "duration": "720h",
        "privateKey": {"algorithm": "ECDSA", "size": 256},
        "issuerRef": {"name": "selfsigned", "kind": "ClusterIssuer", "group": "cert-manager.io"}}


def _play(pem, journal="journal.jsonl"):
    return [{
        "name": "Our modules, in-process or not",
        "hosts": "clusters",
        "gather_facts": False,
        "module_defaults": {"group/meshpki.istio_ca.k8s": {
            "kubeconfig": "{{ k8s_kubeconfig }}", "context": "{{ k8s_context }}"}},
        "tasks": [
            {"name": "cert check diff", "register": "r", "check_mode": True, "diff": True,
             "meshpki.istio_ca.certificate": {"name": "mesh-ca", "namespace": "istio-system", "spec": SPEC}},
            {"name": "cert alias warning", "register": "r", "check_mode": True,
             "meshpki.istio_ca.certificate": {"name": "mesh-ca", "namespace": "istio-system", "spec": SPEC,
                                              "validate_certs": False, "verify_ssl": False}},
            {"name": "cert required_if", "register": "r", "ignore_errors": True,
             "meshpki.istio_ca.certificate": {"name": "mesh-ca", "namespace": "istio-system"}},
            {"name": "inspect secret", "register": "r",
             "meshpki.istio_ca.x509_inspect": {"secret": {"name": "cacerts"}, "istio_signing_ca": True,
                                               "min_remaining": "360h"}},
            {"name": "inspect content", "register": "r", "check_mode": True,
             "meshpki.istio_ca.x509_inspect": {"content": pem}},
            {"name": "inspect exclusive", "register": "r", "ignore_errors": True,
             "meshpki.istio_ca.x509_inspect": {"content": "not-a-cert", "path": "/nonexistent"}},
            {"name": "inspect unsupported", "register": "r", "ignore_errors": True,
             "meshpki.istio_ca.x509_inspect": {"path": "/nonexistent", "bogus": 1}},
            {"name": "inspect missing secret", "register": "r", "ignore_errors": True,
             "meshpki.istio_ca.x509_inspect": {"secret": {"name": "cacerts", "namespace": "nowhere"}}},
            {"name": "reload check", "register": "r", "delegate_to": "localhost",
             "meshpki.istio_ca.istiod_reload_check": {"timeout": 0, "fail_on_not_reloaded": False}},
            # The composite read of the preflight and report.yml: every part as its own task returns it.
            {"name": "ca state", "register": "r",
             "meshpki.istio_ca.ca_state": {"certificate_name": "mesh-ca", "spec": {"duration": "1440h"},
                                           "reload_timeout": 0, "record_name": "meshpki-istio-ca-rotation",
                                           "istiod_deployments": True}},
            {"name": "record step", "register": "r",
             "meshpki.istio_ca.rotation_record": {"entry": {"run": "r1", "cluster": "cluster-1", "step": "started"},
                                                  "journal": journal}},
            {"name": "ca state after the record", "register": "r",
             "meshpki.istio_ca.ca_state": {"certificate_name": "mesh-ca", "reload_check": False,
                                           "record_name": "meshpki-istio-ca-rotation"}},
        ],
    }]


TASKS = [t["name"] for t in _play("")[0]["tasks"]]


def _normalised(value):
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items() if k not in CLOCK_FIELDS}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    return value


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root, inter = mesh("ec256")
    fleet = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-inproc"), preinstall=("cert-manager",))
    fleet.start()
    try:
        cluster = fleet["cluster-1"]
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}})
        cluster.create(_secret("cacerts", {"tls.crt": inter.pem, "tls.key": inter.key_pem("traditional"),
                                           "ca.crt": root.pem}))
        cluster.create({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
                        "metadata": {"name": "selfsigned"}, "spec": {"selfSigned": {}}})
        playbook = tmp_path_factory.mktemp("inproc-play") / "play.yml"
        journal = playbook.parent / "journal" / "r1.jsonl"
        playbook.write_text(yaml.safe_dump(_play(inter.pem, str(journal)), sort_keys=False))
        runs = {}
        for mode, switch in (("in_process", "1"), ("module", "0")):
            runs[mode] = run_playbook(playbook, inventory=fleet.inventory, extra_args=["-vvv"],
                                      env={"MESHPKI_IN_PROCESS": switch})
        yield {"runs": runs, "inter": inter, "journal": journal}
    finally:
        fleet.stop()


def test_both_paths_run_every_task(world):
    for res in world["runs"].values():
        assert res.rc == 0, res.explain()
        # the check-mode Certificate would be created (twice); the record step is written
        assert res.stats["cluster-1"]["changed"] == 3
        assert res.stats["cluster-1"]["ignored"] == 4


def test_only_the_module_path_starts_module_processes(world):
    # -vvv shows each module process the connection starts ("EXEC ... python"); in-process there is none.
    module_out = world["runs"]["module"].stdout + world["runs"]["module"].stderr
    inproc_out = world["runs"]["in_process"].stdout + world["runs"]["in_process"].stderr
    assert module_out.count("EXEC ") >= len(TASKS)
    assert "EXEC " not in inproc_out


@pytest.mark.parametrize("task", TASKS)
def test_results_identical(world, task):
    inproc = world["runs"]["in_process"].task_results(task)["cluster-1"]
    module = world["runs"]["module"].task_results(task)["cluster-1"]
    if task == "ca state":  # the module run reads the record the in-process run wrote (checked below)
        inproc, module = ({k: v for k, v in r.items() if k != "record"} for r in (inproc, module))
    assert _normalised(inproc) == _normalised(module)


def test_the_results_are_what_the_module_documents(world):
    res = world["runs"]["in_process"]
    diffed = res.task_results("cert check diff")["cluster-1"]
    assert diffed["changed"] is True and diffed["diff"]
    assert any("verify_ssl" in str(w) for w in res.task_results("cert alias warning")["cluster-1"]["warnings"])
    assert res.task_results("cert required_if")["cluster-1"]["msg"] == "state is present but all of the following are missing: spec"
    assert res.task_results("inspect secret")["cluster-1"]["istio_ready"] is True
    assert "mutually exclusive" in res.task_results("inspect exclusive")["cluster-1"]["msg"]
    assert res.task_results("inspect unsupported")["cluster-1"]["msg"].startswith(
        "Unsupported parameters for (meshpki.istio_ca.x509_inspect) module: bogus.")
    assert res.task_results("inspect missing secret")["cluster-1"]["msg"] == "Secret nowhere/cacerts not found"
    assert res.task_results("reload check")["cluster-1"]["reloaded"] is False
    for run in world["runs"].values():
        assert "PRIVATE KEY" not in run.stdout + run.stderr


def test_ca_state_reads_every_part_in_one_task(world):
    state = world["runs"]["in_process"].task_results("ca state")["cluster-1"]
    assert state["changed"] is False and "failed" not in state
    # The Certificate does not exist: the check-mode certificate call says so, it does not fail the task.
    assert state["certificate"]["exists"] is False
    assert state["inspect"]["istio_ready"] is True
    assert state["reload"]["reloaded"] is False  # no istiod in this cluster
    assert state["record"]["resources"] == [] and state["istiod"]["resources"] == []  # no record, no istiod yet
    assert "invocation" not in state["inspect"]


def test_rotation_record_writes_the_journal_and_the_cluster(world):
    lines = world["journal"].read_text().splitlines()
    assert lines == ['{"cluster": "cluster-1", "run": "r1", "step": "started"}'] * 2  # once per run
    for res in world["runs"].values():
        after = res.task_results("ca state after the record")["cluster-1"]
        assert after["record"]["resources"][0]["data"] == {"cluster": "cluster-1", "run": "r1", "step": "started"}
        assert after["reload"]["skipped"] is True
