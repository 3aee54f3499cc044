"""The fast path: one parameter combination → plans → the shared compiled fill rules → trades and statistics.

No backtrader here. The kernel builds the indicator frame once per sweep (:func:`prepare`), asks the
strategy's pure setup function for its :class:`~rtystrat.plans.Plans` (:func:`plans`), and runs them through
:func:`rtystrat.fills.simulate` — the same numba-compiled state machine, fill policy, tick rounding, slippage,
commission, margin and sizing that the backtrader strategy calls bar by bar — so the two paths book the same
trades (the parity tests check it trade for trade). The trade log comes from :func:`rtystrat.fills.trade_log`
and the statistics from :mod:`rtystrat.metrics`, the functions the backtrader path uses.

Equity is marked to market at each bar close: ``E_t = cash + Σ net P&L of trades closed by t + d · (close_t −
entry) · multiplier · contracts − commission_per_side · contracts`` for a position open at ``t`` (its entry
commission is paid, its exit commission not yet).

Speed: a sweep evaluates thousands of combinations, so :func:`evaluate` computes, by default, only the
:data:`FAST_STATS` (trade statistics from arrays and a few equity statistics) with the definitions of
:mod:`rtystrat.metrics`; ``full_stats=True`` computes every statistic of
:func:`rtystrat.metrics.compute_stats`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numba
import numpy as np
import pandas as pd

from rtystrat import fills, metrics
from rtystrat.errors import ParameterError
from rtystrat.fills import (
    F_BAR,
    F_CONTRACTS,
    F_DIRECTION,
    F_ENTRY_BAR,
    F_ENTRY_PRICE,
    F_INITIAL_RISK,
    F_PRICE,
)
from rtystrat.plans import ENTRY_LIMIT, ENTRY_MARKET, Plans

__all__ = [
    "FAST_STATS",
    "KernelData",
    "KernelRun",
    "evaluate",
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
    settings: np.ndarray  # rtystrat.fills settings vector
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

    trades: np.ndarray  # EXIT records of rtystrat.fills (columns F_*)
    equity: np.ndarray  # $ at each bar close of [start, stop)
    pnl_net: np.ndarray  # $ per trade, after commission and slippage
    r_multiple: np.ndarray
    events: np.ndarray  # rows (bar, kind, contracts) of rejected and skipped entries (rtystrat.fills)
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
    from rtystrat.engine import indicator_frame_for  # the engine's frame, so both paths read the same columns

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
    """Return the strategy's plans for `params` over the whole prepared frame."""
    return strategy.setup(data.frame, **params)


@numba.njit(cache=True)
def _mark_to_market(
    close: np.ndarray,
    trades: np.ndarray,
    start: int,
    multiplier: float,
    commission_per_side: float,
    cash: float,
) -> np.ndarray:
    """Equity at each close of `close` (bars ``start …``) from EXIT records in exit order (module doc)."""
    n = len(close)
    equity = np.empty(n)
    realised = cash
    filled = 0  # bars [0, filled) are written
    for k in range(trades.shape[0]):
        entry = int(trades[k, F_ENTRY_BAR]) - start
        exit_ = int(trades[k, F_BAR]) - start
        d = trades[k, F_DIRECTION]
        contracts = trades[k, F_CONTRACTS]
        price = trades[k, F_ENTRY_PRICE]
        for t in range(filled, entry):
            equity[t] = realised
        for t in range(max(entry, filled), exit_):
            equity[t] = realised + (d * (close[t] - price) * multiplier - commission_per_side) * contracts
        points = d * (trades[k, F_PRICE] - price)
        realised += (points * multiplier - 2.0 * commission_per_side) * contracts
        equity[exit_] = realised
        filled = exit_ + 1
    for t in range(filled, n):
        equity[t] = realised
    return equity


