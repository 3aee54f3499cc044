"""A results store that survives: one SQLite row per finished run, written as the run completes.

Design (DESIGN.md §6): standard-library :mod:`sqlite3` in WAL mode; SQL with bound parameters only; plain JSON
text columns, never pickle. A run is keyed by its :class:`RunKey` (strategy, data fingerprint, run settings,
engine, code version) and its canonical-JSON parameters, so rerunning a sweep skips finished runs and a change
of data, settings or code starts afresh instead of mixing results. Each row is committed on its own: a process
killed with SIGKILL loses at most the run it was writing. A file written by another schema version, or not by
rtystrat at all, is refused with a one-line :class:`~rtystrat.errors.DataError`.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import hashlib
import importlib.util
import inspect
import json
import math
import os
import sqlite3
import sys
import sysconfig
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rtystrat.errors import DataError

__all__ = [
    "SCHEMA_VERSION",
    "ResultStore",
    "RunKey",
    "canonical_json",
    "code_version",
    "data_fingerprint",
    "plain",
]

#: Layout version of the tables below; bump it whenever a column changes meaning.
#: 2: runs gain ``returns`` (per-period returns, little-endian float32 bytes, NULL when not kept).
SCHEMA_VERSION = 2
# "RTYS" as a 32-bit integer marks the file as ours (PRAGMA application_id); foreign SQLite files are refused.
_APPLICATION_ID = 0x52545953

_WHERE_KEY = "strategy=? AND data_fingerprint=? AND config=? AND engine=? AND code_version=?"
#: Seconds a connection waits for another process's lock on the store.
_BUSY_TIMEOUT = 60.0

_SCHEMA = """
CREATE TABLE runs (
    strategy TEXT NOT NULL,
    data_fingerprint TEXT NOT NULL,
    config TEXT NOT NULL,
    engine TEXT NOT NULL,
    code_version TEXT NOT NULL,
    params TEXT NOT NULL,
    stats TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    returns BLOB,
    PRIMARY KEY (strategy, data_fingerprint, config, engine, code_version, params)
) WITHOUT ROWID;
"""


class RunKey(NamedTuple):
    """Everything besides the parameters that decides a run's result."""

    strategy: str
    data_fingerprint: str
    config: str  # canonical JSON of the run settings (contract, fill policy, costs, ...)
    engine: str
    code_version: str


def plain(value: Any) -> Any:
    """Return `value` as JSON-ready plain data (NaN and infinities become None; NumPy scalars Python ones)."""
    if type(value) is float:  # most values (every statistic): skip the abstract-class checks below
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return value.total_seconds() / 86_400  # durations in days, the unit the stats keys carry
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def canonical_json(value: Any) -> str:
    """Return the canonical JSON text of `value`: sorted keys, no spaces, plain values only."""
    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def data_fingerprint(bars: pd.DataFrame) -> str:
    """Return a SHA-256 hex digest of the bar data: timestamps, OHLCV values and source contracts.

    Two frames with the same bars give the same fingerprint whatever file they came from; changing any bar
    changes it.
    """
    digest = hashlib.sha256()
    index = pd.DatetimeIndex(bars.index)
    digest.update(str(index.tz).encode())
    digest.update(np.ascontiguousarray(index.as_unit("ns").asi8).tobytes())
    for column in ("open", "high", "low", "close", "volume"):
        if column in bars:
            digest.update(column.encode())
            digest.update(np.ascontiguousarray(bars[column].to_numpy(dtype="float64")).tobytes())
    if "contract" in bars:
        digest.update("\n".join(map(str, bars["contract"].to_numpy())).encode())
    return digest.hexdigest()


