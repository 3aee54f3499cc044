"""Indicator frames for strategies, and the levels table a trader reads, from pure functions only.

`indicator_frame` adds the columns a setup asks for by name (``levels="M:classic"``, ``sma=(50, 100)``,
``rsi=14``, ``atr=14``) to a bar frame, the averages counted in the traded bars or, with ``timeframe="D"``,
in CME sessions (one-minute bars with daily SMA, RSI and ATR). The backtrader feed
(`rtystrat.execution.feeds.make_feed`) then exposes every added column as a line, so a strategy never wires
higher-timeframe data by hand. `levels_table` answers "where is price against its levels, averages and RSI
on this date?" — the table of the March-2025 analysis for any date.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rtystrat.data.bars import is_intraday, period_keys, resample_bars
from rtystrat.errors import DataError, ParameterError
from rtystrat.signals import ta
from rtystrat.signals.levels import (
    LEVEL_NAMES,
    check_method,
    check_period,
    period_levels,
    round_number_levels,
)

__all__ = ["indicator_frame", "levels_table", "parse_levels_spec", "rsi_zone"]

RSI_OVERSOLD = 30.0
RSI_OVERBOUGHT = 70.0


def parse_levels_spec(spec: str) -> tuple[str, str]:
    """Return ``(period, method)`` from a spec such as ``"M:classic"`` or ``"W:fibonacci"``.

    The method defaults to classic (``"M"`` is ``"M:classic"``); case does not matter.
    """
    if not isinstance(spec, str) or spec.count(":") > 1 or not spec.strip():
        raise ParameterError(
            f"levels={spec!r}: expected 'PERIOD:METHOD' such as 'M:classic' or 'W:fibonacci'"
        )
    period, _, method = spec.partition(":")
    try:
        return check_period(period.strip()), check_method(method.strip() or "classic")
    except ParameterError as exc:
        raise ParameterError(f"levels={spec!r}: {exc}") from None


def _periods(value: int | Sequence[int] | None, name: str) -> tuple[int, ...]:
    """Return the indicator periods in `value` (one int, several, or None for none)."""
    if value is None:
        return ()
    values = (value,) if isinstance(value, numbers.Integral) else tuple(value)
    for item in values:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral) or item < 1:
            raise ParameterError(f"{name}={value!r}: periods must be whole numbers >= 1")
    return tuple(dict.fromkeys(int(item) for item in values))


def _period(value: int | None, name: str) -> int | None:
    """Return the single indicator period `value` (None for none)."""
    if value is not None and not isinstance(value, numbers.Integral):
        raise ParameterError(f"{name}={value!r}: the period must be one whole number >= 1")
    return (_periods(value, name) or (None,))[0]


def _required(value: int, name: str) -> int:
    """Return the single period `value`, which the levels table cannot do without."""
    period = _period(value, name)
    if period is None:
        raise ParameterError(f"{name}=None: the levels table needs a whole number >= 1")
    return period


def indicator_frame(
    bars: pd.DataFrame,
    levels: str | None = "M:classic",
    sma: int | Sequence[int] | None = (50, 100),
    rsi: int | None = 14,
    atr: int | None = 14,
    timeframe: str | None = None,
    closes: str = "session",
) -> pd.DataFrame:
    """Return `bars` plus the named indicator columns, each free of look-ahead.

    Parameters
    ----------
    bars : pd.DataFrame
        Canonical bars (`rtystrat.data.bars.load_bars`).
    levels : str or None
        ``"PERIOD:METHOD"`` (period D/W/M/Q, method a `rtystrat.signals.levels.pivot_points` method): adds
        ``P, S1..S3, R1..R3`` (camarilla also ``S4, R4``; demark only ``P, S1, R1``) from the previous
        completed period (`rtystrat.signals.levels.period_levels`). None adds no levels.
    sma : int, sequence of int or None
        Simple moving averages of the close: ``sma_{n}`` per period.
    rsi, atr : int or None
        Wilder RSI of the close (``rsi_{n}``) and average true range (``atr_{n}``).
    timeframe : {None, "D", "W", "M", "Q"}
        Where SMA, RSI and ATR are counted. None: in the bars themselves (on hourly bars ``sma_100`` is a
        100-hour average). ``"D"`` (or a week, month, quarter): in CME sessions (17:00 CT to 16:00 CT,
        `rtystrat.data.bars.resample_bars`), and every bar holds the values of the last session completed
        *before its own session began* — a 10:30 bar of Tuesday's session sees the averages up to Monday's
        close, so no value reads a price of its own, still open, session. A session's close therefore
        reaches the indicators on the first bar of the next session (as in backtrader's ``resampledata``):
        one bar after the session's last bar, which cannot know it is the last from its prices alone.
        Daily bars are whole sessions, so ``timeframe="D"`` on daily bars changes nothing. Levels always
        come from the previous completed period of `levels`.
    closes : {"session", "bar"}
        With a `timeframe` on intraday bars, what the setups' bar events read (``attrs["closes"]``):
        ``"session"`` the completed session's close, high and low ("a close below 2,000" is a daily
        close, judged on the first bar of the next session and acted on from the bar after); ``"bar"``
        every bar's own close.

    Returns
    -------
    pd.DataFrame
        A new frame with the columns of `bars` (computed columns replace same-named ones, so applying it
        twice is harmless), then the indicator columns; ``attrs`` are kept, ``attrs["levels"]`` names
        the levels (``"M:classic"``) and ``attrs["timeframe"]`` the indicators' timeframe (when given).
    """
    sma_periods = _periods(sma, "sma")
    rsi_period = _period(rsi, "rsi")
    atr_period = _period(atr, "atr")
    if timeframe is not None:
        try:
            timeframe = check_period(timeframe)
        except ParameterError as exc:
            raise ParameterError(f"timeframe={timeframe!r}: {exc}") from None
    if closes not in ("session", "bar"):
        raise ParameterError(f"closes={closes!r}: choose 'session' or 'bar'")
    columns: list[pd.DataFrame | pd.Series] = []
    if levels is not None:
        period, method = parse_levels_spec(levels)
        columns.append(period_levels(bars, period, method))
    if sma_periods or rsi_period is not None or atr_period is not None:
        columns.append(
            _on_timeframe(
                bars, timeframe, lambda source: _averages(source, sma_periods, rsi_period, atr_period)
            )
        )
    added = pd.concat(columns, axis=1) if columns else pd.DataFrame(index=bars.index)
    frame = pd.concat([bars.drop(columns=added.columns, errors="ignore"), added], axis=1)
    frame.attrs = dict(bars.attrs)
    if levels is not None:
        # Setups need the method: some levels are known only once their period has opened (woodie).
        frame.attrs["levels"] = f"{period}:{method}"
    if timeframe is not None:
        frame.attrs.update(timeframe=timeframe, closes=closes)
    return frame


def _averages(
    bars: pd.DataFrame, sma_periods: tuple[int, ...], rsi_period: int | None, atr_period: int | None
) -> pd.DataFrame:
    """Return the SMA, RSI and ATR columns of `bars`, counted in its own bars."""
    close = bars["close"]
    columns = [ta.sma(close, n) for n in sma_periods]
    if rsi_period is not None:
        columns.append(ta.rsi(close, rsi_period))
    if atr_period is not None:
        columns.append(ta.atr(bars["high"], bars["low"], close, atr_period))
    return pd.concat(columns, axis=1)


def _on_timeframe(
    bars: pd.DataFrame, timeframe: str | None, compute: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    """Return ``compute`` of `bars` counted in `timeframe` periods, each bar holding completed periods only.

    ``compute`` runs on one bar per period (`resample_bars`); a bar then takes the row of the period before
    its own, so nothing it holds depends on its own period's prices (NaN in the first period). A bar that is
    a whole period by itself (a daily bar, timeframe ``"D"``) holds its own row, as without a timeframe.
    """
    index = pd.DatetimeIndex(bars.index)
    if timeframe is None or (timeframe == "D" and not is_intraday(index)):
        return compute(bars)
    periods = resample_bars(bars, timeframe)
    values = compute(periods)
    previous = periods.index.get_indexer(period_keys(index, timeframe)) - 1
    table = values.to_numpy(dtype=np.float64)[np.maximum(previous, 0)]
    table[previous < 0] = np.nan
    return pd.DataFrame(table, index=bars.index, columns=values.columns)


def rsi_zone(value: float) -> str:
    """Return ``"oversold"`` below 30, ``"overbought"`` above 70, else ``"neutral"`` (Wilder 1978)."""
    if value < RSI_OVERSOLD:
        return "oversold"
    return "overbought" if value > RSI_OVERBOUGHT else "neutral"


def _daily_sessions(bars: pd.DataFrame) -> pd.DataFrame:
    """Return one bar per futures session (intraday bars are aggregated; daily bars are returned as is)."""
    return resample_bars(bars, "D") if is_intraday(bars) else bars


def _session_date(date: str | pd.Timestamp) -> pd.Timestamp:
    """Return `date` as a tz-naive midnight (the session's date), or raise ParameterError in one line."""
    try:
        day = pd.Timestamp(date)
    except (ValueError, TypeError):
        raise ParameterError(f"date={date!r}: not a date; expected YYYY-MM-DD") from None
    if pd.isna(day):
        raise ParameterError(f"date={date!r}: not a date; expected YYYY-MM-DD")
    # A session is named by its local date; a time of day or zone does not move it.
    return (day.tz_localize(None) if day.tz is not None else day).normalize()


def _session_row(daily: pd.DataFrame, date: pd.Timestamp) -> int:
    """Return the position of the session `date` in `daily`, or raise DataError naming the date."""
    source = daily.attrs.get("source", "<DataFrame>")
    first, last = daily.index[0], daily.index[-1]
    if not first <= date <= last:
        raise DataError(
            f"{source}: date {date:%Y-%m-%d} is outside the data ({first:%Y-%m-%d} .. {last:%Y-%m-%d})"
        )
    position = int(daily.index.searchsorted(date))
    if daily.index[position] != date:
        before, after = daily.index[position - 1], daily.index[position]
        raise DataError(
            f"{source}: no session on {date:%Y-%m-%d} (a weekend or holiday?); "
            f"nearest sessions {before:%Y-%m-%d} and {after:%Y-%m-%d}"
        )
    return position


def _period_label(start: pd.Timestamp, period: str) -> str:
    """Return how a trader names the period starting at `start`: 2025-02, 2025Q1, or its first date."""
    if period == "M":
        return f"{start:%Y-%m}"
    return f"{start.year}Q{start.quarter}" if period == "Q" else f"{start:%Y-%m-%d}"


def _finite(value: Any) -> Any:
    """Return `value` as a float, or None when it is NaN (JSON has no NaN)."""
    value = float(value)
    return None if math.isnan(value) else value


def _distance(price: float, level: float, reference: float) -> tuple[float, float]:
    """Return ``price - level`` in points and as a percentage of `reference`."""
    points = price - level
    return points, 100.0 * points / reference


def levels_table(
    bars: pd.DataFrame,
    date: str | pd.Timestamp,
    price: float | None = None,
    period: str = "M",
    method: str = "classic",
    lookback_months: int = 6,
    sma: Sequence[int] = (50, 100),
    rsi: int = 14,
    slope_bars: int = 5,
    round_step: float = 100.0,
) -> dict[str, Any]:
    """Return the analysis table for one session: price against levels, SMAs, RSI and recent high.

    Parameters
    ----------
    bars : pd.DataFrame
        Canonical bars; intraday bars are first aggregated to futures sessions, since the table is daily.
    date : str or Timestamp
        The session to describe (``"2025-03-13"``); later bars are ignored.
    price : float, optional
        An intraday price to use instead of the session's close: the session's close becomes `price` (its
        high/low stretch to include it) and SMA and RSI are recomputed with it. Levels are unaffected: they
        come from the previous completed period.
    period, method : str
        The pivot levels (`rtystrat.signals.levels.period_levels`).
    lookback_months : int
        Window of the recent high that ``off_high_pct`` measures from (calendar months up to `date`).
    sma, rsi : periods of the moving averages and of the RSI.
    slope_bars : int
        The slope of each SMA is its change in points over this many sessions.
    round_step : float
        Spacing of the round-number levels around the price (``round_below`` / ``round_above``).

    Returns
    -------
    dict
        JSON-ready, keys spelled as the indicator frame's columns: ``date, price, close, P, S1.., R1..,
        sma_50, sma_100, rsi_14`` and, per SMA, ``sma_{n}_slope`` and ``price_vs_sma_{n}``
        (``"above"``/``"below"``) with ``_points`` and ``_pct`` (percent of the SMA); ``rsi_{n}_zone``; the
        nearest level at/below (``support``) and above (``resistance``) the price with their name, distance
        in points and percent of price; round numbers; ``lookback_high``, its date and ``off_high_pct``
        (percent below it). NaN values are None.
    """
    period, method = check_period(period), check_method(method)
    sma_periods = _periods(sma, "sma")
    rsi_period, slope_bars, lookback_months = (
        _required(value, name)
        for value, name in ((rsi, "rsi"), (slope_bars, "slope_bars"), (lookback_months, "lookback_months"))
    )
    daily = _daily_sessions(bars)
    source = bars.attrs.get("source", "<DataFrame>")
    if daily.empty:
        raise DataError(f"{source}: no bars")
    day = _session_date(date)
    history = daily.iloc[: _session_row(daily, day) + 1].copy()
    close = float(history["close"].iloc[-1])
    overridden = price
    if price is None:
        price = close
    elif not (math.isfinite(price) and price > 0):
        raise ParameterError(f"price={price!r}: must be a positive number")
    else:
        last = history.index[-1]
        history.loc[last, "close"] = price
        history.loc[last, "high"] = max(float(history.loc[last, "high"]), price)
        history.loc[last, "low"] = min(float(history.loc[last, "low"]), price)

    frame = indicator_frame(history, f"{period}:{method}", sma=sma_periods, rsi=rsi_period, atr=None)
    row = frame.iloc[-1]
    names = LEVEL_NAMES[method]
    if row[list(names)].isna().any():
        raise DataError(
            f"{source}: not enough history for {period} levels on {day:%Y-%m-%d}: the data starts "
            f"{daily.index[0]:%Y-%m-%d} and its first period may be partial"
        )
    for n in sorted(sma_periods, reverse=True):  # name the longest average that lacks history
        if math.isnan(row[f"sma_{n}"]):
            raise DataError(
                f"{source}: not enough history for SMA{n} on {day:%Y-%m-%d}: "
                f"{len(history)} sessions up to it, need {n}"
            )
    if math.isnan(row[f"rsi_{rsi_period}"]):
        raise DataError(
            f"{source}: not enough history for RSI({rsi_period}) on {day:%Y-%m-%d}: "
            f"{len(history)} sessions up to it, need {rsi_period + 1}"
        )

    keys = period_keys(pd.DatetimeIndex(history.index), period)
    table: dict[str, Any] = {
        "date": f"{day:%Y-%m-%d}",
        "price": float(price),
        "close": close,
        "price_source": "close" if overridden is None else "override",
        "source": source,
        "period": period,
        "method": method,
        "levels_from": _period_label(keys[keys < keys[-1]].max(), period),
    }
    table.update({name: float(row[name]) for name in names})
    for n in sma_periods:
        average = frame[f"sma_{n}"]
        points, percent = _distance(price, float(row[f"sma_{n}"]), float(row[f"sma_{n}"]))
        table[f"sma_{n}"] = float(row[f"sma_{n}"])
        table[f"sma_{n}_slope"] = _finite(average.iloc[-1] - average.shift(slope_bars).iloc[-1])
        table[f"price_vs_sma_{n}"] = "above" if points >= 0 else "below"
        table[f"price_vs_sma_{n}_points"] = points
        table[f"price_vs_sma_{n}_pct"] = percent
    table["slope_bars"] = slope_bars
    table[f"rsi_{rsi_period}"] = float(row[f"rsi_{rsi_period}"])
    table[f"rsi_{rsi_period}_zone"] = rsi_zone(float(row[f"rsi_{rsi_period}"]))

    levels = pd.Series({name: float(row[name]) for name in names}).sort_values()
    below, above = levels[levels <= price], levels[levels > price]
    for side, chosen in (("support", below.tail(1)), ("resistance", above.head(1))):
        if chosen.empty:
            table.update({side: None, f"{side}_name": None, f"{side}_points": None, f"{side}_pct": None})
            continue
        points, percent = _distance(price, float(chosen.iloc[0]), price)
        table.update(
            {
                side: float(chosen.iloc[0]),
                f"{side}_name": str(chosen.index[0]),
                f"{side}_points": abs(points),
                f"{side}_pct": abs(percent),
            }
        )
    table["round_below"], table["round_above"] = round_number_levels(price, round_step)

    window = history.loc[history.index > day - pd.DateOffset(months=lookback_months)]
    high_at = window["high"].idxmax()
    high = float(window["high"].max())
    table.update(
        {
            "lookback_months": lookback_months,
            "lookback_high": high,
            "lookback_high_date": f"{high_at:%Y-%m-%d}",
            "off_high_pct": 100.0 * (high - price) / high,
        }
    )
    return {
        key: (_finite(value) if isinstance(value, float | np.floating) else value)
        for key, value in table.items()
    }
