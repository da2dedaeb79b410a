# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Is a cluster ready for a multi-root (root CA) rotation, and what to do where it is not.

A root rotation keeps mTLS up only when both ends understand a root bundle with two roots:

- every istiod revision runs Istio >= 1.20 with ``ISTIO_MULTIROOT_MESH=true`` (istio
  ``pilot/pkg/features/pilot.go`` ``MultiRootMesh``, PR #47063; read with Go's ``strconv.ParseBool``
  through ``pkg/env``, default false). Without it ``handleEvent`` (``pilot/pkg/bootstrap/istio_ca.go``)
  refuses any root change ("Multi root is disabled");
- every sidecar's agent started with ``PROXY_CONFIG_XDS_AGENT=true`` (``pilot/cmd/pilot-agent/options``:
  ``env.Register("PROXY_CONFIG_XDS_AGENT", false, ...)``, read once when pilot-agent starts): only then does
  the agent take istiod's PCDS pushes of the new trust bundle (``pkg/istio-agent/xds_proxy.go``). The
  sidecar injector (``pkg/kube/inject``, ``injection-template.yaml``: ``range .ProxyConfig.ProxyMetadata``)
  writes the merged proxy metadata - the revision's mesh config ``defaultConfig.proxyMetadata`` overridden by
  the pod's ``proxy.istio.io/config`` annotation - into the ``istio-proxy`` container's env when the pod is
  created, so the pod's own spec records what its agent got; a changed mesh config reaches a workload only
  when it is re-created (restarted);
- the mesh config of each revision (ConfigMap ``istio`` for the default revision, ``istio-<rev>`` for
  another, as istiod and its injector read it) carries ``PROXY_CONFIG_XDS_AGENT: "true"`` in
  ``defaultConfig.proxyMetadata``, so that restarted and new workloads get the flag.

Where istiod or its mesh ConfigMap is managed (Helm, istioctl/IstioOperator, Argo CD, Flux; see
install_manager.py), the fix is the manager's own source, with the exact overlay.

This is the one place that decides readiness: the ``istio_multiroot_readiness`` filter, the istio role's
``istio_multiroot`` report and the root-rotation preflight all read it from here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import yaml

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import hot_reload_plan, versions
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.istio import install_manager

ISTIOD_ENV = "ISTIO_MULTIROOT_MESH"
PROXY_FLAG = "PROXY_CONFIG_XDS_AGENT"
PROXY_CONTAINER = "istio-proxy"
PROXY_CONFIG_ANNOTATION = "proxy.istio.io/config"  # pkg/config/annotation ProxyConfig
SIDECAR_STATUS_ANNOTATION = "sidecar.istio.io/status"  # written by the injector, carries "revision"
REVISION_LABEL = "istio.io/rev"
DEFAULT_REVISION = "default"
MIN_VERSION = (1, 20)
DEPLOY_FIX = "run deploy.yml -e istio_multiroot=true"
MAX_NAMED = 10  # owners named in one problem sentence; the full list is in ``restart``


class MultirootInputError(ValueError):
    """The inputs are not what k8s_info returns (the filter turns this into an AnsibleFilterError)."""


def resources(value, what):
    """A list of k8s objects from a list or a registered k8s_info result; a clear error otherwise."""
    if value is None:
        return []
    if isinstance(value, dict) and "resources" in value:
        value = value["resources"]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MultirootInputError("%s must be a list of Kubernetes objects (k8s_info "
                                  "resources or the registered k8s_info result)" % what)
    return value


def _meta(obj):
    return (obj or {}).get("metadata") or {}


def mesh_configmap_name(revision):
    """The mesh ConfigMap istiod of ``revision`` and its injector read: ``istio`` or ``istio-<rev>``."""
    return "istio" if not revision or revision == DEFAULT_REVISION else "istio-%s" % revision


