"""Walk-forward optimisation: optimise on a training window, trade the winner on the next, stitch the results.

The history is cut into calendar months (futures sessions). Window ``w`` trains on `train` months and tests on
the following `test` months; the next window moves forward by `test` months, so the test windows tile the
history after the first training period without overlap. Rolling windows keep the training length fixed;
anchored windows all start at the first month.

For each parameter combination the plans are computed once over the whole history (indicators need their
warm-up and are free of look-ahead) and simulated by the kernel on each training window; the best combination
of a window (by `objective`, among runs with at least `min_trades` trades) is then simulated on its test
window. A window trades only signals decided inside it and closes any open position at its last bar. Test
windows chain their equity (each starts flat with the previous one's final equity), giving the stitched
out-of-sample (OOS) curve and its statistics.

Walk-forward efficiency (Pardo, "The Evaluation and Optimization of Trading Strategies", 2nd ed. 2008, ch. 11)
compares annualised OOS profit with annualised in-sample (IS) profit of the chosen parameters::

    WFE = (Σ_w P&L_OOS,w / Σ_w years_OOS,w) / (Σ_w P&L_IS,w / Σ_w years_IS,w)

with years = bars / bars per year. Every window starts from the same cash, so this is also the ratio of
annualised simple returns. 1 means the parameters earned out of sample what they earned in sample; Pardo
regards values above about 0.5 as a robust strategy. It is NaN when the IS profit is not positive.

Beside it, ``"Probability of Backtest Overfitting"``: the PBO of the whole grid over the whole history by
combinatorially symmetric cross-validation
(:func:`rtystrat.tuning.diagnostics.probability_of_backtest_overfitting`: 16 blocks of each combination's
daily returns, selection by Sharpe ratio). A high WFE with a PBO near or above 0.5 says the windows were
lucky rather than the grid robust. NaN with fewer than two combinations or 32 days.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rtystrat.analysis import metrics
from rtystrat.analysis.tradestats import whole_trades
from rtystrat.data.bars import session_dates
from rtystrat.errors import DataError, ParameterError
from rtystrat.execution import kernel
from rtystrat.execution.compiling import announce_compiling
from rtystrat.tuning import executors
from rtystrat.tuning.diagnostics import Overfitting, probability_of_backtest_overfitting
from rtystrat.tuning.space import ParameterSpace
from rtystrat.tuning.store import data_fingerprint, plain
from rtystrat.tuning.sweep import (
    _check_axes,
    _default_config,
    _period_returns,
    _resolve_data,
    _resolve_strategy,
    _validated,
    period_ends,
)

__all__ = ["WalkForwardResult", "Window", "walk_forward", "walk_forward_windows"]

_PBO_BLOCKS = 16


class Window(NamedTuple):
    """Bar positions ``[start, stop)`` of one training and one test window."""

    train_start: int
    train_stop: int
    test_start: int
    test_stop: int


def walk_forward_windows(
    index: pd.DatetimeIndex, train: int, test: int, *, anchored: bool = False
) -> list[Window]:
    """Cut `index` into walk-forward windows of `train` and `test` calendar months (by futures session).

    The last test window may be shorter than `test` months when the data end inside it.

    Raises
    ------
    ParameterError
        For non-positive lengths, or data shorter than one training window plus one test month.
    """
    if train < 1 or test < 1:
        raise ParameterError(f"walk-forward: train={train} and test={test} must be at least 1 month")
    months = session_dates(index).to_period("M")
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    bounds = np.r_[starts, len(index)]  # bounds[k] = first bar of month k; bounds[-1] = end of data
    count = len(starts)
    if count < train + 1:
        raise ParameterError(
            f"walk-forward: {count} months of data, need at least train={train} + 1 test month"
        )
    windows = []
    for first_test in range(train, count, test):
        first_train = 0 if anchored else first_test - train
        last_test = min(first_test + test, count)
        windows.append(
            Window(
                int(bounds[first_train]),
                int(bounds[first_test]),
                int(bounds[first_test]),
                int(bounds[last_test]),
            )
        )
    return windows


class _WindowJob(NamedTuple):
    strategy: type | str  # the class, or its file reference (executors.portable_strategy)
    config: Any
    windows: tuple[Window, ...]
    full_stats: bool
    period_ends: np.ndarray  # last bar of each day: the whole-history daily returns feed the PBO


def _train_batch(
    job: _WindowJob, reference: Any, batch: list[tuple[int, dict[str, Any]]]
) -> list[tuple[int, list[dict[str, float]], np.ndarray]]:
    """Worker task: per combination, the statistics of each training window and its daily returns over the
    whole history."""
    data = executors.payload_data(reference)
    strategy = executors.worker_strategy(job.strategy)
    results = []
    for position, params in batch:
        plans = kernel.plans(strategy, data, params)
        results.append(
            (
                position,
                [
                    kernel.window_stats(
                        data, plans, job.config, w.train_start, w.train_stop, full=job.full_stats
                    )
                    for w in job.windows
                ],
                _period_returns(kernel.simulate(data, plans, job.config).equity, job.period_ends, data.cash),
            )
        )
    return results


@dataclass(frozen=True, eq=False)
class WalkForwardResult:
    """Outcome of :func:`walk_forward`.

    Attributes
    ----------
    windows : pd.DataFrame
        One row per window, numbered from 1: train/test start and end times, the chosen parameters, the IS
        objective, IS and OOS net P&L, years and trades, the window's WFE, and a ``note`` saying why a window
        chose nothing and stayed flat (empty otherwise).
    trades : pd.DataFrame
        The stitched out-of-sample trade log.
    equity : pd.Series
        The stitched out-of-sample equity ($ at each bar close of the test windows).
    stats : pd.Series
        :func:`rtystrat.analysis.metrics.compute_stats` of the OOS equity and trades, plus
        ``"Walk-Forward Efficiency"`` and ``"Probability of Backtest Overfitting"``.
    overfitting : Overfitting or None
        The grid's CSCV over the whole history (for :func:`rtystrat.plotting.plot_overfitting`); None when
        it cannot be computed.
    """

    windows: pd.DataFrame
    trades: pd.DataFrame
    equity: pd.Series
    stats: pd.Series
    overfitting: Overfitting | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data: stats, windows, trades and equity (ISO times)."""
        windows = self.windows.astype(object).where(self.windows.notna(), None)
        return {
            "stats": plain(self.stats.to_dict()),
            "windows": plain(windows.to_dict(orient="records")),
            "trades": plain(self.trades.astype(object).to_dict(orient="records")),
            "equity": [[time.isoformat(), plain(value)] for time, value in self.equity.items()],
        }


