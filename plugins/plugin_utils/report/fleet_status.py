# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The fleet CA status document (``report.json``, schema version 1).

- ``cluster_status``: one cluster's entry, from the raw results of the read-only
  tasks of ``ca_rotation``'s ``inspect`` entry point (Certificate, x509_inspect of
  ``cacerts``, istiod Deployment, istiod_reload_check, captured task errors).
- ``fleet_report``: the whole document from the entries of every cluster.
- ``root_consensus``: which root most clusters share and which clusters differ
  (used by the rotation preflight and by ``fleet_report``).

The JSON is built here and only here, so report.yml, the renderers (report.md,
report.html) and the rotation summary read one schema. Controller-only; served as
filters by plugins/filter/cluster_status.py and plugins/filter/fleet_report.py, documented in
the ``<filter name>.yml`` files there.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration, rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import versions as istiod_versions
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.hot_reload_plan import deployment_facts
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.istio import install_manager

SCHEMA_VERSION = 1
UTC = datetime.timezone.utc
# Default "expiring soon" threshold: ca_setup's renewBefore default (360h).
DEFAULT_EXPIRING_WITHIN = "360h"

_HOT_RELOAD_TEXT = {
    istiod_versions.RELOAD_ON: "enabled",
    istiod_versions.RELOAD_OFF: "disabled (AUTO_RELOAD_PLUGIN_CERTS is not true)",
    istiod_versions.RELOAD_UNSUPPORTED: "unsupported (Istio before 1.12 has no hot reload)",
    istiod_versions.RELOAD_INEFFECTIVE: "ineffective (Istio 1.12-1.13 ignore kubelet's Secret volume update)",
    istiod_versions.RELOAD_UNKNOWN: "unknown (istiod version not recognised)",
}


def _seconds(value, what):
    """Whole seconds from seconds or a Go duration (common/go_duration.to_seconds: ``3600`` and ``1h`` alike)."""
    try:
        return int(go_duration.to_seconds(value))
    except go_duration.GoDurationError as exc:
        raise AnsibleFilterError("%s: %s" % (what, go_duration.explain(exc, value)))


def _ok_result(result):
    """A registered module result that succeeded, else None."""
    if not isinstance(result, dict) or result.get("failed") or result.get("skipped"):
        return None
    return result


def _find_condition(obj, ctype):
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return None


def _certificate_entry(name, namespace, obj):
    if not obj:
        return {"name": name, "namespace": namespace, "exists": False}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    ready = _find_condition(obj, "Ready") or {}
    issuing = _find_condition(obj, "Issuing")
    ref = spec.get("issuerRef") or {}
    return {
        "name": (obj.get("metadata") or {}).get("name", name),
        "namespace": (obj.get("metadata") or {}).get("namespace", namespace),
        "exists": True,
        "secret_name": spec.get("secretName"),
        "revision": status.get("revision"),
        "not_before": status.get("notBefore"),
        "not_after": status.get("notAfter"),
        "renewal_time": status.get("renewalTime"),
        "ready": ready.get("status") == "True" if ready else None,
        "ready_reason": ready.get("reason"),
        "ready_message": ready.get("message"),
        "issuing": bool(issuing and issuing.get("status") == "True"),
        "duration": spec.get("duration"),
        "renew_before": spec.get("renewBefore"),
        "renew_before_percentage": spec.get("renewBeforePercentage"),
        "issuer_ref": {"name": ref.get("name"), "kind": ref.get("kind") or "Issuer",
                       "group": ref.get("group") or "cert-manager.io"},
    }


