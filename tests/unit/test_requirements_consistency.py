"""The execution-environment requirements allow no cryptography older than the modules document and use.

Why: the modules read certificate times with ``not_valid_after_utc`` (cryptography 42) and say so in their
docs, while meta/ee-requirements.txt allowed 41, where those attributes do not exist (issue 18).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _minimum(text):
    """(major, minor) of the first ``cryptography >= X[.Y[.Z]]`` in ``text``; ``42`` is ``(42, 0)``."""
    parts = [int(p) for p in re.search(r"cryptography\s*>=\s*([\d.]+)", text).group(1).split(".")[:2]]
    return tuple(parts + [0] * (2 - len(parts)))


def test_ee_requirements_cryptography_minimum_matches_the_modules_docs():
    ee = _minimum((REPO / "meta" / "ee-requirements.txt").read_text())
    documented = {_minimum(p.read_text()) for p in (REPO / "plugins" / "modules").glob("*.py")
                  if re.search(r"cryptography\s*>=", p.read_text())}
    assert documented and ee >= max(documented)
