# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""How long after a ``cacerts`` change every istiod pod can be expected to have the new files.

kubelet rewrites a pod's Secret volume only when it syncs that pod: after each sync the pod worker is
requeued after ``wait.Jitter(resyncInterval, workerResyncIntervalJitterFactor)``
(``pkg/kubelet/pod_workers.go``, factor 0.5), the interval being the KubeletConfiguration
``syncFrequency`` (default 1m) - so each pod sees the change at its own moment, 60 to 90 s after it
at worst with the defaults. With the ``Cache`` change-detection strategy kubelet may also serve the
Secret from a cache for the node's ``node.alpha.kubernetes.io/ttl`` (the TTL controller,
``pkg/controller/ttl/ttl_controller.go``: 0 s up to 100 nodes, 15 s, 30 s, 60 s, 300 s, 600 s as the
cluster grows); the default ``Watch`` strategy has no TTL. A margin covers the watch delivery, istiod's
watcher debounce and re-issue, and the check's own polling (at most 5 s between looks).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import go_duration

JITTER_FACTOR = 0.5          # workerResyncIntervalJitterFactor
DEFAULT_SYNC_FREQUENCY = "1m"  # KubeletConfiguration.syncFrequency
DEFAULT_CACHE_TTL = "0s"       # Watch strategy (the default): no TTL
DEFAULT_MARGIN = "30s"


class TimingError(ValueError):
    """A timing input is not a Go duration."""


def _seconds(value, what):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        try:
            seconds = go_duration.parse(str(value)) / 1e9
        except go_duration.GoDurationError as exc:
            raise TimingError("%s: %s (a Go duration such as 1m or 90s, or seconds)" % (what, exc))
    if seconds < 0:
        raise TimingError("%s must not be negative, got %s" % (what, value))
    return seconds


def reload_window(sync_frequency=DEFAULT_SYNC_FREQUENCY, cache_ttl=DEFAULT_CACHE_TTL, margin=DEFAULT_MARGIN):
    """Seconds from a Secret change until the last istiod pod can be expected to have loaded it.

    ``syncFrequency * (1 + 0.5)`` (the latest jittered sync) + the cache TTL + a margin: 120 s with the
    defaults (1m, 0s, 30s).
    """
    sync = _seconds(sync_frequency, "kubelet_sync_frequency")
    return sync * (1 + JITTER_FACTOR) + _seconds(cache_ttl, "kubelet_cache_ttl") + _seconds(margin, "margin")


def earliest_sync(sync_frequency=DEFAULT_SYNC_FREQUENCY):
    """Seconds before which no pod is guaranteed to have synced: the un-jittered ``syncFrequency``."""
    return _seconds(sync_frequency, "kubelet_sync_frequency")
