"""``make bench``: fleet rotation with rotate.yml vs the peers a user would write vs the floor.

One kubesim fleet of sum(BENCH_SIZES) clusters with a Secret-volume propagation delay of
BENCH_DELAY seconds (default 10) is started and brought to the deployed state once: directly
(bench/report_fleet.py, the same objects ca_setup makes; default) or, with BENCH_DEPLOY=playbook,
by deploy.yml (timed and printed, not compared; ~20 CPU-s per cluster). Then for each size N in
BENCH_SIZES (default "10,50"; "50,100,200" for the scale targets; empty skips), on N clusters no earlier
size touched (``--limit``), each step changing the Certificate's duration so that every cluster re-issues:
  rotate.yml -> rotate.yml again (no-op: nothing to rotate) -> the kubernetes.core peer
  (bench/peer_kubernetes_core.yml, the tutorial's steps in rotate.yml's batches; N <= BENCH_PEER_MAX_N,
  default 50) -> the baseline (kubectl, one cluster after another; N <= BENCH_BASELINE_MAX_N, default 50)
  -> the floor (the sum over batches of the slowest istiod pod's propagation delay, bench/floor.py).
Then report.yml on a second fleet of BENCH_REPORT_SIZE clusters (default 100; 0 skips it),
brought to the deployed state directly (bench/report_fleet.py) rather than with deploy.yml.

Prints a table, writes JSON and an SVG plot (wall time and CPU per cluster against N, floor drawn;
bench/plot.py) to bench/results/; BENCH_PLOT=path also writes the plot there.
Quick try: ``BENCH_SIZES=3,5 BENCH_REPORT_SIZE=0 make bench``.
Last, the per-task cost of one of our module tasks (x509_inspect, certificate in check mode,
istiod_reload_check) in-process and as a module process, on a 1-cluster HTTPS fleet
(bench/inprocess_cost.py): BENCH_TASK_COST=N tasks of each (default 5; 0 skips);
BENCH_ONLY=task_cost runs only that step (with N = BENCH_TASK_COST or 10).
Other knobs: BENCH_FORKS (default: N, at most 50), BENCH_SKIP_BASELINE=1, BENCH_SKIP_PEER=1, BENCH_KEEP=1
(keep the work directory with every playbook log), BASELINE_POLL_S (baseline and peer poll interval, 1).
Targets (issue 16) are checked at every size and for the report run; a miss is printed, not hidden.
"""

import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import baseline  # noqa: E402
import floor  # noqa: E402
import peer  # noqa: E402
import plot  # noqa: E402
from fleet import REPO, deploy_vars, make_root_ca, start_fleet  # noqa: E402
from measure import Step, run_playbook, tail  # noqa: E402
from report_fleet import start_deployed_fleet  # noqa: E402

# Issue 16's targets. Per size: rotate_over_floor_max, cpu_s_per_cluster_max, requests_per_cluster_max,
# noop_requests_per_cluster_max; cpu_flat_max: CPU per cluster at the largest size within 20 % of the smallest;
# at noop_size (and above): noop_wall_s_per_cluster_max; at baseline_size: speedup_vs_baseline_min;
# report.yml at report_size: report_wall_s_max.
TARGETS = {"rotate_over_floor_max": 1.5, "cpu_s_per_cluster_max": 1.0, "cpu_flat_max": 0.20,
           "requests_per_cluster_max": 30.0, "noop_requests_per_cluster_max": 10.0,
           "noop_wall_s_per_cluster_max": 0.1, "noop_size": 200, "speedup_vs_baseline_min": 6.0,
           "baseline_size": 50, "report_wall_s_max": 20.0, "report_size": 200}
NEW_DURATION = "720h"        # the upstream tutorial's rotation: 1440h -> 720h
BASELINE_DURATION = "1440h"  # the next step changes it back, so it too re-issues every cluster


def _other_duration(fleet, name):
    """The duration a step applies: the one the cluster's cacerts Certificate does not have now."""
    cert = fleet[name].get("cert-manager.io/v1", "certificates", "istio-system", "cacerts") or {}
    return BASELINE_DURATION if (cert.get("spec") or {}).get("duration") == NEW_DURATION else NEW_DURATION


def _env_int(name, default):
    return int(os.environ.get(name, default))


