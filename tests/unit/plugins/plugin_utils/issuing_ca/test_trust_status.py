"""The report's trust check: which keys each cluster must not hold, and the status sentence for a finding."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.issuing_ca.trust_status import (
    trust_exposure_keys, trust_status)


def inspected(*certs):
    return {"certificates": [{"subject": s, "issuer": "CN=Root", "serial_hex": "ab", "not_after": "2027-01-01T00:00:00Z",
                              "seconds_remaining": 1, "self_signed": ss, "public_key_fingerprints": {"sha256": fp}}
                             for s, ss, fp in certs]}


ROOT = ("CN=Root", True, "00:root")
HOSTVARS = {
    "c1": {"ca_setup__trust_cacerts": inspected(("CN=Intermediate", False, "00:i1"), ROOT),
           "ca_setup__trust_issuing": inspected(("CN=Issuing CA,L=c1", False, "00:c1"), ROOT)},
    "c2": {"ca_setup__trust_cacerts": inspected(("CN=Intermediate", False, "00:i2"), ROOT),
           "ca_setup__trust_issuing": inspected(("CN=Issuing CA,L=c2", False, "00:c2"), ROOT)},
    "c3": {"ca_setup__trust_cacerts": {"failed": True, "msg": "no cacerts"}, "ca_setup__trust_issuing": {"failed": True}},
}


def test_a_cluster_looks_for_the_root_and_the_other_clusters_issuing_cas():
    keys = trust_exposure_keys("c1", HOSTVARS, ["c1", "c2", "c3"])
    assert [k["sha256"] for k in keys] == ["00:root", "00:c2"]
    assert keys[1]["name"] == "issuing CA of c2"


def test_status_with_an_exposure_is_a_failure_naming_the_secret():
    status = trust_status("c1", issuing=HOSTVARS["c1"]["ca_setup__trust_issuing"],
                          exposure={"exposed": [{"namespace": "apps", "name": "copy", "data_key": "k",
                                                 "matches": "issuing CA of c2"}]})
    assert status["ok"] is False and status["issuing_ca"]["subject"] == "CN=Issuing CA,L=c1"
    assert "apps/copy" in status["problems"][0] and "issuing CA of c2" in status["problems"][0]


def test_a_check_that_could_not_run_is_not_ok():
    status = trust_status("c3", issuing={"failed": True}, exposure={"failed": True, "msg": "secrets is forbidden"})
    assert status["ok"] is False and status["issuing_ca"] is None and "forbidden" in status["problems"][0]


def issuer(secret):
    spec = {"ca": {"secretName": secret}} if secret else {"selfSigned": {}}
    return {"resources": [{"kind": "ClusterIssuer", "metadata": {"name": "meshpki-istio-ca"}, "spec": spec}]}


ROOT_COPY = {"namespace": "cert-manager", "name": "meshpki-istio-root-ca", "data_key": "tls.key",
             "matches": "fleet root (CN=Root)"}


@pytest.mark.parametrize("clusterissuer, exposed, source, root_key", [
    (issuer("meshpki-istio-issuing-ca"), [], "offline_root", "not in any Secret of this cluster"),
    (issuer("meshpki-istio-root-ca"), [ROOT_COPY], "root key in the cluster",
     "in this cluster: Secret cert-manager/meshpki-istio-root-ca"),
    (issuer("meshpki-istio-root-ca"), [], "ca_keypair", "not in any Secret of this cluster"),
    # A stray copy of the root key on an offline_root cluster: still offline_root, and the copy is named.
    (issuer("meshpki-istio-issuing-ca"), [dict(ROOT_COPY, namespace="apps", name="copy")], "offline_root",
     "in this cluster: Secret apps/copy"),
    ({"resources": []}, [], "other", "not in any Secret of this cluster"),
    (issuer(None), [], "other", "not in any Secret of this cluster"),
])
def test_the_trust_source_is_what_the_ca_clusterissuer_signs_with(clusterissuer, exposed, source, root_key):
    status = trust_status("c1", issuing=None, exposure={"exposed": exposed}, issuer=clusterissuer)
    assert (status["source"], status["root_key"]) == (source, root_key)
    assert status["ok"] is (not exposed)


def test_where_the_root_key_lives_is_unknown_when_the_secrets_were_not_read():
    status = trust_status("c1", exposure={"failed": True, "msg": "forbidden"}, issuer=issuer("meshpki-istio-issuing-ca"))
    assert status["source"] == "offline_root" and status["root_key"].startswith("unknown")
    assert status["ca_secret"] == "cert-manager/meshpki-istio-issuing-ca"
