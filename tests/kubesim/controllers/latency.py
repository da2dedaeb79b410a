"""How long a simulated controller takes to act on a change: the per-hop latency model.

A real controller never acts inside the client's request. The API server commits, the controller's
informer sees the watch event, its event handler adds the object's key to a workqueue and a worker
picks it up (cert-manager ``pkg/controller/util.go``: ``QueuingEventHandler`` → ``queue.Add``;
``pkg/controller/controller.go``: ``worker``, which re-queues a failed key with ``AddRateLimited``). Each such *hop* costs the
watch delivery plus the worker's turn. cert-manager's issuance is a chain of hops through separate
controllers, each reacting to the previous one's write (``pkg/controller/certificates/``:
``trigger`` sets Issuing=True → ``keymanager`` writes the next private key Secret →
``requestmanager`` creates the CertificateRequest → ``certificaterequests/approver`` approves it →
the issuer's controller (``certificaterequests/ca``, ``…/selfsigned``) signs it → ``issuing``
writes the Secret and ``status.revision`` → ``readiness`` sets Ready), so a Certificate is issued
from under a second to a few seconds after ``kubectl apply`` returned. A failed reconcile is
re-queued through the rate limiter instead (``DefaultCertificateRateLimiter``: 1 s doubling to
30 s, ``pkg/controller/util.go``; the certificates controllers, e.g.
``pkg/controller/certificates/issuing/issuing_controller.go``, build their queues with it).

The model: every hop of a controller draws a delay uniformly from its ``(low, high)`` range in
simulated seconds (which pass with wall time), from a random generator seeded per fleet and
cluster, so that a failing run can be replayed with the same seed (``Fleet(seed=…)``,
``kubesim --seed``). The ranges are a model of the order of magnitude, not measurements.

Profiles:

- ``realistic`` (the default with asynchronous writes): cert-manager 0.05–0.3 s per hop (a
  self-signed issuance then takes about 1–1.5 s from the create to the Secret, 0.35 s at the least); kube-controller-manager's Deployment/ReplicaSet/Job/… controllers
  up to 50 ms; the kubelet starting a Pod 0.1–0.5 s (a real one takes seconds with image pulls; kept short
  because every fleet start waits for it).
- ``instant`` (the default with ``sync_writes=True``): every hop takes its controller's fixed
  nominal delay — core controllers at once, cert-manager's steps a fixed 0.05–0.15 s — as kubesim
  behaved before writes became asynchronous.
"""

from __future__ import annotations

import random
from typing import Dict, Mapping, Optional, Tuple, Union

CERT_MANAGER = "cert-manager"
KUBE_CONTROLLER_MANAGER = "kube-controller-manager"
KUBELET = "kubelet"

# cert-manager pkg/controller/util.go DefaultCertificateRateLimiter: the first re-queue after a failed
# reconcile (a 409 Conflict on a status write, for example) waits its base delay.
CERTIFICATE_RATE_LIMITER_BASE = 1.0

PROFILES: Dict[str, Dict[str, Tuple[float, float]]] = {
    "instant": {},
    "realistic": {
        CERT_MANAGER: (0.05, 0.3),
        KUBE_CONTROLLER_MANAGER: (0.0, 0.05),
        KUBELET: (0.1, 0.5),
    },
}

LatencySpec = Union[None, str, Mapping[str, Tuple[float, float]]]


def parse_profile(spec: LatencySpec, sync_writes: bool = False) -> Dict[str, Tuple[float, float]]:
    """A profile name, a ``{controller: (low, high)}`` mapping or a CLI string
    (``realistic``, ``instant``, ``cert-manager=0.5:3,kubelet=1:2``) → the ranges. ``None`` picks
    ``instant`` for synchronous writes and ``realistic`` otherwise. Bad input raises ValueError."""
    if spec is None:
        return dict(PROFILES["instant" if sync_writes else "realistic"])
    if isinstance(spec, str):
        if spec in PROFILES:
            return dict(PROFILES[spec])
        out = dict(PROFILES["realistic"])
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            name, sep, rng = part.partition("=")
            low, sep2, high = rng.partition(":")
            if not sep or not name.strip():
                raise ValueError(f"controller latency {part!r}: want NAME=LOW:HIGH (seconds) or one of "
                                 f"{', '.join(sorted(PROFILES))}")
            try:
                out[name.strip()] = (float(low), float(high if sep2 else low))
            except ValueError:
                raise ValueError(f"controller latency {part!r}: LOW and HIGH must be numbers of seconds") from None
        spec = out
    ranges = {}
    for name, pair in dict(spec).items():
        low, high = (float(x) for x in pair)
        if low < 0 or high < low:
            raise ValueError(f"controller latency for {name}: want 0 <= low <= high, got {low}:{high}")
        ranges[str(name)] = (low, high)
    return ranges


class Latency:
    """One cluster's hop delays. ``hop(controller, nominal)``: the delay before that controller's next
    step — ``nominal`` (the controller's own fixed delay) when the profile has no range for it."""

    def __init__(self, ranges: Optional[Mapping[str, Tuple[float, float]]] = None, seed: object = 0):
        self.ranges = dict(ranges or {})
        self.seed = seed
        self._rng = random.Random(f"kubesim-latency/{seed}")

    @property
    def horizon(self) -> float:
        """The longest hop: work due within it is still part of the convergence a write started."""
        return max((high for _low, high in self.ranges.values()), default=0.0)

    def hop(self, controller: str, nominal: float = 0.0) -> float:
        rng = self.ranges.get(controller)
        if rng is None:
            return nominal
        low, high = rng
        return low if high <= low else self._rng.uniform(low, high)


INSTANT = Latency()


def of(cluster) -> Latency:
    """The cluster's model (``instant`` for an in-process stand-in cluster that has none)."""
    return getattr(cluster, "latency", None) or INSTANT
