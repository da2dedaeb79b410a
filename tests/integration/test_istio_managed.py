"""The istio role against a Helm-managed istiod (kubesim --istio-managed-by helm), Istio 1.16 (needs the env).

What must hold (issue 14 item 3): the role does not patch a managed istiod by default, fails before any change
with the exact Helm overlay (pilot.env.AUTO_RELOAD_PLUGIN_CERTS), and with istio_patch_managed=true patches it
with a warning that names what drops the setting, marking the Deployment so report.yml can flag it.
"""

from __future__ import annotations

import base64

import pytest

from kubesim import Fleet

from deploy_support import FAST_VARS
from helpers_ansible import run_playbook
from unit.x509_factory import mesh

pytestmark = pytest.mark.slow

ISTIO_ROLE = """\
- name: The istio role on its own
  hosts: clusters
  gather_facts: false
  roles:
    - role: meshpki.istio_ca.istio
"""


def b64(text):
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("istio-managed")
    fleet = Fleet(n_clusters=1, workdir=d / "fleet", preinstall=("istio",), istio_version="1.16.7",
                  istio_managed_by="helm", propagation_delay=1.0)
    fleet.start()
    root, inter = mesh()
    fleet["cluster-1"].create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                               "metadata": {"name": "cacerts", "namespace": "istio-system"},
                               "data": {"tls.crt": b64(inter.pem), "tls.key": b64(inter.key_pem("traditional")),
                                        "ca.crt": b64(root.pem)}})
    (d / "istio.yml").write_text(ISTIO_ROLE)
    yield {"fleet": fleet, "playbook": d / "istio.yml"}
    fleet.stop()


def istiod(env):
    return env["fleet"]["cluster-1"].get("apps/v1", "deployments", "istio-system", "istiod")


def discovery_env(deployment):
    container = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "discovery"][0]
    return container.get("env") or []


def test_a_helm_managed_istiod_is_not_patched_and_the_overlay_is_given(env):
    before = istiod(env)
    assert before["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    result = run_playbook(env["playbook"], env["fleet"].inventory, FAST_VARS)
    assert result.rc != 0
    failed = result.failed_tasks()
    assert [name.split(" : ")[-1] for name, _h, _m in failed] == [
        "Fail where a managed istiod would need a patch its manager does not hold"]
    message = failed[0][2]
    assert "managed by helm (label app.kubernetes.io/managed-by=Helm)" in message
    assert "helm upgrade istiod istio/istiod -n istio-system --reuse-values --set-string " \
           "pilot.env.AUTO_RELOAD_PLUGIN_CERTS=true" in message
    assert 'pilot:\n  env:\n    AUTO_RELOAD_PLUGIN_CERTS: "true"' in message
    after = istiod(env)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]  # nothing changed


def test_opt_in_patches_with_a_warning_and_marks_the_deployment(env):
    result = run_playbook(env["playbook"], env["fleet"].inventory, {**FAST_VARS, "istio_patch_managed": True})
    assert result.rc == 0, result.explain()
    warned = result.task_results("Warn where a managed istiod is patched anyway (istio_patch_managed)")
    texts = [item["msg"] for item in warned["cluster-1"]["results"]]
    assert len(texts) == 1 and texts[0].startswith("WARNING: Patched istiod although helm manages it")
    assert "helm upgrade --force" in texts[0]
    after = istiod(env)
    assert {"name": "AUTO_RELOAD_PLUGIN_CERTS", "value": "true"} in discovery_env(after)
    assert after["metadata"]["annotations"]["meshpki.istio_ca/hot-reload-patch"] == "true"
