"""Sweeps: frame shape, executor equivalence (process pool, real local Dask cluster), store resume after
SIGKILL, bounded in-flight work, confirmation in backtrader, and the ``sweep`` command."""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import json
import logging
import math
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rtystrat.cli import build_parser
from rtystrat.data.sample import load_sample
from rtystrat.errors import ParameterError, UnknownStrategyError
from rtystrat.execution import kernel
from rtystrat.execution.config import RunConfig
from rtystrat.registry import get_strategy
from rtystrat.tuning.executors import forks_workers
from rtystrat.tuning.space import ParameterSpace
from rtystrat.tuning.store import ResultStore
from rtystrat.tuning.sweep import best_parameters, rank, sweep

GRID = {"stop_offset": "5:30:5pt", "target": ["pivot", "mid", "r1"], "rsi_max": ["none"]}


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return load_sample("daily").loc["2014-01-01":]


@pytest.fixture(scope="module")
def serial_frame(bars: pd.DataFrame) -> pd.DataFrame:
    return sweep("bullish_reversal", bars, GRID, executor="serial", progress=False)


def test_sweep_returns_one_row_per_combination_indexed_by_parameters(
    bars: pd.DataFrame, serial_frame: pd.DataFrame
) -> None:
    assert serial_frame.index.names == ["stop_offset", "target", "rsi_max"]
    assert len(serial_frame) == 18
    assert list(serial_frame.columns) == list(kernel.FAST_STATS)
    assert serial_frame.index[0][:2] == ("5pt", "pivot")
    assert pd.isna(serial_frame.index[0][2])  # None ("no RSI filter") shows as a missing value
    # Each row is exactly the kernel's evaluation of its parameters.
    strategy = get_strategy("bullish_reversal")
    params = strategy.parameters.validate({"stop_offset": "15pt", "target": "r1", "rsi_max": None})
    expected = kernel.evaluate(strategy, kernel.prepare(strategy, bars, RunConfig()), params)
    row = serial_frame.iloc[list(serial_frame.index.get_level_values(0)).index("15pt") + 2]  # target r1
    assert row.name[:2] == ("15pt", "r1")
    assert row.to_dict() == pytest.approx(expected, rel=0, nan_ok=True)
    assert serial_frame["# Trades"].min() > 10


@pytest.mark.slow  # starts a Dask cluster: a minute on a loaded 2-core machine
def test_process_pool_and_a_real_local_dask_cluster_give_identical_results(
    bars: pd.DataFrame, serial_frame: pd.DataFrame
) -> None:
    distributed = pytest.importorskip("distributed")
    process = sweep("bullish_reversal", bars, GRID, executor="process", workers=2, progress=False)
    pd.testing.assert_frame_equal(process, serial_frame)
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        from_client = sweep("bullish_reversal", bars, GRID, executor=client, progress=False)
        from_executor = sweep("bullish_reversal", bars, GRID, executor=client.get_executor(), progress=False)
    pd.testing.assert_frame_equal(from_client, serial_frame)
    pd.testing.assert_frame_equal(from_executor, serial_frame)


def _forked_workers_script() -> str:
    """A sweep on 2 processes of the default executor whose workers print, as each task starts, how many
    compiled fill-rule functions they hold."""
    return f"""
import os
import sys

from numba.core.registry import CPUDispatcher
from rtystrat.data.sample import load_sample
from rtystrat.execution import fills
from rtystrat.tuning import sweep as sweep_module

run_batch = sweep_module._run_batch
def counting(job, reference, batch):
    if os.getpid() != parent:
        compiled = [f for f in vars(fills).values() if isinstance(f, CPUDispatcher)]
        print(sum(len(f.overloads) for f in compiled), file=sys.stderr, flush=True)
    return run_batch(job, reference, batch)
parent = os.getpid()
sweep_module._run_batch = counting
bars = load_sample("daily").loc["2014-01-01":]
sweep_module.sweep("bullish_reversal", bars, {GRID!r}, workers=2, progress=False)
"""


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="only forked workers inherit code")
def test_forked_workers_start_with_the_compiled_fill_rules_loaded() -> None:
    # A worker that loads numba's cache itself spends about a second before its first run; a fork of a
    # process that has run once starts ready. A fresh interpreter, so nothing is loaded beforehand. The
    # default executor runs there; "process" is the same pool, decided by the same test (a fresh interpreter
    # for each cost 3.5 s of CPU).
    assert forks_workers("process") and forks_workers(None)
    script = _forked_workers_script()
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    )
    loaded = [int(line) for line in proc.stderr.split()]
    assert loaded, "no task ran in a worker"
    assert min(loaded) > 0


