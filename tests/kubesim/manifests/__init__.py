"""Definitions of what kubesim can pre-install, shared with tests that need a local
"release manifest" (the cert_manager role's air-gapped mode).

``cert_manager_manifest_yaml(version)`` renders the same objects ``--preinstall
cert-manager`` creates, as one multi-document YAML string.
"""

from __future__ import annotations

from typing import Iterable, List

import yaml

from . import cert_manager as _cm
from . import istio as _istio

DEFAULT_CERT_MANAGER_VERSION = "1.18.2"
DEFAULT_ISTIO_VERSION = "1.22.3"
PREINSTALL_MANAGER = "kubectl-client-side-apply"
COMPONENTS = ("cert-manager", "istio")
ISTIO_MANAGERS = _istio.MANAGERS


def cert_manager_objects(version: str = DEFAULT_CERT_MANAGER_VERSION) -> List[dict]:
    return _cm.objects(version)


def istio_objects(version: str = DEFAULT_ISTIO_VERSION, managed_by: str = "none") -> List[dict]:
    return _istio.objects(version, managed_by)


def to_yaml(objs: Iterable[dict]) -> str:
    return "".join("---\n" + yaml.safe_dump(o, sort_keys=False, default_flow_style=False) for o in objs)


def cert_manager_manifest_yaml(version: str = DEFAULT_CERT_MANAGER_VERSION) -> str:
    """The release manifest (``cert-manager.yaml``) of ``version`` as kubesim models it."""
    return to_yaml(cert_manager_objects(version))


def istio_manifest_yaml(version: str = DEFAULT_ISTIO_VERSION) -> str:
    return to_yaml(istio_objects(version))


def preinstall(cluster, components: Iterable[str], cert_manager_version: str = DEFAULT_CERT_MANAGER_VERSION,
               istio_version: str = DEFAULT_ISTIO_VERSION, istio_managed_by: str = "none") -> None:
    """Create the objects of each component in ``cluster`` (as if installed earlier)."""
    for comp in components:
        if comp == "cert-manager":
            objs = cert_manager_objects(cert_manager_version)
        elif comp == "istio":
            objs = istio_objects(istio_version, istio_managed_by)
        else:
            raise ValueError(f"unknown component {comp!r}; known: {', '.join(COMPONENTS)}")
        for obj in objs:
            cluster.apply(obj, manager=PREINSTALL_MANAGER)