def _istiod_entry(deployments, reload):
    """Version and hot-reload verdict from the istiod Deployment(s); reload evidence from the check."""
    # found: None when neither the Deployments nor the pods were looked at (the reload check is
    # skipped while there is no cacerts), so that no finding claims istiod is missing.
    found = True if deployments else (None if reload is None else False)
    entry = {"found": found, "deployments": [], "version": None, "hot_reload": None,
             "hot_reload_state": None, "reloaded": None, "root_consistent": None, "last_reload": None,
             "managed_by": None, "hot_reload_patch_at_risk": [], "problems": []}
    states = []
    for dep in deployments or []:
        facts = deployment_facts(dep)
        version = facts["version"]
        state = istiod_versions.hot_reload(version, facts["auto_reload_env"])
        states.append(state)
        entry["deployments"].append({
            "name": facts["name"],
            "image": facts["image"] or None,
            "version": str(version) if version else facts["tag"],
            "hot_reload_state": state,
            "auto_reload_plugin_certs": facts["auto_reload_env"],
            "managed_by": install_manager.detect(dep)["manager"],
        })
        at_risk = install_manager.patch_at_risk(dep)
        if at_risk:
            entry["hot_reload_patch_at_risk"].append(at_risk)
    if not entry["deployments"] and reload and reload.get("pods"):
        # Version and AUTO_RELOAD_PLUGIN_CERTS (it matters for 1.14-1.18) from the running pods
        # istiod_reload_check saw: what istiod actually runs with, no Deployment read needed.
        entry["found"] = True
        for pod in reload["pods"]:
            version = istiod_versions.parse_version(pod.get("version"))
            state = istiod_versions.hot_reload(version, pod.get("auto_reload_plugin_certs"))
            states.append(state)
            entry["deployments"].append({"name": pod.get("name"), "image": pod.get("image"),
                                         "version": str(version) if version else pod.get("version"),
                                         "hot_reload_state": state,
                                         "auto_reload_plugin_certs": pod.get("auto_reload_plugin_certs"),
                                         "source": "pod"})
    managers = sorted(set(d["managed_by"] for d in entry["deployments"] if d.get("managed_by")))
    entry["managed_by"] = ", ".join(managers) if managers else None
    if entry["deployments"]:
        entry["version"] = ", ".join(sorted(set(d["version"] or "unknown" for d in entry["deployments"])))
        # The weakest verdict of all revisions is the fleet-relevant one.
        order = [istiod_versions.RELOAD_UNSUPPORTED, istiod_versions.RELOAD_INEFFECTIVE, istiod_versions.RELOAD_OFF,
                 istiod_versions.RELOAD_UNKNOWN, istiod_versions.RELOAD_ON]
        entry["hot_reload_state"] = min(states, key=order.index)
        entry["hot_reload"] = _HOT_RELOAD_TEXT[entry["hot_reload_state"]]
    if reload:
        entry["reloaded"] = reload.get("reloaded")
        entry["root_consistent"] = reload.get("root_consistent")
        entry["last_reload"] = _last_reload(reload)
        entry["problems"] = [_problem_text(p) for p in reload.get("problems") or []]
    return entry


def _last_reload(reload):
    """The newest piece of reload evidence as ``{time, pod, how, line}``, or None.

    istiod_reload_check returns per pod ``evidence``: strings "<RFC 3339 time> <log message>".
    """
    found = []
    for pod in reload.get("pods") or []:
        if not isinstance(pod, dict):
            continue
        for item in pod.get("evidence") or []:
            if isinstance(item, dict):
                when, line = item.get("time"), item.get("line") or item.get("message")
            else:
                text = str(item)
                head, rest = (text.split(" ", 1) + [""])[:2]
                when, line = (head, rest) if head[:1].isdigit() and "T" in head else (None, text)
            found.append({"time": when, "pod": pod.get("name"), "how": pod.get("how"), "line": line})
    if not found:
        return None
    found.sort(key=lambda e: e.get("time") or "")
    return found[-1]


def _problem_text(problem):
    """istiod_reload_check problems are ``{code, cause, fix, pod}``; make one sentence pair of each."""
    if isinstance(problem, dict):
        cause = problem.get("cause") or problem.get("message") or problem.get("code") or ""
        fix = problem.get("fix")
        return ("%s Fix: %s" % (cause, fix)) if fix else cause
    return str(problem)


