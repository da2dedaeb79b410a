"""Unit tests of the manifest filters: what deploy.yml --check can dry-run of a release manifest now.

manifest_dry_run_plan splits a manifest into what the cluster can dry-run (cluster-scoped objects and
those whose namespace and CRD exist) and what only a real run can create.
"""

from __future__ import annotations

from ansible_collections.meshpki.istio_ca.plugins.filter.manifest import manifest_crds_needed, manifest_dry_run_plan
from kubesim.manifests import DEFAULT_CERT_MANAGER_VERSION as CERT_MANAGER_VERSION, cert_manager_manifest_yaml


def test_plan_defers_only_objects_whose_namespace_or_crd_is_missing():
    manifest = cert_manager_manifest_yaml(CERT_MANAGER_VERSION)
    fresh = manifest_dry_run_plan(manifest, ["default", "kube-system"], version_from="cert-manager",
                                  container="cert-manager-controller")
    assert fresh["version"] == f"v{CERT_MANAGER_VERSION}"
    assert fresh["missing_namespaces"] == ["cert-manager"]
    assert all(not (o.get("metadata") or {}).get("namespace") for o in fresh["dry_run"])
    assert len(fresh["dry_run"]) + len(fresh["deferred"]) == fresh["total"]
    assert any(o["kind"] == "Namespace" for o in fresh["dry_run"])
    deployed = manifest_dry_run_plan(manifest, ["default", "kube-system", "cert-manager"])
    assert deployed["deferred"] == [] and len(deployed["dry_run"]) == deployed["total"]

    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "names": {"kind": "Widget"}, "scope": "Cluster"}}
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert manifest_crds_needed([crd, widget]) == ["widgets.example.com"]
    assert manifest_dry_run_plan([crd, widget], [])["deferred"] == ["Widget w"]
    assert manifest_dry_run_plan([crd, widget], [], ["widgets.example.com"])["deferred"] == []
