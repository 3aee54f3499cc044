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


def _skip_without_shared_data() -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real market data not found at {SHARED_DATA.resolve()} (set RTYSTRAT_SHARED_DATA)")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real market files (``../shared/data``); skips the test when it is absent."""
    _skip_without_shared_data()
    return SHARED_DATA.resolve()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked ``shared_data`` when the files are absent, so the marker and the skip agree."""
    if item.get_closest_marker("shared_data"):
        _skip_without_shared_data()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test that reads the real files without the ``shared_data`` marker (``-m`` would miss it)."""
    unmarked = [
        item.nodeid
        for item in items
        if "shared_data" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("shared_data")
    ]
    if unmarked:
        raise pytest.UsageError(f"add @pytest.mark.shared_data to {', '.join(unmarked)}")
