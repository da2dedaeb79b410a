# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Gather istiod's evidence from the API and poll until every pod has loaded the new intermediate.

Per poll: one pod list (pods can be replaced during a wait) and one log request per pod
still undecided, from ``sinceTime`` on (never the whole log). A pod proven or blocked is
not fetched again. Metrics (pods/proxy :15014, Istio 1.24+) and the head of a pod's log
(its startup lines) are fetched only when the log since the change cannot decide. The
root ConfigMaps are listed once, at the end, with one cluster-wide request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import time

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import evidence
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import logs
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import metrics
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import problems
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import roots
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import timing
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import versions
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import IstiodError, K8sApiError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.pods import ISTIOD_SELECTOR, PodInfo
from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.secret import normalize_serial, read_material
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import object_path

METRIC = metrics.EXPIRY_METRIC
METRICS_PORT = 15014
HEAD_BYTES = 65536          # istiod's startup lines are at the very start of its log
FIRST_INTERVAL = 2.0
MAX_INTERVAL = 5.0
METRIC_AFTER = 10.0         # give the log this long before asking the metric
METRIC_EVERY = 15.0


class PodState(object):
    """What has been learnt about one pod across polls."""

    def __init__(self, info):
        self.info = info
        self.events = []
        self.seen = set()
        self.last_time = None
        self.head = None
        self.metric = None
        self.metric_at = None
        self.metric_error = None
        self.log_error = None
        self.verdict = None

    @property
    def decided(self):
        return self.verdict is not None and self.verdict.state != evidence.PENDING

    def add_log(self, text):
        for line in (text or "").splitlines():
            if line in self.seen or not line.strip():
                continue
            self.seen.add(line)
            for event in logs.parse_log(line):
                self.events.append(event)
                if event.when and (self.last_time is None or event.when > self.last_time):
                    self.last_time = event.when


