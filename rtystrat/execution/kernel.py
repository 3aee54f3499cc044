"""The fast path: one parameter combination → plans → the shared compiled fill rules → trades and statistics.

No backtrader here. The kernel builds the indicator frame once per sweep (:func:`prepare`), asks the
strategy's pure setup function for its :class:`~rtystrat.signals.plans.Plans` (:func:`plans`), and runs them
through :func:`rtystrat.execution.fills.simulate` — the same numba-compiled state machine, fill policy, tick
rounding, slippage, commission, margin and sizing that the backtrader strategy calls bar by bar — so the two
paths book the same trades (the parity tests check it trade for trade). The trade log and the per-trade P&L
come from :mod:`rtystrat.execution.tradelog` and the statistics from :mod:`rtystrat.analysis.metrics`, the
functions the backtrader path uses. No compiled function here reads another module's constants: numba's
on-disk cache would not notice when those change.

Equity is marked to market at each bar close: ``E_t = cash + Σ net P&L of trades closed by t + d · (close_t −
entry) · multiplier · contracts − commission_per_side · contracts`` for a position open at ``t`` (its entry
commission is paid, its exit commission not yet).

Speed: a sweep evaluates thousands of combinations, so :func:`evaluate` computes, by default, only the
:data:`FAST_STATS` (trade statistics from arrays and a few equity statistics) with the definitions of
:mod:`rtystrat.analysis.metrics`; ``full_stats=True`` computes every statistic of
:func:`rtystrat.analysis.metrics.compute_stats`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numba
import numpy as np
import pandas as pd

from rtystrat.analysis import metrics, tradestats
from rtystrat.errors import ParameterError
from rtystrat.execution import fills, tradelog
from rtystrat.execution.fills import (
    F_BAR,
    F_CONTRACTS,
    F_DIRECTION,
    F_ENTRY_BAR,
    F_ENTRY_PRICE,
    F_PRICE,
    F_TRADE_ID,
)
from rtystrat.signals.columns import keep_columns
from rtystrat.signals.plans import Plans

__all__ = [
    "FAST_STATS",
    "KernelData",
    "KernelRun",
    "evaluate",
    "evaluate_with_equity",
    "plans",
    "prepare",
    "run",
    "simulate",
    "trades_frame",
    "window_stats",
]

#: Statistics :func:`evaluate` computes without building a trade-log frame (same definitions as metrics).
FAST_STATS = (
    "# Trades",
    "Win Rate [%]",
    "Net P&L [$]",
    "Expectancy [$]",
    "Expectancy [R]",
    "Profit Factor",
    "SQN",
    "Equity Final [$]",
    "Return [%]",
    "CAGR [%]",
    "Max. Drawdown [%]",
    "Max. Drawdown [$]",
    "Sharpe Ratio",
)


class KernelData(NamedTuple):
    """Everything a worker needs to evaluate combinations: built once per sweep, shared by every run."""

    frame: pd.DataFrame  # the indicator frame the setup functions read (as the engine builds it)
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    contract_id: np.ndarray  # int64, equal ids = same contract (rolls happen where it changes)
    contracts_traded: Any  # contract name, or one per bar, for the trade log
    settings: np.ndarray  # rtystrat.execution.fills settings vector
    cash: float
    contracts: int  # fixed size, for the buy-and-hold benchmark
    multiplier: float
    commission_per_side: float
    bars_per_year: float

    @property
    def index(self) -> pd.DatetimeIndex:
        """Bar times."""
        return self.frame.index


class KernelRun(NamedTuple):
    """Trades and equity of one simulation over bars ``[start, stop)`` (bar numbers are global)."""

    trades: np.ndarray  # EXIT records of rtystrat.execution.fills (columns F_*), one per leg
    equity: np.ndarray  # $ at each bar close of [start, stop)
    pnl_net: np.ndarray  # $ per trade (its legs summed), after commission and slippage
    r_multiple: np.ndarray  # per trade, on the whole position
    events: np.ndarray  # rows (bar, kind, contracts): fills.REJECTED or fills.SKIPPED entries
    start: int
    stop: int


def prepare(strategy: type, bars: pd.DataFrame, config: Any) -> KernelData:
    """Build the indicator frame and the run constants of `strategy` on `bars` (once per sweep).

    Parameters
    ----------
    strategy : SetupStrategy subclass
        Supplies the indicator columns it needs and its setup function.
    bars : pd.DataFrame
        Canonical bars.
    config : RunConfig
        Contract, costs, fill policy, sizing and cash.
    """
    from rtystrat.execution.engine import (
        indicator_frame_for,  # the engine's frame, so both paths read the same columns
    )

    if config.fill_policy == "intraday":
        raise ParameterError(
            "fill_policy 'intraday' needs lower-timeframe bars, which the kernel does not take; "
            "use engine='backtrader' with intraday data"
        )
    frame = indicator_frame_for(strategy, bars, config)
    spec = config.spec
    columns = {name: frame[name].to_numpy(dtype=np.float64) for name in ("open", "high", "low", "close")}
    contracts_traded = frame["contract"].to_numpy(dtype=object) if "contract" in frame else spec.symbol
    return KernelData(
        frame=frame,
        **columns,
        contract_id=fills.contract_ids(frame),
        contracts_traded=contracts_traded,
        settings=config.fill_settings(),
        cash=float(config.cash),
        contracts=int(config.contracts),
        multiplier=float(spec.multiplier),
        commission_per_side=float(config.commission),
        bars_per_year=metrics.estimate_bars_per_year(frame.index),
    )


def plans(strategy: type, data: KernelData, params: dict[str, Any]) -> Plans:
    """Return the strategy's plans for `params` over the whole prepared frame.

    The frame is never changed after :func:`prepare`, so the setups keep the arrays that no parameter
    changes from one combination to the next (:func:`rtystrat.signals.columns.keep_columns`).
    """
    keep_columns(data.frame)
    return strategy.setup(data.frame, **params)


@numba.njit(cache=True)
def _mark_to_market(
    close: np.ndarray,
    entry_bar: np.ndarray,
    exit_bar: np.ndarray,
    direction: np.ndarray,
    contracts: np.ndarray,
    entry_price: np.ndarray,
    exit_price: np.ndarray,
    multiplier: float,
    commission_per_side: float,
    cash: float,
) -> np.ndarray:
    """Equity at each close of `close` from the exit records in exit order, bars counted from `close`'s first.

    The legs of a scale-out overlap (each is open from the entry to its own exit): the realised P&L is
    written first, then each record's open P&L is added over the bars it is open.
    """
    n = len(close)
    equity = np.empty(n)
    realised = cash
    filled = 0  # bars [0, filled) hold the realised P&L
    for k in range(len(entry_bar)):
        exit_, d, size = exit_bar[k], direction[k], contracts[k]
        for t in range(filled, exit_):
            equity[t] = realised
        realised += (d * (exit_price[k] - entry_price[k]) * multiplier - 2.0 * commission_per_side) * size
        equity[exit_] = realised  # legs exiting on one bar: the last one writes the sum
        filled = exit_ + 1
    for t in range(filled, n):
        equity[t] = realised
    for k in range(len(entry_bar)):
        d, size = direction[k], contracts[k]
        for t in range(entry_bar[k], exit_bar[k]):
            equity[t] += (d * (close[t] - entry_price[k]) * multiplier - commission_per_side) * size
    return equity


def _legs_in(plans: Plans, window: slice) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Return :func:`rtystrat.execution.fills.target_legs` for the rows of `window`."""
    targets, shares, breakeven, breakeven_offset = fills.target_legs(plans)
    return targets[window], shares, breakeven, breakeven_offset[window]


