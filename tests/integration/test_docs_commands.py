"""Every ```sh block of README.md and docs/**/*.md runs as written, in order, one simulated fleet per file.

Why: the README's kubesim example once failed as written (a missing trust source, then a download of a
cert-manager that kubesim had preinstalled; issue 18). A command in the docs is a promise to a user, so each
is run here the way a user runs it: ``bash -e`` from a directory that looks like a fresh clone (symlinks to
the repository's files and its ``.venv``), with the venv's ``bin`` first on PATH and no ANSIBLE_*/K8S_AUTH_*
settings of the test run leaking in.

Per file, before its first block, the directory gets a fresh kubesim fleet (2 clusters, cert-manager and
istiod preinstalled) in the state deploy.yml leaves, as ``inventory.yml`` (the name the docs use), unless the
file starts its own fleet (a block that runs ``kubesim --``, as the README's walk-through does). A block
that cannot run here is marked right before its fence with ``<!-- not-runnable: reason -->`` (real clusters,
interactive prompts, the whole CI run); use it sparingly. A failing block fails the file's test with the
block and the end of its output.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import rotation_fleet as rf
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
BLOCK_TIMEOUT = 900
_FENCE = re.compile(r"^```sh[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_NOT_RUNNABLE = re.compile(r"<!--\s*not-runnable:\s*\S.*?-->\s*$")


def sh_blocks(text):
    """``[(line number, block text, runnable)]`` of the ```sh blocks of a markdown text."""
    blocks = []
    for match in _FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        blocks.append((text.count("\n", 0, match.start()) + 1, match.group(1), not _NOT_RUNNABLE.search(before)))
    return blocks


def doc_files():
    return [REPO / "README.md"] + sorted((REPO / "docs").rglob("*.md"))


def _runnable_files():
    return [p for p in doc_files() if any(block[2] for block in sh_blocks(p.read_text()))]


def test_sh_blocks_parser_honours_the_marker():
    text = "a\n```sh\necho 1\n```\n<!-- not-runnable: needs a real cluster -->\n```sh\necho 2\n```\n"
    assert [block[1:] for block in sh_blocks(text)] == [("echo 1\n", True), ("echo 2\n", False)]


def _clean_env():
    """The user's shell: the repository's venv first on PATH, none of the test run's Ansible or kube settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "K8S_AUTH_", "MOLECULE_"))}
    env.update(PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}", ANSIBLE_NOCOLOR="1")
    env.pop("VIRTUAL_ENV", None)
    return env


def _clone_like(directory: Path):
    """A directory that behaves like the repository root: a symlink to every top-level entry but outputs."""
    for entry in REPO.iterdir():
        if entry.name not in (".git", ".kubesim", "istio-ca-report", "build", ".pytest_cache", "tests"):
            (directory / entry.name).symlink_to(entry)
    (directory / "tests").symlink_to(REPO / "tests")


def _stop_own_fleet(directory: Path):
    """Stop every kubesim a block started in the background (``.kubesim/*.pid``), when a later block failed to."""
    for pid_file in sorted((directory / ".kubesim").glob("*.pid")):
        _stop(int(pid_file.read_text().strip()))


def _stop(pid: int):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("doc", _runnable_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_doc_commands_run_as_written(doc, tmp_path, kubesim_fleet_factory):  # noqa: F811
    blocks = sh_blocks(doc.read_text())
    runnable = [(line, body) for line, body, ok in blocks if ok]
    workdir = tmp_path / "clone"
    workdir.mkdir()
    _clone_like(workdir)
    if not any(re.search(r"\bkubesim\s+--", body) for _line, body in runnable):
        fleet = kubesim_fleet_factory(n_clusters=2, preinstall=("cert-manager",), propagation_delay=0.5)
        rf.setup_ca(fleet, rf.make_root())  # the state deploy.yml leaves: one root, cacerts, istiod plugged in
        shutil.copy(fleet.inventory, workdir / "inventory.yml")
    env = _clean_env()
    try:
        for number, (line, body) in enumerate(runnable, 1):
            log = tmp_path / f"block-{number}.log"
            with open(log, "w") as out:
                proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", body], cwd=workdir, env=env,
                                      stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                      timeout=BLOCK_TIMEOUT, check=False)
            if proc.returncode != 0:
                tail = "\n".join(log.read_text().splitlines()[-120:])
                pytest.fail(f"{doc.relative_to(REPO)}:{line}: block {number} of {len(runnable)} exited "
                            f"{proc.returncode}\n--- block ---\n{body}--- output (last 120 lines) ---\n{tail}",
                            pytrace=False)
    finally:
        _stop_own_fleet(workdir)