def test_rerun_with_a_store_skips_finished_runs(
    bars: pd.DataFrame, serial_frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs.sqlite"
    half = {**GRID, "stop_offset": "5:15:5pt"}
    sweep("bullish_reversal", bars, half, executor="serial", store=path, progress=False)
    calls: list[dict[str, Any]] = []
    evaluate = kernel.evaluate

    def counting(strategy: type, data: Any, params: dict[str, Any], *args: Any, **kwargs: Any) -> dict:
        calls.append(params)
        return evaluate(strategy, data, params, *args, **kwargs)

    monkeypatch.setattr(kernel, "evaluate", counting)
    resumed = sweep("bullish_reversal", bars, GRID, executor="serial", store=path, progress=False)
    assert len(calls) == 9  # only the runs the first sweep did not do
    assert {call["stop_offset"] for call in calls} == {"20pt", "25pt", "30pt"}
    pd.testing.assert_frame_equal(resumed, serial_frame)
    with ResultStore(path) as store:
        assert store.count() == 18
    calls.clear()
    again = sweep("bullish_reversal", bars, GRID, executor="serial", store=path, progress=False)
    assert calls == []
    pd.testing.assert_frame_equal(again, serial_frame)


class _BatchRecorder(cf.ThreadPoolExecutor):
    """A thread pool that records how many runs each task holds (sweep tasks take ``job, data, batch``)."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.sizes: list[int] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future:
        self.sizes.append(len(args[2]))
        return super().submit(fn, *args, **kwargs)


def test_a_resumed_sweep_runs_its_last_runs_in_small_batches(bars: pd.DataFrame, tmp_path: Path) -> None:
    # 48 of the 60 runs are stored: the 12 left go in batches of at most ceil(12 / 8) = 2 (8 = 2 batches in
    # flight per worker, twice), not in one batch that a single worker would run while the other waits.
    path = tmp_path / "runs.sqlite"
    grid = {"stop_offset": "5:100:5pt", "target": ["pivot", "mid", "r1"], "rsi_max": ["none"]}
    sweep("bullish_reversal", bars, {**grid, "stop_offset": "5:80:5pt"}, executor="serial", store=path,
          progress=False)  # fmt: skip
    with _BatchRecorder() as pool:
        resumed = sweep("bullish_reversal", bars, grid, executor=pool, workers=2, store=path, progress=False)
    assert pool.sizes == [2, 2] + [1] * 8
    fresh = sweep("bullish_reversal", bars, grid, executor="serial", progress=False)
    pd.testing.assert_frame_equal(resumed, fresh)


def test_store_keys_on_data_and_settings(bars: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    small = {"stop_offset": ["10pt"], "rsi_max": ["none"]}
    sweep("bullish_reversal", bars, small, executor="serial", store=path, progress=False)
    sweep("bullish_reversal", bars.iloc[:-5], small, executor="serial", store=path, progress=False)
    sweep(
        "bullish_reversal", bars, small, executor="serial", store=path, progress=False,
        config=RunConfig(fill_policy="optimistic"),
    )  # fmt: skip
    with ResultStore(path) as store:
        assert store.count() == 3


_KILLED_SWEEP = """
import time
from rtystrat.execution import kernel
from rtystrat.data.sample import load_sample
from rtystrat.tuning.sweep import sweep

evaluate = kernel.evaluate
def slow(*args, **kwargs):
    time.sleep(0.05)  # slow enough to be killed midway
    return evaluate(*args, **kwargs)
kernel.evaluate = slow
sweep("bullish_reversal", load_sample("daily").loc["2014-01-01":], {GRID!r}, executor="process", workers=2,
      store={STORE!r}, progress=False)
"""


def _stored(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            return connection.execute("SELECT count(*) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:  # created but the table is not there yet
        return 0


def test_sweep_killed_with_sigkill_resumes_and_completes(bars: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite"
    grid = {"stop_offset": "5:100:5pt", "target": ["pivot", "mid", "r1"], "rsi_max": ["none"]}
    script = textwrap.dedent(_KILLED_SWEEP).format(GRID=grid, STORE=str(path))
    child = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while _stored(path) < 10 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        os.killpg(child.pid, signal.SIGKILL)  # the sweep and its worker processes, without warning
        child.wait()
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    done_before = _stored(path)
    assert 10 <= done_before < 60, "the sweep was not killed midway"
    calls: list[Any] = []
    evaluate = kernel.evaluate
    kernel_evaluate = kernel.evaluate

    def counting(*args: Any, **kwargs: Any) -> dict:
        calls.append(args)
        return evaluate(*args, **kwargs)

    kernel.evaluate = counting
    try:
        resumed = sweep("bullish_reversal", bars, grid, executor="serial", store=path, progress=False)
    finally:
        kernel.evaluate = kernel_evaluate
    assert len(calls) == 60 - done_before  # no finished run is redone ...
    with sqlite3.connect(path) as connection:
        rows, distinct = connection.execute("SELECT count(*), count(DISTINCT params) FROM runs").fetchone()
    assert rows == distinct == 60  # ... and none is lost or duplicated
    fresh = sweep("bullish_reversal", bars, grid, executor="serial", progress=False)
    pd.testing.assert_frame_equal(resumed, fresh)


class _CountingExecutor(cf.ThreadPoolExecutor):
    """A thread pool that records the most futures ever in flight."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.in_flight = 0
        self.most = 0
        self.tasks = 0
        self._lock = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> cf.Future:
        with self._lock:
            self.in_flight += 1
            self.tasks += 1
            self.most = max(self.most, self.in_flight)
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: cf.Future) -> None:
        with self._lock:
            self.in_flight -= 1


