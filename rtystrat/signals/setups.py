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

One trade per period. A "period" is a run of bars with the same levels (a month for monthly pivots). The
plans mark every bar where the setup would enter and carry each row's period — the period of the levels the
order uses (a resting order's: the next bar's) — and ``reentry``. Whether an order was placed (the strategy
may be in a trade) and whether it filled is known only while trading, so the state machine of
:mod:`rtystrat.execution.fills` applies the rule: no new entry in a period that already had a filled entry
(``reentry=True`` lifts it). Rows whose target or stop would lie on the wrong side of the entry are skipped.

Speed. The sweep kernel calls a setup thousands of times on one frame. Arrays that no parameter changes
(columns, next-bar levels, level periods, bars per session) and the entry stage of each entry setting — the
candidate rows, where the entry condition and filters hold, with their levels and prices at those rows —
come from :class:`rtystrat.signals.columns.FrameColumns`, computed once per frame the caller keeps unchanged
(the kernel does), as do the per-bar trailing distances and invalidation levels. Per call remain the stop
and the targets at the candidate rows: the setups return sparse :class:`Plans` (signal rows only), whose
:meth:`~rtystrat.signals.plans.Plans.dense` form has one row per bar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from rtystrat.data.contracts import round_to_tick
from rtystrat.signals.columns import FrameColumns, columns_of
from rtystrat.signals.levels import round_number_levels
from rtystrat.signals.offsets import Offset, parse_offset
from rtystrat.signals.plans import ENTRY_LIMIT, ENTRY_MARKET, ENTRY_STOP, LONG, SHORT, Plans
from rtystrat.signals.setup_parameters import (
    BEARISH_BREAKDOWN_PARAMETERS,
    BULLISH_REVERSAL_PARAMETERS,
    BULLISH_TARGET_WORDS,
)
from rtystrat.signals.targets import parse_targets

__all__ = [
    "BEARISH_BREAKDOWN_PARAMETERS",
    "BULLISH_REVERSAL_PARAMETERS",
    "bearish_breakdown",
    "bullish_reversal",
]

