# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""istiod's Prometheus metrics (``/metrics`` through pods/proxy), read with prometheus_client's own parser.

Why a library: the text exposition format has escaping, labels with ``}`` in their values, comments,
``HELP``/``TYPE`` lines, exemplars and ``+Inf``/``NaN`` spellings; prometheus_client's
``text_string_to_metric_families`` is the reference Python reader of it, so a hand-written line scan (this
collection had one) cannot read a valid exposition differently from Prometheus itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from prometheus_client.parser import text_string_to_metric_families
    HAS_PROMETHEUS_CLIENT = True
except ImportError:  # pragma: no cover - the requirement is in meta/ee-requirements.txt
    HAS_PROMETHEUS_CLIENT = False

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import IstiodError

# istiod's gauge of its signing chain's expiry (security/pkg/server/ca/monitoring.go).
EXPIRY_METRIC = "citadel_server_cert_chain_expiry_timestamp"


def gauge_value(text, name=EXPIRY_METRIC):
    """The first sample value of metric ``name`` in ``text`` (any labels), or None when it is absent or the
    exposition cannot be parsed (a partial scrape is no evidence)."""
    if not HAS_PROMETHEUS_CLIENT:
        raise IstiodError("the Python package prometheus-client is required on the controller to read istiod's "
                          "metrics: pip install prometheus-client (see meta/ee-requirements.txt)")
    try:
        for family in text_string_to_metric_families(text or ""):
            for sample in family.samples:
                if sample.name == name:
                    return float(sample.value)
    except ValueError:
        return None
    return None