def _note(errors, text):
    if text not in errors:
        errors.append(text)


def _certificate_object(certificate, errors, applied=False):
    """The Certificate as ``{spec, status}`` (or None when absent) from a ``meshpki.istio_ca.certificate`` result.

    One input shape: the registered result of the certificate module (``merge_live_spec`` in check
    mode for a read, ``applied`` for the result of the change: its ``spec`` is then what is stored).
    None is "not read". Registered with ``failed_when: false``, so "failed" cannot be trusted: a
    result without ``exists`` is a failed read, added to ``errors``.
    """
    if certificate is None or not isinstance(certificate, dict) or certificate.get("skipped"):
        return None
    if certificate.get("exists") is True:
        spec = certificate.get("spec") if applied else certificate.get("live_spec")
        if isinstance(spec, dict):
            return {"spec": spec, "status": certificate.get("status") or {}}
    if certificate.get("exists") is False:
        return None
    errors.append("Certificate: %s" % (certificate.get("msg") or "could not be read"))
    return None


def _deployments(istiod, errors):
    """istiod Deployment objects from a list, a k8s_info result (skipped: none read) or a failure."""
    if isinstance(istiod, dict):
        if istiod.get("failed"):
            _note(errors, "istiod Deployments: %s" % (istiod.get("msg") or "could not be read"))
            return []
        return istiod.get("resources") or []
    return istiod or []


def _root_certificate_entry(certificate):
    """The cert-manager root behind the issuer, from the certificate module's ``root_policy`` (None if not read)."""
    policy = certificate.get("root_policy") if isinstance(certificate, dict) else None
    if not isinstance(policy, dict) or not policy.get("root_certificate"):
        return None
    return {"name": policy["root_certificate"], "self_signed": policy.get("self_signed"),
            "rotation_policy": policy.get("rotation_policy"), "renewal_time": policy.get("root_renewal_time"),
            "not_after": policy.get("root_not_after"), "renewal_policy": policy.get("root_renewal_policy"),
            "problems": list(policy.get("problems") or [])}


