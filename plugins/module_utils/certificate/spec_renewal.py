# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Webhook rules for ``spec.renewal`` (cert-manager v1.21+): the policy and its renewal windows.

cert-manager internal/apis/certmanager/validation/certificate.go, validateCertificateRenewal and
validateCertificateRenewalWindows: policy RenewBefore or Disabled (any other value, "" included, is
NotSupported with "Disabled", "RenewBefore"); Disabled forbids windows; each window needs a windowDuration,
an IANA timezone if one is given (time.LoadLocation), and a cron that pkg/util CronParse accepts (see
go_cron). The CRD already refuses a policy outside its enum, so the webhook's NotSupported is seen only for
an empty policy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import field_errors as fe
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_cron

RENEWAL_SINCE = (1, 21, 0)
_CRON_HINT = "cron needs to follow: cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow"


def renewal(spec, hook):
    policy_spec = spec.get("renewal")
    if not isinstance(policy_spec, dict) or not hook.refuses(RENEWAL_SINCE):
        return []  # older CRDs have no renewal field; with an unknown version the v1.21 webhook decides
    errors = []
    policy = policy_spec.get("policy", "")
    windows = policy_spec.get("windows")
    if policy == "Disabled":
        if windows:
            errors.append(fe.forbidden("spec.renewal.windows",
                                       "windows cannot be set when `renewal.policy` is set to Disabled"))
        return errors
    if policy != "RenewBefore":
        errors.append(fe.not_supported("spec.renewal.policy", policy, ("Disabled", "RenewBefore")))
    for i, window in enumerate(windows or []):
        errors.extend(_window(window if isinstance(window, dict) else {}, "spec.renewal.windows[%d]" % i))
    return errors


def _window(window, path):
    errors = []
    if window.get("windowDuration") is None:
        errors.append(fe.required(path + ".windowDuration", "windowDuration must be specified and should be greater "
                                                            "than 0"))
    timezone = window.get("timezone") or ""
    if timezone and not go_cron.load_location(timezone):
        errors.append(fe.invalid(path + ".timezone", timezone,
                                 "invalid value for timezone. timezone must be IANA compliant"))
    cron = window.get("cron") or ""
    problem = go_cron.cron_parse_error(cron, timezone)
    if problem:
        errors.append(fe.invalid(path + ".cron", cron, "invalid cron syntax: %s. %s" % (problem, _CRON_HINT)))
    return errors
