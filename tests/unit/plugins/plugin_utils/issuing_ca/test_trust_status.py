"""The report's trust check: which keys each cluster must not hold, and the status sentence for a finding."""

from __future__ import annotations

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
