"""Every Kubernetes-facing module takes the connection options from the one AUTH_ARG_SPEC, as a private copy."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.args_common import AUTH_ARG_SPEC
from ansible_collections.meshpki.istio_ca.plugins.modules import certificate, istiod_reload_check, x509_inspect


@pytest.mark.parametrize("module", [certificate, istiod_reload_check, x509_inspect], ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_module_spec_holds_the_shared_connection_options_as_a_copy(module):
    spec = module.argument_spec()
    assert dict((k, spec[k]) for k in AUTH_ARG_SPEC) == AUTH_ARG_SPEC
    spec["kubeconfig"]["no_log"] = False  # a module (or a test) changing its own spec ...
    spec["validate_certs"]["aliases"].append("x")
    assert AUTH_ARG_SPEC["kubeconfig"]["no_log"] is True  # ... changes no other module's
    assert AUTH_ARG_SPEC["validate_certs"]["aliases"] == ["verify_ssl"]
