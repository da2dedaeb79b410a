"""The module: argspec matches its docs, exit/fail through run_module, check mode, no key material."""

import datetime
import json

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import backend as istiod_backend
from ansible_collections.meshpki.istio_ca.plugins.modules import istiod_reload_check as mod
from unit import istiod_lines as L
from unit.istiod_cluster import IstiodCluster
from unit.x509_factory import key, make, mesh

S = datetime.timedelta(seconds=1)
SINCE = datetime.datetime(2025, 1, 31, 12, 0, 0, tzinfo=datetime.timezone.utc)
BOOT = SINCE - datetime.timedelta(hours=2)
ROOT, OLD = mesh()
NEW = make("Intermediate CA", key("ec256", 2), issuer=ROOT, ca=True, pathlen=0, locality="cluster-1")


class Exit(Exception):
    def __init__(self, failed, result):
        super().__init__(result.get("msg"))
        self.failed = failed
        self.result = result


def run_module(monkeypatch, api, args):
    monkeypatch.setattr(mod.K8sClient, "from_params", classmethod(lambda cls, params: api))
    monkeypatch.setattr(istiod_backend.time, "sleep", api.sleep)
    monkeypatch.setattr(istiod_backend.time, "monotonic", api.monotonic)

    def exit_json(self, **kw):
        raise Exit(False, kw)

    def fail_json(self, **kw):
        raise Exit(True, kw)

    monkeypatch.setattr(mod.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(mod.AnsibleModule, "fail_json", fail_json)
    with patch_module_args(args), pytest.raises(Exit) as done:
        mod.main()
    return done.value


def api_reloading(version="1.22.3"):
    secret = L.secret(NEW, ROOT, changed=SINCE, created=BOOT - datetime.timedelta(days=1))
    secret["data"]["tls.key"] = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUtFWVNFQ1JFVAo="  # must never leak
    api = IstiodCluster(secret, [L.pod("istiod-a-1", started=BOOT, version=version)], root_pem=ROOT.pem)
    api.add("istiod-a-1", L.startup_plugged(BOOT, OLD.cert, ROOT.cert))
    api.add("istiod-a-1", L.reload_ok(SINCE + 3 * S, NEW.cert, ROOT.cert), at=3.0)
    return api


@pytest.mark.parametrize("check_mode", [False, True])
def test_reloaded(monkeypatch, check_mode):
    api = api_reloading()
    done = run_module(monkeypatch, api, {"kubeconfig": "/dev/null", "_ansible_check_mode": check_mode})
    assert not done.failed
    result = done.result
    assert result["changed"] is False and result["reloaded"] is True
    assert result["pods"][0]["how"] == "hot_reload"
    text = json.dumps(result)
    assert "PRIVATE KEY" not in text and "MIIKEYSECRET" not in text and "LS0tLS1CRUdJTiBQUklWQVRF" not in text


def test_not_reloaded_fails_with_problems(monkeypatch):
    api = api_reloading(version="1.16.7")
    done = run_module(monkeypatch, api, {})
    assert done.failed
    assert done.result["reloaded"] is False and done.result["changed"] is False
    assert "istiod has not loaded intermediate" in done.result["msg"]
    assert done.result["problems"][0]["code"] == "hot_reload_off"
    assert done.result["problems"][0]["fix"]


def test_not_reloaded_without_failing(monkeypatch):
    done = run_module(monkeypatch, api_reloading(version="1.16.7"), {"fail_on_not_reloaded": False})
    assert not done.failed and done.result["reloaded"] is False


def test_bad_option_fails_cleanly(monkeypatch):
    done = run_module(monkeypatch, api_reloading(), {"expected_serial": "zz"})
    assert done.failed and "neither hex" in done.result["msg"]


def test_docs_match_argspec():
    doc = yaml.safe_load(mod.DOCUMENTATION)
    spec = mod.argument_spec()
    own = {k: v for k, v in spec.items() if k in doc["options"]}
    assert set(own) == {"namespace", "secret_name", "expected_serial", "since", "timeout", "fail_on_not_reloaded",
                        "kubelet_sync_frequency", "kubelet_cache_ttl"}
    for name, option in doc["options"].items():
        assert spec[name]["type"] == option["type"], name
        assert spec[name].get("default") == option.get("default"), name
    assert doc["version_added"] == "0.1.0"
    yaml.safe_load(mod.EXAMPLES)
    returned = yaml.safe_load(mod.RETURN)
    for field in ("reloaded", "pods", "root_consistent", "mismatched_namespaces", "expected_serial", "intermediate",
                  "since", "elapsed", "problems"):
        assert field in returned


def test_every_returned_key_is_documented(monkeypatch):
    done = run_module(monkeypatch, api_reloading(), {})
    returned = yaml.safe_load(mod.RETURN)
    assert set(done.result) - {"invocation"} <= set(returned)
    pod_doc = set(returned["pods"]["contains"])
    assert set(done.result["pods"][0]) == pod_doc
