# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""What the reload check needs to know about one istiod pod, read from its Pod object.

Version from the discovery container's image tag (falling back to the chart's
version labels), the AUTO_RELOAD_PLUGIN_CERTS / ISTIO_MULTIROOT_MESH env values
from the pod spec, the default scope's log level from ``--log_output_level`` in
its args, the revision label, and when the container last started.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import log_level, versions
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.hot_reload_plan import AUTO_RELOAD_ENV, REVISION_LABEL, container_of, literal_env

ISTIOD_SELECTOR = "app=istiod"
VERSION_LABELS = ("app.kubernetes.io/version", "operator.istio.io/version", "helm.sh/chart")


class PodInfo(object):
    """One istiod pod as the check sees it."""

    def __init__(self, obj):
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        labels = meta.get("labels") or {}
        self.name = meta.get("name")
        self.namespace = meta.get("namespace")
        self.uid = meta.get("uid")
        self.revision = labels.get(REVISION_LABEL) or "default"
        self.deleting = bool(meta.get("deletionTimestamp"))
        self.phase = status.get("phase")
        self.created = rfc3339.parse(meta.get("creationTimestamp") or "")
        container = container_of(spec)
        self.container = container.get("name")
        self.image = container.get("image")
        env = literal_env(container)
        self.auto_reload = env.get(AUTO_RELOAD_ENV)
        self.multiroot_raw = env.get("ISTIO_MULTIROOT_MESH")
        self.multiroot = versions.go_bool(self.multiroot_raw) is True
        self.log_level, self.log_flag = log_level.default_scope_level(
            list(container.get("command") or []) + list(container.get("args") or []))
        self.version = versions.parse_version(versions.image_tag(self.image)) or _version_from_labels(labels)
        self.started = _started(status, self.container) or rfc3339.parse(status.get("startTime") or "") or self.created
        self.deployment = _deployment(meta) or ("istiod" if self.revision == "default" else "istiod-" + self.revision)

    @property
    def version_text(self):
        return str(self.version) if self.version is not None else None

    @property
    def logs_info(self):
        """Whether istiod writes the Info lines the log proof reads (the success marker, ``x509 cert``)."""
        return log_level.writes_info(self.log_level)

    @property
    def hot_reload(self):
        return versions.hot_reload(self.version, self.auto_reload)


def _version_from_labels(labels):
    for key in VERSION_LABELS:
        value = labels.get(key)
        if value:
            found = versions.parse_version(value.rsplit("-", 1)[-1] if key == "helm.sh/chart" else value)
            if found is not None:
                return found
    return None


def _started(status, container_name):
    """When the discovery container last started (its log begins then)."""
    for item in status.get("containerStatuses") or []:
        if item.get("name") == container_name:
            running = (item.get("state") or {}).get("running") or {}
            return rfc3339.parse(running.get("startedAt") or "")
    return None


def _deployment(meta):
    """Deployment name from the owning ReplicaSet (``istiod-5d4f9c7b8`` -> ``istiod``)."""
    for ref in meta.get("ownerReferences") or []:
        if ref.get("kind") == "ReplicaSet" and ref.get("name"):
            name = ref["name"]
            return name.rsplit("-", 1)[0] if "-" in name else name
    return None
