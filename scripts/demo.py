"""`make demo`: deploy, rotate and report on a SIMULATED 3-cluster fleet, then stop it.

The fleet is kubesim (tests/kubesim): one process serving three Kubernetes API servers on 127.0.0.1
that model cert-manager and istiod from their documented behaviour. Nothing real is installed or run.
Steps:
  1. start the fleet (cert-manager and istiod preinstalled, 1 s Secret-volume propagation delay) in a
     temporary directory, and make one root CA for the whole fleet on the controller;
  2. ansible-playbook playbooks/deploy.yml  (trust source offline_root: that root stays on the controller and
     signs one issuing CA per cluster; cert-manager issues cacerts below it);
  3. ansible-playbook playbooks/rotate.yml  (the upstream tutorial's change: 1440h -> 720h);
  4. ansible-playbook playbooks/report.yml;
  5. print one line per cluster (old serial -> new serial, expiry, istiod reloaded) and where the report is.
The fleet is stopped and the temporary directory removed in every case, failures included.
Playbook output goes to <report dir>/demo-logs/*.log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
REPORT_DIR = Path(os.environ.get("REPORT_DIR", "istio-ca-report")).resolve()
ROTATE_TO = "720h"


def say(text: str = "") -> None:
    print(text, flush=True)


def make_root(directory: Path) -> dict:
    """One self-signed root CA for the fleet (ECDSA P-256), written as PEM files on the controller."""
    from meshpki_test_root import make_root_ca  # tests/ is on the venv's sys.path (make venv)

    return make_root_ca("Demo Root CA", organization="meshpki demo").write(directory)


def start_fleet(workdir: Path) -> subprocess.Popen:
    cmd = [str(VENV_BIN / "python"), "-m", "kubesim", "--clusters", "3", "--workdir", str(workdir),
           "--preinstall", "cert-manager,istio", "--propagation-delay", "1"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(cmd, stdout=open(workdir / "kubesim.log", "w"), stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not (workdir / "ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the simulated fleet did not start:\n" + (workdir / "kubesim.log").read_text()[-2000:])
        time.sleep(0.2)
    return proc


def stop_fleet(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def playbook(name: str, inventory: Path, extra_vars: dict, logs: Path) -> None:
    started = time.monotonic()
    log = logs / f"{name}.log"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as ev:
        json.dump(extra_vars, ev)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
               ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_FORKS="3", ANSIBLE_PIPELINING="1")
    try:
        with open(log, "w") as out:
            rc = subprocess.call([str(VENV_BIN / "ansible-playbook"), str(REPO / "playbooks" / f"{name}.yml"),
                                  "-i", str(inventory), "-e", f"@{ev.name}"], stdout=out, stderr=subprocess.STDOUT,
                                 env=env, cwd=str(REPORT_DIR.parent))
    finally:
        os.unlink(ev.name)
    took = time.monotonic() - started
    if rc != 0:
        tail = log.read_text().splitlines()[-40:]
        raise RuntimeError(f"{name}.yml failed (rc={rc}) after {took:.0f}s; last lines of {log}:\n" + "\n".join(tail))
    say(f"  {name}.yml ok ({took:.0f}s)")


def main() -> int:
    say("meshpki.istio_ca demo on a SIMULATED fleet: kubesim models the Kubernetes API, cert-manager and istiod")
    say("from their documented behaviour; no real cluster, cert-manager or istiod is involved.")
    started = time.monotonic()
    logs = REPORT_DIR / "demo-logs"
    logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="meshpki-demo-") as tmp:
        work = Path(tmp)
        say(f"- starting 3 simulated clusters in {work}")
        fleet = start_fleet(work)
        try:
            root = make_root(work)
            inventory = work / "inventory.yml"
            say("- deploy: cert-manager (preinstalled, adopted), one shared root kept on the controller, an issuing CA "
                "per cluster, cacerts intermediate, istiod hot reload")
            playbook("deploy", inventory, dict(root, cert_manager_install="existing", ca_setup_trust_source="offline_root",
                                               ca_setup_issuing_ca_key_algorithm="ECDSA",
                                               ca_setup_issuing_ca_key_size=256,
                                               ca_setup_key_algorithm="ECDSA", ca_setup_key_size=256), logs)
            say(f"- rotate: intermediate duration 1440h -> {ROTATE_TO}, canary first, then batches")
            playbook("rotate", inventory, {"ca_rotation_duration": ROTATE_TO, "report_dir": str(REPORT_DIR),
                                           "ca_rotation_reload_timeout": 60}, logs)
            say("- report")
            playbook("report", inventory, {"report_dir": str(REPORT_DIR)}, logs)
        except RuntimeError as exc:
            say(f"\nDEMO FAILED: {exc}")
            return 1
        finally:
            stop_fleet(fleet)
            say("- simulated fleet stopped")

    summary = json.loads((REPORT_DIR / "rotation-summary.json").read_text())
    report = json.loads((REPORT_DIR / "report.json").read_text())
    say("")
    say(f"{'cluster':<11} {'old serial':<34} {'new serial':<34} {'expires':<21} reloaded")
    for row in summary["clusters"]:
        say(f"{row['cluster']:<11} {row['old_serial'] or '-':<34} {row['new_serial'] or '-':<34} "
            f"{row['not_after'] or '-':<21} {'yes' if row['reloaded'] else 'NO'}")
    fleet_part = report["fleet"]
    say("")
    say(f"one root across the fleet: {'yes' if fleet_part['root_consistent'] else 'NO'}; "
        f"clusters failing checks: {', '.join(fleet_part['failing_checks']) or 'none'}")
    say(f"report: {REPORT_DIR / 'report.json'}" + "".join(
        f", {REPORT_DIR / n}" for n in ("report.md", "report.html") if (REPORT_DIR / n).exists()))
    say(f"rotation summary: {REPORT_DIR / 'rotation-summary.json'}; playbook logs: {logs}")
    say(f"done in {time.monotonic() - started:.0f}s (simulated fleet)")
    return 0 if summary["ok"] and not fleet_part["failing_checks"] else 1


if __name__ == "__main__":
    sys.exit(main())
