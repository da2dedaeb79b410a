"""Per-certificate facts on certificates generated here, checked against cryptography's own view."""

import datetime
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import certificate_info
from unit.x509_factory import CLIENT_AUTH, DAY, NOW, SERVER_AUTH, key, make, mesh


@pytest.mark.parametrize("kind, ptype, size, curve, sig", [
    ("rsa2048", "RSA", 2048, None, "sha256WithRSAEncryption"),
    ("ec256", "ECC", 256, "secp256r1", "ecdsa-with-SHA256"),
    ("ec384", "ECC", 384, "secp384r1", "ecdsa-with-SHA256"),
    ("ed25519", "Ed25519", 256, None, "ED25519"),
])
def test_key_types_and_signature(kind, ptype, size, curve, sig):
    issued = make("self", key(kind, 0))
    info = certificate_info(issued.cert, NOW)
    assert (info["public_key_type"], info["public_key_size"], info["public_key_curve"]) == (ptype, size, curve)
    assert info["signature_algorithm"] == sig
    assert info["self_signed"] is True
    spki = issued.cert.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    want = hashlib.sha256(spki).hexdigest()
    assert info["public_key_fingerprints"]["sha256"].replace(":", "") == want
    assert info["public_key"].startswith("-----BEGIN PUBLIC KEY-----")


def test_intermediate_facts():
    root, inter = mesh()
    info = certificate_info(inter.cert, NOW, index=0, source="tls.crt")
    assert info["subject"] == "CN=Intermediate CA,L=cluster-1,O=meshpki-test"
    assert info["issuer"] == "CN=Root CA,O=meshpki-test"
    assert info["subject_ordered"] == [["organizationName", "meshpki-test"], ["localityName", "cluster-1"],
                                       ["commonName", "Intermediate CA"]]
    assert info["serial_number"] == inter.cert.serial_number
    assert info["serial_hex"] == format(inter.cert.serial_number, "x")
    assert info["serial_hex"] == info["serial_hex"].lower() and ":" not in info["serial_hex"]
    assert info["is_ca"] is True and info["path_length"] == 0
    assert info["basic_constraints"] == ["CA:TRUE", "pathlen:0"] and info["basic_constraints_critical"]
    assert info["key_usage"] == ["CRL Sign", "Certificate Sign", "Digital Signature"]
    assert info["key_usage_critical"] is True
    assert info["extended_key_usage"] is None and info["extended_key_usage_critical"] is False
    assert info["subject_alt_names"] == ["DNS:istiod.istio-system.svc"]
    assert info["subject_key_identifier"] is not None
    assert info["authority_key_identifier"] == certificate_info(root.cert, NOW)["subject_key_identifier"]
    assert info["self_signed"] is False
    assert info["version"] == 3
    assert info["fingerprint_sha256"].replace(":", "") == hashlib.sha256(inter.der).hexdigest()
    assert info["fingerprints"]["sha1"].replace(":", "") == hashlib.sha1(inter.der).hexdigest()
    assert info["not_before"] == (NOW - DAY).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert info["not_after"].endswith("Z")
    assert "2.5.29.19" in info["extensions_by_oid"] and info["extensions_by_oid"]["2.5.29.19"]["critical"]
    assert info["source"] == "tls.crt" and info["index"] == 0


def test_leaf_with_ekus_and_spiffe_san():
    inter = mesh()[1]
    leaf = make("w", key("ec256", 3), issuer=inter, ca=False, eku=[SERVER_AUTH, CLIENT_AUTH],
                sans=("spiffe://cluster.local/ns/default/sa/web", "web.default.svc"))
    info = certificate_info(leaf.cert, NOW)
    assert info["is_ca"] is False and info["path_length"] is None
    assert info["basic_constraints"] == ["CA:FALSE"]
    assert info["extended_key_usage"] == ["TLS Web Client Authentication", "TLS Web Server Authentication"]
    assert info["subject_alt_names"] == ["URI:spiffe://cluster.local/ns/default/sa/web", "DNS:web.default.svc"]


