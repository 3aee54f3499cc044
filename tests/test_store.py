"""Results store: one committed row per run, skip-done lookups, plain JSON, refusal of foreign files."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    plain,
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
    assert plain({"x": [math.inf, -math.inf, 1.25, np.float64(math.inf)]}) == {"x": [None, None, 1.25, None]}


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
            store.add(KEY, params, {"# Trades": 0.0})
        assert set(store.done(KEY, keys)) == set(keys[::3])


def test_store_written_by_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    ResultStore(path).close()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(
        DataError, match=f"schema {SCHEMA_VERSION + 1}, this rtystrat reads schema {SCHEMA_VERSION}"
    ):
        ResultStore(path)


_SCHEMA_1 = """
CREATE TABLE runs (
    strategy TEXT NOT NULL, data_fingerprint TEXT NOT NULL, config TEXT NOT NULL, engine TEXT NOT NULL,
    code_version TEXT NOT NULL, params TEXT NOT NULL, stats TEXT NOT NULL, finished_at TEXT NOT NULL,
    PRIMARY KEY (strategy, data_fingerprint, config, engine, code_version, params)
) WITHOUT ROWID;
"""


def test_store_of_schema_1_without_returns_is_refused_with_both_versions_named(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    connection = sqlite3.connect(path)
    connection.executescript(_SCHEMA_1)
    connection.execute("PRAGMA application_id=1381259603")  # "RTYS"
    connection.execute("PRAGMA user_version=1")
    connection.close()
    assert SCHEMA_VERSION == 2
    with pytest.raises(
        DataError, match=r"v1.sqlite: written by results-store schema 1, this rtystrat reads schema 2"
    ):
        ResultStore(path)


def test_store_keeps_float32_returns_and_fills_them_in_for_a_run_stored_without(tmp_path: Path) -> None:
    returns = np.array([0.01, -0.002, 1 / 3], dtype=np.float64)
    with ResultStore(tmp_path / "runs.sqlite") as store:
        store.add(KEY, {"a": 1}, {"x": 1.0})  # first without returns
        assert store.returns(KEY, ['{"a":1}']) == {}
        store.add(KEY, {"a": 1}, {"x": 2.0}, returns)  # the stats stay, the returns are added
        kept = store.returns(KEY, ['{"a":1}', '{"a":2}'])
        assert list(kept) == ['{"a":1}']
        assert kept['{"a":1}'].dtype == np.float32
        np.testing.assert_array_equal(kept['{"a":1}'], returns.astype(np.float32))
        assert store.done(KEY, ['{"a":1}']) == {'{"a":1}': {"x": 1.0}}
        store.add(KEY, {"a": 1}, {"x": 3.0}, returns * 2)  # returns stored already are left as they are
        np.testing.assert_array_equal(store.returns(KEY, ['{"a":1}'])['{"a":1}'], returns.astype(np.float32))


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


# ---------------------------------------------------------------------------------------- what the key covers
_HELPER = "RSI_MAX = {rsi_max!r}\n"
_STRATEGY = """
from mine_helper import RSI_MAX

from rtystrat.execution.strategy import SetupStrategy
from rtystrat.signals import setups


def _setup(frame, **params):
    return setups.bullish_reversal(frame, **{**params, "rsi_max": RSI_MAX})


class Mine(SetupStrategy):
    name = "mine"
    setup = staticmethod(_setup)
    parameters = setups.BULLISH_REVERSAL_PARAMETERS