def mesh_proxy_flag(configmap):
    """``(raw value or None, problem or None)`` of defaultConfig.proxyMetadata.PROXY_CONFIG_XDS_AGENT."""
    text = ((configmap or {}).get("data") or {}).get("mesh")
    if text is None:
        return None, None
    try:
        mesh = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        return None, "its mesh key is not YAML (%s)" % str(exc).splitlines()[0]
    if not isinstance(mesh, dict):
        return None, "its mesh key is not a YAML mapping"
    metadata = ((mesh.get("defaultConfig") or {}).get("proxyMetadata") or {})
    if not isinstance(metadata, dict):
        return None, "defaultConfig.proxyMetadata is not a mapping"
    value = metadata.get(PROXY_FLAG)
    return (None if value is None else str(value)), None


def _proxy_container(pod):
    for container in ((pod or {}).get("spec") or {}).get("containers") or []:
        if isinstance(container, dict) and container.get("name") == PROXY_CONTAINER:
            return container
    return None


def is_sidecar_pod(pod):
    """A sidecar-injected pod that still runs (a container ``istio-proxy``, not being deleted)."""
    return _proxy_container(pod) is not None and not _meta(pod).get("deletionTimestamp")


def pod_revision(pod):
    """The istiod revision a sidecar belongs to: label istio.io/rev, else the injector's status, else default."""
    meta = _meta(pod)
    revision = (meta.get("labels") or {}).get(REVISION_LABEL)
    if not revision:
        try:
            status = json.loads((meta.get("annotations") or {}).get(SIDECAR_STATUS_ANNOTATION) or "{}")
            revision = status.get("revision") if isinstance(status, dict) else None
        except ValueError:
            revision = None
    return revision or DEFAULT_REVISION


def pod_proxy_flag(pod):
    """``(value, source)``: PROXY_CONFIG_XDS_AGENT as this pod's agent read it when it started.

    The istio-proxy env (the injector's copy of proxyMetadata, or an explicit entry; the last entry of a
    name wins, as the kubelet builds the environment in order) decides; the ``proxy.istio.io/config``
    annotation is the fallback for a pod whose env carries no entry. ``value`` is Go's ParseBool of it
    with the flag's default (false) for unset or unparsable values.
    """
    raw, source = None, None
    annotation = (_meta(pod).get("annotations") or {}).get(PROXY_CONFIG_ANNOTATION)
    if annotation:
        try:
            metadata = (yaml.safe_load(annotation) or {}).get("proxyMetadata") or {}
            if isinstance(metadata, dict) and PROXY_FLAG in metadata:
                raw, source = str(metadata[PROXY_FLAG]), "annotation"
        except (yaml.YAMLError, AttributeError):
            pass
    for item in (_proxy_container(pod) or {}).get("env") or []:
        if isinstance(item, dict) and item.get("name") == PROXY_FLAG and "value" in item:
            raw, source = str(item.get("value")), "env"
    value = versions.go_bool(raw)
    return bool(value), source if raw is not None else None


def pod_owner(pod):
    """``<ns>/<deployment>`` for a Deployment's pod (via its ReplicaSet), ``<ns>/<kind>/<name>`` otherwise."""
    meta = _meta(pod)
    namespace = meta.get("namespace") or "default"
    owners = [ref for ref in meta.get("ownerReferences") or [] if isinstance(ref, dict)]
    owner = next((ref for ref in owners if ref.get("controller")), owners[0] if owners else None)
    if owner is None:
        return "%s/pod/%s" % (namespace, meta.get("name"))
    kind, name = owner.get("kind") or "", owner.get("name") or ""
    if kind == "ReplicaSet":
        # The Deployment controller names a ReplicaSet <deployment>-<pod-template-hash>
        # (kubernetes pkg/controller/deployment/sync.go getNewReplicaSet) and labels its pods with the hash.
        template_hash = (meta.get("labels") or {}).get("pod-template-hash")
        if template_hash and name.endswith("-" + template_hash):
            return "%s/%s" % (namespace, name[:-len(template_hash) - 1])
    return "%s/%s/%s" % (namespace, kind.lower() or "owner", name)


