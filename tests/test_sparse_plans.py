"""The setups' plans against a second computation of their rules, bar by bar over whole frames.

The reference below states each setup's documented rule on full-length arrays (one row per bar, NaN where a
bar does not signal), read from a fresh :class:`FrameColumns`; the setups compute their plans their own way
(and keep intermediate results between calls). Many parameter sets on daily bars, weekly woodie levels, a
non-RTY tick and one-minute bars with daily indicators (session events) must give the same plans.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

import rtystrat
from rtystrat.data.contracts import round_to_tick
from rtystrat.errors import DataError
from rtystrat.execution import kernel
from rtystrat.execution.config import RunConfig
from rtystrat.execution.fills import F_BAR, F_ENTRY_BAR, simulate_plans
from rtystrat.signals.columns import FrameColumns, keep_columns
from rtystrat.signals.features import indicator_frame
from rtystrat.signals.levels import round_number_levels
from rtystrat.signals.offsets import parse_offset
from rtystrat.signals.plans import ENTRY_LIMIT, ENTRY_MARKET, ENTRY_STOP, LONG, SHORT, Plans
from rtystrat.signals.setup_parameters import BULLISH_TARGET_WORDS
from rtystrat.signals.setups import (
    BEARISH_BREAKDOWN_PARAMETERS,
    BULLISH_REVERSAL_PARAMETERS,
    bearish_breakdown,
    bullish_reversal,
)
from rtystrat.signals.targets import parse_targets

Reference = Callable[[FrameColumns, Mapping[str, Any]], dict[str, Any]]


def _points(offset: str, price: np.ndarray, frame: pd.DataFrame, tick: float) -> np.ndarray:
    atr = frame["atr_14"].to_numpy(np.float64)
    return np.broadcast_to(parse_offset(offset).to_points(price, atr, tick), price.shape)


def _masked(signal: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(signal, values, np.nan)


def _time_stop(columns: FrameColumns, sessions: int) -> tuple[int, np.ndarray | None]:
    clock = columns.session_clock
    return (sessions, clock) if clock is not None else (sessions * columns.session_bars, None)


def _dense(
    signal: np.ndarray, direction: int, entry_type: int, entry_price: np.ndarray | None, **fields: Any
) -> dict[str, Any]:
    signal = signal.copy()
    signal[-1] = False  # the last bar's order would work on a bar that does not exist
    n = len(signal)
    return {
        "signal": signal,
        "direction": np.where(signal, direction, 0).astype(np.int8),
        "entry_type": np.where(signal, entry_type, ENTRY_MARKET).astype(np.int8),
        "entry_price": np.full(n, np.nan) if entry_price is None else _masked(signal, entry_price),
        **{name: _masked(signal, fields.pop(name)) for name in ("stop", "target")},
        **fields,
    }


def _shared_fields(
    columns: FrameColumns, p: Mapping[str, Any], periods: np.ndarray, resting: bool
) -> dict[str, Any]:
    """The fields both setups fill alike: time stop, the order's period (a resting order works at the next
    bar's levels), re-entry, trailing stop, and one target without break-even."""
    max_hold, clock = _time_stop(columns, p["max_hold"])
    close, frame, tick = columns.column("close"), columns.frame, columns.tick
    return {
        "max_hold": max_hold,
        "clock": clock,
        "period": np.append(periods[1:], periods[-1:]) if resting else periods,
        "reentry": p["reentry"],
        "trail": None if p["trail"] is None else _points(p["trail"], close, frame, tick),
        "targets": None,
        "target_shares": (),
        "breakeven": 0,
        "breakeven_offset": None,
    }


