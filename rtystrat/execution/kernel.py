"""The fast path: one parameter combination → plans → the shared fill rules, compiled → trades and statistics.

No backtrader here. The kernel builds the indicator frame once per sweep (:func:`prepare`), asks the
strategy's pure setup function for its :class:`~rtystrat.signals.plans.Plans` (:func:`plans`), and runs them
through :func:`rtystrat.execution.fills.simulate` — the same state machine, fill policy, tick rounding,
slippage, commission, margin and sizing that the backtrader strategy runs bar by bar, here compiled — so the
two paths book the same trades (the parity tests check it trade for trade). The trade log and each exit's $
amounts come from :mod:`rtystrat.execution.tradelog` and the statistics' definitions from
:mod:`rtystrat.analysis.metrics`, as on the backtrader path. No compiled function here reads another
module's constants: numba's on-disk cache would not notice when those change.

Equity is marked to market at each bar close: ``E_t = cash + Σ net P&L of trades closed by t + d · (close_t −
entry) · multiplier · contracts − commission_per_side · contracts`` for a position open at ``t`` (its entry
commission is paid, its exit commission not yet). One compiled pass (:func:`_account`) applies that rule:
it writes the equity when a caller needs the curve (:func:`simulate`) and otherwise only accumulates the
statistics, visiting just the bars a position is open and the exit bars — a flat bar has a zero return and
cannot move the peak or the drawdown, so flat stretches count at once. A combination's cost then grows with
its bars in trades, not with the data's length.

Speed: a sweep evaluates thousands of combinations, so :func:`evaluate` computes, by default, only the
:data:`FAST_STATS` (trade and equity statistics from that pass, finished by the moment-based definitions
of :mod:`rtystrat.analysis.metrics`); ``full_stats=True`` computes every statistic of
:func:`rtystrat.analysis.metrics.compute_stats` from the full equity.
"""

from __future__ import annotations

