"""The fleet callback's "batch i of n" follows Ansible's own batching of serial (PlaybookExecutor)."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.callback.fleet import serial_batch_sizes


@pytest.mark.parametrize("serial,total,sizes", [
    ([], 5, [5]),
    ([1, "25%"], 3, [1, 1, 1]),        # 25 % of 3 rounds up to at least one host
    ([1, "25%"], 13, [1, 3, 3, 3, 3]),
    ([1, 5, "50%"], 2, [1, 1]),
    ([2], 5, [2, 2, 1]),
    (["100%"], 4, [4]),
])
def test_batch_sizes(serial, total, sizes):
    assert serial_batch_sizes(serial, total) == sizes
