"""Measuring one benchmark step: wall time, controller CPU of child processes, API requests.

Controller CPU is what the machine running Ansible (or kubectl) spends: the
``RUSAGE_CHILDREN`` delta around the step counts every waited-for descendant
(ansible-playbook, its forks, each module process; or each kubectl). kubesim runs
in this process, so its own CPU is not counted. API requests come from each
simulated cluster's request log (the same log the kubesim contract tests read).
"""

import os
import resource
import subprocess
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(REPO, ".venv", "bin")


def ansible_env(extra=None):
    """Environment for ansible-playbook from the dev venv, collection on its path, quiet output."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".venv", "collections"),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
        "PATH": VENV_BIN + os.pathsep + env.get("PATH", ""),
    })
    env.update(extra or {})
    return env


def _cpu_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def request_counts(fleet):
    """Requests seen so far, per cluster name."""
    return dict((c.name, len(c.requests)) for c in fleet.clusters)


class Step(object):
    """Context manager that measures one step against a fleet.

    ``result`` after exit: ``{label, wall_s, cpu_s, cpu_s_per_cluster, requests,
    requests_per_cluster, requests_max_cluster, clusters}``.
    """

    def __init__(self, label, fleet, clusters=None):
        self.label = label
        self.fleet = fleet
        self.clusters = clusters or len(fleet.clusters)
        self.result = None

    def __enter__(self):
        self._req = request_counts(self.fleet)
        self._cpu = _cpu_children()
        self._wall = time.monotonic()
        return self

    def __exit__(self, *exc):
        wall = time.monotonic() - self._wall
        cpu = _cpu_children() - self._cpu
        after = request_counts(self.fleet)
        per = dict((name, after[name] - self._req.get(name, 0)) for name in after)
        total = sum(per.values())
        self.result = {
            "label": self.label,
            "clusters": self.clusters,
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "cpu_s_per_cluster": round(cpu / self.clusters, 3),
            "requests": total,
            "requests_per_cluster": round(total / float(self.clusters), 1),
            "requests_max_cluster": max(per.values()) if per else 0,
        }
        return False


def run_playbook(playbook, inventory, log_path, forks, extra_vars=None, env=None, check=False):
    """Run ansible-playbook, output to ``log_path``; return the exit code."""
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), os.path.join(REPO, "playbooks", playbook),
           "-i", inventory, "-f", str(forks)]
    for key, value in sorted((extra_vars or {}).items()):
        cmd += ["-e", "%s=%s" % (key, value)]
    if check:
        cmd.append("--check")
    with open(log_path, "w") as log:
        log.write("$ %s\n" % " ".join(cmd))
        log.flush()
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=ansible_env(env), cwd=REPO)
    return proc.returncode


def tail(path, lines=25):
    with open(path, errors="replace") as handle:
        return "".join(handle.readlines()[-lines:])
