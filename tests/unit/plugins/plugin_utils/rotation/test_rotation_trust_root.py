"""Unit tests of rotation_trust_root: the fleet root a rotation checks each cluster against, from the trust
source alone (so one slice of a sliced AWX job, even of one cluster, refuses a wrong root)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.plan import rotation_root_problems
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.trust_root import rotation_trust_root
from cryptography.hazmat.primitives import hashes

from unit import x509_factory as xf


def _fp(issued):
    return issued.cert.fingerprint(hashes.SHA256()).hex(":")


def test_pinned_fingerprint_is_normalised_from_openssl_output():
    root, _inter = xf.mesh()
    fp = _fp(root)
    openssl = "sha256 Fingerprint=" + fp.upper()  # `openssl x509 -noout -fingerprint -sha256` prints this
    for given in (fp, fp.upper(), fp.replace(":", ""), openssl):
        found = rotation_trust_root(given)
        assert found == {"fingerprint": fp, "source": "ca_rotation_expected_root_fingerprint", "problems": []}


def test_malformed_fingerprint_names_the_variable():
    with pytest.raises(AnsibleFilterError, match="ca_rotation_expected_root_fingerprint"):
        rotation_trust_root("AB:CD:EF")


def test_root_file_gives_its_self_signed_certificate_wherever_it_stands():
    root, inter = xf.mesh()
    for text in (xf.pem(root), xf.pem(inter, root)):  # ca_setup's order: the CA first, its root last
        found = rotation_trust_root("", ca_cert_pem=text, ca_cert_path="/x/root.pem")
        assert found["fingerprint"] == _fp(root) and "self-signed" in found["source"] and found["problems"] == []


def test_root_file_without_a_self_signed_certificate_gives_its_last_one():
    root, inter = xf.mesh()
    found = rotation_trust_root("", ca_cert_pem=xf.pem(inter), ca_cert_path="/x/ca.pem")
    assert found["fingerprint"] == _fp(inter) and "no self-signed root" in found["source"]


def test_unreadable_root_file_fails_with_the_variable():
    with pytest.raises(AnsibleFilterError, match="ca_setup_ca_cert"):
        rotation_trust_root("", ca_cert_pem="not a certificate", ca_cert_path="/x/root.pem")


def test_pin_and_file_that_disagree_refuse_the_run():
    root, _ignored = xf.mesh()
    other, _ignored = xf.mesh(kind="ec384")
    found = rotation_trust_root(_fp(other), ca_cert_pem=xf.pem(root), ca_cert_path="/x/root.pem")
    assert found["fingerprint"] == _fp(other)
    assert len(found["problems"]) == 1 and "one of them is wrong" in found["problems"][0]


def test_no_trust_root_is_refused_in_awx_and_when_required_only():
    assert rotation_trust_root("") == {"fingerprint": None, "source": None, "problems": []}
    in_awx = rotation_trust_root("", in_awx=True)
    assert in_awx["fingerprint"] is None and "one slice of several" in in_awx["problems"][0]
    assert rotation_trust_root("", in_awx=True, require=False)["problems"] == []
    assert "ca_rotation_require_trust_root" in rotation_trust_root("", require=True)["problems"][0]


def test_a_slice_of_one_cluster_refuses_a_wrong_root():
    root, _ignored = xf.mesh()
    wrong, _ignored = xf.mesh(kind="ec384")
    trust = rotation_trust_root("", ca_cert_pem=xf.pem(root), ca_cert_path="/x/root.pem")
    # Alone in its play, the cluster agrees with itself; only the trust root can tell.
    assert rotation_root_problems({"cluster-3": _fp(wrong)}) == {"cluster-3": []}
    found = rotation_root_problems({"cluster-3": _fp(wrong)}, expected=trust)
    assert len(found["cluster-3"]) == 1 and "is not the expected root" in found["cluster-3"][0]
    assert "ca_setup_ca_cert /x/root.pem" in found["cluster-3"][0]
    assert rotation_root_problems({"cluster-3": _fp(root)}, expected=trust) == {"cluster-3": []}


def test_a_missing_trust_root_goes_to_every_cluster():
    found = rotation_root_problems({"c1": "aa:" * 31 + "aa", "c2": None},
                                   expected=rotation_trust_root("", in_awx=True))
    assert all(len(p) == 1 and "no trust root" in p[0] for p in found.values())