def cluster_status(name, certificate=None, inspect=None, istiod=None, reload=None, errors=None,
                   certificate_name="cacerts", namespace="istio-system", now=None, applied=False):
    """One cluster's report entry from raw task results; judgement goes into ``problems``.

    ``certificate`` may be the certificate module's result with ``check_root_policy``: its root's renewal
    time then lands in ``root_certificate`` and its root problems in ``problems``. ``istiod`` (the
    Deployments) gives each revision's manager and flags a hot-reload patch its manager does not hold.
    """
    errors = [str(e) for e in (_plain(errors) or []) if e]
    certificate_raw = certificate
    certificate = _certificate_object(_plain(certificate), errors, applied=bool(applied))
    raw_inspect = _plain(inspect)
    inspect = _ok_result(raw_inspect)
    if inspect is not None and "certificates" not in inspect:
        inspect = None  # registered with failed_when: false: a failure has a msg and no certificates
    absent = []  # a Secret that is not there is a finding about the cluster, not a failure to read it
    if inspect is None and isinstance(raw_inspect, dict) and raw_inspect.get("msg") and not raw_inspect.get("skipped"):
        text = "cacerts: %s" % raw_inspect["msg"]
        if "not found" in text.lower() and text not in errors:
            absent.append(text)
        else:
            _note(errors, text)
    reload_result = _plain(reload)
    reload_ok = reload_result if isinstance(reload_result, dict) and "reloaded" in reload_result else None
    moment = rfc3339.parse(now, lenient=True) if isinstance(now, str) else None
    moment = moment or rfc3339.now()
    deployments = _deployments(_plain(istiod), errors)

    cause = _unread_cause(_plain(certificate_raw), raw_inspect, reload_result, _plain(istiod), errors)
    problems = list(errors) + absent
    if cause:
        # One sentence with the cause first; each read's own message stays in ``errors``.
        problems = ["cannot read this cluster: %s" % cause] + [e for e in problems if cause not in e]
    entry = {
        "name": str(name),
        "reachable": not cause,
        "unreachable_cause": cause,
        "checked_at": rfc3339.format(moment),
        "certificate": _certificate_entry(certificate_name, namespace, certificate),
        "intermediate": None,
        "root": None,
        "chain": None,
        "istiod": _istiod_entry(deployments, reload_ok),
        "root_certificate": _root_certificate_entry(_plain(certificate_raw)),
        "errors": errors,
        "problems": problems,
    }

    cert = entry["certificate"]
    if not cert["exists"] and entry["reachable"] and not errors:
        problems.append("Certificate %s/%s does not exist: cacerts is not managed by cert-manager here; "
                        "run deploy.yml (ca_setup) first" % (namespace, certificate_name))
    elif cert["exists"]:
        if cert["ready"] is False:
            problems.append("Certificate %s/%s is not Ready (%s: %s)"
                            % (namespace, certificate_name, cert["ready_reason"], cert["ready_message"]))
        if cert["issuing"]:
            problems.append("Certificate %s/%s is being issued right now (Issuing=True)" % (namespace, certificate_name))

    if inspect:
        certs = inspect.get("certificates") or []
        chain = inspect.get("chain") or {}
        first = certs[0] if certs else {}
        root = next((c for c in certs if c.get("fingerprint_sha256") == chain.get("root_fingerprint_sha256")), {})
        entry["intermediate"] = {
            "subject": first.get("subject"),
            "issuer": first.get("issuer"),
            "serial_hex": first.get("serial_hex"),
            "serial_number": str(first["serial_number"]) if first.get("serial_number") is not None else None,
            "not_before": first.get("not_before"),
            "not_after": first.get("not_after"),
            "seconds_remaining": first.get("seconds_remaining"),
            "expired": first.get("expired"),
            "fingerprint_sha256": first.get("fingerprint_sha256"),
            "public_key_type": first.get("public_key_type"),
            "public_key_size": first.get("public_key_size"),
        }
        entry["root"] = {
            "subject": chain.get("root_subject") or root.get("subject"),
            "fingerprint_sha256": chain.get("root_fingerprint_sha256"),
            "not_after": root.get("not_after"),
        }
        entry["chain"] = {
            "length": chain.get("length"),
            "ends_at_root": chain.get("ends_at_root"),
            "key_matches": chain.get("key_matches"),
            "istio_ready": inspect.get("istio_ready"),
            "problems": list(chain.get("problems") or []),
            "istio_problems": list(inspect.get("istio_problems") or []),
            "istio_warnings": list(inspect.get("istio_warnings") or []),
        }
        for text in entry["chain"]["problems"] + entry["chain"]["istio_problems"]:
            if text not in problems:
                problems.append(text)
        secret_serial = first.get("serial_hex")
        if cert["exists"] and cert.get("not_after") and first.get("not_after") \
                and rfc3339.parse(cert["not_after"], lenient=True) != rfc3339.parse(first.get("not_after"), lenient=True):
            problems.append("Certificate status.notAfter (%s) differs from the cacerts Secret's certificate (%s): "
                            "cert-manager has not caught up with the Secret" % (cert["not_after"], first.get("not_after")))
        entry["intermediate"]["serial_hex"] = secret_serial

    for text in (entry["root_certificate"] or {}).get("problems") or []:
        if text not in problems:
            problems.append(text)
    istiod_entry = entry["istiod"]
    problems.extend(t for t in istiod_entry["hot_reload_patch_at_risk"] if t not in problems)
    if entry["reachable"] and not errors:
        if istiod_entry["found"] is False:
            problems.append("no istiod Deployment (label app=istiod) found in %s" % namespace)
        elif istiod_entry["found"] and \
                istiod_entry["hot_reload_state"] not in (istiod_versions.RELOAD_ON, istiod_versions.RELOAD_UNKNOWN):
            problems.append("istiod %s: hot reload %s, so a new intermediate is only used after an istiod restart; "
                            "run the istio role (deploy.yml), which sets AUTO_RELOAD_PLUGIN_CERTS=true where needed"
                            % (istiod_entry["version"], istiod_entry["hot_reload"]))
    if reload_ok:
        for problem in reload_ok.get("problems") or []:
            text = _problem_text(problem)
            if text and text not in problems:
                problems.append(text)
        if reload_ok.get("reloaded") is False and not reload_ok.get("problems"):
            problems.append("istiod does not sign with the intermediate now in cacerts (%s)"
                            % (reload_ok.get("msg") or "no reload evidence"))
    elif isinstance(reload_result, dict) and not reload_result.get("skipped") and reload_result.get("msg"):
        text = "istiod reload check failed: %s" % reload_result["msg"]
        if text not in problems:
            problems.append(text)
    entry["ok"] = not problems
    return entry


