"""The istio_hot_reload_plan filter as roles/istio/tasks/detect.yml calls it."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.filter.istio_hot_reload_plan import FilterModule

plan = FilterModule().filters()["istio_hot_reload_plan"]


def dep(name, image):
    container = {"name": "discovery", "image": image}
    return {"metadata": {"name": name}, "spec": {"template": {"spec": {"containers": [container]}}}}


def test_every_revision_in_order_from_a_list_or_a_k8s_info_result():
    deployments = [dep("istiod", "pilot:1.16.7"), dep("istiod-1-19", "pilot:1.19.3")]
    entries = plan(deployments)
    assert [(e["name"], e["version"], e["needs_auto_reload_env"]) for e in entries] == [
        ("istiod", "1.16.7", True), ("istiod-1-19", "1.19.3", False)]
    assert plan({"resources": deployments, "changed": False}) == entries
    assert plan([]) == []


def test_version_override_is_checked():
    assert plan([dep("istiod", "pilot:latest")], version="1.18.1")[0]["version"] == "1.18.1"
    with pytest.raises(AnsibleFilterError, match="not an Istio version"):
        plan([dep("istiod", "pilot:latest")], version="latest")


@pytest.mark.parametrize("bad", ["istiod", [1], None])
def test_bad_input_is_one_clear_error(bad):
    with pytest.raises(AnsibleFilterError, match="expects a list of Deployment objects"):
        plan(bad)
