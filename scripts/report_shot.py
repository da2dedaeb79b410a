"""``make report-shot``: draw report.html in headless Chromium at 5, 30 and 200 clusters and print the PNG paths.

    python scripts/report_shot.py [REPORT_JSON] [--out DIR] [--sizes 5,30,200] [--live]

Without REPORT_JSON each size is a synthetic fleet: cluster entries made by the real
``cluster_status`` filter from made-up read results (some clusters unreachable, some not
reloaded, one with another root, some expiring), then ``fleet_report`` - the same path a
live report.yml takes, without 200 clusters to read. Each PNG is the first screen at
1400x900 (what a person sees without scrolling); the HTML is written beside it.
With REPORT_JSON (a report.json written by playbooks/report.yml) that report is drawn;
``--live`` makes one from a simulated 3-cluster kubesim fleet (deploy, rotate, report).
Chromium is Debian's ``chromium`` package, installed with apt-get when missing and root.
"""

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = "/usr/bin/chromium"
# --disable-* keep a headless run from reaching the network by itself (no component updates,
# background requests, sync or QUIC probes); the page itself fetches nothing (its CSP).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
SCREEN = (1400, 900)
SIZES = (5, 30, 200)
NOW = datetime.datetime(2030, 1, 10, tzinfo=datetime.timezone.utc)
THRESHOLD = "360h"
_REGIONS = ("prod-eu-west-1", "prod-us-east-2", "staging-ap-south-1", "prod-eu-central-1", "dev-us-west-2")


def _collections():
    path = os.path.join(REPO, ".venv", "collections")
    if path not in sys.path:
        sys.path.insert(0, path)


def ensure_chromium():
    """Install Debian's chromium when it is missing (root and apt needed); exit with the reason otherwise."""
    if os.access(CHROMIUM, os.X_OK):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("report-shot: %s is missing; install Debian's chromium package (apt-get install -y chromium)" % CHROMIUM)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("report-shot: installing chromium with apt-get ...", file=sys.stderr)
    if subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env, check=True)


def _fingerprint(seed):
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 64, 2))


