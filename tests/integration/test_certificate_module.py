# -*- coding: utf-8 -*-
"""meshpki.istio_ca.certificate against kubesim's simulated cert-manager.

Main paths run through the venv's ansible-playbook / ansible (module_defaults for the k8s
action group); the many edge cases call the module's backend directly with a real K8sClient over
HTTP, which is the same code the module runs. One shared fleet (cert-manager preinstalled, a
SelfSigned root and a CA ClusterIssuer); tests that break cert-manager get their own small fleet.
Every result is checked for key material.
"""

from __future__ import absolute_import, division, print_function

import base64
import json
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers_ansible import run_playbook  # noqa: E402

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import wait as certificate_wait  # noqa: E402
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s import client as k8s_client  # noqa: E402
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.backend import (  # noqa: E402
    FIELD_MANAGER, NO_CRD, CertificateBackend)
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError  # noqa: E402
from certificate_world import API, NS, module_params, spec  # noqa: E402
from kubesim import Fleet  # noqa: E402
from unit.x509_factory import key, make  # noqa: E402

pytestmark = pytest.mark.slow


class World(object):
    def __init__(self, fleet):
        self.fleet = fleet
        self.cluster = fleet["cluster-1"]

    def params(self, name, **overrides):
        return module_params(self.fleet, self.cluster, name, **overrides)

    def run(self, name, check_mode=False, diff=False, **overrides):
        """One module call (backend + real client); returns the result, checked for key material."""
        client = k8s_client.K8sClient.from_params(self.params(name, **overrides))
        result = CertificateBackend(client, self.params(name, **overrides), check_mode=check_mode, diff=diff).run()
        self.assert_no_key_material(json.dumps(result), overrides.get("spec", {}).get("secretName", name))
        return result

    def fails(self, name, **overrides):
        with pytest.raises(CertificateError) as err:
            self.run(name, **overrides)
        self.assert_no_key_material(err.value.message + json.dumps(err.value.result), name)
        return err.value

    def certificate(self, name):
        return self.cluster.get(API, "certificates", NS, name)

    def secret_cert(self, secret_name):
        secret = self.cluster.get("v1", "secrets", NS, secret_name)
        return x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))

    def assert_no_key_material(self, text, secret_name):
        assert "PRIVATE KEY" not in text
        secret = self.cluster.get("v1", "secrets", NS, secret_name)
        if secret and (secret.get("data") or {}).get("tls.key"):
            assert secret["data"]["tls.key"][:32] not in text

    def requests_since(self, mark, method=None, path=None):
        time.sleep(0.1)  # the server logs a request after answering it
        return [r for r in self.cluster.requests[mark:]
                if (method is None or r["method"] == method) and (path is None or path in r["path"])]

    def ca_secret(self, name, cert, private_key):
        from cryptography.hazmat.primitives import serialization
        pem_key = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
        self.cluster.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                             "metadata": {"name": name, "namespace": "cert-manager"},
                             "data": {"tls.crt": base64.b64encode(cert.pem.encode()).decode(),
                                      "tls.key": base64.b64encode(pem_key).decode()}})

    def cluster_issuer(self, name, issuer_spec):
        self.cluster.create({"apiVersion": API, "kind": "ClusterIssuer", "metadata": {"name": name},
                             "spec": issuer_spec})

    def issuer_ready(self, name, want="True"):
        def ready():
            obj = self.cluster.get(API, "clusterissuers", None, name) or {}
            return any(c.get("type") == "Ready" and c.get("status") == want
                       for c in (obj.get("status") or {}).get("conditions") or [])
        assert self.cluster.wait_for(ready, timeout=10), "ClusterIssuer %s never became Ready=%s" % (name, want)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    fleet = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-cert"), preinstall=("cert-manager",))
    fleet.start()
    try:
        w = World(fleet)
        w.cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        w.cluster_issuer("selfsigned", {"selfSigned": {}})
        w.issuer_ready("selfsigned")
        root = w.run("root-ca", namespace="cert-manager", spec=spec("root-ca", issuer="selfsigned", duration="8760h"))
        assert root["revision"] == 1
        w.cluster_issuer("mesh-root", {"ca": {"secretName": "root-ca"}})
        w.issuer_ready("mesh-root")
        yield w
    finally:
        fleet.stop()


