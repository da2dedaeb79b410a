"""cert-manager's static release manifest, as kubesim models it.

Shape per cert-manager's release manifest (deploy/charts/cert-manager rendered): namespace, the six CRDs (v1 only, no
conversion webhook), ServiceAccounts, three Deployments, Services, and the two
webhook configurations. RBAC objects are omitted: the simulated controllers act in-process,
not through the API, so they need no ServiceAccount permissions.
The four ``cert-manager.io`` CRDs carry the release's real schemas (``cert_manager_crd``);
the ACME Challenge/Order CRDs are left open (``x-kubernetes-preserve-unknown-fields``).
"""

from __future__ import annotations

from typing import List

from .cert_manager_crd.certificates import certificate, certificate_request
from .cert_manager_crd.issuers import issuer

NAMESPACE = "cert-manager"
GROUP = "cert-manager.io"
ACME_GROUP = "acme.cert-manager.io"


def _labels(version: str, name: str = "cert-manager", component: str = "controller") -> dict:
    return {"app": name, "app.kubernetes.io/name": name, "app.kubernetes.io/instance": "cert-manager",
            "app.kubernetes.io/component": component, "app.kubernetes.io/version": f"v{version}"}


# Challenge and Order (acme.cert-manager.io) are not simulated: their schemas stay open.
_OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
ACME_SCHEMA = {"type": "object", "required": ["spec"],
               "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                              "metadata": {"type": "object"}, "spec": _OPEN, "status": _OPEN}}

_READY = '.status.conditions[?(@.type == "Ready")]'


def _crd(plural, kind, group, scope, schema, short=(), columns=(), version="0.0.0", singular=None):
    names = {"plural": plural, "singular": singular or kind.lower(), "kind": kind, "listKind": f"{kind}List",
             "categories": ["cert-manager"]}
    if short:
        names["shortNames"] = list(short)
    v = {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema},
         "subresources": {"status": {}}}
    if columns:
        v["additionalPrinterColumns"] = list(columns) + [
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
             "description": "CreationTimestamp is a timestamp representing the server time when this object was "
                            "created."}]
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}", "labels": {**_labels(version, "cert-manager", "crds"),
                                                                 "app.kubernetes.io/component": "crds"}},
            "spec": {"group": group, "names": names, "scope": scope, "versions": [v]}}


def crds(version: str) -> List[dict]:
    ready = {"name": "Ready", "type": "string", "jsonPath": _READY + ".status"}
    status = {"name": "Status", "type": "string", "priority": 1, "jsonPath": _READY + ".message"}
    return [
        _crd("certificaterequests", "CertificateRequest", GROUP, "Namespaced", certificate_request(version),
             ("cr", "crs"), [{"name": "Approved", "type": "string",
                              "jsonPath": '.status.conditions[?(@.type == "Approved")].status'},
                             {"name": "Denied", "type": "string",
                              "jsonPath": '.status.conditions[?(@.type == "Denied")].status'},
                             ready, {"name": "Issuer", "type": "string", "jsonPath": ".spec.issuerRef.name"},
                             {"name": "Requester", "type": "string", "jsonPath": ".spec.username"}, status],
             version),
        _crd("certificates", "Certificate", GROUP, "Namespaced", certificate(version), ("cert", "certs"),
             [ready, {"name": "Secret", "type": "string", "jsonPath": ".spec.secretName"},
              {"name": "Issuer", "type": "string", "priority": 1, "jsonPath": ".spec.issuerRef.name"}, status],
             version),
        _crd("challenges", "Challenge", ACME_GROUP, "Namespaced", ACME_SCHEMA, (), (), version),
        _crd("clusterissuers", "ClusterIssuer", GROUP, "Cluster", issuer(version), (), [ready, status], version),
        _crd("issuers", "Issuer", GROUP, "Namespaced", issuer(version), (), [ready, status], version),
        _crd("orders", "Order", ACME_GROUP, "Namespaced", ACME_SCHEMA, (), (), version),
    ]


