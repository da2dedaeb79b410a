"""key_exposure: Secrets holding a wanted CA's private key, found by public key in any data value."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.key_exposure import (
    check, find_exposures, normalize_fingerprint)
from unit.x509_factory import key


def fp(private_key):
    spki = private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def pem(private_key, fmt=serialization.PrivateFormat.PKCS8):
    return private_key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def secret(ns, name, **data):
    return {"metadata": {"namespace": ns, "name": name},
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}


def test_a_copied_key_is_found_under_any_name_and_format():
    root = key("ec256", 40)
    other = key("ec256", 41)
    secrets = [
        secret("cert-manager", "meshpki-istio-root-ca", **{"tls.key": pem(root), "tls.crt": b"not a key"}),
        secret("apps", "backup", **{"bundle.pem": b"junk\n" + pem(other) + pem(root, serialization.PrivateFormat.TraditionalOpenSSL)}),
        secret("istio-system", "cacerts", **{"tls.key": pem(other)}),
    ]
    wanted = {normalize_fingerprint(fp(root)): "fleet root"}
    exposures, found = find_exposures(secrets, wanted)
    assert found == 4
    assert [(e["namespace"], e["name"], e["data_key"], e["matches"]) for e in exposures] == [
        ("cert-manager", "meshpki-istio-root-ca", "tls.key", "fleet root"),
        ("apps", "backup", "bundle.pem", "fleet root")]
    assert "PRIVATE" not in repr(exposures)


def test_check_lists_every_namespace_and_reports_ok():
    root = key("ec256", 40)

    class Api:
        paths = []

        def get(self, path):
            self.paths.append(path)
            return {"items": [secret("istio-system", "cacerts", **{"tls.key": pem(key("ec256", 42))})]}

    api = Api()
    result = check({"public_keys": [{"name": "fleet root", "sha256": fp(root).upper()}], "namespaces": []},
                   lambda: api)
    assert result == {"changed": False, "exposed": [], "ok": True, "secrets_checked": 1, "private_keys_found": 1}
    assert api.paths == ["/api/v1/secrets"]


def test_a_bad_fingerprint_is_refused():
    with pytest.raises(CollectionError, match="not a SHA-256 fingerprint"):
        normalize_fingerprint("ab:cd")
