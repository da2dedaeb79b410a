"""The root rotation filters as a play calls them: registered names, Ansible's types in, plain data out."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.filter import root_rotation_barrier, root_rotation_bundle, \
    root_rotation_cacerts, root_rotation_plan

from kubesim.tests_support_fakecluster import make_ca


@pytest.fixture(scope="module")
def roots():
    return make_ca("Root CA A", days=900), make_ca("Root CA B", days=900)


def test_every_filter_is_registered_with_its_documented_name():
    names = set()
    for module in (root_rotation_barrier, root_rotation_bundle, root_rotation_cacerts, root_rotation_plan):
        names |= set(module.FilterModule().filters())
    assert names == {"root_rotation_barrier", "root_rotation_step_evidence", "root_rotation_workload_evidence",
                     "root_rotation_workload_readings", "root_rotation_cacerts", "root_rotation_backup", "root_rotation_served_bundle",
                     "root_rotation_bundle", "root_rotation_bundle_problems", "root_rotation_preflight",
                     "root_rotation_plan", "root_rotation_previous", "root_rotation_record",
                     "root_rotation_record_configmap", "root_rotation_step"}
    docs = {p.stem for p in __import__("pathlib").Path(root_rotation_plan.__file__).parent.glob("root_rotation_*.yml")}
    assert docs == names  # every filter has its .yml docs


def test_bundle_filters_take_and_give_text(roots):
    a, b = roots
    combined = root_rotation_bundle.root_rotation_bundle("combined", a.pem.decode(), b.pem.decode())
    assert combined == (a.pem + b.pem).decode()
    problems = root_rotation_bundle.root_rotation_bundle_problems(
        (b.pem + a.pem).decode(), combined, [{"name": "istiod", "version": "1.22.3", "multiroot": True}])
    assert len(problems) == 1
    with pytest.raises(AnsibleFilterError, match="root_rotation_bundle: unknown phase"):
        root_rotation_bundle.root_rotation_bundle("step9", combined, b.pem.decode())


def test_preflight_filter_joins_root_and_istiod_problems(roots):
    a, b = roots
    out = root_rotation_bundle.root_rotation_preflight(b.pem.decode(), a.key_pem.decode(), a.pem.decode(),
                                                       [{"name": "istiod", "version": "1.22.3", "multiroot": False}])
    assert len(out["problems"]) == 2 and out["new_root"]["fingerprint"]


def test_record_filters_round_trip_and_errors_are_filter_errors():
    data = root_rotation_plan.root_rotation_record("combined", "applied", "r1", "bb", ["aa"], "2030-01-01T00:00:00Z")
    cm = root_rotation_plan.root_rotation_record_configmap(data)
    prev = root_rotation_plan.root_rotation_previous({"resources": [cm]})
    plan = root_rotation_plan.root_rotation_plan({"c1": prev, "c2": None}, new_root="bb")
    assert [s["step"] for s in plan["steps"]] == ["combined", "new_intermediate", "new_only"]
    assert plan["steps"][0]["clusters"] == {"c1": "resume", "c2": "apply"}
    with pytest.raises(AnsibleFilterError):
        root_rotation_plan.root_rotation_record("combined", "maybe", "r1", "bb", [], "2030-01-01T00:00:00Z")


def test_step_evidence_is_done_only_when_bundle_and_istiod_are():
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.logs import SUCCESS_MARKER
    cms = [{"metadata": {"namespace": "a"}, "data": {"root-cert.pem": "X\n"}}]
    logs = {"p": "2030-01-01T00:00:12Z\tinfo\tUpdating new ROOT-CA\n2030-01-01T00:00:12Z\tinfo\t" + SUCCESS_MARKER}
    ev = root_rotation_barrier.root_rotation_step_evidence("combined", "X\n", "X\n", cms, logs, "2030-01-01T00:00:10Z")
    assert ev["done"] and ev["istiod"]["switched_at"] == "2030-01-01T00:00:12Z"
    assert not root_rotation_barrier.root_rotation_step_evidence("combined", "X\n", "Y\n", cms, logs,
                                                                 "2030-01-01T00:00:10Z")["done"]
