"""Benchmark: one process hosting N simulated clusters, GET throughput over HTTPS (as the admin client certificate).

Usage: .venv/bin/python bench/bench_kubesim.py [--clusters 100] [--seconds 5] [--clients 2]

Starts a kubesim Fleet in this process, then runs client *processes* (so the client's
own CPU use does not share this process's GIL) that issue simple keep-alive GETs
(a Secret, a namespace list, /version) spread over all clusters, and prints the
aggregate requests/second. The target from issue 3 is >= 1000 GETs/s for 100 clusters
on a 2-core machine.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))


def _client(ports, seconds, threads, out_q, sslctx=None):
    """One client process (forked: ``sslctx``, the fleet's client TLS context, is inherited, not pickled)."""
    import threading
    counts = [0] * threads
    errors = [0] * threads
    stop_at = time.monotonic() + seconds
    paths = ["/api/v1/namespaces/default/secrets/bench", "/api/v1/namespaces", "/version",
             "/apis/apps/v1/namespaces/default/deployments"]

    def run(i):
        conns = {}
        n = 0
        while time.monotonic() < stop_at:
            port = ports[(n * 7 + i * 13) % len(ports)]
            conn = conns.get(port)
            if conn is None:
                conn = conns[port] = (http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=sslctx) if sslctx
                                      else http.client.HTTPConnection("127.0.0.1", port, timeout=10))
            try:
                conn.request("GET", paths[n % len(paths)], headers={"Accept": "application/json"})
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    counts[i] += 1
                else:
                    errors[i] += 1
            except OSError:
                errors[i] += 1
                conns.pop(port, None)
            n += 1
    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out_q.put((sum(counts), sum(errors)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clusters", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=2, help="client processes")
    ap.add_argument("--threads", type=int, default=4, help="threads per client process")
    ap.add_argument("--preinstall", default="", help="comma-separated components, e.g. cert-manager,istio")
    ap.add_argument("--start-only", action="store_true", help="measure the fleet start, skip the GET load")
    args = ap.parse_args(argv)

    from kubesim import Fleet
    preinstall = tuple(p for p in args.preinstall.split(",") if p)
    t0 = time.monotonic()
    cpu0 = time.process_time()
    with tempfile.TemporaryDirectory(prefix="kubesim-bench-") as wd:
        fleet = Fleet(n_clusters=args.clusters, workdir=wd, preinstall=preinstall)
        fleet.start()
        started = time.monotonic() - t0
        start_cpu = time.process_time() - cpu0
        print(f"kubesim bench: {args.clusters} clusters (preinstall={','.join(preinstall) or 'none'}) started in "
              f"{started:.2f}s wall, {start_cpu:.2f} CPU-s", flush=True)
        if args.start_only:
            fleet.stop()
            return 0
        for c in fleet:
            c.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bench", "namespace": "default"},
                      "stringData": {"k": "v"}})
        ports = [c.port for c in fleet]
        sslctx = fleet.client_ssl_context() if fleet[fleet.names[0]].tls else None
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        procs = [ctx.Process(target=_client, args=(ports, args.seconds, args.threads, q, sslctx))
                 for _ in range(args.clients)]
        t1 = time.monotonic()
        for p in procs:
            p.start()
        results = [q.get() for _ in procs]
        for p in procs:
            p.join()
        elapsed = time.monotonic() - t1
        ok = sum(r[0] for r in results)
        bad = sum(r[1] for r in results)
        fleet.stop()
    print(f"kubesim bench: {args.clusters} clusters started in {started:.2f}s; "
          f"{ok} GETs in {elapsed:.2f}s = {ok / elapsed:.0f} GETs/s total "
          f"({args.clients} client processes x {args.threads} threads, {bad} errors)")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
