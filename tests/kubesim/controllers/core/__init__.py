"""Built-in controllers every simulated cluster runs: Deployments/ReplicaSets, the kubelet, ServiceAccounts."""
