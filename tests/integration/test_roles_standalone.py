"""The roles on their own and inside a user's playbook (roles: and include_role), against kubesim.

What must hold (issue 7): each role works outside deploy.yml; meta/argument_specs.yml rejects bad
variables before any task runs; a bad Go duration is refused by the certificate module's preflight
before anything changes; module_defaults come from each host's k8s_kubeconfig/k8s_context (one
kubeconfig, one context per cluster: each cluster gets its own objects); Istio 1.16 (no hot reload
by default) gets AUTO_RELOAD_PLUGIN_CERTS=true from the istio role, without a needless restart.
"""

from __future__ import annotations


import pytest

from kubesim import Fleet

from deploy_support import (
    FAST_VARS,
    check_cacerts,
    diff_resource_versions,
    fleet_resource_versions,
    make_root,
    write_cert_manager_manifest,
)
from helpers_ansible import run_playbook

pytestmark = pytest.mark.slow

USER_PLAYBOOK = """\
# A user's own playbook: two roles through `roles:`, the third through include_role between the
# user's own tasks. No module_defaults here: the roles set them from k8s_kubeconfig/k8s_context.
- name: Platform team's mesh playbook
  hosts: clusters
  gather_facts: false
  roles:
    - role: meshpki.istio_ca.cert_manager
    - role: meshpki.istio_ca.ca_setup
  tasks:
    - name: The user's own task between roles
      ansible.builtin.debug:
        msg: "cert-manager {{ cert_manager_detected_version }}, cacerts {{ ca_setup_cacerts.serial_hex }}"

    - name: Istiod through include_role
      ansible.builtin.include_role:
        name: meshpki.istio_ca.istio

    - name: The user's own task after the roles
      ansible.builtin.debug:
        msg: "{{ istio_reload }}"
"""