_NO_SUB_START = np.empty(0, dtype=np.int64)


def simulate(
    data: KernelData, plans: Plans, config: Any = None, start: int = 0, stop: int | None = None
) -> KernelRun:
    """Run `plans` (:func:`rtystrat.execution.fills.simulate`) on bars ``[start, stop)``; positions close at
    the end.

    `config` is accepted for symmetry with the engine; the run constants were fixed by :func:`prepare`.
    """
    stop = len(data.close) if stop is None else stop
    window = slice(start, stop)
    trades, events = fills.simulate(
        data.open[window],
        data.high[window],
        data.low[window],
        data.close[window],
        data.contract_id[window],
        plans.direction[window],
        plans.entry_type[window],
        np.asarray(plans.entry_price[window], dtype=np.float64),
        np.asarray(plans.stop[window], dtype=np.float64),
        np.asarray(plans.target[window], dtype=np.float64),
        np.asarray(plans.invalidation[window], dtype=np.float64),
        fills.entry_periods(plans)[window],
        fills.trail_points(plans)[window],
        fills.hold_clock(plans)[window],
        *_legs_in(plans, window),
        int(plans.max_hold),
        int(plans.entry_valid_bars),
        bool(plans.anchor_to_fill),
        fills.policy_sub_bars(data.settings),
        _NO_SUB_START,
        data.settings,
        data.cash,
    )
    equity = _mark_to_market(
        data.close[window],
        trades[:, F_ENTRY_BAR].astype(np.int64),
        trades[:, F_BAR].astype(np.int64),
        trades[:, F_DIRECTION],
        trades[:, F_CONTRACTS],
        trades[:, F_ENTRY_PRICE],
        trades[:, F_PRICE],
        data.multiplier,
        data.commission_per_side,
        data.cash,
    )
    if start:
        trades[:, F_BAR] += start
        trades[:, F_ENTRY_BAR] += start
    amounts = tradelog.trade_amounts(
        trades, multiplier=data.multiplier, commission_per_side=data.commission_per_side
    )
    pnl_net, r_multiple = tradestats.whole_trade_outcomes(
        trades[:, F_TRADE_ID], trades[:, F_CONTRACTS], amounts.pnl_net, amounts.r_multiple
    )
    return KernelRun(trades, equity, pnl_net, r_multiple, events, start, stop)


