# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The certificate module's work: validate, apply, decide the re-issue, renew, wait, report.

Order and costs (one client, no discovery):
- validate the spec first, no request (certificate_spec);
- GET the Certificate (live spec, revision, conditions; a 404 without a name means no CRD);
- server-side apply as ``meshpki.istio_ca`` with force=false (dryRun=All in check mode, so the
  webhook still judges the spec); changed = live spec != applied spec;
- GET ``<name>-<revision>`` CertificateRequest only when the re-issue decision depends on it;
- renew: PUT status with the cmctl condition (not in check mode);
- wait: poll the Certificate (the apply/renew answer is the first sample);
- GET the Secret to report the certificate it now holds (tls.crt only).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils import certificate_reissue as reissue_model
from ansible_collections.meshpki.istio_ca.plugins.module_utils import certificate_spec
from ansible_collections.meshpki.istio_ca.plugins.module_utils import certificate_status as cst
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate_errors import CertificateError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate_issued import describe
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate_renew import trigger
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate_wait import Waiter
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s_client import object_path
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s_errors import K8sApiError

API = "cert-manager.io/v1"
FIELD_MANAGER = "meshpki.istio_ca"
NO_CRD = "cert-manager is not installed on this cluster (no certificates.cert-manager.io CRD)"


def crd_missing(exc):
    """404 for the resource itself (no object name in the Status details) rather than for one object."""
    return exc.code == 404 and not (exc.details or {}).get("name")


def translate_api_error(exc, namespace, name):
    """Turn the API errors this module can explain into a CertificateError; re-raise the others."""
    message = exc.api_message or str(exc)
    if crd_missing(exc):
        raise CertificateError(NO_CRD + ".", result={"api_error": exc.as_dict()})
    if exc.code >= 500 and "webhook.cert-manager.io" in message:
        raise CertificateError(
            "cert-manager's admission webhook is not ready, so the API server cannot admit Certificate %s/%s: %s. "
            "Wait until the cert-manager-webhook Deployment is available and its CA bundle is injected (the "
            "meshpki.istio_ca.cert_manager role waits for a usable API), then run again." % (namespace, name, message),
            result={"api_error": exc.as_dict()})
    if "denied the request" in message:
        raise CertificateError("cert-manager rejected Certificate %s/%s: %s" % (namespace, name, message),
                               result={"api_error": exc.as_dict()})
    conflicts = [c for c in exc.causes if c.get("reason") == "FieldManagerConflict"]
    if exc.code == 409 and conflicts:
        owners = "; ".join("%s owns %s" % (c.get("message", "another manager").replace("conflict with ", ""),
                                           c.get("field")) for c in conflicts)
        raise CertificateError(
            "Server-side apply of Certificate %s/%s as field manager %s conflicts with another manager: %s. "
            "This module never forces (force=false), so it does not silently take over fields another tool "
            "manages. Make both agree, or hand the fields over once, for example with kubectl apply "
            "--server-side --force-conflicts --field-manager=%s." % (namespace, name, FIELD_MANAGER, owners,
                                                                     FIELD_MANAGER),
            result={"api_error": exc.as_dict(),
                    "conflicts": [{"manager": c.get("message"), "field": c.get("field")} for c in conflicts]})
    raise exc