def test_work_in_flight_stays_bounded_however_large_the_grid(bars: pd.DataFrame) -> None:
    pool = _CountingExecutor()
    with pool:
        frame = sweep(
            "bullish_reversal", bars.iloc[-800:], {"stop_offset": "1:400:1", "rsi_max": ["none"]},
            executor=pool, workers=2, progress=False,
        )  # fmt: skip
    assert len(frame) == 400
    assert pool.tasks > 10  # batched, yet streamed in many tasks ...
    assert pool.most <= 4  # ... never more than 2 batches per worker outstanding


def test_confirm_top_reruns_the_best_in_backtrader_with_the_same_answer(bars: pd.DataFrame) -> None:
    frame = sweep(
        "bullish_reversal", bars.loc["2019-01-01":], GRID, executor="serial", confirm_top=2, min_trades=5,
        progress=False,
    )  # fmt: skip
    confirmed = frame[frame["Backtrader # Trades"].notna()]
    assert len(confirmed) == 2
    best = rank(frame, min_trades=5).index[:2]
    assert set(confirmed.index) == set(best)
    for column in kernel.FAST_STATS:
        pd.testing.assert_series_equal(
            confirmed[f"Backtrader {column}"], confirmed[column], check_names=False, rtol=1e-9
        )
    assert "Backtrader Sortino Ratio" in frame  # backtrader's run reports every statistic


