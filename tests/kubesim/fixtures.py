"""pytest fixtures (registered as a plugin by tests/conftest.py).

- ``kubesim_fleet_factory``: callable(**Fleet kwargs) -> started Fleet; all stopped at teardown.
- ``kubesim_fleet``: 3 clusters, nothing preinstalled (function scope).
- ``kubesim_module_fleet_factory``: the same factory with module scope, for tests that
  share one fleet across a module.
Each fleet gets fresh ports, its own kubectl cache dir, and the clients' discovery
cache files for its URLs are deleted on start and stop.
"""

from __future__ import annotations

import pytest

from .fleet import Fleet


def _factory(tmp_path_factory):
    fleets = []

    def make(**kwargs) -> Fleet:
        kwargs.setdefault("workdir", tmp_path_factory.mktemp("kubesim"))
        fleet = Fleet(**kwargs)
        fleets.append(fleet)
        fleet.start()
        return fleet

    return make, fleets


@pytest.fixture
def kubesim_fleet_factory(tmp_path_factory):
    make, fleets = _factory(tmp_path_factory)
    yield make
    for f in fleets:
        f.stop()


@pytest.fixture(scope="module")
def kubesim_module_fleet_factory(tmp_path_factory):
    make, fleets = _factory(tmp_path_factory)
    yield make
    for f in fleets:
        f.stop()


@pytest.fixture
def kubesim_fleet(kubesim_fleet_factory) -> Fleet:
    return kubesim_fleet_factory(n_clusters=3)
