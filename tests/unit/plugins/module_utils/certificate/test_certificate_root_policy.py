# -*- coding: utf-8 -*-
"""check_root_policy decisions against a scripted client: requests, verdicts, failed reads as warnings."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import root_policy as rp
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError
from unit.fake_api import FakeApi

CM_CERTS = "/apis/cert-manager.io/v1/namespaces/cert-manager/certificates"
IS_CERTS = "/apis/cert-manager.io/v1/namespaces/istio-system/certificates"
MESH_ROOT = "/apis/cert-manager.io/v1/clusterissuers/mesh-root"
SELFSIGNED = "/apis/cert-manager.io/v1/clusterissuers/selfsigned"


def cert(name, ns="cert-manager", secret=None, is_ca=True, issuer="selfsigned", kind="ClusterIssuer", policy=None,
         group=None, status=None, renewal=None):
    spec = {"secretName": secret or name, "isCA": is_ca, "issuerRef": {"name": issuer, "kind": kind}}
    if group:
        spec["issuerRef"]["group"] = group
    if policy:
        spec["privateKey"] = {"rotationPolicy": policy}
    if renewal:
        spec["renewal"] = renewal
    obj = {"metadata": {"name": name, "namespace": ns}, "spec": spec}
    if status:
        obj["status"] = status
    return obj


def spec(issuer="mesh-root", kind="ClusterIssuer", group="cert-manager.io"):
    return {"secretName": "cacerts", "issuerRef": {"name": issuer, "kind": kind, "group": group}}


def forbidden(path):
    return K8sApiError(403, "Forbidden", "forbidden: cannot get %s" % path, {}, "GET", path)


def run(client, spec_=None):
    return rp.check(client, "istio-system", "cacerts", spec_ or spec(), "cert-manager")


def paths(client):
    return [c[1] for c in client.calls]


def test_self_signed_root_without_never_is_a_problem():
    client = FakeApi().on("GET", CM_CERTS, {"items": [cert("root-ca"), cert("leaf", is_ca=False)]})
    client.on("GET", MESH_ROOT, {"spec": {"ca": {"secretName": "root-ca"}}}).on("GET", SELFSIGNED,
                                                                                {"spec": {"selfSigned": {}}})
    result = run(client)
    assert result["checked"] is True and result["root_certificate"] == "cert-manager/root-ca"
    assert result["self_signed"] is True and result["rotation_policy"] is None and result["warnings"] == []
    assert result["problems"] == [rp.problem_text("cert-manager/root-ca", None)]
    assert "unset, i.e. Always since cert-manager 1.18" in result["problems"][0]
    assert "set spec.privateKey.rotationPolicy: Never on cert-manager/root-ca" in result["problems"][0]
    assert paths(client) == [CM_CERTS, MESH_ROOT, SELFSIGNED]


def test_never_passes_and_always_fails():
    for policy, problems in (("Never", 0), ("Always", 1)):
        client = FakeApi().on("GET", CM_CERTS, {"items": [cert("root-ca", policy=policy)]})
        client.on("GET", MESH_ROOT, {"spec": {"ca": {"secretName": "root-ca"}}})
        client.on("GET", SELFSIGNED, {"spec": {"selfSigned": {}}})
        result = run(client)
        assert len(result["problems"]) == problems and result["rotation_policy"] == policy


def test_no_ca_certificate_there_needs_only_the_list():
    client = FakeApi().on("GET", CM_CERTS, {"items": [cert("leaf", is_ca=False)]})
    result = run(client)
    assert result == {"checked": True, "issuer": "ClusterIssuer/mesh-root", "root_certificate": None,
                      "self_signed": None, "rotation_policy": None, "root_renewal_time": None,
                      "root_not_after": None, "root_renewal_policy": None, "problems": [], "warnings": []}
    assert paths(client) == [CM_CERTS]


def test_plain_secret_behind_the_ca_issuer_is_fine():
    client = FakeApi().on("GET", CM_CERTS, {"items": [cert("other-ca")]})
    client.on("GET", MESH_ROOT, {"spec": {"ca": {"secretName": "plain-ca"}}})
    result = run(client)
    assert result["checked"] is True and result["root_certificate"] is None and result["problems"] == []


def test_ca_certificate_signed_by_a_ca_issuer_is_not_a_root():
    client = FakeApi().on("GET", CM_CERTS, {"items": [cert("int-ca", issuer="upper")]})
    client.on("GET", MESH_ROOT, {"spec": {"ca": {"secretName": "int-ca"}}})
    client.on("GET", "/apis/cert-manager.io/v1/clusterissuers/upper", {"spec": {"ca": {"secretName": "x"}}})
    result = run(client)
    assert result["self_signed"] is False and result["problems"] == [] and result["checked"] is True


def test_issuer_in_the_certificates_namespace_and_this_certificate_skipped():
    issuer = "/apis/cert-manager.io/v1/namespaces/istio-system/issuers/local-ca"
    client = FakeApi().on("GET", IS_CERTS, {"items": [cert("cacerts", ns="istio-system", issuer="local-ca"),
                                                      cert("root", ns="istio-system", issuer="ss", kind="Issuer")]})
    client.on("GET", issuer, {"spec": {"ca": {"secretName": "root"}}})
    client.on("GET", "/apis/cert-manager.io/v1/namespaces/istio-system/issuers/ss", {"spec": {"selfSigned": {}}})
    result = run(client, spec(issuer="local-ca", kind=None))
    assert result["issuer"] == "Issuer/local-ca" and result["root_certificate"] == "istio-system/root"
    assert len(result["problems"]) == 1


def test_external_issuers_are_not_followed():
    client = FakeApi()
    result = run(client, spec(issuer="pca", kind="AWSPCAClusterIssuer", group="awspca.cert-manager.io"))
    assert result["checked"] is False and result["problems"] == [] and client.calls == []
    external_root = cert("root-ca", issuer="vault", group="external.example")
    client = FakeApi().on("GET", CM_CERTS, {"items": [external_root]})
    client.on("GET", MESH_ROOT, {"spec": {"ca": {"secretName": "root-ca"}}})
    result = run(client)
    assert result["self_signed"] is False and result["checked"] is True and paths(client) == [CM_CERTS, MESH_ROOT]


def test_a_denied_read_fails_naming_the_permission():
    """A 403 is a missing RBAC rule, not a cluster state: skipping the check would let a re-keying root pass."""
    client = FakeApi().on("GET", CM_CERTS, forbidden(CM_CERTS))
    with pytest.raises(K8sApiError) as caught:
        run(client)
    assert str(caught.value).startswith("forbidden: cannot get " + CM_CERTS) and "docs/rbac/" in str(caught.value)


def test_failed_reads_are_warnings():
    client = FakeApi().on("GET", CM_CERTS, K8sApiError(503, "ServiceUnavailable", "etcd is down", {}, "GET"))
    result = run(client)
    assert result["checked"] is False and result["problems"] == []
    assert result["warnings"][0].startswith("root policy not checked: could not read the Certificates in "
                                            "namespace cert-manager")
    client = FakeApi().on("GET", CM_CERTS, {"items": [cert("root-ca")]})
    client.on("GET", MESH_ROOT, {"spec": {"ca": {"secretName": "root-ca"}}})
    client.on("GET", SELFSIGNED, K8sApiError(404, "NotFound", 'clusterissuers "selfsigned" not found',
                                             {"name": "selfsigned"}, "GET"))
    result = run(client)
    assert result["checked"] is False and result["self_signed"] is None
    assert result["root_certificate"] == "cert-manager/root-ca" and "not found" in result["warnings"][0]


def root_client(root):
    client = FakeApi().on("GET", CM_CERTS, {"items": [root]})
    return client.on("GET", MESH_ROOT, {"spec": {"ca": {"secretName": "root-ca"}}}).on(
        "GET", SELFSIGNED, {"spec": {"selfSigned": {}}})


def test_a_root_renewing_before_the_next_rotation_is_a_problem_even_with_never():
    """A renewed root keeps its key under Never but has new bytes: istiod refuses the next intermediate."""
    root = cert("root-ca", policy="Never", status={"renewalTime": "2030-03-01T00:00:00Z",
                                                   "notAfter": "2030-06-01T00:00:00Z"})
    result = rp.check(root_client(root), "istio-system", "cacerts", spec(), "cert-manager",
                      next_rotation="2030-04-01T00:00:00Z")
    assert result["root_renewal_time"] == "2030-03-01T00:00:00Z" and result["root_not_after"] == "2030-06-01T00:00:00Z"
    assert len(result["problems"]) == 1
    assert "renews at 2030-03-01T00:00:00Z, before the next rotation at 2030-04-01T00:00:00Z" in result["problems"][0]
    assert "Multi root is disabled" in result["problems"][0] and "renewal.policy: Disabled" in result["problems"][0]


def test_a_root_renewing_after_the_next_rotation_or_disabled_is_fine():
    later = cert("root-ca", policy="Never", status={"renewalTime": "2036-03-01T00:00:00Z"})
    assert rp.check(root_client(later), "istio-system", "cacerts", spec(), "cert-manager",
                    next_rotation="2030-04-01T00:00:00Z")["problems"] == []
    disabled = cert("root-ca", policy="Never", renewal={"policy": "Disabled"}, status={"notAfter": "2036-01-01T00:00:00Z"})
    result = rp.check(root_client(disabled), "istio-system", "cacerts", spec(), "cert-manager",
                      next_rotation="2030-04-01T00:00:00Z")
    assert result["problems"] == [] and result["root_renewal_policy"] == "Disabled"


def test_a_root_renewal_due_now_is_a_problem_without_a_known_next_rotation():
    due = {"self_signed": True, "root_certificate": "cert-manager/root", "root_renewal_time": "2020-01-01T00:00:00Z"}
    assert "is due for renewal now (2020-01-01T00:00:00Z)" in rp.renewal_problem(due, None)
    assert rp.renewal_problem(dict(due, root_renewal_time="2999-01-01T00:00:00Z"), None) is None
    assert rp.renewal_problem(dict(due, self_signed=False), "2999-01-01T00:00:00Z") is None


def test_renewal_guard_only_where_the_crd_has_the_field():
    assert rp.renewal_guard("v1.21.1") == {"renewal": {"policy": "Disabled"}}
    assert rp.renewal_guard("1.22.0") == {"renewal": {"policy": "Disabled"}}
    assert rp.renewal_guard("v1.20.2") == {} and rp.renewal_guard(None) == {} and rp.renewal_guard("unknown") == {}
