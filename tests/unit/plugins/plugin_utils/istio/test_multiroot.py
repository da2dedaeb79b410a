# -*- coding: utf-8 -*-
"""Readiness for a multi-root rotation (filter istio_multiroot_readiness, plugin_utils/istio/multiroot.py).

Objects are shaped as k8s_info returns them: istiod Deployments with the istiod chart's labels (and a manager's,
as in install_manager.py), pods as the Deployment controller and the sidecar injector leave them. No kubesim import:
this file ships in the collection tarball.
"""

from __future__ import absolute_import, division, print_function

import copy

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.filter.istio_multiroot_readiness import FilterModule
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.istio import install_manager, multiroot

readiness = FilterModule().filters()["istio_multiroot_readiness"]
MESH_ON = "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  proxyMetadata:\n" \
          "    PROXY_CONFIG_XDS_AGENT: \"true\"\ntrustDomain: cluster.local\n"
MESH_OFF = "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\ntrustDomain: cluster.local\n"


MANAGER_LABELS = {
    "none": {},
    "helm": {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "istiod",
             "helm.sh/chart": "istiod-1.22.3", "release": "istiod"},
    "istioctl": {"operator.istio.io/managed": "Reconcile", "install.operator.istio.io/owning-resource": "installed-state"},
}


def istiod(version="1.22.3", multiroot_value="true", revision=None, managed_by="none"):
    env = [{"name": "REVISION", "value": revision or "default"}, {"name": "PILOT_CERT_PROVIDER", "value": "istiod"}]
    if multiroot_value is not None:
        env.append({"name": "ISTIO_MULTIROOT_MESH", "value": multiroot_value})
    labels = {"app": "istiod", "istio": "pilot", "istio.io/rev": revision or "default",
              "install.operator.istio.io/owning-resource": "unknown"}
    labels.update(MANAGER_LABELS[managed_by])
    container = {"name": "discovery", "image": "docker.io/istio/pilot:%s" % version, "env": env,
                 "args": ["discovery", "--monitoringAddr=:15014"]}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "istiod-%s" % revision if revision else "istiod", "namespace": "istio-system",
                         "labels": labels},
            "spec": {"template": {"spec": {"containers": [container]}}}}


def mesh(name="istio", text=MESH_ON):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "istio-system"},
            "data": {"mesh": text}}