# Column names of the indicator frame (rtystrat.signals.features.indicator_frame defaults).
_RSI, _ATR, _SMA_FAST, _SMA_SLOW = "rsi_14", "atr_14", "sma_50", "sma_100"


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
        Long plans with ``entry_valid_bars = 1``; ``max_hold`` counts sessions on the session clock of
        intraday bars with a ``timeframe``, else bars (``max_hold`` × bars per session).
    """
    p = BULLISH_REVERSAL_PARAMETERS.validate(params, owner="bullish_reversal")
    legs = (
        [(p["target"], 1.0)]
        if p["targets"] is None
        else parse_targets(p["targets"], words=BULLISH_TARGET_WORDS)
    )
    offsets = [p["entry_band"], p["stop_offset"], p["breakeven_offset"]]
    offsets += [where for where, _ in legs if where not in BULLISH_TARGET_WORDS]
    offsets += [] if p["trail"] is None else [p["trail"]]
    needed = ["low", "close", "P", "S2", "R1"]
    needed += [_RSI] if p["rsi_max"] is not None else []
    needed += [_ATR] if any(parse_offset(o).unit == "atr" for o in offsets) else []
    columns = columns_of(frame, needed, "bullish_reversal")
    atr_column = columns.column(_ATR) if _ATR in needed else None
    tick = columns.tick
    resting = p["entry"] == "limit"
    key = ("bullish_reversal", p["entry"], p["entry_band"], p["rsi_max"])
    entry = columns.derived(key, lambda: _bullish_entry(columns, p, atr_column))
    # from here on, everything is at the candidate rows
    atr = None if atr_column is None else atr_column[entry.rows]
    s2 = entry.levels["S2"]
    stop = s2 - _points(p["stop_offset"], s2, atr, tick)
    targets = [_bullish_target(where, entry.levels, entry.reference, atr, tick) for where, _ in legs]
    keep = stop < entry.reference
    for leg in targets:
        keep &= leg > entry.reference  # every target above the entry
    if not resting:
        keep &= entry.low > stop  # a bounce bar must not have touched the stop
    keep = _kept_rows(keep)
    plans = _plans(
        entry,
        keep,
        LONG,
        ENTRY_LIMIT if resting else ENTRY_MARKET,
        stop,
        targets[-1],
        None,
        _time_stop(columns, p["max_hold"]),
        p["reentry"],
    )
    if p["targets"] is not None:
        plans = plans._replace(
            targets=_select(np.column_stack(targets), keep),
            target_shares=tuple(share for _, share in legs),
            breakeven=p["breakeven"],
            breakeven_offset=_select(
                np.broadcast_to(
                    _points(p["breakeven_offset"], entry.reference, atr, tick), entry.reference.shape
                ).astype(np.float64),
                keep,
            ),
        )
    return plans if p["trail"] is None else plans._replace(trail=_trail(p["trail"], columns))


class _Entry(NamedTuple):
    """The entry stage of a setup: what its entry parameters decide, shared by every stop and target.

    Per-row arrays hold the candidate rows' values only: the rows where the entry condition and its filters
    hold (never the last bar, whose order would work on a bar that does not exist).
    """

    rows: np.ndarray  # int64: the candidate rows, increasing
    levels: dict[str, np.ndarray]  # the levels the entry is judged at (next bar's for a resting order)
    price: np.ndarray  # the resting order's price (entry_level for a bounce)
    reference: np.ndarray  # the price stops and targets are measured against
    low: np.ndarray | None  # a bar event's low (a bounce must not have touched the stop); else None
    period: np.ndarray  # int64 per bar: the period of the levels each row's order uses


def _entry(
    signal: np.ndarray,
    levels: dict[str, np.ndarray],
    price: np.ndarray,
    reference: np.ndarray,
    low: np.ndarray | None,
    period: np.ndarray,
) -> _Entry:
    """Return the entry stage at the rows of `signal` (comparisons with NaN are False: rows without levels
    or indicators never signal)."""
    rows = np.flatnonzero(signal[:-1]).astype(np.int64)
    at_rows = {name: _read_only(values[rows]) for name, values in levels.items()}
    return _Entry(rows, at_rows, price[rows], reference[rows], None if low is None else low[rows], period)


def _read_only(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False  # kept for every later call with the same entry settings
    return values


def _bullish_entry(columns: FrameColumns, p: Mapping[str, Any], atr: np.ndarray | None) -> _Entry:
    resting = p["entry"] == "limit"
    # A resting order works on the next bar at that bar's levels; a bounce is judged at its own bar's levels.
    levels = {name: columns.resting(name) if resting else columns.column(name) for name in ("P", "S2", "R1")}
    s2 = levels["S2"]
    levels["mid"] = (s2 + levels["P"]) / 2.0  # a target word
    price = s2 + _points(p["entry_band"], s2, atr, columns.tick)
    close, low = columns.column("close"), columns.column("low")
    if not resting:  # a bounce is a bar event: on session indicators, the completed session's bar
        close, low = columns.event("close"), columns.event("low")
    if resting:
        # the price the order works at: the execution layer rounds a buy limit down to the tick
        price = round_to_tick(price, columns.tick, "down")
        signal = close > price
    else:
        signal = (low <= price) & (close > price)
    if p["rsi_max"] is not None:
        signal &= columns.column(_RSI) < p["rsi_max"]
    period = _order_periods(columns.periods("P", "S2", "R1"), resting)
    return _entry(signal, levels, price, price if resting else close, None if resting else low, period)


def bearish_breakdown(frame: pd.DataFrame, **params: Any) -> Plans:
    """Return the plans of the bearish breakdown below the round number under S2 (short).

    Level ``L`` = the multiple of `round_step` at or below S2 (or S2). Entry ``"close"``: bar ``t`` closes
    below ``L`` after a close at or above it; sell at the open of ``t + 1``. Entry ``"stop"``: a sell stop
    at ``L − tick`` on bar ``t + 1`` while the close of ``t`` is at or above ``L``. With `trend_filter`, the
    close of ``t`` must be below SMA50 and SMA100. Stop at ``L + stop_offset``; target ``S3 + target_offset``;
    invalidation: a close above SMA100 (or SMA50) while short exits at the next open; with `trail`, the stop
    follows each close + trail down.

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
        Short plans with ``entry_valid_bars = 1``; ``max_hold`` counts sessions on the session clock of
        intraday bars with a ``timeframe``, else bars (``max_hold`` × bars per session).
    """
    p = BEARISH_BREAKDOWN_PARAMETERS.validate(params, owner="bearish_breakdown")
    needed = ["low", "close", "P", "S2", "S3"]
    needed += [_SMA_FAST, _SMA_SLOW] if p["trend_filter"] else []
    needed += {"sma_100": [_SMA_SLOW], "sma_50": [_SMA_FAST], "none": []}[p["invalidation"]]
    offsets = [p["target_offset"], p["stop_offset"]] + ([] if p["trail"] is None else [p["trail"]])
    needed += [_ATR] if any(parse_offset(o).unit == "atr" for o in offsets) else []
    columns = columns_of(frame, needed, "bearish_breakdown")
    tick = columns.tick
    resting = p["entry"] == "stop"
    key = ("bearish_breakdown", p["level"], p["round_step"], p["entry"], p["trend_filter"])
    entry = columns.derived(key, lambda: _bearish_entry(columns, p))
    atr = columns.column(_ATR)[entry.rows] if _ATR in needed else None  # at the candidate rows
    level, s3 = entry.levels["level"], entry.levels["S3"]
    stop = level + _points(p["stop_offset"], level, atr, tick)
    target = s3 + _points(p["target_offset"], s3, atr, tick)
    keep = _kept_rows((target < entry.reference) & (stop > entry.reference))
    invalidation = {"sma_100": _SMA_SLOW, "sma_50": _SMA_FAST}.get(p["invalidation"])
    plans = _plans(
        entry,
        keep,
        SHORT,
        ENTRY_STOP if resting else ENTRY_MARKET,
        stop,
        target,
        _invalidation(columns, invalidation, SHORT) if invalidation else None,
        _time_stop(columns, p["max_hold"]),
        p["reentry"],
    )
    return plans if p["trail"] is None else plans._replace(trail=_trail(p["trail"], columns))


def _bearish_entry(columns: FrameColumns, p: Mapping[str, Any]) -> _Entry:
    resting = p["entry"] == "stop"
    s2, s3 = (columns.resting(name) if resting else columns.column(name) for name in ("S2", "S3"))
    level = round_number_levels(s2, p["round_step"])[0] if p["level"] == "round" else s2
    close = columns.column("close")
    if resting:
        price = round_to_tick(level - columns.tick, columns.tick, "down")  # the sell stop
        signal = close >= level
    else:
        # "a close below 2,000": on session indicators, a session's close (columns.event)
        close = columns.event("close")
        price, signal = level, (close < level) & (columns.event_preceding("close") >= level)
    if p["trend_filter"]:
        trend = columns.completed("close")
        signal &= (trend < columns.column(_SMA_FAST)) & (trend < columns.column(_SMA_SLOW))
    period = _order_periods(columns.periods("P", "S2", "S3"), resting)
    levels = {"level": level, "S3": s3}
    return _entry(signal, levels, price, price if resting else close, None, period)


def _invalidation(columns: FrameColumns, name: str, direction: int) -> np.ndarray:
    """Return the invalidation level per bar: column `name`, or, judged on session closes, an
    always-crossed level (−∞ short, +∞ long) on the first bar after a session closed beyond it, else NaN.

    The state machine compares each bar's own close with the level; a session close is known only on the
    next session's first bar, so the decision is made there and the exit is at the following open.
    """
    if not columns.session_events:
        return columns.column(name)

    def crossed() -> np.ndarray:
        beyond = direction * columns.event("close") < direction * columns.column(name)
        return np.where(beyond, direction * np.inf, np.nan)

    return columns.derived(("invalidation", name, direction), crossed)


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
        return levels["mid"]
    if target == "r1":
        return levels["R1"]
    return reference + _points(target, reference, atr, tick)


def _trail(offset: str, columns: FrameColumns) -> np.ndarray:
    """Return the trailing distance in points at each bar's close (percent of that close, its ATR), kept
    with the frame: it depends on no other parameter."""

    def distances() -> np.ndarray:
        close = columns.column("close")
        atr = columns.column(_ATR) if parse_offset(offset).unit == "atr" else None
        return np.broadcast_to(_points(offset, close, atr, columns.tick), close.shape).astype(np.float64)

    return columns.derived(("trail", offset), distances)


def _time_stop(columns: FrameColumns, sessions: int) -> tuple[int, np.ndarray | None]:
    """Return ``(max_hold, clock)`` of a time stop after `sessions` sessions: on the frame's session clock
    when it has one (intraday bars with session indicators), else in bars (bars per session × sessions)."""
    clock = columns.session_clock
    return (sessions, clock) if clock is not None else (sessions * columns.session_bars, None)


def _order_periods(periods: np.ndarray, resting: bool) -> np.ndarray:
    """Return the period of the levels each row's order uses: a resting order's works on the next bar."""
    return np.append(periods[1:], periods[-1:]) if resting else periods


def _kept_rows(keep: np.ndarray) -> np.ndarray | None:
    """Return `keep`, or None when it keeps every candidate row (the common case on daily bars, where
    selecting would copy each array once more)."""
    return None if keep.all() else keep


def _select(values: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    """Return `values` at the kept candidate rows.

    With every row kept, `values` itself: this call's own array, or a read-only one the entry stage shares
    with every call (rows, prices, levels), which copying would cost a pass over every candidate row.
    """
    return values if keep is None else values[keep]


def _plans(
    entry: _Entry,
    keep: np.ndarray | None,
    direction: int,
    entry_type: int,
    stop: np.ndarray,
    target: np.ndarray,
    invalidation: np.ndarray | None,
    time_stop: tuple[int, np.ndarray | None],
    reentry: bool,
) -> Plans:
    """Return sparse plans of the candidate rows of `entry` that `keep` keeps (`stop`, `target` at the
    candidate rows; `keep` None: all of them)."""
    rows = _select(entry.rows, keep)
    count = len(rows)
    resting = entry_type != ENTRY_MARKET
    return Plans(
        direction=_constant(count, direction, np.int8),
        entry_type=_constant(count, entry_type, np.int8),
        entry_price=_select(entry.price, keep) if resting else _constant(count, np.nan, np.float64),
        stop=_select(np.asarray(stop, dtype=np.float64), keep),
        target=_select(np.asarray(target, dtype=np.float64), keep),
        invalidation=invalidation,
        max_hold=int(time_stop[0]),
        entry_valid_bars=1,
        anchor_to_fill=False,
        period=entry.period,
        reentry=bool(reentry),
        clock=time_stop[1],
        rows=rows,
        length=len(entry.period),
    )


# Read-only arrays of one value, per (value, dtype), as long as the longest asked for so far, and the views
# handed out: the same object for the same count (the kernel knows a run's rows by their arrays' identity).
_CONSTANTS: dict[tuple[str, str], np.ndarray] = {}
_VIEWS: dict[tuple[str, str, int], np.ndarray] = {}
_VIEWS_KEPT = 64


def _constant(count: int, value: float, dtype: Any) -> np.ndarray:
    """Return a read-only array of `count` times `value`: a view of one kept array, not a new one per call
    (what every row of a setup's plans holds alike: direction, entry type, a market entry's NaN price)."""
    key = (repr(value), np.dtype(dtype).str)
    view = _VIEWS.get((*key, count))
    if view is None:
        kept = _CONSTANTS.get(key)
        if kept is None or len(kept) < count:
            kept = _CONSTANTS[key] = np.full(count, value, dtype=dtype)
            kept.flags.writeable = False
        if len(_VIEWS) >= _VIEWS_KEPT:
            _VIEWS.clear()
        view = _VIEWS[(*key, count)] = kept[:count]
    return view
