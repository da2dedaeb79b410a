"""mTLS handshakes between the simulated workloads, in and across the clusters of a fleet, and their tally.

Each handshake is what two Envoys check with Istio's ``ISTIO_MUTUAL`` settings: the client verifies the
server's chain (leaf + the intermediates it sends) against its ROOTCA trust anchors, the server verifies the
client's chain against its own, both at their own cluster's (simulated) time; each also checks the peer's
SPIFFE URI SAN. Path building and signature checks are cryptography's X.509 verifier
(``cryptography.x509.verification``, RFC 5280 path validation), not a re-implementation.

One round: every ready workload connects once to a peer in its own cluster and once to a peer in the next
cluster (the pairing rotates from round to round). Rounds run every ``interval`` simulated seconds on the
first cluster's clock (which moves with real time, and jumps with ``advance``) and on ``round_now()``.
Every attempt counts; every failure is kept (time, client, server, reason) and, with a ``workdir``, appended
to ``mtls-failures.jsonl``; ``mtls-summary.json`` is rewritten after each round.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from pathlib import Path
from typing import List, Optional

from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from .agent import Agent

SUMMARY_FILE = "mtls-summary.json"
FAILURES_FILE = "mtls-failures.jsonl"
DEFAULT_INTERVAL = 5.0


def verify_peer(peer: Agent, trust: List[x509.Certificate], now: _dt.datetime) -> Optional[str]:
    """The reason ``peer``'s chain is not accepted by a side trusting ``trust`` at ``now``, or None."""
    if not peer.chain:
        return "peer presented no certificate"
    if not trust:
        return "no trust anchors"
    try:
        verifier = PolicyBuilder().store(Store(trust)).time(now).build_client_verifier()
        verified = verifier.verify(peer.chain[0], peer.chain[1:])
    except VerificationError as exc:
        return f"certificate verify failed: {exc}"
    uris = [s.value for s in verified.subjects or [] if isinstance(s, x509.UniformResourceIdentifier)]
    if peer.identity not in uris:
        return f"SAN mismatch: {uris} is not {peer.identity}"
    return None


class MeshTraffic:
    """The fleet's handshake loop and tally (``Fleet.mesh``)."""

    def __init__(self, fleet, sims, workdir: Optional[Path] = None, interval: float = DEFAULT_INTERVAL):
        self.fleet = fleet
        self.sims = list(sims)  # one WorkloadSim per cluster, fleet order
        self.workdir = Path(workdir) if workdir is not None else None
        self.interval = float(interval)
        self.lock = threading.Lock()
        self.rounds = 0
        self.attempted = 0
        self.failed = 0
        self.failures: List[dict] = []
        self.since = self._clock_cluster.now()
        self.running = False

    @property
    def _clock_cluster(self):
        return self.sims[0].cluster

    # ------------------------------------------------------------------ loop

    def start(self) -> None:
        self.running = True
        self.reset()
        self._clock_cluster.schedule(self.interval, self._tick, key="mesh/mtls-round")

    def stop(self) -> None:
        self.running = False

    def _tick(self) -> None:
        if not self.running:
            return
        try:
            self.round()
        finally:
            self._clock_cluster.schedule(self.interval, self._tick, key="mesh/mtls-round")

    def round_now(self, timeout: float = 30.0) -> dict:
        """Run one round on the scheduler thread (after the work already due) and return the summary."""
        done = threading.Event()

        def run():
            try:
                self.round()
            finally:
                done.set()
        self._clock_cluster.schedule(0, run, key="mesh/mtls-round-now")
        if not done.wait(timeout):
            raise TimeoutError("the mTLS round did not run")
        return self.summary()

    def round(self) -> None:
        """One round of handshakes (runs on the scheduler thread, where every agent changes)."""
        ready = [s.ready_agents() for s in self.sims]
        n = len(ready)
        r = self.rounds
        pairs = []
        for ci, agents in enumerate(ready):
            for i, client in enumerate(agents):
                if len(agents) > 1:
                    off = 1 + r % (len(agents) - 1)
                    pairs.append((ci, client, ci, agents[(i + off) % len(agents)]))
                if n > 1:
                    cj = (ci + 1 + r % (n - 1)) % n
                    if ready[cj]:
                        pairs.append((ci, client, cj, ready[cj][(i + r) % len(ready[cj])]))
        results = []
        for ci, client, cj, server in pairs:
            c_now = self.sims[ci].cluster.now()
            s_now = self.sims[cj].cluster.now()
            reason = verify_peer(server, client.trust_anchors(), c_now)
            if reason:
                reason = f"client rejected the server: {reason}"
            else:
                reason = verify_peer(client, server.trust_anchors(), s_now)
                if reason:
                    reason = f"server rejected the client: {reason}"
            results.append((c_now, client.name, server.name, reason))
        self._record(results)

    def _record(self, results) -> None:
        failures = [{"time": t.isoformat().replace("+00:00", "Z"), "client": c, "server": s, "reason": why}
                    for t, c, s, why in results if why]
        with self.lock:
            self.rounds += 1
            self.attempted += len(results)
            self.failed += len(failures)
            self.failures.extend(failures)
            summary = self._summary_locked()
        if self.workdir is not None:
            if failures:
                with open(self.workdir / FAILURES_FILE, "a", encoding="utf-8") as fh:
                    fh.writelines(json.dumps(f, sort_keys=True) + "\n" for f in failures)
            self._write_summary(summary)

    # ------------------------------------------------------------------ tally

    def _summary_locked(self) -> dict:
        return {"attempted": self.attempted, "failed": self.failed,
                "since": self.since.isoformat().replace("+00:00", "Z"), "rounds": self.rounds}

    def summary(self) -> dict:
        with self.lock:
            return self._summary_locked()

    def failure_list(self) -> List[dict]:
        with self.lock:
            return list(self.failures)

    def reset(self) -> None:
        """Start a new tally now (also truncates the failures file)."""
        with self.lock:
            self.rounds = self.attempted = self.failed = 0
            self.failures = []
            self.since = self._clock_cluster.now()
            summary = self._summary_locked()
        if self.workdir is not None:
            (self.workdir / FAILURES_FILE).write_text("")
            self._write_summary(summary)

    def _write_summary(self, summary: dict) -> None:
        path = self.workdir / SUMMARY_FILE
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(summary, sort_keys=True) + "\n")
        os.replace(tmp, path)