def _overlay(manager, name, revision):
    """Where a managed install keeps both flags (Helm values / IstioOperator / Flux HelmRelease)."""
    helm = ("pilot:\n  env:\n    %s: \"true\"\nmeshConfig:\n  defaultConfig:\n    proxyMetadata:\n"
            "      %s: \"true\"" % (ISTIOD_ENV, PROXY_FLAG))
    if manager == install_manager.HELM:
        return ("helm upgrade %s istio/istiod --reuse-values --set-string pilot.env.%s=true --set-string "
                "meshConfig.defaultConfig.proxyMetadata.%s=true, or in its values file:\n%s"
                % (name or "<release>", ISTIOD_ENV, PROXY_FLAG, helm))
    if manager == install_manager.ARGOCD:
        return "In Argo CD Application %s's Helm values or manifests, then sync:\n%s" % (name or "<application>", helm)
    if manager == install_manager.FLUX_HELM:
        return "In HelmRelease %s spec.values:\n%s" % (name, helm)
    if manager == install_manager.ISTIOCTL:
        rev = "  revision: %s\n" % revision if revision and revision != DEFAULT_REVISION else ""
        return ("In the IstioOperator%s given to istioctl install, then istioctl install -f with it:\n"
                "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n%s  meshConfig:\n"
                "    defaultConfig:\n      proxyMetadata:\n        %s: \"true\"\n  components:\n    pilot:\n"
                "      k8s:\n        env:\n        - name: %s\n          value: \"true\""
                % (" " + name if name else "", rev, PROXY_FLAG, ISTIOD_ENV))
    if manager == install_manager.FLUX_KUSTOMIZE:
        return ("In the source of Kustomization %s: env %s=\"true\" on istiod's discovery container and "
                "defaultConfig.proxyMetadata.%s: \"true\" in the mesh ConfigMap" % (name, ISTIOD_ENV, PROXY_FLAG))
    return None


def _fix(managed, revision):
    """The fix sentence: the deploy run for an unmanaged install, the manager's source for a managed one."""
    if not managed or managed.get("manager") in (None, install_manager.NONE):
        return DEPLOY_FIX
    return ("%s manages it (%s): set it in its source - %s (deploy.yml -e istio_multiroot=true patches a managed "
            "istiod only with istio_patch_managed=true, and its manager reverts that)"
            % (managed["manager"], managed.get("manager_evidence") or managed.get("evidence") or "",
               _overlay(managed["manager"], managed.get("manager_name") or managed.get("name"), revision)))


def _managed_by_name(managed, deployments, istio_operators):
    """Per Deployment name: istio_manager_plan's entry when given, else install_manager.detect on the labels."""
    out = {}
    for entry in managed or []:
        if isinstance(entry, dict) and entry.get("name"):
            out[entry["name"]] = entry
    for dep in deployments:
        name = _meta(dep).get("name")
        if name not in out:
            found = install_manager.detect(dep, istio_operators)
            out[name] = {"name": name, "manager": found["manager"], "manager_name": found["name"],
                         "manager_evidence": found["evidence"]}
    return out


def _configmap_manager(configmap, istio_operators):
    found = install_manager.detect(configmap, istio_operators)
    return {"manager": found["manager"], "manager_name": found["name"], "manager_evidence": found["evidence"]}


def _name_owners(owners):
    shown = ", ".join(owners[:MAX_NAMED])
    return shown + (", ... (%d more)" % (len(owners) - MAX_NAMED) if len(owners) > MAX_NAMED else "")


