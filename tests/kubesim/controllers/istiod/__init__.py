"""The istiod simulation: plugged-in CA loading, hot reload of ``cacerts``, logs and debug endpoints.

``controller`` (``IstiodSim``), ``pki`` (istiod's checks of the plugged-in CA files),
``logs`` (istiod's log lines). X.509 building blocks are in ``kubesim.pki``.
"""

from .controller import CONTROLLER_FACTORIES, IstiodSim  # noqa: F401  (kubesim.controllers registers them)

__all__ = ["CONTROLLER_FACTORIES", "IstiodSim"]
