"""Controller CPU per module task, in-process action plugin vs the AnsiballZ module path.

Usage: .venv/bin/python bench/inprocess_cost.py [TASKS_PER_MODULE]   (default 10)

One kubesim cluster (cert-manager preinstalled, a cacerts Secret); one playbook with TASKS_PER_MODULE
tasks of each of x509_inspect (the Secret), certificate (check mode) and istiod_reload_check (timeout 0),
run with MESHPKI_IN_PROCESS=1 and =0, plus the same playbook with zero tasks for the fixed start-up
cost. CPU = RUSAGE_CHILDREN delta (user + system) around each ansible-playbook run.
"""

from __future__ import annotations

import base64
import json
import resource
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "integration"))

import yaml  # noqa: E402
from helpers_ansible import run_playbook  # noqa: E402
from kubesim import Fleet  # noqa: E402
from unit.x509_factory import mesh  # noqa: E402

SPEC = {"secretName": "mesh-ca", "isCA": True, "commonName": "mesh-ca", "duration": "720h",
        "issuerRef": {"name": "selfsigned", "kind": "ClusterIssuer", "group": "cert-manager.io"}}
KINDS = {
    "x509_inspect": {"meshpki.istio_ca.x509_inspect": {"secret": {"name": "cacerts"}, "istio_signing_ca": True}},
    "certificate": {"check_mode": True,
                    "meshpki.istio_ca.certificate": {"name": "mesh-ca", "namespace": "istio-system", "spec": SPEC}},
    "istiod_reload_check": {"meshpki.istio_ca.istiod_reload_check": {"timeout": 0, "fail_on_not_reloaded": False}},
}


def play(tasks):
    return [{"hosts": "clusters", "gather_facts": False,
             "module_defaults": {"group/meshpki.istio_ca.k8s": {
                 "kubeconfig": "{{ k8s_kubeconfig }}", "context": "{{ k8s_context }}"}},
             "tasks": tasks}]


def cpu_of(playbook, inventory, switch):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = run_playbook(playbook, inventory=inventory, env={"MESHPKI_IN_PROCESS": switch})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.rc != 0:
        raise SystemExit(res.explain())
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(n=10):
    """{"in_process"|"module": {"startup": CPU-s, "<module>": CPU-s per task}} over HTTPS kubesim."""
    root, inter = mesh("ec256")
    work = Path(tempfile.mkdtemp(prefix="inproc-bench-"))
    out = {}
    with Fleet(n_clusters=1, workdir=work, preinstall=("cert-manager",)) as fleet:
        cluster = fleet["cluster-1"]
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}})
        cluster.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                        "metadata": {"name": "cacerts", "namespace": "istio-system"},
                        "data": {k: base64.b64encode(v.encode()).decode() for k, v in
                                 {"tls.crt": inter.pem, "tls.key": inter.key_pem(), "ca.crt": root.pem}.items()}})
        cluster.create({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
                        "metadata": {"name": "selfsigned"}, "spec": {"selfSigned": {}}})
        empty = work / "empty.yml"
        empty.write_text(yaml.safe_dump(play([{"ansible.builtin.meta": "noop"}])))
        for switch in ("1", "0"):
            mode = "in_process" if switch == "1" else "module"
            base = cpu_of(empty, fleet.inventory, switch)
            out.setdefault(mode, {})["startup"] = round(base, 2)
            for kind, task in KINDS.items():
                book = work / ("%s.yml" % kind)
                book.write_text(yaml.safe_dump(play([dict(task)] * n)))
                total = cpu_of(book, fleet.inventory, switch)
                out[mode][kind] = round((total - base) / n, 3)
    return {"tasks_per_module": n, "transport": "https" if fleet.tls else "http", "cpu_s_per_task": out}


def main():
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 10), indent=2))


if __name__ == "__main__":
    main()