PRE_ISSUED = {"names": spec("names", dnsNames=["a.example"]), "rb": spec("rb", duration="720h"),
              "dur": spec("dur"), "nodur": spec("nodur"), "gone": spec("gone", duration="720h"),
              "renew": spec("renew"), "cm": spec("cm"), "shared": spec("shared", duration="720h"),
              "adhoc-cert": spec("adhoc-cert")}


@pytest.fixture(scope="module")
def issued(world):
    """Certificates issued once, together (apply all, then wait), so each test starts from revision 1."""
    for name, cert_spec in PRE_ISSUED.items():
        world.run(name, spec=cert_spec, wait=False)
    for name in PRE_ISSUED:
        assert world.cluster.wait_for(lambda: (world.certificate(name).get("status") or {}).get("revision") == 1,
                                      timeout=20), name
    return dict((name, world.run(name, spec=cert_spec, wait=True)) for name, cert_spec in PRE_ISSUED.items())


@pytest.fixture
def fast_checks(monkeypatch):
    """Shorter issuer-check cadence and API retries, so failure paths take a second, not ten."""
    monkeypatch.setattr(certificate_wait, "ISSUER_CHECK_EVERY", 0.5)
    monkeypatch.setattr(k8s_client, "MAX_ATTEMPTS", 2)


# --- through Ansible ----------------------------------------------------------------------------------------------------

PLAY = [{
    "name": "certificate module",
    "hosts": "clusters",
    "gather_facts": False,
    "module_defaults": {"group/meshpki.istio_ca.k8s": {
        "kubeconfig": "{{ k8s_kubeconfig }}", "context": "{{ k8s_context }}"}},
    "vars": {"pb_spec": spec("pb-cert")},
    "tasks": [
        {"name": "create", "register": "created", "meshpki.istio_ca.certificate": {
            "name": "pb-cert", "namespace": NS, "spec": "{{ pb_spec }}", "wait": True, "wait_timeout": 30}},
        {"name": "again", "register": "again", "meshpki.istio_ca.certificate": {
            "name": "pb-cert", "namespace": NS, "spec": "{{ pb_spec }}", "wait": True}},
        {"name": "preview", "check_mode": True, "diff": True, "meshpki.istio_ca.certificate": {
            "name": "pb-cert", "namespace": NS, "spec": "{{ pb_spec | combine({'duration': '720h'}) }}",
            "renew": True, "wait": True}},
        {"name": "absent", "meshpki.istio_ca.certificate": {
            "name": "adhoc-cert", "namespace": NS, "state": "absent", "wait": True}},
        {"name": "invalid", "ignore_errors": True, "meshpki.istio_ca.certificate": {
            "name": "pb-invalid", "namespace": NS,
            "spec": "{{ pb_spec | combine({'duration': '720h', 'renewBefore': '720h'}) }}"}},
    ],
}]


def test_playbook_create_rerun_check_diff_absent_and_preflight(world, issued, tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps(PLAY))
    mark = len(world.cluster.requests)
    res = run_playbook(playbook, inventory=world.fleet.inventory, timeout=120)
    assert res.rc == 0, res.explain()
    host = world.cluster.name
    created = res.task_results("create")[host]
    assert created["changed"] is True and created["reissue"] == "spec_change" and created["revision"] == 1
    leaf = world.secret_cert("pb-cert")
    assert created["serial"] == format(leaf.serial_number, "x") and created["serial_number"] == leaf.serial_number
    assert created["not_after"] == leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert created["renewal_time"] and created["secret_name"] == "pb-cert"
    again = res.task_results("again")[host]
    assert again["changed"] is False and again["reissue"] == "none" and again["serial"] == created["serial"]
    assert again["api_requests"] == 3
    preview = res.task_results("preview")[host]
    assert preview["changed"] is True and preview["reissue"] == "forced"
    assert preview["diff"]["before"].get("duration") is None and preview["diff"]["after"]["duration"] == "720h"
    assert "status" not in json.dumps(preview["diff"])
    assert "duration" not in world.certificate("pb-cert")["spec"]  # check mode stored nothing
    assert world.certificate("pb-cert")["status"]["revision"] == 1  # and triggered nothing
    invalid = res.task_results("invalid")[host]
    assert invalid["failed"] is True and invalid["validation_errors"] == [
        "spec.renewBefore: Invalid value: 720h0m0s: certificate duration 720h0m0s must be greater than "
        "renewBefore 720h0m0s"]
    assert world.requests_since(mark, path="/certificates/pb-invalid") == []  # pre-flight: nothing sent
    status_writes = world.requests_since(mark, method="PUT", path="/certificates/pb-cert/status")
    assert status_writes == []
    assert res.task_results("absent")[host]["changed"] is True
    assert world.certificate("adhoc-cert") is None
    assert world.cluster.get("v1", "secrets", NS, "adhoc-cert") is not None  # the Secret stays
    assert world.run("adhoc-cert", state="absent")["changed"] is False
    managers = {m["manager"]: m for m in world.certificate("pb-cert")["metadata"]["managedFields"]}
    assert managers[FIELD_MANAGER]["operation"] == "Apply"
    world.assert_no_key_material(res.stdout + res.stderr, "pb-cert")


