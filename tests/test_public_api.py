"""Every name in ``rtystrat.__all__`` resolves, and ``import rtystrat`` does not load backtrader."""

from __future__ import annotations

import subprocess
import sys

import pytest

import rtystrat


@pytest.mark.parametrize("name", rtystrat.__all__)
def test_public_name_resolves(name: str) -> None:
    assert getattr(rtystrat, name) is not None


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        rtystrat.nope


def test_import_rtystrat_does_not_load_backtrader() -> None:
    code = "import sys, rtystrat; print('backtrader' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
