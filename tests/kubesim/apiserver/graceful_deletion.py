"""Graceful deletion of Pods and the deletion finalizers of garbage collection.

A deleted Pod is not removed at once: the registry marks it (``deletionTimestamp`` =
now + grace period, ``deletionGracePeriodSeconds``) and the kubelet removes it once its
containers have stopped (controllers/core/kubelet.py). Until then it is listed, matched by
selectors and serves logs, like on a real cluster.

Upstream:
- pkg/registry/core/pod/strategy.go ``podStrategy.CheckGracefulDelete``: the period is the
  request's ``gracePeriodSeconds``, else the pod's ``spec.terminationGracePeriodSeconds``; 0 when
  the pod is not scheduled (no ``spec.nodeName``) or already Succeeded/Failed; negative becomes 1.
- staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go ``BeforeDelete``: a period of 0 deletes
  now; an object already being deleted only has its period shortened, never lengthened.
- staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go
  ``deletionFinalizersForGarbageCollection``: ``propagationPolicy=Foreground`` adds the
  ``foregroundDeletion`` finalizer (``Orphan`` the ``orphan`` one, handled by the GC mixin).
"""

from __future__ import annotations

import datetime as _dt
from typing import Optional

from . import errors as E

FOREGROUND = "foregroundDeletion"


def requested_grace(options: dict) -> Optional[int]:
    """DeleteOptions.gracePeriodSeconds as an int, or None when not given (400 when not a number)."""
    value = (options or {}).get("gracePeriodSeconds")
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise E.bad_request(f"invalid value for gracePeriodSeconds: {value!r}") from None


def pod_grace_period(pod: dict, options: dict) -> int:
    """podStrategy.CheckGracefulDelete: the grace period this delete gives the pod."""
    period = requested_grace(options)
    spec = pod.get("spec") or {}
    if period is None:
        period = spec.get("terminationGracePeriodSeconds") or 0
    if not spec.get("nodeName"):
        period = 0
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        period = 0
    if period < 0:
        period = 1
    return int(period)


def deletion_timestamp(now: _dt.datetime, period: int) -> str:
    when = now + _dt.timedelta(seconds=period)
    return when.astimezone(_dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def shortens(md: dict, period: int) -> bool:
    """BeforeDelete on an object already being deleted: only a shorter period changes it."""
    current = md.get("deletionGracePeriodSeconds")
    return current is None or period < int(current)


def wants_foreground(options: dict) -> bool:
    return (options or {}).get("propagationPolicy") == "Foreground"