def _answered(result, success_keys):
    """True when a read got an answer from the cluster's API server, False when it failed before one, None
    when it was not made (absent or skipped).

    Reads are registered with ``failed_when: false``, so success is told by the key a successful result has
    (``success_keys``). A failed read carries ``api_error`` when the API server answered with a Status
    (module_utils/module_runner.py): the cluster was reached, unless the answer was 401 Unauthorized -
    kube-apiserver rejects every request of those credentials (its authentication filter, WithAuthentication
    in k8s.io/apiserver/pkg/endpoints/filters/authentication.go, answers 401 before any handler), so nothing of
    this cluster can be read. A failure without ``api_error`` never reached an API server: the kubeconfig could
    not be read or resolved, the address did not connect, TLS failed (K8sError in module_utils/k8s_errors.py).
    """
    if isinstance(result, list):
        return True  # objects the caller already read
    if not isinstance(result, dict) or result.get("skipped"):
        return None
    if any(key in result for key in success_keys) or "metadata" in result or "apiVersion" in result:
        return True
    api_error = result.get("api_error")
    if isinstance(api_error, dict):
        return api_error.get("code") != 401
    return False


def _unread_cause(certificate, inspect, reload, istiod, errors):
    """Why nothing of this cluster could be read (the first failed read's message), or None when some read
    got an answer.

    Deciding from the shape of the results, not from the wording of messages: matching words such as
    "connection refused" took a misspelled kubeconfig path ("Cannot read kubeconfig ...") or a 401 for a
    readable cluster (issue 18). With no read results at all, the given ``errors`` are the cause.
    """
    reads = [(certificate, ("exists", "resources")), (inspect, ("certificates",)), (reload, ("reloaded",)),
             (istiod, ("resources",))]
    answers = [(result, _answered(result, key)) for result, key in reads]
    if any(answer for _result, answer in answers):
        return None
    failed = [result for result, answer in answers if answer is False]
    if failed:
        return " ".join(str(failed[0].get("msg") or "the read failed with no message").split())
    return "; ".join(errors) if errors else None