class CertificateBackend(object):
    """One module run against one cluster."""

    def __init__(self, client, params, check_mode=False, diff=False, waiter_factory=Waiter):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.diff = diff
        self.name = params["name"]
        self.namespace = params["namespace"]
        self.path = object_path(API, "certificates", self.namespace, self.name)
        self.waiter_factory = waiter_factory
        self.warnings = []  # for module.warn(); exit_json(warnings=...) is deprecated in ansible-core 2.19

    # -- API calls with this module's error translation ------------------------------------------------------------
    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except K8sApiError as exc:
            translate_api_error(exc, self.namespace, self.name)

    def _get_live(self):
        try:
            return self.client.get(self.path)
        except K8sApiError as exc:
            if exc.not_found and not crd_missing(exc):
                return None
            translate_api_error(exc, self.namespace, self.name)

    def _waiter(self):
        return self.waiter_factory(self.client, self.namespace, self.name, self.path, self.params["wait_timeout"])

    # -- state=present --------------------------------------------------------------------------------------------
    def _reissue_plan(self, live, applied, spec_changed):
        """(reissue, reasons, force): what cert-manager will do, and whether we must force it."""
        renew = self.params["renew"]
        if live is None:
            return "spec_change", ["new Certificate: cert-manager issues its first revision"], False
        previously_issued = cst.revision(live) is not None
        changed = reissue_model.changed_issuance_fields(live.get("spec"), applied.get("spec")) if spec_changed else []
        if not previously_issued:
            reasons = ["never issued yet: the pending first issuance uses the applied spec"] if spec_changed else []
        else:
            request, known = None, False
            if reissue_model.needs_current_request(changed):
                request_path = object_path(API, "certificaterequests", self.namespace,
                                           "%s-%d" % (self.name, cst.revision(live)))
                request, known = self._call(self.client.get_or_none, request_path), True
            reasons = reissue_model.cert_manager_reasons(changed, applied.get("spec"), request, request_known=known)
        if renew == "true":
            return "forced", ["renew=true: re-issue triggered like cmctl renew"] + reasons, True
        if renew == "auto":
            auto = reissue_model.auto_renew_reason(changed, bool(reasons), previously_issued)
            if auto:
                return "forced", [auto], True
        return ("spec_change" if reasons else "none"), reasons, False

    def present(self):
        spec = certificate_spec.clean(self.params["spec"] or {})
        self.warnings.extend(certificate_spec.check(spec, self.namespace, self.name))
        live = self._get_live()
        body = {"apiVersion": API, "kind": "Certificate",
                "metadata": {"name": self.name, "namespace": self.namespace}, "spec": spec}
        applied = self._call(self.client.apply, self.path, body, FIELD_MANAGER, force=False, dry_run=self.check_mode)
        before_spec = (live or {}).get("spec") or {}
        after_spec = applied.get("spec") or {}
        spec_changed = live is None or before_spec != after_spec
        reissue, reasons, force = self._reissue_plan(live, applied, spec_changed)
        warning = reissue_model.rotation_never_warning(
            reissue_model.changed_issuance_fields(before_spec, after_spec) if live else [], after_spec)
        if warning:
            self.warnings.append(warning)
        obj = applied
        if force and not self.check_mode:
            obj = trigger(self.client, self.path, applied)
        if self.params["wait"] and not self.check_mode:
            expectation = cst.Expectation(new_revision=reissue != "none" or live is None,
                                          baseline_revision=cst.revision(live),
                                          stale_issuing=cst.condition(live, "Issuing"))
            obj = self._waiter().wait(obj, expectation)
        result = self._report(obj, after_spec)
        result.update(changed=spec_changed or force, reissue=reissue, reissue_reasons=reasons)
        if self.diff:
            result["diff"] = {"before": before_spec, "after": after_spec}
        return result

    def _report(self, obj, spec):
        status = cst.status_of(obj)
        secret_name = spec.get("secretName")
        issued = {}
        if secret_name:
            secret = self._call(self.client.get_or_none, object_path("v1", "secrets", self.namespace, secret_name))
            issued = describe(secret)
            secret = None  # drop the only reference to tls.key material at once
        return {
            "revision": cst.revision(obj),
            "not_before": issued.get("not_before") or status.get("notBefore"),
            "not_after": issued.get("not_after") or status.get("notAfter"),
            "renewal_time": status.get("renewalTime"),
            "serial": issued.get("serial"),
            "serial_number": issued.get("serial_number"),
            "secret_name": secret_name,
            "conditions": cst.conditions(obj),
            "spec": spec,
        }

    # -- state=absent ---------------------------------------------------------------------------------------------
    def absent(self):
        live = None
        if self.diff or self.check_mode:
            try:
                live = self._get_live()
            except CertificateError:
                live = None  # no CRD: no Certificate can exist
            changed = live is not None
        if not self.check_mode:
            try:
                self.client.request("DELETE", self.path)
                changed = True
            except K8sApiError as exc:
                if not exc.not_found:
                    translate_api_error(exc, self.namespace, self.name)
                changed = False
            if changed and self.params["wait"]:
                self._wait_gone()
        result = {"changed": changed, "reissue": "none", "reissue_reasons": [],
                  "secret_name": ((live or {}).get("spec") or {}).get("secretName")}
        if self.diff:
            result["diff"] = {"before": (live or {}).get("spec") or {}, "after": {}}
        return result

    def _wait_gone(self):
        waiter = self._waiter()
        deadline = waiter.clock() + self.params["wait_timeout"]
        while self.client.get_or_none(self.path) is not None:
            if waiter.clock() >= deadline:
                raise CertificateError("Timed out after %ss waiting for Certificate %s/%s to be deleted (finalizers?)."
                                       % (self.params["wait_timeout"], self.namespace, self.name))
            waiter.sleep(0.5)

    def run(self):
        result = self.present() if self.params["state"] == "present" else self.absent()
        result["api_requests"] = self.client.request_count
        return result
