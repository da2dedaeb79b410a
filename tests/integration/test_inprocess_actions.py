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


def _play(pem):
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
        playbook.write_text(yaml.safe_dump(_play(inter.pem), sort_keys=False))
        runs = {}
        for mode, switch in (("in_process", "1"), ("module", "0")):
            runs[mode] = run_playbook(playbook, inventory=fleet.inventory, extra_args=["-vvv"],
                                      env={"MESHPKI_IN_PROCESS": switch})
        yield {"runs": runs, "inter": inter}
    finally:
        fleet.stop()


def test_both_paths_run_every_task(world):
    for res in world["runs"].values():
        assert res.rc == 0, res.explain()
        assert res.stats["cluster-1"]["changed"] == 2  # the check-mode Certificate would be created (twice)
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
