"""The cert_manager role's API check cannot be passed by a namespace that bypasses the webhook.

What must hold (issue 14 item 9): with the cert-manager namespace labelled cert-manager.io/disable-validation=true
(the validating webhook's namespaceSelector then skips it) and the webhook not answering, the API check fails
instead of passing; once the webhook serves, it passes.
"""

from __future__ import annotations

import pytest

from kubesim import Fleet

from helpers_ansible import run_playbook

pytestmark = pytest.mark.slow

API_CHECK = """\
- name: The cert_manager role's API check on its own
  hosts: clusters
  gather_facts: false
  module_defaults:
    group/meshpki.istio_ca.k8s:
      kubeconfig: "{{ k8s_kubeconfig }}"
      context: "{{ k8s_context }}"
  tasks:
    - name: API check
      ansible.builtin.include_role:
        name: meshpki.istio_ca.cert_manager
        tasks_from: api_check.yml
      vars:
        cert_manager_api_check_timeout: 3
        cert_manager_api_check_delay: 1
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("api-check")
    fleet = Fleet(n_clusters=1, workdir=d / "fleet", preinstall=("cert-manager",))
    fleet.start()
    (d / "check.yml").write_text(API_CHECK)
    yield {"fleet": fleet, "playbook": d / "check.yml"}
    fleet.stop()


def test_api_check_fails_when_the_webhook_is_bypassed_and_down(env):
    cluster = env["fleet"]["cluster-1"]
    ns = cluster.get("v1", "namespaces", None, "cert-manager")
    ns["metadata"].setdefault("labels", {})["cert-manager.io/disable-validation"] = "true"
    cluster.update(ns)
    webhook = cluster.get("apps/v1", "deployments", "cert-manager", "cert-manager-webhook")
    webhook["metadata"].setdefault("annotations", {})["kubesim.io/never-ready"] = "true"
    webhook["spec"]["template"].setdefault("metadata", {}).setdefault("annotations", {})["restart"] = "1"
    cluster.update(webhook)

    def webhook_down():
        dep = cluster.get("apps/v1", "deployments", "cert-manager", "cert-manager-webhook")
        return any(c["type"] == "Available" and c["status"] == "False" for c in dep["status"]["conditions"])
    assert cluster.wait_for(webhook_down, timeout=10)
    result = run_playbook(env["playbook"], env["fleet"].inventory)
    assert result.rc != 0
    failed = result.failed_tasks()
    assert [n.split(" : ")[-1] for n, _h, _m in failed] == [
        "Dry-run create a ClusterIssuer until the cert-manager webhook accepts it"]
    assert "webhook.cert-manager.io" in failed[0][2]


def test_api_check_passes_once_the_webhook_serves(env):
    cluster = env["fleet"]["cluster-1"]
    webhook = cluster.get("apps/v1", "deployments", "cert-manager", "cert-manager-webhook")
    del webhook["metadata"]["annotations"]["kubesim.io/never-ready"]
    webhook["spec"]["template"]["metadata"]["annotations"]["restart"] = "2"
    cluster.update(webhook)

    def webhook_up():
        dep = cluster.get("apps/v1", "deployments", "cert-manager", "cert-manager-webhook")
        return any(c["type"] == "Available" and c["status"] == "True" for c in dep["status"]["conditions"])
    assert cluster.wait_for(webhook_up, timeout=20)
    result = run_playbook(env["playbook"], env["fleet"].inventory)
    assert result.rc == 0, result.explain()
    assert cluster.get("cert-manager.io/v1", "clusterissuers", None, "meshpki-api-check") is None  # dry run only
