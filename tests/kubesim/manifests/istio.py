"""An Istio control plane as installed by ``istioctl install`` / the istiod Helm chart,
reduced to what the collection reads: namespace ``istio-system``, ServiceAccount,
mesh ConfigMap, Service and the ``istiod`` Deployment mounting Secret ``cacerts``
(optional) at /etc/cacerts (istio manifests/charts/istio-control/istio-discovery/templates/deployment.yaml).
"""

from __future__ import annotations

from typing import List

NAMESPACE = "istio-system"


def _env(version: str) -> List[dict]:
    def field(name, path):
        return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}
    return [
        {"name": "REVISION", "value": "default"},
        {"name": "PILOT_CERT_PROVIDER", "value": "istiod"},
        field("POD_NAME", "metadata.name"),
        field("POD_NAMESPACE", "metadata.namespace"),
        field("SERVICE_ACCOUNT", "spec.serviceAccountName"),
        {"name": "KUBECONFIG", "value": "/var/run/secrets/remote/config"},
        {"name": "CA_TRUSTED_NODE_ACCOUNTS", "value": "istio-system/ztunnel"},
        {"name": "PILOT_TRACE_SAMPLING", "value": "1"},
        {"name": "PILOT_ENABLE_ANALYSIS", "value": "false"},
        {"name": "CLUSTER_ID", "value": "Kubernetes"},
        {"name": "GOMEMLIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "0"}}},
        {"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "0"}}},
        {"name": "PLATFORM", "value": ""},
    ]


MANAGERS = ("none", "helm", "istioctl")


def manager_labels(version: str, managed_by: str) -> dict:
    """The installer's own labels on istiod's Deployment.

    helm: the istiod chart's ``istio.labels`` (``templates/zzz_profile.yaml`` in
    ``manifests/charts/istio-control/istio-discovery``: ``app.kubernetes.io/managed-by: {{ .Release.Service }}``,
    ``app.kubernetes.io/instance``, ``helm.sh/chart: istiod-<chart version>``) plus the deployment template's
    ``release: {{ .Release.Name }}``; the chart's ``install.operator.istio.io/owning-resource`` stays ``unknown``
    (``{{ .Values.ownerName | default "unknown" }}``). istioctl: the operator's ``getCoreOwnerLabels``
    (``operator.istio.io/managed: Reconcile``, ``install.operator.istio.io/owning-resource[-namespace]`` naming
    the IstioOperator, ``operator.istio.io/version``). none: neither (an unmanaged copy of the manifest).
    """
    if managed_by not in MANAGERS:
        raise ValueError(f"unknown istio manager {managed_by!r}; known: {', '.join(MANAGERS)}")
    if managed_by == "helm":
        return {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "istiod",
                "helm.sh/chart": f"istiod-{version}", "release": "istiod"}
    if managed_by == "istioctl":
        return {"operator.istio.io/managed": "Reconcile", "install.operator.istio.io/owning-resource": "installed-state",
                "install.operator.istio.io/owning-resource-namespace": NAMESPACE, "operator.istio.io/version": version}
    return {}


def istiod_deployment(version: str, env_extra: List[dict] = (), managed_by: str = "none") -> dict:
    labels = {"app": "istiod", "istio": "pilot", "istio.io/rev": "default", "install.operator.istio.io/owning-resource":
              "unknown", "operator.istio.io/component": "Pilot", "app.kubernetes.io/name": "istiod",
              "app.kubernetes.io/version": version, "app.kubernetes.io/part-of": "istio"}
    labels.update(manager_labels(version, managed_by))
    pod_labels = {"app": "istiod", "istio.io/rev": "default", "install.operator.istio.io/owning-resource":
                  "unknown", "sidecar.istio.io/inject": "false", "operator.istio.io/component": "Pilot",
                  "istio": "pilot", "istio.io/dataplane-mode": "none"}
    container = {
        "name": "discovery", "image": f"docker.io/istio/pilot:{version}",
        "args": ["discovery", "--monitoringAddr=:15014", "--log_output_level=default:info", "--domain",
                 "cluster.local", "--keepaliveMaxServerConnectionAge", "30m"],
        "ports": [{"containerPort": 8080, "protocol": "TCP", "name": "http-debug"},
                  {"containerPort": 15010, "protocol": "TCP", "name": "grpc-xds"},
                  {"containerPort": 15012, "protocol": "TCP", "name": "tls-xds"},
                  {"containerPort": 15017, "protocol": "TCP", "name": "https-webhooks"},
                  {"containerPort": 15014, "protocol": "TCP", "name": "http-monitoring"}],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "initialDelaySeconds": 1,
                           "periodSeconds": 3, "timeoutSeconds": 5},
        "env": _env(version) + list(env_extra),
        "resources": {"requests": {"cpu": "500m", "memory": "2048Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "runAsUser": 1337, "runAsGroup": 1337, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [
            {"name": "istio-token", "mountPath": "/var/run/secrets/tokens", "readOnly": True},
            {"name": "local-certs", "mountPath": "/var/run/secrets/istio-dns"},
            {"name": "cacerts", "mountPath": "/etc/cacerts", "readOnly": True},
            {"name": "istio-kubeconfig", "mountPath": "/var/run/secrets/remote", "readOnly": True},
            {"name": "istio-csr-dns-cert", "mountPath": "/var/run/secrets/istiod/tls", "readOnly": True},
            {"name": "istio-csr-ca-configmap", "mountPath": "/var/run/secrets/istiod/ca", "readOnly": True},
        ],
    }
    volumes = [
        {"name": "local-certs", "emptyDir": {"medium": "Memory"}},
        {"name": "istio-token", "projected": {"sources": [{"serviceAccountToken": {
            "audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}]}},
        {"name": "cacerts", "secret": {"secretName": "cacerts", "optional": True}},
        {"name": "istio-kubeconfig", "secret": {"secretName": "istio-kubeconfig", "optional": True}},
        {"name": "istio-csr-dns-cert", "secret": {"secretName": "istiod-tls", "optional": True}},
        {"name": "istio-csr-ca-configmap", "configMap": {"name": "istio-ca-root-cert", "defaultMode": 420,
                                                         "optional": True}},
    ]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "istiod", "namespace": NAMESPACE, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"istio": "pilot"}},
                     "strategy": {"rollingUpdate": {"maxSurge": "100%", "maxUnavailable": "25%"}},
                     "template": {"metadata": {"labels": pod_labels,
                                               "annotations": {"prometheus.io/port": "15014",
                                                               "prometheus.io/scrape": "true",
                                                               "sidecar.istio.io/inject": "false"}},
                                  "spec": {"serviceAccountName": "istiod", "containers": [container],
                                           "volumes": volumes,
                                           "tolerations": [{"key": "cni.istio.io/not-ready",
                                                            "operator": "Exists"}]}}}}


def objects(version: str, managed_by: str = "none") -> List[dict]:
    v = version.lstrip("v")
    labels = {"app": "istiod", "istio": "pilot", "istio.io/rev": "default", "release": "istiod"}
    mesh = ("defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n"
            "defaultProviders:\n  metrics:\n  - prometheus\nenablePrometheusMerge: true\n"
            "rootNamespace: istio-system\ntrustDomain: cluster.local\n")
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "istiod", "namespace": NAMESPACE,
                                                                     "labels": dict(labels)}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": NAMESPACE,
                                                                "labels": dict(labels)},
         "data": {"mesh": mesh, "meshNetworks": "networks: {}"}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "istiod", "namespace": NAMESPACE, "labels": dict(labels)},
         "spec": {"type": "ClusterIP", "selector": {"app": "istiod", "istio": "pilot"},
                  "ports": [{"port": 15010, "name": "grpc-xds", "protocol": "TCP"},
                            {"port": 15012, "name": "https-dns", "protocol": "TCP"},
                            {"port": 443, "name": "https-webhook", "targetPort": 15017, "protocol": "TCP"},
                            {"port": 15014, "name": "http-monitoring", "protocol": "TCP"}]}},
        istiod_deployment(v, managed_by=managed_by),
    ]