SINGLE_ROLE = """\
- name: One role on its own
  hosts: clusters
  gather_facts: false
  roles:
    - role: meshpki.istio_ca.{role}
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("standalone")
    fleet = Fleet(n_clusters=2, workdir=d / "fleet", preinstall=("istio",), istio_version="1.16.7",
                  propagation_delay=1.0)
    fleet.start()
    playbooks = d / "playbooks"
    playbooks.mkdir()
    (playbooks / "user.yml").write_text(USER_PLAYBOOK)
    for role in ("cert_manager", "ca_setup", "istio"):
        (playbooks / f"{role}.yml").write_text(SINGLE_ROLE.format(role=role))
    root = make_root(d / "pki")
    variables = {**FAST_VARS, "cert_manager_manifest_src": str(write_cert_manager_manifest(d)),
                 "ca_setup_trust_source": "ca_keypair", "ca_setup_allow_root_key_in_cluster": True,
                 "ca_setup_ca_cert": str(root.cert_path),
                 "ca_setup_ca_key": str(root.key_path)}
    yield {"fleet": fleet, "dir": playbooks, "vars": variables, "root": root, "tmp": d}
    fleet.stop()


def run(env, playbook, overrides=None, **kwargs):
    return run_playbook(env["dir"] / playbook, env["fleet"].inventory, {**env["vars"], **(overrides or {})},
                        **kwargs)


def only_validation_ran(result) -> bool:
    """True when the run failed in an argument-spec validation task and no other module task ran."""
    names = [n.split(" : ")[-1] for n, _h, _r in result.iter_task_results()]
    return bool(names) and all(n.startswith("Validating arguments against arg spec") for n in names)


# ------------------------------------------------------------------------------- rejected before any change

@pytest.mark.parametrize("playbook,overrides,message", [
    ("ca_setup.yml", {"ca_setup_trust_source": "bogus"},
     "value of ca_setup_trust_source must be one of: selfsigned, ca_keypair, offline_root, issuer_ref, got: bogus"),
    ("cert_manager.yml", {"cert_manager_install": "helm"}, "value of cert_manager_install must be one of"),
    ("istio.yml", {"istio_rollout_timeout": "soon"}, "istio_rollout_timeout"),
    ("ca_setup.yml", {"ca_setup_key_algorithm": "Ed25519"}, "value of ca_setup_key_algorithm must be one of"),
])
def test_argument_specs_reject_bad_variables_before_any_task(env, playbook, overrides, message):
    before = fleet_resource_versions(env["fleet"])
    result = run(env, playbook, overrides)
    assert result.rc != 0
    assert only_validation_ran(result), result.explain()
    failed = result.failed_tasks()
    assert failed and all(message in msg for _n, _h, msg in failed), failed
    assert diff_resource_versions(before, fleet_resource_versions(env["fleet"])) == []


def test_go_duration_refused_by_certificate_preflight_before_any_change(env):
    """argument_specs cannot check `30d`; the certificate module's validation does, before any change.

    cert-manager is not installed yet on this fleet, so nothing else could have stopped the run.
    """
    before = fleet_resource_versions(env["fleet"])
    result = run(env, "ca_setup.yml", {"ca_setup_duration": "30d", "ca_setup_ca_min_remaining": "720h"})
    assert result.rc != 0
    failed = result.failed_tasks()
    assert [n.split(" : ")[-1] for n, _h, _m in failed] == ["Dry-run the Certificates this role will apply"] * 2, \
        result.explain()
    assert all("30d" in msg for _n, _h, msg in failed), failed
    assert diff_resource_versions(before, fleet_resource_versions(env["fleet"])) == []


def test_ca_keypair_that_is_not_a_ca_fails_before_any_change(env):
    leaf = make_root(env["tmp"] / "not-a-ca", common_name="Just A Leaf", is_ca=False)
    before = fleet_resource_versions(env["fleet"])
    result = run(env, "ca_setup.yml", {"ca_setup_ca_cert": str(leaf.cert_path), "ca_setup_ca_key": str(leaf.key_path)})
    assert result.rc != 0
    failed = result.failed_tasks()
    assert [n.split(" : ")[-1] for n, _h, _m in failed] == \
        ["Fail when the CA key pair cannot sign the intermediates"] * 2, failed
    assert all("not a CA" in msg for _n, _h, msg in failed), failed
    # The key went through no_log: it is in no output.
    body = leaf.key_path.read_text().strip().splitlines()[1]
    assert body not in result.stdout and body not in result.stderr
    assert diff_resource_versions(before, fleet_resource_versions(env["fleet"])) == []


def test_ca_keypair_with_a_key_of_another_ca_fails_before_any_change(env):
    other = make_root(env["tmp"] / "other", common_name="Other Root")
    before = fleet_resource_versions(env["fleet"])
    result = run(env, "ca_setup.yml", {"ca_setup_ca_key": str(other.key_path)})
    assert result.rc != 0
    failed = result.failed_tasks()
    assert [n.split(" : ")[-1] for n, _h, _m in failed] == \
        ["Fail when the CA key pair cannot sign the intermediates"] * 2, failed
    assert diff_resource_versions(before, fleet_resource_versions(env["fleet"])) == []


# ------------------------------------------------------------------------------- a user's playbook

def test_roles_in_a_users_playbook_with_istio_1_16(env):
    """Runs last in this module (pytest keeps file order): it deploys the fleet."""
    fleet = env["fleet"]
    result = run(env, "user.yml")
    assert result.rc == 0, result.explain()
    own = result.task_results("The user's own task between roles")
    assert sorted(own) == ["cluster-1", "cluster-2"]
    assert all(r["msg"].startswith("cert-manager v1.19.1, cacerts ") for r in own.values()), own
    facts = result.task_results("The user's own task after the roles")
    for host, res in facts.items():
        assert res["msg"]["reloaded"] is True and res["msg"]["root_consistent"] is True, (host, res["msg"])
        assert res["msg"]["auto_reload_env_set"] == ["istiod"], res["msg"]
        assert res["msg"]["restarted"] == [], res["msg"]  # the env change already rolled istiod
    for cluster in fleet.clusters:
        # module_defaults from k8s_kubeconfig/k8s_context: each cluster has its own intermediate (L=<name>).
        root = check_cacerts(cluster)[1]
        assert root == env["root"].cert
        istiod = cluster.get("apps/v1", "deployments", "istio-system", "istiod")
        container = [c for c in istiod["spec"]["template"]["spec"]["containers"] if c["name"] == "discovery"][0]
        assert {"name": "AUTO_RELOAD_PLUGIN_CERTS", "value": "true"} in container["env"]
        annotations = (istiod["spec"]["template"].get("metadata") or {}).get("annotations") or {}
        assert "kubectl.kubernetes.io/restartedAt" not in annotations

    # The user's playbook again, then the istio role on its own: nothing to change.
    for playbook in ("user.yml", "istio.yml"):
        again = run(env, playbook)
        assert again.rc == 0 and again.changed_total() == 0, again.explain()