def _when(days):
    return (NOW + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cluster_name(index):
    return "%s-%03d" % (_REGIONS[index % len(_REGIONS)], index)


def synthetic_kind(index, count):
    """What is wrong with cluster ``index`` (1-based) of a synthetic fleet of ``count``; None when nothing.

    Fixed by index so every run draws the same fleet: about 1 in 29 unreachable, 1 in 11 not reloaded,
    cluster 2 with another root from 30 clusters on; expiring ones follow from their issue date."""
    if index % 29 == 3:
        return "unreachable"
    if index % 11 == 5:
        return "not_reloaded"
    if index == 2 and count >= 30:
        return "other_root"
    return None


def synthetic_status(index, count):
    """One cluster entry made by the real cluster_status filter from made-up read results."""
    _collections()
    from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import cluster_status
    name, kind = cluster_name(index), synthetic_kind(index, count)
    if kind == "unreachable":
        down = {"changed": False, "failed": False,
                "msg": "Cannot connect to the Kubernetes API at https://%s.example:6443 (%s.example:6443): "
                       "[Errno 111] Connection refused." % (name, name)}
        return cluster_status(name, certificate=down, inspect=dict(down), reload={"skipped": True},
                              now=_when(0))
    age = (index * 13) % 57 + 1  # days since issue; 60-day certificates, so some are within 15 days of expiry
    not_before, not_after, renewal = _when(-age), _when(60 - age), _when(45 - age)
    root = _fingerprint("other root" if kind == "other_root" else "fleet root")
    spec = {"secretName": "cacerts", "duration": "1440h", "renewBefore": "360h",
            "issuerRef": {"name": "meshpki-istio-ca", "kind": "ClusterIssuer"}}
    status = {"revision": 1 + index % 4, "notBefore": not_before, "notAfter": not_after, "renewalTime": renewal,
              "conditions": [{"type": "Ready", "status": "True", "reason": "Ready",
                              "message": "Certificate is up to date and has not expired"}]}
    certificate = {"changed": False, "exists": True, "live_spec": spec, "status": status}
    serial = hashlib.sha256(name.encode()).hexdigest()[:32]
    inspect = {"changed": False, "istio_ready": True, "istio_problems": [], "istio_warnings": [],
               "certificates": [{"subject": "CN=Intermediate CA,O=Istio,L=%s" % name, "issuer": "CN=Example Root CA",
                                 "serial_hex": serial, "serial_number": int(serial, 16), "not_before": not_before,
                                 "not_after": not_after, "expired": False, "fingerprint_sha256": _fingerprint(name),
                                 "public_key_type": "ECDSA", "public_key_size": 256},
                                {"subject": "CN=Example Root CA", "fingerprint_sha256": root,
                                 "not_after": _when(3650)}],
               "chain": {"length": 2, "ends_at_root": True, "key_matches": True, "root_fingerprint_sha256": root,
                         "root_subject": "CN=Example Root CA", "problems": []}}
    reload = {"changed": False, "reloaded": kind != "not_reloaded", "root_consistent": True, "problems": [],
              "msg": "" if kind != "not_reloaded" else "no istiod pod logged the new intermediate's serial",
              "pods": [{"name": "istiod-7c9f8d-%04d" % index, "version": "1.22.3", "auto_reload_plugin_certs": None,
                        "how": "log", "evidence": [] if kind == "not_reloaded" else [
                            "%s Istiod has detected the newly added intermediate CA and updated its key and certs "
                            "accordingly" % not_before]}]}
    return cluster_status(name, certificate=certificate, inspect=inspect, reload=reload, now=_when(0))


def synthetic_report(count):
    """report.json (schema 1) of a synthetic fleet of ``count`` clusters, as fleet_report makes it."""
    _collections()
    from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import fleet_report
    statuses = [synthetic_status(index, count) for index in range(1, count + 1)]
    return json.loads(json.dumps(fleet_report(statuses, expiring_within=THRESHOLD, generated_at=_when(0),
                                              source="synthetic")))


def simulated_report(workdir):
    """report.json from a small simulated run (kubesim fleet: deploy.yml, rotate.yml, report.yml)."""
    sys.path.insert(0, os.path.join(REPO, "bench"))
    from fleet import deploy_vars, make_root_ca, start_fleet
    from measure import run_playbook, tail
    fleet = start_fleet(3, workdir, propagation_delay=2.0)
    try:
        cert, key = make_root_ca(workdir)
        report_dir = os.path.join(workdir, "report")
        steps = (("deploy.yml", deploy_vars(cert, key)), ("rotate.yml", {"ca_rotation_duration": "720h"}),
                 ("report.yml", {"report_dir": report_dir, "report_fail_on_problems": False}))
        for playbook, extra in steps:
            log = os.path.join(workdir, playbook + ".log")
            print("report-shot: %s on a simulated 3-cluster fleet ..." % playbook, file=sys.stderr)
            if run_playbook(playbook, fleet.inventory, log, 3, extra) != 0:
                sys.exit("report-shot: %s failed:\n%s" % (playbook, tail(log)))
        return os.path.join(report_dir, "report.json")
    finally:
        fleet.stop()


def shoot(report, out_dir, stem, profile):
    """Write ``<stem>.html`` and the first screen of it as ``<stem>.png``; return the PNG path."""
    _collections()
    from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.html import render_html
    html_path = os.path.join(out_dir, stem + ".html")
    with open(html_path, "w", encoding="utf-8") as handle:
        handle.write(render_html(report))
    png = os.path.join(out_dir, stem + ".png")
    proc = subprocess.run([CHROMIUM] + FLAGS + ["--user-data-dir=%s" % profile, "--window-size=%d,%d" % SCREEN,
                                                "--screenshot=%s" % png, "file://%s" % html_path],
                          capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0 or not os.path.exists(png):
        sys.exit("report-shot: chromium failed:\n%s" % proc.stderr[-2000:])
    return png


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("report", nargs="?", help="report.json to draw (default: synthetic fleets)")
    parser.add_argument("--out", default=os.path.join(REPO, "build", "report-shot"), help="output directory")
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="synthetic fleet sizes")
    parser.add_argument("--live", action="store_true", help="draw a report of a simulated 3-cluster kubesim run")
    args = parser.parse_args(argv)

    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    ensure_chromium()
    work = tempfile.mkdtemp(prefix="report-shot-")
    try:
        source = args.report or (simulated_report(work) if args.live else None)
        if source:
            with open(source) as handle:
                drawings = [("report", json.load(handle))]
        else:
            drawings = [("report-%d" % n, synthetic_report(n)) for n in (int(s) for s in args.sizes.split(","))]
        for stem, report in drawings:
            png = shoot(report, out_dir, stem, os.path.join(work, "profile"))
            print("report-shot: %d clusters -> %s" % (len(report.get("clusters") or []), png), file=sys.stderr)
            print(png)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
