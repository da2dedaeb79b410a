"""Fixtures shared by more than one integration test file.

Why here: the deploy tests are split over three files (one per trust source) so that
``make integration`` (pytest-xdist, ``--dist loadfile``) can run them on different workers;
they need the same inputs.
"""

from __future__ import annotations

import pytest

from deploy_support import deploy_inputs


@pytest.fixture(scope="session")
def inputs(tmp_path_factory):
    """deploy.yml's inputs (cert-manager manifest, root CA files): read-only, made once per worker."""
    return deploy_inputs(tmp_path_factory.mktemp("deploy-inputs"))
