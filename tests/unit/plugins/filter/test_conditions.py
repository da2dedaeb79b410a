"""Unit tests of condition_current: a condition counts only for the generation it was computed for."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.filter.conditions import condition_current


def _issuer(generation, *conditions):
    return {"metadata": {"name": "istio-ca", "generation": generation},
            "status": {"conditions": [dict(c) for c in conditions]}}


READY_1 = {"type": "Ready", "status": "True", "reason": "KeyPairVerified", "observedGeneration": 1}


@pytest.mark.parametrize("resource, wanted", [
    (_issuer(1, READY_1), True),
    # the spec just changed (generation 2): Ready=True still speaks about generation 1
    (_issuer(2, READY_1), False),
    (_issuer(2, dict(READY_1, observedGeneration=2)), True),
    (_issuer(2, dict(READY_1, status="False", reason="ErrGetKeyPair", observedGeneration=2)), False),
    (_issuer(1, {k: v for k, v in READY_1.items() if k != "observedGeneration"}), False),
    ({"metadata": {"name": "x"}, "status": {"conditions": [READY_1]}}, False),
    (_issuer(1), False),
    ({}, False),
    (None, False),
])
def test_ready_counts_only_for_the_current_generation(resource, wanted):
    assert condition_current(resource) is wanted


def test_other_types_and_statuses():
    obj = _issuer(3, READY_1, {"type": "Issuing", "status": "False", "observedGeneration": 3})
    assert condition_current(obj, "Issuing", "False") is True
    assert condition_current(obj, "Issuing") is False
    assert condition_current(obj, "Approved") is False
