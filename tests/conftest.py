"""Shared fixtures: the real market files beside the checkout, and a headless matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

# Tests never open windows; set before anything imports pyplot.
matplotlib.use("Agg")

SHARED_DATA = Path(
    os.environ.get("RTYSTRAT_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real market files (``../shared/data``); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market data not found at {SHARED_DATA.resolve()} (set RTYSTRAT_SHARED_DATA)")
    return SHARED_DATA.resolve()
