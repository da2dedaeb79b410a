"""Simulated controllers.

Built-in (always attached, part of kubesim-core): Deployments/ReplicaSets, the kubelet
(pods become Running/Ready), per-namespace default ServiceAccounts and legacy token Secrets, the
``kube-root-ca.crt`` ConfigMaps. (Garbage
collection by ownerReferences and namespace termination live in the Cluster itself.)

``DEFAULT_CONTROLLER_FACTORIES`` holds zero-argument callables; every new Cluster calls
each one and attaches the controller it returns. The cert-manager and istiod simulations
register themselves here. Their modules are optional: a missing file is skipped. A module
may also export ``CONTROLLER_FACTORIES`` (a list), which is added automatically.
"""

from __future__ import annotations

import importlib
from typing import Callable, List

from .base import ApiError, ClusterView, Controller  # noqa: F401  (re-exported)

DEFAULT_CONTROLLER_FACTORIES: List[Callable[[], Controller]] = []


def _optional(module: str):
    """Import ``kubesim.controllers.<module>`` if that file exists, else None."""
    full = f"{__name__}.{module}"
    try:
        mod = importlib.import_module(full)
    except ModuleNotFoundError as exc:
        if exc.name == full:
            return None
        raise
    for factory in getattr(mod, "CONTROLLER_FACTORIES", None) or []:
        if factory not in DEFAULT_CONTROLLER_FACTORIES:
            DEFAULT_CONTROLLER_FACTORIES.append(factory)
    return mod


def builtin_controllers() -> List[Controller]:
    from .core.deployment import DeploymentController
    from .core.kubelet import Kubelet
    from .core.rootca import RootCAPublisher
    from .core.workloads import DaemonSetController, JobController, StatefulSetController
    from .core.serviceaccounts import ServiceAccountController
    from .core.tokens import TokenController
    return [DeploymentController(), Kubelet(), ServiceAccountController(), TokenController(), RootCAPublisher(),
            JobController(), StatefulSetController(), DaemonSetController()]


def default_controllers() -> List[Controller]:
    return [factory() for factory in DEFAULT_CONTROLLER_FACTORIES]


# --- optional simulations (owned by the cert-manager/istiod engineer; add lines below) ---
certmanager = _optional("certmanager")
istiod = _optional("istiod")
