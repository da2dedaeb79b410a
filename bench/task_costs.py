"""What one task costs per cluster on the controller, by kind of task (a profiling aid).

    .venv/bin/python bench/task_costs.py [HOSTS]

A fleet playbook's controller CPU is roughly sum over tasks of (cost of that kind of task) x
clusters. This measures the cost of each kind on a small kubesim fleet: a playbook of
REPEAT identical tasks is run against HOSTS clusters (default 10), minus the same playbook with
no tasks, divided by REPEAT x HOSTS. Kinds: a set_fact, an assert, an include_role of a
one-task role, our x509_inspect on a Secret, our istiod_reload_check, kubernetes.core.k8s_info.
"""

import base64
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fleet import REPO, make_root_ca, start_fleet  # noqa: E402
from measure import ansible_env  # noqa: E402

REPEAT = 5
DEFAULTS = ("  module_defaults:\n    group/meshpki.istio_ca.k8s: {kubeconfig: '{{ k8s_kubeconfig }}', context: '{{ k8s_context }}'}\n"
            "    group/kubernetes.core.k8s: {kubeconfig: '{{ k8s_kubeconfig }}', context: '{{ k8s_context }}'}\n")
KINDS = {
    "set_fact": "ansible.builtin.set_fact:\n        probe: \"{{ inventory_hostname }}\"",
    "assert": "ansible.builtin.assert:\n        that: inventory_hostname | length > 0\n        quiet: true",
    "include_role": "ansible.builtin.include_role:\n        name: probe_role",
    "x509_inspect (secret)": "meshpki.istio_ca.x509_inspect:\n        secret: {name: probe, namespace: default}",
    "kubernetes.core.k8s_info": "kubernetes.core.k8s_info:\n        kind: Secret\n        namespace: default\n        name: probe",
}


def _playbook(path, body, count):
    tasks = "".join("    - name: probe %d\n      %s\n" % (i, body) for i in range(count)) if count else \
        "    - name: nothing\n      ansible.builtin.meta: noop\n"
    with open(path, "w") as handle:
        handle.write("- hosts: clusters\n  gather_facts: false\n%s  tasks:\n%s" % (DEFAULTS, tasks))


def _run(playbook, inventory, hosts, workdir):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    env = ansible_env({"ANSIBLE_ROLES_PATH": os.path.join(workdir, "roles")})
    proc = subprocess.run([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), playbook, "-i", inventory,
                           "-f", str(hosts)], capture_output=True, text=True, env=env, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit("%s failed:\n%s" % (playbook, proc.stdout[-3000:]))
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return cpu, time.monotonic() - started


def main():
    hosts = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    workdir = tempfile.mkdtemp(prefix="task-costs-")
    os.makedirs(os.path.join(workdir, "roles", "probe_role", "tasks"))
    with open(os.path.join(workdir, "roles", "probe_role", "tasks", "main.yml"), "w") as handle:
        handle.write("- name: probe\n  ansible.builtin.set_fact:\n    probe: 1\n")
    fleet = start_fleet(hosts, os.path.join(workdir, "fleet"), 0.0)
    try:
        cert, key = make_root_ca(workdir)
        data = {}
        for name, path in (("tls.crt", cert), ("tls.key", key), ("ca.crt", cert)):
            with open(path, "rb") as handle:
                data[name] = base64.b64encode(handle.read()).decode()
        for cluster in fleet.clusters:
            cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "probe", "namespace": "default"},
                            "type": "kubernetes.io/tls", "data": data})
        empty = os.path.join(workdir, "empty.yml")
        _playbook(empty, None, 0)
        base_cpu, base_wall = _run(empty, fleet.inventory, hosts, workdir)
        rows = {"hosts": hosts, "repeat": REPEAT, "empty_playbook_cpu_s": round(base_cpu, 2), "kinds": {}}
        print("empty playbook on %d hosts: %.2f CPU-s, %.1f s" % (hosts, base_cpu, base_wall))
        for kind, body in KINDS.items():
            path = os.path.join(workdir, "probe.yml")
            _playbook(path, body, REPEAT)
            cpu, wall = _run(path, fleet.inventory, hosts, workdir)
            per = (cpu - base_cpu) / (REPEAT * hosts)
            requests = sum(len(c.requests) for c in fleet.clusters)
            rows["kinds"][kind] = {"cpu_s_per_task_per_cluster": round(per, 3), "wall_s": round(wall, 1)}
            print("%-28s %.3f CPU-s per task per cluster (playbook %.1f s)" % (kind, per, wall))
        rows["requests_total"] = requests
    finally:
        fleet.stop()
    out = os.path.join(HERE, "results", "task-costs.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as handle:
        json.dump(rows, handle, indent=2)
    print("results: %s" % out)


if __name__ == "__main__":
    main()
