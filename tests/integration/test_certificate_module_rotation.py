# -*- coding: utf-8 -*-
"""The certificate module's rotation options against kubesim's cert-manager: merge_live_spec, backup, root policy.

One shared single-cluster fleet (cert-manager preinstalled; a cert-manager self-signed root without
rotationPolicy Never behind ClusterIssuer mesh-root, one with Never behind mesh-never, and a CA
ClusterIssuer backed by a plain Secret). Each test uses its own Certificates. Direct calls run the
module's backend with a real K8sClient over HTTP (the code the module runs); one play goes through
ansible-playbook and the in-process action plugin. Every result is searched for key material.
"""

from __future__ import absolute_import, division, print_function

import base64
import json
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers_ansible import run_playbook  # noqa: E402

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import backup as certificate_backup  # noqa: E402
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s import client as k8s_client  # noqa: E402
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.backend import (  # noqa: E402
    FIELD_MANAGER, CertificateBackend)
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError  # noqa: E402
from certificate_world import API, NS, module_params, spec  # noqa: E402
from kubesim import Fleet  # noqa: E402
from unit.x509_factory import make  # noqa: E402

pytestmark = pytest.mark.slow

LABEL = "meshpki.istio_ca/backup-of"


def key_fragments(data):
    """Strings that would betray a tls.key: its base64 (whole and a prefix) and every PEM body line."""
    b64 = data.get("tls.key") or ""
    pem = base64.b64decode(b64).decode()
    lines = [line for line in pem.splitlines() if line and not line.startswith("-----") and len(line) > 16]
    return [b64, b64[:32]] + lines


class World(object):
    def __init__(self, fleet):
        self.fleet = fleet
        self.cluster = fleet["cluster-1"]
        self.keys_seen = []  # base64 tls.key values of every Secret a test touched

    def params(self, name, **overrides):
        return module_params(self.fleet, self.cluster, name, **overrides)

    def remember_keys(self, namespace=NS):
        for item in self.cluster.list("v1", "secrets", namespace):
            if (item.get("data") or {}).get("tls.key") and item["data"]["tls.key"] not in self.keys_seen:
                self.keys_seen.append(item["data"]["tls.key"])

    def assert_no_key_material(self, text):
        self.remember_keys()
        assert "PRIVATE KEY" not in text
        for b64 in self.keys_seen:
            for fragment in key_fragments({"tls.key": b64}):
                assert fragment not in text

    def backend(self, name, check_mode=False, diff=False, **overrides):
        params = self.params(name, **overrides)
        return CertificateBackend(k8s_client.K8sClient.from_params(params), params, check_mode=check_mode, diff=diff)

    def run(self, name, check_mode=False, diff=False, **overrides):
        self.remember_keys()
        backend = self.backend(name, check_mode=check_mode, diff=diff, **overrides)
        result = backend.run()
        self.assert_no_key_material(json.dumps(result) + json.dumps(backend.warnings))
        return result

    def fails(self, name, **overrides):
        self.remember_keys()
        with pytest.raises(CertificateError) as err:
            self.backend(name, **overrides).run()
        self.assert_no_key_material(err.value.message + json.dumps(err.value.result))
        return err.value

    def certificate(self, name, namespace=NS):
        return self.cluster.get(API, "certificates", namespace, name)

    def secret(self, name, namespace=NS):
        return self.cluster.get("v1", "secrets", namespace, name)

    def backups(self, secret_name):
        return sorted(s["metadata"]["name"] for s in self.cluster.list("v1", "secrets", NS)
                      if (s["metadata"].get("labels") or {}).get(LABEL) == secret_name)

    def requests_since(self, mark):
        time.sleep(0.1)  # the server logs a request after answering it
        return [(r["method"], r["path"]) for r in self.cluster.requests[mark:]]

    def cluster_issuer(self, name, issuer_spec):
        self.cluster.create({"apiVersion": API, "kind": "ClusterIssuer", "metadata": {"name": name},
                             "spec": issuer_spec})

        def ready():
            obj = self.cluster.get(API, "clusterissuers", None, name) or {}
            return any(c.get("type") == "Ready" and c.get("status") == "True"
                       for c in (obj.get("status") or {}).get("conditions") or [])
        assert self.cluster.wait_for(ready, timeout=10), "ClusterIssuer %s never became Ready" % name

    def issued(self, name, cert_spec):
        """A Certificate at revision 1, created by the module."""
        result = self.run(name, spec=cert_spec)
        assert result["revision"] == 1
        return result


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    fleet = Fleet(n_clusters=1, workdir=tmp_path_factory.mktemp("kubesim-rotation"), preinstall=("cert-manager",))
    fleet.start()
    try:
        w = World(fleet)
        w.cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        w.cluster_issuer("selfsigned", {"selfSigned": {}})
        # cert-manager-made roots: one with the default rotationPolicy (Always since 1.18), one with Never.
        w.run("root-ca", namespace="cert-manager", spec=spec("root-ca", issuer="selfsigned", duration="8760h"))
        w.run("root-never", namespace="cert-manager", spec=spec(
            "root-never", issuer="selfsigned", duration="8760h",
            privateKey={"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Never"}))
        w.run("root-short", namespace="cert-manager", spec=spec(
            "root-short", issuer="selfsigned", duration="1h",
            privateKey={"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Never"}))
        w.cluster_issuer("mesh-root", {"ca": {"secretName": "root-ca"}})
        w.cluster_issuer("mesh-never", {"ca": {"secretName": "root-never"}})
        w.cluster_issuer("mesh-short", {"ca": {"secretName": "root-short"}})
        # A CA issuer backed by a plain Secret (an existing PKI's key pair, no Certificate behind it).
        plain = make("plain-root")
        w.cluster.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                          "metadata": {"name": "plain-ca", "namespace": "cert-manager"},
                          "data": {"tls.crt": base64.b64encode(plain.pem.encode()).decode(),
                                   "tls.key": base64.b64encode(plain.key_pem().encode()).decode()}})
        w.cluster_issuer("plain-ca", {"ca": {"secretName": "plain-ca"}})
        w.remember_keys("cert-manager")
        yield w
    finally:
        fleet.stop()


