"""A failed role argument in one line: the argument, what is wrong, what it accepts, one example."""

from __future__ import annotations

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.run_checks import argument_help as ah
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.run_checks.known_variables import collection_root


def test_missing_required_choice_argument():
    lines = ah.check_role_arguments(collection_root(), "ca_setup", {})
    assert len(lines) == 1
    assert lines[0].startswith("ca_setup_trust_source (role ca_setup): missing, it is required. Accepts one of "
                               "selfsigned, ca_keypair, offline_root, issuer_ref, for example -e ca_setup_trust_source=selfsigned")


def test_wrong_choice_and_wrong_type_each_get_their_line():
    lines = ah.check_role_arguments(collection_root(), "cert_manager",
                                    {"cert_manager_install": "helm", "cert_manager_wait_timeout": "soon"})
    assert any(line.startswith("cert_manager_install (role cert_manager): value of cert_manager_install must be one "
                               "of: manifest, existing, got: helm. Accepts one of manifest, existing") for line in lines)
    assert any(line.startswith("cert_manager_wait_timeout (role cert_manager): argument 'cert_manager_wait_timeout' "
                               "is of type str") and "for example -e cert_manager_wait_timeout=60" in line
               for line in lines)


def test_valid_values_give_no_line():
    assert ah.check_role_arguments(collection_root(), "ca_setup", {"ca_setup_trust_source": "selfsigned"}) == []


def test_explain_errors_keeps_an_error_that_names_no_argument():
    assert ah.explain_errors(["something else broke"], {"a_b": {"type": "str"}}) == ["something else broke"]
