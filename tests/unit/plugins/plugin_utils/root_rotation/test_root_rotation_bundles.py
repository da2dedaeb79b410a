"""The root bundles of each step (plugin_utils/root_rotation/bundles.py) and istiod's subset rule per version."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import bundles

from kubesim.controllers.istiod.pki import roots_subset


def test_combined_keeps_the_old_bytes_and_appends_the_canonical_new_root(pki):
    a, b = pki["A"].pem, pki["B"].pem
    old = a.rstrip(b"\n")  # a bundle without a final line end, as a hand-made root-cert.pem may be
    combined = bundles.combined_bundle(old, b.decode())
    assert combined.startswith(old) and combined.endswith(b) and combined == old + b"\n" + b
    assert bundles.old_bundle_of(combined, b) == old + b"\n"
    assert bundles.split(combined, b) == (old + b"\n", "combined")
    assert bundles.split(a, b) == (a, "old") and bundles.split(b, b) == (None, "new")


def test_phase_bundles_from_any_point_of_the_rotation(pki):
    a, b = pki["A"].pem, pki["B"].pem
    for current in (a, a + b):  # before step 1, and on a rerun after it
        assert bundles.phase_bundle("combined", current, b) == a + b
        assert bundles.phase_bundle("new_intermediate", current, b) == a + b
        assert bundles.phase_bundle("new_only", current, b) == b
        assert bundles.phase_bundle("aborted", current, b) == a
    with pytest.raises(bundles.BundleError, match="old bundle is gone"):
        bundles.phase_bundle("aborted", b, b)


def test_bad_new_roots_are_refused(pki):
    with pytest.raises(bundles.BundleError, match="exactly one certificate"):
        bundles.new_root_pem(pki["A"].pem + pki["B"].pem)
    with pytest.raises(bundles.BundleError, match="already in the old bundle"):
        bundles.combined_bundle(pki["A"].pem + pki["B"].pem, pki["B"].pem)
    with pytest.raises(bundles.BundleError):
        bundles.combined_bundle(b"", pki["B"].pem)


@pytest.mark.parametrize("version,rule", [("1.19.9", "none"), ("1.20.0", "bytes"), ("1.22.3", "bytes"),
                                          ("1.29.6", "bytes"), ("1.30.0-alpha.1", "bytes"), ("1.30.0-beta.0", "set"),
                                          ("1.30.2", "set"), ("1.31.0", "set"), ("garbage", "bytes")])
def test_subset_rule_per_version(version, rule):
    assert bundles.subset_rule(version) == rule
    assert bundles.subset_rule(version, multiroot=False) == "none"


@pytest.mark.parametrize("version", ["1.22.3", "1.29.6", "1.30.0", "1.31.0"])
def test_the_rule_agrees_with_kubesims_istiod(pki, version):
    """Every transition the rotation (and a careless operator) might write, judged by both."""
    a, b = pki["A"].pem, pki["B"].pem
    a_crlf = a.replace(b"\n", b"\r\n")
    cases = [(a, a + b), (a + b, b), (a + b, a), (a + b, b + a), (a, b), (b + a, a), (a, a_crlf + b)]
    vt = tuple(int(x) for x in version.split("."))
    for old, new in cases:
        ok, why = bundles.accepts(old, new, version)
        assert ok == roots_subset(old, new, vt), (version, why)


def test_wrong_order_on_1_22_is_a_problem_with_the_fix_and_fine_on_1_31(pki):
    a, b = pki["A"].pem, pki["B"].pem
    istiods = [{"name": "istiod", "version": "1.22.3", "multiroot": True},
               {"name": "istiod-canary", "version": "1.31.0", "multiroot": True}]
    found = bundles.change_problems(a + b, b + a, istiods)
    assert len(found) == 1 and found[0].startswith("istiod would refuse") and "bytes.Contains" in found[0]
    assert "nothing was written" in found[0]
    assert bundles.change_problems(a + b, b, istiods) == []
    off = bundles.change_problems(a, a + b, [{"name": "istiod", "version": "1.22.3", "multiroot": False}])
    assert "ISTIO_MULTIROOT_MESH" in off[0]