# --- merge_live_spec ------------------------------------------------------------------------------------------------

def test_merge_changes_duration_only_and_keeps_the_rest(world):
    full = spec("mg", duration="720h", renewBefore="240h", dnsNames=["mg.example"])
    first = world.issued("mg", full)
    result = world.run("mg", merge_live_spec=True, spec={"duration": "1440h"})
    assert result["exists"] is True and result["live_spec"] == full
    assert result["spec"] == dict(full, duration="1440h") == world.certificate("mg")["spec"]
    assert result["changed"] is True and result["reissue"] == "spec_change"  # RequestChanged: duration
    assert result["revision"] == first["revision"] + 1 and result["status"]["revision"] == result["revision"]
    assert result["status"]["notAfter"] == result["not_after"]
    managers = [m["manager"] for m in world.certificate("mg")["metadata"]["managedFields"]
                if m["operation"] == "Apply"]
    assert managers == [FIELD_MANAGER]
    # renewBeforePercentage replaces renewBefore (mutually exclusive); null removes a field.
    result = world.run("mg", merge_live_spec=True, spec={"renewBeforePercentage": 30, "dnsNames": None},
                       wait=False, renew="false")
    stored = world.certificate("mg")["spec"]
    assert "renewBefore" not in stored and "dnsNames" not in stored and stored["renewBeforePercentage"] == 30
    assert stored["duration"] == "1440h" and result["live_spec"]["renewBefore"] == "240h"


def test_merge_on_absent_certificate_fails_cleanly(world):
    mark = len(world.cluster.requests)
    err = world.fails("no-such-cert", merge_live_spec=True, spec={"duration": "1440h"})
    assert "does not exist, so there is no live spec to merge into" in err.message
    assert err.result["exists"] is False and err.result["live_spec"] is None
    assert world.requests_since(mark) == [("GET", "/apis/cert-manager.io/v1/namespaces/istio-system/"
                                                  "certificates/no-such-cert")]
    assert world.certificate("no-such-cert") is None


def test_merge_validates_the_merged_spec(world):
    world.issued("mv", spec("mv", duration="720h"))
    mark = len(world.cluster.requests)
    err = world.fails("mv", merge_live_spec=True, spec={"renewBefore": "720h"})
    assert err.result["validation_errors"] == [
        "spec.renewBefore: Invalid value: 720h0m0s: certificate duration 720h0m0s must be greater than "
        "renewBefore 720h0m0s"]
    assert [call[0] for call in world.requests_since(mark)] == ["GET"]  # the read only, nothing written


