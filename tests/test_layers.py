"""The layers are folders: each package imports only packages below it, with no cycle anywhere.

The order is read from the tree, not from a list of modules: every module under ``rtystrat/PACKAGE/`` belongs
to that package's layer. Only the few top-level modules get a rank here, by what they import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rtystrat"

# Bottom to top. `analysis` sits below `execution`: the engine builds a BacktestResult with its statistics (as
# backtesting.py's Backtest.run calls compute_stats), while the statistics never need the engine.
LAYERS = ("data", "signals", "analysis", "execution", "tuning", "plotting", "cli")
# Top-level modules by what they import: errors and choices (import-free name sets) are the base of
# everything; the registry finds SetupStrategy classes and is used by tuning's workers; api/replay compose
# runs for the public face and the CLI.
TOP_LEVEL = {"errors": -1, "choices": -1, "registry": 3.5, "api": 5.5, "replay": 5.5, "__main__": 7}
# The pure layers: numbers only, no backtrader and no matplotlib.
PURE = ("data", "signals", "analysis")
FORBIDDEN = ("backtrader", "matplotlib")


def _rank(module: str) -> float | None:
    """Return the layer rank of a dotted rtystrat module name (None for the lazy public face)."""
    parts = module.split(".")[1:]
    if not parts or parts == ["__init__"]:
        return None
    if parts[0] in LAYERS:
        return LAYERS.index(parts[0])
    return TOP_LEVEL[parts[0]]


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def _imports(path: Path, module: str) -> set[str]:
    """Return every module `path` (module `module`) imports, absolute and relative, at any depth (functions
    too).

    ``from rtystrat import __version__`` is the one name taken from the public face; any other name imported
    from it is reported as ``rtystrat``, so a hidden upward import through the face is caught.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from rtystrat.pkg import module` imports the submodule
            submodules = {f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}")}
            found.update(submodules)
            names = {a.name for a in node.names} - {s.rpartition(".")[2] for s in submodules}
            if names - ({"__version__"} if base == "rtystrat" else set()):
                found.add(base)
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _rtystrat_imports(path: Path, module: str) -> set[str]:
    return {name for name in _imports(path, module) if name.split(".")[0] == "rtystrat" and _is_module(name)}


def layer_violations(modules: dict[str, Path]) -> list[str]:
    """Return one line per import that points up the layers (or sideways between top-level modules)."""
    found = []
    for name, path in modules.items():
        rank = _rank(name)
        if rank is None:
            continue
        for target in sorted(_rtystrat_imports(path, name)):
            if target == "rtystrat":
                found.append(f"{name} imports the public face rtystrat (import the defining module)")
                continue
            target_rank = _rank(target)
            if target_rank is not None and target_rank > rank:
                found.append(f"{name} (layer {rank}) imports {target} (layer {target_rank})")
    return found


def import_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Return the strongly connected groups of more than one module in the import graph (Tarjan)."""
    graph = {
        name: sorted(_rtystrat_imports(path, name) & modules.keys() - {name})
        for name, path in modules.items()
    }
    # a package's __init__ is not an edge to everything it contains: a module imports its package on the way
    graph = {name: [t for t in targets if not name.startswith(t + ".")] for name, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_every_module_belongs_to_a_layer_or_is_a_ranked_top_level_module() -> None:
    top = [name for name, path in _modules().items() if name.count(".") == 1 and path.name != "__init__.py"]
    unplaced = [name for name in top if name.split(".")[1] not in TOP_LEVEL]
    assert unplaced == [], "put these modules in a layer package, or rank them in TOP_LEVEL"


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_imports_nothing_above_its_layer(module: str) -> None:
    assert layer_violations({module: _modules()[module]}) == []


def test_no_import_cycle_anywhere() -> None:
    assert import_cycles(_modules()) == []


def test_the_check_catches_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    modules = _modules()
    upward = tmp_path / "levels.py"
    upward.write_text("from rtystrat.execution import engine\nfrom rtystrat.signals import ta\n")
    assert layer_violations({"rtystrat.signals.levels": upward}) == [
        "rtystrat.signals.levels (layer 1) imports rtystrat.execution.engine (layer 3)"
    ]
    back = tmp_path / "ta.py"
    back.write_text("from rtystrat.signals import levels\n")
    modules = {**modules, "rtystrat.signals.levels": upward, "rtystrat.signals.ta": back}
    assert any({"rtystrat.signals.levels", "rtystrat.signals.ta"} <= set(c) for c in import_cycles(modules))


def test_every_pure_layer_has_modules() -> None:
    assert all(any(name.split(".")[1:2] == [layer] for name in _modules()) for layer in PURE)


@pytest.mark.parametrize(
    "module", sorted(name for name in _modules() if name.split(".")[1:2] in ([p] for p in PURE))
)
def test_pure_layer_module_imports_neither_backtrader_nor_matplotlib(module: str) -> None:
    roots = {name.split(".")[0] for name in _imports(_modules()[module], module)}
    assert roots.isdisjoint(FORBIDDEN)


def test_top_level_holds_only_the_layers_and_a_few_small_modules() -> None:
    top = sorted(p.name for p in PACKAGE.iterdir() if not p.name.startswith((".", "__pycache__")))
    modules = [name for name in top if name.endswith(".py")]
    packages = [name for name in top if (PACKAGE / name / "__init__.py").is_file()]
    assert sorted(packages) == sorted(LAYERS)
    assert sorted(modules) == sorted([*(f"{name}.py" for name in TOP_LEVEL), "__init__.py"])
    assert max(len((PACKAGE / name).read_text().splitlines()) for name in modules) < 500


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
