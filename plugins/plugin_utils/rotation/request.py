# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The rotation request (``ca_rotation_duration``, ``ca_rotation_renew_before``, ``ca_rotation_force``),
validated and parsed once, before anything reads a cluster.

Why here: the request used to be renamed in Jinja, parsed by the certificate module, by the TTL check
and by the summary, each on its own. Now ``rotation_request`` is the only place that reads the three
variables; its result is the ``request`` key of the plan (plugin_utils/rotation/plan.py), which carries
it to the change step, the summary and the saved fleet status. A malformed duration fails here, with
the variable's name and Go's own message (``time.ParseDuration``, src/time/format.go): it is left
out of ``changes`` (so nothing is asked of a cluster with it) and listed in ``problems``, which the plan
makes problems of every cluster, so the preflight stops the run before anything changes.

Served as a filter by plugins/filter/rotation_request.py; documented in ``rotation_request.yml`` there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration

# The role variable behind each Certificate field the request may change.
_FIELDS = (("duration", "ca_rotation_duration", "duration"),
           ("renew_before", "ca_rotation_renew_before", "renewBefore"))


def _seconds(variable, text, problems):
    try:
        value = go_duration.parse(text)
    except go_duration.GoDurationError as exc:
        problems.append("%s=%r is not a Go duration (%s); write it as cert-manager does, with the units h, m, s "
                        "(no d): for example 720h" % (variable, text, exc))
        return None
    if value <= 0:
        problems.append("%s=%r must be a positive duration such as 720h" % (variable, text))
        return None
    return value // go_duration.SECOND


_NOTHING = ("nothing to rotate was requested: set ca_rotation_duration (e.g. -e ca_rotation_duration=720h), "
            "ca_rotation_renew_before, ca_rotation_force=true or (offline_root) ca_rotation_issuing_ca=true; "
            "to only check the fleet and change nothing, set ca_rotation_allow_noop=true "
            "(or run playbooks/report.yml)")


def rotation_request(duration="", renew_before="", force=False, allow_noop=False, issuing_ca=False):
    """``{duration, renew_before, force, changes, renew, duration_seconds, renew_before_seconds, asked,
    requested, problem, problems}``.

    ``problem`` is why a run that requests nothing fails (issue 18: a misspelled variable went unnoticed),
    empty with ``allow_noop``; ``problems`` are the malformed values. ``issuing_ca`` (offline_root: a new
    issuing CA, ca_setup's rotate_issuing_ca, which forces the re-issue of cacerts below it) is a request too.

    ``changes`` is the partial Certificate spec the certificate module merges into the live one;
    ``renew`` is that module's ``renew`` option (``true`` when forced, else ``auto``). An empty
    duration or renew_before keeps the Certificate's own value. cert-manager's rules on the merged
    spec (renewBefore < duration, ...) are the certificate module's (module_utils/certificate/spec.py).
    """
    problems = []
    try:
        force, allow_noop = boolean(force, strict=True), boolean(allow_noop, strict=True)
        issuing_ca = boolean(issuing_ca, strict=True)
    except TypeError as exc:
        # A wrong type is refused at once (as an argument spec would); a malformed duration is a problem.
        raise AnsibleFilterError("rotation_request: ca_rotation_force and ca_rotation_allow_noop must be booleans: %s"
                                 % exc)
    out = {"force": force, "changes": {}, "problems": problems}
    given = {"duration": duration, "renew_before": renew_before}
    for key, variable, field in _FIELDS:
        text = str(given[key] or "").strip()
        out[key] = text or None
        out[key + "_seconds"] = _seconds(variable, text, problems) if text else None
        if out[key + "_seconds"] is not None:
            out["changes"][field] = text
    out["renew"] = "true" if force else "auto"
    out["asked"] = bool(out["changes"]) or force
    out["requested"] = ["%s=%s" % (variable, out[key]) for key, variable, _field in _FIELDS if out[key]]
    if force:
        out["requested"].append("ca_rotation_force=true")
    if issuing_ca:
        out["requested"].append("ca_rotation_issuing_ca=true")
    out["problem"] = "" if out["requested"] or allow_noop else _NOTHING
    return out
