"""What the certificate module's kubesim tests share: the spec they issue and the module's parameters.

Both test files (test_certificate_module.py, test_certificate_module_rotation.py) run the module's
backend with a real K8sClient against one kubesim cluster; the parameters must be exactly what
the module's argument spec produces (every connection option present, unset ones None).
"""

from __future__ import annotations

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.args_common import AUTH_ARG_SPEC

API = "cert-manager.io/v1"
NS = "istio-system"


def spec(name, issuer="mesh-root", **extra):
    """An ECDSA CA Certificate spec issued by the ClusterIssuer ``issuer``, its Secret named like it."""
    base = {"secretName": name, "commonName": "%s.example" % name, "isCA": True,
            "privateKey": {"algorithm": "ECDSA", "size": 256},
            "issuerRef": {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"}}
    base.update(extra)
    return base


def module_params(fleet, cluster, name, **overrides):
    """The certificate module's validated parameters for Certificate ``name`` in istio-system of ``cluster``."""
    params = dict((k, None) for k in AUTH_ARG_SPEC)
    params.update(kubeconfig=str(fleet.kubeconfig), context=cluster.name, name=name, namespace=NS,
                  spec=spec(name), state="present", renew="auto", wait=True, wait_timeout=30,
                  merge_live_spec=False, check_root_policy=False, cluster_resource_namespace="cert-manager",
                  root_renewal_horizon=None,
                  backup=False, backup_keep=5)
    params.update(overrides)
    return params
