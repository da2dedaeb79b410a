"""Measuring one benchmark step: wall time, controller CPU of child processes, API requests.

Controller CPU is what the machine running Ansible (or kubectl) spends: the
``RUSAGE_CHILDREN`` delta around the step counts every waited-for descendant
(ansible-playbook, its forks, each module process; or each kubectl). kubesim runs
in this process, so its own CPU is not counted. API requests come from each
simulated cluster's request log (the same log the kubesim contract tests read).
"""

import os
import re
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


def request_counts(fleet, names=None):
    """Requests seen so far, per cluster name (only ``names`` when given)."""
    return dict((c.name, len(c.requests)) for c in fleet.clusters if names is None or c.name in names)


_POD_NAME = re.compile(r"/pods/[^/]+")
_BACKUP_NAME = re.compile(r"/secrets/cacerts-backup-[^/]+")


def request_breakdown(fleet, start, clusters):
    """Requests per cluster by (method, path) and by client, for finding where requests go."""
    kinds, agents = {}, {}
    for cluster in fleet.clusters:
        if cluster.name not in start:
            continue
        for rec in list(cluster.requests)[start[cluster.name]:]:
            path = _BACKUP_NAME.sub("/secrets/cacerts-backup-*", _POD_NAME.sub("/pods/*", rec.get("path", "")))
            key = "%s %s" % (rec.get("method"), path)
            kinds[key] = kinds.get(key, 0) + 1
            agent = (rec.get("user_agent") or "?").split(" ")[0]
            agents[agent] = agents.get(agent, 0) + 1
    top = sorted(kinds.items(), key=lambda kv: -kv[1])[:20]
    return {"by_request": [{"request": k, "per_cluster": round(v / float(clusters), 2)} for k, v in top],
            "by_client": dict((k, round(v / float(clusters), 2)) for k, v in sorted(agents.items()))}


class Step(object):
    """Context manager that measures one step against a fleet.

    ``names``: the clusters the step works on (default: all). ``result`` after exit:
    ``{label, wall_s, cpu_s, cpu_s_per_cluster, requests, requests_per_cluster,
    requests_max_cluster, clusters, ...}``.
    """

    def __init__(self, label, fleet, names=None):
        self.label = label
        self.fleet = fleet
        self.names = set(names) if names else set(c.name for c in fleet.clusters)
        self.clusters = len(self.names)
        self.result = None

    def __enter__(self):
        self._load = round(os.getloadavg()[0], 2)
        self._req = request_counts(self.fleet, self.names)
        self._cpu = _cpu_children()
        self._wall = time.monotonic()
        return self

    def __exit__(self, *exc):
        wall = time.monotonic() - self._wall
        cpu = _cpu_children() - self._cpu
        after = request_counts(self.fleet, self.names)
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
            "load_avg_1m_before": self._load,
            "request_breakdown": request_breakdown(self.fleet, self._req, self.clusters),
        }
        return False


def run_playbook(playbook, inventory, log_path, forks, extra_vars=None, env=None, check=False, limit=None):
    """Run ansible-playbook, output to ``log_path``; return the exit code."""
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), os.path.join(REPO, "playbooks", playbook),
           "-i", inventory, "-f", str(forks)]
    if limit:
        cmd += ["--limit", ",".join(limit)]
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