def readiness(deployments, configmaps, pods, managed=None, istio_operators=None, version="",
              container_name=hot_reload_plan.DISCOVERY_CONTAINER, namespace="istio-system"):
    """``{"ready", "problems", "restart", "revisions", "pcds_workloads", "workloads"}`` for one cluster.

    ``deployments`` are the istiod Deployments, ``configmaps`` the mesh ConfigMaps of istiod's namespace,
    ``pods`` the workload pods (others are ignored), ``managed`` istio_manager_plan's entries (optional).
    """
    deployments = resources(deployments, "the istiod Deployments")
    configmaps = resources(configmaps, "the mesh ConfigMaps")
    pods = resources(pods, "the workload pods")
    istio_operators = resources(istio_operators, "the IstioOperators")
    managers = _managed_by_name(managed if isinstance(managed, list) else [], deployments, istio_operators)
    by_cm_name = dict((_meta(cm).get("name"), cm) for cm in configmaps
                      if (_meta(cm).get("namespace") or namespace) == namespace)
    problems, revisions = [], []
    if not deployments:
        problems.append("No istiod Deployment found in %s: install Istio >= 1.20 (or point istio_namespace at "
                        "istiod's namespace) before preparing a root rotation." % namespace)

    mesh_ok = {}
    for dep in deployments:
        facts = hot_reload_plan.deployment_facts(dep, container_name, version)
        name, revision, parsed = facts["name"], facts["revision"], facts["version"]
        env = hot_reload_plan.literal_env(hot_reload_plan.container_of(
            (((dep.get("spec") or {}).get("template") or {}).get("spec")), container_name))
        raw = env.get(ISTIOD_ENV)
        supported = parsed is not None and parsed.at_least(*MIN_VERSION)
        flag_on = versions.go_bool(raw) is True
        manager = managers.get(name) or {}
        revisions.append({"name": revision, "deployment": name, "version": "%d.%d.%d" % parsed.key() if parsed else "",
                          "multiroot": bool(supported and flag_on), "multiroot_env": raw if raw is not None else "",
                          "managed_by": manager.get("manager") or install_manager.NONE,
                          "mesh_configmap": mesh_configmap_name(revision), "mesh_proxy_flag": False})
        if parsed is None:
            problems.append("Cannot tell the Istio version of istiod revision '%s' (%s, image %s): set istio_version."
                            % (revision, name, facts["image"] or "(none)"))
        elif not supported:
            problems.append("istiod revision '%s' (%s) runs %s: multi-root needs istiod >= 1.20 "
                            "(ISTIO_MULTIROOT_MESH, istio PR #47063) - upgrade Istio." % (revision, name, parsed))
        if not flag_on:
            why = ("is not set" if raw is None else "is %r, which istiod reads as %s" % (
                raw, "false" if versions.go_bool(raw) is False else "not a bool (default false)"))
            problems.append("%s %s on istiod %s (revision '%s'): %s."
                            % (ISTIOD_ENV, why, name, revision, _fix(manager, revision)))
        cm_name = mesh_configmap_name(revision)
        if cm_name in mesh_ok:
            revisions[-1]["mesh_proxy_flag"] = mesh_ok[cm_name]
            continue
        configmap = by_cm_name.get(cm_name)
        mesh_manager = _configmap_manager(configmap, istio_operators) if configmap else manager
        if mesh_manager.get("manager") in (None, install_manager.NONE):
            mesh_manager = manager  # the mesh ConfigMap is rendered by istiod's own installer
        if configmap is None:
            problems.append("Mesh ConfigMap %s/%s (revision '%s') not found, so injected workloads get no %s: %s."
                            % (namespace, cm_name, revision, PROXY_FLAG, _fix(mesh_manager, revision)))
            mesh_ok[cm_name] = False
            continue
        raw_mesh, bad = mesh_proxy_flag(configmap)
        mesh_ok[cm_name] = versions.go_bool(raw_mesh) is True
        revisions[-1]["mesh_proxy_flag"] = mesh_ok[cm_name]
        if bad:
            problems.append("Mesh ConfigMap %s/%s: %s - fix the mesh config, then %s."
                            % (namespace, cm_name, bad, DEPLOY_FIX))
        elif not mesh_ok[cm_name]:
            problems.append("%s is not \"true\" in defaultConfig.proxyMetadata of mesh ConfigMap %s/%s (revision "
                            "'%s'), so new and restarted workloads start without it: %s."
                            % (PROXY_FLAG, namespace, cm_name, revision, _fix(mesh_manager, revision)))

    known = set(r["name"] for r in revisions)
    sidecars = [pod for pod in pods if is_sidecar_pod(pod)]
    restart, pinned, orphans, pcds, waiting = [], [], [], 0, 0
    for pod in sidecars:
        flag, source = pod_proxy_flag(pod)
        if revisions and pod_revision(pod) not in known:
            orphans.append("%s/%s" % (_meta(pod).get("namespace"), _meta(pod).get("name")))
        if flag:
            pcds += 1
            continue
        owner = pod_owner(pod)
        if source is not None:  # set to a false value on the pod itself: a restart keeps it
            if owner not in pinned:
                pinned.append(owner)
            continue
        waiting += 1
        if owner not in restart:
            restart.append(owner)
    restart.sort()
    pinned.sort()
    if restart:
        problems.append("%d workload(s) started without %s (read once when the proxy starts): once the mesh config "
                        "carries it, restart %s (kubectl rollout restart)." % (waiting, PROXY_FLAG, _name_owners(restart)))
    if pinned:
        problems.append("%s is set to a false value on the pods of %s (istio-proxy env or the %s annotation), which "
                        "overrides the mesh config: remove that override (or set it to \"true\") and restart them."
                        % (PROXY_FLAG, _name_owners(pinned), PROXY_CONFIG_ANNOTATION))
    if orphans:
        problems.append("%d workload(s) belong to an istiod revision that is not installed (%s): move them to an "
                        "installed revision (label istio.io/rev) and restart them."
                        % (len(orphans), _name_owners(sorted(orphans))))
    return {"ready": not problems, "problems": problems, "restart": restart, "revisions": revisions,
            "pcds_workloads": pcds, "workloads": len(sidecars)}


