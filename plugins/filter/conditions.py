# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filter ``condition_current``: a status condition that speaks for the object's current generation.

A write returns before the controller has seen it. Until the controller reconciles the new
generation, the status still carries the conditions it wrote for the previous one: a ClusterIssuer
whose ``spec.ca.secretName`` was just changed still says Ready=True about the old Secret. cert-manager
records the generation each condition was computed for (cert-manager pkg/api/util/conditions.go,
``SetIssuerCondition(issuer, issuer.GetGeneration(), ...)`` in pkg/issuer/ca/setup.go), so a wait
must ask for the condition *and* ``observedGeneration == metadata.generation`` — kubernetes.core's
``wait_condition`` looks at type, status and reason only.

Documentation is in ``condition_current.yml`` beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def condition_current(resource, type="Ready", status="True"):  # noqa: A002 - the condition field's own name
    """True when ``resource`` has condition ``type`` with ``status`` computed for its current generation.

    An object without ``metadata.generation`` (never written through a generation-tracking registry) or a
    condition without ``observedGeneration`` cannot prove which generation it speaks for: False.
    """
    resource = resource or {}
    generation = (resource.get("metadata") or {}).get("generation")
    for cond in (resource.get("status") or {}).get("conditions") or []:
        if cond.get("type") != type:
            continue
        return (str(cond.get("status")) == str(status) and generation is not None
                and cond.get("observedGeneration") == generation)
    return False


class FilterModule(object):
    """Status condition filters of meshpki.istio_ca."""

    def filters(self):
        return {"condition_current": condition_current}