def trades_frame(data: KernelData, run: KernelRun | None, setup: str) -> pd.DataFrame:
    """Return the trade log of `run` (columns of :data:`rtystrat.execution.tradelog.TRADE_COLUMNS`); empty
    for None."""
    trades = run.trades if run is not None else np.empty((0, fills.FILL_FIELDS))
    return tradelog.trade_log(
        trades,
        data.index,
        setup=setup,
        multiplier=data.multiplier,
        commission_per_side=data.commission_per_side,
        contracts_traded=data.contracts_traded,
    )


@numba.njit(cache=True)
def _drawdowns(equity: np.ndarray) -> tuple[float, float]:
    """Return the deepest drawdown as ``min_t (E_t / max_{s<=t} E_s - 1)`` and in $ (metrics' definitions)."""
    peak = equity[0]
    worst_fraction = 0.0
    worst_dollars = 0.0
    for value in equity:
        peak = max(peak, value)
        worst_fraction = min(worst_fraction, value / peak - 1.0)
        worst_dollars = min(worst_dollars, value - peak)
    return worst_fraction, worst_dollars


def _fast_stats(run: KernelRun, bars_per_year: float) -> dict[str, float]:
    """Compute :data:`FAST_STATS` from arrays: metrics' trade functions take arrays as they are; the
    equity statistics repeat metrics' one-line formulas in numpy (pandas would cost more than the
    simulation), and the tests check both agree with :func:`rtystrat.analysis.metrics.compute_stats`."""
    equity = run.equity
    pnl, r = run.pnl_net, run.r_multiple
    growth = equity[-1] / equity[0]
    drawdown, drawdown_dollars = _drawdowns(equity)
    returns = equity[1:] / equity[:-1]
    returns -= 1.0  # in place: on a million bars each temporary array costs page faults
    return {
        "# Trades": float(len(pnl)),
        "Win Rate [%]": metrics.win_rate(pnl) * 100.0,
        "Net P&L [$]": float(pnl.sum()),
        "Expectancy [$]": metrics.expectancy(pnl),
        "Expectancy [R]": metrics.expectancy(r),
        "Profit Factor": metrics.profit_factor(pnl),
        "SQN": metrics.sqn(r),
        "Equity Final [$]": float(equity[-1]),
        "Return [%]": float(growth - 1.0) * 100.0,
        "CAGR [%]": (float(growth ** (bars_per_year / (len(equity) - 1)) - 1.0) if growth > 0 else -1.0)
        * 100.0,
        "Max. Drawdown [%]": drawdown * 100.0,
        "Max. Drawdown [$]": drawdown_dollars,
        "Sharpe Ratio": metrics.sharpe_ratio(pd.Series(returns), bars_per_year),
    }


def _stats(data: KernelData, run: KernelRun, setup: str, *, full: bool) -> dict[str, float]:
    if not full:
        return _fast_stats(run, data.bars_per_year)
    # Every statistic, as rtystrat.execution.engine.run_backtest reports it: buy and hold as benchmark, event
    # counts.
    index = data.index[run.start : run.stop]
    equity = pd.Series(run.equity, index=index, name="equity")
    benchmark = metrics.buy_and_hold(
        data.frame["close"].iloc[run.start : run.stop],
        multiplier=data.multiplier,
        contracts=data.contracts,
        cash=data.cash,
    )
    stats = metrics.compute_stats(
        equity, trades_frame(data, run, setup), bars_per_year=data.bars_per_year, benchmark=benchmark
    ).to_dict()
    kinds = run.events[:, 1] if len(run.events) else np.empty(0)
    stats["# Rejected Entries"] = float(np.sum(kinds == fills.REJECTED))
    stats["# Skipped Entries"] = float(np.sum(kinds == fills.SKIPPED))
    return stats


def window_stats(
    data: KernelData, plans: Plans, config: Any, start: int, stop: int, *, full: bool = False, setup: str = ""
) -> dict[str, float]:
    """Return the statistics of `plans` traded on bars ``[start, stop)`` only (walk-forward windows)."""
    return _stats(data, simulate(data, plans, config, start, stop), setup, full=full)


def evaluate(
    strategy: type, data: KernelData, params: dict[str, Any], config: Any = None, *, full_stats: bool = False
) -> dict[str, float]:
    """Return the statistics of one parameter combination (:data:`FAST_STATS`, or all with `full_stats`)."""
    return evaluate_with_equity(strategy, data, params, config, full_stats=full_stats)[0]


def evaluate_with_equity(
    strategy: type, data: KernelData, params: dict[str, Any], config: Any = None, *, full_stats: bool = False
) -> tuple[dict[str, float], np.ndarray]:
    """Return :func:`evaluate`'s statistics and the equity at each bar close (for per-period returns)."""
    run_ = simulate(data, plans(strategy, data, params), config)
    return _stats(data, run_, strategy.name, full=full_stats), run_.equity


def run(
    strategy: type, data: KernelData, params: dict[str, Any], config: Any = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Return ``(trade log, equity)`` of one parameter combination over the whole prepared data."""
    result = simulate(data, plans(strategy, data, params), config)
    equity = pd.Series(result.equity, index=data.index, name="equity")
    return trades_frame(data, result, strategy.name), equity
