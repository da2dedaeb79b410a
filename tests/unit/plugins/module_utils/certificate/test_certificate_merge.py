# -*- coding: utf-8 -*-
"""merge_live_spec rules: top-level override, null removes, renewBefore/renewBeforePercentage exclusive, ownership."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CertificateError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.merge import (
    absent_error, check_removable, merge, spec_owners)

LIVE = {"secretName": "cacerts", "duration": "720h", "renewBefore": "240h", "dnsNames": ["a"],
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}}


def test_top_level_keys_override_and_the_rest_stays():
    merged, removed = merge(LIVE, {"duration": "1440h"})
    assert merged == dict(LIVE, duration="1440h") and removed == []
    assert LIVE["duration"] == "720h"  # the live spec is not modified


def test_objects_are_replaced_whole_not_merged():
    merged = merge(LIVE, {"privateKey": {"rotationPolicy": "Never"}})[0]
    assert merged["privateKey"] == {"rotationPolicy": "Never"}


def test_null_removes_and_an_absent_key_is_a_no_op():
    merged, removed = merge(LIVE, {"dnsNames": None, "uris": None})
    assert "dnsNames" not in merged and removed == ["dnsNames"]


@pytest.mark.parametrize("changes,gone,kept", [
    ({"renewBeforePercentage": 20}, "renewBefore", {"renewBeforePercentage": 20}),
    ({"renewBefore": "100h"}, None, {"renewBefore": "100h"}),
])
def test_renew_before_fields_are_mutually_exclusive(changes, gone, kept):
    live = dict(LIVE)
    merged, removed = merge(live, changes)
    for k, v in kept.items():
        assert merged[k] == v
    assert (gone not in merged and removed == [gone]) if gone else removed == []


def test_percentage_live_is_dropped_when_renew_before_is_given():
    merged, removed = merge({"renewBeforePercentage": 30, "duration": "720h"}, {"renewBefore": "100h"})
    assert merged == {"renewBefore": "100h", "duration": "720h"} and removed == ["renewBeforePercentage"]


def test_both_given_are_kept_for_validation_to_reject():
    merged, removed = merge(LIVE, {"renewBefore": "100h", "renewBeforePercentage": 10})
    assert merged["renewBefore"] == "100h" and merged["renewBeforePercentage"] == 10 and removed == []


def test_both_null_remove_both():
    merged, removed = merge(dict(LIVE, renewBeforePercentage=5), {"renewBefore": None, "renewBeforePercentage": None})
    assert "renewBefore" not in merged and "renewBeforePercentage" not in merged
    assert sorted(removed) == ["renewBefore", "renewBeforePercentage"]


def test_empty_changes_give_the_live_spec():
    assert merge(LIVE, {}) == (LIVE, [])
    assert merge(None, {"duration": "1h"}) == ({"duration": "1h"}, [])


def live_obj(*managers):
    return {"spec": LIVE, "metadata": {"managedFields": [
        {"manager": m, "operation": "Apply", "fieldsV1": {"f:spec": dict(("f:%s" % k, {}) for k in keys)}}
        for m, keys in managers]}}


def test_owners_are_read_from_managed_fields():
    obj = live_obj(("meshpki.istio_ca", ["duration", "dnsNames"]), ("kubectl", ["dnsNames"]))
    assert spec_owners(obj, "dnsNames") == ["meshpki.istio_ca", "kubectl"]
    assert spec_owners(obj, "renewBefore") == [] and spec_owners({}, "x") == []


def test_removing_a_field_another_manager_owns_fails_before_any_write():
    obj = live_obj(("meshpki.istio_ca", ["dnsNames"]), ("kubectl-client-side-apply", ["dnsNames", "duration"]))
    check_removable(obj, [], "meshpki.istio_ca", "ns", "c")
    check_removable(live_obj(("meshpki.istio_ca", ["dnsNames"])), ["dnsNames"], "meshpki.istio_ca", "ns", "c")
    with pytest.raises(CertificateError) as err:
        check_removable(obj, ["dnsNames"], "meshpki.istio_ca", "ns", "c")
    assert "spec.dnsNames is also owned by field manager kubectl-client-side-apply" in err.value.message
    assert "Nothing was changed" in err.value.message and err.value.result["exists"] is True


def test_absent_error_says_exists_false():
    err = absent_error("ns", "c")
    assert err.result == {"exists": False, "live_spec": None}
    assert "no live spec to merge into" in err.message
