"""Find strategies by name: in `strategies/` folders, entry points, or as ``module:Class``.

A strategy is a :class:`rtystrat.execution.strategy.SetupStrategy` subclass with a ``name``. Strategy code is
imported only from places the user names (DESIGN §6):

1. each folder given as a strategy path (``--strategy-path DIR`` on the command line);
2. the ``strategies/`` folder of recipes shipped with rtystrat (beside the package; present in a source tree
   and an editable install, absent from a wheel);
3. the entry-point group ``rtystrat.strategies`` of installed distributions, the entry point named like the
   strategy, so a package can ship strategies::

       [options.entry_points]
       rtystrat.strategies =
           my_setup = my_package.strategies:MySetup

A ``module:Class`` or ``path/to/file.py:Class`` reference loads one class directly. A ``strategies`` folder in
the current directory is *not* searched: running a command inside a downloaded folder must not run its code.

Looking a strategy up by name imports only the file(s) that declare it: each ``*.py`` file of a folder (except
those starting with ``_``) is read with :mod:`ast`, without running it, for classes whose body sets
``name = "<the name>"`` as a string literal. Two places declaring one name are an error. Only
:func:`discover` (``backtest --list``) imports every file of the folders, to describe their strategies.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from rtystrat.errors import ParameterError, UnknownStrategyError, suggest

__all__ = [
    "ENTRY_POINT_GROUP",
    "SETUP_GROUPS",
    "discover",
    "file_reference",
    "get_strategy",
    "resolve_strategies",
    "search_paths",
    "strategy_names",
]

ENTRY_POINT_GROUP = "rtystrat.strategies"

#: Names that stand for several strategies run together in one account.
SETUP_GROUPS: dict[str, tuple[str, ...]] = {"both": ("bullish_reversal", "bearish_breakdown")}

_REPO_STRATEGIES = Path(__file__).resolve().parents[1] / "strategies"
# Strategy files outside an importable package are imported as "<prefix><folder digest>.<file stem>".
_PRIVATE_PREFIX = "_rtystrat_strategies_"


def search_paths(paths: Iterable[str | Path] = ()) -> list[Path]:
    """Return the existing strategy folders to search, in order, each once (resolved)."""
    given = [Path(path) for path in paths]
    for folder in given:
        if not folder.is_dir():
            raise ParameterError(f"strategy path {str(folder)!r} is not a folder")
    found: list[Path] = []
    for folder in [*given, _REPO_STRATEGIES]:
        resolved = folder.resolve()
        if resolved.is_dir() and resolved not in found:
            found.append(resolved)
    return found


def discover(paths: Iterable[str | Path] = (), *, entry_points: bool = True) -> dict[str, type]:
    """Return ``{name: strategy class}`` from the search paths and (optionally) the entry points.

    Imports every strategy file of the search paths: for listing them. To look one up, use
    :func:`get_strategy`, which imports only the file that declares it.

    Raises
    ------
    ParameterError
        When two different classes declare the same name (naming both places), or a strategy path is not
        a folder.
    """
    found: dict[str, type] = {}
    origins: dict[str, str] = {}
    for folder in search_paths(paths):
        for file in _strategy_files(folder):
            for cls in _strategies_in(_import_file(file)):
                _add(found, origins, cls, str(file))
    if entry_points:
        import importlib.metadata  # ~70 ms of email/zip modules: only when strategies are looked up

        for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            for cls in _entry_point_classes(point):
                _add(found, origins, cls, f"entry point {point.name} = {point.value}")
    return found


def get_strategy(strategy: str | type, paths: Iterable[str | Path] = ()) -> type:
    """Return the strategy class for a registered name, a ``module:Class`` reference, or a class.

    Raises
    ------
    UnknownStrategyError
        For an unknown name: one line with "did you mean", the available names and the places searched.
    """
    if isinstance(strategy, type):
        return _check_class(strategy, strategy.__qualname__)
    if not isinstance(strategy, str) or not strategy.strip():
        raise UnknownStrategyError(f"strategy {strategy!r} is neither a name, 'module:Class' nor a class")
    if ":" in strategy:
        return _load_reference(strategy)
    if strategy in SETUP_GROUPS:  # "sweep both" said "unknown strategy 'both' (did you mean 'both'?)"
        members = " and ".join(repr(name) for name in SETUP_GROUPS[strategy])
        raise UnknownStrategyError(
            f"{strategy!r} is a group of {members}, run together only by backtest and replay; name one "
            "strategy"
        )
    paths = list(paths)
    found = _find(strategy, paths)
    if found is not None:
        return found
    names = sorted([*strategy_names(paths), *SETUP_GROUPS])
    searched = [str(folder) for folder in search_paths(paths)] + [f"entry points {ENTRY_POINT_GROUP!r}"]
    raise UnknownStrategyError(
        f"unknown strategy {strategy!r}{suggest(strategy, names)}; available: {', '.join(names) or 'none'}; "
        f"searched: {', '.join(searched)}"
    )


def strategy_names(paths: Iterable[str | Path] = (), *, entry_points: bool = True) -> dict[str, str]:
    """Return ``{name: where it is declared}`` of the search paths and entry points, importing nothing."""
    names: dict[str, str] = {}
    for folder in search_paths(paths):
        for file in _strategy_files(folder):
            for name in _declared_names(file):
                names.setdefault(name, str(file))
    if entry_points:
        for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            names.setdefault(point.name, f"entry point {point.name} = {point.value}")
    return names


def _find(name: str, paths: list[str | Path]) -> type | None:
    """Import the places that declare strategy `name` (and only those); return its class, or None."""
    found: dict[str, type] = {}
    origins: dict[str, str] = {}
    for folder in search_paths(paths):
        for file in _strategy_files(folder):
            if name in _declared_names(file):
                for cls in _strategies_in(_import_file(file)):
                    if cls.name == name:
                        _add(found, origins, cls, str(file))
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if point.name == name:
            for cls in _entry_point_classes(point):
                if cls.name == name:
                    _add(found, origins, cls, f"entry point {point.name} = {point.value}")
    return found.get(name)


def _strategy_files(folder: Path) -> list[Path]:
    return [file for file in sorted(folder.glob("*.py")) if not file.name.startswith("_")]


def _declared_names(file: Path) -> set[str]:
    """Return the strategy names the top-level classes of `file` declare (``name = "..."``), read with
    :mod:`ast`; a file that cannot be read or parsed declares none (and is not imported)."""
    try:
        tree = ast.parse(file.read_bytes(), filename=str(file))
    except (OSError, SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            if isinstance(statement, ast.Assign):
                targets = statement.targets
            elif isinstance(statement, ast.AnnAssign):
                targets = [statement.target]
            else:
                continue
            value = statement.value
            named = any(isinstance(target, ast.Name) and target.id == "name" for target in targets)
            if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
                names.add(value.value)
    return names


def _entry_point_classes(point: importlib.metadata.EntryPoint) -> list[type]:
    try:
        loaded = point.load()
    except (Exception, SystemExit) as exc:  # an installed plugin that fails to import: one line
        raise UnknownStrategyError(f"entry point {point.name} = {point.value}: {_first_line(exc)}") from None
    return _strategies_in(loaded) if inspect.ismodule(loaded) else [_check_class(loaded, point.value)]


def resolve_strategies(
    strategy: str | type | Sequence[str | type], paths: Iterable[str | Path] = ()
) -> list[type]:
    """Return the strategy classes for a name, a group name (``"both"``), a class, or a list of these.

    Raises
    ------
    UnknownStrategyError
        For an unknown name.
    ParameterError
        When the same strategy is listed twice (one account holds one position per strategy).
    """
    items = [strategy] if isinstance(strategy, str | type) else list(strategy)
    if not items:
        raise UnknownStrategyError("no strategy given")
    paths = list(paths)
    classes: list[type] = []
    for item in items:
        names = SETUP_GROUPS.get(item, (item,)) if isinstance(item, str) else (item,)
        classes.extend(get_strategy(name, paths) for name in names)
    names = [cls.name for cls in classes]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate is not None:
        raise ParameterError(f"strategy {duplicate!r} is listed twice; list each strategy once")
    return classes


def file_reference(strategy: type) -> str | None:
    """Return ``"path/to/file.py:Class"`` for a strategy imported from a strategy file, else None.

    Such a class lives in a module named privately for its folder, which no other process can import by
    name; :func:`get_strategy` loads it from this reference there (a sweep's worker processes do). A class
    of an importable module returns None: it is found by its module name.
    """
    module = sys.modules.get(strategy.__module__)
    if not strategy.__module__.startswith(_PRIVATE_PREFIX) or module is None:
        return None
    return f"{module.__file__}:{strategy.__qualname__}"


def _base() -> type:
    # Imported on use: the strategy base class pulls in backtrader, which this module's users may not need.
    from rtystrat.execution.strategy import SetupStrategy

    return SetupStrategy


def _check_class(cls: Any, where: str) -> type:
    base = _base()
    if not (isinstance(cls, type) and issubclass(cls, base) and cls is not base):
        raise UnknownStrategyError(f"{where}: {cls!r} is not a SetupStrategy subclass")
    if not isinstance(getattr(cls, "name", None), str) or not cls.name:
        raise UnknownStrategyError(f"{where}: strategy class {cls.__qualname__} has no 'name'")
    return cls


def _strategies_in(module: ModuleType) -> list[type]:
    base = _base()
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, base)
        and cls is not base
        and cls.__module__ == module.__name__  # defined here, not imported
        and isinstance(cls.__dict__.get("name"), str)  # named here, not a helper base inheriting a name
        and cls.name
    ]


def _add(found: dict[str, type], origins: dict[str, str], cls: type, origin: str) -> None:
    name = cls.name
    if name in found and found[name] is not cls:
        raise ParameterError(f"duplicate strategy name {name!r}: in {origins[name]} and in {origin}")
    found[name] = cls
    origins.setdefault(name, origin)


def _import_file(file: Path) -> ModuleType:
    """Import a strategy file, through its package when the folder is importable as one (so the classes are
    the same objects as ``import strategies.x`` gives), else under a private module name per folder."""
    package = file.parent
    if (package / "__init__.py").is_file() and package.name.isidentifier():
        locations = _package_locations(package.name)
        if package in locations:
            return importlib.import_module(f"{package.name}.{file.stem}")
    digest = hashlib.sha1(str(package).encode()).hexdigest()[:10]
    name = f"{_PRIVATE_PREFIX}{digest}.{file.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise UnknownStrategyError(f"cannot import strategy file {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # a strategy file that fails to import is the user's input
        del sys.modules[name]
        raise UnknownStrategyError(
            f"strategy file {file}: importing it failed ({_first_line(exc)})"
        ) from None
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _package_locations(name: str) -> list[Path]:
    """Return the folders the top-level package `name` would be imported from (none if not importable)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return []
    locations = spec.submodule_search_locations if spec is not None else None
    return [Path(location).resolve() for location in locations or ()]


def _load_reference(reference: str) -> type:
    """Load ``module:Class`` or ``path/to/file.py:Class``."""
    target, _, attribute = reference.rpartition(":")
    if not target or not attribute:
        raise UnknownStrategyError(f"strategy reference {reference!r} is not 'module:Class'")
    try:
        if target.endswith(".py"):
            path = Path(target).resolve()
            if not path.is_file():
                raise UnknownStrategyError(f"strategy file {target!r} of {reference!r} does not exist")
            module = _import_file(path)
        else:
            module = importlib.import_module(target)
    except ModuleNotFoundError as exc:
        raise UnknownStrategyError(f"strategy reference {reference!r}: {exc}") from None
    except UnknownStrategyError:
        raise
    except (Exception, SystemExit) as exc:  # the named module fails to import: say so in one line
        raise UnknownStrategyError(
            f"strategy reference {reference!r}: importing it failed ({_first_line(exc)})"
        ) from None
    if not hasattr(module, attribute):
        names = [name for name, _ in inspect.getmembers(module, inspect.isclass)]
        raise UnknownStrategyError(f"{target!r} has no class {attribute!r}{suggest(attribute, names)}")
    return _check_class(getattr(module, attribute), reference)
