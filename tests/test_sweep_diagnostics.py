"""Sweeps that keep per-period returns (in memory and in the store, resumed), the ``--diagnostics`` command
and the overfitting figure."""

from __future__ import annotations

import json
import mmap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rtystrat.cli import build_parser
from rtystrat.data.sample import load_sample
from rtystrat.errors import ParameterError
from rtystrat.execution import kernel
from rtystrat.execution.config import RunConfig
from rtystrat.plotting import plot_overfitting
from rtystrat.registry import get_strategy
from rtystrat.tuning.diagnostics import probability_of_backtest_overfitting
from rtystrat.tuning.spool import _mapping
from rtystrat.tuning.store import ResultStore
from rtystrat.tuning.sweep import sweep

GRID = {"stop_offset": "10:30:10pt", "target": ["pivot", "mid"], "rsi_max": ["none"]}


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return load_sample("daily").loc["2016-01-01":]


@pytest.fixture(scope="module")
def kept(bars: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return sweep("bullish_reversal", bars, GRID, executor="serial", progress=False, keep_returns=True)


def test_kept_returns_are_each_runs_daily_equity_changes_as_float32(
    bars: pd.DataFrame, kept: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    frame, returns = kept
    assert returns.shape == (len(bars), 6)
    assert returns.columns.equals(frame.index)
    assert returns.index.equals(bars.index)  # daily bars: one period per bar
    assert (returns.dtypes == np.float32).all()
    # The frame reads the spooled file, not a copy in memory (what keeps a large sweep's memory flat).
    assert isinstance(_mapping(returns.to_numpy()), mmap.mmap)
    strategy = get_strategy("bullish_reversal")
    params = strategy.parameters.validate({"stop_offset": "20pt", "target": "mid", "rsi_max": None})
    _, equity = kernel.run(strategy, kernel.prepare(strategy, bars, RunConfig()), params)
    # The first day's return is from the starting cash.
    expected = pd.concat([pd.Series([RunConfig().cash]), equity.reset_index(drop=True)]).pct_change().iloc[1:]
    assert returns.columns[3][:2] == ("20pt", "mid")  # grid order: stop 10, 20, 30 × target pivot, mid
    column = returns.iloc[:, 3]
    np.testing.assert_allclose(column.to_numpy(), expected.to_numpy(dtype=np.float32), rtol=1e-6, atol=1e-9)
    # The frame is the sweep without returns, row for row.
    pd.testing.assert_frame_equal(
        frame, sweep("bullish_reversal", bars, GRID, executor="serial", progress=False)
    )


def test_weekly_returns_have_one_row_per_week_and_compound_to_the_daily_ones(
    bars: pd.DataFrame, kept: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, weekly = sweep(
        "bullish_reversal", bars, GRID, executor="serial", progress=False, keep_returns=True, period="W"
    )
    daily = kept[1].astype(np.float64)
    compounded = (1 + daily).groupby(daily.index.to_period("W")).prod() - 1
    assert len(weekly) == len(compounded)
    np.testing.assert_allclose(weekly.to_numpy(), compounded.to_numpy(), rtol=1e-4, atol=1e-6)
    with pytest.raises(ParameterError, match="period='Q'"):
        sweep(
            "bullish_reversal", bars, GRID, executor="serial", progress=False, keep_returns=True, period="Q"
        )


def test_resumed_sweep_reads_stored_returns_and_reruns_runs_stored_without_them(
    bars: pd.DataFrame,
    kept: tuple[pd.DataFrame, pd.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "runs.sqlite"
    half = {**GRID, "stop_offset": "10:20:10pt"}
    sweep("bullish_reversal", bars, half, executor="serial", store=path, progress=False)  # no returns
    calls: list[dict[str, Any]] = []
    with_equity = kernel.evaluate_with_equity

    def counting(strategy: type, data: Any, params: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(params)
        return with_equity(strategy, data, params, *args, **kwargs)

    monkeypatch.setattr(kernel, "evaluate_with_equity", counting)
    _, returns = sweep(
        "bullish_reversal", bars, GRID, executor="serial", store=path, progress=False, keep_returns=True
    )
    assert len(calls) == 6  # the 4 stored runs had no returns: rerun, and their returns are added
    pd.testing.assert_frame_equal(returns, kept[1])
    calls.clear()
    resumed, resumed_returns = sweep(
        "bullish_reversal", bars, GRID, executor="serial", store=path, progress=False, keep_returns=True
    )
    assert calls == []  # everything, returns included, came from the store
    pd.testing.assert_frame_equal(resumed, kept[0])
    pd.testing.assert_frame_equal(resumed_returns, kept[1])
    with ResultStore(path) as store:
        assert store.count() == 6


def _cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_sweep_command_with_diagnostics_prints_them_and_writes_json_figure_and_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kept: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    data = tmp_path / "bars.csv"
    load_sample("daily").loc["2016-01-01":].to_csv(data)
    out, figure, page = tmp_path / "sweep.json", tmp_path / "pbo.png", tmp_path / "sweep.html"
    argv = [
        "sweep", "bullish_reversal", "--data", str(data), "--grid", "stop_offset=10:30:10pt",
        "--grid", "target=pivot,mid", "--param", "rsi_max=none", "--executor", "serial", "--min-trades", "5",
        "--diagnostics", "--spa-reps", "100", "--blocks", "8", "--json", str(out),
        "--diagnostics-plot", str(figure), "--html", str(page),
    ]  # fmt: skip
    assert _cli(argv) == 0
    printed = capsys.readouterr().out
    assert "diagnostics (6 runs" in printed
    for text in (
        "Deflated Sharpe Ratio",
        "PBO (CSCV, 8 blocks, 70 splits)",
        "Hansen's SPA vs flat",
        "plateau",
    ):
        assert text in printed
    document = json.loads(out.read_text())
    assert len(document["runs"]) == 6
    diagnostics = document["diagnostics"]
    assert diagnostics["trials"] == 6
    assert diagnostics["pbo"]["pbo"] == probability_of_backtest_overfitting(kept[1], 8).pbo
    assert diagnostics["spa"]["reps"] == 100
    assert figure.stat().st_size > 10_000
    html = page.read_text(encoding="utf-8")
    pbo = f">{diagnostics['pbo']['pbo']:.3f}</td>"
    spa = f">{diagnostics['spa']['pvalue_consistent']:.3f}</td>"
    assert "Probability of Backtest Overfitting" in html and pbo in html and spa in html
    with pytest.raises(ParameterError, match="--diagnostics-plot needs --diagnostics"):
        _cli([arg for arg in argv if arg != "--diagnostics"])


def test_overfitting_figure_has_a_logit_histogram_and_an_oos_vs_is_scatter() -> None:
    rng = np.random.default_rng(2)
    result = probability_of_backtest_overfitting(rng.normal(size=(160, 12)), blocks=8)
    fig = plot_overfitting(result)
    histogram, scatter = fig.axes
    heights = sum(patch.get_height() for patch in histogram.patches)
    assert heights == len(result.logits) == 70
    np.testing.assert_array_equal(scatter.collections[0].get_offsets()[:, 0], result.in_sample)
    assert f"{result.pbo:.2f}" in fig._suptitle.get_text()
