# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Webhook rules for what cert-manager writes besides tls.crt/tls.key: additionalOutputFormats, keystores.

cert-manager internal/apis/certmanager/validation/certificate.go: validateAdditionalOutputFormats (each
``type`` at most once, field.Duplicate on ``spec.additionalOutputFormats[type]``) and validateKeystores
(v1.17+: exactly one of ``password`` and ``passwordSecretRef.name`` per keystore, a literal password not
empty). The texts keep upstream's wording, including its "and password must for" typo.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import field_errors as fe

KEYSTORES_SINCE = (1, 17, 0)
_BOTH = "exactly one of passwordSecretRef and password must be provided for %s keystores; cannot set both"
_NEITHER = "must set exactly one of passwordSecretRef and password must for %s keystores"
_EMPTY = "literal password cannot be empty if set on %s keystores"


def additional_output_formats(spec):
    seen, errors = set(), []
    for item in spec.get("additionalOutputFormats") or []:
        kind = (item or {}).get("type", "") if isinstance(item, dict) else ""
        if kind in seen:
            errors.append(fe.duplicate("spec.additionalOutputFormats[type]", kind))
            continue
        seen.add(kind)
    return errors


def keystores(spec, hook):
    stores = spec.get("keystores")
    if not isinstance(stores, dict) or not hook.refuses(KEYSTORES_SINCE):
        return []
    errors = []
    for key, label in (("jks", "JKS"), ("pkcs12", "PKCS#12")):
        store = stores.get(key)
        if not isinstance(store, dict):
            continue
        path = "spec.keystores." + key
        password = store.get("password")
        ref_name = (store.get("passwordSecretRef") or {}).get("name") or ""
        if password is not None and ref_name:
            errors.append(fe.forbidden(path, _BOTH % label))
        if password is None and not ref_name:
            errors.append(fe.forbidden(path, _NEITHER % label))
        if password is not None and len(password) == 0:
            errors.append(fe.forbidden(path + ".password", _EMPTY % label))
    return errors
