"""The pure layer never imports backtrader or matplotlib, and importing rtystrat has no side effects."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rtystrat"
PURE_MODULES = (
    "bars",
    "columns",
    "contracts",
    "continuous",
    "levels",
    "ta",
    "plans",
    "setups",
    "offsets",
    "fills",
    "formatting",
    "metrics",
    "montecarlo",
    "readers",
    "sample",
    "space",
    "tradelog",
    "tradestats",
)
FORBIDDEN = ("backtrader", "matplotlib")


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("name", PURE_MODULES)
def test_pure_module_imports_neither_backtrader_nor_matplotlib(name: str) -> None:
    path = PACKAGE / f"{name}.py"
    if not path.exists():
        pytest.skip(f"rtystrat/{name}.py does not exist yet")
    assert not _imported_roots(path) & set(FORBIDDEN)


def test_importing_rtystrat_leaves_matplotlib_backend_and_backtrader_plot_alone() -> None:
    code = (
        "import importlib, pkgutil, sys, matplotlib; matplotlib.use('Agg'); import rtystrat; "
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(rtystrat.__path__, 'rtystrat.') "
        " if not m.name.endswith('__main__')]; "
        "print(matplotlib.get_backend(), 'backtrader.plot' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [out[0].lower(), out[1]] == ["agg", "False"]