def reference_bullish(columns: FrameColumns, p: Mapping[str, Any]) -> dict[str, Any]:
    """The bullish reversal's rule (its docstring) on every bar."""
    frame = columns.frame
    tick = columns.tick
    resting = p["entry"] == "limit"
    level = columns.resting if resting else columns.column
    pivot, s2, r1 = level("P"), level("S2"), level("R1")
    price = s2 + _points(p["entry_band"], s2, frame, tick)
    if resting:
        price = round_to_tick(price, tick, "down")
        signal, reference = columns.column("close") > price, price
    else:
        close, low = columns.event("close"), columns.event("low")
        signal, reference = (low <= price) & (close > price), close
    if p["rsi_max"] is not None:
        signal &= columns.column("rsi_14") < p["rsi_max"]
    stop = s2 - _points(p["stop_offset"], s2, frame, tick)
    legs = (
        [(p["target"], 1.0)]
        if p["targets"] is None
        else parse_targets(p["targets"], words=BULLISH_TARGET_WORDS)
    )
    words = {"pivot": pivot, "mid": (s2 + pivot) / 2.0, "r1": r1}
    targets = [
        words[where] if where in words else reference + _points(where, reference, frame, tick)
        for where, _ in legs
    ]
    signal &= stop < reference
    for target in targets:
        signal &= target > reference
    if not resting:
        signal &= columns.event("low") > stop
    plans = _dense(
        signal,
        LONG,
        ENTRY_LIMIT if resting else ENTRY_MARKET,
        price if resting else None,
        stop=stop,
        target=targets[-1],
        invalidation=np.full(len(frame), np.nan),
        **_shared_fields(columns, p, columns.periods("P", "S2", "R1"), resting),
    )
    if p["targets"] is not None:
        plans["targets"] = np.column_stack(targets)
        plans["target_shares"] = tuple(share for _, share in legs)
        plans["breakeven"] = p["breakeven"]
        plans["breakeven_offset"] = _points(p["breakeven_offset"], reference, frame, tick)
    return plans


def reference_bearish(columns: FrameColumns, p: Mapping[str, Any]) -> dict[str, Any]:
    """The bearish breakdown's rule (its docstring) on every bar."""
    frame = columns.frame
    tick = columns.tick
    resting = p["entry"] == "stop"
    s2, s3 = (columns.resting(name) if resting else columns.column(name) for name in ("S2", "S3"))
    level = round_number_levels(s2, p["round_step"])[0] if p["level"] == "round" else s2
    if resting:
        price = round_to_tick(level - tick, tick, "down")
        signal, reference = columns.column("close") >= level, price
    else:
        close = columns.event("close")
        signal, reference = (close < level) & (columns.event_preceding("close") >= level), close
    if p["trend_filter"]:
        trend = columns.completed("close")
        signal &= (trend < columns.column("sma_50")) & (trend < columns.column("sma_100"))
    stop = level + _points(p["stop_offset"], level, frame, tick)
    target = s3 + _points(p["target_offset"], s3, frame, tick)
    signal &= (target < reference) & (stop > reference)
    invalidation = np.full(len(frame), np.nan)
    if p["invalidation"] != "none":
        sma = columns.column(p["invalidation"])
        if columns.session_events:  # a session close above the SMA, known on the next session's first bar
            invalidation = np.where(columns.event("close") > sma, -np.inf, np.nan)
        else:
            invalidation = sma
    return _dense(
        signal,
        SHORT,
        ENTRY_STOP if resting else ENTRY_MARKET,
        price if resting else None,
        stop=stop,
        target=target,
        invalidation=invalidation,
        **_shared_fields(columns, p, columns.periods("P", "S2", "S3"), resting),
    )


BULLISH_CHOICES: dict[str, list[Any]] = {
    "entry": ["limit", "bounce"],
    "entry_band": ["0pt", "4pt", "0.3%", "3tick", "0.5atr"],
    "stop_offset": ["13pt", "1%", "1atr", "40tick"],
    "target": ["pivot", "mid", "r1", "60pt", "2atr", "1.5%"],
    "targets": [None, None, "mid:1,pivot:1", "mid:1,pivot:2,r1:1", "30pt:1,pivot:1", "1atr:2,80pt:1"],
    "breakeven": [0, 1, 2],
    "breakeven_offset": ["0tick", "2tick", "0.1%", "0.2atr"],
    "trail": [None, None, "8pt", "0.5%", "1.5atr"],
    "rsi_max": [None, 30.0, 45.0, 60.0],
    "max_hold": [0, 3, 10],
    "reentry": [False, True],
}
BEARISH_CHOICES: dict[str, list[Any]] = {
    "level": ["round", "s2"],
    "round_step": [100.0, 50.0, 25.0],
    "entry": ["close", "stop"],
    "trend_filter": [True, False],
    "target_offset": ["3pt", "0pt", "0.5%", "0.5atr"],
    "stop_offset": ["60pt", "1%", "2atr", "100tick"],
    "invalidation": ["sma_100", "sma_50", "none"],
    "trail": [None, None, "10pt", "1%", "2atr"],
    "max_hold": [0, 5, 40],
    "reentry": [False, True],
}


