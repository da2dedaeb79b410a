"""``make report-shot``: render a fleet report to PNG with headless Chromium and print the path.

    python scripts/report_shot.py [REPORT_JSON] [--out DIR] [--sample]

With REPORT_JSON (a report.json written by playbooks/report.yml) that report is drawn.
Without it, a small simulated run makes one: a 3-cluster kubesim fleet, deploy.yml,
rotate.yml (1440h -> 720h) and report.yml. ``--sample`` (or when the playbooks are not
there yet) uses the bundled sample report instead. Chromium is Debian's ``chromium``
package; it is installed with apt-get when missing and this runs as root.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(REPO, "tests", "unit", "plugins", "plugin_utils", "report", "report_sample.json")
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def ensure_chromium():
    if os.access(CHROMIUM, os.X_OK):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("report-shot: %s is missing; install Debian's chromium package (apt-get install -y chromium)" % CHROMIUM)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("report-shot: installing chromium with apt-get ...", file=sys.stderr)
    if subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env, check=True)


def simulated_report(workdir):
    """report.json from a small simulated run, or None when the playbooks are not there yet."""
    if not all(os.path.exists(os.path.join(REPO, "playbooks", p)) for p in ("deploy.yml", "rotate.yml", "report.yml")):
        return None
    sys.path.insert(0, os.path.join(REPO, "bench"))
    from fleet import deploy_vars, make_root_ca, start_fleet
    from measure import run_playbook, tail
    fleet = start_fleet(3, workdir, propagation_delay=2.0)
    try:
        cert, key = make_root_ca(workdir)
        report_dir = os.path.join(workdir, "report")
        steps = (("deploy.yml", deploy_vars(cert, key)), ("rotate.yml", {"ca_rotation_duration": "720h"}),
                 ("report.yml", {"report_dir": report_dir}))
        for playbook, extra in steps:
            log = os.path.join(workdir, playbook + ".log")
            print("report-shot: %s on a simulated 3-cluster fleet ..." % playbook, file=sys.stderr)
            if run_playbook(playbook, fleet.inventory, log, 3, extra) != 0:
                sys.exit("report-shot: %s failed:\n%s" % (playbook, tail(log)))
        return os.path.join(report_dir, "report.json")
    finally:
        fleet.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("report", nargs="?", help="report.json to draw")
    parser.add_argument("--out", default=os.path.join(REPO, "build", "report-shot"), help="output directory")
    parser.add_argument("--sample", action="store_true", help="use the bundled sample report")
    parser.add_argument("--width", type=int, default=1500)
    args = parser.parse_args(argv)

    sys.path.insert(0, os.path.join(REPO, ".venv", "collections"))
    from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.html import render_html

    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="report-shot-")
    try:
        source = args.report or (None if args.sample else simulated_report(work)) or SAMPLE
        with open(source) as handle:
            report = json.load(handle)
        html_path = os.path.join(os.path.abspath(args.out), "report.html")
        with open(html_path, "w", encoding="utf-8") as handle:
            handle.write(render_html(report))
        ensure_chromium()
        clusters = len(report.get("clusters") or [])
        height = 760 + clusters * 110  # summary + timeline rows + table rows
        png = os.path.join(os.path.abspath(args.out), "report.png")
        proc = subprocess.run([CHROMIUM] + FLAGS + ["--user-data-dir=%s" % os.path.join(work, "profile"),
                                                    "--window-size=%d,%d" % (args.width, height),
                                                    "--screenshot=%s" % png, "file://%s" % html_path],
                              capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0 or not os.path.exists(png):
            sys.exit("report-shot: chromium failed:\n%s" % proc.stderr[-2000:])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("report-shot: drew %s (%d clusters)" % (os.path.relpath(source, REPO) if source.startswith(REPO) else source,
                                                  clusters), file=sys.stderr)
    print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