import math
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
    exit_index: tuple[np.ndarray, np.ndarray]  # rtystrat.execution.fills.exit_index of the bars
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
    summary: np.ndarray  # what _account accumulated (positions _FIRST ... _R): the fast statistics' input
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
    contract_id = fills.contract_ids(frame)
    return KernelData(
        frame=frame,
        **columns,
        contract_id=contract_id,
        exit_index=fills.exit_index(*columns.values(), contract_id),
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


# Positions in the summary vector of _account. Moments are (count, mean, M2 = Σ (x − mean)², largest |x|).
_FIRST, _FINAL, _DRAWDOWN, _DRAWDOWN_DOLLARS = 0, 1, 2, 3
_RETURNS = 4  # moments of the defined bar returns E_t / E_{t-1} − 1 (E_{t-1} > 0)
_TRADES, _WINS, _PNL, _GROSS_PROFIT, _GROSS_LOSS = 8, 9, 10, 11, 12  # legs combined into trades
_R = 13  # moments of the defined R multiples
_SUMMARY = 17
# The columns of an EXIT record _account reads, passed as an argument: compiled code keeps the values of
# another module's globals in numba's on-disk cache, which would not notice when fills changes them.
_LEG_FIELDS = np.array(
    [F_BAR, F_ENTRY_BAR, F_DIRECTION, F_CONTRACTS, F_ENTRY_PRICE, F_PRICE, F_TRADE_ID], dtype=np.int64
)
_CENTS = 2  # a trade's net P&L, its legs' summed, is rounded to cents (tradestats.whole_trades)
_NO_EQUITY = np.empty(0)


@numba.njit(cache=True)
def _add(summary: np.ndarray, at: int, value: float) -> None:
    """Add `value` to the moments at ``summary[at : at + 4]`` (Welford's update: no cancellation)."""
    count = summary[at] + 1.0
    delta = value - summary[at + 1]
    summary[at + 1] += delta / count
    summary[at + 2] += delta * (value - summary[at + 1])
    summary[at + 3] = max(summary[at + 3], abs(value))
    summary[at] = count


@numba.njit(cache=True)
def _add_zeros(summary: np.ndarray, at: int, zeros: int) -> None:
    """Add `zeros` values of 0 to the moments at ``summary[at : at + 4]`` in one step (Chan, Golub & LeVeque's
    pairwise update, 1979): a flat stretch costs one update, not one per bar."""
    if zeros <= 0:
        return
    before = summary[at]
    count = before + zeros
    delta = -summary[at + 1]
    summary[at + 1] += delta * zeros / count
    summary[at + 2] += delta * delta * before * zeros / count
    summary[at] = count


@numba.njit(cache=True)
def _account(
    close: np.ndarray,
    trades: np.ndarray,
    fields: np.ndarray,
    multiplier: float,
    commission_per_side: float,
    cash: float,
    leg_pnl: np.ndarray,
    leg_r: np.ndarray,
    equity: np.ndarray,
) -> np.ndarray:
    """Mark the account to market at each close of `close` from the EXIT records `trades` (in exit order,
    bars counted from `close`'s first) and return the summary vector (positions ``_FIRST`` ... ``_R``).

    Writes the equity into `equity` when it has one value per bar (leave it empty for statistics only).
    Bars with no open leg and no exit keep the equity of the bar before: they are counted, not visited. The
    legs of a scale-out overlap (each is open from the entry to its own exit); a leg's P&L is open until
    its exit bar and realised from it on. `pnl` and `r_multiple` are the per-trade outcomes (legs combined).
    """
    bar, entry_bar, direction, size = fields[0], fields[1], fields[2], fields[3]
    entry_price, exit_price, trade_id = fields[4], fields[5], fields[6]
    n, legs = len(close), len(trades)
    write = len(equity) == n
    summary = np.zeros(_SUMMARY)
    entries = np.empty(legs, dtype=np.int64)
    for k in range(legs):
        entries[k] = int(trades[k, entry_bar])
    by_entry = np.argsort(entries, kind="mergesort")
    open_legs = np.empty(legs, dtype=np.int64)
    opened = entered = exited = 0
    realised = previous = peak = cash
    t = 0
    while t < n:
        if opened == 0:  # flat until the next entry or exit: the equity stays `realised`
            until = n
            if entered < legs:
                until = min(until, entries[by_entry[entered]])
            if exited < legs:
                until = min(until, int(trades[exited, bar]))
            if until > t:
                if write:
                    equity[t:until] = realised
                if t == 0:
                    summary[_FIRST] = peak = realised
                if realised > 0:  # an account with no capital earns no return (metrics.equity_returns)
                    _add_zeros(summary, _RETURNS, until - t - (t == 0))
                previous = realised
                t = until
                continue
        while entered < legs and entries[by_entry[entered]] == t:
            open_legs[opened] = by_entry[entered]
            opened += 1
            entered += 1
        while exited < legs and int(trades[exited, bar]) == t:
            k = exited
            realised += (
                trades[k, direction] * (trades[k, exit_price] - trades[k, entry_price]) * multiplier
                - 2.0 * commission_per_side
            ) * trades[k, size]
            for j in range(opened):  # it leaves the open legs (a leg entered and exited at t passes through)
                if open_legs[j] == k:
                    opened -= 1
                    open_legs[j] = open_legs[opened]
                    break
            exited += 1
        value = realised
        for j in range(opened):
            k = open_legs[j]
            value += (
                trades[k, direction] * (close[t] - trades[k, entry_price]) * multiplier - commission_per_side
            ) * trades[k, size]
        if write:
            equity[t] = value
        if t == 0:
            summary[_FIRST] = peak = value
        elif previous > 0:
            _add(summary, _RETURNS, value / previous - 1.0)
        peak = max(peak, value)
        if peak > 0:
            summary[_DRAWDOWN] = min(summary[_DRAWDOWN], value / peak - 1.0)
        summary[_DRAWDOWN_DOLLARS] = min(summary[_DRAWDOWN_DOLLARS], value - peak)
        previous = value
        t += 1
    summary[_FINAL] = previous
    k = 0
    while k < legs:
        first, pnl, weighted, contracts = k, 0.0, 0.0, 0.0
        while k < legs and trades[k, trade_id] == trades[first, trade_id]:
            pnl += leg_pnl[k]
            weighted += leg_r[k] * trades[k, size]
            contracts += trades[k, size]
            k += 1
        pnl = np.round(pnl, _CENTS)
        r = leg_r[first] if k - first == 1 else weighted / contracts
        summary[_TRADES] += 1.0  # fill prices are finite: every trade has a P&L
        summary[_PNL] += pnl
        if pnl > 0:
            summary[_WINS] += 1.0
            summary[_GROSS_PROFIT] += pnl
        else:
            summary[_GROSS_LOSS] -= pnl
        if not np.isnan(r):
            _add(summary, _R, r)
    return summary


_NO_SUB_START = np.empty(0, dtype=np.int64)


def simulate(
    data: KernelData,
    plans: Plans,
    config: Any = None,
    start: int = 0,
    stop: int | None = None,
    *,
    equity: bool = True,
) -> KernelRun:
    """Run `plans` (:func:`rtystrat.execution.fills.simulate`) on bars ``[start, stop)``; positions close at
    the end.

    `config` is accepted for symmetry with the engine; the run constants were fixed by :func:`prepare`.
    With ``equity=False`` the run's ``equity`` is empty: only its summary is computed.
    """
    stop = len(data.close) if stop is None else stop
    plans.check(len(data.close), "plans")
    plans = _ordering_rows(data, plans)
    window = slice(start, stop)
    trades, events = fills.simulate(
        data.open[window],
        data.high[window],
        data.low[window],
        data.close[window],
        data.contract_id[window],
        data.exit_index,
        start,
        *fills.plan_arguments(plans, start, stop),  # the signal rows in the window only
        fills.policy_sub_bars(data.settings),
        _NO_SUB_START,
        data.settings,
        data.cash,
    )
    amounts = tradelog.trade_amounts(
        trades, multiplier=data.multiplier, commission_per_side=data.commission_per_side
    )
    curve = np.empty(stop - start) if equity else _NO_EQUITY
    summary = _account(
        data.close[window],
        trades,
        _LEG_FIELDS,
        data.multiplier,
        data.commission_per_side,
        data.cash,
        amounts.pnl_net,
        amounts.r_multiple,
        curve,
    )
    if start:
        trades[:, F_BAR] += start
        trades[:, F_ENTRY_BAR] += start
    return KernelRun(trades, curve, summary, events, start, stop)


# The last run's positions of the plan rows that may place an order, with the arrays they were found from
# (held, so that their ids are not reused): ((rows, direction, entry type, entry price, high, settings),
# positions).
_ORDER_ROWS: list[tuple[tuple[np.ndarray, ...], np.ndarray]] = [((), _NO_SUB_START)]
_ORDER_DTYPES = (np.dtype(np.int64), np.dtype(np.int8), np.dtype(np.int8), np.dtype(np.float64))


def _ordering_rows(data: KernelData, plans: Plans) -> Plans:
    """Return `plans` without the signal rows that never place an order (:func:`fills.order_rows`) when the
    setup shares their rows, directions, entry types and prices between calls, read-only (every stop and
    target of one entry setting in a sweep): the scan over those rows then runs once for all of them instead
    of inside every run. Other plans are returned as they are; :func:`fills.simulate` skips those rows.
    """
    if plans.rows is None or plans.entry_valid_bars > 1 or not math.isnan(data.settings[fills.SET_RISK]):
        return plans  # an order that works longer, or a size-0 event, is decided while running
    key = (plans.rows, plans.direction, plans.entry_type, plans.entry_price, data.high, data.settings)
    for values, dtype in zip(key, _ORDER_DTYPES, strict=False):
        if not isinstance(values, np.ndarray) or values.flags.writeable or values.dtype != dtype:
            return plans
    kept, positions = _ORDER_ROWS[0]
    if len(kept) != len(key) or any(a is not b for a, b in zip(kept, key, strict=True)):
        positions = fills.order_rows(*key[:5], data.low, _NO_SUB_START, True, data.settings)
        _ORDER_ROWS[0] = (key, positions)
    return plans if len(positions) == len(plans.rows) else plans.take(positions)


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


def _fast_stats(summary: np.ndarray, bars: int, bars_per_year: float) -> dict[str, float]:
    """Compute :data:`FAST_STATS` from the summary of :func:`_account` over `bars` bars, finished by the
    moment-based definitions of :mod:`rtystrat.analysis.metrics` (the tests check that they equal
    :func:`rtystrat.analysis.metrics.compute_stats` on the full equity)."""
    values = summary.tolist()  # Python floats: numpy scalars would cost more than the pass itself
    trades, pnl, first, final = values[_TRADES], values[_PNL], values[_FIRST], values[_FINAL]
    growth = final / first
    r_count, r_mean, r_m2, r_scale = values[_R : _R + 4]
    count, mean, m2, scale = values[_RETURNS : _RETURNS + 4]
    return {
        "# Trades": trades,
        "Win Rate [%]": values[_WINS] / trades * 100.0 if trades else math.nan,
        "Net P&L [$]": pnl,
        "Expectancy [$]": pnl / trades if trades else math.nan,
        "Expectancy [R]": r_mean if r_count else math.nan,
        "Profit Factor": tradestats.safe_ratio(values[_GROSS_PROFIT], values[_GROSS_LOSS]),
        "SQN": tradestats.sqn_from_moments(r_count, r_mean, _deviation(r_count, r_m2), r_scale),
        "Equity Final [$]": final,
        "Return [%]": (growth - 1.0) * 100.0,
        "CAGR [%]": metrics.annualised_growth(growth, bars, bars_per_year) * 100.0,
        "Max. Drawdown [%]": values[_DRAWDOWN] * 100.0,
        "Max. Drawdown [$]": values[_DRAWDOWN_DOLLARS],
        "Sharpe Ratio": metrics.sharpe_from_moments(count, mean, _deviation(count, m2), scale, bars_per_year),
    }


def _deviation(count: float, m2: float) -> float:
    """Return the sample standard deviation (ddof=1) of moments with this count and M2 (NaN below two)."""
    return math.sqrt(m2 / (count - 1.0)) if count > 1 else math.nan


def _stats(data: KernelData, run: KernelRun, setup: str, *, full: bool) -> dict[str, float]:
    if not full:
        return _fast_stats(run.summary, run.stop - run.start, data.bars_per_year)
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
    return _stats(data, simulate(data, plans, config, start, stop, equity=full), setup, full=full)


def evaluate(
    strategy: type, data: KernelData, params: dict[str, Any], config: Any = None, *, full_stats: bool = False
) -> dict[str, float]:
    """Return the statistics of one parameter combination (:data:`FAST_STATS`, or all with `full_stats`)."""
    run_ = simulate(data, plans(strategy, data, params), config, equity=full_stats)
    return _stats(data, run_, strategy.name, full=full_stats)


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
