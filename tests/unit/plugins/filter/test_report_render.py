"""The report_markdown / report_html filters: dict or JSON text in, text out, one clear error."""

import json
import os

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.filter.report_render import FilterModule

SAMPLE = os.path.join(os.path.dirname(__file__), os.pardir, "plugin_utils", "report", "report_sample.json")


@pytest.fixture
def filters():
    return FilterModule().filters()


def test_filters_accept_json_text_and_options(filters):
    with open(SAMPLE) as handle:
        text = handle.read()
    md = filters["report_markdown"](text, expiring_within="1200h", title="Prod")
    assert md.startswith("# Prod\n") and "2 cluster(s) expire within 50d 0h" in md
    page = filters["report_html"](json.loads(text), now="2025-06-02T00:00:00Z")
    assert page.startswith("<!DOCTYPE html>") and "now 2025-06-02T00:00:00Z" in page


@pytest.mark.parametrize("name", ["report_markdown", "report_html"])
def test_bad_input_is_one_filter_error(filters, name):
    with pytest.raises(AnsibleFilterError, match=r"^%s: the report has no \"clusters\" list" % name):
        filters[name]({"nothing": 1})
    with pytest.raises(AnsibleFilterError, match=r'expiring_within: time: unknown unit "w" in duration "2w"\. .*\(2w is "336h"\)'):
        filters[name]({"clusters": []}, expiring_within="2w")