def _deployment(name, app, component, image, args, ports, version, probes=None):
    labels = _labels(version, app, component)
    sel = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": "cert-manager",
           "app.kubernetes.io/component": component}
    container = {"name": f"cert-manager-{component if component != 'controller' else 'controller'}",
                 "image": image, "imagePullPolicy": "IfNotPresent", "args": args, "ports": ports,
                 "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                     "readOnlyRootFilesystem": True},
                 "env": [{"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]}
    if probes:
        container.update(probes)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": sel},
                     "template": {"metadata": {"labels": labels,
                                               "annotations": {"prometheus.io/path": "/metrics",
                                                               "prometheus.io/scrape": "true",
                                                               "prometheus.io/port": "9402"}},
                                  "spec": {"serviceAccountName": name, "enableServiceLinks": False,
                                           "securityContext": {"runAsNonRoot": True,
                                                               "seccompProfile": {"type": "RuntimeDefault"}},
                                           "containers": [container],
                                           "nodeSelector": {"kubernetes.io/os": "linux"}}}}}


def _webhook_configs(version: str) -> List[dict]:
    ann = {"cert-manager.io/inject-ca-from-secret": f"{NAMESPACE}/cert-manager-webhook-ca"}
    rules = [{"apiGroups": ["cert-manager.io"], "apiVersions": ["v1"], "operations": ["CREATE"] ,
              "resources": ["certificaterequests"]}]
    mutating = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
                "metadata": {"name": "cert-manager-webhook", "labels": _labels(version, "webhook", "webhook"),
                             "annotations": dict(ann)},
                "webhooks": [{"name": "webhook.cert-manager.io", "rules": rules,
                              "admissionReviewVersions": ["v1"], "matchPolicy": "Equivalent", "timeoutSeconds": 30,
                              "failurePolicy": "Fail", "sideEffects": "None",
                              "clientConfig": {"service": {"name": "cert-manager-webhook", "namespace": NAMESPACE,
                                                           "path": "/mutate"}}}]}
    validating = {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
                  "metadata": {"name": "cert-manager-webhook", "labels": _labels(version, "webhook", "webhook"),
                               "annotations": dict(ann)},
                  "webhooks": [{"name": "webhook.cert-manager.io",
                                "namespaceSelector": {"matchExpressions": [
                                    {"key": "cert-manager.io/disable-validation", "operator": "NotIn",
                                     "values": ["true"]}]},
                                "rules": [{"apiGroups": ["cert-manager.io", "acme.cert-manager.io"],
                                           "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                                           "resources": ["*/*"]}],
                                "admissionReviewVersions": ["v1"], "matchPolicy": "Equivalent",
                                "timeoutSeconds": 30, "failurePolicy": "Fail", "sideEffects": "None",
                                "clientConfig": {"service": {"name": "cert-manager-webhook", "namespace": NAMESPACE,
                                                             "path": "/validate"}}}]}
    return [mutating, validating]


def objects(version: str) -> List[dict]:
    """Everything the release manifest ``cert-manager.yaml`` of ``version`` creates (in order)."""
    v = version.lstrip("v")
    repo = "quay.io/jetstack"
    out: List[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}]
    out += crds(v)
    for name, app, comp in (("cert-manager-cainjector", "cainjector", "cainjector"),
                            ("cert-manager", "cert-manager", "controller"),
                            ("cert-manager-webhook", "webhook", "webhook")):
        out.append({"apiVersion": "v1", "kind": "ServiceAccount", "automountServiceAccountToken": True,
                    "metadata": {"name": name, "namespace": NAMESPACE, "labels": _labels(v, app, comp)}})
    out.append({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "cert-manager-cainjector", "namespace": NAMESPACE,
                             "labels": _labels(v, "cainjector", "cainjector")},
                "spec": {"type": "ClusterIP", "ports": [{"protocol": "TCP", "port": 9402, "name": "http-metrics"}],
                         "selector": {"app.kubernetes.io/name": "cainjector", "app.kubernetes.io/instance":
                                      "cert-manager", "app.kubernetes.io/component": "cainjector"}}})
    out.append({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "cert-manager", "namespace": NAMESPACE,
                             "labels": _labels(v, "cert-manager", "controller")},
                "spec": {"type": "ClusterIP", "ports": [{"protocol": "TCP", "port": 9402, "name": "tcp-prometheus-"
                                                                                                   "servicemonitor",
                                                         "targetPort": "http-metrics"}],
                         "selector": {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/instance":
                                      "cert-manager", "app.kubernetes.io/component": "controller"}}})
    out.append({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "cert-manager-webhook", "namespace": NAMESPACE,
                             "labels": _labels(v, "webhook", "webhook")},
                "spec": {"type": "ClusterIP",
                         "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"},
                                   {"name": "metrics", "port": 9402, "protocol": "TCP", "targetPort": "http-metrics"}],
                         "selector": {"app.kubernetes.io/name": "webhook", "app.kubernetes.io/instance":
                                      "cert-manager", "app.kubernetes.io/component": "webhook"}}})
    metrics = [{"containerPort": 9402, "name": "http-metrics", "protocol": "TCP"}]
    out.append(_deployment("cert-manager-cainjector", "cainjector", "cainjector",
                           f"{repo}/cert-manager-cainjector:v{v}",
                           ["--v=2", "--leader-election-namespace=kube-system"], metrics, v))
    out.append(_deployment("cert-manager", "cert-manager", "controller", f"{repo}/cert-manager-controller:v{v}",
                           ["--v=2", "--cluster-resource-namespace=$(POD_NAMESPACE)",
                            "--leader-election-namespace=kube-system",
                            f"--acme-http01-solver-image={repo}/cert-manager-acmesolver:v{v}",
                            "--max-concurrent-challenges=60"],
                           metrics + [{"containerPort": 9403, "name": "http-healthz", "protocol": "TCP"}], v))
    out.append(_deployment("cert-manager-webhook", "webhook", "webhook", f"{repo}/cert-manager-webhook:v{v}",
                           ["--v=2", "--secure-port=10250",
                            "--dynamic-serving-ca-secret-namespace=$(POD_NAMESPACE)",
                            "--dynamic-serving-ca-secret-name=cert-manager-webhook-ca",
                            "--dynamic-serving-dns-names=cert-manager-webhook",
                            "--dynamic-serving-dns-names=cert-manager-webhook.$(POD_NAMESPACE)",
                            "--dynamic-serving-dns-names=cert-manager-webhook.$(POD_NAMESPACE).svc"],
                           [{"containerPort": 10250, "name": "https", "protocol": "TCP"},
                            {"containerPort": 6080, "name": "healthcheck", "protocol": "TCP"}] + metrics, v,
                           probes={"livenessProbe": {"httpGet": {"path": "/livez", "port": 6080,
                                                                 "scheme": "HTTP"},
                                                     "initialDelaySeconds": 60, "periodSeconds": 10},
                                   "readinessProbe": {"httpGet": {"path": "/healthz", "port": 6080,
                                                                  "scheme": "HTTP"},
                                                      "initialDelaySeconds": 5, "periodSeconds": 5}}))
    out += _webhook_configs(v)
    return out