# --- direct calls: re-issue decisions, renew, wait ---------------------------------------------------------------------

def test_wait_returns_the_new_revision_on_spec_change(world, issued):
    first = issued["names"]
    mark = len(world.cluster.requests)
    second = world.run("names", spec=spec("names", dnsNames=["a.example", "b.example"]))
    assert second["changed"] is True and second["reissue"] == "spec_change"
    assert second["reissue_reasons"][0].startswith("RequestChanged: spec.dnsNames")
    assert second["revision"] == first["revision"] + 1 and second["serial"] != first["serial"]
    sans = world.secret_cert("names").extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(sans.get_values_for_type(x509.DNSName)) == ["a.example", "b.example"]
    assert world.requests_since(mark, method="PUT") == []  # cert-manager re-issued on its own


def test_renew_before_only_is_reported_as_no_reissue(world, issued):
    first = issued["rb"]
    second = world.run("rb", spec=spec("rb", duration="720h", renewBefore="100h"))
    assert second["changed"] is True and second["reissue"] == "none" and second["revision"] == first["revision"]
    assert second["renewal_time"] != first["renewal_time"] and second["serial"] == first["serial"]


def test_auto_forces_reissue_when_duration_is_added(world, issued):
    first = issued["dur"]
    mark = len(world.cluster.requests)
    second = world.run("dur", spec=spec("dur", duration="720h"))
    assert second["reissue"] == "forced" and second["revision"] == first["revision"] + 1
    leaf = world.secret_cert("dur")
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).total_seconds() == 720 * 3600
    # One trigger written through the status subresource; a 409 (cert-manager updated the status between our
    # read and our write) is re-read and retried, so only the last answer must be a success.
    statuses = [r["status"] for r in world.requests_since(mark, method="PUT", path="/certificates/dur/status")]
    assert statuses[-1] == 200 and set(statuses[:-1]) <= {409}


def test_renew_false_tells_the_truth_that_nothing_is_reissued(world, issued):
    first = issued["nodur"]
    second = world.run("nodur", spec=spec("nodur", duration="720h"), renew="false")
    assert second["reissue"] == "none" and second["revision"] == first["revision"]
    time.sleep(0.5)  # cert-manager really does not re-issue on its own (cert-manager#7139)
    assert world.certificate("nodur")["status"]["revision"] == first["revision"]


def test_auto_forces_when_duration_changes_and_the_request_is_gone(world, issued):
    first = issued["gone"]
    world.cluster.delete(API, "certificaterequests", NS, "gone-%d" % first["revision"])
    second = world.run("gone", spec=spec("gone", duration="1440h"))
    assert second["reissue"] == "forced" and second["revision"] == first["revision"] + 1


