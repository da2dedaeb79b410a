# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The enum, required and pattern rules of cert-manager's Certificate CRD, checked by the API server.

These are not the webhook's: the API server validates the object against the CRD's OpenAPI schema
(cert-manager deploy/crds/cert-manager.io_certificates.yaml, v1.21.1) before any admission webhook runs, so
``rotationPolicy: always`` is refused with ``Unsupported value: "always": supported values: "Never",
"Always"`` (k8s.io/apiextensions-apiserver schema validation, field.NotSupported) and the webhook never sees
the object. Texts as the API server words them: ``Required value`` with no detail, ``... in body should
match '<pattern>'`` for patterns.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import field_errors as fe

USAGES = ("signing", "digital signature", "content commitment", "key encipherment", "key agreement",
          "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
          "server auth", "client auth", "code signing", "email protection", "s/mime", "ipsec end system",
          "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc")
ENUMS = {
    "privateKey.algorithm": ("RSA", "ECDSA", "Ed25519"),
    "privateKey.encoding": ("PKCS1", "PKCS8"),
    "privateKey.rotationPolicy": ("Never", "Always"),
    "signatureAlgorithm": ("SHA256WithRSA", "SHA384WithRSA", "SHA512WithRSA", "ECDSAWithSHA256",
                           "ECDSAWithSHA384", "ECDSAWithSHA512", "PureEd25519"),
    "keystores.pkcs12.profile": ("LegacyRC2", "LegacyDES", "Modern2023", "Modern2026"),
    "renewal.policy": ("RenewBefore", "Disabled"),
}
AOF_TYPES = ("DER", "CombinedPEM")
WINDOW_DURATION = r"^([0-9]+(\.[0-9]+)?(s|m|h))+$"


def _get(node, dotted):
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _items(spec, key):
    value = spec.get(key)
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


# String fields of list items: (list path, item keys).
_ITEM_STRINGS = (("additionalOutputFormats", ("type",)), ("otherNames", ("oid", "utf8Value")),
                 ("renewal.windows", ("cron", "timezone", "windowDuration")))


def _item_type_errors(spec):
    found = []
    for dotted, keys in _ITEM_STRINGS:
        items = _get(spec, dotted)
        for i, item in enumerate(items if isinstance(items, list) else []):
            path = "spec.%s[%d]" % (dotted, i)
            if not isinstance(item, dict):
                got = fe.json_type_name(item)
                found.append(fe.invalid(path, got, "%s in body must be of type object: %s" % (path, fe.go_quote(got))))
                continue
            for key in keys:
                if key in item and not isinstance(item[key], str):
                    got = fe.json_type_name(item[key])
                    found.append(fe.invalid("%s.%s" % (path, key), got, "%s.%s in body must be of type string: %s"
                                            % (path, key, fe.go_quote(got))))
    return found


def errors(spec, with_renewal=True):
    """The CRD's enum/required/pattern errors for a spec whose top-level JSON types are already right.

    ``with_renewal=False`` leaves out ``spec.renewal``, which CRDs before v1.21 do not have (the API server
    prunes it there), for a cluster whose version is unknown.
    """
    if not with_renewal and "renewal" in spec:
        spec = dict((k, v) for k, v in spec.items() if k != "renewal")
    found = _item_type_errors(spec)
    if found:
        return found
    for dotted in sorted(ENUMS):
        value = _get(spec, dotted)
        if value is not None and value not in ENUMS[dotted]:
            found.append(fe.not_supported("spec." + dotted, value, ENUMS[dotted]))
    for i, usage in enumerate(spec.get("usages") or []):
        if usage not in USAGES:
            found.append(fe.not_supported("spec.usages[%d]" % i, usage, USAGES))
    for i, item in _items(spec, "additionalOutputFormats"):
        if "type" not in item:
            found.append(fe.required("spec.additionalOutputFormats[%d].type" % i))
        elif item["type"] not in AOF_TYPES:
            found.append(fe.not_supported("spec.additionalOutputFormats[%d].type" % i, item["type"], AOF_TYPES))
    for store in ("jks", "pkcs12"):
        keystore = _get(spec, "keystores." + store)
        if isinstance(keystore, dict):
            if "create" not in keystore:
                found.append(fe.required("spec.keystores.%s.create" % store))
            ref = keystore.get("passwordSecretRef")
            if isinstance(ref, dict) and "name" not in ref:
                found.append(fe.required("spec.keystores.%s.passwordSecretRef.name" % store))
    renewal = spec.get("renewal")
    for i, window in _items(renewal if isinstance(renewal, dict) else {}, "windows"):
        path = "spec.renewal.windows[%d]" % i
        for key in ("cron", "windowDuration"):
            if key not in window:
                found.append(fe.required("%s.%s" % (path, key)))
        duration = window.get("windowDuration")
        if isinstance(duration, str) and not re.match(WINDOW_DURATION, duration):
            found.append(fe.invalid(path + ".windowDuration", duration, "%s.windowDuration in body should match '%s'"
                                    % (path, WINDOW_DURATION)))
    return found