def test_confirm_top_with_no_run_reaching_min_trades_confirms_nothing_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # With the default RSI filter the setup trades 6 times in 18 years: no run reaches 10 trades.
    grid = {"stop_offset": "5:40:5pt", "target": "pivot,mid,r1"}
    with caplog.at_level(logging.WARNING, logger="rtystrat.tuning.sweep"):
        frame = sweep(
            "bullish_reversal", load_sample("daily"), grid, executor="serial", progress=False, min_trades=10,
            confirm_top=3,
        )  # fmt: skip
    assert len(frame) == 24 and frame["# Trades"].max() < 10
    assert list(frame.columns) == list(kernel.FAST_STATS)  # no "Backtrader ..." columns: nothing ran
    assert "confirm_top: no run has 10 or more trades; nothing to confirm" in caplog.text


def test_a_grid_of_only_impossible_combinations_gives_an_empty_frame_indexed_by_them(
    bars: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="rtystrat.tuning.sweep"):
        frame = sweep(
            "bullish_reversal", bars, {"target": ["0pt"], "stop_offset": ["5pt", "10pt"]}, executor="serial",
            progress=False,
        )  # fmt: skip
    assert frame.empty and frame.index.names == ["target", "stop_offset"]
    assert "2 impossible combination(s) skipped" in caplog.text


def test_rank_and_best_parameters_respect_min_trades(serial_frame: pd.DataFrame) -> None:
    ranked = rank(serial_frame, "Net P&L [$]", min_trades=0)
    assert ranked["Net P&L [$]"].is_monotonic_decreasing
    best = best_parameters(serial_frame, "Net P&L [$]", min_trades=0)
    assert best == {"stop_offset": ranked.index[0][0], "target": ranked.index[0][1], "rsi_max": None}
    assert best_parameters(serial_frame, "Net P&L [$]", min_trades=0, maximize=False) != best
    most = int(serial_frame["# Trades"].max())
    with pytest.raises(
        ParameterError,
        match=f"no run has 100000 or more trades \\(the most any of the 18 runs has: {most}\\)",
    ):
        best_parameters(serial_frame, min_trades=100_000)
    with pytest.raises(ParameterError, match="did you mean 'Expectancy \\[R\\]'"):
        rank(serial_frame, "Expectancy [r]")


def test_an_empty_ranking_says_why_on_the_log(
    serial_frame: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    most = int(serial_frame["# Trades"].max())
    with caplog.at_level(logging.WARNING, logger="rtystrat.tuning.sweep"):
        assert rank(serial_frame, min_trades=most).shape[0] >= 1
        assert "empty ranking" not in caplog.text
        assert rank(serial_frame, min_trades=most + 1).empty
    assert (
        f"rank: empty ranking: no run has {most + 1} or more trades (the most any of the 18 runs has: {most})"
        in caplog.text
    )


def test_impossible_combinations_are_skipped_and_reported(
    bars: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="rtystrat.tuning.sweep"):
        frame = sweep(
            "bullish_reversal", bars, {"target": ["0pt", "pivot"], "rsi_max": ["none"]}, executor="serial",
            progress=False,
        )  # fmt: skip
    assert [target for target, _ in frame.index] == ["pivot"]
    assert "1 impossible combination(s) skipped" in caplog.text and "target='0pt'" in caplog.text


def test_constraints_and_random_samples_reach_the_runs(bars: pd.DataFrame) -> None:
    space = ParameterSpace(
        {"stop_offset": "5:50:5", "entry_band": "0:20:5", "rsi_max": ["none"]},
        constraints=["entry_band < stop_offset"],
        random=12,
        seed=3,
    )
    frame = sweep("bullish_reversal", bars, space, executor="serial", progress=False)
    assert len(frame) == len(list(space)) <= 12
    points = [(float(s.removesuffix("pt")), float(b.removesuffix("pt"))) for s, b, _ in frame.index]
    assert all(band < stop for stop, band in points)  # offsets show in canonical form: "5pt"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"space": {"stop_ofset": [5]}}, ParameterError, "did you mean 'stop_offset'"),
        ({"space": {"stop_offset": ["-5pt"]}}, ParameterError, "stop_offset"),
        ({"executor": "dask-lokal"}, ParameterError, "did you mean 'dask-local'"),
        ({"engine": "vector"}, ParameterError, "engine='vector'"),
        ({"strategy": "bullish_reversl"}, UnknownStrategyError, "did you mean 'bullish_reversal'"),
    ],
)
def test_bad_requests_fail_in_one_line_before_any_run(
    bars: pd.DataFrame, kwargs: dict[str, Any], error: type, message: str
) -> None:
    arguments = {
        "strategy": "bullish_reversal",
        "space": {"stop_offset": [5]},
        "executor": "serial",
        **kwargs,
    }
    with pytest.raises(error, match=message) as info:
        sweep(arguments.pop("strategy"), bars.iloc[:300], arguments.pop("space"), progress=False, **arguments)
    assert "\n" not in str(info.value)


