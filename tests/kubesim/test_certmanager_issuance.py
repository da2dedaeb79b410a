"""cert-manager issuance in kubesim: issuers, real X.509 contents, Secret, requests, status.

Upstream: cert-manager internal/apis/certmanager/v1/defaults.go (defaults), pkg/util/pki/renewaltime.go
(renewal time), pkg/controller/certificates (conditions, Secret, CertificateRequests), pkg/issuer (issuers).
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubesim import pki
from kubesim.controllers.certmanager import CertManagerSim
from kubesim.tests_support_fakecluster import (CM, ca_chain, certificate, condition, ensure_namespace, get_cert,
                                               issuer, new_fake, secret_data, wait_issued)


@pytest.fixture(scope="module")
def env():
    f = new_fake("v1.19.1", istio=False)
    ensure_namespace(f, "istio-system")
    ca_chain(f)
    return f


def _leaf(f, ns, secret):
    return pki.load_certs(secret_data(f, ns, secret)["tls.crt"])


def test_issuers_ready_conditions(env):
    ss = env.get(CM, "clusterissuers", None, "selfsigned")
    assert {k: condition(ss, "Ready")[k] for k in ("status", "reason", "message")} == \
        {"status": "True", "reason": "IsReady", "message": ""}
    ca = env.get(CM, "clusterissuers", None, "ca-issuer")
    assert {k: condition(ca, "Ready")[k] for k in ("status", "reason", "message")} == \
        {"status": "True", "reason": "KeyPairVerified", "message": "Signing CA verified"}


def test_ca_issuer_errors_and_secret_driven_readiness(env):
    env.client_create(issuer("later", {"ca": {"secretName": "later-secret"}}))
    env.advance(0.5)
    c = condition(env.get(CM, "clusterissuers", None, "later"), "Ready")
    assert (c["status"], c["reason"]) == ("False", "ErrGetKeyPair")
    assert c["message"] == 'Error getting keypair for CA issuer: secret "later-secret" not found'
    # a non-CA certificate in the right namespace
    env.client_create(certificate("leafy", "cert-manager", "selfsigned", secretName="later-secret", commonName="leafy",
                                  privateKey={"algorithm": "ECDSA"}))
    wait_issued(env, "cert-manager", "leafy")
    env.advance(0.5)
    c = condition(env.get(CM, "clusterissuers", None, "later"), "Ready")
    assert (c["status"], c["reason"], c["message"]) == (
        "False", "ErrInvalidKeyPair", "Error getting keypair for CA issuer: certificate is not a CA")
    # a namespaced Issuer reads its own namespace, so the cert-manager Secret does not count
    env.client_create(issuer("local", {"ca": {"secretName": "root-secret"}}, namespace="istio-system"))
    env.advance(0.5)
    c = condition(env.get(CM, "issuers", "istio-system", "local"), "Ready")
    assert c["reason"] == "ErrGetKeyPair"


def test_tutorial_intermediate_contents(env):
    before = env.now().replace(microsecond=0)
    env.client_create(certificate(
        "cacerts", "istio-system", "ca-issuer", isCA=True, commonName="Intermediate CA", duration="1440h",
        renewBefore="360h", dnsNames=["istiod.istio-system.svc"],
        subject={"organizations": ["Istio"], "localities": ["cluster-1"], "organizationalUnits": ["mesh"]},
        usages=["digital signature", "key encipherment", "cert sign"], privateKey={"algorithm": "RSA", "size": 2048}))
    env.advance(0.05)
    assert condition(get_cert(env, "istio-system", "cacerts"), "Ready") is None or \
        condition(get_cert(env, "istio-system", "cacerts"), "Ready")["status"] == "False"  # not done in-request
    crt = wait_issued(env, "istio-system", "cacerts")
    data = secret_data(env, "istio-system", "cacerts")
    chain = pki.load_certs(data["tls.crt"])
    root = pki.load_certs(data["ca.crt"])
    assert len(chain) == 1 and len(root) == 1  # the self-signed root is not in tls.crt
    leaf = chain[0]
    assert pki.go_name_string(leaf.subject) == "CN=Intermediate CA,OU=mesh,O=Istio,L=cluster-1"
    assert leaf.issuer == root[0].subject and pki.check_signature_from(leaf, root[0])
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.digital_signature and ku.value.key_encipherment
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == ["istiod.istio-system.svc"]
    assert pki.not_after(leaf) - pki.not_before(leaf) == dt.timedelta(hours=1440)
    assert before <= pki.not_before(leaf) <= env.now()  # NotBefore = simulated now, no backdating
    key = pki.parse_private_key(data["tls.key"])
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert data["tls.key"].startswith(b"-----BEGIN RSA PRIVATE KEY-----")  # PKCS1 default
    st = crt["status"]
    assert st["notBefore"] == pki.not_before(leaf).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert st["renewalTime"] == (pki.not_after(leaf) - dt.timedelta(hours=360)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ready = condition(crt, "Ready")
    assert (ready["reason"], ready["message"], ready["observedGeneration"]) == (
        "Ready", "Certificate is up to date and has not expired", 1)
    assert "nextPrivateKeySecretName" not in st


def test_secret_shape(env):
    sec = env.get("v1", "secrets", "istio-system", "cacerts")
    assert sec["type"] == "kubernetes.io/tls"
    assert sec["metadata"]["labels"] == {"controller.cert-manager.io/fao": "true"}
    ann = sec["metadata"]["annotations"]
    assert ann == {
        "cert-manager.io/certificate-name": "cacerts", "cert-manager.io/issuer-name": "ca-issuer",
        "cert-manager.io/issuer-kind": "ClusterIssuer", "cert-manager.io/issuer-group": "cert-manager.io",
        "cert-manager.io/common-name": "Intermediate CA", "cert-manager.io/alt-names": "istiod.istio-system.svc",
        "cert-manager.io/ip-sans": "", "cert-manager.io/uri-sans": "",
        "cert-manager.io/subject-organizations": "Istio", "cert-manager.io/subject-organizationalunits": "mesh",
        "cert-manager.io/subject-localities": "cluster-1"}
    assert set(sec["data"]) == {"tls.crt", "tls.key", "ca.crt"}


def test_self_signed_secret_has_ca_equal_to_tls(env):
    data = secret_data(env, "cert-manager", "root-secret")
    assert data["ca.crt"] == data["tls.crt"]
    root = pki.load_certs(data["tls.crt"])[0]
    assert pki.is_self_signed(root) and pki.go_name_string(root.subject) == "CN=Root CA,O=Istio"
    assert isinstance(pki.parse_private_key(data["tls.key"]), ec.EllipticCurvePrivateKey)
    assert data["tls.key"].startswith(b"-----BEGIN EC PRIVATE KEY-----")


def test_certificate_request_shape(env):
    cr = env.get(CM, "certificaterequests", "istio-system", "cacerts-1")
    ann = cr["metadata"]["annotations"]
    assert ann["cert-manager.io/certificate-name"] == "cacerts"
    assert ann["cert-manager.io/certificate-revision"] == "1"
    assert ann["cert-manager.io/private-key-secret-name"].startswith("cacerts-")
    assert cr["spec"]["duration"] == "1440h0m0s" and cr["spec"]["isCA"] is True
    assert cr["spec"]["usages"] == ["digital signature", "key encipherment", "cert sign"]
    assert cr["spec"]["issuerRef"] == {"name": "ca-issuer", "kind": "ClusterIssuer", "group": "cert-manager.io"}
    csr = x509.load_pem_x509_csr(base64.b64decode(cr["spec"]["request"]))
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Intermediate CA"
    owner = cr["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Certificate", "cacerts", True)
    approved, ready = condition(cr, "Approved"), condition(cr, "Ready")
    assert (approved["reason"], approved["message"]) == ("cert-manager.io",
                                                         "Certificate request has been approved by cert-manager.io")
    assert (ready["reason"], ready["message"]) == ("Issued", "Certificate fetched from issuer successfully")
    # the temporary private key Secret is gone once issued
    assert env.list("v1", "secrets", "istio-system", label_selector="cert-manager.io/next-private-key=true") == []


def test_usages_map_to_key_usage_and_eku_and_pkcs8(env):
    env.client_create(certificate(
        "leaf", "istio-system", "ca-issuer", commonName="leaf.example", dnsNames=["leaf.example"],
        ipAddresses=["10.1.2.3"], usages=["server auth", "client auth", "digital signature"],
        privateKey={"algorithm": "ECDSA", "size": 384, "encoding": "PKCS8"}))
    wait_issued(env, "istio-system", "leaf")
    data = secret_data(env, "istio-system", "leaf")
    leaf = pki.load_certs(data["tls.crt"])[0]
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_cert_sign and not ku.key_encipherment
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert pki.not_after(leaf) - pki.not_before(leaf) == dt.timedelta(hours=2160)  # default 90d
    key = pki.parse_private_key(data["tls.key"])
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size == 384
    assert data["tls.key"].startswith(b"-----BEGIN PRIVATE KEY-----")
    crt = get_cert(env, "istio-system", "leaf")
    # default renewal: 2/3 of the lifetime
    assert crt["status"]["renewalTime"] == (pki.not_before(leaf) + dt.timedelta(hours=1440)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    ann = env.get("v1", "secrets", "istio-system", "leaf")["metadata"]["annotations"]
    assert ann["cert-manager.io/ip-sans"] == "10.1.2.3"


def test_renewal_time_percentage():
    from kubesim.controllers.certmanager.policies import renewal_time
    nb = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    na = nb + dt.timedelta(hours=100)
    assert renewal_time(nb, na, {"renewBeforePercentage": 25}, (1, 19, 0)) == na - dt.timedelta(hours=25)
    # renewBefore >= actual lifetime is ignored and falls back to 1/3
    assert renewal_time(nb, na, {"renewBefore": "200h"}, (1, 19, 0)) == na - dt.timedelta(seconds=100 * 3600 // 3)
    assert renewal_time(nb, na, {"renewal": {"policy": "Disabled"}}, (1, 21, 0)) is None


def test_revision_history_default_by_version():
    for version, expect in (("v1.17.4", ["c-1", "c-2"]), ("v1.19.1", ["c-2"])):
        f = new_fake(version, istio=False)
        f.client_create(issuer("ss", {"selfSigned": {}}))
        f.client_create(certificate("c", "default", "ss", commonName="c", privateKey={"algorithm": "ECDSA"}))
        wait_issued(f, "default", "c")
        crt = get_cert(f, "default", "c")
        crt["status"]["conditions"].append({"type": "Issuing", "status": "True", "reason": "ManuallyTriggered",
                                            "message": "Certificate re-issuance manually triggered",
                                            "lastTransitionTime": "2026-01-01T00:00:00Z"})
        f.client_update_status(crt)
        wait_issued(f, "default", "c", revision=2)
        f.advance(0.5)
        assert sorted(r["metadata"]["name"] for r in f.list(CM, "certificaterequests", "default")) == expect
        assert CertManagerSim.of(f).errors == []


def test_nothing_happens_while_the_controller_is_unavailable():
    f = new_fake("v1.19.1", istio=False, controller_available=False)
    f.client_create(issuer("ss", {"selfSigned": {}}))
    f.client_create(certificate("c", "default", "ss", commonName="c", privateKey={"algorithm": "ECDSA"}))
    f.advance(3)
    assert get_cert(f, "default", "c").get("status") in (None, {})
    from kubesim.tests_support_fakecluster import set_deployment_available
    set_deployment_available(f, "cert-manager", "cert-manager", True)
    wait_issued(f, "default", "c")


def test_secret_annotation_lists_are_csv_escaped_and_issuer_kind_defaults(env):
    """AnnotationsForCertificate writes every list with JoinWithEscapeCSV; issuer-kind is IssuerKind(ref)
    (Issuer when unset) and issuer-group the raw group (empty when unset)."""
    ensure_namespace(env, "csv")
    env.client_create(issuer("ss-csv", {"selfSigned": {}}, namespace="csv"))
    body = certificate("csv", "csv", "ss-csv", commonName="csv", dnsNames=["a.example", "b.example"],
                       subject={"organizations": ["Acme, Inc.", 'Say "hi"', " lead", "Plain"]},
                       privateKey={"algorithm": "ECDSA"})
    body["spec"]["issuerRef"] = {"name": "ss-csv"}  # kind and group left to their defaults
    env.client_create(body)
    wait_issued(env, "csv", "csv")
    ann = env.get("v1", "secrets", "csv", "csv")["metadata"]["annotations"]
    # The order is the issued certificate's: Go puts the values in one DER SET, sorted by encoding.
    assert ann["cert-manager.io/subject-organizations"] == '" lead",Plain,"Say ""hi""","Acme, Inc."'
    assert ann["cert-manager.io/alt-names"] == "a.example,b.example"
    assert ann["cert-manager.io/issuer-kind"] == "Issuer" and ann["cert-manager.io/issuer-group"] == ""
