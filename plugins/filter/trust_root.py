# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``rotation_trust_root``: the root every cluster of a rotation must chain to, known without the
other clusters (so a slice of an AWX sliced job, even of one cluster, refuses a wrong root).

The logic is controller-only Python in plugin_utils/rotation/trust_root.py (unit-tested there).
Documentation is in rotation_trust_root.yml beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.rotation.trust_root import rotation_trust_root


class FilterModule(object):
    """Trust root filter of meshpki.istio_ca."""

    def filters(self):
        return {"rotation_trust_root": rotation_trust_root}
