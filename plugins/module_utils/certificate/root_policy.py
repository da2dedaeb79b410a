# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""``check_root_policy``: is the root of trust a cert-manager self-signed Certificate that will re-key?

Why: since cert-manager 1.18 the default privateKey.rotationPolicy is Always (GA in 1.20), so a
cert-manager-made self-signed root gets a new key when it renews
(docs/upstream/cert-manager.md#rotation-policy); the clusters then stop sharing one root and istiod refuses a
new root at hot reload (docs/upstream/cert-manager.md#self-signed-root-re-keys). Such a root needs rotationPolicy Never.

How (read only, also in check mode; the same steps as the former roles/ca_rotation root_policy.yml):
1. only a cert-manager.io Issuer/ClusterIssuer in the Certificate's issuerRef is followed
   (an empty kind means Issuer, an empty group cert-manager.io; docs/upstream/cert-manager.md#certificate-defaults);
2. one LIST of the Certificates where that issuer's CA Secret lives: the Certificate's namespace for
   an Issuer, the cluster resource namespace for a ClusterIssuer (docs/upstream/cert-manager.md#cluster-resource-namespace); kept: isCA ones other than
   this Certificate. None: no cert-manager-made CA there, done without reading the issuer;
3. GET the issuer; a CA issuer names its key pair in spec.ca.secretName (docs/upstream/cert-manager.md#ca-issuer); the CA Certificate
   is the candidate whose spec.secretName is that Secret (none: a plain Secret, nothing to check);
4. GET that Certificate's issuer: spec.selfSigned makes it a root (docs/upstream/cert-manager.md#selfsigned-issuer), and then
   rotationPolicy must be Never.
A read that fails (404, 5xx, ...) becomes a warning and ``checked: false``; a 401/403 fails the task with the
API server's message (the credentials lack a rule the shipped roles in docs/rbac/ grant).

Root renewal (``renewal_problem``): rotationPolicy Never keeps the root's key, but a renewal still
re-signs the root with a new serial and validity; the CA issuer then writes those new root bytes into
every later ``ca.crt``, and istiod compares root bytes exactly (``bytes.Equal`` in ``handleEvent``,
``pilot/pkg/bootstrap/istio_ca.go``): "Multi root is disabled, updating new ROOT-CA not supported", the
reload is aborted and istiod keeps the old intermediate (docs/upstream/istiod.md#root-comparison). So a
cert-manager-made root must not renew before the next rotation: ``renewal.policy: Disabled`` where the
CRD has it (cert-manager 1.21+, ``renewal_guard``; no renewalTime is then set, ``pkg/util/pki/renewaltime.go``),
else a duration far beyond the fleet's horizon, checked through the root's ``status.renewalTime``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import object_path
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError

API = "cert-manager.io/v1"
GROUP = "cert-manager.io"
KINDS = ("Issuer", "ClusterIssuer")
RENEWAL_POLICY_SINCE = (1, 21, 0)  # spec.renewal (policy RenewBefore/Disabled) in the v1.21 CRD
UTC = datetime.timezone.utc


def issuer_ref(spec):
    """(kind, name, group) with cert-manager's defaults (SetObjectDefaults_Certificate)."""
    ref = (spec or {}).get("issuerRef") or {}
    return ref.get("kind") or "Issuer", ref.get("name") or "", ref.get("group") or GROUP


def issuer_path(kind, name, namespace):
    if kind == "ClusterIssuer":
        return object_path(API, "clusterissuers", None, name)
    return object_path(API, "issuers", namespace, name)


def ca_candidates(certificates, namespace, name):
    """isCA Certificates of the list, except the one this task manages (``namespace``/``name``)."""
    found = []
    for item in certificates or []:
        meta = item.get("metadata") or {}
        if not (item.get("spec") or {}).get("isCA"):
            continue
        if meta.get("name") == name and meta.get("namespace", namespace) == namespace:
            continue
        found.append(item)
    return found


def pick_ca_certificate(candidates, secret_name):
    for item in candidates:
        if (item.get("spec") or {}).get("secretName") == secret_name:
            return item
    return None


def problem_text(ref, policy):
    shown = policy or "unset, i.e. Always since cert-manager 1.18"
    return ("The root of trust is the cert-manager Certificate %s (self-signed) with privateKey.rotationPolicy %s, "
            "so when it renews cert-manager makes a new root key, the clusters stop sharing one root and istiod "
            "refuses the new root at reload: set spec.privateKey.rotationPolicy: Never on %s (the ca_setup role "
            "does)." % (ref, shown, ref))


def new_result(kind, name):
    return {"checked": False, "issuer": "%s/%s" % (kind, name), "root_certificate": None, "self_signed": None,
            "rotation_policy": None, "root_renewal_time": None, "root_not_after": None,
            "root_renewal_policy": None, "problems": [], "warnings": []}


def _version_tuple(version):
    text = str(version or "").strip().lstrip("v").split("-", 1)[0]
    try:
        parts = tuple(int(p) for p in text.split(".")[:3])
    except ValueError:
        return None
    return parts + (0,) * (3 - len(parts)) if parts else None


def renewal_guard(cert_manager_version):
    """Spec fields that stop a cert-manager-made root from renewing: ``renewal.policy: Disabled`` on 1.21+.

    Older CRDs have no such field (the API server would drop or refuse it); there only a long duration
    helps, and ``renewal_problem`` checks the resulting renewal time. An unknown version gets nothing.
    """
    version = _version_tuple(cert_manager_version)
    if version is not None and version >= RENEWAL_POLICY_SINCE:
        return {"renewal": {"policy": "Disabled"}}
    return {}


def parse_time(text):
    """RFC 3339 text (as the API writes it) to an aware datetime, None when it is not one."""
    if not isinstance(text, str) or not text:
        return None
    value = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        when = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def renewal_problem(result, next_rotation, now=None):
    """A sentence when the root renews before ``next_rotation`` (RFC 3339 text or datetime), else None.

    ``result`` is a ``check`` result. A root renewal due now or before the next rotation puts new root
    bytes into the next ``ca.crt`` and istiod refuses that intermediate. No problem when the root's
    renewal is disabled (no renewalTime), when there is no cert-manager-made self-signed root, or when
    the next rotation is not known.
    """
    if not result or not result.get("self_signed") or not result.get("root_certificate"):
        return None
    renews = parse_time(result.get("root_renewal_time"))
    horizon = next_rotation if isinstance(next_rotation, datetime.datetime) else parse_time(next_rotation)
    now = now or datetime.datetime.now(UTC)
    if renews is None or (horizon is None and renews > now):
        return None
    if horizon is not None and renews > max(horizon, now):
        return None
    when = "is due for renewal now (%s)" % result["root_renewal_time"] if renews <= now else \
        "renews at %s, before the next rotation at %s" % (result["root_renewal_time"],
                                                          horizon.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return ("The root Certificate %s %s: even with rotationPolicy Never cert-manager re-signs it with a new "
            "serial and validity, the CA issuer puts those new root bytes into the next ca.crt, and istiod refuses "
            "it (\"Multi root is disabled, updating new ROOT-CA not supported\") and keeps the old intermediate. Set "
            "spec.renewal.policy: Disabled on %s (cert-manager 1.21+), or re-issue it with a duration far beyond the "
            "fleet's horizon, before rotating." % (result["root_certificate"], when, result["root_certificate"]))


def _read(client, result, path, what, **query):
    """GET (or LIST) ``path``; on an API error record a warning and return False. A missing permission
    (401/403) is raised: a check skipped for want of a rule would pass a re-keying root unnoticed."""
    try:
        return client.get(path, query=query or None)
    except K8sApiError as exc:
        if exc.denied:
            raise
        result["warnings"].append("root policy not checked: could not read %s: %s" % (what, exc))
        return False


def check(client, namespace, name, spec, cluster_resource_namespace, next_rotation=None):
    """The ``root_policy`` result for Certificate ``namespace``/``name`` with ``spec``.

    ``next_rotation`` (RFC 3339) is when this Certificate is next re-issued; a self-signed root renewing
    before then is a problem (``renewal_problem``).
    """
    result = _check(client, namespace, name, spec, cluster_resource_namespace)
    problem = renewal_problem(result, next_rotation)
    if problem:
        result["problems"].append(problem)
    return result


def _check(client, namespace, name, spec, cluster_resource_namespace):
    kind, issuer_name, group = issuer_ref(spec)
    result = new_result(kind, issuer_name)
    if group != GROUP or kind not in KINDS or not issuer_name:
        return result  # an external issuer: how its root is made is not visible here
    where = namespace if kind == "Issuer" else cluster_resource_namespace
    listed = _read(client, result, object_path(API, "certificates", where),
                   "the Certificates in namespace %s" % where)
    if listed is False:
        return result
    candidates = ca_candidates(listed.get("items"), namespace, name)
    if not candidates:
        result["checked"] = True  # no cert-manager-made CA where the issuer's key pair lives
        return result
    label = "%s %s" % (kind, issuer_name if kind == "ClusterIssuer" else "%s/%s" % (namespace, issuer_name))
    issuer = _read(client, result, issuer_path(kind, issuer_name, namespace), label)
    if issuer is False:
        return result
    secret_name = ((issuer.get("spec") or {}).get("ca") or {}).get("secretName")
    ca_cert = pick_ca_certificate(candidates, secret_name) if secret_name else None
    if ca_cert is None:
        result["checked"] = True  # not a CA issuer, or its Secret is not made by a Certificate
        return result
    meta, ca_spec = ca_cert.get("metadata") or {}, ca_cert.get("spec") or {}
    ca_ns = meta.get("namespace") or where
    ref = "%s/%s" % (ca_ns, meta.get("name"))
    policy = (ca_spec.get("privateKey") or {}).get("rotationPolicy")
    ca_status = ca_cert.get("status") or {}
    result.update(root_certificate=ref, rotation_policy=policy, root_renewal_time=ca_status.get("renewalTime"),
                  root_not_after=ca_status.get("notAfter"),
                  root_renewal_policy=(ca_spec.get("renewal") or {}).get("policy"))
    root_kind, root_issuer, root_group = issuer_ref(ca_spec)
    if root_group != GROUP or root_kind not in KINDS or not root_issuer:
        result.update(checked=True, self_signed=False)
        return result
    root_label = "the issuer %s/%s of Certificate %s" % (root_kind, root_issuer, ref)
    signer = _read(client, result, issuer_path(root_kind, root_issuer, ca_ns), root_label)
    if signer is False:
        return result
    self_signed = (signer.get("spec") or {}).get("selfSigned") is not None
    result.update(checked=True, self_signed=self_signed)
    if self_signed and policy != "Never":
        result["problems"].append(problem_text(ref, policy))
    return result
