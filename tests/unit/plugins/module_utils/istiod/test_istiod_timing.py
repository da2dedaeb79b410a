"""The reload window from kubelet's sync cadence (pod_workers.go jitter 0.5, TTL controller), and its use."""

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import backend, timing
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import IstiodError


def test_default_window_is_the_latest_jittered_sync_plus_margin():
    assert timing.reload_window() == 60 * 1.5 + 0 + 30 == 120


@pytest.mark.parametrize("sync, ttl, window", [("1m", "0s", 120), ("2m", "0s", 210), ("1m", "60s", 180),
                                               ("30s", "15s", 90), (60, 0, 120)])
def test_window_follows_the_kubelet_settings(sync, ttl, window):
    assert timing.reload_window(sync, ttl) == window


def test_bad_settings_are_refused_with_the_option_name():
    with pytest.raises(timing.TimingError, match="kubelet_sync_frequency: time: unknown unit"):
        timing.reload_window("1d")
    with pytest.raises(timing.TimingError, match="kubelet_cache_ttl must not be negative"):
        timing.reload_window("1m", "-5s")


def test_module_timeout_defaults_to_the_window_and_an_explicit_one_wins():
    assert backend.effective_timeout({"timeout": None}) == (120, 120)
    assert backend.effective_timeout({"timeout": None, "kubelet_sync_frequency": "2m"}) == (210, 210)
    assert backend.effective_timeout({"timeout": 30, "kubelet_cache_ttl": "60s"}) == (30, 180)
    with pytest.raises(IstiodError, match="kubelet_cache_ttl"):
        backend.effective_timeout({"kubelet_cache_ttl": "soon"})


def test_the_roles_filter_gives_the_same_window():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.meshpki.istio_ca.plugins.filter.istio import istio_reload_window
    assert istio_reload_window() == timing.reload_window() and istio_reload_window("1m", "15s") == 135
    with pytest.raises(AnsibleFilterError, match="kubelet_sync_frequency"):
        istio_reload_window("often")
