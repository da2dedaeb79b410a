# -*- coding: utf-8 -*-
"""cert-manager's own Certificate validation table, run through the module's check and kubesim's webhook.

certificate_validation_table.yaml holds every case of cert-manager v1.21.1's
internal/apis/certmanager/validation/certificate_test.go as a YAML spec with the Go test's verdict (plus
derived cases for versions, gates and CRD rules). Each case must get that verdict, error for error, from:

1. the module's pre-flight check (certificate_spec.validate: CRD schema layer, then the webhook rules);
2. kubesim's simulated webhook, called directly (certmanager_validation.validate_certificate_spec);
3. a dry-run create of the Certificate on a simulated cluster running that cert-manager version with the
   case's feature gates on its webhook Deployment, where the API server's answer is the CRD error when
   there is one and the webhook's denial otherwise: in memory for every case, and as HTTP requests to a
   kubesim fleet's API server for every v1.21.1 case.

Errors are compared as multisets, like the Go test's assert.ElementsMatch.
"""

from __future__ import absolute_import, division, print_function

import copy
import functools
import json
import os
import time

import pytest
import yaml

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate import spec as cs
from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.webhook_version import Webhook

from kubesim.controllers.certmanager import validation as val
from kubesim.controllers.base import ApiError
from kubesim.tests_support_fakecluster import new_fake

TABLE = os.path.join(os.path.dirname(__file__), "certificate_validation_table.yaml")
DENIED = 'admission webhook "webhook.cert-manager.io" denied the request: '