PATCH_ANNOTATION = "meshpki.istio_ca/multiroot-patch"  # set on a managed object the role patched with opt-in


def with_proxy_flag(mesh_text):
    """The mesh config text with defaultConfig.proxyMetadata.PROXY_CONFIG_XDS_AGENT: "true" (other keys kept).

    Re-serialised as YAML (comments in the mesh key are not kept; istiod reads the key as YAML only,
    pkg/config/mesh ApplyMeshConfig)."""
    mesh = yaml.safe_load(mesh_text or "") or {}
    if not isinstance(mesh, dict):
        raise MultirootInputError("the mesh key is not a YAML mapping")
    default_config = mesh.get("defaultConfig")
    if default_config is None:
        default_config = mesh["defaultConfig"] = {}
    if not isinstance(default_config, dict):
        raise MultirootInputError("defaultConfig is not a mapping")
    metadata = default_config.get("proxyMetadata")
    if metadata is None:
        metadata = default_config["proxyMetadata"] = {}
    if not isinstance(metadata, dict):
        raise MultirootInputError("defaultConfig.proxyMetadata is not a mapping")
    metadata[PROXY_FLAG] = "true"
    return yaml.safe_dump(mesh, default_flow_style=False, sort_keys=False)


def _decide(manager, patch_managed, what, revision):
    """``(action, message, warning)`` for one object that needs the change: patch, or refuse when managed."""
    if manager.get("manager") in (None, install_manager.NONE):
        return "patch", None, None
    fix = _fix(manager, revision)
    if patch_managed:
        return "patch", None, ("Patched %s although %s; the next render from that source drops it. Put it in the "
                               "manager's source instead." % (what, fix))
    return "refuse", ("Not patching %s: %s (or set istio_patch_managed=true to patch the live object anyway)"
                      % (what, fix)), None