def _cli(argv: list[str]) -> int:
    """Run ``rtystrat ARGV``'s handler; errors propagate (``main`` would print them)."""
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_sweep_command_prints_ranking_writes_json_store_and_heatmap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "bars.csv"
    load_sample("daily").loc["2016-01-01":].to_csv(data)
    out, store, heatmap = tmp_path / "sweep.json", tmp_path / "runs.sqlite", tmp_path / "heatmap.png"
    argv = [
        "sweep", "bullish_reversal", "--data", str(data), "--grid", "stop_offset=10:30:10pt",
        "--grid", "target=pivot,mid", "--param", "rsi_max=none", "--executor", "serial",
        "--store", str(store), "--json", str(out), "--heatmap", str(heatmap), "--min-trades", "5",
        "--confirm-top", "1",
    ]  # fmt: skip
    assert _cli(argv) == 0
    captured = capsys.readouterr()
    printed = captured.out
    assert "6 runs; best Expectancy [R] with >= 5 trades" in printed
    records = json.loads(out.read_text())
    # One table: each figure beside its backtrader rerun; the rerun row agrees, the others show "-".
    header, *rows = printed.splitlines()[1:7]
    assert " ".join(header.split()) == (
        "stop_offset target Expectancy [R] Expectancy [R] (bt) # Trades # Trades (bt) Win Rate [%] Win Rate "
        "[%] (bt) Net P&L [$] Net P&L [$] (bt) Max. Drawdown [%] Max. Drawdown [%] (bt)"
    )
    first = rows[0].split()
    assert first[2] == first[3] and first[4] == first[5] and first[8] == first[9]
    assert all(row.split()[3] == "-" for row in rows[1:])
    # Dollars to the cent: never three decimals.
    dollars = [row.split()[8] for row in rows]
    assert all("." not in value or len(value.rpartition(".")[2]) == 2 for value in dollars)
    assert f"wrote {out}" in captured.err and f"wrote {heatmap}" in captured.err
    assert len(records) == 6
    assert records[0]["params"] == {"stop_offset": "10pt", "target": "pivot", "rsi_max": None}
    assert set(records[0]["stats"]) == set(kernel.FAST_STATS)
    confirmed = [record for record in records if "backtrader_stats" in record]
    assert len(confirmed) == 1
    assert math.isclose(
        confirmed[0]["backtrader_stats"]["Expectancy [R]"],
        confirmed[0]["stats"]["Expectancy [R]"],
        rel_tol=1e-9,
    )
    assert heatmap.stat().st_size > 10_000
    with ResultStore(store) as opened:
        assert opened.count() == 7  # 6 kernel runs + 1 backtrader confirmation