def test_times_expired_not_yet_valid_and_valid_at():
    expired = make("old", not_before=NOW - 30 * DAY, not_after=NOW - DAY)
    future = make("new", not_before=NOW + DAY, not_after=NOW + 30 * DAY)
    marks = {"now": NOW, "in_two_days": NOW + 2 * DAY, "last_week": NOW - 7 * DAY}
    old = certificate_info(expired.cert, NOW, marks)
    new = certificate_info(future.cert, NOW, marks)
    assert old["expired"] is True and old["not_yet_valid"] is False
    assert old["seconds_remaining"] == -86400
    assert new["expired"] is False and new["not_yet_valid"] is True
    assert new["seconds_remaining"] == 30 * 86400
    assert old["valid_at"] == {"now": False, "in_two_days": False, "last_week": True}
    assert new["valid_at"] == {"now": False, "in_two_days": True, "last_week": False}


def test_no_basic_constraints_means_not_a_ca():
    cert = make("bare", basic_constraints=False, key_usage=None)
    info = certificate_info(cert.cert, NOW)
    assert info["is_ca"] is False and info["basic_constraints"] is None and info["key_usage"] is None
    assert info["path_length"] is None


def test_big_serial_hex_has_no_padding():
    issued = make("s", serial=0x0ABC)
    info = certificate_info(issued.cert, datetime.datetime.now(datetime.timezone.utc))
    assert info["serial_hex"] == "abc" and info["serial_number"] == 2748


def _name(*pairs):
    from cryptography import x509
    return x509.Name([x509.NameAttribute(x509.ObjectIdentifier(oid), value) for oid, value in pairs])


@pytest.mark.parametrize("pairs, want", [
    # istiod's log form of an intermediate issued with O, L, CN in that order.
    ((("2.5.4.10", "Istio"), ("2.5.4.7", "cluster1"), ("2.5.4.3", "Intermediate CA")),
     "CN=Intermediate CA,O=Istio,L=cluster1"),
    # The expected strings below are those of Go's TestPKIXNameString (golang/go src/crypto/x509/x509_test.go).
    ((("2.5.4.6", "GB"), ("2.5.4.8", "Surrey"), ("2.5.4.7", "Richmond"), ("2.5.4.9", "The Square"),
      ("2.5.4.17", "TW9 1DT"), ("2.5.4.10", "Isode Limited"), ("2.5.4.11", "RFCs"), ("2.5.4.3", "Steve Kille"),
      ("2.5.4.5", "RFC 2253")),
     "SERIALNUMBER=RFC 2253,CN=Steve Kille,OU=RFCs,O=Isode Limited,POSTALCODE=TW9 1DT,STREET=The Square,"
     "L=Richmond,ST=Surrey,C=GB"),
    ((("2.5.4.10", "#Google, Inc. \n-> 'Alphabet\" "), ("2.5.4.6", "US")),
     "O=\\#Google\\, Inc. \n-\\> 'Alphabet\\\"\\ ,C=US"),
    ((("2.5.4.7", "Gophertown"), ("1.2.3.4.5", "golang.org")), "L=Gophertown,1.2.3.4.5=#130a676f6c616e672e6f7267"),
    # Go prints emailAddress by OID, with asn1.Marshal's UTF8String for a string that is not printable ('@').
    ((("2.5.4.3", "Root CA"), ("1.2.840.113549.1.9.1", "ca@example.com")),
     "CN=Root CA,1.2.840.113549.1.9.1=#0c0e6361406578616d706c652e636f6d"),
    # Two OUs are one multi-valued RDN in Go's ToRDNSequence.
    ((("2.5.4.11", "a"), ("2.5.4.3", "x"), ("2.5.4.11", "b")), "CN=x,OU=a+OU=b"),
])
def test_go_name_matches_pkix_name_string(pairs, want):
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import go_name
    assert go_name(_name(*pairs)) == want


def test_subject_go_differs_from_rfc4514_where_go_reorders():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Istio"),
                         x509.NameAttribute(NameOID.LOCALITY_NAME, "cluster1"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Intermediate CA")])
    private = key("ec256", 1)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(private.public_key()).serial_number(7)
            .not_valid_before(NOW - DAY).not_valid_after(NOW + DAY)
            .sign(private, hashes.SHA256()))
    info = certificate_info(cert, NOW)
    assert info["subject"] == "CN=Intermediate CA,L=cluster1,O=Istio"   # RFC 4514: certificate order reversed
    assert info["subject_go"] == "CN=Intermediate CA,O=Istio,L=cluster1"  # what istiod logs
    assert info["issuer_go"] == info["subject_go"]
