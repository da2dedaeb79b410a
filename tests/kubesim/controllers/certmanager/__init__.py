"""The cert-manager simulation: Certificate/CertificateRequest/Issuer controllers and webhook.

``controller`` (the controllers and admission webhook, ``CertManagerSim``), ``issuance``
(the Certificate → CertificateRequest → Secret pipeline), ``issuers`` (SelfSigned and CA
signing), ``policies`` (renewal and re-issuance triggers), ``validation`` (the webhook's
checks), ``duration`` (Go ``time.Duration``). X.509 building blocks are in ``kubesim.pki``.
"""

from .controller import CONTROLLER_FACTORIES, CertManagerSim  # noqa: F401  (kubesim.controllers registers them)

__all__ = ["CONTROLLER_FACTORIES", "CertManagerSim"]