def parse_since(value):
    """The ``since`` option: RFC 3339 text (UTC assumed without offset) or Unix seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.datetime.fromtimestamp(float(value), rfc3339.UTC)
    text = str(value).strip()
    try:
        return datetime.datetime.fromtimestamp(float(text), rfc3339.UTC)
    except ValueError:
        pass
    when = rfc3339.parse(text, lenient=True)
    if when is None:
        raise IstiodError("since %r is not an RFC 3339 timestamp (e.g. 2025-01-31T12:00:00Z) nor Unix "
                          "seconds" % (value,))
    return when


def parse_metric(text, name=METRIC):
    """The value of a Prometheus gauge in text exposition format, or None (istiod/metrics.py)."""
    return metrics.gauge_value(text, name)


class ReloadCheck(object):
    """One run of the check against one cluster."""

    def __init__(self, client, namespace="istio-system", secret_name="cacerts", expected_serial=None,
                 since=None, timeout=180, sleep=None, monotonic=None):
        self.client = client
        self.namespace = namespace
        self.secret_name = secret_name
        self.expected_option = expected_serial
        self.since_option = since
        self.timeout = float(timeout)
        self.sleep = sleep or time.sleep
        self.monotonic = monotonic or time.monotonic
        self.states = {}
        self.global_problems = []
        self.terminating = []

    # -- inputs ------------------------------------------------------------------------------------------------------
    def _target(self):
        try:
            expected = normalize_serial(self.expected_option)
        except ValueError as exc:
            raise IstiodError(str(exc))
        secret = self.client.get_or_none(object_path("v1", "secrets", self.namespace, self.secret_name))
        material = read_material(secret, self.namespace, self.secret_name)
        self.global_problems.extend(material.problems)
        if expected is None:
            expected = material.serial
            if expected is None:
                raise IstiodError(
                    "There is no intermediate to look for: %s Set expected_serial to the serial istiod should "
                    "load." % " ".join(p["cause"] for p in material.problems),
                    result={"problems": material.problems, "reloaded": False})
        elif material.serial and material.serial != expected:
            self.global_problems.append(problems.secret_serial_mismatch(
                self.namespace, self.secret_name, material.serial, expected))
        since = parse_since(self.since_option)
        since_source = "option"
        if since is None:
            since, since_source = material.changed_at, material.changed_source
        if since is None:
            raise IstiodError("Cannot tell when the Secret %s/%s changed (it does not exist): set since."
                              % (self.namespace, self.secret_name),
                              result={"problems": material.problems, "reloaded": False})
        tls_only = material.format == "tls" and not material.has_native_names
        target = evidence.Target(
            expected,
            material.intermediate_summary()["subject"] if material.intermediate is not None else None,
            material.intermediate.not_valid_after_utc if material.intermediate is not None else None,
            tls_only, material.created)
        return material, target, since, since_source

    # -- API reads ---------------------------------------------------------------------------------------------------
    def _list_pods(self):
        """The pods that count as evidence, and the names of those being deleted.

        A deleted pod stays listed, still running and logging, until the kubelet confirms it stopped
        (graceful deletion: kubernetes pkg/registry/core/pod/strategy.go CheckGracefulDelete). During a
        rollout restart the old pods are such pods: they are not the istiod that will serve, so they
        are no evidence either way; they are reported so that callers can wait for them to go.
        """
        found = self.client.get(object_path("v1", "pods", self.namespace),
                                query={"labelSelector": ISTIOD_SELECTOR})
        pods, terminating = [], []
        for item in found.get("items") or []:
            info = PodInfo(item)
            if info.deleting:
                terminating.append(info.name)
                continue
            if info.phase in ("Succeeded", "Failed"):
                continue
            info.namespace = info.namespace or self.namespace
            pods.append(info)
        self.terminating = sorted(terminating)
        return pods

    def _log_path(self, pod):
        return object_path("v1", "pods", self.namespace, pod.name, "log")

    def _fetch_log(self, state, since):
        pod = state.info
        start = since
        if state.last_time is not None and state.last_time > start:
            start = state.last_time
        start = start.replace(microsecond=0)  # the API takes whole seconds; lines already seen are skipped
        try:
            text = self.client.pod_log(self.namespace, pod.name, container=pod.container,
                                       since_time=rfc3339.format(start))
        except K8sApiError as exc:
            if exc.code in (400, 404):
                state.log_error = str(exc)
                return exc.code
            raise
        state.log_error = None
        state.add_log(text)
        return 200

    def _fetch_head(self, state):
        """The first bytes of the pod's log: its startup lines (plugged or self-signed CA, watcher)."""
        pod = state.info
        try:
            text = self.client.request("GET", self._log_path(pod), query={
                "container": pod.container, "timestamps": "true", "limitBytes": str(HEAD_BYTES)}, raw=True)
        except K8sApiError:
            state.head = []
            return
        state.head = logs.parse_log(text[:HEAD_BYTES * 2])

    def _fetch_metric(self, state, now):
        state.metric_at = now
        try:
            text = self.client.proxy_get(self.namespace, state.info.name, METRICS_PORT, "metrics")
        except K8sApiError as exc:
            state.metric_error = str(exc)
            return
        state.metric = parse_metric(text)

    # -- decisions ---------------------------------------------------------------------------------------------------
    def _want_metric(self, state, elapsed, now, final):
        if state.metric_error or not versions.metric_fresh(state.info.version):
            return False
        if not state.info.logs_info:  # the log will never prove it: the metric is the only evidence
            return state.metric_at is None or now - state.metric_at >= FIRST_INTERVAL
        verdict = state.verdict
        if verdict is not None and any(p["code"] == "reload_unproven" for p in verdict.problems):
            return state.metric_at is None or now - state.metric_at >= FIRST_INTERVAL
        if final:
            return state.metric_at is None or now - state.metric_at >= FIRST_INTERVAL
        return elapsed >= METRIC_AFTER and (state.metric_at is None or now - state.metric_at >= METRIC_EVERY)

    def _want_head(self, state, target, since, final):
        pod = state.info
        if state.head is not None or pod.started is None or pod.started >= since:
            return False
        if final:
            return True
        return target.secret_created is not None and pod.started < target.secret_created

    def _judge(self, state, target, since):
        state.verdict = evidence.judge(state.info, state.events, target, since, state.head, state.metric,
                                       state.metric_error)
        if state.log_error and state.verdict.state == evidence.PENDING:
            state.verdict.problems.append(problems.logs_unavailable(state.info, state.log_error))

    def _poll_pod(self, state, target, since, elapsed, now, final=False):
        if self._fetch_log(state, since) == 404:
            return False  # the pod is gone
        if self._want_head(state, target, since, final):
            self._fetch_head(state)
        self._judge(state, target, since)
        if state.verdict.state == evidence.PENDING and self._want_metric(state, elapsed, now, final):
            self._fetch_metric(state, now)
            self._judge(state, target, since)
        return True

    def run(self):
        started = self.monotonic()
        material, target, since, since_source = self._target()
        deadline = started + self.timeout
        interval = FIRST_INTERVAL
        current = []
        while True:
            now = self.monotonic()
            final = now >= deadline
            current = self._list_pods()
            alive = []
            for info in current:
                state = self.states.get(info.uid or info.name)
                if state is None:
                    state = self.states[info.uid or info.name] = PodState(info)
                state.info = info
                if not state.decided and not self._poll_pod(state, target, since, now - started, now, final):
                    continue
                alive.append(state)
            current = alive
            # only terminating pods listed: their replacements are on the way, keep looking
            if (not current and not self.terminating) or (current and all(s.decided for s in current)) or final:
                break
            now = self.monotonic()
            self.sleep(max(0.0, min(interval, deadline - now)))
            interval = min(MAX_INTERVAL, interval + 1.0)
        for state in current:
            state.verdict = evidence.finalize(state.verdict, state.info, self.timeout, since)
        root_check = self._check_roots(material)
        return self._result(material, target, since, since_source, current, root_check, self.monotonic() - started)

    def _check_roots(self, material):
        try:
            found = self.client.get(object_path("v1", "configmaps", None),
                                    query={"fieldSelector": "metadata.name=%s" % roots.CONFIGMAP})
        except K8sApiError as exc:
            if exc.denied:
                # a missing permission is the caller's to fix, not a finding about the roots: fail with the
                # API's sentence (it names verb, resource and user) rather than report "not checked"
                raise
            check = roots.RootCheck(None, [], 0, [problems.root_check_failed(str(exc))])
            return check
        return roots.compare(found.get("items") or [], material.root_bytes)

    # -- result ------------------------------------------------------------------------------------------------------
    def _result(self, material, target, since, since_source, states, root_check, elapsed):
        pods = []
        all_problems = list(self.global_problems)
        for state in sorted(states, key=lambda s: (s.info.revision, s.info.name)):
            info, verdict = state.info, state.verdict
            entry = {
                "name": info.name,
                "revision": info.revision,
                "version": info.version_text,
                "image": info.image,
                "auto_reload_plugin_certs": info.auto_reload,
                "log_level": info.log_level,
                "started_at": rfc3339.format(info.started, fraction=True) if info.started else None,
                "reloaded": verdict.reloaded,
                "how": verdict.how,
                "loaded_at_start": verdict.how == evidence.AT_START,
                "evidence": verdict.evidence,
                "signing_serial": verdict.signing_serial,
                "metric_chain_expiry": state.metric,
                "notes": verdict.notes,
                "problems": verdict.problems,
            }
            pods.append(entry)
            for item in verdict.problems:
                all_problems.append(dict(item, pod=info.name))
        if not states:
            all_problems.append(problems.no_istiod(self.namespace))
        all_problems.extend(root_check.problems)
        reloaded = bool(states) and all(s.verdict.reloaded for s in states)
        return {
            "changed": False,
            "reloaded": reloaded,
            "pods": pods,
            "terminating_pods": list(self.terminating),
            "root_consistent": root_check.consistent,
            "mismatched_namespaces": root_check.mismatched,
            "root_configmaps_checked": root_check.checked,
            "expected_serial": target.serial,
            "intermediate": material.intermediate_summary(),
            "secret_format": material.format,
            "since": rfc3339.format(since, fraction=True),
            "since_source": since_source,
            "elapsed": round(elapsed, 2),
            "api_requests": getattr(self.client, "request_count", None),
            "problems": _dedupe(all_problems),
        }