def test_sweep_command_needs_a_grid_and_guards_huge_grids() -> None:
    with pytest.raises(ParameterError, match="at least one --grid"):
        _cli(["sweep", "bullish_reversal", "--param", "rsi_max=none"])
    with pytest.raises(ParameterError, match="1,002,001 runs"):
        _cli(["sweep", "bullish_reversal", "--grid", "stop_offset=0:1000:1", "--grid", "entry_band=0:1000:1"])


def test_a_strategy_from_a_folder_runs_in_fresh_worker_processes(bars: pd.DataFrame, tmp_path: Path) -> None:
    # Its module is named privately in this process; spawned workers import nothing of it beforehand.
    recipe = Path(__file__).resolve().parents[1] / "strategies" / "bullish_reversal.py"
    text = recipe.read_text(encoding="utf-8").replace('name = "bullish_reversal"', 'name = "my_reversal"')
    (tmp_path / "my_reversal.py").write_text(text, encoding="utf-8")
    strategy = get_strategy("my_reversal", [tmp_path])
    grid = {"stop_offset": ["10pt", "20pt"], "rsi_max": ["none"]}
    serial = sweep(strategy, bars, grid, executor="serial", progress=False)
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        spawned = sweep(strategy, bars, grid, executor=pool, progress=False)
    pd.testing.assert_frame_equal(spawned, serial)
    assert serial["# Trades"].min() > 0


@pytest.mark.parametrize(
    ("command", "flag"),
    [("sweep", "--json"), ("sweep", "--heatmap"), ("walkforward", "--json"), ("walkforward", "--plot")],
)
def test_an_output_that_cannot_be_written_fails_before_any_run(
    command: str, flag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module(f"rtystrat.cli.{command}")
    monkeypatch.setattr(module, "load_inputs", lambda args: pytest.fail("the data were read"))
    missing = tmp_path / "no" / "folder" / "out.png"
    args = build_parser().parse_args(
        [command, "bullish_reversal", "--grid", "stop_offset=10:20:10pt", flag, str(missing)]
    )
    with pytest.raises(ParameterError, match=rf"^{flag} '.*out\.png': the folder .*folder' does not exist$"):
        args.func(args)


def test_sweep_command_trails_and_scales_out_the_same_in_both_engines(tmp_path: Path) -> None:
    # --grid trail=1:3:0.5atr (5 values) × two targets settings, one of them a scale-out over 2 contracts:
    # the kernel and the backtrader path give every run the same statistics.
    data = tmp_path / "bars.csv"
    load_sample("daily").loc["2020-01-01":].to_csv(data)  # six years: each run trades 11 times or more
    runs = {}
    for engine in ("kernel", "backtrader"):
        out = tmp_path / f"{engine}.json"
        argv = [
            "sweep", "bullish_reversal", "--data", str(data), "--grid", "trail=1:3:0.5atr",
            "--grid", "targets=none;mid:1,pivot:1", "--param", "rsi_max=none", "--param", "breakeven=1",
            "--contracts", "2", "--engine", engine, "--executor", "serial", "--json", str(out),
        ]  # fmt: skip
        assert _cli(argv) == 0
        runs[engine] = {
            json.dumps(record["params"], sort_keys=True): record for record in json.loads(out.read_text())
        }
    assert len(runs["kernel"]) == 10 and runs["kernel"].keys() == runs["backtrader"].keys()
    trails = {json.loads(key)["trail"] for key in runs["kernel"]}
    assert trails == {"1atr", "1.5atr", "2atr", "2.5atr", "3atr"}
    for key, record in runs["kernel"].items():
        other = runs["backtrader"][key]["stats"]
        assert record["stats"]["# Trades"] > 5, key
        for name in ("# Trades", "Net P&L [$]", "Expectancy [R]", "Max. Drawdown [%]"):
            assert math.isclose(record["stats"][name], other[name], rel_tol=1e-9), (key, name)
    # the trailing distance changes the outcome, and scaling out does
    outcomes = {record["stats"]["Net P&L [$]"] for record in runs["kernel"].values()}
    assert len(outcomes) >= 6
