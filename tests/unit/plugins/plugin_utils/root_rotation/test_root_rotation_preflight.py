"""The preflight of the new root and the istiod revisions (plugin_utils/root_rotation/preflight.py)."""

from __future__ import annotations

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.root_rotation import preflight


def test_a_good_new_root_passes_and_its_facts_carry_no_key(pki):
    facts, problems = preflight.new_root_problems(pki["B"].pem, pki["B"].key_pem, pki["A"].pem)
    assert problems == [] and facts["fingerprint"] and "KEY" not in repr(facts)


def test_intermediate_wrong_key_and_already_trusted_are_refused(pki):
    _facts, problems = preflight.new_root_problems(pki["B1"].pem, pki["B"].key_pem, pki["A"].pem + pki["B1"].pem)
    text = " | ".join(problems)
    assert "not a self-signed CA" in text and "does not match" in text and "already in the cluster" in text
    assert pki["B"].key_pem.decode().splitlines()[1] not in text


def test_istiod_versions_and_flag():
    found = preflight.istiod_problems([{"name": "istiod", "version": "1.19.4", "multiroot": True},
                                       {"name": "istiod-1-22", "version": "1.22.3", "multiroot": False},
                                       {"name": "istiod-1-31", "version": "1.31.0", "multiroot": True}])
    assert len(found) == 2 and "upgrade istiod" in found[0] and "istio_multiroot=true" in found[1]
    assert preflight.istiod_problems([]) != []
