"""``kubesim --clusters N --workdir DIR ...``: run a simulated fleet until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .controllers.latency import parse_profile
from .fleet import Fleet
from .manifests import COMPONENTS, DEFAULT_CERT_MANAGER_VERSION, DEFAULT_ISTIO_VERSION, ISTIO_MANAGERS


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kubesim", description="Run a simulated Kubernetes fleet (test "
                                "infrastructure: a simulation of the API, cert-manager and istiod, not the real "
                                "software).")
    p.add_argument("--clusters", type=int, default=3, help="number of clusters (cluster-1..N)")
    p.add_argument("--workdir", required=True, help="where kubeconfig, inventory.yml and ready are written")
    p.add_argument("--preinstall", default="", help=f"comma-separated components: {','.join(COMPONENTS)}")
    p.add_argument("--istio-version", default=DEFAULT_ISTIO_VERSION)
    p.add_argument("--cert-manager-version", default=DEFAULT_CERT_MANAGER_VERSION)
    p.add_argument("--istio-managed-by", default="none", choices=ISTIO_MANAGERS,
                   help="label the preinstalled istiod as this installer does (helm: the chart's labels)")
    p.add_argument("--propagation-delay", type=float, default=0.0,
                   help="seconds before a changed Secret reaches istiod's volume (simulated kubelet delay)")
    p.add_argument("--propagation-jitter", type=float, default=0.0,
                   help="up to this many more seconds per pod and change (seeded), on top of --propagation-delay")
    p.add_argument("--plain-http", action="store_true",
                   help="serve plain HTTP without authentication (default: HTTPS with a cluster CA, client "
                        "certificates and RBAC; also KUBESIM_PLAIN_HTTP=1)")
    p.add_argument("--anonymous-auth", action="store_true",
                   help="treat requests without credentials as system:anonymous instead of answering 401")
    p.add_argument("--workloads", type=int, default=0,
                   help="simulated sidecar workloads per cluster, doing mTLS handshakes in and across clusters; "
                        "tally in WORKDIR/mtls-summary.json, failures in WORKDIR/mtls-failures.jsonl")
    p.add_argument("--workload-cert-ttl", type=float, default=24 * 3600.0,
                   help="workload certificate TTL in seconds the agents request (SECRET_TTL, default 24h)")
    p.add_argument("--mtls-interval", type=float, default=5.0,
                   help="seconds (simulated, which pass with real time) between rounds of handshakes")
    p.add_argument("--sync-writes", action="store_true",
                   help="an HTTP write returns only after the controller work it made immediately due has run "
                        "(default: asynchronous like a real cluster, controllers act after their modelled latency)")
    p.add_argument("--controller-latency", default=None, metavar="PROFILE|NAME=LOW:HIGH,...",
                   help="per-hop controller latency in seconds: 'realistic' (default), 'instant' (default with "
                        "--sync-writes) or ranges such as cert-manager=0.5:3,kubelet=1:2 on top of 'realistic'")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the modelled latencies, to replay a run (default: $KUBESIM_SEED, else random; "
                        "printed at start)")
    p.add_argument("--verbose", "-v", action="store_true")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    components = [c.strip() for c in args.preinstall.split(",") if c.strip()]
    unknown = [c for c in components if c not in COMPONENTS]
    if unknown:
        print(f"kubesim: unknown --preinstall component(s): {', '.join(unknown)} (known: {', '.join(COMPONENTS)})",
              file=sys.stderr)
        return 2
    if args.clusters < 1:
        print("kubesim: --clusters must be at least 1", file=sys.stderr)
        return 2
    if args.propagation_jitter < 0:
        print("kubesim: --propagation-jitter must be at least 0", file=sys.stderr)
        return 2
    if args.workloads < 0 or args.workload_cert_ttl <= 0 or args.mtls_interval <= 0:
        print("kubesim: --workloads must be at least 0, --workload-cert-ttl and --mtls-interval above 0",
              file=sys.stderr)
        return 2
    try:
        parse_profile(args.controller_latency, args.sync_writes)
    except ValueError as exc:
        print(f"kubesim: --controller-latency: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fleet = Fleet(n_clusters=args.clusters, workdir=args.workdir, preinstall=components,
                  istio_version=args.istio_version, cert_manager_version=args.cert_manager_version,
                  propagation_delay=args.propagation_delay,
                  propagation_jitter=args.propagation_jitter, tls=False if args.plain_http else None,
                  anonymous_auth=args.anonymous_auth, workloads=args.workloads,
                  workload_cert_ttl=args.workload_cert_ttl, mtls_interval=args.mtls_interval,
                  istio_managed_by=args.istio_managed_by, sync_writes=args.sync_writes,
                  controller_latency=args.controller_latency, seed=args.seed)
    fleet.start()
    print(f"kubesim: {len(fleet)} clusters ready; kubeconfig {fleet.kubeconfig}; inventory {fleet.inventory}; "
          f"{'synchronous' if fleet.sync_writes else 'asynchronous'} writes, seed {fleet.seed}",
          flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        fleet.stop()
    print("kubesim: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
