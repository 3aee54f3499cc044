"""The two setups of the March-2025 RTY analysis as pure rules: indicator frame + parameters → :class:`Plans`.

On 2025-03-13 the analysis read the E-mini Russell 2000 at 2,025.7, below its 50- and 100-day SMAs (2,229.3,
2,281.1) with RSI(14) 25.16, just above the monthly S2 (2,003) — pivot 2,210 above, S3 1,877 below — and
offered two trades. Here they are rules over computed levels, with the analysis's numbers as defaults:

- :func:`bullish_reversal` — buy the first test of S2 from above, stop under S2, target the pivot;
- :func:`bearish_breakdown` — sell the break of the round number under S2, stop above it, target just above
  S3, exit if price closes back above the 100-day SMA.

Each parameter is declared once in :data:`BULLISH_REVERSAL_PARAMETERS` / :data:`BEARISH_BREAKDOWN_PARAMETERS`
with its default, units and the sentence of the analysis it comes from (``.describe()`` prints the table).

Timing (no look-ahead). Row ``t`` is decided at the close of bar ``t`` from data up to ``t`` and works on bar
``t + 1``. A resting order (limit or stop entry) placed at the close of ``t`` uses the levels in force on bar
``t + 1``: those come from periods completed by bar ``t``, so they are known at the close of ``t`` — the
last bar of February places March's orders at March's levels. Woodie levels are the exception: they use the
open of the period they are for, so the last bar of a period places no resting order. A bar event (a bounce,
a close below the level) is judged against the levels of its own bar and enters at the next open. Orders
work for one bar and are renewed each bar while their condition holds.

One signal per period. A "period" is a run of bars with the same levels (a month for monthly pivots). By
default a setup takes one signal per period: the first resting order that price reaches (a buy limit traded
through, a sell stop touched — the fill rules of :mod:`rtystrat.fills`), or the first bar event; after
that trade — stopped out or not — it waits for the next period's levels (``reentry=True`` takes every
signal). Rows whose target or stop would lie on the wrong side of the entry are skipped.

The setups take the columns as numpy arrays once and use only vectorised numpy, because the sweep kernel
calls them thousands of times.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rtystrat.bars import is_intraday, period_keys, session_dates
from rtystrat.contracts import get_contract, round_to_tick
from rtystrat.errors import DataError, ParameterError
from rtystrat.features import parse_levels_spec
from rtystrat.levels import PERIOD_OPEN_METHODS, round_number_levels
from rtystrat.offsets import Offset, parse_offset
from rtystrat.parameters import Parameter, Parameters
from rtystrat.plans import ENTRY_LIMIT, ENTRY_MARKET, ENTRY_STOP, LONG, SHORT, Plans

__all__ = [
    "BEARISH_BREAKDOWN_PARAMETERS",
    "BULLISH_REVERSAL_PARAMETERS",
    "bearish_breakdown",
    "bullish_reversal",
    "session_bars",
    "tick_size_of",
]

# Column names of the indicator frame (rtystrat.features.indicator_frame defaults).
_RSI, _ATR, _SMA_FAST, _SMA_SLOW = "rsi_14", "atr_14", "sma_50", "sma_100"
_DEFAULT_CONTRACT = "RTY"


def _check_bullish(values: Mapping[str, Any], owner: str) -> None:
    target = values["target"]
    if target not in ("pivot", "mid", "r1") and parse_offset(target).is_zero:
        raise ParameterError(
            f"{owner or 'bullish_reversal'}: target={target!r} must lie above the entry (> 0)"
        )


BULLISH_REVERSAL_PARAMETERS = Parameters(
    [
        Parameter(
            name="entry",
            default="limit",
            kind="choice",
            choices=("limit", "bounce"),
            doc="'limit': a buy limit at S2 + entry_band, renewed each bar while the prior close is above "
            "it; 'bounce': after a bar whose low came within entry_band of S2 and closed back above S2 + "
            "entry_band (without touching the stop), buy at the next open.",
            source="Buy near S2 (2,003).",
        ),
        Parameter(
            name="entry_band",
            default="0pt",
            kind="offset",
            doc="How close to S2 price must come; the limit price is S2 + entry_band (percent of S2).",
            source="Buy near S2 (2,003): the buy price is S2 itself.",
        ),
        Parameter(
            name="stop_offset",
            default="13pt",
            kind="offset",
            positive=True,
            doc="Stop this far below S2 (percent of S2; ATR of the signal bar).",
            source="Stop 1,990: S2 (2,003) − 13.",
        ),
        Parameter(
            name="target",
            default="pivot",
            kind="offset",
            choices=("pivot", "mid", "r1"),
            doc="'pivot' = P; 'mid' = (S2 + P) / 2; 'r1' = R1; or an offset above the entry price (for a "
            "'bounce' entry: above the signal bar's close).",
            source="Targets 2,100 (about the S2–P midpoint) and 2,210 (the pivot).",
        ),
        Parameter(
            name="rsi_max",
            default=30.0,
            kind="float",
            minimum=0.0,
            maximum=100.0,
            optional=True,
            doc="Take signals only while RSI(14) at the signal bar's close is below this (none: no filter).",
            source="RSI(14) at 25.16, oversold (below 30): the premise of the reversal.",
        ),
        Parameter(
            name="max_hold",
            default=10,
            kind="int",
            minimum=0,
            units="sessions",
            doc="Time stop: exit at the next open after this many sessions in the trade (0: none).",
            source="A short-term reversal play over 1–2 weeks.",
        ),
        Parameter(
            name="reentry",
            default=False,
            kind="bool",
            doc="Take every signal, not just the first of each level period.",
        ),
    ],
    check=_check_bullish,
)

BEARISH_BREAKDOWN_PARAMETERS = Parameters(
    [
        Parameter(
            name="level",
            default="round",
            kind="choice",
            choices=("round", "s2"),
            doc="Breakdown level: 'round' = the multiple of round_step at or below S2; 's2' = S2.",
            source="Short below 2,000: the round hundred under S2 (2,003).",
        ),
        Parameter(
            name="round_step",
            default=100.0,
            kind="float",
            positive=True,
            units="points",
            doc="Spacing of round numbers for level='round'.",
            source="2,000: the round hundred under S2.",
        ),
        Parameter(
            name="entry",
            default="close",
            kind="choice",
            choices=("close", "stop"),
            doc="'close': after a close below the level (the previous close at or above it), sell at the "
            "next open; 'stop': a sell stop one tick under the level, renewed each bar while the close is at "
            "or above the level.",
            source="Short below 2,000 (a close below it, or a stop order through it).",
        ),
        Parameter(
            name="trend_filter",
            default=True,
            kind="bool",
            doc="Take signals only while the close is below both SMA50 and SMA100.",
            source="Price 'firmly below its major moving averages' (SMA50 2,229.3, SMA100 2,281.1).",
        ),
        Parameter(
            name="target_offset",
            default="3pt",
            kind="offset",
            doc="Target this far above S3 (percent of S3; ATR of the signal bar).",
            source="Target 1,880: S3 (1,877) + 3.",
        ),
        Parameter(
            name="stop_offset",
            default="60pt",
            kind="offset",
            positive=True,
            doc="Stop this far above the breakdown level (percent of the level; ATR of the signal bar).",
            source="Stop 2,060: the level 2,000 + 60.",
        ),
        Parameter(
            name="invalidation",
            default="sma100",
            kind="choice",
            choices=("sma100", "sma50", "none"),
            doc="Exit at the next open after a close above this SMA ('none': no invalidation exit).",
            source="'Bearish unless reclaimed': the 100-day SMA (2,281.1).",
        ),
        Parameter(
            name="max_hold",
            default=40,
            kind="int",
            minimum=0,
            units="sessions",
            doc="Time stop: exit at the next open after this many sessions in the trade (0: none). "
            "40 sessions is the upper end of the analysis's horizon.",
            source="A trend continuation over 1–2 months.",
        ),
        Parameter(
            name="reentry",
            default=False,
            kind="bool",
            doc="Take every signal, not just the first of each level period.",
        ),
    ]
)


def bullish_reversal(frame: pd.DataFrame, **params: Any) -> Plans:
    """Return the plans of the bullish reversal at S2 (long).

    Entry ``"limit"``: a buy limit at ``S2 + band`` on bar ``t + 1`` when the close of ``t`` is above it and
    RSI(14) at ``t`` is below `rsi_max`. Entry ``"bounce"``: bar ``t`` has ``low <= S2 + band``,
    ``close > S2 + band`` and ``low > stop`` (and the RSI filter); buy at the open of ``t + 1``. Stop at
    ``S2 − stop_offset``; target P, ``(S2 + P) / 2``, R1 or the entry plus an offset; no invalidation level.

    Parameters
    ----------
    frame : DataFrame
        Indicator frame with ``low, close, P, S2, R1`` (and ``rsi_14`` for the RSI filter, ``atr_14`` for
        ATR offsets); ``frame.attrs["tick_size"]`` is used for tick offsets (default: RTY's 0.1).
    **params
        See :data:`BULLISH_REVERSAL_PARAMETERS` (defaults: the analysis's numbers).

    Returns
    -------
    Plans
        Long plans with ``entry_valid_bars = 1`` and ``max_hold`` in bars.
    """
    p = BULLISH_REVERSAL_PARAMETERS.validate(params, owner="bullish_reversal")
    offsets = [p["entry_band"], p["stop_offset"]]
    offsets += [] if p["target"] in ("pivot", "mid", "r1") else [p["target"]]
    needed = ["low", "close", "P", "S2", "R1"]
    needed += [_RSI] if p["rsi_max"] is not None else []
    needed += [_ATR] if any(parse_offset(o).unit == "atr" for o in offsets) else []
    col = _columns(frame, needed, "bullish_reversal")
    tick = tick_size_of(frame)
    atr = col.get(_ATR)
    resting = p["entry"] == "limit"
    # A resting order works on the next bar at that bar's levels; a bounce is judged at its own bar's levels.
    lv = {name: _resting_levels(frame, col[name]) if resting else col[name] for name in ("P", "S2", "R1")}
    s2 = lv["S2"]
    entry_level = s2 + _points(p["entry_band"], s2, atr, tick)
    if resting:
        # The execution layer rounds a buy limit down to the tick; round here too so that "reached" below
        # is exactly "filled".
        entry_level = round_to_tick(entry_level, tick, "down")
    stop = s2 - _points(p["stop_offset"], s2, atr, tick)
    close, low = col["close"], col["low"]
    if resting:
        reference = entry_level
        signal = close > entry_level
    else:
        reference = close
        signal = (low <= entry_level) & (close > entry_level) & (low > stop)
    if p["rsi_max"] is not None:
        signal &= col[_RSI] < p["rsi_max"]
    target = _bullish_target(p["target"], lv, reference, atr, tick)
    signal &= (target > reference) & (stop < reference)
    if not p["reentry"]:
        period = _period_ids(col["P"], col["S2"], col["R1"])
        if resting:
            # A limit fills only when traded through (low < limit).
            signal = _first_fill_per_period(signal, _next(low) < entry_level, period)
        else:
            signal = _first_per_period(signal, period)
    return _plans(
        signal,
        LONG,
        ENTRY_LIMIT if resting else ENTRY_MARKET,
        entry_level if resting else None,
        stop,
        target,
        None,
        p["max_hold"] * session_bars(frame.index),
    )


def bearish_breakdown(frame: pd.DataFrame, **params: Any) -> Plans:
    """Return the plans of the bearish breakdown below the round number under S2 (short).

    Level ``L`` = the multiple of `round_step` at or below S2 (or S2). Entry ``"close"``: bar ``t`` closes
    below ``L`` after a close at or above it; sell at the open of ``t + 1``. Entry ``"stop"``: a sell stop
    at ``L − tick`` on bar ``t + 1`` while the close of ``t`` is at or above ``L``. With `trend_filter`, the
    close of ``t`` must be below SMA50 and SMA100. Stop at ``L + stop_offset``; target ``S3 + target_offset``;
    invalidation: a close above SMA100 (or SMA50) while short exits at the next open.

    Parameters
    ----------
    frame : DataFrame
        Indicator frame with ``close, low, S2, S3`` (``sma_50``/``sma_100`` for the filter and the
        invalidation, ``atr_14`` for ATR offsets); ``frame.attrs["tick_size"]`` (default: RTY's 0.1).
    **params
        See :data:`BEARISH_BREAKDOWN_PARAMETERS` (defaults: the analysis's numbers).

    Returns
    -------
    Plans
        Short plans with ``entry_valid_bars = 1`` and ``max_hold`` in bars.
    """
    p = BEARISH_BREAKDOWN_PARAMETERS.validate(params, owner="bearish_breakdown")
    needed = ["low", "close", "P", "S2", "S3"]
    needed += [_SMA_FAST, _SMA_SLOW] if p["trend_filter"] else []
    needed += {"sma100": [_SMA_SLOW], "sma50": [_SMA_FAST], "none": []}[p["invalidation"]]
    needed += (
        [_ATR] if any(parse_offset(p[o]).unit == "atr" for o in ("target_offset", "stop_offset")) else []
    )
    col = _columns(frame, needed, "bearish_breakdown")
    tick = tick_size_of(frame)
    atr = col.get(_ATR)
    resting = p["entry"] == "stop"
    s2, s3 = (_resting_levels(frame, col[name]) if resting else col[name] for name in ("S2", "S3"))
    level = round_number_levels(s2, p["round_step"])[0] if p["level"] == "round" else s2
    close, low = col["close"], col["low"]
    entry_price = round_to_tick(level - tick, tick, "down")  # the sell stop of entry="stop"
    if resting:
        reference = entry_price
        signal = close >= level
    else:
        reference = close
        signal = (close < level) & (_previous(close) >= level)
    if p["trend_filter"]:
        signal &= (close < col[_SMA_FAST]) & (close < col[_SMA_SLOW])
    stop = level + _points(p["stop_offset"], level, atr, tick)
    target = s3 + _points(p["target_offset"], s3, atr, tick)
    signal &= (target < reference) & (stop > reference)
    if not p["reentry"]:
        period = _period_ids(col["P"], col["S2"], col["S3"])
        if resting:
            signal = _first_fill_per_period(signal, _next(low) <= entry_price, period)
        else:
            signal = _first_per_period(signal, period)
    invalidation = {"sma100": _SMA_SLOW, "sma50": _SMA_FAST}.get(p["invalidation"])
    return _plans(
        signal,
        SHORT,
        ENTRY_STOP if resting else ENTRY_MARKET,
        entry_price if resting else None,
        stop,
        target,
        col[invalidation] if invalidation else None,
        p["max_hold"] * session_bars(frame.index),
    )


def tick_size_of(frame: pd.DataFrame) -> float:
    """Return ``frame.attrs["tick_size"]`` (set by the engine from the run's contract), else RTY's tick."""
    tick = frame.attrs.get("tick_size")
    return float(tick) if tick is not None else get_contract(_DEFAULT_CONTRACT).tick_size


_SESSION_CACHE: list[tuple[weakref.ref[pd.DatetimeIndex], int]] = []


def session_bars(index: pd.DatetimeIndex) -> int:
    """Return the typical number of bars per trading session (1 for daily data; the median for intraday).

    Time stops are declared in sessions and executed in bars. The answer for the last index seen is cached,
    since a sweep asks for it thousands of times on the same frame.
    """
    if _SESSION_CACHE and _SESSION_CACHE[0][0]() is index:
        return _SESSION_CACHE[0][1]
    if len(index) == 0 or not is_intraday(index):
        count = 1
    else:
        _, counts = np.unique(session_dates(index).asi8, return_counts=True)
        count = max(int(np.median(counts)), 1)
    _SESSION_CACHE[:] = [(weakref.ref(index), count)]
    return count


def _columns(frame: pd.DataFrame, names: list[str], setup: str) -> dict[str, np.ndarray]:
    names = list(dict.fromkeys(names))
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise DataError(
            f"{frame.attrs.get('source', '<DataFrame>')}: column {missing[0]!r} needed by {setup} is missing "
            f"(build the frame with rtystrat.features.indicator_frame)"
        )
    return {name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan) for name in names}


def _points(
    offset: Offset | str, price: np.ndarray, atr: np.ndarray | None, tick: float
) -> float | np.ndarray:
    return parse_offset(offset).to_points(price, atr, tick)


def _bullish_target(
    target: str, levels: Mapping[str, np.ndarray], reference: np.ndarray, atr: np.ndarray | None, tick: float
) -> np.ndarray:
    if target == "pivot":
        return levels["P"]
    if target == "mid":
        return (levels["S2"] + levels["P"]) / 2.0
    if target == "r1":
        return levels["R1"]
    return reference + _points(target, reference, atr, tick)


def _next(values: np.ndarray) -> np.ndarray:
    """Values of the next row (NaN on the last row, where no next bar exists to trade)."""
    shifted = np.full_like(values, np.nan)
    shifted[:-1] = values[1:]
    return shifted


def _resting_levels(frame: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Return the levels a resting order placed at each row's close works at: the next bar's.

    They come from periods completed by this bar, so they are known at its close — except for methods whose
    levels use the open of the period they are for (woodie, per ``frame.attrs["levels"]``): at the close of
    a period's last bar the next period's levels are not known yet, so that row places no order (NaN).
    """
    shifted = _next(values)
    spec = frame.attrs.get("levels")
    if spec is not None:
        period, method = parse_levels_spec(spec)
        if method in PERIOD_OPEN_METHODS:
            keys = period_keys(pd.DatetimeIndex(frame.index), period).asi8
            shifted[:-1][keys[1:] != keys[:-1]] = np.nan
    return shifted


def _previous(values: np.ndarray) -> np.ndarray:
    shifted = np.full_like(values, np.nan)
    shifted[1:] = values[:-1]
    return shifted


def _period_ids(*levels: np.ndarray) -> np.ndarray:
    """Number the runs of rows with identical levels (NaN equals NaN): 0, 0, ..., 1, 1, ..."""
    change = np.zeros(len(levels[0]), dtype=bool)
    for values in levels:
        previous = _previous(values)
        change |= ~((values == previous) | (np.isnan(values) & np.isnan(previous)))
    change[:1] = True
    return np.cumsum(change) - 1


def _count_in_period(events: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Return, per row, how many `events` occurred in that row's period up to and including the row."""
    total = np.cumsum(events)
    before = total - events
    starts = np.r_[True, period[1:] != period[:-1]]
    # `before` never decreases, so a running maximum carries each period's starting count forward.
    base = np.maximum.accumulate(np.where(starts, before, 0))
    return total - base


def _first_per_period(signal: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Keep only the first signal of each period."""
    return signal & (_count_in_period(signal, period) == 1)


def _first_fill_per_period(signal: np.ndarray, reached: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Keep resting orders until one is reached in its period.

    An order placed at row ``t`` works on bar ``t + 1`` in period ``period[t + 1]``; it is "reached" when bar
    ``t + 1`` trades at its price (``reached[t]``). Row ``t`` stays armed
    while no earlier order of period ``period[t + 1]`` was reached.
    """
    filled = np.zeros_like(signal)
    filled[1:] = signal[:-1] & reached[:-1]
    count = _count_in_period(filled, period)
    next_period = np.r_[period[1:], -1]
    armed = (next_period != period) | (count == 0)
    return signal & armed


def _plans(
    signal: np.ndarray,
    direction: int,
    entry_type: int,
    entry_price: np.ndarray | None,
    stop: np.ndarray,
    target: np.ndarray,
    invalidation: np.ndarray | None,
    max_hold: int,
) -> Plans:
    n = len(signal)
    # Comparisons with NaN are False, so rows without levels or indicators never signal.
    signal = signal.copy()
    signal[-1:] = False  # the last row's order would work on a bar that does not exist
    nan = np.full(n, np.nan)
    return Plans(
        direction=np.where(signal, direction, 0).astype(np.int8),
        entry_type=np.where(signal, entry_type, ENTRY_MARKET).astype(np.int8),
        entry_price=np.where(signal, entry_price, np.nan) if entry_price is not None else nan.copy(),
        stop=np.where(signal, stop, np.nan),
        target=np.where(signal, target, np.nan),
        invalidation=invalidation.copy() if invalidation is not None else nan,
        max_hold=int(max_hold),
        entry_valid_bars=1,
        anchor_to_fill=False,
    )