def _expand(value):
    if isinstance(value, dict):
        if set(value) == {"$repeat"}:
            text, times = value["$repeat"]
            return text * times
        return dict((k, _expand(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def _load():
    with open(TABLE) as handle:
        table = yaml.safe_load(handle)
    cases = []
    for case in table["cases"]:
        case = dict(case, spec=_expand(case["spec"]), version=case.get("version", table["version"]))
        cases.append(pytest.param(case, id=case.get("go") or "derived: " + case["derived"][:70]))
    return cases


CASES = _load()


def _version(text):
    return tuple(int(p) for p in text.lstrip("v").split("."))


def _sorted(texts):
    return sorted(texts or [])


def _api_answer(case):
    """What the API server answers: the CRD's errors if any, else the webhook's (None: accepted)."""
    if case.get("api"):
        return _sorted(case["api"])
    return _sorted(case["webhook"]) or None


def test_the_table_has_every_case_of_the_go_test():
    go_cases = [c.values[0]["go"] for c in CASES if "go" in c.values[0]]
    assert len(go_cases) == len(set(go_cases)) == 96
    for prefix, count in (("TestValidateCertificate/", 62), ("TestValidateDuration/", 15),
                          ("Test_validateAdditionalOutputFormats/", 5), ("Test_validateLiteralSubject/", 8),
                          ("Test_validateKeystores/", 6)):
        assert len([g for g in go_cases if g.startswith(prefix)]) == count, prefix


@pytest.mark.parametrize("case", CASES)
def test_module_check_gives_the_api_servers_answer(case):
    errors, _warnings = cs.validate(copy.deepcopy(case["spec"]), case["version"], case.get("gates"))
    assert _sorted(str(e) for e in errors) == (_api_answer(case) or [])


@pytest.mark.parametrize("case", [c for c in CASES if c.values[0]["webhook"] is not None])
def test_module_webhook_rules_give_the_go_verdict(case):
    errors, _warnings = cs.webhook_errors(copy.deepcopy(case["spec"]), Webhook(case["version"], case.get("gates")))
    assert _sorted(str(e) for e in errors) == _sorted(case["webhook"])


@pytest.mark.parametrize("case", [c for c in CASES if "function" in c.values[0]])
def test_module_helper_gives_the_go_helpers_verdict(case):
    spec, function = case["spec"], case["function"]
    if function["name"] == "ValidateDuration":
        got = cs.validate_duration(spec, Webhook(case["version"]))
    else:
        got = cs.outputs.additional_output_formats(spec)
    assert _sorted(str(e) for e in got) == _sorted(function["errors"])


@pytest.mark.parametrize("case", [c for c in CASES if c.values[0]["webhook"] is not None])
def test_kubesim_webhook_gives_the_go_verdict(case):
    errors = val.validate_certificate_spec(copy.deepcopy(case["spec"]), _version(case["version"]),
                                           case.get("gates") or {})
    assert _sorted(str(e) for e in errors) == _sorted(case["webhook"])


@pytest.mark.parametrize("case", [c for c in CASES if "function" in c.values[0]])
def test_kubesim_helper_gives_the_go_helpers_verdict(case):
    spec, function = case["spec"], case["function"]
    if function["name"] == "ValidateDuration":
        got = val.validate_duration(spec, _version(case["version"]))
    else:
        got = val.validate_additional_output_formats(spec)
    assert _sorted(str(e) for e in got) == _sorted(function["errors"])


@functools.lru_cache(maxsize=None)
def _cluster(version, gates):
    """One simulated cluster per (cert-manager version, webhook --feature-gates)."""
    fake = new_fake(version, istio=False)
    if gates:
        webhook = fake.get("apps/v1", "deployments", "cert-manager", "cert-manager-webhook")
        container = webhook["spec"]["template"]["spec"]["containers"][0]
        container["args"] = list(container.get("args") or []) + ["--feature-gates=" + gates]
        fake.update(webhook)
        fake.advance(0.2)
    return fake


@pytest.mark.parametrize("case", CASES)
def test_kubesim_dry_run_create_gives_the_api_servers_answer(case):
    gates = ",".join("%s=%s" % (k, str(v).lower()) for k, v in sorted((case.get("gates") or {}).items()))
    fake = _cluster(case["version"], gates)
    body = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": "table", "namespace": "default"}, "spec": copy.deepcopy(case["spec"])}
    expected = _api_answer(case)
    if expected is None:
        fake.client_create(body, dry_run=True)
        return
    with pytest.raises(ApiError) as err:
        fake.client_create(body, dry_run=True)
    message = err.value.message
    if case.get("api"):
        assert err.value.code == 422
        prefix = 'Certificate.cert-manager.io "table" is invalid: '
        causes = [c["field"] + ": " + c["message"] for c in err.value.details["causes"]]
        assert message.startswith(prefix) and _sorted(causes) == expected
    else:
        assert err.value.code == 403 and message.startswith(DENIED)
        body_text = message[len(DENIED):]
        listed = body_text[1:-1].split(", spec") if len(expected) > 1 else [body_text]
        listed = [t if i == 0 else "spec" + t for i, t in enumerate(listed)]
        assert _sorted(listed) == expected


def _http(fleet, cluster, method, path, body=None, query=""):
    """(status, decoded JSON body) from a kubesim cluster's API server, as the fleet's admin (HTTPS)."""
    conn = fleet.connection(cluster)
    try:
        conn.request(method, path + ("?" + query if query else ""),
                     body=json.dumps(body).encode() if body is not None else None,
                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


WEBHOOK_PATH = "/apis/apps/v1/namespaces/cert-manager/deployments/cert-manager-webhook"
CERTS_PATH = "/apis/cert-manager.io/v1/namespaces/default/certificates"


def _set_webhook_gates(fleet, cluster, gates):
    code, webhook = _http(fleet, cluster, "GET", WEBHOOK_PATH)
    assert code == 200
    container = webhook["spec"]["template"]["spec"]["containers"][0]
    container["args"] = [a for a in container.get("args") or [] if not a.startswith("--feature-gates=")]
    if gates:
        container["args"].append("--feature-gates=" + gates)
    code, stored = _http(fleet, cluster, "PUT", WEBHOOK_PATH, webhook)
    assert code == 200
    # the PUT returns before the Deployment controller acted (writes are asynchronous): wait for the
    # rollout as `kubectl rollout status` does (observedGeneration, then the updated replicas available),
    # else the probe below can pass against the old webhook pods before they are replaced
    deadline = time.time() + 20
    while True:
        status = _http(fleet, cluster, "GET", WEBHOOK_PATH)[1].get("status") or {}
        want = stored["spec"].get("replicas", 1)
        if (status.get("observedGeneration", 0) >= stored["metadata"]["generation"]
                and status.get("updatedReplicas") == want and status.get("availableReplicas") == want
                and status.get("replicas") == want):
            break
        assert time.time() < deadline, "the webhook Deployment did not finish its rollout"
        time.sleep(0.1)
    probe = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "probe"},
             "spec": {"secretName": "probe", "commonName": "probe", "issuerRef": {"name": "x"}}}
    deadline = time.time() + 20
    while _http(fleet, cluster, "POST", CERTS_PATH, probe, "dryRun=All")[0] != 201:  # until the webhook serves again
        assert time.time() < deadline, "the simulated webhook did not come back after its Deployment changed"
        time.sleep(0.2)


def test_kubesim_server_over_https_gives_the_api_servers_answer(kubesim_module_fleet_factory):
    """The same dry-run creates as real HTTP requests to a one-cluster kubesim fleet running v1.21.1."""
    fleet = kubesim_module_fleet_factory(n_clusters=1, preinstall=("cert-manager",), cert_manager_version="1.21.1")
    cluster = fleet["cluster-1"]
    by_gates = {}
    for param in CASES:
        case = param.values[0]
        if case["version"] == "v1.21.1":
            gates = ",".join("%s=%s" % (k, str(v).lower()) for k, v in sorted((case.get("gates") or {}).items()))
            by_gates.setdefault(gates, []).append(case)
    wrong, checked = [], 0
    for gates, cases in sorted(by_gates.items()):
        _set_webhook_gates(fleet, cluster, gates)
        for case in cases:
            body = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "table"},
                    "spec": copy.deepcopy(case["spec"])}
            code, status = _http(fleet, cluster, "POST", CERTS_PATH, body, "dryRun=All")
            expected = _api_answer(case)
            if expected is None:
                got = None if code == 201 else status.get("message")
            elif case.get("api"):
                got = _sorted(c["field"] + ": " + c["message"] for c in status.get("details", {}).get("causes", []))
                got = got if code == 422 else (code, status.get("message"))
            else:
                message = status.get("message", "")
                got = (code, message)
                if code == 403 and message.startswith(DENIED):
                    text = message[len(DENIED):]
                    listed = text[1:-1].split(", spec") if len(expected) > 1 else [text]
                    got = _sorted(t if i == 0 else "spec" + t for i, t in enumerate(listed))
            checked += 1
            if got != expected:
                wrong.append((case.get("go") or case.get("derived"), got, expected))
    assert checked > 100 and wrong == []
