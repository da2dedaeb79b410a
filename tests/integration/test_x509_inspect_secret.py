"""x509_inspect against a simulated cluster: read the cacerts Secret through a kubeconfig.

Runs the real ansible-playbook (and ansible ad-hoc) of the venv against kubesim, in normal and
check mode, with the connection options coming from module_defaults for the collection's k8s
action group (so the module's membership in that group is exercised), and from K8S_AUTH_*.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers_ansible import VENV_BIN, ansible_env, run_playbook  # noqa: E402

from kubesim import Fleet  # noqa: E402
from unit.x509_factory import SERVER_AUTH, key, make, mesh  # noqa: E402

pytestmark = pytest.mark.slow


def _secret(name, data, namespace="istio-system", type_="kubernetes.io/tls"):
    return {"apiVersion": "v1", "kind": "Secret", "type": type_,
            "metadata": {"name": name, "namespace": namespace},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root, inter = mesh("ec256")
    bad = make("Intermediate CA", key("ec256", 5), issuer=root, pathlen=0, eku=[SERVER_AUTH])
    fleet = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-x509"))
    fleet.start()
    try:
        cluster = fleet["cluster-1"]
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}})
        cluster.create(_secret("cacerts", {"tls.crt": inter.pem, "tls.key": inter.key_pem("traditional"),
                                           "ca.crt": root.pem}))
        cluster.create(_secret("serveronly", {"tls.crt": bad.pem, "tls.key": bad.key_pem(), "ca.crt": root.pem}))
        cluster.create(_secret("notls", {"ca.crt": root.pem}, type_="Opaque"))
        yield {"fleet": fleet, "root": root, "inter": inter, "bad": bad}
    finally:
        fleet.stop()


PLAY = [{
    "name": "Inspect cacerts",
    "hosts": "clusters",
    "gather_facts": False,
    "module_defaults": {"group/meshpki.istio_ca.k8s": {
        "kubeconfig": "{{ k8s_kubeconfig }}", "context": "{{ k8s_context }}"}},
    "tasks": [
        {"name": "good", "register": "good",
         "meshpki.istio_ca.x509_inspect": {"secret": {"name": "cacerts"}, "istio_signing_ca": True,
                                           "min_remaining": "360h", "valid_at": {"next_week": "+1w"}}},
        {"name": "serveronly", "register": "serveronly",
         "meshpki.istio_ca.x509_inspect": {"secret": {"name": "serveronly", "namespace": "istio-system"},
                                           "istio_signing_ca": True}},
        {"name": "notls", "ignore_errors": True,
         "meshpki.istio_ca.x509_inspect": {"secret": {"name": "notls"}}},
        {"name": "missing", "ignore_errors": True,
         "meshpki.istio_ca.x509_inspect": {"secret": {"name": "cacerts", "namespace": "nowhere"}}},
        {"name": "assert", "ansible.builtin.assert": {"that": [
            "good.istio_ready", "good.min_remaining_ok", "good.valid_at.next_week",
            "not serveronly.istio_ready", "good is not changed"]}},
    ],
}]


@pytest.mark.parametrize("check", [False, True], ids=["normal", "check_mode"])
def test_playbook_reads_the_secret(world, tmp_path, check):
    playbook = tmp_path / "inspect.yml"
    playbook.write_text(yaml.safe_dump(PLAY, sort_keys=False))
    res = run_playbook(playbook, inventory=world["fleet"].inventory, check=check)
    assert res.stats["cluster-1"]["failures"] == 0, res.explain()
    assert res.stats["cluster-1"]["changed"] == 0
    good = res.task_results("good")["cluster-1"]
    inter, root = world["inter"], world["root"]
    assert good["certificates"][0]["serial_hex"] == format(inter.cert.serial_number, "x")
    assert [c["source"] for c in good["certificates"]] == ["tls.crt", "ca.crt"]
    assert good["chain"]["key_matches"] is True and good["chain"]["root_source"] == "ca.crt"
    assert good["istio_ready"] is True and good["istio_problems"] == []
    assert good["source"]["secret"]["keys"] == ["ca.crt", "tls.crt", "tls.key"]
    bad = res.task_results("serveronly")["cluster-1"]
    assert bad["istio_ready"] is False
    assert any("without clientAuth" in p for p in bad["istio_problems"])
    notls = res.task_results("notls")["cluster-1"]
    assert notls["failed"] and "Secret istio-system/notls has no tls.crt" in notls["msg"]
    missing = res.task_results("missing")["cluster-1"]
    assert missing["failed"] and missing["msg"] == "Secret nowhere/cacerts not found"
    everything = res.stdout + res.stderr
    assert "PRIVATE KEY" not in everything
    for issued in (inter, world["bad"]):
        body = "".join(l for l in issued.key_pem("pkcs8").splitlines() if not l.startswith("-----"))
        assert body[:48] not in everything


def test_adhoc_check_mode_with_k8s_auth_env(world):
    fleet = world["fleet"]
    env = ansible_env({"K8S_AUTH_KUBECONFIG": fleet.kubeconfig, "K8S_AUTH_CONTEXT": "cluster-1",
                       "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal",
                       "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"},
                      json_output=False)
    args = json.dumps({"secret": {"name": "cacerts"}, "istio_signing_ca": True})
    proc = subprocess.run([str(VENV_BIN / "ansible"), "localhost", "--check", "-m", "meshpki.istio_ca.x509_inspect",
                           "-a", args], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    result = json.loads(out[out.index("{"):])
    assert result["changed"] is False and result["istio_ready"] is True
    assert result["chain"]["root_fingerprint_sha256"] == result["certificates"][1]["fingerprint_sha256"]
    assert "PRIVATE KEY" not in out + proc.stderr


CM = "cert-manager.io/v1"


def _cm_certificate(name, namespace, issuer, **spec):
    body = {"secretName": spec.pop("secretName", name),
            "issuerRef": {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"}}
    body.update(spec)
    return {"apiVersion": CM, "kind": "Certificate", "metadata": {"name": name, "namespace": namespace},
            "spec": body}


def test_cert_manager_issued_cacerts_is_istio_ready(tmp_path):
    """The tutorial chain issued by kubesim's cert-manager: the module must call it ready for istiod."""
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.inspect_backend import inspect

    with Fleet(n_clusters=1, workdir=tmp_path, preinstall=("cert-manager",)) as fleet:
        cluster = fleet["cluster-1"]
        api = K8sClient.from_params({"kubeconfig": fleet.kubeconfig, "context": "cluster-1"})
        # Through the API (not cluster.create) so that the simulated controllers see the objects.
        api.request("POST", "/api/v1/namespaces",
                    body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}})
        api.request("POST", "/apis/cert-manager.io/v1/clusterissuers",
                    body={"apiVersion": CM, "kind": "ClusterIssuer", "metadata": {"name": "selfsigned"},
                          "spec": {"selfSigned": {}}})
        api.request("POST", "/apis/cert-manager.io/v1/namespaces/cert-manager/certificates",
                    body=_cm_certificate("root-ca", "cert-manager", "selfsigned", secretName="root-secret",
                                         isCA=True, commonName="Root CA", duration="21600h",
                                         subject={"organizations": ["Istio"]},
                                         privateKey={"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Never"}))
        api.request("POST", "/apis/cert-manager.io/v1/clusterissuers",
                    body={"apiVersion": CM, "kind": "ClusterIssuer", "metadata": {"name": "ca-issuer"},
                          "spec": {"ca": {"secretName": "root-secret"}}})
        api.request("POST", "/apis/cert-manager.io/v1/namespaces/istio-system/certificates",
                    body=_cm_certificate("cacerts", "istio-system", "ca-issuer", isCA=True,
                                         commonName="Intermediate CA", duration="1440h", renewBefore="360h",
                                         dnsNames=["istiod.istio-system.svc"],
                                         subject={"organizations": ["Istio"], "localities": ["cluster-1"]},
                                         usages=["digital signature", "key encipherment", "cert sign"],
                                         privateKey={"algorithm": "RSA", "size": 2048}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (cluster.get("v1", "secrets", "istio-system", "cacerts") or {}).get(
                "data", {}).get("tls.crt"):
            fleet.settle(timeout=2.0)
            time.sleep(0.1)
        params = {"kubeconfig": fleet.kubeconfig, "context": "cluster-1",
                  "secret": {"name": "cacerts", "namespace": "istio-system"}, "istio_signing_ca": True,
                  "min_remaining": "360h"}
        res = inspect(params, client_factory=lambda: K8sClient.from_params(params))
        assert res["istio_ready"] is True, res["istio_problems"]
        assert res["min_remaining_ok"] is True
        assert [c["source"] for c in res["certificates"]] == ["tls.crt", "ca.crt"]
        inter = res["certificates"][0]
        assert inter["is_ca"] and inter["subject_alt_names"] == ["DNS:istiod.istio-system.svc"]
        assert inter["public_key_type"] == "RSA" and inter["public_key_size"] == 2048
        root_secret = cluster.get("v1", "secrets", "cert-manager", "root-secret")
        root_pem = base64.b64decode(root_secret["data"]["tls.crt"])
        root = inspect({"content": root_pem.decode()})
        assert res["chain"]["root_fingerprint_sha256"] == root["certificates"][0]["fingerprint_sha256"]
        assert "PRIVATE KEY" not in json.dumps(res)