def _best(
    stats: list[tuple[dict[str, Any], dict[str, float]]], objective: str, min_trades: int, maximize: bool
) -> tuple[tuple[dict[str, Any], dict[str, float]] | None, str]:
    """Return the ``(params, stats)`` with the best objective (first in grid order on ties) and ``""``,
    or None and the reason no run qualified."""
    best, best_value = None, -math.inf
    most, enough = 0, 0
    for params, values in stats:
        value = values.get(objective, math.nan)
        trades = values.get("# Trades", 0)
        most = max(most, int(trades))
        if trades < min_trades:
            continue
        enough += 1
        if not math.isfinite(value):
            continue
        value = value if maximize else -value
        if value > best_value:
            best, best_value = (params, values), value
    if best is not None:
        return best, ""
    if not stats:
        return None, "no run in training"
    if not enough:
        return None, f"no run with ≥ {min_trades} trades in training (most: {most})"
    return None, f"no run with ≥ {min_trades} trades has a finite {objective} in training"


def walk_forward(
    strategy: str | type,
    data: pd.DataFrame | str | Path,
    space: ParameterSpace | Mapping[str, Any],
    *,
    train: int = 24,
    test: int = 6,
    anchored: bool = False,
    objective: str = "Expectancy [R]",
    min_trades: int = 5,
    maximize: bool = True,
    config: Any = None,
    executor: Any = None,
    workers: int | None = None,
    progress: bool = True,
) -> WalkForwardResult:
    """Optimise `strategy` over `space` on rolling (or anchored) windows and trade the winners out of sample.

    Parameters
    ----------
    strategy, data, space, config, executor, workers
        As for :func:`rtystrat.tuning.sweep.sweep` (the kernel engine runs every simulation).
    train, test : int
        Window lengths in calendar months.
    anchored : bool
        Every training window starts at the first month (else they roll with a fixed length).
    objective, min_trades, maximize
        The statistic that picks a window's parameters, among runs with at least `min_trades` trades. A
        window where no run qualifies stays flat out of sample, its ``note`` saying why.
    progress : bool
        Show a progress bar.

    Returns
    -------
    WalkForwardResult
    """
    from tqdm import tqdm

    strategy = _resolve_strategy(strategy)
    bars = _resolve_data(data)
    config = _default_config(config)
    space = space if isinstance(space, ParameterSpace) else ParameterSpace(space)
    _check_axes(strategy, space)
    prepared = kernel.prepare(strategy, bars, config)
    windows = tuple(walk_forward_windows(prepared.index, train, test, anchored=anchored))
    job = _WindowJob(
        executors.portable_strategy(strategy),
        config,
        windows,
        objective not in kernel.FAST_STATS,
        period_ends(prepared.index),
    )
    per_window: list[list[tuple[dict[str, Any], dict[str, float]]]] = [[] for _ in windows]
    items = [item for item in _validated(strategy, space) if not isinstance(item, str)]
    parallel = workers or os.cpu_count() or 1
    batch_size = max(1, min(16, len(items) // (parallel * 8)))
    payload = executors.Payload(f"walk-forward:{data_fingerprint(bars)}:{id(prepared)}", prepared)
    results: dict[int, list[dict[str, float]]] = {}
    daily = np.empty((len(items), len(job.period_ends)), dtype=np.float32)  # float32: 4 bytes a run-day
    rows = {position: row for row, (position, _) in enumerate(items)}
    bar = tqdm(total=len(items), disable=not progress, unit="run", desc=f"{strategy.name} [walk-forward]")
    # numba compiling the kernel (a first run after installing) stalls the first run for half a minute
    with bar, announce_compiling(bar) as ran:
        # With forked workers the first combination runs here: they inherit the compiled code it loads.
        here = 1 if executors.forks_workers(executor) else 0
        done_here = _train_batch(job, payload, items[:here])
        with executors.open_executor(executor, workers, payload) as (pool, reference):
            for position, window_stats, returns in itertools.chain(
                done_here,
                executors.stream(
                    pool,
                    _train_batch,
                    job,
                    reference,
                    items[here:],
                    batch_size=batch_size,
                    max_pending=2 * parallel,
                    total=len(items) - here,
                ),
            ):
                results[position] = window_stats
                daily[rows[position]] = returns
                ran()
                bar.update(1)
    for position, params in items:
        for w, values in enumerate(results[position]):
            per_window[w].append((params, values))
    result = _assemble(
        strategy, prepared, config, windows, per_window, objective, min_trades, maximize, space.names
    )
    overfitting = _overfitting(daily)
    result.stats["Probability of Backtest Overfitting"] = overfitting.pbo if overfitting else math.nan
    return dataclasses.replace(result, overfitting=overfitting)


def _overfitting(daily: np.ndarray) -> Overfitting | None:
    """The CSCV of the grid's daily returns (runs × days), or None with too few runs or days."""
    if daily.shape[0] < 2 or daily.shape[1] < 2 * _PBO_BLOCKS:
        return None
    return probability_of_backtest_overfitting(daily.T, _PBO_BLOCKS)


def _assemble(
    strategy: type,
    data: Any,
    config: Any,
    windows: tuple[Window, ...],
    per_window: list[list[tuple[dict[str, Any], dict[str, float]]]],
    objective: str,
    min_trades: int,
    maximize: bool,
    names: list[str],
) -> WalkForwardResult:
    index = data.index
    rows, trade_frames, equity_parts = [], [], []
    issued = 0  # trade ids used by the windows so far
    cash = float(config.cash)
    balance = cash
    for window, candidates in zip(windows, per_window, strict=True):
        best, note = _best(candidates, objective, min_trades, maximize)
        test_years = (window.test_stop - window.test_start) / data.bars_per_year
        train_years = (window.train_stop - window.train_start) / data.bars_per_year
        row: dict[str, Any] = {
            "train_start": index[window.train_start],
            "train_end": index[window.train_stop - 1],
            "test_start": index[window.test_start],
            "test_end": index[window.test_stop - 1],
        }
        if best is None:
            equity = np.full(window.test_stop - window.test_start, balance)
            row.update({name: None for name in names})
            row.update({f"IS {objective}": math.nan, "IS Net P&L [$]": math.nan, "IS Years": train_years})
            row.update(
                {"OOS Net P&L [$]": 0.0, "OOS # Trades": 0.0, "OOS Years": test_years, "WFE": math.nan}
            )
            row["note"] = f"flat: {note}"
        else:
            params, train_stats = best
            plans = kernel.plans(strategy, data, params)
            run = kernel.simulate(data, plans, config, window.test_start, window.test_stop)
            frame = kernel.trades_frame(data, run, strategy.name)
            # each window's run counts trades from 1: shift them so an id is unique in the stitched log
            frame["trade_id"] += issued
            issued = int(frame["trade_id"].max()) if len(frame) else issued
            trade_frames.append(frame)
            equity = run.equity - cash + balance
            oos_pnl = float(run.equity[-1] - cash)
            is_pnl = float(train_stats["Net P&L [$]"])
            row.update({name: params[name] for name in names})
            row.update(
                {
                    f"IS {objective}": train_stats[objective],
                    "IS Net P&L [$]": is_pnl,
                    "IS Years": train_years,
                    "OOS Net P&L [$]": oos_pnl,
                    "OOS # Trades": float(len(whole_trades(frame))),
                    "OOS Years": test_years,
                    "WFE": _efficiency(oos_pnl, test_years, is_pnl, train_years),
                    "note": "",
                }
            )
        balance = float(equity[-1])
        equity_parts.append(pd.Series(equity, index=index[window.test_start : window.test_stop]))
        rows.append(row)
    # Windows are numbered from 1, as the walk-forward figure shows them.
    table = pd.DataFrame(rows, index=pd.RangeIndex(1, len(rows) + 1, name="window"))
    equity = pd.concat(equity_parts).rename("equity")
    trades = (
        pd.concat(trade_frames, ignore_index=True)
        if trade_frames
        else kernel.trades_frame(data, None, strategy.name)
    )
    if len(equity) < 2:
        raise DataError("walk-forward: the test windows hold fewer than two bars")
    stats = metrics.compute_stats(equity, trades, bars_per_year=data.bars_per_year)
    traded = table[table["OOS # Trades"].notna() & table[f"IS {objective}"].notna()]
    stats["Walk-Forward Efficiency"] = _efficiency(
        traded["OOS Net P&L [$]"].sum(),
        traded["OOS Years"].sum(),
        traded["IS Net P&L [$]"].sum(),
        traded["IS Years"].sum(),
    )
    return WalkForwardResult(windows=table, trades=trades, equity=equity, stats=stats)


def _efficiency(oos_pnl: float, oos_years: float, is_pnl: float, is_years: float) -> float:
    """Return annualised OOS profit over annualised IS profit (NaN when the IS profit is not positive)."""
    if not (is_pnl > 0 and is_years > 0 and oos_years > 0):
        return math.nan
    return float((oos_pnl / oos_years) / (is_pnl / is_years))
