"""When a changed Secret reaches a pod's Secret volume, as the simulation applies it (kubelet stand-in).

kubelet refreshes a Secret volume on the pod's next periodic sync after its Secret manager sees the change
(kubernetes pkg/kubelet/volumemanager, pkg/kubelet/secret; the docs' "Using Secrets as files from a Pod":
"the kubelet periodically syncs", with a cache propagation delay), so the delay is the cluster's base
``propagation_delay`` plus where that pod's sync falls: ``propagation_jitter × u``, ``u`` in [0, 1) drawn
from a hash of (cluster, namespace, pod, Secret name, Secret resourceVersion). Seeded, so one change gives
the same per-pod delays every time it is asked, and a new change (new resourceVersion) new ones.
``propagation_jitter`` defaults to 0: every pod then waits exactly ``propagation_delay``.
"""

from __future__ import annotations

import hashlib


def jitter(cluster) -> float:
    return float((getattr(cluster, "options", None) or {}).get("propagation_jitter", 0.0) or 0.0)


def pod_delay(cluster, namespace: str, pod: str, secret: str, resource_version: str) -> float:
    base = float(getattr(cluster, "propagation_delay", 0.0) or 0.0)
    spread = jitter(cluster)
    if spread <= 0:
        return base
    digest = hashlib.sha256(f"{cluster.name}/{namespace}/{pod}/{secret}/{resource_version}".encode()).digest()
    return base + spread * (int.from_bytes(digest[:8], "big") / 2.0 ** 64)