@numba.njit(cache=True)
def _cannot_fill(direction: int, entry_type: int, price: float, next_high: float, next_low: float) -> bool:
    """Whether a one-bar limit or stop entry order provably does not fill on the next bar.

    A long limit needs the next bar to trade below its price (rounding to the tick only lowers it), a
    short limit above; a long stop needs the next high to reach its price (rounding only raises it), a
    short stop the next low. Such an order is placed at the close and expires unfilled a bar later,
    leaving nothing behind, so not placing it changes no fill.
    """
    if entry_type == ENTRY_MARKET or math.isnan(price):
        return False
    if entry_type == ENTRY_LIMIT:
        return next_low >= price if direction > 0 else next_high <= price
    return next_high < price if direction > 0 else next_low > price


@numba.njit(cache=True)
def _run_plans(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    contract_id: np.ndarray,
    direction: np.ndarray,
    entry_type: np.ndarray,
    entry_price: np.ndarray,
    stop: np.ndarray,
    target: np.ndarray,
    invalidation: np.ndarray,
    max_hold: int,
    entry_valid_bars: int,
    anchor_to_fill: bool,
    settings: np.ndarray,
    cash: float,
    skip_unfillable: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rtystrat.fills.simulate` without sub-bars, doing only work that can change the outcome.

    ``fills.step`` on a flat state with no working order returns without a fill, so it is not called
    then; with `skip_unfillable`, orders that cannot fill on the next bar (:func:`_cannot_fill`) are not
    placed. On minute data, where the strategy is flat most of the time, those two are most of the work.
    The loop is otherwise ``fills.simulate``'s (same ``step`` and ``arm``, same order, same cash and
    events), and the parity tests hold the two paths equal trade for trade.
    """
    n = len(open_)
    state = np.full(fills.STATE_SIZE, np.nan)  # fills.new_state(), which is not compiled
    state[fills.ST_PHASE] = fills.FLAT
    state[fills.ST_PENDING] = fills.NO_EXIT
    out = np.empty((fills.MAX_FILLS_PER_BAR, fills.FILL_FIELDS))
    no_sub_bars = np.empty(0)
    trades = np.empty((16, fills.FILL_FIELDS))
    events = np.empty((4, 3))
    n_trades, n_events = 0, 0
    cost = 2.0 * settings[fills.SET_COMMISSION]
    multiplier = settings[fills.SET_MULTIPLIER]
    for i in range(n):
        if state[fills.ST_PHASE] != fills.FLAT:
            roll_next = i + 1 < n and contract_id[i + 1] != contract_id[i]
            count = fills.step(
                state, i, open_[i], high[i], low[i], close[i], no_sub_bars, no_sub_bars, no_sub_bars,
                no_sub_bars, 0, 0, invalidation[i], roll_next, i == n - 1, cash, settings, out,
            )  # fmt: skip
            for r in range(count):
                if out[r, fills.F_KIND] == fills.EXIT:
                    if n_trades == len(trades):
                        trades = np.concatenate((trades, np.empty_like(trades)))
                    trades[n_trades] = out[r]
                    n_trades += 1
                    points = out[r, F_DIRECTION] * (out[r, F_PRICE] - out[r, F_ENTRY_PRICE])
                    cash += (points * multiplier - cost) * out[r, F_CONTRACTS]
                elif out[r, fills.F_KIND] == fills.REJECTED:
                    if n_events == len(events):
                        events = np.concatenate((events, np.empty_like(events)))
                    events[n_events, 0], events[n_events, 1] = i, fills.REJECTED
                    events[n_events, 2] = out[r, F_CONTRACTS]
                    n_events += 1
        if state[fills.ST_PHASE] == fills.FLAT and direction[i] != 0 and i + 1 < n:
            if skip_unfillable and _cannot_fill(
                direction[i], entry_type[i], entry_price[i], high[i + 1], low[i + 1]
            ):
                continue
            contracts = fills.arm(
                state, i, direction[i], entry_type[i], entry_price[i], stop[i], target[i], close[i],
                entry_valid_bars, anchor_to_fill, max_hold, settings,
            )  # fmt: skip
            if contracts == 0:
                if n_events == len(events):
                    events = np.concatenate((events, np.empty_like(events)))
                events[n_events, 0], events[n_events, 1], events[n_events, 2] = i, fills.SKIPPED, 0.0
                n_events += 1
    return trades[:n_trades].copy(), events[:n_events].copy()


def simulate(
    data: KernelData, plans: Plans, config: Any = None, start: int = 0, stop: int | None = None
) -> KernelRun:
    """Run `plans` through the compiled fill rules on bars ``[start, stop)``; positions close at the end.

    Entry orders that provably cannot fill are not placed (:func:`_cannot_fill`) when each order works
    for one bar and no risk budget sizes the trades (a size-0 skip must still be counted). `config` is
    accepted for symmetry with the engine; the run constants were fixed by :func:`prepare`.
    """
    stop = len(data.close) if stop is None else stop
    window = slice(start, stop)
    trades, events = _run_plans(
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
        int(plans.max_hold),
        int(plans.entry_valid_bars),
        bool(plans.anchor_to_fill),
        data.settings,
        data.cash,
        plans.entry_valid_bars <= 1 and math.isnan(data.settings[fills.SET_RISK]),
    )
    if start:
        trades[:, F_BAR] += start
        trades[:, F_ENTRY_BAR] += start
    equity = _mark_to_market(
        data.close[window], trades, start, data.multiplier, data.commission_per_side, data.cash
    )
    pnl_net, r_multiple = _pnl(trades, data)
    return KernelRun(trades, equity, pnl_net, r_multiple, events, start, stop)


def _pnl(trades: np.ndarray, data: KernelData) -> tuple[np.ndarray, np.ndarray]:
    """Net $ P&L and R multiple per trade, as :func:`rtystrat.fills.trade_log` defines them."""
    contracts = trades[:, F_CONTRACTS]
    scale = data.multiplier * contracts
    points = trades[:, F_DIRECTION] * (trades[:, F_PRICE] - trades[:, F_ENTRY_PRICE])
    pnl_net = points * scale - 2.0 * data.commission_per_side * contracts
    risk = trades[:, F_INITIAL_RISK]
    with np.errstate(divide="ignore", invalid="ignore"):
        r_multiple = pnl_net / (np.where(risk > 0, risk, np.nan) * scale)
    return pnl_net, r_multiple


def trades_frame(data: KernelData, run: KernelRun | None, setup: str) -> pd.DataFrame:
    """Return the trade log of `run` (columns of :data:`rtystrat.fills.TRADE_COLUMNS`); empty for None."""
    trades = run.trades if run is not None else np.empty((0, fills.FILL_FIELDS))
    return fills.trade_log(
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
    simulation), and the tests check both agree with :func:`rtystrat.metrics.compute_stats`."""
    equity = run.equity
    pnl, r = run.pnl_net, run.r_multiple
    growth = equity[-1] / equity[0]
    drawdown, drawdown_dollars = _drawdowns(equity)
    returns = pd.Series(equity[1:] / equity[:-1] - 1.0)
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
        "Sharpe Ratio": metrics.sharpe_ratio(returns, bars_per_year),
    }


def _stats(data: KernelData, run: KernelRun, setup: str, *, full: bool) -> dict[str, float]:
    if not full:
        return _fast_stats(run, data.bars_per_year)
    # Every statistic, as rtystrat.engine.run_backtest reports it: buy and hold as benchmark, event counts.
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
    run_ = simulate(data, plans(strategy, data, params), config)
    return _stats(data, run_, strategy.name, full=full_stats)


def run(
    strategy: type, data: KernelData, params: dict[str, Any], config: Any = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Return ``(trade log, equity)`` of one parameter combination over the whole prepared data."""
    result = simulate(data, plans(strategy, data, params), config)
    equity = pd.Series(result.equity, index=data.index, name="equity")
    return trades_frame(data, result, strategy.name), equity