def test_merge_read_in_check_mode_is_read_only_and_cheap(world):
    first = world.issued("rd", spec("rd", duration="720h"))
    before = world.certificate("rd")
    mark = len(world.cluster.requests)
    look = world.run("rd", check_mode=True, merge_live_spec=True, spec={}, backup=True)
    assert look["changed"] is False and look["reissue"] == "none" and look["exists"] is True
    assert look["live_spec"] == look["spec"] == spec("rd", duration="720h")
    assert look["status"] == before["status"] and look["serial"] == first["serial"]
    assert look["backup"] is None and look["backup_note"].startswith("No re-issue follows")
    assert world.requests_since(mark) == [
        ("GET", "/apis/cert-manager.io/v1/namespaces/istio-system/certificates/rd"),
        ("GET", "/api/v1/namespaces/istio-system/secrets/rd")]
    assert look["api_requests"] == 2
    # A change previewed in check mode: nothing stored, no backup written, the backup it would write named.
    preview = world.run("rd", check_mode=True, diff=True, merge_live_spec=True, spec={"dnsNames": ["x.example"]},
                        backup=True)
    assert preview["changed"] is True and preview["reissue"] == "spec_change"
    assert preview["backup"] is None and "would be copied to Secret istio-system/rd-backup-r1-" in \
        preview["backup_note"] and "rd-backup-r1-%s" % first["serial"][:12] in preview["diff"]["prepared"]
    assert world.certificate("rd") == before and world.backups("rd") == []


def _settled(obj, revision):
    """The Certificate reached ``revision`` and is Ready with no issuance in flight."""
    status = (obj or {}).get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return status.get("revision") == revision and conditions.get("Ready") == "True" and "Issuing" not in conditions


def test_merge_refused_by_another_manager_still_reports_what_was_read(world):
    """The upstream tutorial's client-side ``kubectl apply`` leaves kubectl-client-side-apply owning fields;
    a change to one of them is a server-side apply conflict (force=false), and the failure still says the
    Certificate exists (so the rotation preflight reports a refused change, not an unreadable cluster)."""
    world.issued("kc", spec("kc", duration="1440h"))
    kubectl = k8s_client.K8sClient.from_params(world.params("kc"))
    kubectl.request("PATCH", k8s_client.object_path(API, "certificates", NS, "kc"), body={"spec": {"duration": "720h"}},
                    query={"fieldManager": "kubectl-client-side-apply"}, content_type="application/merge-patch+json")
    # A duration change (both sides set) makes cert-manager re-issue: read "before" once it has settled, as
    # a real API server's watchers would see it (the write returns before the controller acts).
    assert world.cluster.wait_for(lambda: _settled(world.certificate("kc"), revision=2), timeout=30), \
        world.certificate("kc").get("status")
    before = world.certificate("kc")
    err = world.fails("kc", check_mode=True, merge_live_spec=True, spec={"duration": "2160h"})
    assert "conflicts with another manager" in err.message and "kubectl-client-side-apply" in err.message
    assert "--force-conflicts" in err.message
    assert err.result["exists"] is True and err.result["live_spec"]["duration"] == "720h"
    assert err.result["status"]["revision"] == before["status"]["revision"]
    assert world.certificate("kc") == before


# --- backup ---------------------------------------------------------------------------------------------------------