def _secret_serials(fleet):
    """Each cluster's current cacerts tls.crt (to count clusters a step really changed)."""
    out = {}
    for cluster in fleet.clusters:
        secret = cluster.get("v1", "secrets", "istio-system", "cacerts") or {}
        out[cluster.name] = (secret.get("data") or {}).get("tls.crt")
    return out


def _changed(before, after):
    return sum(1 for name in after if after[name] and after[name] != before.get(name))


def _top_tasks(log_path, limit=6):
    """The slowest tasks from the profile_tasks callback summary at the end of a log."""
    rows = []
    with open(log_path, errors="replace") as handle:
        for line in handle:
            match = re.match(r"^(.+?) -+ (\d+\.\d+)s$", line.strip())
            if match:
                rows.append((float(match.group(2)), match.group(1).strip()))
    rows.sort(reverse=True)
    return [{"task": name, "s": secs} for secs, name in rows[:limit]]


def _playbook_step(label, fleet, workdir, playbook, forks, extra, names=None):
    log = os.path.join(workdir, "%s.log" % label.replace(" ", "-").replace("/", "-"))
    before = _secret_serials(fleet)
    limit = names if names and len(names) < len(fleet.clusters) else None
    with Step(label, fleet, names) as step:
        rc = run_playbook(playbook, fleet.inventory, log, forks, extra, limit=limit,
                          env={"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
                               "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "12"})
    result = dict(step.result, rc=rc, log=log, clusters_changed=_changed(before, _secret_serials(fleet)),
                  slowest_tasks=_top_tasks(log))
    if rc != 0:
        print("  !! %s failed (rc=%d); last lines of %s:\n%s" % (label, rc, log, tail(log)))
    return result


def _print_step(result):
    print("  %-14s wall %7.1fs  cpu %6.2fs/cluster  api %6.1f req/cluster (max %d)  changed %s  rc=%s" % (
        result["label"], result["wall_s"], result["cpu_s_per_cluster"], result["requests_per_cluster"],
        result["requests_max_cluster"], result.get("clusters_changed", "-"), result.get("rc", 0)))


def bench_size(fleet, n, offset, delay, forks, workdir, skip, save=lambda out: None):
    """Every step for size ``n`` on clusters offset+1..offset+n, which no earlier size touched: the
    baseline's client-side ``kubectl apply`` (and the peer's kubernetes.core apply) make their field managers
    own spec.duration, and rotate.yml's server-side apply (force=false) then rightly refuses to take that
    field over. ``skip``: the steps not to run at this size ({"peer", "baseline"})."""
    names = [c.name for c in fleet.clusters[offset:offset + n]]
    print("\n== N=%d clusters (%s..%s), propagation delay %ss, forks %d" % (n, names[0], names[-1], delay, forks))
    out = {"clusters": n, "propagation_delay_s": delay, "forks": forks}
    serial = floor.rotate_serial(os.path.join(REPO, "playbooks", "rotate.yml"))
    rvars = {"ca_rotation_duration": NEW_DURATION}
    out["rotate"] = _playbook_step("rotate-n%d" % n, fleet, workdir, "rotate.yml", forks, rvars, names)
    out["floor"] = _floor(fleet, names, serial, delay)
    _print_step(out["rotate"])
    save(out)
    out["rotate_noop"] = _playbook_step("rotate-noop-n%d" % n, fleet, workdir, "rotate.yml", forks, rvars, names)
    _print_step(out["rotate_noop"])
    save(out)
    if "peer" not in skip:
        manifests = peer.prepare_manifests(fleet.kubeconfig, names, _other_duration(fleet, names[0]), workdir)
        out["peer"] = _playbook_step("peer-n%d" % n, fleet, workdir, peer.PLAYBOOK, forks,
                                     peer.extra_vars(manifests), names)
        out["peer"]["floor"] = _floor(fleet, names, serial, delay)
        _print_step(out["peer"])
        save(out)
    if "baseline" not in skip:
        out["baseline"] = _baseline_step(fleet, names, workdir, _other_duration(fleet, names[0]))
        out["baseline"]["floor"] = _floor(fleet, names, [1], delay)  # one cluster after another
        _print_step(out["baseline"])
    print("  floor          %d batches %s, slowest pod per batch %s s (%s delays) = %.1fs" % (
        out["floor"]["batch_count"], out["floor"]["batches"], out["floor"]["batch_delays_s"],
        out["floor"]["delays_source"], out["floor"]["floor_s"]))
    out["ratios"] = _ratios(out)
    _print_ratios(out["ratios"])
    return out


def _floor(fleet, names, serial, delay):
    """The floor of a step just run on ``names``, from the per-pod delays the fleet reports for it."""
    delays, source = floor.fleet_pod_delays(fleet, names)
    return dict(floor.floor_seconds(len(names), serial, delay, delays), serial=floor.describe(serial),
                delays_source=source)


def _print_ratios(ratios):
    parts = []
    if "rotate_over_floor" in ratios:
        parts.append("rotate.yml %.2fx the floor" % ratios["rotate_over_floor"])
    if "speedup_vs_peer" in ratios:
        parts.append("%s than the kubernetes.core peer (peer wall / rotate.yml wall %.2f; the peer %.2fx its floor)" % (
            _speed(ratios["speedup_vs_peer"]), ratios["speedup_vs_peer"], ratios.get("peer_over_floor", 0)))
    if "speedup_vs_baseline" in ratios:
        parts.append("%s than the kubectl baseline (%.2f)" % (_speed(ratios["speedup_vs_baseline"]),
                                                              ratios["speedup_vs_baseline"]))
    if parts:
        print("  ratio          " + "; ".join(parts))


def _baseline_step(fleet, names, workdir, duration):
    plans = baseline.prepare_fleet(fleet.kubeconfig, names, duration, workdir)
    before = _secret_serials(fleet)
    with Step("baseline-n%d" % len(names), fleet, names) as step:
        per_cluster, failures = baseline.run(plans)
    result = dict(step.result, rc=1 if failures else 0, clusters_changed=_changed(before, _secret_serials(fleet)),
                  per_cluster_s_mean=round(sum(per_cluster.values()) / max(len(per_cluster), 1), 2),
                  failures=failures, poll_s=baseline.POLL_S)
    if failures:
        print("  !! baseline failed on %d clusters, e.g. %s" % (len(failures), sorted(failures.items())[0]))
    return result


def _ratios(out):
    ratios = {}
    rotate = out.get("rotate")
    if rotate and rotate["rc"] == 0:
        if out.get("baseline") and out["baseline"]["rc"] == 0:
            ratios["rotate_over_baseline"] = round(rotate["wall_s"] / out["baseline"]["wall_s"], 3)
            ratios["speedup_vs_baseline"] = round(out["baseline"]["wall_s"] / rotate["wall_s"], 2)
        ratios["rotate_over_floor"] = round(rotate["wall_s"] / out["floor"]["floor_s"], 2)
        if out.get("peer") and out["peer"]["rc"] == 0:
            ratios["speedup_vs_peer"] = round(out["peer"]["wall_s"] / rotate["wall_s"], 2)
            ratios["cpu_vs_peer"] = round(out["peer"]["cpu_s"] / max(rotate["cpu_s"], 0.01), 2)
    if out.get("peer") and out["peer"]["rc"] == 0:
        ratios["peer_over_floor"] = round(out["peer"]["wall_s"] / out["peer"]["floor"]["floor_s"], 2)
    return ratios


def bench_report(n, delay, forks, workdir):
    """report.yml on a fleet of ``n`` clusters brought to the deployed state directly (bench/report_fleet.py)."""
    print("\n== report.yml on N=%d clusters (forks %d)" % (n, forks))
    started = time.monotonic()
    fleet = start_deployed_fleet(n, os.path.join(workdir, "report-fleet"), delay)
    try:
        setup_s = round(time.monotonic() - started, 1)
        print("  %d clusters set up in the deployed state directly in %.1fs (not measured)" % (n, setup_s))
        out = _report_step(fleet, n, forks, workdir)
        out["setup_s"] = setup_s
        return out
    finally:
        fleet.stop()


def _report_step(fleet, n, forks, workdir):
    names = [c.name for c in fleet.clusters[:n]]
    report_dir = os.path.join(workdir, "report")
    out = {"clusters": n, "forks": forks}
    out["report"] = _playbook_step("report-n%d" % n, fleet, workdir, "report.yml", forks, {"report_dir": report_dir},
                                   names)
    out["report"]["files"] = sorted(os.listdir(report_dir)) if os.path.isdir(report_dir) else []
    _print_step(out["report"])
    return out


def _check_targets(results):
    """Issue 16's targets against what was measured; a size not run is not checked (nothing is assumed)."""
    t, checks = TARGETS, []
    sizes = sorted((int(n), size) for n, size in results["sizes"].items())
    for n, size in sizes:
        rot, noop, ratios = size.get("rotate"), size.get("rotate_noop"), size.get("ratios", {})
        if rot:
            checks.append(("N=%d rotate.yml rotated every cluster" % n, rot["clusters_changed"],
                           lambda v, n=n, rot=rot: v == n and rot["rc"] == 0))
            checks.append(("N=%d rotate.yml <= %gx the floor" % (n, t["rotate_over_floor_max"]),
                           ratios.get("rotate_over_floor"), lambda v: v <= t["rotate_over_floor_max"]))
            checks.append(("N=%d <= %g controller CPU-s per cluster" % (n, t["cpu_s_per_cluster_max"]),
                           rot["cpu_s_per_cluster"], lambda v: v <= t["cpu_s_per_cluster_max"]))
            checks.append(("N=%d <= %g API requests per cluster" % (n, t["requests_per_cluster_max"]),
                           rot["requests_per_cluster"], lambda v: v <= t["requests_per_cluster_max"]))
        if noop:
            checks.append(("N=%d no-op rerun <= %g API requests per cluster" % (n, t["noop_requests_per_cluster_max"]),
                           noop["requests_per_cluster"], lambda v: v <= t["noop_requests_per_cluster_max"]))
            if n >= t["noop_size"]:
                checks.append(("N=%d no-op rerun <= %gs wall per cluster" % (n, t["noop_wall_s_per_cluster_max"]),
                               round(noop["wall_s"] / n, 3), lambda v: v <= t["noop_wall_s_per_cluster_max"]))
        if n == t["baseline_size"] and size.get("baseline"):
            checks.append(("N=%d rotate.yml >= %gx faster than the kubectl baseline" % (n, t["speedup_vs_baseline_min"]),
                           ratios.get("speedup_vs_baseline"), lambda v: v >= t["speedup_vs_baseline_min"]))
    cpu = [(n, size["rotate"]["cpu_s_per_cluster"]) for n, size in sizes if size.get("rotate")]
    if len(cpu) >= 2:
        (small, small_cpu), (large, large_cpu) = cpu[0], cpu[-1]
        checks.append(("CPU per cluster at N=%d within %d%% of N=%d" % (large, t["cpu_flat_max"] * 100, small),
                       round(large_cpu / max(small_cpu, 0.001) - 1, 3), lambda v: v <= t["cpu_flat_max"]))
    report = results.get("report", {}).get("report")
    if report:
        n = results["report"]["clusters"]
        checks.append(("report.yml on %d clusters <= %gs (target at N=%d)" % (n, t["report_wall_s_max"], t["report_size"]),
                       report["wall_s"], lambda v: v <= t["report_wall_s_max"] and report["rc"] == 0))
    return [{"target": name, "value": value, "met": bool(value is not None and ok(value))}
            for name, value, ok in checks]


STEP_LABELS = {"rotate": "rotate.yml", "rotate_noop": "rotate.yml no-op rerun",
               "peer": "peer: kubernetes.core playbook, same batches", "baseline": "baseline: kubectl, sequential"}


def _table(results):
    lines = ["| N | step | wall s | CPU-s / cluster | API req / cluster | clusters changed | vs peer | vs baseline "
             "| vs floor |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    deploy = results.get("deploy")
    if deploy:
        lines.append("| %d | deploy.yml (setup, not compared)%s | %.1f | %.2f | %.1f | %s | | | |" % (
            deploy["clusters"], " (FAILED rc=%s)" % deploy["rc"] if deploy["rc"] else "", deploy["wall_s"],
            deploy["cpu_s_per_cluster"], deploy["requests_per_cluster"], deploy["clusters_changed"]))
    for n, size in sorted(results["sizes"].items(), key=lambda kv: int(kv[0])):
        ratios = size.get("ratios", {})
        for key in ("rotate", "rotate_noop", "peer", "baseline"):
            step = size.get(key)
            if not step:
                continue
            vs_peer = vs_base = vs_floor = ""
            if key == "rotate":
                vs_peer = _speed(ratios.get("speedup_vs_peer"))
                vs_base = _speed(ratios.get("speedup_vs_baseline"))
                vs_floor = "%.2fx" % ratios["rotate_over_floor"] if "rotate_over_floor" in ratios else ""
            if key == "peer" and "peer_over_floor" in ratios:
                vs_floor = "%.2fx" % ratios["peer_over_floor"]
            label = STEP_LABELS[key] + (" (FAILED rc=%s)" % step["rc"] if step.get("rc") else "")
            lines.append("| %s | %s | %.1f | %.2f | %.1f | %s | %s | %s | %s |" % (
                n, label, step["wall_s"], step["cpu_s_per_cluster"], step["requests_per_cluster"],
                step.get("clusters_changed", ""), vs_peer, vs_base, vs_floor))
        if size.get("floor"):
            fl = size["floor"]
            lines.append("| %s | floor: %d batches, slowest pod of each (%s) | %.1f | | | | | | 1.00x |" % (
                n, fl["batch_count"], "%gs fixed" % size["propagation_delay_s"] if fl.get("delays_source") == "fixed"
                else "per-pod delays", fl["floor_s"]))
    report = results.get("report", {}).get("report")
    if report:
        lines.append("| %d | report.yml | %.1f | %.2f | %.1f | | | | |" % (
            results["report"]["clusters"], report["wall_s"], report["cpu_s_per_cluster"], report["requests_per_cluster"]))
    return "\n".join(lines)


def _speed(speedup):
    """rotate.yml's speed-up over another step as a table cell (other wall / rotate.yml wall)."""
    if speedup is None:
        return ""
    return "%.1fx faster" % speedup if speedup >= 1 else "%.1fx slower" % (1 / speedup)


def _meta():
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": out(["git", "rev-parse", "--short", "HEAD"]), "cpus": os.cpu_count(),
            "python": platform.python_version(), "machine": platform.machine(),
            "ansible_core": out([os.path.join(REPO, ".venv", "bin", "ansible-playbook"), "--version"]).split("\n")[0],
            "kubectl": out(["kubectl", "version", "--client"]).split("\n")[0]}


def _save_partial(results_dir, results):
    """Results so far (a long run interrupted still leaves its measurements)."""
    with open(os.path.join(results_dir, "partial.json"), "w") as handle:
        json.dump(results, handle, indent=2, sort_keys=True)


def _plot(results, path, results_dir):
    """The SVG plot next to the JSON (and latest.svg; and BENCH_PLOT when set, e.g. for docs/)."""
    targets = [path, os.path.join(results_dir, "latest.svg")] + ([os.environ["BENCH_PLOT"]]
                                                                 if os.environ.get("BENCH_PLOT") else [])
    try:
        for target in targets:
            plot.write(results, target)
    except ValueError as exc:  # no size ran (BENCH_SIZES empty, or every step failed)
        print("plot: not written (%s)" % exc)
        return
    print("plot: %s" % ", ".join(targets))


def _task_cost_table(cost):
    modes = cost["cpu_s_per_task"]
    kinds = [k for k in modes["in_process"] if k != "startup"]
    lines = ["| controller CPU-s per task (%d tasks each, %s) | %s |" % (
        cost["tasks_per_module"], cost["transport"], " | ".join(kinds)), "|---|" + "---:|" * len(kinds)]
    for mode, label in (("in_process", "in-process (local connection)"), ("module", "module process")):
        lines.append("| %s | %s |" % (label, " | ".join("%.3f" % modes[mode][k] for k in kinds)))
    return "\n".join(lines)


def bench_task_cost(n, results_dir):
    """Per-task CPU of our modules in-process and as module processes (bench/inprocess_cost.py)."""
    import inprocess_cost  # pylint: disable=import-outside-toplevel
    print("== per-task cost: %d tasks of each module, in-process and module process" % n)
    cost = inprocess_cost.measure(n)
    cost["meta"] = _meta()
    with open(os.path.join(results_dir, "task-cost-%s.json" % time.strftime("%Y%m%d-%H%M%S")), "w") as handle:
        json.dump(cost, handle, indent=2, sort_keys=True)
    print("\n" + _task_cost_table(cost) + "\n")
    return cost


def main():
    if os.environ.get("BENCH_ONLY") == "task_cost":
        results_dir = os.path.join(HERE, "results")
        os.makedirs(results_dir, exist_ok=True)
        bench_task_cost(_env_int("BENCH_TASK_COST", 10) or 10, results_dir)
        return 0
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "10,50").split(",") if s.strip()]
    delay = float(os.environ.get("BENCH_DELAY", "10"))
    report_size = _env_int("BENCH_REPORT_SIZE", 100)
    skip_baseline = os.environ.get("BENCH_SKIP_BASELINE") == "1"
    skip_peer = os.environ.get("BENCH_SKIP_PEER") == "1"
    baseline_max = _env_int("BENCH_BASELINE_MAX_N", TARGETS["baseline_size"])
    peer_max = _env_int("BENCH_PEER_MAX_N", 50)
    keep = os.environ.get("BENCH_KEEP") == "1"
    deploy_mode = os.environ.get("BENCH_DEPLOY", "direct")
    total = sum(sizes)
    results_dir = os.path.join(HERE, "results")
    os.makedirs(results_dir, exist_ok=True)
    results = {"meta": _meta(), "targets": TARGETS, "sizes": {}}
    workdir = tempfile.mkdtemp(prefix="meshpki-bench-")
    failed = False
    fleet = None
    try:
        if total:
            print("== fleet: %d kubesim clusters, propagation delay %ss (work dir %s)" % (total, delay, workdir))
            started = time.monotonic()
            if deploy_mode == "playbook":
                fleet = start_fleet(total, os.path.join(workdir, "fleet"), delay)
                results["fleet"] = {"clusters": total, "start_s": round(time.monotonic() - started, 2),
                                    "deployed_by": "deploy.yml"}
                root_cert, root_key = make_root_ca(workdir)
                forks = _env_int("BENCH_FORKS", min(total, 50))
                results["deploy"] = _playbook_step("deploy-n%d" % total, fleet, workdir, "deploy.yml", forks,
                                                   deploy_vars(root_cert, root_key))
                _print_step(results["deploy"])
                failed = results["deploy"]["rc"] != 0
            else:
                fleet = start_deployed_fleet(total, os.path.join(workdir, "fleet"), delay)
                results["fleet"] = {"clusters": total, "start_s": round(time.monotonic() - started, 2),
                                    "deployed_by": "direct set-up (bench/report_fleet.py)"}
                print("  %d clusters set up in the deployed state directly in %.1fs (BENCH_DEPLOY=playbook times "
                      "deploy.yml instead)" % (total, results["fleet"]["start_s"]))
            _save_partial(results_dir, results)
            offset = 0
            for n in sorted(sizes) if not failed else []:
                skip = set(["baseline"] if skip_baseline or n > baseline_max else []) | \
                    set(["peer"] if skip_peer or n > peer_max else [])
                size = bench_size(fleet, n, offset, delay, _env_int("BENCH_FORKS", min(n, 50)), workdir, skip,
                                  save=lambda out, n=n: _save_partial(results_dir, dict(results, current={str(n): out})))
                offset += n
                results["sizes"][str(n)] = size
                _save_partial(results_dir, results)
                failed = failed or any(size.get(k, {}).get("rc") for k in ("rotate", "rotate_noop", "peer", "baseline"))
            fleet.stop()
            fleet = None
        if report_size:
            results["report"] = bench_report(report_size, delay, _env_int("BENCH_FORKS", min(report_size, 50)),
                                             workdir)
            failed = failed or results["report"]["report"]["rc"] != 0
        if _env_int("BENCH_TASK_COST", 5):
            results["task_cost"] = bench_task_cost(_env_int("BENCH_TASK_COST", 5), results_dir)
    finally:
        if fleet is not None:
            fleet.stop()
        results["checks"] = _check_targets(results)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = os.path.join(results_dir, "bench-%s.json" % stamp)
        with open(path, "w") as handle:
            json.dump(results, handle, indent=2, sort_keys=True)
        shutil.copyfile(path, os.path.join(results_dir, "latest.json"))
        print("\n" + _table(results) + "\n")
        for check in results["checks"]:
            print("  [%s] %s: %s" % ("met" if check["met"] else "MISSED", check["target"], check["value"]))
        print("\nresults: %s" % path)
        _plot(results, path[:-len(".json")] + ".svg", results_dir)
        if keep:
            print("work dir kept (playbook logs): %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