def parameter_sets(choices: Mapping[str, list[Any]], count: int, seed: int) -> list[dict[str, Any]]:
    """Return `count` seeded draws of one value per parameter (the bullish target only without targets)."""
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(count):
        params = {name: values[rng.integers(len(values))] for name, values in choices.items()}
        if params.get("targets") is not None:
            params["target"] = "pivot"  # targets replaces target
        draws.append(params)
    return draws


CASES: list[tuple[Callable[..., Plans], Reference, Any, dict[str, list[Any]]]] = [
    (bullish_reversal, reference_bullish, BULLISH_REVERSAL_PARAMETERS, BULLISH_CHOICES),
    (bearish_breakdown, reference_bearish, BEARISH_BREAKDOWN_PARAMETERS, BEARISH_CHOICES),
]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    daily = rtystrat.load_sample("daily").iloc[-1200:]
    es_tick = indicator_frame(rtystrat.load_sample("daily").iloc[-2400:-1600])
    es_tick.attrs["tick_size"] = 0.25
    minute = rtystrat.load_sample("minute")
    return {
        "daily": indicator_frame(daily),
        "woodie": indicator_frame(daily, levels="W:woodie"),
        "tick": es_tick,
        "minute": indicator_frame(minute, levels="W:classic", sma=(50, 100), rsi=14, atr=14, timeframe="D"),
    }


def dense_of(plans: Plans) -> Plans:
    """The plans one row per bar, as the backtrader strategy reads them (after checking the sparse form)."""
    assert plans.rows is not None and plans.rows.dtype == np.int64
    plans.check(plans.length, "setup")
    assert np.all(plans.direction != 0)
    return plans.dense()


def assert_plans_equal(plans: Plans, expected: Mapping[str, Any], label: str) -> None:
    """Compare every field; the scale-out columns only on signal rows (the only rows anything reads)."""
    signal = expected["signal"]
    for name in ("direction", "entry_type", "entry_price", "stop", "target", "invalidation", "period"):
        np.testing.assert_array_equal(getattr(plans, name), expected[name], err_msg=f"{label}: {name}")
    for name in ("trail", "clock"):
        if expected[name] is None:
            assert getattr(plans, name) is None, f"{label}: {name}"
        else:
            np.testing.assert_array_equal(getattr(plans, name), expected[name], err_msg=f"{label}: {name}")
    for name in ("max_hold", "reentry", "target_shares", "breakeven"):
        assert getattr(plans, name) == expected[name], f"{label}: {name}"
    assert (plans.entry_valid_bars, plans.anchor_to_fill) == (1, False), label
    for name in ("targets", "breakeven_offset"):
        if expected[name] is None:
            assert getattr(plans, name) is None, f"{label}: {name}"
        else:
            np.testing.assert_array_equal(
                np.asarray(getattr(plans, name))[signal], expected[name][signal], err_msg=f"{label}: {name}"
            )


@pytest.mark.parametrize("frame_name", ["daily", "woodie", "tick", "minute"])
@pytest.mark.parametrize(("setup", "reference", "declared", "choices"), CASES, ids=["bullish", "bearish"])
def test_setup_plans_equal_the_rule_computed_on_every_bar(
    frames: dict[str, pd.DataFrame],
    frame_name: str,
    setup: Callable[..., Plans],
    reference: Reference,
    declared: Any,
    choices: dict[str, list[Any]],
) -> None:
    frame = frames[frame_name]
    if frame_name == "minute":
        keep_columns(frame)  # as the kernel does: the setups keep their entry stages between calls
    columns = FrameColumns(frame)  # the reference's own, computed afresh
    count = 12 if frame_name == "minute" else 40
    signals = 0
    for params in parameter_sets(choices, count, seed=len(frame_name)):
        label = f"{frame_name} {params}"
        expected = reference(columns, declared.validate(params))
        assert_plans_equal(dense_of(setup(frame, **params)), expected, label)
        signals += int(expected["signal"].sum())
    assert signals > 10 * count  # the comparison is only meaningful with signals


