"""Unit tests of ca_setup_dry_run_scope: where ca_setup's dry run stops and what a real run would create."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.filter.ca_setup import ca_setup_dry_run_scope


@pytest.mark.parametrize("trust,crds_missing,namespaces,stop_at,creates", [
    ("ca_keypair", ["certificates.cert-manager.io"], ["default"], "trust",
     ["Secret cm/root", "Namespace istio-system", "Certificate cacerts"]),
    ("ca_keypair", [], ["default"], "trust", ["Secret cm/root", "Namespace istio-system", "Certificate cacerts"]),
    ("issuer_ref", [], ["default"], "intermediate", ["Certificate cacerts"]),
    ("ca_keypair", [], ["cert-manager"], "intermediate", ["Certificate cacerts"]),
    ("ca_keypair", ["certificates.cert-manager.io"], ["istio-system"], "trust", ["Secret cm/root", "Certificate cacerts"]),
    ("ca_keypair", [], ["cert-manager", "istio-system"], "", []),
])
def test_ca_setup_scope_stops_at_the_first_missing_prerequisite(trust, crds_missing, namespaces, stop_at, creates):
    scope = ca_setup_dry_run_scope(trust, crds_missing, namespaces, cert_manager_namespace="cert-manager",
                                   namespace="istio-system",
                                   trust_objects=["Secret cm/root"] if trust == "ca_keypair" else [],
                                   certificate="Certificate cacerts")
    assert scope["stop_at"] == stop_at
    assert scope["would_create"] == creates
    assert bool(scope["reason"]) == bool(stop_at)