def test_renew_true_is_cmctl_renew_and_keeps_ready(world, issued):
    first = issued["renew"]
    triggered = world.run("renew", spec=spec("renew"), renew="true", wait=False)
    assert triggered["changed"] is True and triggered["reissue"] == "forced"
    by_type = dict((c["type"], c) for c in triggered["conditions"])
    assert by_type["Ready"]["status"] == "True"  # kept
    assert (by_type["Issuing"]["status"], by_type["Issuing"]["reason"], by_type["Issuing"]["message"]) == (
        "True", "ManuallyTriggered", "Certificate re-issuance manually triggered")
    assert by_type["Issuing"]["observedGeneration"] == world.certificate("renew")["metadata"]["generation"]
    done = world.run("renew", spec=spec("renew"), renew="false")  # waits for Ready of the current generation
    assert world.cluster.wait_for(lambda: world.certificate("renew")["status"].get("revision") == 2, timeout=10)
    again = world.run("renew", spec=spec("renew"), renew="true")
    assert again["revision"] == 3 and again["serial"] not in (first["serial"], done["serial"])


def test_wait_does_not_return_while_ready_stays_true_during_renewal(world):
    secret = world.cluster.get("v1", "secrets", "cert-manager", "root-ca")
    world.cluster.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                          "metadata": {"name": "slow-ca", "namespace": "cert-manager"}, "data": secret["data"]})
    world.cluster_issuer("slow-ca", {"ca": {"secretName": "slow-ca"}})
    world.issuer_ready("slow-ca")
    first = world.run("slow", spec=spec("slow", issuer="slow-ca"))
    world.cluster.delete("v1", "secrets", "cert-manager", "slow-ca")
    world.issuer_ready("slow-ca", want="False")
    seen = {}

    def restore_later():
        time.sleep(1.0)
        seen["during"] = dict((c["type"], c["status"]) for c in world.certificate("slow")["status"]["conditions"])
        seen["revision_during"] = world.certificate("slow")["status"].get("revision")
        world.cluster.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                              "metadata": {"name": "slow-ca", "namespace": "cert-manager"}, "data": secret["data"]})

    helper = threading.Thread(target=restore_later)
    start = time.time()
    helper.start()
    result = world.run("slow", spec=spec("slow", issuer="slow-ca"), renew="true")
    helper.join()
    assert seen["during"] == {"Ready": "True", "Issuing": "True"} and seen["revision_during"] == first["revision"]
    assert time.time() - start >= 1.0
    assert result["revision"] == first["revision"] + 1 and result["serial"] != first["serial"]
    assert [c["type"] for c in result["conditions"]] == ["Ready"]


def test_check_mode_dry_run_reaches_the_webhook(world, issued):
    assert issued["cm"]["revision"] == 1
    mark = len(world.cluster.requests)
    before = world.certificate("cm")
    # The signature-algorithm rule exists from cert-manager v1.18 on; without a cert_manager_version the
    # pre-flight check leaves it to the webhook (kubesim runs v1.18.2), which the dry run asks.
    err = world.fails("cm", check_mode=True, spec=spec("cm", signatureAlgorithm="SHA256WithRSA"))
    assert err.message.startswith("cert-manager rejected Certificate istio-system/cm: admission webhook "
                                  '"webhook.cert-manager.io" denied the request')
    patches = world.requests_since(mark, method="PATCH")
    assert len(patches) == 1 and "dryRun=All" in json.dumps(patches[0])
    preview = world.run("cm", check_mode=True, diff=True, spec=spec("cm", duration="2h"), renew="auto")
    assert preview["changed"] is True and preview["reissue"] == "forced"
    assert preview["diff"] == {"before": spec("cm"), "after": spec("cm", duration="2h")}
    assert before == world.certificate("cm")
    assert world.requests_since(mark, method="PUT") == []


# --- failures -----------------------------------------------------------------------------------------------------------

def test_preflight_failure_sends_no_request(world):
    mark = len(world.cluster.requests)
    err = world.fails("bad", spec=spec("bad", renewBefore="4m", revisionHistoryLimit=0))
    assert err.result["validation_errors"] == [
        "spec.renewBefore: Invalid value: 4m0s: certificate renewBefore must be greater than 5m0s",
        "spec.revisionHistoryLimit: Invalid value: 0: must not be less than 1"]
    # A CRD enum is the API server's own check: refused before any webhook rule, with its text.
    err = world.fails("bad", spec=spec("bad", privateKey={"algorithm": "ECDSA", "rotationPolicy": "always"}))
    assert err.result["validation_errors"] == [
        'spec.privateKey.rotationPolicy: Unsupported value: "always": supported values: "Never", "Always"']
    err = world.fails("bad", check_mode=True, spec=spec("bad", duration="30d"))
    assert 'spec.duration: Invalid value: "30d": time: unknown unit "d" in duration "30d"' in err.message
    assert world.requests_since(mark) == []


