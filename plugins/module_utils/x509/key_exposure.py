# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Which Secrets hold the private half of a CA we care about (the fleet root, another cluster's issuing CA).

Why by public key and not by Secret name: a copied key is the exposure, wherever it was copied to
and whatever the Secret is called (a leftover ``ca_keypair`` Secret, a backup, a hand-made Secret in an
application namespace). Every PEM private key in every value of every Secret the caller can list is
parsed and its SubjectPublicKeyInfo hashed (SHA-256, colon hex: x509_inspect's
``public_key_fingerprints.sha256``); a match names the Secret and the data key. Read-only; the keys
found are never returned, only where they are and which wanted key they match.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import re

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import colon_hex, spki_der

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - reported by the module as a missing library
    serialization = None

_PEM_KEY = re.compile(br"-----BEGIN ((?:[A-Z]+ )?PRIVATE KEY)-----\r?\n.*?-----END \1-----", re.S)


def normalize_fingerprint(text):
    """``AB:cd:..`` or ``abcd..`` → lowercase colon hex, so fingerprints from any tool compare equal."""
    hexdigits = re.sub(r"[^0-9a-fA-F]", "", str(text or "")).lower()
    if len(hexdigits) != 64:
        raise CollectionError("public key fingerprint %r is not a SHA-256 fingerprint (64 hex digits)" % text)
    return ":".join(hexdigits[i:i + 2] for i in range(0, 64, 2))


def private_key_fingerprints(value):
    """SHA-256 SPKI fingerprints of every parseable unencrypted PEM private key in ``value`` (bytes)."""
    out = []
    for match in _PEM_KEY.finditer(value or b""):
        try:
            key = serialization.load_pem_private_key(match.group(0), password=None)
        except (ValueError, TypeError):
            continue
        except Exception:  # noqa: BLE001 - unsupported key kinds cannot match a CA of ours
            continue
        out.append(colon_hex(hashlib.sha256(spki_der(key.public_key())).digest()))
    return out


def find_exposures(secrets, wanted):
    """(exposures, keys_found): ``wanted`` maps fingerprint → label; each exposure names Secret, key, label."""
    exposures, keys_found = [], 0
    for secret in secrets:
        md = secret.get("metadata") or {}
        for data_key, value in sorted((secret.get("data") or {}).items()):
            try:
                raw = base64.b64decode(value or "")
            except (TypeError, ValueError):
                continue
            for fp in private_key_fingerprints(raw):
                keys_found += 1
                if fp in wanted:
                    exposures.append({"namespace": md.get("namespace"), "name": md.get("name"),
                                      "data_key": data_key, "matches": wanted[fp], "public_key_sha256": fp})
    return exposures, keys_found


def check(params, client_factory):
    """The module's result: every Secret of the listed namespaces (all when none) judged."""
    wanted = {}
    for entry in params["public_keys"]:
        wanted[normalize_fingerprint(entry["sha256"])] = entry["name"]
    client = client_factory()
    secrets = []
    for ns in params["namespaces"] or [None]:
        path = "/api/v1/namespaces/%s/secrets" % ns if ns else "/api/v1/secrets"
        secrets.extend(client.get(path).get("items") or [])
    exposures, keys_found = find_exposures(secrets, wanted)
    return {"changed": False, "exposed": exposures, "ok": not exposures, "secrets_checked": len(secrets),
            "private_keys_found": keys_found}
