# -*- coding: utf-8 -*-
"""Who manages istiod, and whether the istio role patches hot reload on (filter istio_manager_plan)."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.istio import install_manager as im
from ansible_collections.meshpki.istio_ca.plugins.filter.istio import istio_manager_plan
from kubesim.manifests.istio import istiod_deployment

CHART = {"app": "istiod", "istio.io/rev": "default", "install.operator.istio.io/owning-resource": "unknown"}


def deployment(name="istiod", labels=None, annotations=None):
    meta = {"name": name, "labels": dict(CHART, **(labels or {}))}
    if annotations:
        meta["annotations"] = annotations
    return {"metadata": meta}


def entry(name="istiod", version="1.16.7", env="", revision="default"):
    return {"name": name, "revision": revision, "version": version, "auto_reload_env": env}


@pytest.mark.parametrize("labels, annotations, manager", [
    ({}, None, im.NONE),  # the chart's owning-resource "unknown" names no IstioOperator
    ({"app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "istiod-1.16.7"}, None, im.HELM),
    ({"helm.sh/chart": "istiod-1.16.7"}, None, im.HELM),
    ({"install.operator.istio.io/owning-resource": "installed-state"}, None, im.ISTIOCTL),
    ({"operator.istio.io/managed": "Reconcile", "app.kubernetes.io/managed-by": "Helm"}, None, im.ISTIOCTL),
    ({"app.kubernetes.io/managed-by": "Helm"}, {"argocd.argoproj.io/tracking-id": "mesh:apps/Deployment:istio-system/istiod"},
     im.ARGOCD),
    ({"argocd.argoproj.io/instance": "mesh"}, None, im.ARGOCD),
    ({"helm.toolkit.fluxcd.io/name": "istiod", "helm.toolkit.fluxcd.io/namespace": "flux-system",
      "app.kubernetes.io/managed-by": "Helm"}, None, im.FLUX_HELM),
    ({"kustomize.toolkit.fluxcd.io/name": "mesh", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}, None,
     im.FLUX_KUSTOMIZE),
])
def test_manager_from_labels_and_annotations(labels, annotations, manager):
    assert im.detect(deployment(labels=labels, annotations=annotations))["manager"] == manager


def test_an_istio_operator_object_for_the_revision_manages_it():
    canary = deployment("istiod-canary", labels={"istio.io/rev": "canary"})
    iops = [{"metadata": {"name": "installed-state-canary"}, "spec": {"revision": "canary"}}]
    assert im.detect(canary, iops)["manager"] == im.ISTIOCTL
    assert im.detect(deployment(), iops)["manager"] == im.NONE  # another revision's IstioOperator


def test_kubesim_labels_its_istiod_like_each_installer():
    for managed_by, manager in (("none", im.NONE), ("helm", im.HELM), ("istioctl", im.ISTIOCTL)):
        assert im.detect(istiod_deployment("1.16.7", managed_by=managed_by))["manager"] == manager


@pytest.mark.parametrize("version, env, needed", [
    ("1.16.7", "", True), ("1.16.7", "true", False), ("1.16.7", "True", False), ("1.17.8", "false", True),
    ("1.18.5", "", False), ("1.18.5", "false", True), ("1.22.3", "false", False),
])
def test_which_versions_need_the_env(version, env, needed):
    assert im.needs_env(version, env) is needed


def test_unmanaged_is_patched_managed_is_refused_with_the_helm_overlay():
    helm = deployment(labels={"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "istiod",
                              "helm.sh/chart": "istiod-1.16.7"})
    plain = istio_manager_plan([entry()], [deployment()])[0]
    assert plain["action"] == "patch" and plain["warning"] is None and plain["manager"] == "none"
    refused = istio_manager_plan([entry()], [helm])[0]
    assert refused["action"] == "refuse" and refused["manager"] == "helm"
    assert "helm upgrade istiod istio/istiod -n istio-system --reuse-values --set-string " \
           "pilot.env.AUTO_RELOAD_PLUGIN_CERTS=true" in refused["message"]
    assert "pilot:\n  env:\n    AUTO_RELOAD_PLUGIN_CERTS: \"true\"" in refused["message"]
    assert "istio_patch_managed=true" in refused["message"]
    opted = istio_manager_plan([entry()], [helm], patch_managed=True)[0]
    assert opted["action"] == "patch" and "helm upgrade --force" in opted["warning"]
    assert istio_manager_plan([entry(version="1.22.3")], [helm])[0]["action"] == "none"


def test_every_revision_is_judged_on_its_own():
    iop = deployment("istiod-canary", labels={
        "istio.io/rev": "canary", "operator.istio.io/managed": "Reconcile",
        "install.operator.istio.io/owning-resource": "installed-state-canary"})
    plan = istio_manager_plan([entry(), entry("istiod-canary", revision="canary")], [deployment(), iop])
    assert [(p["name"], p["action"]) for p in plan] == [("istiod", "patch"), ("istiod-canary", "refuse")]
    message = plan[1]["message"]
    assert "components:\n    pilot:\n      k8s:\n        env:\n        - name: AUTO_RELOAD_PLUGIN_CERTS\n" \
           "          value: \"true\"" in message
    assert "  revision: canary\n" in message and "IstioOperator installed-state-canary" in message


def test_gitops_overlays_name_their_source():
    flux = deployment(labels={"helm.toolkit.fluxcd.io/name": "istiod", "helm.toolkit.fluxcd.io/namespace": "flux"})
    message = istio_manager_plan([entry()], [flux])[0]["message"]
    assert "HelmRelease flux/istiod, spec.values" in message
    argo = deployment(annotations={"argocd.argoproj.io/tracking-id": "mesh:apps/Deployment:istio-system/istiod"})
    assert "Argo CD Application mesh" in istio_manager_plan([entry()], [argo])[0]["message"]


def test_patch_at_risk_only_for_a_marked_patch_of_a_managed_istiod():
    marked = {im.PATCH_ANNOTATION: "true"}
    assert im.patch_at_risk(deployment(annotations=marked)) is None  # unmanaged: the patch is the setting
    helm = deployment(labels={"helm.sh/chart": "istiod-1.16.7"}, annotations=marked)
    assert "lives only in a patch of the live Deployment" in im.patch_at_risk(helm)
    assert im.patch_at_risk(deployment(labels={"helm.sh/chart": "istiod-1.16.7"})) is None
