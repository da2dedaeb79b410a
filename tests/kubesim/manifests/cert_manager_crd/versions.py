"""Which cert-manager release a simulated ``--cert-manager-version`` is, for schema differences."""

from __future__ import annotations

from typing import Tuple


def release(version: str) -> Tuple[int, int, int]:
    """``"v1.19.1"`` or ``"1.19.1"`` as a comparable tuple (missing parts are 0)."""
    parts = [int(p) for p in version.lstrip("v").split("-")[0].split(".") if p.isdigit()]
    return tuple((parts + [0, 0, 0])[:3])  # type: ignore[return-value]
