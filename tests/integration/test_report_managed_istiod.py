"""report.yml names who manages each istiod revision and flags a hot-reload setting its manager will revert
(issue 14 item 3).

Two clusters: cluster-1's istiod (1.22) is installed by istioctl (kubesim labels it as the operator's
getCoreOwnerLabels do), cluster-2's (1.16, which needs AUTO_RELOAD_PLUGIN_CERTS=true) by the Helm chart, and the
istio role was told to patch it anyway (istio_patch_managed=true). The report must read the Deployments, say
istioctl / helm per revision, and make cluster-2's patch a problem: the next helm upgrade drops it and
cert-manager's renewals silently stop reaching istiod.
"""

from __future__ import annotations

import json

import pytest

import rotation_fleet as rf
from deploy_support import FAST_VARS
from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import

pytestmark = pytest.mark.slow

ISTIO_ROLE = """\
- name: The istio role on its own
  hosts: clusters
  gather_facts: false
  roles:
    - role: meshpki.istio_ca.istio
"""


def test_report_shows_each_revisions_manager_and_flags_a_patch_the_manager_reverts(kubesim_fleet_factory,  # noqa: F811
                                                                                   tmp_path):
    fleet = kubesim_fleet_factory(n_clusters=2, preinstall=("cert-manager",), propagation_delay=0.2)
    root = rf.make_root()
    rf.setup_ca(fleet, root, clusters=["cluster-1"], istio_managed_by="istioctl")
    rf.setup_ca(fleet, root, clusters=["cluster-2"], istio_version="1.16.7", istio_managed_by="helm")
    role = tmp_path / "istio.yml"
    role.write_text(ISTIO_ROLE)
    patched = run_playbook(role, fleet.inventory, {**FAST_VARS, "istio_patch_managed": True}, limit="cluster-2")
    assert patched.rc == 0, patched.explain()
    live = fleet["cluster-2"].get("apps/v1", "deployments", rf.NS, "istiod")
    assert live["metadata"]["annotations"]["meshpki.istio_ca/hot-reload-patch"] == "true"

    res = run_playbook("playbooks/report.yml", inventory=fleet.inventory,
                       extra_vars={"report_dir": str(tmp_path / "out"), "report_fail_on_problems": False})
    assert res.rc == 0, res.explain()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    clusters = {c["name"]: c for c in report["clusters"]}

    operator, helm = clusters["cluster-1"]["istiod"], clusters["cluster-2"]["istiod"]
    assert operator["managed_by"] == "istioctl"
    assert [(d["name"], d["managed_by"]) for d in operator["deployments"]] == [("istiod", "istioctl")]
    assert operator["hot_reload_patch_at_risk"] == []
    # Managed is not a fault: cluster-1's only problem is the trust check's (rf.setup_ca is ca_keypair with the
    # root, whose key is in the cluster).
    assert [p for p in clusters["cluster-1"]["problems"] if "holds the private key of the fleet root" not in p] == []

    assert helm["managed_by"] == "helm" and helm["hot_reload_state"] == "on"  # the patch works, for now
    assert [(d["name"], d["managed_by"]) for d in helm["deployments"]] == [("istiod", "helm")]
    assert len(helm["hot_reload_patch_at_risk"]) == 1
    risk = helm["hot_reload_patch_at_risk"][0]
    assert risk.startswith("istiod istiod: AUTO_RELOAD_PLUGIN_CERTS=true lives only in a patch of the live Deployment")
    assert "helm (label app.kubernetes.io/managed-by=Helm)" in risk and "helm upgrade --force" in risk
    assert risk in clusters["cluster-2"]["problems"] and clusters["cluster-2"]["ok"] is False

    # Both renderings carry the manager and the finding.
    md = (tmp_path / "out" / "report.md").read_text()
    page = (tmp_path / "out" / "report.html").read_text()
    assert "istioctl" in md and "helm" in md and "lives only in a patch of the live Deployment" in md
    assert "istioctl" in page and "lives only in a patch of the live Deployment" in page
