# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Where x509_inspect's certificates come from: a file, PEM text, or a Kubernetes Secret.

A Secret is read the way istiod reads its ``cacerts`` mount (istio pilot/pkg/bootstrap/istio_ca.go
detectSigningCABundleAndCRL):
``tls.crt`` present means the kubernetes.io/tls layout (tls.crt, tls.key, ca.crt); else
Istio's own names (ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem). The key is
parsed only to compare its public half; it is never returned.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import errno

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # noqa

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.chain import same_cert
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import X509Error
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import is_self_signed
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import load_certificates, load_private_key

TLS_KEYS = {"cert": "tls.crt", "key": "tls.key", "root": "ca.crt"}
ISTIO_KEYS = {"cert": "ca-cert.pem", "key": "ca-key.pem", "root": "root-cert.pem", "chain": "cert-chain.pem"}
CRL_KEY = "ca-crl.pem"  # ca.CACRLFile (istio security/pkg/pki/ca/ca.go)


class Material(object):
    """Certificates to inspect: ``certs`` (leaf or signing cert first), ``roots`` (ca.crt) and the key."""

    def __init__(self, kind, certs, cert_sources, label):
        self.kind = kind                # "path", "content" or "secret"
        self.certs = certs
        self.cert_sources = cert_sources
        self.label = label              # how messages name the certificate input
        self.roots = None
        self.root_label = None
        self.key = None
        self.key_label = None
        self.chain_pool = list(certs)   # what istiod would put in its Intermediates pool
        self.names = {"cert": label, "key": "the private key", "root": "the last certificate"}
        self.missing = []               # istiod-relevant Secret keys that are absent, as sentences
        self.layout = "bundle"
        self.secret = None              # facts about the Secret (never its data)
        self.crl = None                 # bytes of ca-crl.pem / crl_content (None when not given)
        self.crl_label = None

    def bundle_roots(self):
        """Path/content mode: the trailing self-signed certificate is the root."""
        if self.certs and is_self_signed(self.certs[-1]):
            return [self.certs[-1]]
        return []


def read_file(path, what):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            raise X509Error("%s %s does not exist" % (what, path))
        if exc.errno == errno.EISDIR:
            raise X509Error("%s %s is a directory, not a file" % (what, path))
        if exc.errno == errno.EACCES:
            raise X509Error("%s %s cannot be read: permission denied" % (what, path))
        raise X509Error("%s %s cannot be read: %s" % (what, path, exc.strerror or exc))


def from_params(params, client_factory=None):
    """Build the Material for exactly one of path, content or secret (the argspec enforces one)."""
    if params.get("secret"):
        if params.get("crl_content") is not None:
            raise X509Error("crl_content is for path and content; with secret the CRL is the Secret's %s key, "
                            "as istiod reads it" % CRL_KEY)
        return from_secret(client_factory(), params["secret"])
    if params.get("path"):
        path = params["path"]
        label = "file %s" % path
        certs = load_certificates(read_file(path, "The file"), label, der_allowed=True)
        material = Material("path", certs, [path] * len(certs), label)
    else:
        certs = load_certificates(params.get("content") or "", "content")
        material = Material("content", certs, ["content"] * len(certs), "content")
    _attach_key(material, params)
    _attach_crl(material, params)
    return material


def _attach_crl(material, params):
    if params.get("crl_content") is not None:
        text = params["crl_content"]
        material.crl = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
        material.crl_label = "crl_content"


def _attach_key(material, params):
    if params.get("private_key_path"):
        label = "private key file %s" % params["private_key_path"]
        material.key = load_private_key(read_file(params["private_key_path"], "The private key file"), label)
    elif params.get("private_key_content"):
        label = "private_key_content"
        material.key = load_private_key(params["private_key_content"], label)
    else:
        return
    material.key_label = label
    material.names["key"] = label


def _secret_value(data, key, where):
    raw = data.get(key)
    if raw is None or raw == "":
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise X509Error("%s key %s is not valid base64, as the API should return it" % (where, key))


