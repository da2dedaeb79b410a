"""The part of Istio's sidecar injector that the multi-root flag depends on: proxyMetadata copied into the env.

Upstream: pkg/kube/inject (webhook.go ``injectPod``; the injection template
manifests/charts/istio-control/istio-discovery/files/injection-template.yaml renders
``{{- range $key, $value := .ProxyConfig.ProxyMetadata }} - name: {{ $key }} value: "{{ $value }}"``
into the ``istio-proxy`` container's env). ``.ProxyConfig`` is the revision's mesh config ``defaultConfig``
(ConfigMap ``istio``, or ``istio-<rev>`` for a revision) merged with the pod's ``proxy.istio.io/config``
annotation; the user's own ``istio-proxy`` container is merged over the injected one, so an env entry the pod
already has wins. This runs as mutating admission on Pod CREATE, so a pod records in its spec the flags its
agent started with (pilot-agent reads ``PROXY_CONFIG_XDS_AGENT`` from its env once, at start), and a mesh
config change reaches a workload only when its pod is re-created.

kubesim's workload Deployments carry the injected ``istio-proxy`` container in their template already (with the
injector's ``sidecar.istio.io/status`` annotation); this fills in the env the template would have rendered.
Only pods in a namespace labelled ``istio-injection=enabled`` or ``istio.io/rev`` are touched.
"""

from __future__ import annotations

from typing import Optional

import yaml

PROXY_CONTAINER = "istio-proxy"
PROXY_CONFIG_ANNOTATION = "proxy.istio.io/config"
ISTIO_NAMESPACE = "istio-system"


def _mapping(text) -> dict:
    try:
        value = yaml.safe_load(text or "") or {}
    except yaml.YAMLError:
        return {}
    return value if isinstance(value, dict) else {}


def revision_of(pod_labels: dict, namespace_labels: dict) -> Optional[str]:
    """The injecting revision (pod label istio.io/rev, else the namespace's), None when not injected."""
    rev = pod_labels.get("istio.io/rev") or namespace_labels.get("istio.io/rev")
    if rev:
        return rev
    return "default" if namespace_labels.get("istio-injection") == "enabled" else None


def proxy_metadata(mesh_text, annotation) -> dict:
    """meshConfig.defaultConfig.proxyMetadata overridden key by key by the annotation's proxyMetadata."""
    merged = dict((_mapping(mesh_text).get("defaultConfig") or {}).get("proxyMetadata") or {})
    merged.update(_mapping(annotation).get("proxyMetadata") or {})
    return dict((str(k), "" if v is None else str(v)) for k, v in merged.items())


def inject(cluster, obj: dict) -> None:
    """Mutate a Pod being created: the injected proxyMetadata env entries on its istio-proxy container."""
    md = obj.get("metadata") or {}
    containers = (obj.get("spec") or {}).get("containers") or []
    proxy = next((c for c in containers if isinstance(c, dict) and c.get("name") == PROXY_CONTAINER), None)
    if proxy is None:
        return
    ns_obj = cluster._stored(cluster.registry.by_rid[("", "namespaces")], None, md.get("namespace")) or {}
    revision = revision_of(md.get("labels") or {}, (ns_obj.get("metadata") or {}).get("labels") or {})
    if revision is None:
        return
    name = "istio" if revision == "default" else f"istio-{revision}"
    cm = cluster._stored(cluster.registry.by_rid[("", "configmaps")], ISTIO_NAMESPACE, name) or {}
    metadata = proxy_metadata((cm.get("data") or {}).get("mesh"),
                              (md.get("annotations") or {}).get(PROXY_CONFIG_ANNOTATION))
    env = list(proxy.get("env") or [])
    present = set(e.get("name") for e in env if isinstance(e, dict))
    env.extend({"name": k, "value": v} for k, v in sorted(metadata.items()) if k not in present)
    if env:
        proxy["env"] = env