def _dedupe(items):
    seen, out = set(), []
    for item in items:
        key = (item.get("code"), item.get("cause"), item.get("pod"))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def summary(result):
    """One sentence for ``msg`` when the check fails."""
    pods = result.get("pods") or []
    missing = [p["name"] for p in pods if not p["reloaded"]]
    found = result.get("problems") or []
    # A pod's own problem says most about why it did not reload; fall back to the Secret's.
    first = next((p for p in found if p.get("pod") in missing), found[0] if found else {})
    if not pods:
        head = "No istiod pod found in the namespace"
    else:
        head = "istiod has not loaded intermediate %s in %d of %d pod(s) (%s)" % (
            result.get("expected_serial"), len(missing), len(pods), ", ".join(missing))
    text = head + "."
    if first.get("cause"):
        text += " %s Fix: %s" % (first["cause"], first["fix"])
    more = len(result.get("problems") or []) - 1
    if more > 0:
        text += " (%d more problem(s) in 'problems')" % more
    return text


def effective_timeout(params):
    """``timeout`` when given, else the reload window kubelet's sync cadence implies (timing.reload_window)."""
    try:
        window = timing.reload_window(params.get("kubelet_sync_frequency") or timing.DEFAULT_SYNC_FREQUENCY,
                                      params.get("kubelet_cache_ttl") or timing.DEFAULT_CACHE_TTL)
    except timing.TimingError as exc:
        raise IstiodError(str(exc))
    if params.get("timeout") is not None:
        return float(params["timeout"]), window
    return window, window


def check(client, params):
    """Module entry: run the check and raise when not reloaded and the caller asked to fail."""
    timeout, window = effective_timeout(params)
    run = ReloadCheck(client, namespace=params.get("namespace") or "istio-system",
                      secret_name=params.get("secret_name") or "cacerts",
                      expected_serial=params.get("expected_serial"), since=params.get("since"),
                      timeout=timeout)
    result = run.run()
    result.update(timeout=timeout, reload_window=window)
    if not result["reloaded"] and params.get("fail_on_not_reloaded", True):
        raise IstiodError(summary(result), result=result)
    return result
