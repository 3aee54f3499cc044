"""Trade-log statistics (pure numpy/pandas): win rate, payoff, profit factor, expectancy, SQN, Kelly, streaks.

A trade is a win when ``pnl_net > 0`` and a loss when ``pnl_net < 0``; a break-even trade is neither but
counts in ``# Trades`` (so the win rate is wins over all trades). "Trade order" is the order of exits.
A trade that scaled out over several targets has one trade-log row per leg (same ``trade_id``); the
statistics count it once (:func:`whole_trades`): its legs' $ summed, its R on the whole position.
:func:`trade_stats` gathers them for :func:`rtystrat.analysis.metrics.compute_stats`, which re-exports every
function here; the equity-curve statistics live in :mod:`rtystrat.analysis.metrics`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from rtystrat.errors import DataError

__all__ = [
    "expectancy",
    "exposure",
    "kelly_fraction",
    "longest_streaks",
    "payoff_ratio",
    "profit_factor",
    "sqn",
    "sqn_from_moments",
    "trade_stats",
    "whole_trades",
    "win_rate",
]


def safe_ratio(numerator: float, denominator: float) -> float:
    """Return ``numerator / denominator``; over zero: ±inf, or NaN when the numerator is zero too."""
    if denominator == 0:
        return float("nan") if numerator == 0 else float(np.sign(numerator) * np.inf)
    return float(numerator / denominator)


# A deviation this small relative to the values it comes from is floating-point residue of equal values
# (R multiples of 2.0 and 2.0000000000000004), not a spread: dividing by it gave SQNs of 1e14.
_NEGLIGIBLE_DEVIATION = 1e-9


def deviation_ratio(mean: float, deviation: float, scale: float) -> float:
    """Return ``mean / deviation``; NaN when the deviation is zero relative to `scale`, the largest magnitude
    of the values it comes from (:func:`largest_magnitude`).

    A ratio to a dispersion (SQN, Sharpe, Sortino) is undefined when the values do not vary: a trader with
    26 trades of exactly +1 R has no measured risk, not an infinitely good system.
    """
    if not math.isfinite(deviation) or deviation <= _NEGLIGIBLE_DEVIATION * scale:
        return float("nan")
    return float(mean / deviation)


def largest_magnitude(values: np.ndarray) -> float:
    """Return ``max |x|`` over `values` (0 when empty): the scale :func:`deviation_ratio` compares with."""
    return float(np.max(np.abs(values))) if len(values) else 0.0


def _array(values: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array[~np.isnan(array)]


def win_rate(pnl: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Return ``#(pnl > 0) / #trades`` (NaN without trades)."""
    pnl = _array(pnl)
    return float(np.mean(pnl > 0)) if len(pnl) else float("nan")