def cached_cluster_statuses(document, hosts, path="the cache"):
    """The entries of a saved fleet status document (a report.json, or the fleet-status.json rotate.yml
    writes) for ``hosts``, so report.yml can render without contacting any cluster.

    A host the document does not know gets an entry whose problem says so (its status is unknown,
    not healthy). Each entry keeps its own ``checked_at``: how old it is stays visible.
    """
    document = _plain(document)
    hosts = _plain(hosts) or []
    if not isinstance(document, dict) or document.get("schema_version") != SCHEMA_VERSION \
            or not isinstance(document.get("clusters"), list):
        raise AnsibleFilterError("%s is not a fleet status document of schema_version %d (a report.json from "
                                 "report.yml or the fleet-status.json rotate.yml writes)" % (path, SCHEMA_VERSION))
    known = dict((e.get("name"), e) for e in document["clusters"] if isinstance(e, dict))
    out = []
    for host in hosts:
        if host in known:
            out.append(dict(known[host]))
        else:
            text = ("no saved status for this cluster in %s (generated %s); run report.yml without report_from to "
                    "read it live" % (path, document.get("generated_at")))
            entry = cluster_status(host, errors=[text])
            # Not contacted: whether it is reachable is unknown (null), its status is a problem.
            entry.update(reachable=None, unreachable_cause=None, problems=[text])
            out.append(entry)
    return out


def root_consensus(fingerprints):
    """``{cluster: fingerprint}`` -> the most common root and who differs.

    Returns ``{consistent, reference, groups: {fp: [clusters]}, differing: [clusters], unknown: [clusters]}``.
    ``reference`` is the fingerprint most clusters share; on a tie there is none (null) and every
    cluster counts as differing, because no majority can say which root is right.
    """
    fingerprints = _plain(fingerprints) or {}
    if not isinstance(fingerprints, dict):
        raise AnsibleFilterError("root_consensus expects a mapping of cluster name to root fingerprint")
    groups = {}
    unknown = []
    for cluster in sorted(fingerprints):
        fp = fingerprints[cluster]
        if not fp:
            unknown.append(cluster)
            continue
        groups.setdefault(str(fp).lower(), []).append(cluster)
    reference = None
    if groups:
        ranked = sorted(groups.items(), key=lambda item: -len(item[1]))
        if len(ranked) == 1 or len(ranked[0][1]) > len(ranked[1][1]):
            reference = ranked[0][0]
    differing = sorted(c for fp, members in groups.items() if fp != reference for c in members)
    return {
        "consistent": len(groups) <= 1,
        "reference": reference,
        "groups": groups,
        "differing": differing,
        "unknown": unknown,
        "describe": "; ".join("%s...: %s" % (fp[:23], ", ".join(members)) for fp, members in sorted(groups.items())),
    }


def _add_trust(entry, trust):
    """Put a cluster's trust check (ca_setup's ``ca_setup_trust_status``) into its entry as ``trust``.

    Its problems (a Secret holding the fleet root's or another cluster's issuing CA key, a check that could not
    run) become the cluster's problems, except on a cluster that could not be read at all: there the one
    "cannot read this cluster" problem already says why nothing was checked.
    """
    if not isinstance(trust, dict):
        entry.setdefault("trust", None)
        return
    keep = ("source", "ca_secret", "root_key", "issuing_ca", "exposed", "ok", "problems")
    entry["trust"] = dict((k, trust.get(k)) for k in keep)
    if entry.get("reachable") is False:
        return
    problems = list(entry.get("problems") or [])
    for text in trust.get("problems") or []:
        if text not in problems:
            problems.append(text)
    entry["problems"] = problems
    if problems:
        entry["ok"] = False


