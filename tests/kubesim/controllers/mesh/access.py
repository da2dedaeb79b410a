"""``Cluster`` members for the simulated workloads and per-pod volume propagation (a mixin of ``kubesim.Cluster``)."""

from __future__ import annotations

from typing import Dict, List, Optional


class MeshAccess:
    """Mixed into ``Cluster``; ``self`` is the cluster."""

    workload_sim = None  # the WorkloadSim attached by Fleet(workloads=N), if any

    @property
    def workloads(self) -> List[dict]:
        """Every running simulated workload's certificate state (``Agent.describe``: leaf serial and issuer,
        intermediate serial, trust anchors' SHA-256 fingerprints, the PCDS flag it started with, …)."""
        sim = self.workload_sim
        return [] if sim is None else [a.describe() for _k, a in sorted(list(sim.agents.items()), key=lambda kv: kv[0])]

    def restart_workloads(self, namespace: Optional[str] = None, settle: bool = True) -> List[str]:
        """Roll the workload Deployments (one namespace or all), like ``kubectl rollout restart``: new pods, new
        agents that read ``PROXY_CONFIG_XDS_AGENT`` again and request fresh certificates. Returns the namespaces."""
        sim = self.workload_sim
        if sim is None:
            raise RuntimeError(f"{self.name} has no simulated workloads (Fleet(workloads=N))")
        done = sim.restart(namespace)
        if settle:
            self.settle()
        return done

    def pod_propagation_delays(self, namespace: str, secret_name: str) -> Dict[str, float]:
        """Seconds after the last write to Secret ``namespace/secret_name`` until each pod mounting it sees it.

        ``propagation_delay`` plus, with ``propagation_jitter``, a seeded per-pod share of it for this change
        (``controllers/istiod/volumes.py``; the istiod simulation applies the same delays to ``cacerts``).
        Pods being deleted are left out; {} when no pod mounts the Secret."""
        from ..istiod import volumes
        secret = self.get("v1", "secrets", namespace, secret_name)
        rv = ((secret or {}).get("metadata") or {}).get("resourceVersion", "")
        out: Dict[str, float] = {}
        for pod in self.list("v1", "pods", namespace):
            md = pod.get("metadata") or {}
            if md.get("deletionTimestamp"):
                continue
            vols = (pod.get("spec") or {}).get("volumes") or []
            if any((v.get("secret") or {}).get("secretName") == secret_name for v in vols):
                out[md["name"]] = volumes.pod_delay(self, namespace, md["name"], secret_name, rv)
        return out
