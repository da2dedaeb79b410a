# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Who manages an istiod Deployment, and how the istio role may turn hot reload on for it.

Hot reload of the plugged-in CA needs ``AUTO_RELOAD_PLUGIN_CERTS=true`` on Istio 1.14-1.17 (and not
``false`` on 1.18; docs/upstream/istiod.md#hot-reload-versions). Patching the live Deployment puts the
setting where only the live object holds it: whatever re-renders istiod from its manager's source
(a new ``istiod-<rev>`` canary from the same values, ``helm upgrade --force`` or a rollback, a manager
whose source sets the variable, a GitOps re-sync that replaces the object) drops it, and cert-manager's
scheduled renewals then silently stop reaching istiod. So for a managed istiod the setting belongs in
the manager's own source; this module says which manager, with the overlay for it.

Marks read (the objects' own labels/annotations):
- Flux: ``helm.toolkit.fluxcd.io/name``/``namespace`` (HelmRelease), ``kustomize.toolkit.fluxcd.io/name``/``namespace``;
- Argo CD: annotation ``argocd.argoproj.io/tracking-id`` or label ``argocd.argoproj.io/instance``;
- istioctl / IstioOperator: ``operator.istio.io/managed: Reconcile`` or ``install.operator.istio.io/owning-resource``
  naming a resource (the operator's ``getCoreOwnerLabels``, ``operator/pkg/helmreconciler``), or an IstioOperator
  object for the revision; the Helm chart itself writes ``owning-resource: unknown``
  (``{{ .Values.ownerName | default "unknown" }}``), which names none;
- Helm: ``app.kubernetes.io/managed-by: Helm`` or ``helm.sh/chart`` (``istio.labels`` in the istiod chart's
  ``templates/zzz_profile.yaml``, ``manifests/charts/istio-control/istio-discovery``).
GitOps is checked first (it re-applies whatever renders the object), then istioctl (which renders the same
chart, so it carries the Helm labels too), then Helm.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import versions

ENV = "AUTO_RELOAD_PLUGIN_CERTS"
PATCH_ANNOTATION = "meshpki.istio_ca/hot-reload-patch"  # set on a Deployment the role patched with opt-in
NONE, HELM, ISTIOCTL, ARGOCD, FLUX_HELM, FLUX_KUSTOMIZE = (
    "none", "helm", "istioctl", "argocd", "flux-helmrelease", "flux-kustomization")

_HELM_VALUES = "pilot:\n  env:\n    %s: \"true\"" % ENV
_IOP = ("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n%s  components:\n    pilot:\n"
        "      k8s:\n        env:\n        - name: %s\n          value: \"true\"")

_REVERTED_BY = {
    HELM: "the Helm release's values do not hold it: a new revision installed from them, helm upgrade --force, "
          "helm rollback or a values file setting %s re-render istiod without it" % ENV,
    ISTIOCTL: "the IstioOperator does not hold it: the next istioctl install/upgrade of this or a new revision "
              "(and the in-cluster operator's reconcile) render istiod without it",
    ARGOCD: "Argo CD's Application source does not hold it: a sync that replaces the Deployment, or a new revision "
            "from the same source, drops it",
    FLUX_HELM: "the HelmRelease's values do not hold it: Flux's helm-controller upgrades or reinstalls from them "
               "without it",
    FLUX_KUSTOMIZE: "the Kustomization's source does not hold it: Flux's next reconcile that recreates the "
                    "Deployment drops it",
}


def _marks(obj):
    meta = (obj or {}).get("metadata") or {}
    return meta.get("labels") or {}, meta.get("annotations") or {}


def detect(deployment, istio_operators=()):
    """``{"manager", "evidence", "name"}``: who manages this istiod Deployment (``none`` when nothing says so)."""
    labels, annotations = _marks(deployment)
    revision = labels.get("istio.io/rev") or "default"
    if labels.get("helm.toolkit.fluxcd.io/name"):
        release = "%s/%s" % (labels.get("helm.toolkit.fluxcd.io/namespace") or "?", labels["helm.toolkit.fluxcd.io/name"])
        return {"manager": FLUX_HELM, "name": release,
                "evidence": "label helm.toolkit.fluxcd.io/name=%s" % labels["helm.toolkit.fluxcd.io/name"]}
    if labels.get("kustomize.toolkit.fluxcd.io/name"):
        return {"manager": FLUX_KUSTOMIZE, "name": "%s/%s" % (
            labels.get("kustomize.toolkit.fluxcd.io/namespace") or "?", labels["kustomize.toolkit.fluxcd.io/name"]),
            "evidence": "label kustomize.toolkit.fluxcd.io/name=%s" % labels["kustomize.toolkit.fluxcd.io/name"]}
    tracking = annotations.get("argocd.argoproj.io/tracking-id") or labels.get("argocd.argoproj.io/instance")
    if tracking:
        key = ("annotation argocd.argoproj.io/tracking-id" if annotations.get("argocd.argoproj.io/tracking-id")
               else "label argocd.argoproj.io/instance")
        return {"manager": ARGOCD, "name": tracking.split(":", 1)[0], "evidence": "%s=%s" % (key, tracking)}
    owner = labels.get("install.operator.istio.io/owning-resource") or ""
    if labels.get("operator.istio.io/managed") == "Reconcile" or owner not in ("", "unknown"):
        evidence = ("label operator.istio.io/managed=Reconcile" if labels.get("operator.istio.io/managed") ==
                    "Reconcile" else "label install.operator.istio.io/owning-resource=%s" % owner)
        return {"manager": ISTIOCTL, "name": owner if owner not in ("", "unknown") else None, "evidence": evidence}
    for iop in istio_operators or ():
        iop_revision = ((iop.get("spec") or {}).get("revision") or "default")
        if iop_revision == revision:
            name = ((iop.get("metadata") or {}).get("name"))
            return {"manager": ISTIOCTL, "name": name, "evidence": "IstioOperator %s (revision %s)" % (name, revision)}
    if labels.get("app.kubernetes.io/managed-by") == "Helm" or labels.get("helm.sh/chart"):
        release = labels.get("app.kubernetes.io/instance") or labels.get("release")
        key = "app.kubernetes.io/managed-by=Helm" if labels.get("app.kubernetes.io/managed-by") == "Helm" else \
            "helm.sh/chart=%s" % labels["helm.sh/chart"]
        return {"manager": HELM, "name": release, "evidence": "label %s" % key}
    return {"manager": NONE, "name": None, "evidence": None}


def overlay(manager, name, namespace, revision):
    """The exact change to make in the manager's source so istiod keeps AUTO_RELOAD_PLUGIN_CERTS=true."""
    if manager in (HELM, ARGOCD):
        where = ("helm upgrade %s istio/istiod -n %s --reuse-values --set-string pilot.env.%s=true, or in its values "
                 "file:" % (name or "<release>", namespace, ENV)) if manager == HELM else (
            "In Argo CD Application %s's source: the Helm values (spec.source.helm.valuesObject) or the istiod manifest "
            "in Git, then sync:" % (name or "<application>"))
        return "%s\n%s" % (where, _HELM_VALUES)
    if manager == ISTIOCTL:
        rev = "  revision: %s\n" % revision if revision and revision != "default" else ""
        return ("In the IstioOperator%s given to istioctl install (components.pilot.k8s.env, as in Istio's plug-in CA "
                "tutorial), then run istioctl install -f with it:\n%s" % (" " + name if name else "", _IOP % (rev, ENV)))
    if manager == FLUX_HELM:
        return ("In HelmRelease %s, spec.values (Flux upgrades the release from them):\nspec:\n  values:\n"
                "    pilot:\n      env:\n        %s: \"true\"" % (name, ENV))
    if manager == FLUX_KUSTOMIZE:
        return ("In the source of Kustomization %s: the istiod Deployment's discovery container env "
                "(or a patch in kustomization.yaml):\n- name: %s\n  value: \"true\"" % (name, ENV))
    return None


def needs_env(version_text, env_value):
    """Whether AUTO_RELOAD_PLUGIN_CERTS must be set to true for hot reload (Istio 1.12-1.18)."""
    version = versions.parse_version(version_text)
    return versions.hot_reload(version, env_value) == versions.RELOAD_OFF


def plan(istiod, deployments, istio_operators=(), patch_managed=False, namespace="istio-system"):
    """Per istiod revision: how the role turns hot reload on (``action``: none / patch / refuse) and why.

    ``istiod`` is the role's list (name, revision, version, auto_reload_env); ``deployments`` the Deployment
    objects (for their labels). A managed revision is refused unless ``patch_managed``; then it is patched with
    a warning that names what will drop the setting.
    """
    by_name = dict(((d.get("metadata") or {}).get("name"), d) for d in deployments or [])
    out = []
    for item in istiod or []:
        found = detect(by_name.get(item.get("name")), istio_operators)
        entry = dict(item, manager=found["manager"], manager_name=found["name"], manager_evidence=found["evidence"],
                     needs_auto_reload_env=item["needs_auto_reload_env"] if "needs_auto_reload_env" in item
                     else needs_env(item.get("version"), item.get("auto_reload_env")),
                     action="none", message=None, warning=None)
        if entry["needs_auto_reload_env"]:
            if found["manager"] == NONE:
                entry["action"] = "patch"
            else:
                text = overlay(found["manager"], found["name"], namespace, item.get("revision"))
                why = ("istiod %s (Istio %s) needs %s=true for hot reload and is managed by %s (%s); %s."
                       % (item.get("name"), item.get("version"), ENV, found["manager"], found["evidence"],
                          _REVERTED_BY[found["manager"]]))
                if patch_managed:
                    entry["action"] = "patch"
                    entry["warning"] = ("Patched %s although %s manages it (istio_patch_managed=true): %s Put it in "
                                        "the manager's source instead. %s"
                                        % (item.get("name"), found["manager"], why, text))
                else:
                    entry["action"] = "refuse"
                    entry["message"] = ("Not patching it: %s Set it there: %s\n(or set istio_patch_managed=true to "
                                        "patch the live Deployment anyway)" % (why, text))
        out.append(entry)
    return out


def patch_at_risk(deployment):
    """A sentence when this Deployment's hot reload lives only in the role's live patch of a managed istiod."""
    labels, annotations = _marks(deployment)
    if not annotations.get(PATCH_ANNOTATION):
        return None
    found = detect(deployment)
    if found["manager"] == NONE:
        return None
    name = (deployment.get("metadata") or {}).get("name")
    return ("istiod %s: %s=true lives only in a patch of the live Deployment, which %s (%s) does not hold: %s"
            % (name, ENV, found["manager"], found["evidence"], _REVERTED_BY[found["manager"]]))