def payoff_ratio(pnl: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Return ``mean(winning pnl) / |mean(losing pnl)|`` (inf without losses, NaN without wins)."""
    pnl = _array(pnl)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    if not len(wins):
        return float("nan")
    return float(wins.mean() / -losses.mean()) if len(losses) else float("inf")


def profit_factor(pnl: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Return gross profit over gross loss ``Σ pnl⁺ / |Σ pnl⁻|`` (inf without losses, NaN without either)."""
    pnl = _array(pnl)
    return safe_ratio(pnl[pnl > 0].sum(), -pnl[pnl < 0].sum())


def expectancy(values: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Return the mean outcome per trade, ``Σ x / n`` ($ for net P&L, R for R multiples).

    Equal to ``W · avg win − (1 − W) · |avg loss|`` (Tharp, "Trade Your Way to Financial Freedom", 2007).
    """
    values = _array(values)
    return float(values.mean()) if len(values) else float("nan")


def sqn(r_multiples: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Return Van Tharp's System Quality Number ``sqrt(n) · mean(R) / std(R, ddof=1)``.

    Uncapped n, as first published (Tharp, "The Definitive Guide to Position Sizing", 2008); NaN for n < 2
    and when every R is the same (no deviation: the ratio is undefined).
    """
    r = _array(r_multiples)
    if len(r) < 2:
        return float("nan")
    return sqn_from_moments(len(r), r.mean(), np.std(r, ddof=1), largest_magnitude(r))


def sqn_from_moments(count: float, mean: float, deviation: float, scale: float) -> float:
    """Return :func:`sqn` of `count` R multiples with this mean, sample deviation and largest ``|R|``.

    For callers that accumulate the moments as they go (the sweep kernel) rather than keep the values.
    """
    if count < 2:
        return float("nan")
    return deviation_ratio(mean, deviation, scale) * math.sqrt(count)


def kelly_fraction(pnl: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Return the Kelly fraction ``W - (1 - W) / payoff`` with W the win rate.

    The fraction of capital to risk per trade that maximises expected log growth for a two-outcome bet
    (Kelly 1956, "A New Interpretation of Information Rate"); negative means the system has no edge.
    """
    rate, payoff = win_rate(pnl), payoff_ratio(pnl)
    return float(rate - (1.0 - rate) / payoff)


def longest_streaks(pnl: Sequence[float] | np.ndarray | pd.Series) -> tuple[int, int]:
    """Return the longest runs of consecutive winning and losing trades, in trade order."""
    pnl = _array(pnl)

    def longest(mask: np.ndarray) -> int:
        edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
        lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        return int(lengths.max()) if len(lengths) else 0

    return longest(pnl > 0), longest(pnl < 0)


def exposure(trades: pd.DataFrame, index: pd.DatetimeIndex) -> float:
    """Return the fraction of bars during which a position was open.

    A trade occupies every bar from the one containing ``entry_time`` to the one containing ``exit_time``
    (the bar containing time t is the last bar starting at or before t), both included; overlapping trades
    (several setups, one account) count a bar once.
    """
    if not len(index):
        return float("nan")
    if not len(trades):
        return 0.0
    first = index.searchsorted(trade_times(trades, "entry_time", index), side="right") - 1
    last = index.searchsorted(trade_times(trades, "exit_time", index), side="right") - 1
    depth = np.zeros(len(index) + 1, dtype=np.int64)
    np.add.at(depth, np.clip(first, 0, None), 1)
    np.add.at(depth, last + 1, -1)
    return float(np.mean(np.cumsum(depth[:-1]) > 0))


def trade_times(trades: pd.DataFrame, column: str, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Return a trade-time column in the time zone of the equity index.

    Raises
    ------
    DataError
        When one of the two is tz-aware and the other not.
    """
    times = pd.DatetimeIndex(trades[column])
    if (times.tz is None) != (index.tz is None):
        zone = "tz-naive" if times.tz is None else f"in {times.tz}"
        other = "tz-naive" if index.tz is None else f"in {index.tz}"
        raise DataError(f"trades: column {column!r} is {zone} but the equity index is {other}")
    return times if times.tz is None else times.tz_convert(index.tz)


def _sorted_trades(trades: pd.DataFrame) -> pd.DataFrame:
    # streaks and "trade order" mean the order in which results were realised
    return trades.sort_values("exit_time", kind="stable") if "exit_time" in trades else trades


def trade_column(trades: pd.DataFrame, name: str) -> pd.Series:
    """Return column `name` of the trade log, or NaN for every trade when the log has no such column."""
    return trades[name] if name in trades else pd.Series(np.nan, index=trades.index)


_CENTS = 2
# how the columns of a trade's legs combine into the trade (absent columns are left out)
_SUMMED = ("contracts", "pnl_gross", "commission", "slippage", "pnl_net", "pnl_net_pessimistic",
           "pnl_net_optimistic")  # fmt: skip
_LAST = ("exit_time", "exit_price", "exit_reason", "bars_held", "duration", "stop", "target", "leg")
_LARGEST = ("mae_points", "mfe_points", "mae_r", "mfe_r", "ambiguous")
_PER_CONTRACT = ("pnl_points", "r_multiple")  # contract-weighted means


def whole_trades(trades: pd.DataFrame) -> pd.DataFrame:
    """Return the trade log with one row per trade: the legs of a scale-out (same setup and ``trade_id``)
    combined.

    $ columns and contracts are summed; exit time, price, reason and bars held are the last leg's; MAE/MFE
    the largest; ``pnl_points`` and ``r_multiple`` the contract-weighted means (R on the whole position).
    A log without legs (each ``trade_id`` once, or no such column) is returned as it is.
    """
    keys = [key for key in ("setup", "trade_id") if key in trades]
    if "trade_id" not in trades or not trades.duplicated(keys).any():
        return trades
    trades = _sorted_trades(trades)
    groups = trades.groupby(keys, sort=False)
    columns = {}
    for column in trades.columns:
        if column in keys:
            continue
        if column in _SUMMED:
            columns[column] = groups[column].sum()
        elif column in _LAST:
            columns[column] = groups[column].last()
        elif column in _LARGEST:
            columns[column] = groups[column].max()
        elif column in _PER_CONTRACT:
            weighted = (trades[column] * trades["contracts"]).groupby(
                [trades[key] for key in keys], sort=False
            )
            columns[column] = weighted.sum() / groups["contracts"].sum()
        else:
            columns[column] = groups[column].first()
    combined = pd.DataFrame(columns).reset_index()[list(trades.columns)]
    money = [column for column in _SUMMED if column in combined and column != "contracts"]
    combined[money] = combined[money].round(_CENTS)
    # a trade of one leg keeps its own R (the weighted mean of one value can differ in the last bit)
    single = (groups.size() == 1).to_numpy()
    firsts = groups[["r_multiple", "pnl_points"]].first() if "r_multiple" in trades else None
    if firsts is not None:
        combined.loc[single, ["r_multiple", "pnl_points"]] = firsts.to_numpy()[single]
    return combined


def trade_stats(trades: pd.DataFrame, index: pd.DatetimeIndex, years: float) -> pd.Series:
    """Compute the trade-log statistics of :func:`rtystrat.analysis.metrics.compute_stats` for one set of
    trades.

    Parameters
    ----------
    trades : pd.DataFrame
        Trade log (columns ``pnl_net``, ``r_multiple``, ``entry_time``, ``exit_time``, ...); the legs of a
        trade count once.
    index : pd.DatetimeIndex
        Bar times of the equity curve (for exposure).
    years : float
        Length of the sample in years (for trades per year).
    """
    trades = _sorted_trades(whole_trades(trades))
    pnl, r = trade_column(trades, "pnl_net"), trade_column(trades, "r_multiple")
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    streak_win, streak_loss = longest_streaks(pnl)
    stats = {
        "# Trades": float(len(trades)),
        "Trades per Year": len(trades) / years if years > 0 else float("nan"),
        "Exposure Time [%]": exposure(trades, index) * 100.0,
        "Win Rate [%]": win_rate(pnl) * 100.0,
        "Avg. Win [$]": float(wins.mean()) if len(wins) else float("nan"),
        "Avg. Loss [$]": float(losses.mean()) if len(losses) else float("nan"),
        "Payoff Ratio": payoff_ratio(pnl),
        "Profit Factor": profit_factor(pnl),
        "Expectancy [$]": expectancy(pnl),
        "Expectancy [R]": expectancy(r),
        "SQN": sqn(r),
        "Kelly Fraction": kelly_fraction(pnl),
        "Best Trade [$]": float(pnl.max()) if len(pnl) else float("nan"),
        "Worst Trade [$]": float(pnl.min()) if len(pnl) else float("nan"),
        "Best Trade [R]": float(r.max()) if r.notna().any() else float("nan"),
        "Worst Trade [R]": float(r.min()) if r.notna().any() else float("nan"),
        "Max. Consecutive Wins": float(streak_win),
        "Max. Consecutive Losses": float(streak_loss),
        "Avg. Bars Held": float(trade_column(trades, "bars_held").mean()) if len(trades) else float("nan"),
        "Net P&L [$]": float(pnl.sum()),
        "Commission [$]": float(trade_column(trades, "commission").sum()),
        "Slippage [$]": float(trade_column(trades, "slippage").sum()),
    }
    if "ambiguous" in trades:
        stats["# Ambiguous Trades"] = float(trades["ambiguous"].astype(bool).sum())
    # the pessimistic/optimistic same-bar replays bound the P&L when bars were ambiguous
    for band in ("pessimistic", "optimistic"):
        if f"pnl_net_{band}" in trades:
            stats[f"Net P&L {band.capitalize()} [$]"] = float(trades[f"pnl_net_{band}"].sum())
    return pd.Series(stats, dtype=float)