def test_backup_only_when_reissued_restorable_and_pruned(world):
    first = world.issued("bk", spec("bk", duration="720h"))
    # renewBefore only moves the renewal time: no re-issue, so no backup.
    quiet = world.run("bk", spec=spec("bk", duration="720h", renewBefore="200h"), backup=True)
    assert quiet["reissue"] == "none" and quiet["backup"] is None and world.backups("bk") == []
    # Older backups to prune (as an earlier rotation left them).
    for i in range(1, 5):
        world.cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {
            "name": "bk-backup-old-%d" % i, "namespace": NS, "labels": {LABEL: "bk"}}, "data": {"x": "eA=="}})
    before = world.secret("bk")
    mark = len(world.cluster.requests)
    rotated = world.run("bk", spec=spec("bk", duration="720h", renewBefore="200h", dnsNames=["bk.example"]),
                        backup=True, backup_keep=3)
    assert rotated["reissue"] == "spec_change" and rotated["revision"] == 2 and rotated["serial"] != first["serial"]
    name = "bk-backup-r1-%s" % first["serial"][:12]
    assert rotated["backup"] == {"name": name, "namespace": NS, "created": True, "serial": first["serial"],
                                 "root_fingerprint": rotated["backup"]["root_fingerprint"],
                                 "pruned": ["bk-backup-old-2", "bk-backup-old-1"]}
    assert world.backups("bk") == sorted([name, "bk-backup-old-3", "bk-backup-old-4"])
    copy = world.secret(name)
    assert copy["data"] == before["data"] and copy["type"] == before["type"]  # restorable: the old Secret
    assert copy["metadata"]["labels"] == {LABEL: "bk", "app.kubernetes.io/managed-by": "meshpki.istio_ca"}
    root = world.cluster.get("v1", "secrets", "cert-manager", "root-ca")
    root_cert = x509.load_pem_x509_certificate(base64.b64decode(root["data"]["tls.crt"]))
    fingerprint = root_cert.fingerprint(hashes.SHA256()).hex()
    assert rotated["backup"]["root_fingerprint"].replace(":", "") == fingerprint
    assert copy["metadata"]["annotations"] == {
        "meshpki.istio_ca/source": "istio-system/bk", "meshpki.istio_ca/serial": first["serial"],
        "meshpki.istio_ca/not-after": first["not_after"], "meshpki.istio_ca/subject": "CN=bk.example",
        "meshpki.istio_ca/root-fingerprint": rotated["backup"]["root_fingerprint"],
        "meshpki.istio_ca/revision": "1"}
    # Order: read, dry run, Secret, backup written and read back, only then the real apply.
    calls = world.requests_since(mark)
    apply_at = [i for i, (m, p) in enumerate(calls) if m == "PATCH"]
    post_at = calls.index(("POST", "/api/v1/namespaces/istio-system/secrets"))
    readback_at = calls.index(("GET", "/api/v1/namespaces/istio-system/secrets/" + name))
    assert len(apply_at) == 2 and apply_at[0] < post_at < readback_at < apply_at[1]
    print("backup+apply+wait rotation: api_requests=%d (%s)" % (rotated["api_requests"], calls))
    # Rerun: nothing changes any more, no new backup.
    again = world.run("bk", spec=spec("bk", duration="720h", renewBefore="200h", dnsNames=["bk.example"]),
                      backup=True, backup_keep=3)
    assert again["changed"] is False and again["backup"] is None and world.backups("bk") == sorted(
        [name, "bk-backup-old-3", "bk-backup-old-4"])


def test_backup_is_idempotent_and_never_overwrites(world):
    first = world.issued("bi", spec("bi", duration="720h"))
    client = k8s_client.K8sClient.from_params(world.params("bi"))
    source = world.secret("bi")
    made = certificate_backup.take(client, NS, "bi", 1, source)[0]
    again = certificate_backup.take(client, NS, "bi", 1, source)[0]
    assert made["created"] is True and again["created"] is False and again["name"] == made["name"]
    # A rerun after a run that wrote its backup but stopped before the change: the backup is reused.
    result = world.run("bi", spec=spec("bi", duration="720h", dnsNames=["bi.example"]), backup=True)
    assert result["backup"]["name"] == made["name"] and result["backup"]["created"] is False
    assert result["revision"] == 2
    # Another Secret already holds the name the next backup needs: fail, change nothing.
    name = "bi-backup-r2-%s" % result["serial"][:12]
    world.cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS},
                          "data": {"other": "eA=="}})
    spec_before = world.certificate("bi")["spec"]
    err = world.fails("bi", spec=spec("bi", duration="720h", dnsNames=["bi2.example"]), backup=True)
    assert "already exists but is not a backup of the current istio-system/bi" in err.message
    assert "nothing was changed" in err.message
    assert world.certificate("bi")["spec"] == spec_before and world.secret(name)["data"] == {"other": "eA=="}
    assert first["serial"] != result["serial"]


