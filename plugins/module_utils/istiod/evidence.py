# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Judge one istiod pod: has it loaded the intermediate now in ``cacerts``?

Proof (docs/upstream/istiod.md#reload-steps, docs/upstream/istiod.md#serving-cert-log):
- its ``x509 cert`` lines since the Secret changed show the expected intermediate
  (SN == expected serial) and a leaf issued by it (leaf Issuer == that Subject);
  with the success marker this is a hot reload, in a pod that started after the
  change it is the material loaded at start;
- or (1.24+) ``citadel_server_cert_chain_expiry_timestamp`` equals the intermediate's
  NotAfter.
Lines logged before ``since`` never count: ``x509 cert`` lines are logged at startup too.
Without proof, the log lines, the version rules and the pod's start say why not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import logs
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import problems
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import versions

RELOADED = "reloaded"
PENDING = "pending"    # nothing decisive yet: keep polling
BLOCKED = "blocked"    # istiod will not load it without someone acting: stop polling

HOT_RELOAD = "hot_reload"
AT_START = "at_start"
METRIC = "metric"

MAX_EVIDENCE = 8


class Target(object):
    """What the pods should have loaded."""

    def __init__(self, serial=None, subject=None, not_after=None, tls_only=False, secret_created=None):
        self.serial = serial
        self.subject = subject
        self.not_after = not_after            # aware datetime
        self.tls_only = tls_only              # Secret has tls.* but no Istio-native names
        self.secret_created = secret_created  # aware datetime


class PodVerdict(object):
    def __init__(self, state, how=None, evidence=None, signing_serial=None, problems_=None, notes=None):
        self.state = state
        self.how = how
        self.evidence = evidence or []
        self.signing_serial = signing_serial
        self.problems = problems_ or []
        self.notes = notes or []

    @property
    def reloaded(self):
        return self.state == RELOADED


def _norm_dn(text):
    return ",".join(part.strip().lower() for part in (text or "").split(","))


def x509_runs(events):
    """Consecutive ``x509 cert`` lines: one run is one logged serving chain, leaf first."""
    runs, current = [], []
    for event in events:
        if event.kind == logs.X509:
            current.append(event)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _intermediate_of(run):
    """The line of the cert that issued the run's leaf (the signing intermediate), or None."""
    leaf = run[0].x509
    for event in run[1:]:
        if event.x509.subject == leaf.issuer:
            return event
    return None


def chain_proof(events, target):
    """(proving run or None, intermediate serial last seen) from x509 lines since ``since``."""
    seen = None
    proof = None
    for run in x509_runs(events):
        inter = _intermediate_of(run)
        leaf = run[0].x509
        if inter is not None:
            seen = inter.x509.serial
        if target.serial:
            if inter is not None and inter.x509.serial == target.serial:
                proof = run
        elif target.subject and _norm_dn(leaf.issuer) == _norm_dn(target.subject):
            proof = run  # no serial to compare: the leaf's issuer is the best there is
    return proof, seen


def metric_matches(metric, target):
    if metric is None or target.not_after is None:
        return False
    return abs(float(metric) - _epoch(target.not_after)) < 1.5


def _epoch(when):
    import calendar  # pylint: disable=import-outside-toplevel
    return calendar.timegm(when.utctimetuple()) + when.microsecond / 1e6


def _first(events, *kinds):
    for event in events:
        if event.kind in kinds:
            return event
    return None


def _last(events, *kinds):
    for event in reversed(events):
        if event.kind in kinds:
            return event
    return None


def _log_blockers(pod, events):
    """Problems that log lines since ``since`` prove; istiod will not reload without help."""
    found = []
    refused = _last(events, logs.ROOT_REFUSED, logs.ROOT_REFUSED_MULTIROOT_OFF)
    if refused is not None:
        found.append((refused, problems.root_refused(pod, refused.message)))
    failed = _last(events, logs.UPDATE_FAILED)
    if failed is not None:
        found.append((failed, problems.update_failed(pod, failed.detail)))
    for kind, make in ((logs.ROOT_READ_FAILED, lambda e: problems.root_read_failed(pod, e.detail)),
                       (logs.FORMAT_UNKNOWN, lambda e: problems.format_unknown(pod, e.message)),
                       (logs.DNS_CERT_FAILED, lambda e: problems.dns_cert_failed(pod, e.detail)),
                       (logs.NO_CHANGES, lambda e: problems.no_changes(pod)),
                       (logs.WATCH_ENDED, lambda e: problems.watch_broken(pod, e.message)),
                       (logs.WATCHER_FAILED, lambda e: problems.watch_broken(pod, e.message)),
                       (logs.CA_CREATE_FAILED, lambda e: problems.ca_create_failed(pod, e.message))):
        event = _last(events, kind)
        if event is not None:
            found.append((event, make(event)))
    return found


def _start_mode(events):
    """'plugged' / 'self_signed' / None from startup lines."""
    event = _last(events, logs.PLUGGED_START, logs.SELF_SIGNED_START)
    if event is None:
        return None, None
    return ("self_signed" if event.kind == logs.SELF_SIGNED_START else "plugged"), event


def _rule_blockers(pod, target, head_events, started_after):
    """Problems the version, flags and the pod's start predict before any log line shows them."""
    if started_after:
        if target.tls_only and not versions.reads_tls_names(pod.version):
            return [problems.tls_names_unsupported(pod)], []
        return [], []
    evidence = []
    mode, event = _start_mode(head_events or [])
    if mode == "self_signed":
        return [problems.self_signed(pod, "its startup log says '%s'" % event.message)], [event.short()]
    if mode is None and target.secret_created and pod.started and pod.started < target.secret_created:
        return [problems.self_signed(pod, "it started at %s, before the cacerts Secret was created at %s" % (
            rfc3339.format(pod.started, fraction=True), rfc3339.format(target.secret_created, fraction=True)))], []
    if event is not None:
        evidence.append(event.short())
    watcher = _last(head_events or [], logs.WATCHER_FAILED, logs.WATCH_ENDED)
    if watcher is not None:
        return [problems.watch_broken(pod, watcher.message)], evidence + [watcher.short()]
    mode_rule = pod.hot_reload
    if mode_rule == versions.RELOAD_UNSUPPORTED:
        return [problems.hot_reload_unsupported(pod)], evidence
    if mode_rule == versions.RELOAD_INEFFECTIVE:
        return [problems.hot_reload_ineffective(pod)], evidence
    if mode_rule == versions.RELOAD_OFF:
        return [problems.hot_reload_off(pod)], evidence
    if target.tls_only and not versions.reads_tls_names(pod.version):
        return [problems.tls_names_unsupported(pod)], evidence
    return [], evidence


def _quiet_log_blocker(pod, metric_error):
    """A pod whose log level hides the Info lines: a problem when no other evidence can exist, else None.

    Above info the log cannot prove a reload; the metric can, but only from 1.24 on (docs/upstream/istiod.md#metrics-refresh)
    and only when it can be read.
    """
    if pod.logs_info:
        return None
    if not versions.metric_fresh(pod.version):
        return problems.log_level_hides_reload(
            pod, "Istio %s does not refresh the citadel_server_cert_chain_expiry_timestamp metric at a reload "
                 "(1.24+ does)" % (pod.version or "of unknown version"))
    if metric_error:
        return problems.log_level_hides_reload(pod, "its metrics could not be read: %s" % metric_error)
    return None


def judge(pod, events, target, since, head_events=None, metric=None, metric_error=None):
    """The verdict for ``pod`` from its log ``events`` (any order of arrival; filtered to ``since``).

    ``metric_error`` is why the pod's metrics could not be read, if they were asked for.
    """
    events = logs.since_filter(events, since)
    started_after = pod.started is not None and since is not None and pod.started >= since
    proof, seen = chain_proof(events, target)
    marker = _last(events, logs.RELOAD_DONE)
    evidence = []
    notes = []
    if proof is not None:
        inter = _intermediate_of(proof)
        if marker is not None:
            evidence.append(marker.short())
        evidence.extend(e.short() for e in proof[:2])
        if marker is None and started_after:
            plugged = _first(events, logs.PLUGGED_START)
            if plugged is not None:
                evidence.insert(0, plugged.short())
            notes.append("loaded at start: the pod started at %s, after the Secret changed"
                         % rfc3339.format(pod.started, fraction=True))
            how = AT_START
        else:
            how = HOT_RELOAD
            if marker is None:
                notes.append("the success marker was not seen, but istiod re-issued its serving cert from the "
                             "new intermediate")
        if metric_matches(metric, target):
            evidence.append("citadel_server_cert_chain_expiry_timestamp %s == intermediate NotAfter" % metric)
        # Lines that report trouble are still worth showing, even when the reload then went through.
        extra = [p for e, p in _log_blockers(pod, events) if e.when and proof[0].when and e.when > proof[0].when]
        return PodVerdict(RELOADED, how, evidence[:MAX_EVIDENCE],
                          inter.x509.serial if inter is not None else seen, extra, notes)

    if metric_matches(metric, target):
        evidence.append("citadel_server_cert_chain_expiry_timestamp %s == intermediate NotAfter %s"
                        % (metric, rfc3339.format(target.not_after, fraction=True)))
        if marker is not None:
            evidence.insert(0, marker.short())
        notes.append("proven by the metric only: no matching 'x509 cert' lines since the Secret changed")
        return PodVerdict(RELOADED, METRIC, evidence, seen, [], notes)

    found = _log_blockers(pod, events)
    if started_after:
        mode, event = _start_mode(events)
        if mode == "self_signed":
            found.append((event, problems.self_signed(pod, "it started after the Secret changed and logged '%s'"
                                                      % event.message)))
    if found:
        evidence = [pair[0].short() for pair in found][:MAX_EVIDENCE]
        return PodVerdict(BLOCKED, None, evidence, seen, [pair[1] for pair in found], notes)

    rule_problems, rule_evidence = _rule_blockers(pod, target, head_events, started_after)
    if rule_problems:
        return PodVerdict(BLOCKED, None, rule_evidence, seen, rule_problems, notes)

    quiet = _quiet_log_blocker(pod, metric_error)
    if quiet is not None:
        return PodVerdict(BLOCKED, None, evidence, seen, [quiet], notes)
    if not pod.logs_info:
        notes.append("istiod logs above info (%s): only the metric can prove the reload" % pod.log_flag)

    pending = []
    if marker is not None:
        evidence.append(marker.short())
        if seen and target.serial and seen != target.serial:
            pending.append(problems.wrong_serial(pod, seen, target.serial))
        else:
            pending.append(problems.marker_without_proof(pod))
    if pod.version is None:
        notes.append("Istio version unknown (image %s): hot reload assumed on" % pod.image)
    return PodVerdict(PENDING, None, evidence, seen, pending, notes)


def finalize(verdict, pod, timeout, since):
    """At the deadline a pending pod becomes a failure with a reason."""
    if verdict.state != PENDING:
        return verdict
    if not verdict.problems:
        verdict.problems.append(problems.timeout(pod, timeout, rfc3339.format(since, fraction=True) if since else "?"))
    return verdict
