"""Walk-forward: window arithmetic, regime change picks the expected parameters, stitching and efficiency."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from rtystrat.errors import ParameterError
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.signals.parameters import Parameter, Parameters
from rtystrat.signals.plans import ENTRY_MARKET, LONG, SHORT, Plans
from rtystrat.tuning.diagnostics import probability_of_backtest_overfitting
from rtystrat.tuning.sweep import sweep
from rtystrat.tuning.walkforward import Window, walk_forward, walk_forward_windows


def _follow(frame: pd.DataFrame, side: str, target_offset: float) -> Plans:
    """Enter at every close, `side` at market; target `target_offset` away, stop 30 away, out after a bar."""
    close = frame["close"].to_numpy()
    plans = Plans.empty(len(frame))._replace(max_hold=1)
    sign = LONG if side == "long" else SHORT
    plans.direction[:] = sign
    plans.entry_type[:] = ENTRY_MARKET
    plans.target[:] = close + sign * target_offset
    plans.stop[:] = close - sign * 30.0
    return plans


class Follow(SetupStrategy):
    """Test strategy: always in the market on one side."""

    name = "follow"
    setup = staticmethod(_follow)
    indicators: ClassVar[Any] = None
    parameters = Parameters(
        [
            Parameter(name="side", default="long", kind="choice", choices=("long", "short"), doc="side"),
            Parameter(name="target_offset", default=1.0, kind="float", positive=True, doc="target distance"),
        ]
    )


def _regimes(months_up: int, months_down: int) -> pd.DataFrame:
    """Daily bars rising 2 points a day, then falling 2 a day; each bar's range is 0.5 beyond open/close."""
    index = pd.bdate_range("2020-01-01", periods=400, name="time")
    up = index < index[0] + pd.DateOffset(months=months_up)
    index = index[index < index[0] + pd.DateOffset(months=months_up + months_down)]
    up = up[: len(index)]
    steps = np.where(up, 2.0, -2.0)
    close = 1_000.0 + np.cumsum(steps)
    open_ = np.r_[1_000.0, close[:-1]]
    frame = pd.DataFrame({"open": open_, "close": close}, index=index)
    frame["high"] = frame[["open", "close"]].max(axis=1) + 0.5
    frame["low"] = frame[["open", "close"]].min(axis=1) - 0.5
    return frame.assign(volume=1.0)[["open", "high", "low", "close", "volume"]]


def test_rolling_and_anchored_windows_tile_the_months() -> None:
    index = pd.date_range("2020-01-01", "2020-12-31", freq="D", name="time")
    rolling = walk_forward_windows(index, 3, 2)
    january, april, june = (
        index.get_loc(pd.Timestamp(day)) for day in ("2020-01-01", "2020-04-01", "2020-06-01")
    )
    assert rolling[0] == Window(january, april, april, june)
    assert rolling[1].train_start == index.get_loc(pd.Timestamp("2020-03-01"))
    assert [index[w.test_start].month for w in rolling] == [4, 6, 8, 10, 12]
    assert rolling[-1].test_stop == len(index)  # December: a one-month last test window
    assert all(a.test_stop == b.test_start for a, b in itertools.pairwise(rolling))
    anchored = walk_forward_windows(index, 3, 2, anchored=True)
    assert {w.train_start for w in anchored} == {0}
    assert [w.test_start for w in anchored] == [w.test_start for w in rolling]
    with pytest.raises(ParameterError, match="12 months of data"):
        walk_forward_windows(index, 12, 1)
    with pytest.raises(ParameterError, match="at least 1 month"):
        walk_forward_windows(index, 0, 1)


@pytest.fixture(scope="module")
def regime_result() -> Any:
    space = {"side": ["long", "short"], "target_offset": [1.0, 2.0]}
    return walk_forward(
        Follow, _regimes(8, 8), space, train=3, test=2, executor="serial", min_trades=5, progress=False
    )


def test_walk_forward_follows_a_regime_change(regime_result: Any) -> None:
    windows = regime_result.windows
    # Training months Jan-Mar → Jun-Aug: the up regime (Jan-Aug) → long; from Sep on → short.
    train_start = pd.DatetimeIndex(windows["train_start"])
    train_end = pd.DatetimeIndex(windows["train_end"])
    up = train_end < pd.Timestamp("2020-09-01")
    down = train_start >= pd.Timestamp("2020-09-01")
    assert up.sum() >= 3 and down.sum() >= 2
    assert (windows.loc[up, "side"] == "long").all()
    assert (windows.loc[down, "side"] == "short").all()
    # Each bar runs 2.5 points past its open in the trend's direction: a fill one tick worse than the open
    # still reaches a 2-point target, which earns twice the 1-point one.
    assert (windows["target_offset"] == 2.0).all()
    assert list(windows.columns[:4]) == ["train_start", "train_end", "test_start", "test_end"]


