"""Performance metrics from an equity curve and a trade log (pure numpy/pandas).

Conventions, shared by every function here:

- ``equity`` is a ``pd.Series`` of account value in $ at each bar close, indexed by bar time. Returns are
  simple bar returns ``r_t = E_t / E_{t-1} - 1``; the first bar is the anchor and has no return.
- A wiped-out account: after a bar whose equity is at or below zero there is no capital to earn a return
  on, so that return is NaN, and the return statistics (volatility, Sharpe, Sortino) leave NaN returns out,
  as empyrical does. A period that starts with no capital has no return and no drawdown (NaN).
- Functions return fractions (0.12); :func:`compute_stats` reports percentages in keys ending ``[%]``.
- Drawdowns are negative (−0.25 = 25 % below the running peak); durations are pandas ``Timedelta``.
- Standard deviations are sample deviations (``ddof=1``), as in empyrical.
- Annualisation uses ``A`` = bars per year measured from the data's own timestamps
  (:func:`estimate_bars_per_year`), not a constant 252; with daily bars it comes out ≈ 252.
- ``risk_free`` is an *annual* rate (0.04 = 4 %), turned into a per-bar rate ``(1 + rf)^(1/A) - 1``.
- The trade-log statistics (win rate, payoff and profit factor, expectancy, SQN, Kelly, streaks, exposure)
  live in :mod:`rtystrat.analysis.tradestats` and are re-exported here; a trade is a win when ``pnl_net > 0``.

The return-based definitions equal empyrical-reloaded's (``annual_return``, ``annual_volatility``,
``sharpe_ratio``, ``sortino_ratio``, ``calmar_ratio``, ``max_drawdown``) when it is given ``annualization=A``
and a per-bar risk-free rate; the tests check that to 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rtystrat.analysis.tradestats import (
    deviation_ratio,
    expectancy,
    exposure,
    kelly_fraction,
    largest_magnitude,
    longest_streaks,
    payoff_ratio,
    profit_factor,
    sqn,
    sqn_from_moments,
    trade_column,
    trade_stats,
    trade_times,
    whole_trades,
    win_rate,
)
from rtystrat.errors import DataError, ParameterError

__all__ = [
    "annual_volatility",
    "annualised_growth",
    "buy_and_hold",
    "cagr",
    "calmar_ratio",
    "compute_stats",
    "drawdown_series",
    "drawdown_table",
    "equity_returns",
    "estimate_bars_per_year",
    "expectancy",
    "exposure",
    "kelly_fraction",
    "longest_streaks",
    "max_drawdown",
    "payoff_ratio",
    "profit_factor",
    "sharpe_from_moments",
    "sharpe_ratio",
    "sortino_ratio",
    "sqn",
    "sqn_from_moments",
    "stats_by",
    "stats_by_year",
    "total_return",
    "trade_stats",
    "whole_trades",
    "win_rate",
]

SESSIONS_PER_YEAR = 252.0  # CME equity-index futures trade about 252 sessions a year
_DAYS_PER_YEAR = 365.25
_DAY = pd.Timedelta(days=1)


# --- annualisation
def estimate_bars_per_year(index: pd.DatetimeIndex) -> float:
    """Estimate how many bars the data has per year from its timestamps.

    With at least one year of data the estimate is the observed density
    ``A = (n - 1) / ((t_last - t_first) / 365.25 days)``, so weekends, holidays, session breaks and
    missing bars count exactly as they occur, and ``(n - 1) / A`` equals the calendar length in years.
    A shorter sample would be biased by where it starts and ends (a Monday-to-Friday week has no weekend
    inside), so for bars at most a day apart it uses
    ``A = median bars per calendar day (first and last day left out) × 252 sessions`` (daily → 252;
    hourly bars of a 23-hour session → 23 × 252 = 5,796; 1-minute bars → 1,380 × 252 = 347,760), and
    for sparser bars ``A = 365.25 days / median spacing`` (weekly → 52.18).

    Parameters
    ----------
    index : pd.DatetimeIndex
        Sorted bar times (tz-aware or naive).

    Returns
    -------
    float
        Bars per year.
    """
    index = pd.DatetimeIndex(index)
    if len(index) < 2:
        raise DataError(f"bars per year: need at least two bar times, got {len(index)}")
    span = index[-1] - index[0]
    if span >= pd.Timedelta(days=365):
        return (len(index) - 1) / (span / _DAY / _DAYS_PER_YEAR)
    spacing = pd.Series(index).diff().median()
    if spacing > _DAY:
        return _DAYS_PER_YEAR / (spacing / _DAY)
    per_day = pd.Series(1, index=index).groupby(index.normalize()).count()
    # the first and last calendar days hold part of a session by construction
    interior = per_day.iloc[1:-1] if len(per_day) > 2 else per_day
    return float(interior.median()) * SESSIONS_PER_YEAR


def _per_bar_rate(risk_free: float, bars_per_year: float) -> float:
    return (1.0 + risk_free) ** (1.0 / bars_per_year) - 1.0


# --- equity and returns
def equity_returns(equity: pd.Series) -> pd.Series:
    """Return simple bar returns ``r_t = E_t / E_{t-1} - 1`` (one fewer than the equity bars).

    ``r_t`` is NaN when ``E_{t-1} <= 0``: an account with no capital earns no return.
    """
    values = equity.to_numpy(dtype=float)
    before, after = values[:-1], values[1:]
    growth = np.divide(after, before, out=np.full(len(after), np.nan), where=before > 0)
    return pd.Series(growth - 1.0, index=equity.index[1:], name="return")


def total_return(equity: pd.Series) -> float:
    """Return ``E_last / E_first - 1`` (NaN when ``E_first <= 0``: no capital to return on)."""
    first = float(equity.iloc[0])
    return float(equity.iloc[-1]) / first - 1.0 if first > 0 else float("nan")


def cagr(equity: pd.Series, bars_per_year: float) -> float:
    """Return the compound annual growth rate ``(E_last / E_first)^(A / (n - 1)) - 1``.

    ``(n - 1) / A`` is the length in years (n equity bars, n − 1 returns); this is empyrical's
    ``annual_return``. An account that ends at or below zero returns −1 (−100 %).
    """
    return annualised_growth(total_return(equity) + 1.0, len(equity), bars_per_year)


def annualised_growth(growth: float, bars: int, bars_per_year: float) -> float:
    """Return :func:`cagr` of an equity curve of `bars` bars that ended at `growth` times its start."""
    if growth <= 0:
        return -1.0
    return float(growth ** (bars_per_year / (bars - 1)) - 1.0)


def _defined(returns: pd.Series) -> np.ndarray:
    """Return the returns as an array without NaN (bars after the account had no capital)."""
    values = returns.to_numpy(dtype=float)
    return values[~np.isnan(values)]


def annual_volatility(returns: pd.Series, bars_per_year: float) -> float:
    """Return the annualised volatility ``std(r, ddof=1) · sqrt(A)`` (NaN returns left out)."""
    values = _defined(returns)
    if len(values) < 2:
        return float("nan")
    return float(np.std(values, ddof=1) * np.sqrt(bars_per_year))


def sharpe_ratio(returns: pd.Series, bars_per_year: float, risk_free: float = 0.0) -> float:
    """Return the annualised Sharpe ratio ``mean(r - rf) / std(r - rf, ddof=1) · sqrt(A)``.

    ``rf`` is the per-bar equivalent of the annual `risk_free`; NaN returns are left out. Constant returns
    have zero deviation: the ratio is undefined, NaN (empyrical gives ±inf; an infinite Sharpe ranks a
    riskless-looking run above every real one). Reference:
    Sharpe (1994), "The Sharpe Ratio", Journal of Portfolio Management 21(1).
    """
    values = _defined(returns)
    if len(values) < 2:
        return float("nan")
    excess = values - _per_bar_rate(risk_free, bars_per_year)
    return sharpe_from_moments(
        len(excess), excess.mean(), np.std(excess, ddof=1), largest_magnitude(excess), bars_per_year
    )


def sharpe_from_moments(
    count: float, mean: float, deviation: float, scale: float, bars_per_year: float
) -> float:
    """Return :func:`sharpe_ratio` of `count` excess returns with this mean, sample deviation and largest
    ``|r - rf|`` (NaN for fewer than two).

    For callers that accumulate the moments as they go (the sweep kernel) rather than keep the returns.
    """
    if count < 2:
        return float("nan")
    return deviation_ratio(mean, deviation, scale) * math.sqrt(bars_per_year)


def sortino_ratio(returns: pd.Series, bars_per_year: float, risk_free: float = 0.0) -> float:
    """Return the annualised Sortino ratio ``mean(r - rf) / DD · sqrt(A)``.

    The downside deviation is taken over *all* n returns (NaN returns left out), with returns above the
    target counting as zero: ``DD = sqrt(mean(min(r - rf, 0)^2))`` (target = per-bar risk-free rate).
    Without a return below the target DD is zero and the ratio undefined: NaN (empyrical gives inf).
    References: Sortino & Price (1994), "Performance measurement in a downside risk framework", Journal of
    Investing 3(3); Rollinger & Hoffman (2013), "Sortino: a 'sharper' ratio".
    """
    values = _defined(returns)
    if len(values) < 2:
        return float("nan")
    excess = values - _per_bar_rate(risk_free, bars_per_year)
    downside = np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2))
    return deviation_ratio(excess.mean(), downside, largest_magnitude(excess)) * np.sqrt(bars_per_year)


def drawdown_series(equity: pd.Series) -> pd.Series:
    """Return the drawdown from the running peak, ``E_t / max_{s<=t} E_s - 1`` (≤ 0).

    NaN while the running peak is at or below zero (a period that starts with no capital).
    """
    peak = equity.cummax()
    return (equity / peak.where(peak > 0) - 1.0).rename("drawdown")


def max_drawdown(equity: pd.Series) -> float:
    """Return the maximum drawdown ``min_t (E_t / max_{s<=t} E_s - 1)`` as a negative fraction."""
    return float(drawdown_series(equity).min())


def calmar_ratio(equity: pd.Series, bars_per_year: float) -> float:
    """Return the Calmar ratio ``CAGR / |max drawdown|`` over the whole sample (NaN without a drawdown).

    Young (1991) used the last 36 months; like empyrical this uses the whole curve.
    """
    depth = max_drawdown(equity)
    return float(cagr(equity, bars_per_year) / -depth) if depth < 0 else float("nan")


def drawdown_table(equity: pd.Series, top: int | None = 5) -> pd.DataFrame:
    """Tabulate drawdown episodes, deepest (in %) first.

    An episode starts at a running peak, reaches its trough, and ends at the first bar back at or above the
    peak (``recovery``; NaT if the curve has not recovered). Within one episode the peak is fixed, so the
    trough is the same in $ and in %. ``duration`` is peak → recovery (or → last bar); ``recovery_time``
    is trough → recovery.

    Returns
    -------
    pd.DataFrame
        Columns ``peak, trough, recovery`` (times), ``Depth [%]``, ``Depth [$]`` (negative), ``duration``,
        ``recovery_time`` (Timedelta); at most `top` rows (all when None).
    """
    values = equity.to_numpy(dtype=float)
    times = pd.DatetimeIndex(equity.index)
    underwater = values < np.maximum.accumulate(values)
    edges = np.diff(np.concatenate(([0], underwater.astype(np.int8), [0])))
    firsts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    peak = firsts - 1  # the bar before an episode is at its (fixed) running peak
    # between episodes the curve is at or above every earlier peak, so a block minimum is the episode's
    lowest = np.minimum.reduceat(values, firsts) if len(firsts) else np.empty(0)
    episode = np.cumsum(edges[:-1] == 1) - 1  # episode number of each underwater bar
    candidates = np.flatnonzero(underwater)
    candidates = candidates[values[candidates] == lowest[episode[candidates]]]
    trough = candidates[np.unique(episode[candidates], return_index=True)[1]]
    recovered = stops < len(values)
    back = np.minimum(stops, len(values) - 1)
    table = pd.DataFrame(
        {
            "peak": times[peak],
            "trough": times[trough],
            "recovery": times[back].where(recovered),
            "Depth [%]": (values[trough] / values[peak] - 1.0) * 100.0,
            "Depth [$]": values[trough] - values[peak],
            "duration": times[np.where(recovered, back, len(values) - 1)] - times[peak],
            "recovery_time": (times[back] - times[trough]).where(recovered),
        }
    )
    table = table.sort_values("Depth [%]", kind="stable").reset_index(drop=True)
    return table if top is None else table.head(top)


# --- the summary
def _validated_equity(equity: pd.Series) -> pd.Series:
    if len(equity) < 2:
        raise DataError(f"equity: need at least two bars to compute statistics, got {len(equity)}")
    if not isinstance(equity.index, pd.DatetimeIndex):
        raise DataError(f"equity: index must be a DatetimeIndex, got {type(equity.index).__name__}")
    if equity.isna().any():
        raise DataError(f"equity: NaN at {equity.index[equity.isna().to_numpy()][0]}")
    if equity.iloc[0] <= 0:
        raise DataError(f"equity: starting value must be positive, got {equity.iloc[0]}")
    return equity.astype(float)


def _equity_block(equity: pd.Series, bars_per_year: float, risk_free: float, prefix: str = "") -> dict:
    returns = equity_returns(equity)
    return {
        f"{prefix}Return [%]": total_return(equity) * 100.0,
        f"{prefix}CAGR [%]": cagr(equity, bars_per_year) * 100.0,
        f"{prefix}Volatility (Ann.) [%]": annual_volatility(returns, bars_per_year) * 100.0,
        f"{prefix}Sharpe Ratio": sharpe_ratio(returns, bars_per_year, risk_free),
        f"{prefix}Sortino Ratio": sortino_ratio(returns, bars_per_year, risk_free),
        f"{prefix}Calmar Ratio": calmar_ratio(equity, bars_per_year),
        f"{prefix}Max. Drawdown [%]": max_drawdown(equity) * 100.0,
    }


def compute_stats(
    equity: pd.Series,
    trades: pd.DataFrame,
    *,
    bars_per_year: float | None = None,
    benchmark: pd.Series | None = None,
    risk_free: float = 0.0,
) -> pd.Series:
    """Compute the headline statistics of a backtest.

    Parameters
    ----------
    equity : pd.Series
        Account value in $ at each bar close (DatetimeIndex), starting with the initial cash.
    trades : pd.DataFrame
        Trade log, one row per exit fill (at least ``pnl_net``, ``entry_time``, ``exit_time``); the legs of a
        scale-out (same ``setup`` and ``trade_id``) count as one trade.
    bars_per_year : float, optional
        Annualisation factor A; estimated from ``equity.index`` by :func:`estimate_bars_per_year` when None.
        Pass the full sample's value to compare sub-periods on one scale.
    benchmark : pd.Series, optional
        Benchmark equity in $ (e.g. :func:`buy_and_hold`); adds ``Buy & Hold ...`` keys.
    risk_free : float
        Annual risk-free rate for Sharpe and Sortino.

    Returns
    -------
    pd.Series
        Float values, units in the keys (``"Return [%]"``, ``"Max. Drawdown [$]"``, ``"Expectancy [R]"``);
        durations in calendar days. Undefined values are NaN; ratios without a denominator may be ±inf.
    """
    equity = _validated_equity(equity)
    if bars_per_year is None:
        bars_per_year = estimate_bars_per_year(equity.index)
    elif not bars_per_year > 0:
        raise ParameterError(f"bars_per_year: must be positive, got {bars_per_year}")
    years = (len(equity) - 1) / bars_per_year
    episodes = drawdown_table(equity, top=None)
    deepest = episodes.iloc[0] if len(episodes) else None
    stats = {
        "Duration [days]": (equity.index[-1] - equity.index[0]) / _DAY,
        "Bars": float(len(equity)),
        "Bars per Year": float(bars_per_year),
        "Equity Start [$]": float(equity.iloc[0]),
        "Equity Final [$]": float(equity.iloc[-1]),
        "Equity Peak [$]": float(equity.max()),
        **_equity_block(equity, bars_per_year, risk_free),
        "Max. Drawdown [$]": float((equity - equity.cummax()).min()),
        "Max. Drawdown Duration [days]": deepest["duration"] / _DAY if deepest is not None else 0.0,
        "Max. Drawdown Recovery [days]": (
            deepest["recovery_time"] / _DAY
            if deepest is not None and pd.notna(deepest["recovery"])
            else np.nan
        ),
        "Longest Drawdown [days]": episodes["duration"].max() / _DAY if len(episodes) else 0.0,
    }
    if benchmark is not None:
        stats.update(_equity_block(_validated_equity(benchmark), bars_per_year, risk_free, "Buy & Hold "))
    trade_block = trade_stats(trades, equity.index, years)
    return pd.concat([pd.Series(stats, dtype=float), trade_block])


def stats_by(
    trades: pd.DataFrame, equity: pd.Series, by: str = "setup", *, bars_per_year: float | None = None
) -> pd.DataFrame:
    """Compute :func:`trade_stats` per value of a trade-log column (``"setup"`` or ``"direction"``).

    The groups share one account, so only trade statistics (and each group's exposure) are per group.

    Returns
    -------
    pd.DataFrame
        One row per group (index named `by`), one column per statistic.
    """
    if by not in trades:
        raise ParameterError(f"by: the trade log has no column {by!r}; choose 'setup' or 'direction'")
    equity = _validated_equity(equity)
    years = (len(equity) - 1) / (bars_per_year or estimate_bars_per_year(equity.index))
    rows = {name: trade_stats(group, equity.index, years) for name, group in trades.groupby(by, sort=True)}
    frame = pd.DataFrame(rows).T if rows else pd.DataFrame(columns=trade_stats(trades, equity.index, 1).index)
    return frame.rename_axis(by)


def stats_by_year(trades: pd.DataFrame, equity: pd.Series) -> pd.DataFrame:
    """Tabulate each calendar year: return, net P&L, worst drawdown, trades, win rate, expectancy.

    A year's return is its last equity over the previous year's last equity (the first equity value for the
    first year) minus one; its drawdown is measured from peaks inside the year, starting at that same anchor.
    Trades count in the year of their last exit, once however many legs they have.
    """
    equity = _validated_equity(equity)
    trades = whole_trades(trades)
    exits = trade_times(trades, "exit_time", equity.index).year if len(trades) else pd.Index([], dtype=int)
    rows, anchor = {}, equity.iloc[:1]
    for year, values in equity.groupby(equity.index.year, sort=True):
        path = pd.concat([anchor, values])
        in_year = trades[exits == year] if len(trades) else trades
        pnl = trade_column(in_year, "pnl_net")
        rows[year] = {
            "Return [%]": total_return(path) * 100.0,
            "Net P&L [$]": float(path.iloc[-1] - path.iloc[0]),
            "Max. Drawdown [%]": max_drawdown(path) * 100.0,
            "# Trades": float(len(in_year)),
            "Win Rate [%]": win_rate(pnl) * 100.0,
            "Expectancy [R]": expectancy(trade_column(in_year, "r_multiple")),
        }
        anchor = values.iloc[-1:]
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("year")


def buy_and_hold(close: pd.Series, *, multiplier: float, contracts: int = 1, cash: float) -> pd.Series:
    """Return the equity of holding `contracts` long from the first close to the last, without costs.

    ``E_t = cash + (close_t - close_0) · multiplier · contracts``. Use a back-adjusted continuous close: an
    unadjusted front-month series jumps at each roll.
    """
    if not len(close):
        raise DataError("buy and hold: the close series is empty")
    close = close.astype(float)
    return (cash + (close - close.iloc[0]) * multiplier * contracts).rename("buy_and_hold")