def code_version(*objects: Any) -> str:
    """Return ``"<rtystrat version>+<hash>"`` over rtystrat's source and the code `objects` depend on.

    For each object (a strategy class) that is its source file and, transitively, every module that file
    imports which lives neither in the standard library nor in site-packages: the helper module a strategy
    folder shares, a package of the user's own. Any edit to the package, a strategy's file or one of its
    helpers changes the version, so stored results of older code are never reused for newer code.
    """
    from rtystrat import __version__

    package = Path(__file__).resolve().parents[1]
    files = sorted(package.rglob("*.py"))
    for obj in objects:
        try:
            source = inspect.getsourcefile(obj)
        except TypeError:  # built-ins and objects without a source file
            source = None
        if source:
            files.extend(sorted(_local_dependencies(Path(source).resolve(), package)))
    digest = hashlib.sha256()
    for file in dict.fromkeys(files):
        digest.update(str(file.name).encode())
        digest.update(file.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


def _installed_roots() -> tuple[Path, ...]:
    """Return the folders of the standard library and of installed distributions."""
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    return tuple({Path(sysconfig.get_paths()[name]).resolve() for name in names} | set(_site_roots()))


def _site_roots() -> list[Path]:
    import site

    folders = [*site.getsitepackages(), site.getusersitepackages()]
    return [Path(folder).resolve() for folder in folders if Path(folder).is_dir()]


def _local_dependencies(start: Path, package: Path) -> set[Path]:
    """Return `start` and every local source file it imports, directly or through other local files.

    Imports are read from the source with :mod:`ast` (nothing is executed); each imported name is located
    through ``sys.modules`` (the strategy's module ran already, so its imports are loaded, whatever
    ``sys.path`` trick they used) or else the import system's finder. Files under rtystrat itself (hashed
    whole), the standard library and site-packages are left out.
    """
    installed = _installed_roots()
    modules = _modules_by_file_name()
    seen: set[Path] = set()
    todo = [start]
    while todo:
        file = todo.pop()
        if file in seen or file.suffix != ".py" or not file.is_file():
            continue
        seen.add(file)
        try:
            tree = ast.parse(file.read_bytes(), filename=str(file))
        except (SyntaxError, ValueError):
            continue  # the interpreter imported it already; a file it cannot parse is hashed as it is
        for name in _imported_names(tree, _module_name(file, modules)):
            origin = _origin(name)
            if origin is None or origin.is_relative_to(package):
                continue
            if not any(origin.is_relative_to(root) for root in installed):
                todo.append(origin)
    return seen


def _modules_by_file_name() -> dict[str, list[tuple[str, str]]]:
    """Return ``file name -> [(module name, file), ...]`` of the loaded modules, built once per walk.

    Resolving the path of every loaded module for each file read cost more than the sweep it keys; plain
    string operations here (no ``Path`` objects for ~1,300 modules) keep the map itself cheap."""
    modules: dict[str, list[tuple[str, str]]] = {}
    for name, module in list(sys.modules.items()):
        location = getattr(module, "__file__", None)
        if location:
            modules.setdefault(os.path.basename(location), []).append((name, location))
    return modules


def _module_name(file: Path, modules: dict[str, list[tuple[str, str]]]) -> str:
    """Return the dotted name `file` was imported under (for relative imports), or its stem.

    Only the modules of the same file name are resolved (a symlinked path still matches)."""
    for name, location in modules.get(file.name, ()):
        if Path(location).resolve() == file:
            return name
    return file.stem


def _imported_names(tree: ast.AST, module: str) -> Iterator[str]:
    """Yield the module names an import statement of `tree` may load (``a.b`` also yields ``a``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bases = [alias.name for alias in node.names]
            members: list[str] = []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = module.rsplit(".", node.level)[0] if module.count(".") >= node.level else ""
                base = ".".join(part for part in (parent, node.module or "") if part)
            else:
                base = node.module or ""
            bases = [base] if base else []
            members = [f"{base}.{alias.name}" for alias in node.names if base]  # `from pkg import submodule`
        else:
            continue
        for name in [*bases, *members]:
            parts = name.split(".")
            yield from (".".join(parts[: end + 1]) for end in range(len(parts)))


def _origin(name: str) -> Path | None:
    """Return the source file of module `name`, or None (built in, not a module, not found)."""
    module = sys.modules.get(name)
    location = getattr(module, "__file__", None) if module is not None else None
    parent = name.rpartition(".")[0]
    if location is None and (not parent or parent in sys.modules):  # finding never runs a new package
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError, AttributeError):
            return None
        location = spec.origin if spec is not None and spec.has_location else None
    return Path(location).resolve() if location else None


def _stats(text: str) -> dict[str, Any] | None:
    """Return the statistics a row holds, or None when they are not a non-empty object of numbers."""
    try:
        stats = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None
    if not isinstance(stats, dict) or not stats:
        return None
    if not all(value is None or isinstance(value, int | float) for value in stats.values()):
        return None
    # JSON has no NaN: undefined statistics were stored as null.
    return {name: math.nan if value is None else value for name, value in stats.items()}


def _valid(rows: Iterable[tuple[str, str]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(params, stats)`` of the rows whose statistics read back (others are as good as absent)."""
    for params, text in rows:
        stats = _stats(text)
        if stats is not None and isinstance(params, str):
            yield params, stats


class ResultStore:
    """SQLite file of finished runs (one row per run, committed as it is added).

    Parameters
    ----------
    path : str or Path
        The file; created with the current schema when absent.

    Examples
    --------
    >>> with ResultStore(tmp_path / "sweep.sqlite") as store:  # doctest: +SKIP
    ...     store.add(key, {"stop_offset": 10}, {"Expectancy [R]": 0.4})
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._connection = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error as exc:
            raise DataError(f"{self.path}: cannot open as a results store ({exc})") from None
        # the same test of a row's statistics in SQL (to replace an unreadable row) as when reading it back
        self._connection.create_function(
            "rtystrat_readable", 1, lambda text: _stats(text) is not None, deterministic=True
        )
        with self._errors():
            self._check_or_create()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn SQLite's errors (a damaged page, a dropped table, a full disk) into one-line DataErrors."""
        try:
            yield
        except sqlite3.Error as exc:
            raise DataError(
                f"{self.path}: not a results store, or a damaged one ({exc}); choose another --store file"
            ) from None

    def _check_or_create(self) -> None:
        connection = self._connection
        # One writer at a time decides whether the file is new: several processes starting sweeps on the
        # same new file must not all create the table (all but one failed with "table runs already exists").
        connection.execute("BEGIN IMMEDIATE")
        try:
            application_id = connection.execute("PRAGMA application_id").fetchone()[0]
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if application_id == 0 and tables == 0:
                connection.execute(_SCHEMA)
                connection.execute(f"PRAGMA application_id={_APPLICATION_ID}")
                connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                application_id, version = _APPLICATION_ID, SCHEMA_VERSION
            runs = connection.execute("SELECT count(*) FROM sqlite_master WHERE name='runs'").fetchone()[0]
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        if application_id != _APPLICATION_ID:
            raise DataError(f"{self.path}: not an rtystrat results store; choose another --store file")
        if version != SCHEMA_VERSION:
            raise DataError(
                f"{self.path}: written by results-store schema {version}, this rtystrat reads schema "
                f"{SCHEMA_VERSION}; use a new --store file"
            )
        if not runs:
            raise DataError(f"{self.path}: results store without its runs table; use a new --store file")
        self._use_wal()
        # WAL + NORMAL: a commit survives the process being killed (only an OS crash may lose the last ones).
        connection.execute("PRAGMA synchronous=NORMAL")

    def _use_wal(self) -> None:
        """Switch the file to WAL (kept in the file: once set, asking again changes nothing).

        The switch needs the file to itself, and SQLite answers "database is locked" at once, without waiting
        out the busy timeout, when waiting could deadlock with another connection's lock — as when several
        processes open one new store together: retry until the timeout instead.
        """
        deadline = time.monotonic() + _BUSY_TIMEOUT
        while True:
            try:
                self._connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        """Close the file."""
        self._connection.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def add(
        self,
        key: RunKey,
        params: Mapping[str, Any] | str,
        stats: Mapping[str, Any],
        returns: np.ndarray | None = None,
    ) -> None:
        """Store one finished run and commit it; a run stored already is left as it is, but gains `returns`
        (its per-period returns, kept as float32) if it was stored without them."""
        params_json = params if isinstance(params, str) else canonical_json(params)
        stats_json = json.dumps(plain(stats), separators=(",", ":"), allow_nan=False)
        if _stats(stats_json) is None:
            raise DataError(f"results store: run {params_json} has no statistics to store")
        finished = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        blob = None if returns is None else np.asarray(returns, dtype="<f4").tobytes()
        with self._errors():
            # A row left unusable (by hand, or by an older rtystrat) is replaced; a good one is kept, and
            # gains the returns it was stored without.
            self._connection.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "stats = CASE WHEN rtystrat_readable(stats) THEN stats ELSE excluded.stats END, "
                "finished_at = CASE WHEN rtystrat_readable(stats) THEN finished_at "
                "ELSE excluded.finished_at END, "
                "returns = CASE WHEN rtystrat_readable(stats) THEN coalesce(returns, excluded.returns) "
                "ELSE excluded.returns END "
                "WHERE NOT rtystrat_readable(stats) OR (returns IS NULL AND excluded.returns IS NOT NULL)",
                # Statistics keep their order (the column order of a sweep frame); only keys need canonical
                # form.
                (*key, params_json, stats_json, finished, blob),
            )

    def returns(self, key: RunKey, params: Iterable[str]) -> dict[str, np.ndarray]:
        """Return ``{params: per-period returns (float32)}`` for those of the canonical-JSON `params` stored
        under `key` with their returns."""
        wanted = list(params)
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), 500):  # SQLite limits bound variables per statement
            chunk = wanted[start : start + 500]
            with self._errors():
                rows = self._connection.execute(
                    f"SELECT params, returns FROM runs WHERE {_WHERE_KEY} AND returns IS NOT NULL "
                    f"AND params IN ({','.join('?' * len(chunk))})",
                    (*key, *chunk),
                ).fetchall()
            found.update((text, np.frombuffer(blob, dtype="<f4")) for text, blob in rows)
        return found

    def done(self, key: RunKey, params: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return ``{params: stats}`` for those of the canonical-JSON `params` stored under `key` already."""
        wanted = list(params)
        found: dict[str, dict[str, Any]] = {}
        # SQLite limits bound variables per statement; ask in slices.
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self._errors():
                rows = self._connection.execute(
                    f"SELECT params, stats FROM runs WHERE {_WHERE_KEY} AND params IN ({marks})",
                    (*key, *chunk),
                ).fetchall()
            # a row whose statistics do not read back (empty, not an object of numbers) is run again
            found.update((text, stats) for text, stats in _valid(rows))
        return found

    def results(self, key: RunKey) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Yield ``(params, stats)`` of every run stored under `key` (stats' nulls come back as NaN)."""
        with self._errors():
            rows = self._connection.execute(
                f"SELECT params, stats FROM runs WHERE {_WHERE_KEY} ORDER BY params",
                tuple(key),
            ).fetchall()
        for params, stats in _valid(rows):
            yield json.loads(params), stats

    def count(self, key: RunKey | None = None) -> int:
        """Return the number of runs stored (under `key`, or in all)."""
        with self._errors():
            if key is None:
                return self._connection.execute("SELECT count(*) FROM runs").fetchone()[0]
            return self._connection.execute(
                f"SELECT count(*) FROM runs WHERE {_WHERE_KEY}",
                tuple(key),
            ).fetchone()[0]