def test_stitched_equity_is_the_test_windows_chained(regime_result: Any) -> None:
    windows, equity, trades = regime_result.windows, regime_result.equity, regime_result.trades
    assert equity.index[0] == windows["test_start"].iloc[0]
    assert equity.index[-1] == windows["test_end"].iloc[-1]
    assert equity.index.is_monotonic_increasing and equity.index.is_unique
    assert math.isclose(equity.iloc[-1], 100_000.0 + trades["pnl_net"].sum(), abs_tol=1e-6)
    assert math.isclose(windows["OOS Net P&L [$]"].sum(), trades["pnl_net"].sum(), abs_tol=1e-6)
    assert (trades["entry_time"] >= windows["test_start"].iloc[0]).all()
    assert regime_result.stats["# Trades"] == len(trades)
    # windows count trades from 1 each: the stitched log keeps one id per trade
    assert trades["trade_id"].is_unique and windows["OOS # Trades"].sum() == len(trades)


def test_walk_forward_efficiency_is_pooled_annualised_oos_over_is_profit(regime_result: Any) -> None:
    windows = regime_result.windows
    oos = windows["OOS Net P&L [$]"].sum() / windows["OOS Years"].sum()
    ins = windows["IS Net P&L [$]"].sum() / windows["IS Years"].sum()
    assert math.isclose(regime_result.stats["Walk-Forward Efficiency"], oos / ins, rel_tol=1e-12)
    # The first window after the change trades long into the down regime: OOS lags IS.
    assert 0 < regime_result.stats["Walk-Forward Efficiency"] < 1
    assert windows["WFE"].iloc[0] == pytest.approx(
        (windows["OOS Net P&L [$]"].iloc[0] / windows["OOS Years"].iloc[0])
        / (windows["IS Net P&L [$]"].iloc[0] / windows["IS Years"].iloc[0])
    )


def test_pbo_beside_efficiency_is_the_grids_cscv_over_the_sweeps_daily_returns(regime_result: Any) -> None:
    space = {"side": ["long", "short"], "target_offset": [1.0, 2.0]}
    _, returns = sweep(Follow, _regimes(8, 8), space, executor="serial", progress=False, keep_returns=True)
    expected = probability_of_backtest_overfitting(returns, 16)
    assert regime_result.stats["Probability of Backtest Overfitting"] == expected.pbo
    np.testing.assert_array_equal(regime_result.overfitting.logits, expected.logits)


def test_training_runs_reach_the_workers_in_batches_that_shrink_as_the_runs_run_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # stream() shrinks its batches only when told how many items are left (guided self-scheduling): the
    # walk-forward tells it, so no worker is left with a long last batch of training runs.
    from rtystrat.tuning import executors

    batches: list[int] = []
    stream = executors.stream

    def counted(executor: Any, task: Any, job: Any, reference: Any, items: Any, **options: Any) -> Any:
        def task_counting(job: Any, reference: Any, batch: list[Any]) -> Any:
            batches.append(len(batch))
            return task(job, reference, batch)

        return stream(executor, task_counting, job, reference, items, **options)

    monkeypatch.setattr(executors, "stream", counted)
    space = {"side": ["long", "short"], "target_offset": [float(k) for k in range(1, 21)]}
    walk_forward(Follow, _regimes(4, 0), space, train=2, test=2, executor="serial", workers=1, progress=False)
    assert sum(batches) == 40
    assert batches[0] == 5  # 40 runs // (1 worker * 8)
    assert batches[-4:] == [1, 1, 1, 1]  # at most 1/4 of what is left, once fewer than 8 remain


def test_window_without_a_qualifying_run_stays_flat() -> None:
    result = walk_forward(
        Follow, _regimes(8, 0), {"side": ["long"]}, train=3, test=2, executor="serial", min_trades=10_000,
        progress=False,
    )  # fmt: skip
    assert result.windows["side"].isna().all()
    # Each window says why it chose nothing: every run trades once a month at most, far below 10,000.
    notes = result.windows["note"]
    assert notes.str.fullmatch(r"flat: no run with ≥ 10000 trades in training \(most: \d+\)").all()
    assert list(result.windows.index) == list(range(1, len(result.windows) + 1))
    assert (result.equity == 100_000.0).all()
    assert result.trades.empty
    assert math.isnan(result.stats["Walk-Forward Efficiency"])
    assert math.isnan(result.stats["Probability of Backtest Overfitting"])  # one combination: nothing to rank


def test_result_serialises_to_plain_json(regime_result: Any) -> None:
    data = json.loads(json.dumps(regime_result.to_dict(), allow_nan=False))
    assert set(data) == {"stats", "windows", "trades", "equity"}
    assert data["windows"][0]["side"] == "long"
    assert data["equity"][0][0].startswith("2020-04")


def test_walkforward_command_runs_on_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rtystrat.cli import build_parser
    from rtystrat.data.sample import load_sample

    data = tmp_path / "bars.csv"
    load_sample("daily").loc["2018-01-01":].to_csv(data)
    out, png = tmp_path / "wf.json", tmp_path / "wf.png"
    args = build_parser().parse_args(
        [
            "walkforward", "bullish_reversal", "--data", str(data), "--grid", "stop_offset=10:30:10pt",
            "--grid", "target=pivot,mid", "--param", "rsi_max=none", "--train", "24", "--test", "12",
            "--min-trades", "2", "--json", str(out), "--plot", str(png),
        ]
    )  # fmt: skip
    assert args.func(args) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "Walk-Forward Efficiency" in printed
    assert "Probability of Backtest Overfitting" in printed
    result = json.loads(out.read_text())
    assert len(result["windows"]) == 6  # 2020 … 2025, one test year each
    assert {"stop_offset", "target", "WFE"} <= set(result["windows"][0])
