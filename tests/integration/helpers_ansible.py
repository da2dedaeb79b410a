"""Run ansible-playbook the way a user would, and hand tests a machine-readable result.

Why a helper: every integration test drives the real ``ansible-playbook`` binary of the dev venv
(not the Python API), with the collection found through ``ANSIBLE_COLLECTIONS_PATH`` and the
repository's ``ansible.cfg``, so what passes here passes for users. Output goes through the
``ansible.posix.json`` stdout callback, so tests assert on per-host recap numbers and on task
results instead of scraping text.

Usage::

    from helpers_ansible import run_playbook

    res = run_playbook("playbooks/deploy.yml", inventory=fleet.inventory,
                       extra_vars={"cert_manager_manifest_src": str(manifest)})
    assert res.rc == 0, res.explain()
    assert res.changed_total() == 0            # idempotence
    res.stats["cluster-1"]["changed"]          # recap per host
    res.task_results("Show the summary")       # {host: result} of the last task with that name
                                               # (role tasks match with or without "<role> : ")
    res.failed_tasks()                         # [(task name, host, msg), ...]

``check=True`` adds ``--check``; ``diff=True`` adds ``--diff``; ``limit`` adds ``--limit``;
``extra_args`` are appended verbatim. ``extra_vars`` go through a JSON file (``-e @file``), so
any value type survives. ``json_output=False`` keeps the default human callback (``stdout`` then
holds plain text and ``plays``/``stats`` stay empty) for debugging.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
COLLECTIONS_PATH = REPO / ".venv" / "collections"
ANSIBLE_CFG = REPO / "ansible.cfg"


def ansible_env(extra: dict | None = None, json_output: bool = True) -> dict:
    """The environment every ansible-* command in the tests runs with."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
        ANSIBLE_CONFIG=str(ANSIBLE_CFG),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        # Interpreter discovery can land on a broken pyenv shim on dev machines; modules run
        # locally (ansible_connection: local), so the venv's Python is the right one.
        ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"),
        # Modules run locally; pipelining skips the per-task module file copy (about a quarter of
        # each task's cost here). Safe with ansible_connection: local.
        ANSIBLE_PIPELINING="1",
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    if json_output:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
        env["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"
    # Ambient kubeconfig settings must not leak into tests that mean to set their own.
    for key in [k for k in env if k.startswith("K8S_AUTH_")]:
        env.pop(key)
    env.update(extra or {})
    return env


@dataclass
class PlaybookResult:
    """What one ansible-playbook run produced."""

    rc: int
    stdout: str
    stderr: str
    cmd: list = field(default_factory=list)
    plays: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def changed_total(self) -> int:
        return sum(h.get("changed", 0) for h in self.stats.values())

    def changed_by_host(self) -> dict:
        return {host: s.get("changed", 0) for host, s in self.stats.items()}

    def failed_hosts(self) -> list:
        return sorted(h for h, s in self.stats.items() if s.get("failures") or s.get("unreachable"))

    def iter_task_results(self):
        """Yield (task name, host, result) for every task result, in run order."""
        for play in self.plays:
            for task in play.get("tasks", []):
                name = task.get("task", {}).get("name", "")
                for host, result in task.get("hosts", {}).items():
                    yield name, host, result

    @staticmethod
    def name_matches(task_name: str, name: str) -> bool:
        """Role tasks are reported as ``<role> : <name>``; match the bare name too."""
        return task_name == name or task_name.endswith(" : " + name)

    def task_results(self, name: str) -> dict:
        """{host: result} of the last run of the task called ``name`` (exact, or after ``<role> : ``)."""
        found: dict = {}
        for tname, host, result in self.iter_task_results():
            if self.name_matches(tname, name):
                found[host] = result
        return found

    def changed_tasks(self) -> list:
        """[(task name, host)] of every result that reported a change — for idempotence failures."""
        return [(n, h) for n, h, r in self.iter_task_results() if r.get("changed")]

    def failed_tasks(self) -> list:
        """[(task name, host, msg)] of every failed (not ignored) result; a loop's failed items' messages
        are appended to its summary message."""
        out = []
        for name, host, result in self.iter_task_results():
            if result.get("failed") and not result.get("ignore_errors"):
                msgs = [str(result.get("msg", ""))]
                msgs += [str(item.get("msg", "")) for item in result.get("results") or []
                         if isinstance(item, dict) and item.get("failed")]
                out.append((name, host, " | ".join(m for m in msgs if m)[:4000]))
        return out

    def explain(self) -> str:
        """A short text for assertion messages: rc, failures, changed tasks, stderr tail."""
        lines = [f"rc={self.rc} cmd={' '.join(map(str, self.cmd))}"]
        for name, host, msg in self.failed_tasks():
            lines.append(f"FAILED [{host}] {name}: {msg}")
        changed = self.changed_tasks()
        if changed:
            lines.append("changed: " + ", ".join(f"[{h}] {n}" for n, h in changed[:40]))
        if not self.plays:
            lines.append("stdout tail:\n" + self.stdout[-4000:])
        if self.stderr.strip():
            lines.append("stderr tail:\n" + self.stderr[-3000:])
        return "\n".join(lines)


def _parse_json_stdout(stdout: str):
    """The json callback prints one JSON document; warnings may precede it on stdout."""
    start = stdout.find("{")
    while start != -1:
        try:
            return json.loads(stdout[start:])
        except ValueError:
            start = stdout.find("\n{", start + 1)
            start = start + 1 if start != -1 else -1
    return None


def run_playbook(
    playbook,
    inventory=None,
    extra_vars: dict | None = None,
    *,
    check: bool = False,
    diff: bool = False,
    limit: str | None = None,
    extra_args: list | None = None,
    env: dict | None = None,
    cwd=None,
    timeout: int = 600,
    json_output: bool = True,
) -> PlaybookResult:
    """Run ``ansible-playbook`` from the venv; see the module docstring."""
    playbook = Path(playbook)
    if not playbook.is_absolute():
        playbook = REPO / playbook
    cmd = [str(VENV_BIN / "ansible-playbook"), str(playbook)]
    if inventory is not None:
        cmd += ["-i", str(inventory)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if limit:
        cmd += ["--limit", limit]
    with tempfile.TemporaryDirectory(prefix="meshpki-ev-") as tmp:
        if extra_vars:
            ev = Path(tmp) / "extra_vars.json"
            ev.write_text(json.dumps(extra_vars))
            cmd += ["-e", f"@{ev}"]
        cmd += list(extra_args or [])
        proc = subprocess.run(
            cmd,
            check=False,
            env=ansible_env(env, json_output=json_output),
            cwd=str(cwd or REPO),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    result = PlaybookResult(rc=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, cmd=cmd)
    if json_output:
        doc = _parse_json_stdout(proc.stdout)
        if isinstance(doc, dict):
            result.plays = doc.get("plays", [])
            result.stats = doc.get("stats", {})
    return result
