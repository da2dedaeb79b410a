"""Simulated sidecar workloads and the mTLS traffic between them (``kubesim --workloads N``).

``agent`` (one istio-agent's secret cache: CSR to istiod, renewal, PCDS trust bundle),
``workloads`` (``WorkloadSim``: the workload Deployments of one cluster and their agents),
``handshakes`` (``MeshTraffic``: handshakes in and across clusters, the tally and its files),
``access`` (the ``Cluster`` members: ``workloads``, ``restart_workloads``, ``pod_propagation_delays``).

Attached only when a fleet asks for workloads (``Fleet(workloads=N)``); nothing here registers
``CONTROLLER_FACTORIES``, and this package imports nothing at import time (``Cluster`` imports ``access``
alone, so a kubesim without the istiod simulation still loads).
"""