def plan(deployments, configmaps, managed=None, istio_operators=None, patch_managed=False, version="",
         container_name=hot_reload_plan.DISCOVERY_CONTAINER, namespace="istio-system"):
    """What ``deploy.yml -e istio_multiroot=true`` changes: ``{"istiod", "mesh", "refusals", "warnings"}``.

    ``istiod``: per Deployment ``{name, revision, action (none/patch/refuse), manager}``; ``mesh``: per mesh
    ConfigMap ``{name, revision, action, mesh (the new text for patch)}``. ``refusals`` lists every reason
    not to change anything (an istiod older than 1.20 or of unknown version, a missing mesh ConfigMap, a
    managed object without opt-in); the role fails on them before it changes anything.
    """
    deployments = resources(deployments, "the istiod Deployments")
    configmaps = resources(configmaps, "the mesh ConfigMaps")
    istio_operators = resources(istio_operators, "the IstioOperators")
    managers = _managed_by_name(managed if isinstance(managed, list) else [], deployments, istio_operators)
    by_cm_name = dict((_meta(cm).get("name"), cm) for cm in configmaps
                      if (_meta(cm).get("namespace") or namespace) == namespace)
    out = {"istiod": [], "mesh": [], "refusals": [], "warnings": []}
    seen = set()
    for dep in deployments:
        facts = hot_reload_plan.deployment_facts(dep, container_name, version)
        name, revision, parsed = facts["name"], facts["revision"], facts["version"]
        manager = managers.get(name) or {}
        raw = hot_reload_plan.literal_env(hot_reload_plan.container_of(
            (((dep.get("spec") or {}).get("template") or {}).get("spec")), container_name)).get(ISTIOD_ENV)
        entry = {"name": name, "revision": revision, "manager": manager.get("manager") or install_manager.NONE,
                 "action": "none"}
        if parsed is None:
            out["refusals"].append("Cannot tell the Istio version of istiod %s (image %s): set istio_version."
                                   % (name, facts["image"] or "(none)"))
        elif not parsed.at_least(*MIN_VERSION):
            out["refusals"].append("istiod revision '%s' (%s) runs %s: multi-root needs istiod >= 1.20 "
                                   "(ISTIO_MULTIROOT_MESH, istio PR #47063) - upgrade Istio before setting "
                                   "istio_multiroot=true." % (revision, name, parsed))
        if versions.go_bool(raw) is not True:
            entry["action"], message, warning = _decide(manager, patch_managed, "%s=true on istiod %s" % (
                ISTIOD_ENV, name), revision)
            if message:
                out["refusals"].append(message)
            if warning:
                out["warnings"].append(warning)
        out["istiod"].append(entry)
        cm_name = mesh_configmap_name(revision)
        if cm_name in seen:
            continue
        seen.add(cm_name)
        configmap = by_cm_name.get(cm_name)
        mesh_entry = {"name": cm_name, "revision": revision, "action": "none", "mesh": None}
        out["mesh"].append(mesh_entry)
        if configmap is None:
            out["refusals"].append("Mesh ConfigMap %s/%s of istiod revision '%s' not found: istiod's installer "
                                   "writes it (reinstall or repair that revision) before setting istio_multiroot=true."
                                   % (namespace, cm_name, revision))
            continue
        raw_mesh, bad = mesh_proxy_flag(configmap)
        if bad:
            out["refusals"].append("Mesh ConfigMap %s/%s: %s - fix the mesh config first." % (namespace, cm_name, bad))
            continue
        if versions.go_bool(raw_mesh) is True:
            continue
        mesh_manager = _configmap_manager(configmap, istio_operators)
        if mesh_manager.get("manager") in (None, install_manager.NONE):
            mesh_manager = manager  # rendered by istiod's own installer (the istiod chart's configmap.yaml)
        mesh_entry["action"], message, warning = _decide(
            mesh_manager, patch_managed, "%s: \"true\" into defaultConfig.proxyMetadata of ConfigMap %s/%s"
            % (PROXY_FLAG, namespace, cm_name), revision)
        if message:
            out["refusals"].append(message)
        if warning:
            out["warnings"].append(warning)
        if mesh_entry["action"] == "patch":
            mesh_entry["mesh"] = with_proxy_flag(((configmap.get("data") or {}).get("mesh")))
            mesh_entry["managed"] = mesh_manager.get("manager") not in (None, install_manager.NONE)
    for entry in out["istiod"]:
        entry["managed"] = entry["manager"] != install_manager.NONE
    return out
