"""kubesim: a simulated Kubernetes fleet for tests (a simulation, not the real software).

See README.md. Main entry points: ``Fleet``, ``Cluster``, the pytest fixtures in
``kubesim.fixtures`` and the ``kubesim`` CLI (``kubesim.cli:main``).
"""

from .controllers.base import ApiError, ClusterView, Controller
from .cluster import Cluster
from .clock import SimClock
from .fleet import Fleet

__all__ = ["ApiError", "ClusterView", "Controller", "Cluster", "SimClock", "Fleet"]
