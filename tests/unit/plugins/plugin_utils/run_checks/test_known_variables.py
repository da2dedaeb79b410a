"""The known-variable source of check_variables: read from the collection itself, typos and their closest names."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.run_checks import known_variables as kv


@pytest.fixture(scope="module")
def known():
    return kv.known_variables()


def test_every_role_option_and_documented_playbook_variable_is_known(known):
    assert known["ca_rotation_duration"] == "role ca_rotation"
    assert known["cert_manager_manifest_src"] == "role cert_manager"
    assert known["istio_reload_timeout"] == "role istio"
    assert known["report_fail_on_problems"] == "playbook report.yml"
    assert known["ca_rotation_allow_noop"] == "playbook rotate.yml"
    assert known["deploy_require_common_root"] == "playbook deploy.yml"


def test_facts_the_collection_sets_are_known_so_a_later_play_does_not_trip(known):
    # set by the roles for later plays of the same run (deploy.yml then rotate.yml with import_playbook)
    assert known["cert_manager_detected_version"].startswith("set by roles/cert_manager/tasks/")
    assert known["ca_rotation_plan"].startswith("set by roles/ca_rotation/tasks/")


def test_playbook_header_block_ends_at_the_next_paragraph():
    text = ("---\n# Does things.\n# Variables: every role variable, plus\n#   target        the group\n"
            "#                 (default: clusters)\n#   report_dir    where\n# A second paragraph\n"
            "#   not_a_variable  text\n- name: play\n")
    assert kv.playbook_documented_variables(text) == ["target", "report_dir"]


def test_typo_names_the_closest_public_name(known):
    found = kv.unknown_variables(["ca_rotation_duraton", "report_dri", "istio_reload_timeout", "report__dir",
                                  "unrelated_var", "cert_manager_zzz_qqq_www"], known)
    assert found == [("ca_rotation_duraton", "ca_rotation_duration"), ("cert_manager_zzz_qqq_www", None),
                     ("report_dri", "report_dir")]
    assert kv.describe(found[:1], known) == [
        "unknown variable ca_rotation_duraton — did you mean ca_rotation_duration? (role ca_rotation)"]


def test_private_double_underscore_names_are_never_checked_nor_suggested(known):
    assert not kv.is_owned("ca_rotation__x509")
    assert kv.unknown_variables(["ca_rotation__anything"], known) == []
    assert all("__" not in close for _name, close in kv.unknown_variables(["ca_rotation_x509x"], known) if close)
