# -*- coding: utf-8 -*-
"""Backup naming, annotations, verification and pruning; the backend's order (decide, back up, prove, apply)."""

from __future__ import absolute_import, division, print_function

import base64
import copy
import json

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import backup as cb
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.backend import CertificateBackend
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError, CollectionError, K8sApiError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.chain import analyze_chain
from unit.fake_api import CERT_PATH, FakeApi, ready_cert, spec
from unit.x509_factory import key, make, mesh

SECRETS = "/api/v1/namespaces/istio-system/secrets"
SECRET = SECRETS + "/cacerts"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def tls_secret(inter=None, root=None, key_of=None):
    root_, inter_ = mesh()
    inter, root = inter or inter_, root or root_
    return {"metadata": {"name": "cacerts", "namespace": "istio-system"}, "type": "kubernetes.io/tls",
            "data": {"tls.crt": b64(inter.pem), "tls.key": b64((key_of or inter).key_pem()), "ca.crt": b64(root.pem)}}


def leaks(text, secret):
    """Whether ``text`` carries any of ``secret``'s key material."""
    pem = base64.b64decode(secret["data"]["tls.key"]).decode()
    lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    return "PRIVATE KEY" in text or secret["data"]["tls.key"][:24] in text or any(line in text for line in lines)


def test_backup_name():
    assert cb.backup_name("cacerts", 3, "5e2f0c1a9b4d77aa01") == "cacerts-backup-r3-5e2f0c1a9b4d"
    assert cb.backup_name("cacerts", None, "abc") == "cacerts-backup-r0-abc"


def test_facts_are_those_x509_inspect_reports():
    root, inter = mesh()
    facts = cb.describe(tls_secret(inter, root)["data"], "Secret x")
    chain = analyze_chain([inter.cert], [root.cert], None, rfc3339.now())
    assert facts == {"serial": "%x" % inter.cert.serial_number,
                     "not_after": inter.cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "subject": "CN=Intermediate CA,L=cluster-1,O=meshpki-test",
                     "root_fingerprint": chain["root_fingerprint_sha256"]}
    assert facts["root_fingerprint"].count(":") == 31
    no_root = tls_secret(inter, root)
    del no_root["data"]["ca.crt"]
    assert cb.describe(no_root["data"], "Secret x")["root_fingerprint"] == ""  # chain ends at an intermediate


def test_backup_object_has_restore_labels_and_annotations():
    secret = tls_secret()
    facts = cb.describe(secret["data"], "Secret x")
    obj = cb.backup_object(secret, "istio-system", "cacerts", "cacerts-backup-r2-x", 2, facts)
    assert obj["type"] == "kubernetes.io/tls" and obj["data"] == secret["data"]
    assert obj["metadata"]["labels"] == {"meshpki.istio_ca/backup-of": "cacerts",
                                         "app.kubernetes.io/managed-by": "meshpki.istio_ca"}
    assert obj["metadata"]["annotations"] == {
        "meshpki.istio_ca/source": "istio-system/cacerts", "meshpki.istio_ca/serial": facts["serial"],
        "meshpki.istio_ca/not-after": facts["not_after"], "meshpki.istio_ca/subject": facts["subject"],
        "meshpki.istio_ca/root-fingerprint": facts["root_fingerprint"], "meshpki.istio_ca/revision": "2"}
    assert cb.backup_object(dict(secret, type=None), "n", "s", "b", None, facts)["metadata"]["annotations"][
        "meshpki.istio_ca/revision"] == ""