def hand_written(n: int = 50, signals: int = 8) -> Plans:
    """Dense plans as a user writes them: a few rows of every kind, scale-out and per-bar fields."""
    rng = np.random.default_rng(3)
    rows = np.sort(rng.choice(n - 1, signals, replace=False))
    plans = Plans.empty(n)
    plans.direction[rows] = rng.choice([LONG, SHORT], signals)
    plans.entry_type[rows] = rng.choice([ENTRY_MARKET, ENTRY_LIMIT, ENTRY_STOP], signals)
    plans.entry_price[rows] = np.where(plans.entry_type[rows] == ENTRY_MARKET, np.nan, 2000.0 + rows)
    plans.stop[rows] = 1990.0 - rows
    plans.target[rows] = 2100.0 + rows
    plans.invalidation[::3] = 1950.0
    targets = np.full((n, 2), np.nan)
    targets[rows] = np.column_stack([2050.0 + rows, 2100.0 + rows])
    offset = np.full(n, np.nan)
    offset[rows] = 0.2
    return plans._replace(
        period=np.arange(n, dtype=np.int64) // 10,
        trail=np.full(n, 8.0),
        targets=targets,
        target_shares=(1.0, 1.0),
        breakeven=1,
        breakeven_offset=offset,
    )


def test_hand_written_dense_plans_convert_to_their_signal_rows_and_back() -> None:
    plans = hand_written()
    sparse = plans.sparse()
    expected_rows = np.flatnonzero(plans.direction)
    np.testing.assert_array_equal(sparse.rows, expected_rows)
    assert sparse.rows.dtype == np.int64 and sparse.length == sparse.bar_count == 50
    assert len(sparse.stop) == len(sparse.targets) == len(sparse.breakeven_offset) == 8
    np.testing.assert_array_equal(sparse.targets, plans.targets[expected_rows])
    assert sparse.trail is plans.trail and sparse.period is plans.period  # per-bar fields stay whole
    sparse.check(50, "mine")
    back = sparse.dense()
    for name in Plans._fields:
        np.testing.assert_array_equal(getattr(back, name), getattr(plans, name), err_msg=name)
    assert sparse.sparse() is sparse and plans.dense() is plans
    empty = Plans.empty(5).sparse()
    assert (len(empty.rows), empty.length, empty.dense().direction.tolist()) == (0, 5, [0] * 5)


ROWS_MESSAGE = r"mine: plans.rows must be strictly increasing bar numbers in \[0, 50\)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"stop": np.zeros(7)}, "mine: plans.stop has 7 rows, expected 8"),
        ({"targets": np.zeros((9, 2))}, "mine: plans.targets has 9 rows, expected 8"),
        ({"trail": np.zeros(49)}, "mine: plans.trail has 49 rows, the data 50"),
        ({"length": 49}, "mine: the plans cover 49 bars, the data 50"),
        (
            {"rows": np.arange(8)[::-1].copy()},
            r"mine: plans.rows must be strictly increasing bar numbers in \[0, 50\)",
        ),
        (
            {"rows": np.arange(43, 51)},
            r"mine: plans.rows must be strictly increasing bar numbers in \[0, 50\)",
        ),
    ],
)
def test_plans_that_do_not_fit_the_bars_are_refused_in_one_line(change: dict[str, Any], message: str) -> None:
    with pytest.raises(DataError, match=f"^{message}$"):
        hand_written().sparse()._replace(**change).check(50, "mine")


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("bullish_reversal", {"rsi_max": None, "max_hold": 3, "stop_offset": "20pt", "reentry": True}),
        ("bearish_breakdown", {"trend_filter": False, "level": "s2", "trail": "1atr", "max_hold": 5}),
    ],
)
def test_kernel_windows_of_sparse_plans_trade_as_the_dense_plans_cut_to_the_window(
    name: str, params: dict[str, Any]
) -> None:
    """The kernel picks a window's signal rows from sparse plans; cutting the dense plans and the bars to
    the window instead must book the same trades."""
    strategy = rtystrat.get_strategy(name)
    config = RunConfig()
    data = kernel.prepare(strategy, rtystrat.load_sample("daily").iloc[-1500:], config)
    plans = kernel.plans(strategy, data, params)
    dense = plans.dense()
    booked = 0
    for start, stop in ((0, None), (130, 700), (701, 1500), (64, 1499)):
        run = kernel.simulate(data, plans, config, start, stop)
        window = slice(start, stop)
        cut = dense._replace(
            **{key: value[window] for key, value in dense._asdict().items() if isinstance(value, np.ndarray)}
        )
        trades, events = simulate_plans(data.frame.iloc[window], cut, data.settings, data.cash)
        trades[:, [F_BAR, F_ENTRY_BAR]] += start
        np.testing.assert_array_equal(run.trades, trades)
        np.testing.assert_array_equal(run.events, events)
        booked += len(trades)
    assert booked > 20
