# -*- coding: utf-8 -*-
"""The cmctl-renew condition and the wait predicate."""

from __future__ import absolute_import, division, print_function

import copy
import datetime

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import status as cst
from unit.fake_api import certificate, cond

NOW = datetime.datetime(2026, 8, 22, 10, 0, 5, 123456, tzinfo=datetime.timezone.utc)


def test_manual_trigger_appends_issuing_and_keeps_ready():
    obj = certificate(generation=4, revision=2, conditions=[cond("Ready", "True", "Ready", gen=4)])
    original = copy.deepcopy(obj)
    out = cst.with_manual_trigger(obj, NOW)
    assert obj == original  # input untouched
    assert out["status"]["conditions"] == [
        cond("Ready", "True", "Ready", gen=4),
        {"type": "Issuing", "status": "True", "reason": "ManuallyTriggered",
         "message": "Certificate re-issuance manually triggered", "lastTransitionTime": "2026-08-22T10:00:05Z",
         "observedGeneration": 4}]
    assert out["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]  # sent for optimistic locking
    assert out["status"]["revision"] == 2


def test_manual_trigger_replaces_issuing_false_with_a_new_transition_time():
    obj = certificate(generation=2, conditions=[cond("Issuing", "False", "Failed", "boom", gen=2), cond("Ready", "False")])
    out = cst.with_manual_trigger(obj, NOW)["status"]["conditions"]
    assert out[0]["status"] == "True" and out[0]["lastTransitionTime"] == "2026-08-22T10:00:05Z"
    assert out[0]["reason"] == "ManuallyTriggered" and out[1] == cond("Ready", "False")


def test_manual_trigger_keeps_transition_time_when_already_issuing():
    obj = certificate(conditions=[cond("Issuing", "True", "Renewing", when="2026-08-01T00:00:00Z")])
    out = cst.with_manual_trigger(obj, NOW)["status"]["conditions"]
    assert out == [dict(cond("Issuing", "True", "ManuallyTriggered", cst.MANUAL_MESSAGE, when="2026-08-01T00:00:00Z"))]


def test_manual_trigger_on_object_without_status():
    obj = certificate()
    del obj["status"]
    assert cst.with_manual_trigger(obj, NOW)["status"]["conditions"][0]["type"] == "Issuing"


def renewal_sequence():
    """A renewal of revision 1 as cert-manager reports it: Ready stays True throughout."""
    ready = cond("Ready", "True", "Ready", gen=1)
    return [
        certificate(revision=1, conditions=[ready, cond("Issuing", "True", "ManuallyTriggered")]),
        certificate(revision=1, conditions=[ready, cond("Issuing", "True", "ManuallyTriggered")]),
        certificate(revision=2, conditions=[ready]),
    ]


def test_ready_stays_true_during_renewal_must_not_return_early():
    expect = cst.Expectation(new_revision=True, baseline_revision=1)
    states = [expect.state(obj)[0] for obj in renewal_sequence()]
    assert states == [cst.PENDING, cst.PENDING, cst.DONE]


def test_new_revision_needs_current_generation_ready_and_no_issuing():
    expect = cst.Expectation(new_revision=True, baseline_revision=1)
    stale_ready = certificate(generation=2, revision=2, conditions=[cond("Ready", "True", gen=1)])
    assert expect.state(stale_ready)[0] == cst.PENDING
    still_issuing = certificate(generation=2, revision=2,
                                conditions=[cond("Ready", "True", gen=2), cond("Issuing", "True", gen=2)])
    assert expect.state(still_issuing)[0] == cst.PENDING
    issued_ssa_gate = certificate(generation=2, revision=2,
                                  conditions=[cond("Ready", "True", gen=2), cond("Issuing", "False", "Issued", gen=2)])
    assert expect.state(issued_ssa_gate)[0] == cst.DONE


def test_first_issuance_from_no_revision():
    expect = cst.Expectation(new_revision=True, baseline_revision=None)
    assert expect.state(certificate(conditions=[cond("Ready", "False", "DoesNotExist")]))[0] == cst.PENDING
    assert expect.state(certificate(revision=1, conditions=[cond("Ready", "True")]))[0] == cst.DONE


def test_without_new_revision_ready_of_current_generation_is_enough():
    expect = cst.Expectation(new_revision=False, baseline_revision=3)
    assert expect.state(certificate(generation=2, revision=3, conditions=[cond("Ready", "True", gen=2)]))[0] == cst.DONE
    assert expect.state(certificate(generation=2, revision=3, conditions=[cond("Ready", "True", gen=1)]))[0] == cst.PENDING
    assert expect.state(certificate(generation=2, revision=3))[0] == cst.PENDING


def test_issuing_false_fails_unless_it_is_the_stale_one():
    failed = cond("Issuing", "False", "Failed", "The certificate request has failed to complete and will be retried: x")
    obj = certificate(revision=1, conditions=[cond("Ready", "True"), failed])
    assert cst.Expectation(True, 1).state(obj) == (cst.FAILED, failed)
    assert cst.Expectation(True, 1, stale_issuing=failed).state(obj)[0] == cst.PENDING
    old_generation = certificate(generation=2, revision=1, conditions=[dict(failed, observedGeneration=1)])
    assert cst.Expectation(True, 1).state(old_generation)[0] == cst.PENDING


def test_accessors_tolerate_missing_parts():
    assert cst.revision(None) is None and cst.conditions({}) == [] and cst.condition({}, "Ready") is None
    assert rfc3339.format(NOW) == "2026-08-22T10:00:05Z"
