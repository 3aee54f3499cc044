"""Results store: one committed row per run, skip-done lookups, plain JSON, refusal of foreign files."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtystrat.errors import DataError
from rtystrat.tuning.store import (
    SCHEMA_VERSION,
    ResultStore,
    RunKey,
    canonical_json,
    code_version,
    data_fingerprint,
)

KEY = RunKey("bullish_reversal", "f" * 64, '{"fill_policy":"pessimistic"}', "kernel", "0.1.0+abc")


def _bars(n: int = 5) -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=n, freq="D", name="time")
    close = np.arange(100.0, 100.0 + n)
    return pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1.0}, index=index
    )


def test_canonical_json_sorts_keys_and_turns_numpy_and_nan_into_plain_values() -> None:
    text = canonical_json({"b": np.int64(2), "a": np.float64(0.5), "c": math.nan, "d": pd.Timedelta("36h")})
    assert text == '{"a":0.5,"b":2,"c":null,"d":1.5}'


def test_data_fingerprint_depends_on_bars_not_on_their_origin() -> None:
    bars = _bars()
    assert data_fingerprint(bars) == data_fingerprint(bars.copy())
    changed = bars.copy()
    changed.iloc[3, changed.columns.get_loc("low")] -= 0.1
    assert data_fingerprint(changed) != data_fingerprint(bars)
    shifted = bars.copy()
    shifted.index = shifted.index + pd.Timedelta("1D")
    assert data_fingerprint(shifted) != data_fingerprint(bars)
    assert len(data_fingerprint(bars)) == 64


def test_code_version_starts_with_the_package_version_and_covers_strategy_files() -> None:
    version = code_version()
    assert version.startswith("0.") and "+" in version
    assert code_version() == version
    assert (
        code_version(test_code_version_starts_with_the_package_version_and_covers_strategy_files) != version
    )


def test_store_adds_commits_and_finds_done_runs(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with ResultStore(path) as store:
        store.add(KEY, {"stop_offset": 10, "target": "pivot"}, {"Expectancy [R]": 0.25, "Sharpe": math.nan})
        store.add(KEY, {"target": "pivot", "stop_offset": 10}, {"Expectancy [R]": 9.0})  # same run: ignored
        store.add(KEY._replace(engine="backtrader"), {"stop_offset": 10, "target": "pivot"}, {"x": 1})
    # A second connection (another process after a crash) sees every committed row.
    with ResultStore(path) as store:
        assert store.count() == 2
        assert store.count(KEY) == 1
        wanted = [canonical_json({"stop_offset": 10, "target": "pivot"}), canonical_json({"stop_offset": 20})]
        assert list(store.done(KEY, wanted)) == [wanted[0]]
        ((params, stats),) = list(store.results(KEY))
    assert params == {"stop_offset": 10, "target": "pivot"}
    assert stats["Expectancy [R]"] == 0.25 and math.isnan(stats["Sharpe"])


def test_store_rows_are_plain_json_text(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with ResultStore(path) as store:
        store.add(KEY, {"stop_offset": "13pt"}, {"# Trades": 4})
    row = sqlite3.connect(path).execute("SELECT params, stats, typeof(stats) FROM runs").fetchone()
    assert row == ('{"stop_offset":"13pt"}', '{"# Trades":4}', "text")


def test_store_done_lookup_handles_more_keys_than_sqlite_binds(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "runs.sqlite") as store:
        keys = [canonical_json({"a": i}) for i in range(1200)]
        for params in keys[::3]:
            store.add(KEY, params, {})
        assert set(store.done(KEY, keys)) == set(keys[::3])


def test_store_written_by_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    ResultStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(DataError, match=f"schema {SCHEMA_VERSION + 1}, this rtystrat reads schema 1"):
        ResultStore(path)


def test_foreign_sqlite_and_non_sqlite_files_are_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.sqlite"
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(DataError, match="not an rtystrat results store"):
        ResultStore(foreign)
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a database file at all" * 20)
    with pytest.raises(DataError, match="not a results store"):
        ResultStore(text)