def test_backup_of_a_new_certificate_over_an_existing_secret(world):
    issued = make("preexisting")
    world.cluster.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                          "metadata": {"name": "pre", "namespace": NS},
                          "data": {"tls.crt": base64.b64encode(issued.pem.encode()).decode(),
                                   "tls.key": base64.b64encode(issued.key_pem().encode()).decode()}})
    result = world.run("pre", spec=spec("pre"), backup=True)
    assert result["backup"]["created"] is True and result["backup"]["name"].startswith("pre-backup-r0-")
    own = issued.cert.fingerprint(hashes.SHA256()).hex()
    assert result["backup"]["root_fingerprint"].replace(":", "") == own  # a self-signed cert is its own root
    assert world.secret(result["backup"]["name"])["data"]["tls.crt"] == base64.b64encode(
        issued.pem.encode()).decode()
    fresh = world.run("fresh", spec=spec("fresh"), backup=True)
    assert fresh["backup"] is None and "does not exist: nothing to back up" in fresh["backup_note"]


def test_backup_when_usages_go_from_unset_to_explicit(world):
    """cert-manager compares usages raw (RequestMatchesSpec): "cert sign" made explicit on an isCA Certificate
    re-issues at once, and under rotationPolicy Always the old key is gone unless it was copied first."""
    first = world.issued("us", spec("us", duration="720h"))
    before = world.secret("us")
    result = world.run("us", spec=spec("us", duration="720h", usages=["cert sign"]), backup=True, renew="false")
    assert result["reissue"] == "spec_change" and result["reissue_uncertain"] is None
    assert result["reissue_reasons"] == ["RequestChanged: spec.usages differs from the current CertificateRequest"]
    assert result["revision"] == 2 and result["serial"] != first["serial"]
    assert result["backup"]["created"] is True and world.secret(result["backup"]["name"])["data"] == before["data"]


def test_backup_when_the_current_request_was_garbage_collected(world):
    """With the current-revision CertificateRequest gone (the revision manager deletes it during a renewal
    under revisionHistoryLimit 1) the prediction cannot be read from cert-manager's own comparison: back up."""
    world.issued("gc", spec("gc", duration="720h"))
    world.cluster.delete(API, "certificaterequests", NS, "gc-1")
    before = world.secret("gc")
    result = world.run("gc", spec=spec("gc", duration="720h", usages=["cert sign", "digital signature"]),
                       backup=True, renew="false", wait=False)
    assert result["reissue"] == "none" and "current CertificateRequest is gone" in result["reissue_uncertain"]
    assert result["backup"]["created"] is True and world.secret(result["backup"]["name"])["data"] == before["data"]


# --- root policy ----------------------------------------------------------------------------------------------------

def test_root_policy_flags_a_self_signed_root_without_never(world):
    mark = len(world.cluster.requests)
    result = world.run("rp", spec=spec("rp"), check_root_policy=True, wait=False)
    policy = result["root_policy"]
    assert policy["checked"] is True and policy["issuer"] == "ClusterIssuer/mesh-root"
    assert policy["root_certificate"] == "cert-manager/root-ca" and policy["self_signed"] is True
    assert policy["rotation_policy"] is None and policy["warnings"] == []
    assert len(policy["problems"]) == 1 and "cert-manager/root-ca" in policy["problems"][0]
    assert "rotationPolicy: Never" in policy["problems"][0]
    reads = [c for c in world.requests_since(mark) if "/certificates" in c[1] or "issuers" in c[1]]
    assert reads[-3:] == [("GET", "/apis/cert-manager.io/v1/namespaces/cert-manager/certificates"),
                          ("GET", "/apis/cert-manager.io/v1/clusterissuers/mesh-root"),
                          ("GET", "/apis/cert-manager.io/v1/clusterissuers/selfsigned")]


