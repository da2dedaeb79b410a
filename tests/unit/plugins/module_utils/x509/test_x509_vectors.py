"""Real-world certificates from the cryptography-vectors package, checked against what openssl prints.

Nothing here is hard-coded: for each vector the test runs ``openssl x509`` and parses its output
(-subject/-issuer with RFC 2253 names, -serial, -dates, -fingerprint, -ext, -text), then compares
it with x509_inspect's facts for the same certificate.
"""

import datetime
import os
import re
import shutil
import subprocess

import cryptography_vectors
import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import certificate_info
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_certificates
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.inspect_backend import inspect

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl is not on PATH")
NOW = datetime.datetime.now(datetime.timezone.utc)

VECTORS = [
    "x509/rapidssl_sha256_ca_g3.pem",
    "x509/letsencryptx3.pem",
    "x509/wildcard_san.pem",
    "x509/ecdsa_root.pem",
    "x509/v1_cert.pem",
    "x509/ed25519/root-ed25519.pem",
    "x509/custom/all_key_usages.pem",
    "x509/custom/extended_key_usage.pem",
    "x509/cryptography.io.chain.pem",            # two certificates
    "x509/cryptography.io.old_header.pem",      # "BEGIN X509 CERTIFICATE"
    "x509/PKITS_data/certs/GoodCACert.crt",     # DER
    "x509/PKITS_data/certs/ValidCertificatePathTest1EE.crt",  # DER
]


def vector_bytes(name):
    with cryptography_vectors.open_vector_file(name, "rb") as handle:
        return handle.read()