def pod(namespace="mesh-1", deployment="workload", index=0, flag="true", annotation=None, revision=None):
    """A Deployment's injected pod; ``flag`` is the env entry the injector copied from proxyMetadata (None: none)."""
    template_hash = "5d8f7c9b4"
    env = [{"name": "ISTIO_META_WORKLOAD_NAME", "value": deployment}]
    if flag is not None:
        env.append({"name": "PROXY_CONFIG_XDS_AGENT", "value": flag})
    meta = {"name": "%s-%s-%05d" % (deployment, template_hash, index), "namespace": namespace,
            "labels": {"app": deployment, "pod-template-hash": template_hash,
                       "security.istio.io/tlsMode": "istio"},
            "annotations": {"sidecar.istio.io/status": '{"containers":["istio-proxy"],"revision":"%s"}'
                            % (revision or "default")},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "controller": True,
                                 "name": "%s-%s" % (deployment, template_hash)}]}
    if revision:
        meta["labels"]["istio.io/rev"] = revision
    if annotation is not None:
        meta["annotations"]["proxy.istio.io/config"] = annotation
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": "app", "image": "curl"},
                                    {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.3", "env": env}]}}


def test_a_prepared_cluster_is_ready():
    pods = [pod(index=i) for i in range(3)] + [pod("mesh-2", index=i) for i in range(2)]
    app_only = {"metadata": {"name": "db-0", "namespace": "data"}, "spec": {"containers": [{"name": "db"}]}}
    result = readiness([istiod()], [mesh()], pods + [app_only])
    assert result["problems"] == []
    assert result["ready"] is True
    assert (result["workloads"], result["pcds_workloads"], result["restart"]) == (5, 5, [])
    assert result["revisions"] == [{
        "name": "default", "deployment": "istiod", "version": "1.22.3", "multiroot": True, "multiroot_env": "true",
        "managed_by": "none", "mesh_configmap": "istio", "mesh_proxy_flag": True}]
    # a registered k8s_info result is taken as well as its resources
    assert readiness({"resources": [istiod()]}, {"resources": [mesh()]}, {"resources": pods}) == result


def test_an_unprepared_cluster_says_what_to_do_and_whom_to_restart():
    pods = [pod(index=i, flag=None) for i in range(3)] + [pod("mesh-2", index=0, flag=None),
                                                          pod("mesh-3", index=0)]
    result = readiness([istiod(multiroot_value=None)], [mesh(text=MESH_OFF)], pods)
    assert result["ready"] is False
    assert result["restart"] == ["mesh-1/workload", "mesh-2/workload"]
    assert (result["workloads"], result["pcds_workloads"]) == (5, 1)
    assert result["revisions"][0]["multiroot"] is False
    text = "\n".join(result["problems"])
    assert "ISTIO_MULTIROOT_MESH is not set on istiod istiod (revision 'default'): run deploy.yml -e " \
           "istio_multiroot=true" in text
    assert "PROXY_CONFIG_XDS_AGENT is not \"true\" in defaultConfig.proxyMetadata of mesh ConfigMap " \
           "istio-system/istio" in text
    assert "4 workload(s) started without PROXY_CONFIG_XDS_AGENT" in text
    assert "restart mesh-1/workload, mesh-2/workload" in text


@pytest.mark.parametrize("version, value, ok", [
    ("1.19.3", "true", False),   # the flag does not exist before 1.20 (PR #47063)
    ("1.20.0", "true", True),
    ("1.22.3", "1", True),       # Go strconv.ParseBool
    ("1.22.3", "True", True),
    ("1.22.3", "yes", False),    # not a Go bool: istiod falls back to the default, false
    ("1.22.3", "false", False),
])
def test_istiod_version_and_flag_are_read_as_istiod_reads_them(version, value, ok):
    result = readiness([istiod(version, value)], [mesh()], [pod()])
    assert result["revisions"][0]["multiroot"] is ok
    assert result["ready"] is ok
    if version == "1.19.3":
        assert any("runs 1.19.3: multi-root needs istiod >= 1.20" in p and "upgrade" in p for p in result["problems"])
    elif not ok:
        assert any(("is %r, which istiod reads as" % value) in p for p in result["problems"])


def test_every_revision_is_checked_against_its_own_mesh_configmap():
    deployments = [istiod(), istiod("1.19.3", revision="canary")]
    pods = [pod(), pod("mesh-2", revision="canary")]
    result = readiness(deployments, [mesh(), mesh("istio-canary", MESH_OFF)], pods)
    assert [(r["name"], r["version"], r["multiroot"], r["mesh_configmap"], r["mesh_proxy_flag"])
            for r in result["revisions"]] == [("default", "1.22.3", True, "istio", True),
                                              ("canary", "1.19.3", False, "istio-canary", False)]
    text = "\n".join(result["problems"])
    assert "istiod revision 'canary' (istiod-canary) runs 1.19.3" in text
    assert "mesh ConfigMap istio-system/istio-canary (revision 'canary')" in text
    assert "istio-system/istio " not in text


def test_a_missing_mesh_configmap_and_a_workload_of_an_uninstalled_revision_are_problems():
    result = readiness([istiod()], [], [pod(revision="gone")])
    text = "\n".join(result["problems"])
    assert "Mesh ConfigMap istio-system/istio (revision 'default') not found" in text
    assert "1 workload(s) belong to an istiod revision that is not installed (mesh-1/workload-5d8f7c9b4-00000)" in text


def test_a_cluster_without_istiod_is_not_ready():
    result = readiness([], [mesh()], [pod()])
    assert result["ready"] is False
    assert "No istiod Deployment found in istio-system" in result["problems"][0]


def test_the_proxy_config_annotation_counts_and_the_env_entry_wins():
    on = pod(flag=None, annotation="proxyMetadata:\n  PROXY_CONFIG_XDS_AGENT: \"true\"\n")
    env_wins = pod("mesh-2", flag="false", annotation="proxyMetadata:\n  PROXY_CONFIG_XDS_AGENT: \"true\"\n")
    result = readiness([istiod()], [mesh()], [on, env_wins])
    assert result["pcds_workloads"] == 1
    # set false on the pod itself: a restart would not help, so it is not in restart but named with the fix
    assert result["restart"] == []
    assert any("set to a false value on the pods of mesh-2/workload" in p and "remove that override" in p
               for p in result["problems"])


def test_restart_names_the_owner_of_each_pod_once():
    sts = pod("db", "postgres", flag=None)
    sts["metadata"]["ownerReferences"] = [{"kind": "StatefulSet", "name": "postgres", "controller": True}]
    bare = pod("tools", "debug", flag=None)
    bare["metadata"]["ownerReferences"] = []
    deleting = pod("mesh-3", flag=None)
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    pods = [pod(index=i, flag=None) for i in range(4)] + [sts, bare, deleting]
    result = readiness([istiod()], [mesh()], pods)
    assert result["restart"] == ["db/statefulset/postgres", "mesh-1/workload", "tools/pod/debug-5d8f7c9b4-00000"]
    assert result["workloads"] == 6


def test_many_owners_are_cut_short_in_the_sentence_but_all_listed():
    pods = [pod("ns-%02d" % i, flag=None) for i in range(15)]
    result = readiness([istiod()], [mesh()], pods)
    assert len(result["restart"]) == 15
    sentence = [p for p in result["problems"] if "started without" in p][0]
    assert "... (5 more)" in sentence and "ns-14/workload" not in sentence


@pytest.mark.parametrize("managed_by, needle", [
    ("helm", "--set-string pilot.env.ISTIO_MULTIROOT_MESH=true --set-string "
             "meshConfig.defaultConfig.proxyMetadata.PROXY_CONFIG_XDS_AGENT=true"),
    ("istioctl", "components:\n    pilot:\n      k8s:\n        env:\n        - name: ISTIO_MULTIROOT_MESH"),
])
def test_a_managed_istiod_gets_the_overlay_for_its_manager(managed_by, needle):
    result = readiness([istiod(multiroot_value=None, managed_by=managed_by)], [mesh(text=MESH_OFF)], [pod()])
    assert result["revisions"][0]["managed_by"] == managed_by
    istiod_problem = [p for p in result["problems"] if p.startswith("ISTIO_MULTIROOT_MESH")][0]
    assert needle in istiod_problem
    assert "istio_patch_managed=true" in istiod_problem
    mesh_problem = [p for p in result["problems"] if "mesh ConfigMap" in p][0]
    assert "%s manages it" % managed_by in mesh_problem


def test_managed_info_from_istio_manager_plan_is_used():
    dep = istiod(multiroot_value=None)  # no manager labels
    plan = [{"name": "istiod", "manager": install_manager.FLUX_HELM, "manager_name": "flux-system/istiod",
             "manager_evidence": "label helm.toolkit.fluxcd.io/name=istiod"}]
    result = readiness([dep], [mesh()], [pod()], managed=plan)
    assert result["revisions"][0]["managed_by"] == "flux-helmrelease"
    assert any("In HelmRelease flux-system/istiod spec.values" in p for p in result["problems"])


def test_the_mesh_configmap_is_read_as_yaml_not_as_text():
    commented = mesh(text=MESH_OFF + "# PROXY_CONFIG_XDS_AGENT: \"true\"\n")
    assert readiness([istiod()], [commented], [pod()])["revisions"][0]["mesh_proxy_flag"] is False
    broken = readiness([istiod()], [mesh(text="defaultConfig: [")], [pod()])
    assert any("its mesh key is not YAML" in p for p in broken["problems"])


def test_the_input_is_not_changed():
    deployments, configmaps, pods = [istiod(multiroot_value=None)], [mesh(text=MESH_OFF)], [pod(flag=None)]
    before = copy.deepcopy((deployments, configmaps, pods))
    readiness(deployments, configmaps, pods)
    assert (deployments, configmaps, pods) == before


@pytest.mark.parametrize("kwargs, message", [
    ({"deployments": "istiod"}, "the istiod Deployments must be a list of Kubernetes objects"),
    ({"pods": [1, 2]}, "the workload pods must be a list"),
    ({"managed": {"name": "istiod"}}, "managed must be the list istio_manager_plan returns"),
    ({"version": "latest"}, "not an Istio version"),
])
def test_bad_input_is_refused_with_a_clear_error(kwargs, message):
    args = dict(deployments=[istiod()], configmaps=[mesh()], pods=[pod()])
    args.update(kwargs)
    with pytest.raises(AnsibleFilterError, match=message):
        readiness(**args)


def test_the_version_override_replaces_the_image_tag():
    dep = istiod()
    dep["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.local/pilot:latest"
    assert any("Cannot tell the Istio version" in p for p in readiness([dep], [mesh()], [pod()])["problems"])
    assert readiness([dep], [mesh()], [pod()], version="1.19.9")["revisions"][0]["version"] == "1.19.9"


def test_mesh_configmap_names_follow_the_revision():
    assert multiroot.mesh_configmap_name("default") == "istio"
    assert multiroot.mesh_configmap_name("1-22") == "istio-1-22"


plan = FilterModule().filters()["istio_multiroot_plan"]


def test_the_plan_sets_what_is_missing_and_nothing_else():
    result = plan([istiod(multiroot_value=None), istiod(revision="canary")],
                  [mesh(text=MESH_OFF), mesh("istio-canary"), mesh("unrelated", "x: [")])
    assert result["refusals"] == [] and result["warnings"] == []
    assert [(e["name"], e["action"]) for e in result["istiod"]] == [("istiod", "patch"), ("istiod-canary", "none")]
    assert [(e["name"], e["action"]) for e in result["mesh"]] == [("istio", "patch"), ("istio-canary", "none")]
    new = result["mesh"][0]["mesh"]
    # the new mesh text is what the readiness rule then accepts, with the other settings kept
    assert readiness([istiod()], [mesh(text=new)], [pod()])["ready"] is True
    assert "discoveryAddress: istiod.istio-system.svc:15012" in new and "trustDomain: cluster.local" in new


def test_a_prepared_cluster_plans_no_change():
    result = plan([istiod()], [mesh()])
    assert [e["action"] for e in result["istiod"] + result["mesh"]] == ["none", "none"]


@pytest.mark.parametrize("text", ["", "trustDomain: cluster.local\n", "defaultConfig:\n  proxyMetadata:\n"
                                  "    ISTIO_META_DNS_CAPTURE: \"true\"\n    PROXY_CONFIG_XDS_AGENT: \"false\"\n"])
def test_the_flag_is_added_to_any_mesh_config(text):
    new = multiroot.with_proxy_flag(text)
    assert multiroot.mesh_proxy_flag({"data": {"mesh": new}}) == ("true", None)
    if "DNS_CAPTURE" in text:
        assert "ISTIO_META_DNS_CAPTURE: 'true'" in new or 'ISTIO_META_DNS_CAPTURE: "true"' in new


def test_an_old_istiod_or_a_missing_mesh_config_is_refused_before_any_change():
    result = plan([istiod("1.19.3", multiroot_value=None)], [])
    assert any("runs 1.19.3: multi-root needs istiod >= 1.20" in r for r in result["refusals"])
    assert any("Mesh ConfigMap istio-system/istio of istiod revision 'default' not found" in r
               for r in result["refusals"])


def test_a_managed_install_is_refused_with_its_overlay_unless_patch_managed():
    deployments, configmaps = [istiod(multiroot_value=None, managed_by="helm")], [mesh(text=MESH_OFF)]
    refused = plan(deployments, configmaps)
    assert [e["action"] for e in refused["istiod"] + refused["mesh"]] == ["refuse", "refuse"]
    assert len(refused["refusals"]) == 2
    assert "Not patching ISTIO_MULTIROOT_MESH=true on istiod istiod: helm manages it" in refused["refusals"][0]
    assert "pilot.env.ISTIO_MULTIROOT_MESH=true" in refused["refusals"][0]
    patched = plan(deployments, configmaps, patch_managed=True)
    assert patched["refusals"] == []
    assert [e["action"] for e in patched["istiod"] + patched["mesh"]] == ["patch", "patch"]
    assert len(patched["warnings"]) == 2 and "drops it" in patched["warnings"][0]