def fleet_report(clusters, expiring_within=DEFAULT_EXPIRING_WITHIN, generated_at=None, source="live", title=None,
                 trust=None):
    """The ``report.json`` document (schema_version 1) from ``cluster_status`` entries.

    ``trust``: ``{cluster: ca_setup_trust_status}`` (ca_setup's ``inspect_trust`` entry point), added to each entry.
    """
    entries = _plain(clusters) or []
    if isinstance(entries, dict):
        entries = [dict(v, name=v.get("name", k)) for k, v in entries.items()]
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("name") for e in entries):
        raise AnsibleFilterError("fleet_report expects a list of cluster entries (from cluster_status), each with a name")
    trust = _plain(trust)
    if trust is not None:
        if not isinstance(trust, dict):
            raise AnsibleFilterError("fleet_report: trust must be a mapping of cluster name to ca_setup_trust_status")
        for entry in entries:
            _add_trust(entry, trust.get(entry["name"]))
    threshold = _seconds(expiring_within, "expiring_within")
    moment = rfc3339.parse(generated_at, lenient=True) if generated_at else None
    moment = moment or rfc3339.now()
    entries = sorted(entries, key=lambda e: _natural(e["name"]))

    consensus = root_consensus(dict((e["name"], ((e.get("root") or {}).get("fingerprint_sha256"))) for e in entries))
    expiring, expired = [], []
    for entry in entries:
        not_after = rfc3339.parse((entry.get("intermediate") or {}).get("not_after"), lenient=True)
        if not not_after:
            continue
        left = (not_after - moment).total_seconds()
        if left <= 0:
            expired.append(entry["name"])
        elif left <= threshold:
            expiring.append(entry["name"])
        entry.setdefault("intermediate", {})["seconds_remaining"] = int(left)
    for entry in entries:
        if entry["name"] in consensus["differing"]:
            own = ((entry.get("root") or {}).get("fingerprint_sha256") or "")[:23]
            text = ("root %s... differs from the root most clusters share (%s...): workloads here will not trust "
                    "peers in the rest of the mesh" % (own, (consensus["reference"] or "no majority")[:23]))
            if text not in (entry.get("problems") or []):  # a cached entry may carry it already
                entry["problems"] = list(entry.get("problems") or []) + [text]
            entry["ok"] = False
    failing = [e["name"] for e in entries if e.get("problems")]
    unreachable = [e["name"] for e in entries if e.get("reachable") is False]
    # "One shared root" is only yes when every cluster's root is known and they agree; a cluster whose root
    # could not be read could hold any root, so then it is unknown (null), never yes (issue 18).
    if not consensus["consistent"]:
        shared_root = False
    elif consensus["unknown"] or not consensus["groups"]:
        shared_root = None
    else:
        shared_root = True
    return {
        "schema_version": SCHEMA_VERSION,
        "title": title or "Istio CA fleet report",
        "generated_at": rfc3339.format(moment),
        "source": source,
        "settings": {"expiring_within_seconds": threshold},
        "fleet": {
            "clusters_total": len(entries),
            "clusters_ok": len(entries) - len(failing),
            "ok": not failing and not expired and shared_root is True,
            "verdict": _verdict(entries, failing, expired, shared_root),
            "root_consistent": shared_root,
            "reference_root": consensus["reference"],
            "roots": consensus["groups"],
            "root_differs": consensus["differing"],
            "root_unknown": consensus["unknown"],
            "expiring_within_threshold": expiring,
            "expired": expired,
            "failing_checks": failing,
            "unreachable": unreachable,
        },
        "clusters": entries,
    }


def _verdict(entries, failing, expired, shared_root):
    """The fleet's state in one line (report.yml prints it and fails with it)."""
    shared = {True: "yes", False: "NO"}.get(shared_root, "unknown")
    bad = ["%s unreachable: %s" % (e["name"], e.get("unreachable_cause")) for e in entries if e.get("reachable") is False]
    others = [n for n in failing if n not in set(e["name"] for e in entries if e.get("reachable") is False)]
    if others:
        # each cluster with its first problem: a run that fails on the verdict says why (a missing RBAC
        # permission, for one, arrives here as the API's sentence), not only where to look
        first = dict((e["name"], (e.get("problems") or [""])[0]) for e in entries)
        bad.append("failing checks: %s" % ", ".join("%s (%s)" % (n, first[n]) if first.get(n) else n for n in others))
    if expired:
        bad.append("expired: %s" % ", ".join(expired))
    if not bad and shared_root is True:
        return "OK: %d clusters, one shared root" % len(entries)
    return "not OK: %s" % "; ".join(bad + ["one shared root: %s" % shared])


def _natural(name):
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", str(name))]
