"""rotate.yml -e ca_rotation_issuing_ca=true on one cluster of an offline_root fleet (issue 20).

What must hold: that cluster gets a new issuing CA (new key, same root); cert-manager re-issues cacerts
below it; istiod hot-reloads (the rotation's own reload proof, and ca.crt keeps its bytes); the old
issuing CA's key is in no Secret of any cluster afterwards; the other clusters are untouched (every
object's resourceVersion compared through kubesim).
"""

from __future__ import annotations

import base64

import pytest
from cryptography import x509

from deploy_support import deploy, diff_resource_versions, fleet_resource_versions, start_fleet
from helpers_ansible import run_playbook
from offline_root_support import OFFLINE_VARS, check_issuing_chain, holders_of, issuing_ca, spki

pytestmark = pytest.mark.slow

TARGET = "cluster-2"
IGNORED = ("coordination.k8s.io/leases", "/events")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = start_fleet(tmp_path_factory, preinstall=("istio",), propagation_delay=1.0)
    yield fleet
    fleet.stop()


@pytest.fixture(scope="module")
def setup_vars(inputs):
    return {**OFFLINE_VARS, "ca_setup_ca_cert": str(inputs["root"].cert_path),
            "ca_setup_ca_key": str(inputs["root"].key_path)}


@pytest.fixture(scope="module")
def rotated(fleet, inputs, setup_vars, tmp_path_factory):
    first = deploy(fleet, {**setup_vars, "cert_manager_manifest_src": str(inputs["manifest"])})
    assert first.rc == 0, first.explain()
    by_name = {c.name: c for c in fleet.clusters}
    before = {"issuing": {n: issuing_ca(c) for n, c in by_name.items()},
              "ca_crt": by_name[TARGET].get("v1", "secrets", "istio-system", "cacerts")["data"]["ca.crt"],
              "versions": fleet_resource_versions(fleet)}
    report = tmp_path_factory.mktemp("report")
    result = run_playbook("playbooks/rotate.yml", inventory=fleet.inventory, limit=TARGET,
                          extra_vars={**setup_vars, "ca_rotation_issuing_ca": True, "report_dir": str(report),
                                      "ca_rotation_reload_timeout": 60, "ca_rotation_issue_timeout": 60})
    return result, before, by_name


def test_target_gets_a_new_issuing_ca_under_the_same_root(rotated, inputs):
    result, before, by_name = rotated
    assert result.rc == 0, result.explain()
    cluster = by_name[TARGET]
    intermediate, issuing = check_issuing_chain(cluster, inputs["root"].cert)
    old = before["issuing"][TARGET]
    assert spki(issuing.public_key()) != spki(old.public_key()) and issuing.serial_number != old.serial_number
    secret = cluster.get("v1", "secrets", "cert-manager", "meshpki-istio-issuing-ca")
    assert secret["metadata"]["annotations"]["meshpki.istio-ca/previous-issuing-ca-serial"] == \
        "%x" % old.serial_number
    # The root istiod compares byte for byte did not change.
    assert cluster.get("v1", "secrets", "istio-system", "cacerts")["data"]["ca.crt"] == before["ca_crt"]
    assert base64.b64decode(before["ca_crt"]).strip() == inputs["root"].cert_path.read_bytes().strip()


def test_istiod_reloaded_the_reissued_cacerts(rotated):
    result, _before, by_name = rotated
    assert result.rc == 0, result.explain()
    checks = result.task_results("Prove istiod signs with the new intermediate")
    assert sorted(checks) == [TARGET], checks
    assert checks[TARGET]["reloaded"] is True and checks[TARGET]["root_consistent"] is True
    cacerts = by_name[TARGET].get("v1", "secrets", "istio-system", "cacerts")
    leaf = x509.load_pem_x509_certificates(base64.b64decode(cacerts["data"]["tls.crt"]))[0]
    assert checks[TARGET]["expected_serial"] == "%x" % leaf.serial_number
    leaf.verify_directly_issued_by(issuing_ca(by_name[TARGET]))


def test_old_issuing_key_left_every_cluster(fleet, rotated, inputs):
    result, before, _by_name = rotated
    assert result.rc == 0, result.explain()
    assert holders_of(fleet, before["issuing"][TARGET].public_key()) == []
    assert holders_of(fleet, inputs["root"].cert.public_key()) == []


def test_other_clusters_untouched(fleet, rotated):
    result, before, by_name = rotated
    assert result.rc == 0, result.explain()
    after = fleet_resource_versions(fleet)
    changed = [c for c in diff_resource_versions(before["versions"], after) if c[1] not in IGNORED]
    assert changed and {c[0] for c in changed} == {TARGET}, changed
    for name, cluster in by_name.items():
        if name != TARGET:
            assert issuing_ca(cluster) == before["issuing"][name]