def openssl(args, data):
    out = subprocess.run([OPENSSL, "x509", "-noout"] + args, input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8", "replace")


def openssl_facts(pem_bytes):
    """Parse openssl's view of one PEM certificate."""
    head = openssl(["-subject", "-issuer", "-serial", "-dates", "-fingerprint", "-sha256",
                    "-nameopt", "RFC2253,-esc_msb"], pem_bytes)
    facts = dict(line.split("=", 1) for line in head.splitlines() if "=" in line)
    facts["fingerprint"] = next(v for k, v in facts.items() if k.endswith("Fingerprint"))
    ext = openssl(["-ext", "subjectAltName,keyUsage,extendedKeyUsage"], pem_bytes)
    sections, current = {}, None
    for line in ext.splitlines():
        if line.startswith("X509v3 "):
            current = line[len("X509v3 "):].split(":")[0]
            sections[current] = []
        elif current and line.strip():
            sections[current].extend(part.strip() for part in line.split(", "))
    facts["ext"] = sections
    text = openssl(["-text"], pem_bytes)
    # The last "Signature Algorithm:" line is the outer one, which is what the signature uses.
    facts["signature_algorithm"] = re.findall(r"Signature Algorithm: (\S+)", text)[-1]
    bits = re.search(r"Public-Key: \((\d+) bit\)", text)
    facts["bits"] = int(bits.group(1)) if bits else None
    return facts


def openssl_time(text):
    when = datetime.datetime.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y GMT")
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def san_as_openssl(value):
    return value.replace("IP:", "IP Address:", 1) if value.startswith("IP:") else value


@pytest.mark.parametrize("name", VECTORS)
def test_vector_matches_openssl(name):
    data = vector_bytes(name)
    certs = load_certificates(data, name, der_allowed=True)
    assert certs, name
    if name.endswith("chain.pem"):
        assert len(certs) == 2 == data.count(b"-----BEGIN CERTIFICATE-----")
    for index, cert in enumerate(certs):
        info = certificate_info(cert, NOW, index=index)
        pem_bytes = cert.public_bytes(serialization.Encoding.PEM)
        want = openssl_facts(pem_bytes)
        assert info["subject"] == want["subject"]
        assert info["issuer"] == want["issuer"]
        assert info["serial_number"] == int(want["serial"], 16)
        assert info["serial_hex"] == want["serial"].lower().lstrip("0") or info["serial_number"] == 0
        assert info["not_before"] == openssl_time(want["notBefore"])
        assert info["not_after"] == openssl_time(want["notAfter"])
        assert info["fingerprint_sha256"] == want["fingerprint"].lower()
        assert info["signature_algorithm"] == want["signature_algorithm"]
        if want["bits"] is not None:
            assert info["public_key_size"] == want["bits"]
        assert [san_as_openssl(v) for v in info["subject_alt_names"]] == \
            want["ext"].get("Subject Alternative Name", [])
        assert info["key_usage"] == (sorted(want["ext"]["Key Usage"]) if "Key Usage" in want["ext"] else None)
        assert info["extended_key_usage"] == (sorted(want["ext"]["Extended Key Usage"])
                                              if "Extended Key Usage" in want["ext"] else None)


def test_der_vector_read_from_a_file_path_too():
    """The DER vector gives the same certificate whether read as DER or converted to PEM by openssl."""
    name = "x509/PKITS_data/certs/GoodCACert.crt"
    data = vector_bytes(name)
    pem = subprocess.run([OPENSSL, "x509", "-inform", "DER", "-outform", "PEM"], input=data,
                         capture_output=True, check=True).stdout
    assert load_certificates(data, name, der_allowed=True)[0] == load_certificates(pem, "pem")[0]


def test_vectors_dir_is_the_package():
    assert os.path.isdir(os.path.join(os.path.dirname(cryptography_vectors.__file__), "x509"))


@pytest.mark.parametrize("name", ["x509/cryptography.io.chain_with_garbage.pem",
                                  "x509/cryptography.io.with_headers.pem"])
def test_vectors_that_carry_a_private_key_are_refused_without_echo(name):
    data = vector_bytes(name)
    with pytest.raises(Exception) as err:
        load_certificates(data, name)
    msg = str(err.value)
    assert "holds a private key, not a certificate" in msg
    key_text = data[data.index(b"PRIVATE KEY-----"):].decode()
    body = [line for line in key_text.splitlines()[1:] if line and not line.startswith("-----")]
    assert body and not any(line in msg for line in body)


# ---------------------------------------------------------------------------------------------
# Every PEM certificate of the package that openssl reads (issue 14 item 8): x509_inspect must
# return its readable facts and list the rest in ``problems``, never raise.

VECTORS_DIR = os.path.join(os.path.dirname(cryptography_vectors.__file__), "x509")
PEM_BLOCK = re.compile(rb"-----BEGIN (?:X509 )?CERTIFICATE-----.*?-----END (?:X509 )?CERTIFICATE-----", re.S)


def _pem_vector_files():
    found = []
    for folder, _dirs, files in os.walk(VECTORS_DIR):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                data = handle.read()
            # Files that also hold a private key are refused on purpose (see the test above).
            if PEM_BLOCK.search(data) and b"PRIVATE KEY-----" not in data:
                found.append(os.path.relpath(path, VECTORS_DIR))
    return sorted(found)


PEM_FILES = _pem_vector_files()


def openssl_basics(pem):
    """openssl's serial, notAfter and CA flag(s) of one PEM certificate; None when openssl cannot read it."""
    out = subprocess.run([OPENSSL, "x509", "-noout", "-serial", "-enddate", "-ext", "basicConstraints"],
                         input=pem, capture_output=True, check=False)
    if out.returncode != 0:
        return None
    text = out.stdout.decode("utf-8", "replace")
    serial = re.search(r"^serial=(-?[0-9A-Fa-f]*)$", text, re.M).group(1)
    not_after = re.search(r"^notAfter=(.*)$", text, re.M).group(1)
    flags = re.findall(r"^\s+CA:(TRUE|FALSE)", text, re.M)
    return {"serial": int(serial, 16) if serial not in ("", "-") else 0, "not_after": not_after,
            "ca": set(f == "TRUE" for f in flags)}


def test_the_walk_covers_the_package():
    """The walk really reaches the malformed vectors the issue names, so a skip cannot hide them."""
    names = set(PEM_FILES)
    assert len(PEM_FILES) > 100
    for name in ("custom/malformed-san.pem", "custom/malformed-ian.pem", "custom/empty-eku.pem",
                 "custom/cp_invalid.pem", "custom/two_basic_constraints.pem",
                 "custom/unsupported_subject_public_key_info.pem", "custom/nc_invalid_ip_netmask.pem",
                 "wosign-bc-invalid.pem"):
        assert name in names


@pytest.mark.parametrize("name", PEM_FILES)
def test_every_pem_vector_openssl_reads_gets_its_facts(name):
    path = os.path.join(VECTORS_DIR, name)
    with open(path, "rb") as handle:
        blocks = PEM_BLOCK.findall(handle.read())
    wants = [openssl_basics(block) for block in blocks]
    if not any(wants):
        pytest.skip("openssl cannot read any certificate of %s" % name)
    result = inspect({"path": path, "istio_signing_ca": True}, now=NOW)  # must not raise
    assert len(result["certificates"]) == len(blocks)
    for info, want in zip(result["certificates"], wants):
        if want is None:
            continue
        assert info["serial_number"] == want["serial"], name
        if want["not_after"] != "Bad time value":
            assert info["not_after"] == openssl_time(want["not_after"]), name
        else:
            assert info["not_after"] is None and info["problems"], name
        if len(want["ca"]) == 1:
            assert info["is_ca"] is next(iter(want["ca"])), name
        elif not want["ca"]:
            assert info["is_ca"] in (False, None), name
        assert re.match(r"^([0-9a-f]{2}:){31}[0-9a-f]{2}$", info["fingerprint_sha256"]), name
        assert info["subject"] is not None and info["issuer"] is not None
    if any(info["problems"] for info in result["certificates"]):
        assert result["istio_ready"] is False


@pytest.mark.parametrize("name,part", [
    ("custom/malformed-san.pem", "subjectAltName"),
    ("custom/malformed-ian.pem", "issuerAltName"),
    ("custom/empty-eku.pem", "extendedKeyUsage"),
    ("custom/cp_invalid.pem", "certificatePolicies"),
    ("custom/two_basic_constraints.pem", "2 basicConstraints extensions"),
    ("custom/unsupported_subject_public_key_info.pem", "public key (algorithm 1.3.6.1.4.1.8432.1.1.2)"),
    ("custom/nc_invalid_ip_netmask.pem", "nameConstraints"),
    ("wosign-bc-invalid.pem", "basicConstraints"),
    ("custom/invalid_version.pem", "version"),
])
def test_named_malformed_vectors_list_the_unreadable_part(name, part):
    result = inspect({"path": os.path.join(VECTORS_DIR, name), "istio_signing_ca": True}, now=NOW)
    problems = result["certificates"][0]["problems"]
    assert any(part in p for p in problems), problems
    assert result["istio_ready"] is False
    assert any("cannot be read in full" in p and part in p for p in result["istio_problems"])


def test_ca_false_with_pathlen_is_still_known_as_not_a_ca():
    """wosign-bc-invalid.pem: CA:FALSE with a pathlen, which cryptography refuses; the CA flag is unambiguous."""
    result = inspect({"path": os.path.join(VECTORS_DIR, "wosign-bc-invalid.pem")}, now=NOW)
    info = result["certificates"][0]
    assert info["is_ca"] is False
    assert info["basic_constraints"] == ["CA:FALSE", "pathlen:0"]
