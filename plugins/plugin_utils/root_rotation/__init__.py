# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Fleet root rotation (Istio's three-step multi-root procedure), controller-only.

- ``bundles``: the root bundles of each step, byte-exact, and istiod's subset rule per version;
- ``phases``: the steps in order, the abort path, and what each cluster does next from its record;
- ``cacerts``: the ``cacerts`` Secret of each step in istiod's own file format, composed from a staging Secret;
- ``record``: the in-cluster record (ConfigMap ``meshpki-root-rotation``: run, phase, root fingerprints);
- ``barriers``: whether a cluster finished a step, and whether the fleet may start the next one;
- ``preflight``: the new root and key, the istiod versions, before anything changes.

Served as filters by plugins/filter/root_rotation_*.py (docs in ``<filter name>.yml`` beside them).
"""
