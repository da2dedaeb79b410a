# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Explain why a Certificate is not issued: its issuer, its CertificateRequest, its conditions.

Read only when something is wrong (a failed or stalled issuance, a timeout), so the happy path
costs no extra requests. Facts: CertificateRequests are named ``<certificate>-<revision>``
(StableCertificateRequestName, default since v1.13); a CR waits Pending with IssuerNotReady while
the issuer is not Ready; a CA issuer reports ErrGetKeyPair/ErrInvalidKeyPair
(docs/upstream/cert-manager.md#certificate-requests, docs/upstream/cert-manager.md#ca-issuer).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import status as cst
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import object_path
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError

API = "cert-manager.io/v1"


def describe_condition(cond):
    """``Ready=False (Failed: message)`` for people."""
    if not cond:
        return "none"
    text = "%s=%s" % (cond.get("type"), cond.get("status"))
    detail = ": ".join(p for p in (cond.get("reason"), cond.get("message")) if p)
    return "%s (%s)" % (text, detail) if detail else text


def describe_conditions(obj):
    conds = cst.conditions(obj)
    if not conds:
        return "no status conditions yet"
    return ", ".join(describe_condition(c) for c in conds)


def issuer_ref(spec):
    ref = (spec or {}).get("issuerRef") or {}
    return ref.get("name"), ref.get("kind") or "Issuer", ref.get("group") or "cert-manager.io"


def issuer_problem(client, namespace, spec):
    """A sentence when the referenced cert-manager issuer is missing or not Ready, else None."""
    name, kind, group = issuer_ref(spec)
    if group != "cert-manager.io" or kind not in ("Issuer", "ClusterIssuer") or not name:
        return None  # an external issuer: its readiness has no common shape
    if kind == "ClusterIssuer":
        path, label = object_path(API, "clusterissuers", None, name), "ClusterIssuer %s" % name
    else:
        path, label = object_path(API, "issuers", namespace, name), "Issuer %s/%s" % (namespace, name)
    try:
        issuer = client.get_or_none(path)
    except K8sApiError:
        return None  # diagnosis is best effort; the caller's own error stands
    if issuer is None:
        return "%s does not exist" % label
    ready = cst.condition(issuer, "Ready")
    if ready and ready.get("status") == "True":
        return None
    if not ready:
        return "%s has no Ready condition yet (cert-manager has not set it up)" % label
    return "%s is not Ready: %s" % (label, ": ".join(p for p in (ready.get("reason"), ready.get("message")) if p))


def request_summary(client, namespace, name, revision):
    """``CertificateRequest ns/name-N: Ready=False (Failed: ...)`` for the given revision, or None."""
    request_name = "%s-%d" % (name, revision)
    try:
        request = client.get_or_none(object_path(API, "certificaterequests", namespace, request_name))
    except K8sApiError:
        return None
    if request is None:
        return None
    ready = cst.condition(request, "Ready")
    denied = cst.condition(request, "Denied")
    parts = [describe_condition(ready) if ready else "no Ready condition yet"]
    if denied and denied.get("status") == "True":
        parts.append(describe_condition(denied))
    return "CertificateRequest %s/%s: %s" % (namespace, request_name, ", ".join(parts))
