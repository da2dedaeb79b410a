"""The built collection tarball ships nothing that needs the simulated fleet it excludes (tests/kubesim).

Why: a user who installs the tarball and runs its tests would hit ``ModuleNotFoundError: kubesim`` (issue 18).
Builds the collection the way ``make build`` does and reads the tarball.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What needs the simulator: importing it, running it, or loading its pytest plugin.
USES_SIMULATOR = re.compile(rb"\b(?:import|from)\s+kubesim\b|-m\s+kubesim\b|-p\s+kubesim\.|\bkubesim\.\w+")


def test_tarball_ships_no_file_that_needs_kubesim(tmp_path):
    galaxy = Path(sys.executable).with_name("ansible-galaxy")
    subprocess.run([str(galaxy), "collection", "build", "--output-path", str(tmp_path), str(REPO)], check=True,
                   capture_output=True, cwd=tmp_path)
    (tarball,) = tmp_path.glob("meshpki-istio_ca-*.tar.gz")
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        names = [m.name for m in members]
        assert not [n for n in names if n.startswith(("tests/kubesim/", "tests/integration/", "extensions/molecule/"))]
        needing = [m.name for m in members if not m.name.endswith(".md")
                   and USES_SIMULATOR.search(tar.extractfile(m).read())]
    assert needing == []
    assert any(n.startswith("tests/unit/") for n in names) and "plugins/callback/fleet.py" in names