def test_root_policy_passes_with_never_and_with_a_plain_secret(world):
    never = world.run("rn", check_mode=True, spec=spec("rn", issuer="mesh-never"), check_root_policy=True)
    assert never["root_policy"]["problems"] == [] and never["root_policy"]["rotation_policy"] == "Never"
    assert never["root_policy"]["root_certificate"] == "cert-manager/root-never"
    assert never["root_policy"]["checked"] is True and never["exists"] is False and never["status"] is None
    plain = world.run("rpl", check_mode=True, spec=spec("rpl", issuer="plain-ca"), check_root_policy=True)
    assert plain["root_policy"] == {"checked": True, "issuer": "ClusterIssuer/plain-ca", "root_certificate": None,
                                    "self_signed": None, "rotation_policy": None, "root_renewal_time": None,
                                    "root_not_after": None, "root_renewal_policy": None, "problems": [],
                                    "warnings": []}


def test_root_policy_flags_a_never_root_that_renews_before_the_next_rotation(world):
    """rotationPolicy Never keeps the root key, but a renewal still gives ca.crt new bytes that istiod refuses."""
    result = world.run("rr", spec=spec("rr", issuer="mesh-short", duration="720h"), check_root_policy=True)
    policy = result["root_policy"]
    root = world.certificate("root-short", namespace="cert-manager")
    assert policy["rotation_policy"] == "Never" and policy["root_renewal_time"] == root["status"]["renewalTime"]
    assert len(policy["problems"]) == 1
    assert ("The root Certificate cert-manager/root-short renews at %s, before the next rotation at %s"
            % (root["status"]["renewalTime"], result["status"]["renewalTime"])) in policy["problems"][0]
    # The long-lived Never root renews years after the next rotation; a horizon beyond it flags that one too.
    never = world.run("rn2", spec=spec("rn2", issuer="mesh-never", duration="720h"), check_root_policy=True)
    assert never["root_policy"]["problems"] == []
    far = world.run("rn2", check_mode=True, spec=spec("rn2", issuer="mesh-never", duration="720h"),
                    check_root_policy=True, root_renewal_horizon="87600h")
    assert "cert-manager/root-never renews at" in far["root_policy"]["problems"][0]
    err = world.fails("rn2", check_mode=True, spec=spec("rn2", issuer="mesh-never"), check_root_policy=True,
                      root_renewal_horizon="30d")
    assert "root_renewal_horizon: time: unknown unit" in err.message


def test_root_policy_read_failure_is_a_warning(world):
    missing = world.run("rm", check_mode=True, spec=spec("rm", issuer="no-such-issuer"), check_root_policy=True)
    policy = missing["root_policy"]
    assert policy["checked"] is False and policy["problems"] == []
    assert len(policy["warnings"]) == 1 and "could not read ClusterIssuer no-such-issuer" in policy["warnings"][0]


# --- through ansible-playbook (in-process action plugin) ------------------------------------------------------------

def test_playbook_merge_look_and_rotation_with_backup(world, tmp_path):
    world.issued("pb", spec("pb", duration="720h"))
    play = [{
        "name": "rotation options", "hosts": "clusters", "gather_facts": False,
        "module_defaults": {"group/meshpki.istio_ca.k8s": {
            "kubeconfig": "{{ k8s_kubeconfig }}", "context": "{{ k8s_context }}"}},
        "tasks": [
            {"name": "look", "check_mode": True, "register": "look", "meshpki.istio_ca.certificate": {
                "name": "pb", "namespace": NS, "merge_live_spec": True, "spec": {}, "check_root_policy": True}},
            {"name": "rotate", "register": "rotate", "diff": True, "meshpki.istio_ca.certificate": {
                "name": "pb", "namespace": NS, "merge_live_spec": True, "spec": {"dnsNames": ["pb.example"]},
                "backup": True, "backup_keep": 2, "wait": True, "wait_timeout": 30}},
        ],
    }]
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps(play))
    res = run_playbook(playbook, inventory=world.fleet.inventory, timeout=120, diff=True)
    assert res.rc == 0, res.explain()
    host = world.cluster.name
    look = res.task_results("look")[host]
    assert look["changed"] is False and look["exists"] is True and look["api_requests"] == 5
    assert look["root_policy"]["problems"] and look["status"]["revision"] == 1
    rotate = res.task_results("rotate")[host]
    assert rotate["changed"] is True and rotate["revision"] == 2 and rotate["backup"]["created"] is True
    assert world.secret(rotate["backup"]["name"]) is not None
    assert rotate["spec"]["dnsNames"] == ["pb.example"] and rotate["spec"]["duration"] == "720h"
    world.assert_no_key_material(res.stdout + res.stderr)
