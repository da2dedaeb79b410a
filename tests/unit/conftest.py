"""Shared unit-test hygiene."""

import pytest
from ansible.module_utils.common import warnings as ansible_warnings


@pytest.fixture(autouse=True)
def fresh_module_warnings():
    """A module process starts with no recorded warnings; so does every unit test.

    ansible-core keeps module warnings and deprecations in process-wide dicts; without this,
    one test's warning shows up in another test's module result.
    """
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    ansible_warnings._global_deprecations.clear()  # pylint: disable=protected-access
    yield
