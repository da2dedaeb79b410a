# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters ``trust_exposure_keys`` and ``trust_status``: the fleet report's trust check of one cluster.

The logic is controller-only Python in plugin_utils/issuing_ca/trust_status.py (unit-tested there).
Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.issuing_ca import trust_status as _ts


_READ = ("ca_setup__trust_cacerts", "ca_setup__trust_issuing")


def trust_exposure_keys(me, hostvars, hosts):
    """Only the two registered results are read from each host's variables (no other variable is templated)."""
    hosts = plain(hosts)
    facts = {}
    for host in hosts:
        host_vars = hostvars[host]
        facts[host] = {name: plain(host_vars.get(name)) for name in _READ}
    return _ts.trust_exposure_keys(me, facts, hosts)


def trust_status(cluster, issuing=None, exposure=None, issuer=None, issuing_secret="meshpki-istio-issuing-ca",
                 ca_secret="meshpki-istio-root-ca", namespace="cert-manager"):
    return _ts.trust_status(cluster, issuing=plain(issuing), exposure=plain(exposure), issuer=plain(issuer),
                            issuing_secret=issuing_secret, ca_secret=ca_secret, namespace=namespace)


class FilterModule(object):
    """Trust check filters of meshpki.istio_ca."""

    def filters(self):
        return {"trust_exposure_keys": trust_exposure_keys, "trust_status": trust_status}
