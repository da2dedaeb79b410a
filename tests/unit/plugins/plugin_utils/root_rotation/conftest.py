"""Roots and intermediates for the root rotation tests (ECDSA P-256: fast), made once per module."""

from __future__ import annotations

import pytest

from kubesim.tests_support_fakecluster import make_ca


def intermediate(parent, cluster="c1"):
    return make_ca("Intermediate CA %s" % cluster, parent, days=365)


@pytest.fixture(scope="module")
def pki():
    a, b = make_ca("Root CA A", days=900), make_ca("Root CA B", days=900)
    return {"A": a, "B": b, "A1": intermediate(a), "B1": intermediate(b)}