"""


def _strategy_with_helper(tmp_path: Path, rsi_max: float | None) -> tuple[Path, Path]:
    strategies, helpers = tmp_path / "strats", tmp_path / "lib"
    strategies.mkdir(exist_ok=True)
    helpers.mkdir(exist_ok=True)
    (strategies / "mine.py").write_text(_STRATEGY, encoding="utf-8")
    (helpers / "mine_helper.py").write_text(_HELPER.format(rsi_max=rsi_max), encoding="utf-8")
    return strategies, helpers


@pytest.mark.slow
def test_code_version_covers_a_helper_module_the_strategy_imports(tmp_path: Path) -> None:
    strategies, helpers = _strategy_with_helper(tmp_path, 30)
    script = (
        "from rtystrat.registry import get_strategy; from rtystrat.tuning.store import code_version; "
        f"print(code_version(get_strategy('mine', [{str(strategies)!r}])))"
    )
    env = {**os.environ, "PYTHONPATH": str(helpers)}

    def version() -> str:
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        return run.stdout.strip()

    first = version()
    assert version() == first
    (helpers / "mine_helper.py").write_text(_HELPER.format(rsi_max=None), encoding="utf-8")
    assert version() != first


@pytest.mark.slow
def test_a_sweep_after_its_strategys_helper_changed_recomputes(tmp_path: Path) -> None:
    strategies, helpers = _strategy_with_helper(tmp_path, 30)
    env = {**os.environ, "PYTHONPATH": str(helpers)}
    store, out = tmp_path / "s.sqlite", tmp_path / "out.json"
    argv = [sys.executable, "-m", "rtystrat", "-q", "sweep", "mine", "--strategy-path", str(strategies)]
    argv += ["--grid", "stop_offset=10,20", "--executor", "serial", "--store", str(store), "--json", str(out)]

    def trades() -> list[float]:
        subprocess.run(argv, env=env, capture_output=True, text=True, check=True, timeout=300)
        return [record["stats"]["# Trades"] for record in json.loads(out.read_text(encoding="utf-8"))]

    oversold_only = trades()
    (helpers / "mine_helper.py").write_text(_HELPER.format(rsi_max=None), encoding="utf-8")
    every_test = trades()
    # without the RSI filter every S2 test trades: strictly more trades, computed afresh, not read back
    assert all(after > before for before, after in zip(oversold_only, every_test, strict=True))
    with sqlite3.connect(store) as connection:
        assert connection.execute("SELECT count(DISTINCT code_version) FROM runs").fetchone()[0] == 2


# --------------------------------------------------------------------------------- rows and files read back
@pytest.mark.parametrize("stored", ["{}", "[]", "not json", '{"# Trades": "many"}', '{"a": {"b": 1}}'])
def test_a_row_whose_stats_do_not_read_back_is_run_again_and_replaced(tmp_path: Path, stored: str) -> None:
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.add(KEY, {"x": 1}, {"# Trades": 3.0})
        store._connection.execute("UPDATE runs SET stats = ?", (stored,))
        assert store.done(KEY, [canonical_json({"x": 1})]) == {}
        assert list(store.results(KEY)) == []
        store.add(KEY, {"x": 1}, {"# Trades": 4.0})
        assert store.done(KEY, [canonical_json({"x": 1})]) == {canonical_json({"x": 1}): {"# Trades": 4.0}}
        with pytest.raises(DataError, match="no statistics"):
            store.add(KEY, {"x": 2}, {})


def test_a_good_row_is_kept_when_the_run_is_added_again(tmp_path: Path) -> None:
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.add(KEY, {"x": 1}, {"# Trades": 3.0})
        store.add(KEY, {"x": 1}, {"# Trades": 5.0})
        assert store.done(KEY, [canonical_json({"x": 1})])[canonical_json({"x": 1})] == {"# Trades": 3.0}


def test_a_store_with_a_garbage_page_or_no_runs_table_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with ResultStore(path) as store:
        for x in range(2000):
            store.add(KEY, {"x": x}, {"# Trades": float(x)})
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[8192 : 8192 + 4096] = b"\xa5" * 4096  # a page in the middle of the table
    garbled = tmp_path / "garbled.sqlite"
    garbled.write_bytes(bytes(data))
    with (
        pytest.raises(DataError, match="not a results store, or a damaged one") as error,
        ResultStore(garbled) as store,
    ):
        store.done(KEY, [canonical_json({"x": x}) for x in range(2000)])
    assert "\n" not in str(error.value)
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE runs")
    with pytest.raises(DataError, match="without its runs table"):
        ResultStore(path)


def _open_store(path: str, barrier: Any, results: Any) -> None:
    import rtystrat.tuning.store  # noqa: F401 - imported before the barrier, so that all open at once

    barrier.wait()
    try:
        with ResultStore(path) as store:
            store.add(KEY, {"pid": os.getpid()}, {"# Trades": 1.0})
        results.put("ok")
    except Exception as exc:  # reported to the test, which names it
        results.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.slow
def test_eight_processes_creating_one_new_store_all_succeed(tmp_path: Path) -> None:
    path = str(tmp_path / "new.sqlite")
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(8), context.Queue()
    processes = [context.Process(target=_open_store, args=(path, barrier, results)) for _ in range(8)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert outcomes == ["ok"] * 8
    with ResultStore(path) as store:
        assert store.count() == 8
