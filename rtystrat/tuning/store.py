"""A results store that survives: one SQLite row per finished run, written as the run completes.

Design (DESIGN.md §6): standard-library :mod:`sqlite3` in WAL mode; SQL with bound parameters only; plain JSON
text columns, never pickle. A run is keyed by its :class:`RunKey` (strategy, data fingerprint, run settings,
engine, code version) and its canonical-JSON parameters, so rerunning a sweep skips finished runs and a change
of data, settings or code starts afresh instead of mixing results. Each row is committed on its own: a process
killed with SIGKILL loses at most the run it was writing. A file written by another schema version, or not by
rtystrat at all, is refused with a one-line :class:`~rtystrat.errors.DataError`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
import math
import sqlite3
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
SCHEMA_VERSION = 1
# "RTYS" as a 32-bit integer marks the file as ours (PRAGMA application_id); foreign SQLite files are refused.
_APPLICATION_ID = 0x52545953

_WHERE_KEY = "strategy=? AND data_fingerprint=? AND config=? AND engine=? AND code_version=?"
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
    """Return ``"<rtystrat version>+<hash>"`` over rtystrat's source and the source files of `objects`.

    Any edit to the package or to a strategy's file changes the version, so stored results of older code are
    never reused for newer code.
    """
    from rtystrat import __version__

    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    files = sorted(package.rglob("*.py"))
    for obj in objects:
        try:
            source = inspect.getsourcefile(obj)
        except TypeError:  # built-ins and objects without a source file
            source = None
        if source:
            files.append(Path(source))
    for file in files:
        digest.update(file.name.encode())
        digest.update(file.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


def _stats(text: str) -> dict[str, Any]:
    # JSON has no NaN: undefined statistics were stored as null.
    return {name: math.nan if value is None else value for name, value in json.loads(text).items()}


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
            self._connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._check_or_create()
        except sqlite3.DatabaseError as exc:
            raise DataError(f"{self.path}: not a results store ({exc})") from None

    def _check_or_create(self) -> None:
        connection = self._connection
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if application_id == 0 and tables == 0:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("BEGIN")
            connection.execute(_SCHEMA)
            connection.execute(f"PRAGMA application_id={_APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            connection.execute("COMMIT")
        elif application_id != _APPLICATION_ID:
            raise DataError(f"{self.path}: not an rtystrat results store; choose another --store file")
        elif version != SCHEMA_VERSION:
            raise DataError(
                f"{self.path}: written by results-store schema {version}, this rtystrat reads schema "
                f"{SCHEMA_VERSION}; use a new --store file"
            )
        connection.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives the process being killed (only an OS crash may lose the last ones).
        connection.execute("PRAGMA synchronous=NORMAL")

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

    def add(self, key: RunKey, params: Mapping[str, Any] | str, stats: Mapping[str, Any]) -> None:
        """Store one finished run and commit it; a run stored already is left as it is."""
        params_json = params if isinstance(params, str) else canonical_json(params)
        finished = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._connection.execute(
            "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            # Statistics keep their order (the column order of a sweep frame); only keys need canonical form.
            (*key, params_json, json.dumps(plain(stats), separators=(",", ":"), allow_nan=False), finished),
        )

    def done(self, key: RunKey, params: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return ``{params: stats}`` for those of the canonical-JSON `params` stored under `key` already."""
        wanted = list(params)
        found: dict[str, dict[str, Any]] = {}
        # SQLite limits bound variables per statement; ask in slices.
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._connection.execute(
                f"SELECT params, stats FROM runs WHERE {_WHERE_KEY} AND params IN ({marks})",
                (*key, *chunk),
            )
            found.update((text, _stats(stats)) for text, stats in rows)
        return found

    def results(self, key: RunKey) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Yield ``(params, stats)`` of every run stored under `key` (stats' nulls come back as NaN)."""
        rows = self._connection.execute(
            f"SELECT params, stats FROM runs WHERE {_WHERE_KEY} ORDER BY params",
            tuple(key),
        )
        for params, stats in rows:
            yield json.loads(params), _stats(stats)

    def count(self, key: RunKey | None = None) -> int:
        """Return the number of runs stored (under `key`, or in all)."""
        if key is None:
            return self._connection.execute("SELECT count(*) FROM runs").fetchone()[0]
        return self._connection.execute(
            f"SELECT count(*) FROM runs WHERE {_WHERE_KEY}",
            tuple(key),
        ).fetchone()[0]
