"""Contract: a kubernetes.core playbook (run by ansible-playbook from the venv) against a
two-cluster kubesim fleet, through the fleet's kubeconfig and inventory.

Covers k8s create, apply with server_side_apply (incl. a field-manager conflict),
wait on a Deployment, k8s_info, k8s_log, idempotent re-apply and deletion
(ansible-collections/kubernetes.core plugins/module_utils/k8s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubesim import Fleet

pytestmark = pytest.mark.slow

ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")

PLAYBOOK = r"""
- hosts: clusters
  gather_facts: false
  module_defaults:
    group/kubernetes.core.k8s:
      kubeconfig: "{{ k8s_kubeconfig }}"
      context: "{{ k8s_context }}"
  vars:
    deploy:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: contract, labels: {app: web}}
      spec:
        replicas: 2
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
            - {name: c, image: "nginx:1.25", env: [{name: A, value: "1"}]}
    cm:
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings, namespace: contract}
      data: {mode: one}
  tasks:
  - name: create a configmap (plain create)
    kubernetes.core.k8s:
      state: present
      definition: "{{ cm }}"
    register: created

  - name: server-side apply a deployment and wait until it is available
    kubernetes.core.k8s:
      definition: "{{ deploy }}"
      apply: true
      server_side_apply: {field_manager: contract-test, force_conflicts: false}
      wait: true
      wait_timeout: 30
      wait_sleep: 1
    register: applied

  - name: re-apply is idempotent
    kubernetes.core.k8s:
      definition: "{{ deploy }}"
      apply: true
      server_side_apply: {field_manager: contract-test}
    register: reapplied

  - name: pods of the deployment
    kubernetes.core.k8s_info:
      kind: Pod
      namespace: contract
      label_selectors: [app=web]
    register: pods

  - name: write a log line through the kubesim admin endpoint
    ansible.builtin.uri:
      url: "{{ kubesim_urls[inventory_hostname] }}/_kubesim/logs"
      ca_path: "{{ kubesim_ca or omit }}"
      method: POST
      body_format: json
      body: {namespace: contract, pod: "{{ pods.resources[0].metadata.name }}", line: "hello from {{ inventory_hostname }}"}

  - name: read the pod log
    kubernetes.core.k8s_log:
      namespace: contract
      name: "{{ pods.resources[0].metadata.name }}"
    register: log

  - name: another manager changing a field it does not own conflicts
    kubernetes.core.k8s:
      definition: "{{ cm | combine({'data': {'mode': 'two'}}) }}"
      apply: true
      server_side_apply: {field_manager: owner-b, force_conflicts: false}
    register: conflict
    ignore_errors: true

  - name: force takes the field over
    kubernetes.core.k8s:
      definition: "{{ cm | combine({'data': {'mode': 'two'}}) }}"
      apply: true
      server_side_apply: {field_manager: owner-b, force_conflicts: true}
    register: forced

  - name: delete the deployment and wait for it to go
    kubernetes.core.k8s:
      state: absent
      kind: Deployment
      namespace: contract
      name: web
      wait: true
      wait_timeout: 20
      wait_sleep: 1
    register: deleted
"""


def _task_results(stdout: str, host: str) -> dict:
    """Per task name, this host's result (from the ansible.posix.json stdout callback)."""
    doc = json.loads(stdout[stdout.index("{"):])
    out = {}
    for play in doc["plays"]:
        for task in play["tasks"]:
            res = task["hosts"].get(host)
            if res is not None:
                out[task["task"]["name"]] = res
    return out


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    f = Fleet(n_clusters=2, workdir=tmp_path_factory.mktemp("kubesim-ansible"))
    f.start()
    yield f
    f.stop()


@pytest.mark.skipif(not ANSIBLE_PLAYBOOK.exists(), reason="ansible-playbook is not installed next to this Python")
def test_kubernetes_core_playbook(fleet, tmp_path):
    play = tmp_path / "play.yml"
    play.write_text(PLAYBOOK)
    for c in fleet:
        c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "contract"}})
    urls = {c.name: c.url for c in fleet}
    ca = ""
    if fleet.ca_pem:  # the admin endpoint is served over the same HTTPS: uri must trust the cluster CA
        ca = str(tmp_path / "ca.crt")
        Path(ca).write_bytes(fleet.ca_pem)
    env = dict(os.environ)
    env.pop("ANSIBLE_CONFIG", None)
    env.pop("KUBECONFIG", None)
    env.update({"ANSIBLE_NOCOLOR": "1", "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "ANSIBLE_FORKS": "4",
                "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"})
    r = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", fleet.inventory, str(play), "-e",
                        json.dumps({"kubesim_urls": urls, "kubesim_ca": ca})],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    for c in fleet:
        res = _task_results(r.stdout, c.name)
        assert res["create a configmap (plain create)"]["changed"] is True
        applied = res["server-side apply a deployment and wait until it is available"]
        assert applied["changed"] is True
        status = applied["result"]["status"]
        assert status["availableReplicas"] == 2 and status["observedGeneration"] == 1
        managers = {m["manager"] for m in applied["result"]["metadata"]["managedFields"]}
        assert "contract-test" in managers
        assert res["re-apply is idempotent"]["changed"] is False
        pods = res["pods of the deployment"]["resources"]
        assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods)
        assert res["read the pod log"]["log"] == f"hello from {c.name}\n"
        conflict = res["another manager changing a field it does not own conflicts"]
        assert conflict["failed"] is True and "conflict" in json.dumps(conflict).lower()
        forced = res["force takes the field over"]
        assert forced["changed"] is True and forced["result"]["data"] == {"mode": "two"}
        assert res["delete the deployment and wait for it to go"]["changed"] is True
        assert c.get("apps/v1", "deployments", "contract", "web") is None
        # kubernetes.core really went through this cluster's HTTP API
        assert c.requests.matching("PATCH", r"/apis/apps/v1/namespaces/contract/deployments/web$")
        assert c.requests.matching("POST", r"/api/v1/namespaces/contract/configmaps$", status=201)
