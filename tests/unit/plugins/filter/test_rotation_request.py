"""rotation_request: what rotate.yml was asked to change, and a run that asks for nothing fails."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.filter.rotation_request import rotation_request


def test_nothing_requested_is_a_problem_that_names_the_variables():
    out = rotation_request("", "", False)
    assert out["requested"] == [] and out["changes"] == {}
    assert out["problem"].startswith("nothing to rotate was requested")
    for name in ("ca_rotation_duration", "ca_rotation_renew_before", "ca_rotation_force", "ca_rotation_allow_noop"):
        assert name in out["problem"]


def test_allow_noop_turns_it_into_a_check():
    assert rotation_request("", "", False, allow_noop="true")["problem"] == ""


@pytest.mark.parametrize("args,requested,changes", [
    (("720h", "", False), ["ca_rotation_duration=720h"], {"duration": "720h"}),
    (("", "240h", "no"), ["ca_rotation_renew_before=240h"], {"renewBefore": "240h"}),
    (("", "", "yes"), ["ca_rotation_force=true"], {}),
])
def test_each_request_counts(args, requested, changes):
    out = rotation_request(*args)
    assert (out["requested"], out["changes"], out["problem"]) == (requested, changes, "")


def test_a_non_boolean_force_is_an_error():
    with pytest.raises(AnsibleFilterError):
        rotation_request("", "", "maybe")


def test_a_new_issuing_ca_is_a_request():
    """ca_rotation_issuing_ca alone (offline_root) re-issues cacerts below the new issuing CA: not a no-op."""
    out = rotation_request("", "", False, issuing_ca=True)
    assert out["problem"] == "" and out["requested"] == ["ca_rotation_issuing_ca=true"]
