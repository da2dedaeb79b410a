"""ca_setup's CA ClusterIssuer wait counts Ready only for the ClusterIssuer's current generation.

Writes are asynchronous (kubesim's default, as on a real cluster): right after ca_setup applies a
ClusterIssuer that points at another Secret, its status still says Ready=True about the previous
Secret until cert-manager reconciles it (cert-manager pkg/issuer/ca/setup.go writes Ready with the
generation it checked). A wait on the condition alone goes on with a broken issuer; the role must not.
cert-manager's hops are slowed here (1-2 s each) so that the stale window is certain, not likely.
"""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization

from kubesim import Fleet

from deploy_support import make_root
from helpers_ansible import run_playbook

pytestmark = pytest.mark.slow

ISSUER = "meshpki-istio-ca"
PLAY = """\
- name: The CA ClusterIssuer step of ca_setup on its own
  hosts: clusters
  gather_facts: false
  module_defaults:
    group/meshpki.istio_ca.k8s:
      kubeconfig: "{{ k8s_kubeconfig }}"
      context: "{{ k8s_context }}"
  tasks:
    - name: Point the CA ClusterIssuer at a Secret
      ansible.builtin.include_role:
        name: meshpki.istio_ca.ca_setup
        tasks_from: ca_issuer.yml
      vars:
        ca_setup__issuer_secret_name: "{{ issuer_secret }}"
        ca_setup_issuer_timeout: 20

    - name: Read the ClusterIssuer as the role left it
      kubernetes.core.k8s_info:
        api_version: cert-manager.io/v1
        kind: ClusterIssuer
        name: meshpki-istio-ca
      register: left

    - name: Report it
      ansible.builtin.debug:
        msg:
          generation: "{{ left.resources[0].metadata.generation }}"
          ready: "{{ left.resources[0].status.conditions | selectattr('type', 'equalto', 'Ready') | first }}"
"""


def _ca_secret(name, root):
    key = root.key_path.read_bytes()
    cert = root.cert.public_bytes(serialization.Encoding.PEM)
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": name, "namespace": "cert-manager"},
            "data": {"tls.crt": base64.b64encode(cert).decode(), "tls.key": base64.b64encode(key).decode()}}


def _ready(issuer):
    return next((c for c in (issuer.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"), None)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("ca-issuer-wait")
    fleet = Fleet(n_clusters=1, workdir=d / "fleet", preinstall=("cert-manager",),
                  controller_latency="cert-manager=1:2")
    fleet.start()
    c = fleet["cluster-1"]
    c.create(_ca_secret("ca-one", make_root(d / "one", "Root One")))
    c.create(_ca_secret("ca-two", make_root(d / "two", "Root Two")))
    (d / "play.yml").write_text(PLAY)
    # a first ca_setup run: the ClusterIssuer (applied by the role's field manager) Ready about ca-one
    first = run_playbook(d / "play.yml", fleet.inventory, {"issuer_secret": "ca-one"})
    assert first.rc == 0, first.explain()
    assert c.wait_for(lambda: (_ready(c.get("cert-manager.io/v1", "clusterissuers", None, ISSUER)) or {}).get(
        "status") == "True", 30)
    yield {"fleet": fleet, "cluster": c, "play": d / "play.yml"}
    fleet.stop()


def _issuer(env):
    return env["cluster"].get("cert-manager.io/v1", "clusterissuers", None, ISSUER)


def test_switch_to_a_good_secret_returns_once_cert_manager_has_checked_it(env):
    result = run_playbook(env["play"], env["fleet"].inventory, {"issuer_secret": "ca-two"})
    assert result.rc == 0, result.explain()
    # read straight after the role returned (cert-manager takes 1-2 s per hop here): the role waited for the
    # Ready of this generation, not the one left from before the apply
    seen = next(iter(result.task_results("Report it").values()))["msg"]
    assert (seen["ready"]["status"], seen["ready"]["observedGeneration"]) == ("True", int(seen["generation"])), seen
    assert _issuer(env)["spec"]["ca"]["secretName"] == "ca-two"
    # (runs first: the ClusterIssuer is Ready about ca-one when the role switches it)


def test_switch_to_a_missing_secret_fails_instead_of_trusting_the_old_ready(env):
    result = run_playbook(env["play"], env["fleet"].inventory, {"issuer_secret": "ca-missing"})
    assert result.rc != 0, result.explain()
    failed = result.failed_tasks()
    assert [n.split(" : ")[-1] for n, _h, _m in failed] == ["Fail when the CA ClusterIssuer is not Ready"], failed
    msg = failed[0][2]
    assert f"ClusterIssuer {ISSUER} is not Ready for its current spec after 20s" in msg
    assert 'secret "ca-missing" not found' in msg, msg
    issuer = _issuer(env)
    assert issuer["spec"]["ca"]["secretName"] == "ca-missing"
    assert _ready(issuer)["observedGeneration"] == issuer["metadata"]["generation"]
