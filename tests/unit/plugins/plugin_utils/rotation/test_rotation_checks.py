"""Unit tests of the ca_rotation filters: TTL margin, preflight verdict, backup retention, summary."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.checks import rotation_preflight, rotation_spec_checks
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.outcome import rotation_summary


@pytest.mark.parametrize("spec,lead,source,problems", [
    ({"duration": "720h", "renewBefore": "360h"}, 360 * 3600, "renewBefore", 0),
    ({"duration": "1440h"}, 480 * 3600, "cert-manager's default (duration/3)", 0),
    ({}, 720 * 3600, "cert-manager's default (duration/3)", 0),  # cert-manager's 90d default duration
    ({"duration": "720h", "renewBeforePercentage": 10}, 72 * 3600, "renewBeforePercentage", 0),
    ({"duration": "720h", "renewBefore": "1h"}, 3600, "renewBefore", 1),
    ({"duration": "720h", "renewBefore": "47h59m"}, 47 * 3600 + 59 * 60, "renewBefore", 1),
    ({"duration": "720h", "renewBefore": "48h"}, 48 * 3600, "renewBefore", 0),
    ({"duration": "60h", "renewBefore": "50h"}, 50 * 3600, "renewBefore", 1),  # in use only 10h < 24h
    ({"duration": "720h", "renewBefore": "720h"}, 240 * 3600, "cert-manager's default (duration/3)", 0),
])
def test_ttl_margin(spec, lead, source, problems):
    out = rotation_spec_checks(spec)
    assert out["renew_before_seconds"] == lead and out["renew_before_source"] == source
    assert len(out["problems"]) == problems, out["problems"]
    assert out["required_seconds"] == 48 * 3600


def test_ttl_margin_message_and_bad_inputs():
    msg = rotation_spec_checks({"duration": "720h", "renewBefore": "1h"})["problems"][0]
    assert "set renewBefore to at least 48h" in msg and "TTL 24h" in msg
    # The certificate module refuses such a spec first; here it blocks instead of skipping the check.
    assert 'unknown unit "d"' in rotation_spec_checks({"duration": "30d"})["problems"][0]
    assert rotation_spec_checks({"renewBefore": "36h"}, workload_cert_ttl="12h", margin="12h")["problems"] == []
    with pytest.raises(AnsibleFilterError):
        rotation_spec_checks({}, workload_cert_ttl="1d")


def status(**over):
    base = {"name": "c1", "errors": [], "problems": [],
            "certificate": {"name": "cacerts", "namespace": "istio-system", "exists": True, "ready": True,
                            "issuing": False},
            "intermediate": {"serial_hex": "ab", "expired": False, "not_after": "2030-01-01T00:00:00Z"},
            "chain": {"key_matches": True, "ends_at_root": True, "problems": [], "istio_problems": [],
                      "istio_warnings": []},
            "istiod": {"found": True, "hot_reload_state": "on", "reloaded": True, "problems": [], "version": "1.22.3",
                       "hot_reload": "enabled"}}
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = dict(base[key], **value)
        else:
            base[key] = value
    return base


def test_preflight_verdicts():
    assert rotation_preflight(status()) == {"problems": [], "warnings": []}
    cases = {
        "there is no Certificate": status(certificate={"exists": False}),
        "being issued right now": status(certificate={"issuing": True}),
        "does not match": status(chain={"key_matches": False}),
        "tls.key is missing": status(chain={"key_matches": None}),
        "does not verify up to a root": status(chain={"ends_at_root": False}),
        "istiod would not accept": status(chain={"istio_problems": ["EKU"]}),
        "no istiod Deployment": status(istiod={"found": False}),
        "does not hot-reload": status(istiod={"hot_reload_state": "off"}),
        "does not sign with the intermediate": status(istiod={"reloaded": False, "problems": ["self-signed"]}),
        "could not read the cluster": status(errors=["x: Connection refused"], intermediate=None,
                                             certificate={"exists": False}),
        "could not be read": status(intermediate=None),
    }
    for text, st in cases.items():
        problems = rotation_preflight(st)["problems"]
        assert any(text in p for p in problems), (text, problems)
    relaxed = rotation_preflight(status(istiod={"hot_reload_state": "off"}), require_hot_reload=False)
    assert relaxed["problems"] == [] and "does not hot-reload" in relaxed["warnings"][0]
    expired = rotation_preflight(status(intermediate={"expired": True}, chain={"istio_problems": ["expired"]}))
    assert expired["problems"] == [] and "rotating replaces it" in expired["warnings"][0]
    assert rotation_preflight(status(istiod={"reloaded": False}), reload_checked=False)["problems"] == []


def test_rotation_summary():
    results = {"c1": {"status": "rotated", "old_serial": "a", "new_serial": "b", "not_after": "T", "reloaded": True},
               "c2": {"status": "failed", "old_serial": "c", "failed_step": "Apply", "error": "boom"},
               "c3": {}}
    out = rotation_summary(results, ["c1", "c2", "c3"])
    assert [r["status"] for r in out["clusters"]] == ["rotated", "failed", "not_attempted"]
    assert out["counts"] == {"rotated": 1, "unchanged": 0, "checked": 0, "failed": 1, "interrupted": 0,
                             "not_attempted": 1}
    assert out["ok"] is False
    assert "a -> b" in out["lines"][0] and "istiod reloaded: yes" in out["lines"][0]
    assert "FAILED in Apply: boom" in out["lines"][1]
    assert "not attempted" in out["lines"][2]
    assert rotation_summary({"c1": results["c1"]}, ["c1"])["ok"] is True
    cut = rotation_summary({"c1": {"status": "interrupted", "old_serial": "a"}}, ["c1"])
    assert cut["ok"] is False and "INTERRUPTED" in cut["lines"][0]
    with pytest.raises(AnsibleFilterError):
        rotation_summary([], ["c1"])


def test_fleet_never_deployed_is_told_to_deploy_not_that_istiod_is_missing():
    """Rotate before deploy: no cacerts, so the reload check (which finds istiod's pods) is skipped."""
    from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.report.fleet_status import cluster_status
    entry = cluster_status("c1", certificate={"exists": False, "msg": "does not exist"},
                           inspect={"failed": True, "msg": "Secret istio-system/cacerts not found"},
                           reload={"skipped": True})
    assert entry["istiod"]["found"] is None
    assert not any("istiod" in p for p in entry["problems"]), entry["problems"]
    verdict = rotation_preflight(entry)
    assert any("cacerts does not exist in istio-system" in p and "run deploy.yml first" in p
               for p in verdict["problems"]), verdict
    assert not any("istiod" in p for p in verdict["problems"]), verdict
    # The reload check ran and found no pod: then istiod is missing, and said so.
    gone = cluster_status("c1", certificate={"exists": False}, inspect={"msg": "Secret istio-system/cacerts not found"},
                          reload={"reloaded": False, "problems": [], "pods": []})
    assert any("no istiod" in p for p in rotation_preflight(gone)["problems"])


def test_new_chain_problems():
    from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.checks import rotation_new_chain_problems
    plan = {"root_fingerprint": "aa", "old_serial": "01"}
    good = {"certificates": [{"serial_hex": "02"}], "istio_ready": True,
            "chain": {"key_matches": True, "root_fingerprint_sha256": "aa"}}
    assert rotation_new_chain_problems(good, plan, {"reissue": "spec_change"}) == []
    same = dict(good, certificates=[{"serial_hex": "01"}])
    assert rotation_new_chain_problems(same, plan, {"reissue": "none"}) == []
    assert "serial is still 01" in rotation_new_chain_problems(same, plan, {"reissue": "forced"})[0]
    # The old serial is the backup's when one was made (it is what cacerts held right before the change).
    assert rotation_new_chain_problems(good, plan, {"reissue": "forced", "backup": {"serial": "02"}}) != []
    bad = {"certificates": [{"serial_hex": "02"}], "istio_ready": False, "istio_problems": ["not a CA"],
           "chain": {"key_matches": False, "root_fingerprint_sha256": "bb"}}
    assert rotation_new_chain_problems(bad, plan, {}) == [
        "tls.key does not match the new certificate", "istiod would not accept it: not a CA", "its root changed: aa -> bb"]
