# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Wait for a Certificate's issuance: poll GET with a short adaptive interval, fail with the cause.

Polling (not watch) keeps one simple request per step and works through any proxy; the interval
starts at 0.5 s and grows to 2 s, bounded by the deadline. Stalls are explained on the way: an
issuer that stays not Ready over two checks 3 s apart fails at once (cert-manager would wait for it
forever); Issuing=False fails at once with the CertificateRequest's reason (cert-manager retries
only after an hour of backoff); a timeout reports the last conditions, issuer and request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import diagnose as diag
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import status as cst
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError

FIRST_INTERVAL = 0.5
MAX_INTERVAL = 2.0
GROWTH = 1.5
ISSUER_CHECK_EVERY = 3.0


class Waiter(object):
    """One wait for one Certificate; ``clock``/``sleep`` are injectable for tests."""

    def __init__(self, client, namespace, name, path, timeout, clock=time.monotonic, sleep=time.sleep):
        self.client = client
        self.namespace = namespace
        self.name = name
        self.path = path
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep

    def _partial(self, obj):
        return {"conditions": cst.conditions(obj), "revision": cst.revision(obj)}

    def _failed(self, obj, issuing):
        rev = (cst.revision(obj) or 0) + 1
        parts = ["Issuance of Certificate %s/%s failed: %s" % (self.namespace, self.name, diag.describe_condition(issuing))]
        request = diag.request_summary(self.client, self.namespace, self.name, rev)
        if request:
            parts.append(request)
        problem = diag.issuer_problem(self.client, self.namespace, (obj or {}).get("spec"))
        if problem:
            parts.append(problem)
        parts.append("cert-manager retries only after its backoff (1h, doubling); fix the cause, then run again "
                     "with renew: true to retry now")
        raise CertificateError(". ".join(parts) + ".", result=self._partial(obj))

    def _issuer_not_ready(self, obj, problem):
        raise CertificateError(
            "Certificate %s/%s cannot be issued: %s. cert-manager keeps the CertificateRequest Pending "
            "(IssuerNotReady) until the issuer is Ready; fix the issuer, then run again."
            % (self.namespace, self.name, problem), result=self._partial(obj))

    def _timed_out(self, obj, expectation):
        want = ("a new revision (status.revision > %d), no Issuing condition and Ready=True at generation %s"
                % (expectation.baseline_revision, cst.generation(obj))) if expectation.new_revision else \
            "Ready=True at generation %s" % cst.generation(obj)
        parts = ["Timed out after %ss waiting for Certificate %s/%s: wanted %s; last seen: revision %s, %s"
                 % (self.timeout, self.namespace, self.name, want, cst.revision(obj), diag.describe_conditions(obj))]
        if not cst.conditions(obj):
            parts.append("cert-manager has not acted on it: is the cert-manager controller running?")
        request = diag.request_summary(self.client, self.namespace, self.name, (cst.revision(obj) or 0) + 1)
        if request:
            parts.append(request)
        problem = diag.issuer_problem(self.client, self.namespace, (obj or {}).get("spec"))
        if problem:
            parts.append(problem)
        raise CertificateError(". ".join(parts) + ".", result=self._partial(obj))

    def wait(self, obj, expectation):
        """Return the Certificate once ``expectation`` holds; raise CertificateError otherwise."""
        start = self.clock()
        deadline = start + self.timeout
        interval = FIRST_INTERVAL
        next_issuer_check = start + ISSUER_CHECK_EVERY
        issuer_was_bad = False
        while True:
            state, cond = expectation.state(obj)
            if state == cst.DONE:
                return obj
            if state == cst.FAILED:
                self._failed(obj, cond)
            now = self.clock()
            if now >= deadline:
                self._timed_out(obj, expectation)
            if now >= next_issuer_check:
                problem = diag.issuer_problem(self.client, self.namespace, obj.get("spec"))
                if problem and issuer_was_bad:
                    self._issuer_not_ready(obj, problem)
                issuer_was_bad = bool(problem)
                next_issuer_check = now + ISSUER_CHECK_EVERY
            self.sleep(max(0.0, min(interval, deadline - now)))
            interval = min(MAX_INTERVAL, interval * GROWTH)
            current = self.client.get_or_none(self.path)
            if current is None:
                raise CertificateError("Certificate %s/%s was deleted while waiting for its issuance."
                                       % (self.namespace, self.name), result=self._partial(obj))
            obj = current