def test_a_key_that_does_not_match_is_refused_without_leaking_it():
    root, inter = mesh()
    other = make("other", key("ec256", 5))
    secret = tls_secret(inter, root, key_of=other)
    with pytest.raises(CertificateError) as err:
        cb.describe(secret["data"], "Secret istio-system/cacerts")
    assert "tls.key does not belong to the first certificate of tls.crt" in err.value.message
    assert not leaks(err.value.message, secret)
    broken = copy.deepcopy(secret)
    broken["data"]["tls.key"] = b64("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(CertificateError) as err:
        cb.describe(broken["data"], "Secret istio-system/cacerts")
    assert "cannot be backed up" in err.value.message and "AAAA" not in err.value.message


def labelled(secret, name="b"):
    copy_ = copy.deepcopy(secret)
    copy_["metadata"] = {"name": name, "labels": {cb.BACKUP_LABEL: "cacerts"}}
    return copy_


def test_verify_copy():
    secret = tls_secret()
    cb.verify_copy(labelled(secret), secret, "b", "istio-system", "cacerts", created=True)
    cb.verify_copy(labelled(secret), secret, "b", "istio-system", "cacerts", created=False)
    other = labelled(secret)
    other["data"]["extra"] = "eA=="
    with pytest.raises(CertificateError) as err:
        cb.verify_copy(other, secret, "b", "istio-system", "cacerts", created=False)
    assert "already exists but is not a backup" in err.value.message and "other data" in err.value.message
    unlabelled = copy.deepcopy(secret)
    with pytest.raises(CertificateError) as err:
        cb.verify_copy(unlabelled, secret, "b", "istio-system", "cacerts", created=False)
    assert "no meshpki.istio_ca/backup-of=cacerts label" in err.value.message
    with pytest.raises(CertificateError):
        cb.verify_copy(other, secret, "b", "istio-system", "cacerts", created=True)
    with pytest.raises(CertificateError):
        cb.verify_copy(None, secret, "b", "istio-system", "cacerts", created=True)


def test_take_creates_reads_back_and_reuses():
    secret = tls_secret()
    facts = cb.describe(secret["data"], "x")
    name = cb.backup_name("cacerts", 1, facts["serial"])
    client = FakeApi().on("POST", SECRETS, lambda body, query: body).on("GET", SECRETS + "/" + name,
                                                                        lambda body, query: stored[0])
    stored = [labelled(secret, name)]
    made, note = cb.take(client, "istio-system", "cacerts", 1, secret)
    assert note is None and made == {"name": name, "namespace": "istio-system", "created": True,
                                     "serial": facts["serial"], "root_fingerprint": facts["root_fingerprint"],
                                     "pruned": []}
    assert [c[0] for c in client.calls] == ["POST", "GET"]
    client = FakeApi().on("POST", SECRETS, K8sApiError(409, "AlreadyExists", "exists", {"name": name}, "POST"))
    client.on("GET", SECRETS + "/" + name, labelled(secret, name))
    again = cb.take(client, "istio-system", "cacerts", 1, secret)[0]
    assert again["created"] is False and again["name"] == name
    assert not leaks(json.dumps([made, again]), secret)


def test_take_needs_a_secret_with_a_key():
    assert cb.take(FakeApi(), "ns", "s", 1, None) == (None, "Secret ns/s does not exist: nothing to back up.")
    assert cb.take(FakeApi(), "ns", "s", 1, {"data": {"tls.crt": "eA=="}})[1] == \
        "Secret ns/s has no tls.key: nothing to back up."


def meta(name, when, label="cacerts"):
    return {"metadata": {"name": name, "creationTimestamp": when, "labels": {cb.BACKUP_LABEL: label}}}


BACKUPS = [meta("b1", "2026-01-01T00:00:00Z"), meta("b2", "2026-01-02T00:00:00Z"),
           meta("b3", "2026-01-03T00:00:00Z"), meta("x", "2026-01-04T00:00:00Z", label="other")]


@pytest.mark.parametrize("keep,new,pruned", [
    (2, "b4", ["b2", "b1"]), (2, "b3", ["b1"]), (0, "b4", []), (5, "b4", []), (1, "b4", ["b3", "b2", "b1"]),
    (2, None, ["b1"]),
])
def test_prune_rule(keep, new, pruned):
    assert cb.backups_to_prune(BACKUPS, "cacerts", keep=keep, new=new) == pruned


def test_prune_rule_ties_on_time_are_broken_by_name():
    same = [meta("a", "2026-01-01T00:00:00Z"), meta("c", "2026-01-01T00:00:00Z"), meta("b", "2026-01-01T00:00:00Z")]
    assert cb.backups_to_prune(same, "cacerts", keep=2, new="n") == ["b", "a"]


def test_prune_lists_by_label_deletes_and_reports_failures_as_warnings():
    listed = {"items": [dict(m, data={"tls.key": "c2VjcmV0"}) for m in BACKUPS]}
    client = FakeApi().on("GET", SECRETS, listed).on("DELETE", SECRETS + "/b2", {})
    client.on("DELETE", SECRETS + "/b1", K8sApiError(409, "Conflict", "being deleted", {}, "DELETE"))
    pruned, warnings = cb.prune(client, "istio-system", "cacerts", 2, "b4")
    assert pruned == ["b2"] and len(warnings) == 1 and "b1 was not deleted" in warnings[0]
    assert client.calls[0][3] == {"labelSelector": "meshpki.istio_ca/backup-of=cacerts"}
    assert cb.prune(FakeApi(), "istio-system", "cacerts", 0, "b4") == ([], [])


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_prune_fails_on_a_missing_permission(method):
    """A 403 is no transient failure: backup_keep can never be honoured with these credentials, so the task
    fails with the API's sentence (verb, resource, user) instead of a warning nobody reads."""
    denied = ('secrets "b1" is forbidden: User "system:serviceaccount:ops:meshpki" cannot delete resource '
              '"secrets" in API group "" in the namespace "istio-system"')
    listed = {"items": [dict(m, data={"tls.key": "c2VjcmV0"}) for m in BACKUPS]}
    client = FakeApi().on("GET", SECRETS, listed).on("DELETE", SECRETS + "/b2", {})
    if method == "GET":
        client = FakeApi().on("GET", SECRETS, K8sApiError(403, "Forbidden", denied, {}, "GET"))
    client.on("DELETE", SECRETS + "/b1", K8sApiError(403, "Forbidden", denied, {}, "DELETE"))
    with pytest.raises(K8sApiError) as caught:
        cb.prune(client, "istio-system", "cacerts", 2, "b4")
    assert str(caught.value).startswith(denied) and "docs/rbac/" in str(caught.value)


# --- the backend's order -----------------------------------------------------------------------------------------------

def params(**overrides):
    base = dict(name="cacerts", namespace="istio-system", spec=spec(), state="present", renew="auto", wait=False,
                wait_timeout=30, merge_live_spec=False, check_root_policy=False,
                cluster_resource_namespace="cert-manager", backup=True, backup_keep=5)
    base.update(overrides)
    return base


def stored_answer(body, query):
    return ready_cert(body["spec"])


def test_backup_happens_between_dry_run_and_apply_and_only_for_a_reissue():
    secret = tls_secret()
    name = cb.backup_name("cacerts", 1, cb.describe(secret["data"], "x")["serial"])
    client = FakeApi().on("GET", CERT_PATH, ready_cert(spec())).on("PATCH", CERT_PATH, stored_answer)
    client.on("GET", SECRET, secret).on("POST", SECRETS, lambda body, query: body)
    client.on("GET", SECRETS + "/" + name, labelled(secret, name)).on("GET", SECRETS, {"items": []})
    result = CertificateBackend(client, params(spec=spec(dnsNames=["b.example"])), diff=True).run()
    steps = [(c[0], c[1], "dry" if (c[3] or {}).get("dryRun") else "") for c in client.calls]
    assert steps == [("GET", CERT_PATH, ""), ("PATCH", CERT_PATH, "dry"), ("GET", SECRET, ""),
                     ("POST", SECRETS, ""), ("GET", SECRETS + "/" + name, ""), ("GET", SECRETS, ""),
                     ("PATCH", CERT_PATH, ""), ("GET", SECRET, "")]  # pruned (the list) before the change
    assert result["backup"]["name"] == name and result["reissue"] == "spec_change" and result["changed"]
    assert result["diff"]["prepared"] == "Secret istio-system/cacerts backed up to istio-system/%s" % name
    assert not leaks(json.dumps(result), secret)
    # renewBefore only: a dry run decides "no re-issue", so the Secret is not even read before the apply.
    client = FakeApi().on("GET", CERT_PATH, ready_cert(spec())).on("PATCH", CERT_PATH, stored_answer)
    client.on("GET", SECRET, secret)
    result = CertificateBackend(client, params(spec=spec(renewBefore="100h"))).run()
    assert [c[0] for c in client.calls] == ["GET", "PATCH", "PATCH", "GET"]
    assert result["backup"] is None and result["backup_note"].startswith("No re-issue follows")


def test_a_failure_after_the_backup_reports_it_and_changed():
    secret = tls_secret()
    name = cb.backup_name("cacerts", 1, cb.describe(secret["data"], "x")["serial"])
    conflict = K8sApiError(500, "InternalError", "boom", {}, "PATCH")
    client = FakeApi().on("GET", CERT_PATH, ready_cert(spec())).on("PATCH", CERT_PATH, stored_answer, conflict)
    client.on("GET", SECRET, secret).on("POST", SECRETS, lambda body, query: body)
    client.on("GET", SECRETS + "/" + name, labelled(secret, name)).on("GET", SECRETS, {"items": []})
    with pytest.raises(CollectionError) as err:
        CertificateBackend(client, params(spec=spec(dnsNames=["b.example"]))).run()
    failure = err.value.failure()  # what the module's fail_json returns
    assert failure["changed"] is True and failure["backup"]["name"] == name
    assert failure["msg"] == "boom" and failure["api_error"]["code"] == 500


def test_a_denied_prune_stops_before_the_change():
    """backup_keep cannot be honoured (no delete on Secrets): the run fails after the new copy, before the apply."""
    secret = tls_secret()
    name = cb.backup_name("cacerts", 1, cb.describe(secret["data"], "x")["serial"])
    old = labelled(secret, "cacerts-old")
    old["metadata"]["creationTimestamp"] = "2020-01-01T00:00:00Z"
    denied = K8sApiError(403, "Forbidden", 'secrets "cacerts-old" is forbidden: User "u" cannot delete resource '
                         '"secrets" in API group "" in the namespace "istio-system"', {}, "DELETE")
    client = FakeApi().on("GET", CERT_PATH, ready_cert(spec())).on("PATCH", CERT_PATH, stored_answer)
    client.on("GET", SECRET, secret).on("POST", SECRETS, lambda body, query: body)
    client.on("GET", SECRETS + "/" + name, labelled(secret, name))
    client.on("GET", SECRETS, {"items": [old, labelled(secret, name)]}).on("DELETE", SECRETS + "/cacerts-old", denied)
    with pytest.raises(CollectionError) as err:
        CertificateBackend(client, params(spec=spec(dnsNames=["b.example"]), backup_keep=1)).run()
    failure = err.value.failure()
    assert 'cannot delete resource "secrets"' in failure["msg"] and failure["api_error"]["code"] == 403
    assert failure["backup"]["name"] == name and failure["changed"] is True
    applied = [c for c in client.calls if c[0] == "PATCH" and not (c[3] or {}).get("dryRun")]
    assert applied == []


def test_merge_that_changes_nothing_sends_no_apply():
    live = ready_cert(spec(duration="720h"))
    client = FakeApi().on("GET", CERT_PATH, live).on("GET", SECRET, {"data": {}})
    result = CertificateBackend(client, params(merge_live_spec=True, spec={}, backup=False), check_mode=True).run()
    assert [c[0] for c in client.calls] == ["GET", "GET"] and result["api_requests"] == 2
    assert result["changed"] is False and result["spec"] == result["live_spec"] == spec(duration="720h")
    assert result["status"] == live["status"] and result["exists"] is True and "backup" not in result
