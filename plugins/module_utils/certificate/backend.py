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

Options added for the ca_rotation role (each in its own module_utils file):
- merge_live_spec: the spec is the live one with the given top-level keys replaced (certificate_merge);
  a merge that changes nothing sends no apply at all;
- backup: before a re-issue (decided by a dry-run apply first), copy the Secret and prove the copy
  restorable, apply only then, prune old copies afterwards (certificate_backup);
- check_root_policy: follow issuerRef to a cert-manager self-signed root and require
  rotationPolicy Never on it (certificate_root_policy), read only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import backup as backup_model
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import merge as merge_model
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import reissue as reissue_model
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import root_policy
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import spec as certificate_spec
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import status as cst
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError, CollectionError, K8sApiError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.secret_leaf import describe
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.renew import trigger
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.wait import Waiter
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import webhook_version as webhook_release
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import object_path

API = "cert-manager.io/v1"
FIELD_MANAGER = "meshpki.istio_ca"
NO_CRD = "cert-manager is not installed on this cluster (no certificates.cert-manager.io CRD)"
NO_BACKUP_NEEDED = "No re-issue follows from this task, so the Secret stays as it is: no backup needed."


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
        self._seen = None  # (live Certificate or None,) once read
        self._doubt = None  # why the re-issue prediction is uncertain (backup=true then backs up anyway)
        self.warnings = []  # for module.warn(); exit_json(warnings=...) is deprecated in ansible-core 2.19

    # -- API calls with this module's error translation ------------------------------------------------------------
    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except K8sApiError as exc:
            translate_api_error(exc, self.namespace, self.name)

    def _get_live(self):
        try:
            live = self.client.get(self.path)
        except K8sApiError as exc:
            if exc.not_found and not crd_missing(exc):
                self._seen = (None,)
                return None
            translate_api_error(exc, self.namespace, self.name)
        self._seen = (live,)
        return live

    def _what_was_seen(self):
        """exists/live_spec/status of the Certificate as read at the start (empty when it was never read).

        Returned on failures too, so that a caller can tell "the change was refused" from "the
        Certificate could not be read" (the ca_rotation preflight and report do).
        """
        if self._seen is None:
            return {}
        live = self._seen[0] or {}
        return {"exists": bool(live), "live_spec": live.get("spec") if live else None,
                "status": live.get("status") if live else None}

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
            self._doubt = reissue_model.prediction_doubt(changed, live, request, known)
        if renew == "true":
            return "forced", ["renew=true: re-issue triggered like cmctl renew"] + reasons, True
        if renew == "auto":
            auto = reissue_model.auto_renew_reason(changed, bool(reasons), previously_issued)
            if auto:
                return "forced", [auto], True
        return ("spec_change" if reasons else "none"), reasons, False

    def _spec_and_live(self):
        """(spec to apply, live Certificate or None): the given spec, or with merge_live_spec the live one merged."""
        webhook = self._webhook_release()
        if not self.params.get("merge_live_spec"):
            spec = certificate_spec.clean(self.params["spec"] or {})
            self.warnings.extend(certificate_spec.check(spec, self.namespace, self.name, *webhook))
            return spec, self._get_live()
        live = self._get_live()
        if live is None:
            raise merge_model.absent_error(self.namespace, self.name)
        merged, removed = merge_model.merge(live.get("spec"), self.params["spec"])
        spec = certificate_spec.clean(merged)
        self.warnings.extend(certificate_spec.check(spec, self.namespace, self.name, *webhook))
        merge_model.check_removable(live, removed, FIELD_MANAGER, self.namespace, self.name)
        return spec, live

    def _webhook_release(self):
        """(cert-manager version or None, feature gates) for the pre-flight check; "unknown" is no version."""
        version = self.params.get("cert_manager_version")
        if version in (None, "", "unknown"):
            version = None
        else:
            try:
                webhook_release.parse_version(version)
            except ValueError as exc:
                raise CertificateError("%s; give the cluster's cert-manager version, for example v1.19.1." % exc)
        return version, webhook_release.parse_gates(self.params.get("cert_manager_feature_gates"))

    def _apply(self, live, body, dry_run, skip):
        """Server-side apply of ``body``; ``skip`` (a merge that changes nothing) answers with the live object."""
        if skip:
            return copy.deepcopy(live)
        return self._call(self.client.apply, self.path, body, FIELD_MANAGER, force=False, dry_run=dry_run)

    def _secret(self, secret_name):
        if not secret_name:
            return None
        return self._call(self.client.get_or_none, object_path("v1", "secrets", self.namespace, secret_name))

    def _backup_before_change(self, live, spec, body, skip):
        """With backup=true (not in check mode): decide the re-issue first, then copy the Secret if one follows.

        Returns (backup result or None, note or None, plan or None); the plan comes from a dry-run apply
        when the decision needed one, so the real apply does not decide it again.
        """
        plan = None
        if live is None or self.params["renew"] == "true":
            reissue_expected = True  # a new Certificate or a forced re-issue: known without a dry run
        else:
            dry = self._apply(live, body, True, skip)
            plan = self._reissue_plan(live, dry, (live.get("spec") or {}) != (dry.get("spec") or {}))
            reissue_expected = plan[0] != "none" or self._doubt is not None  # uncertain: back up anyway
        if not reissue_expected:
            return None, NO_BACKUP_NEEDED, plan
        source = self._secret(spec.get("secretName"))
        try:
            backup, note = backup_model.take(self.client, self.namespace, spec.get("secretName"), cst.revision(live),
                                             source)
        finally:
            source = None  # drop the only reference to the key material at once
        if backup:
            # Pruned before the change, the new copy counting as one: a missing permission (delete, list)
            # then stops the run with nothing changed but the new copy, instead of leaving more backups
            # than backup_keep behind a rotation that reported success.
            try:
                backup["pruned"], warnings = backup_model.prune(self.client, self.namespace, spec.get("secretName"),
                                                                self.params["backup_keep"], backup["name"])
            except CollectionError as exc:
                exc.result.update(backup=backup, changed=bool(backup.get("created")))
                raise
            self.warnings.extend(warnings)
        return backup, note, plan

    def _backup_preview(self, secret, spec, live, reissue):
        """Check mode: which backup a real run would write (name only), or why none."""
        if reissue == "none" and self._doubt is None:
            return NO_BACKUP_NEEDED
        where = "Secret %s/%s" % (self.namespace, spec.get("secretName"))
        if secret is None:
            return "%s does not exist: nothing to back up." % where
        if not (secret.get("data") or {}).get("tls.key"):
            return "%s has no tls.key: nothing to back up." % where
        facts = backup_model.describe(secret["data"], where)
        return "check mode: %s would be copied to Secret %s/%s before the re-issue." % (
            where, self.namespace, backup_model.backup_name(spec.get("secretName"), cst.revision(live),
                                                            facts["serial"]))

    def present(self):
        self._horizon_seconds()  # bad input fails before anything is read or changed
        spec, live = self._spec_and_live()
        skip = bool(self.params.get("merge_live_spec")) and spec == (live.get("spec") or {})
        body = {"apiVersion": API, "kind": "Certificate",
                "metadata": {"name": self.name, "namespace": self.namespace}, "spec": spec}
        backup, note, plan = None, None, None
        if self.params.get("backup") and not self.check_mode:
            backup, note, plan = self._backup_before_change(live, spec, body, skip)
        try:
            result, secret = self._present_change(live, body, skip, plan)
        except CollectionError as exc:
            if backup:
                exc.result.update(backup=backup, changed=True)
            raise
        if self.params.get("backup"):
            self._finish_backup(result, secret, live, backup, note)
        secret = None
        if self.params.get("check_root_policy"):
            result["root_policy"] = root_policy.check(self.client, self.namespace, self.name, result["spec"],
                                                      self.params.get("cluster_resource_namespace") or "cert-manager",
                                                      self._next_rotation(result))
        seen = self._what_was_seen()
        result.update(exists=seen["exists"], live_spec=seen["live_spec"])
        return result

    def _next_rotation(self, result):
        """When this Certificate is next re-issued: ``root_renewal_horizon`` from now if later, else its renewalTime."""
        status = result.get("status") or {}
        scheduled = root_policy.parse_time(status.get("renewalTime") or status.get("notAfter"))
        seconds = self._horizon_seconds()
        if seconds:
            until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
            scheduled = max(scheduled, until) if scheduled else until
        return scheduled

    def _horizon_seconds(self):
        """``root_renewal_horizon`` in seconds (0 when unset); a bad value fails before any request."""
        horizon = self.params.get("root_renewal_horizon")
        if not horizon:
            return 0
        try:
            return go_duration.parse(horizon) / 1e9
        except go_duration.GoDurationError as exc:
            raise CertificateError("root_renewal_horizon: %s; give a Go duration such as 2160h." % exc)

    def _finish_backup(self, result, secret, live, backup, note):
        """After the change: record the backup (pruned before the change) or, in check mode, name the copy a real run would write."""
        if self.check_mode:
            note = self._backup_preview(secret, result["spec"], live, result["reissue"])
        elif backup:
            result["changed"] = result["changed"] or backup["created"] or bool(backup["pruned"])
        result.update(backup=backup, backup_note=note)
        if self.diff and backup:
            result["diff"]["prepared"] = "Secret %s/%s backed up to %s/%s" % (
                self.namespace, result["secret_name"], backup["namespace"], backup["name"])
        elif self.diff and (note or "").startswith("check mode"):
            result["diff"]["prepared"] = note

    def _present_change(self, live, body, skip, plan):
        applied = self._apply(live, body, self.check_mode, skip)
        before_spec = (live or {}).get("spec") or {}
        after_spec = applied.get("spec") or {}
        spec_changed = live is None or before_spec != after_spec
        reissue, reasons, force = plan or self._reissue_plan(live, applied, spec_changed)
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
        secret = self._secret(after_spec.get("secretName"))
        result = self._report(obj, after_spec, secret)
        result.update(changed=spec_changed or force, reissue=reissue, reissue_reasons=reasons,
                      reissue_uncertain=self._doubt)
        if self.check_mode:
            result["status"] = cst.status_of(live) if live is not None else None
        else:
            result["status"] = cst.status_of(obj)
        if self.diff:
            result["diff"] = {"before": before_spec, "after": after_spec}
        return result, secret

    def _report(self, obj, spec, secret):
        status = cst.status_of(obj)
        issued = describe(secret)
        return {
            "revision": cst.revision(obj),
            "not_before": issued.get("not_before") or status.get("notBefore"),
            "not_after": issued.get("not_after") or status.get("notAfter"),
            "renewal_time": status.get("renewalTime"),
            "serial": issued.get("serial"),
            "serial_number": issued.get("serial_number"),
            "secret_name": spec.get("secretName"),
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
        try:
            result = self.present() if self.params["state"] == "present" else self.absent()
        except CollectionError as exc:
            for key, value in self._what_was_seen().items():
                exc.result.setdefault(key, value)
            raise
        result["api_requests"] = self.client.request_count
        return result