def test_issuer_not_ready_is_reported_with_its_reason(world, fast_checks):
    world.cluster_issuer("broken-ca", {"ca": {"secretName": "no-such-secret"}})
    world.issuer_ready("broken-ca", want="False")
    err = world.fails("orphan", spec=spec("orphan", issuer="broken-ca"))
    assert "ClusterIssuer broken-ca is not Ready: ErrGetKeyPair: Error getting keypair for CA issuer" in err.message
    assert "no-such-secret" in err.message and err.result["conditions"]


def test_issuance_failure_names_the_request_reason(world, fast_checks):
    ca = make("mismatched-ca")
    world.ca_secret("mismatch-ca", ca, key("ec256", 7))  # the key does not belong to the cert: signing fails
    world.cluster_issuer("mismatch-ca", {"ca": {"secretName": "mismatch-ca"}})
    world.issuer_ready("mismatch-ca")
    err = world.fails("doomed", spec=spec("doomed", issuer="mismatch-ca"))
    assert err.message.startswith("Issuance of Certificate istio-system/doomed failed: Issuing=False (Failed: The "
                                  "certificate request has failed to complete and will be retried")
    assert "CertificateRequest istio-system/doomed-1: Ready=False (Failed: " in err.message
    assert "renew: true" in err.message


def test_timeout_reports_last_conditions(world, fast_checks):
    start = time.time()
    err = world.fails("external", wait_timeout=2, spec=spec("external", issuerRef={
        "name": "pca", "kind": "AWSPCAClusterIssuer", "group": "awspca.cert-manager.io"}))
    assert time.time() - start < 6
    assert err.message.startswith("Timed out after 2s waiting for Certificate istio-system/external")
    assert "Issuing=True" in err.message and any(c["type"] == "Issuing" for c in err.result["conditions"])


def test_ssa_conflict_with_another_manager_is_not_forced(world, issued):
    assert issued["shared"]["revision"] == 1
    obj = world.certificate("shared")
    body = {"apiVersion": API, "kind": "Certificate", "metadata": {"name": "shared", "namespace": NS},
            "spec": dict(obj["spec"], duration="1440h")}
    client = k8s_client.K8sClient.from_params(world.params("shared"))
    client.apply(obj_path("shared"), body, "other-tool", force=True)
    err = world.fails("shared", spec=spec("shared", duration="720h"))
    assert '"other-tool" owns .spec.duration' in err.message and "--force-conflicts" in err.message
    assert world.certificate("shared")["spec"]["duration"] == "1440h"


def obj_path(name):
    return k8s_client.object_path(API, "certificates", NS, name)


def test_no_crd_and_webhook_not_ready(tmp_path_factory, fast_checks):
    bare = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-bare"))
    broken = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-nowebhook"), preinstall=("cert-manager",))
    bare.start()
    broken.start()
    try:
        w = World(bare)
        w.cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        assert w.fails("c").message == NO_CRD + "."
        assert w.fails("c", check_mode=True).message == NO_CRD + "."
        assert w.run("c", state="absent")["changed"] is False

        w = World(broken)
        w.cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        webhook = w.cluster.get("apps/v1", "deployments", "cert-manager", "cert-manager-webhook")
        webhook["metadata"].setdefault("annotations", {})["kubesim.io/never-ready"] = "true"
        webhook["spec"]["template"].setdefault("metadata", {}).setdefault("annotations", {})["restart"] = "1"
        w.cluster.update(webhook)

        def webhook_down():
            dep = w.cluster.get("apps/v1", "deployments", "cert-manager", "cert-manager-webhook")
            return any(c["type"] == "Available" and c["status"] == "False" for c in dep["status"]["conditions"])
        assert w.cluster.wait_for(webhook_down, timeout=10)
        err = w.fails("c", spec=spec("c", issuer="x"))
        assert err.message.startswith("cert-manager's admission webhook is not ready")
        assert "webhook.cert-manager.io" in err.message and err.result["api_error"]["code"] == 500
    finally:
        bare.stop()
        broken.stop()