def from_secret(client, secret):
    name, namespace = secret.get("name"), secret.get("namespace") or "istio-system"
    if not name:
        raise X509Error("secret.name is required")
    where = "Secret %s/%s" % (namespace, name)
    obj = client.get_or_none("/api/v1/namespaces/%s/secrets/%s" % (quote(namespace, safe=""), quote(name, safe="")))
    if obj is None:
        raise X509Error("%s not found" % where)
    data = obj.get("data") or {}
    keys = sorted(data)
    if "tls.crt" in data:
        layout, names = "kubernetes.io/tls", TLS_KEYS
    elif "ca-cert.pem" in data:
        layout, names = "istio", ISTIO_KEYS
    else:
        raise X509Error("%s has no tls.crt (nor Istio's ca-cert.pem), so it holds no certificate to inspect; its "
                        "keys are: %s" % (where, ", ".join(keys) or "none"))
    cert_bytes = _secret_value(data, names["cert"], where)
    if cert_bytes is None:
        raise X509Error("%s key %s is empty: it holds no certificate" % (where, names["cert"]))
    certs = load_certificates(cert_bytes, "%s key %s" % (where, names["cert"]))
    material = Material("secret", certs, [names["cert"]] * len(certs), names["cert"])
    material.layout = layout
    material.names = dict(names)
    root_bytes = _secret_value(data, names["root"], where)
    if root_bytes is not None:
        material.roots = load_certificates(root_bytes, "%s key %s" % (where, names["root"]))
        material.root_label = names["root"]
    if layout == "istio":
        chain_bytes = _secret_value(data, names["chain"], where)
        if chain_bytes is None and names["chain"] in data:
            # Present but empty: kubelet mounts an empty file, which satisfies istiod's completeness check
            # (pilot/pkg/bootstrap/istio_ca.go checkCABundleCompleteness asks only that it exists) and gives
            # an empty Intermediates pool; an intermediate signed by the root still verifies (istio
            # security/pkg/pki/util/keycertbundle_test.go "Success - 2 level CA without cert chain file").
            material.chain_pool = []
        elif chain_bytes is not None:
            pool = load_certificates(chain_bytes, "%s key %s" % (where, names["chain"]))
            material.chain_pool = pool
            for cert in pool:
                known = material.certs + (material.roots or [])
                if not any(same_cert(cert, k) for k in known):
                    material.certs.append(cert)
                    material.cert_sources.append(names["chain"])
            material.label = "%s/%s" % (names["cert"], names["chain"])
        else:
            material.chain_pool = []
            material.missing.append(
                "%s has no %s; istiod (Istio layout) reads its chain only from that file, fails to load the bundle "
                "without it, and from 1.27 refuses to start with 'incomplete signing CA bundle detected' "
                "(istio pilot/pkg/bootstrap/istio_ca.go). Add it (the signing certificate followed by the root)" % (where, names["chain"]))
    else:
        material.chain_pool = list(certs) + list(material.roots or [])
    if material.roots is None:
        material.missing.append(
            "%s has no %s (or it is empty). istiod uses it as the root file and, in the kubernetes.io/tls layout, as "
            "part of the chain: from 1.27 it refuses to start with 'incomplete signing CA bundle detected', before "
            "that it fails to create the CA KeyCertBundle (istio pilot/pkg/bootstrap/istio_ca.go). Put the root certificate there "
            "(cert-manager does when its issuer knows the root)" % (where, names["root"]))
    key_bytes = _secret_value(data, names["key"], where)
    if key_bytes is not None:
        material.key = load_private_key(key_bytes, "%s key %s" % (where, names["key"]))
        material.key_label = names["key"]
    else:
        material.missing.append("%s has no %s, so istiod has no signing key: from 1.27 it refuses to start with "
                                "'incomplete signing CA bundle detected', before that it silently falls back to its "
                                "self-signed CA (istio pilot/pkg/bootstrap/istio_ca.go). Store the intermediate's key there"
                                % (where, names["key"]))
    if CRL_KEY in data:
        material.crl = _secret_value(data, CRL_KEY, where) or b""
        material.crl_label = CRL_KEY
    meta = obj.get("metadata") or {}
    material.secret = {
        "name": name,
        "namespace": namespace,
        "type": obj.get("type"),
        "layout": layout,
        "keys": keys,
        "resource_version": meta.get("resourceVersion"),
    }
    return material
