"""Fade a failed push through R2 back toward the pivot — a third setup, written as a quant would.

The rule, on the monthly classic levels: a bar trades above R2 but closes back below it (the breakout
failed); sell at the next open, stop a little above R2, target the pivot, out after ``max_hold`` sessions.
One trade per month's levels unless ``reentry``. That is all the file says: where it would enter and at
which levels. Whether the strategy is already in a trade, whether the month had its trade, the fills,
trailing and time stops are the engine's business — both engines run this same function.

Copy this file to add a setup: a plain function ``(frame, **params) -> Plans`` over the indicator frame's
columns (``open, high, low, close``, levels ``P, S1..S3, R1..R3``, ``sma_50, sma_100, rsi_14, atr_14``), its
parameters declared once, and a small ``SetupStrategy`` subclass naming it. The plans list the signal rows
only (``rows``, with the bar count in ``length``); plans with one row per bar work as well
(``Plans.sparse()`` and ``Plans.dense()`` convert).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from rtystrat import Parameter, Parameters, SetupStrategy, parse_offset
from rtystrat.signals.columns import session_bars, tick_size_of
from rtystrat.signals.plans import ENTRY_MARKET, SHORT, Plans

R2_FADE_PARAMETERS = Parameters(
    [
        Parameter(
            name="stop_offset",
            default="20pt",
            kind="offset",
            positive=True,
            doc="Stop this far above R2 (percent of R2; ATR of the signal bar).",
            source="A failed breakout is wrong once price holds above the level again.",
        ),
        Parameter(
            name="max_hold",
            default=10,
            kind="int",
            minimum=0,
            units="sessions",
            doc="Time stop: exit at the next open after this many sessions in the trade (0: none).",
            source="A mean reversion to the pivot should happen within two weeks or not at all.",
        ),
        Parameter(
            name="trail",
            default=None,
            kind="offset",
            positive=True,
            optional=True,
            doc="Trailing stop this far above each close while short (none: the stop stays put).",
            source="Lock in part of the move once price has fallen back toward the pivot.",
        ),
        Parameter(
            name="reentry",
            default=False,
            kind="bool",
            doc="Take every signal, not just the first filled trade of each month's levels.",
        ),
    ]
)


def r2_fade(frame: pd.DataFrame, **params: Any) -> Plans:
    """Return the plans of the R2 fade: after a bar with ``high > R2 > close`` (and ``P < close``), sell at
    the next open; stop ``R2 + stop_offset``; target ``P``; the levels are the signal bar's own."""
    p = R2_FADE_PARAMETERS.validate(params, owner="r2_fade")
    high, close = frame["high"].to_numpy(float), frame["close"].to_numpy(float)
    r2, pivot, atr = (frame[name].to_numpy(float) for name in ("R2", "P", "atr_14"))
    signal = (high > r2) & (close < r2) & (close > pivot)  # NaN levels compare False: no signal
    # the signal rows only (the last bar's order would work on a bar that does not exist)
    rows = np.flatnonzero(signal[:-1])
    tick = tick_size_of(frame)
    stop = r2[rows] + parse_offset(p["stop_offset"]).to_points(r2[rows], atr[rows], tick)
    # a month's levels stay the same until the next month: number the runs of equal (P, R2)
    changed = (frame["R2"] != frame["R2"].shift()) | (frame["P"] != frame["P"].shift())
    trail = None
    if p["trail"] is not None:
        trail = np.broadcast_to(parse_offset(p["trail"]).to_points(close, atr, tick), close.shape)
    return Plans(
        direction=np.full(len(rows), SHORT, dtype=np.int8),
        entry_type=np.full(len(rows), ENTRY_MARKET, dtype=np.int8),
        entry_price=np.full(len(rows), np.nan),
        stop=np.broadcast_to(stop, rows.shape).astype(float),
        target=pivot[rows],
        invalidation=None,
        max_hold=p["max_hold"] * session_bars(frame.index),
        period=changed.cumsum().to_numpy(np.int64),
        reentry=p["reentry"],
        trail=None if trail is None else trail.astype(float),
        rows=rows,
        length=len(frame),
    )


class R2Fade(SetupStrategy):
    """Sell a bar that traded above the monthly R2 and closed back below it; target the pivot."""

    name = "r2_fade"
    setup = staticmethod(r2_fade)
    parameters = R2_FADE_PARAMETERS

    #: Overrides that make a quick run trade often on the shipped sample (tests run every strategy with them).
    SMOKE_PARAMS: ClassVar[dict[str, Any]] = {"reentry": True, "max_hold": 5}


# The same rule the backtrader way: a next() that reads the indicator lines of its feed (the feed carries the
# indicator frame's columns as lines: P, S1..S3, R1..R3, sma_50, rsi_14, atr_14). Orders go through
# SetupStrategy.enter_bracket, so they fill under the same rules as the plans above; a test holds the two to
# the same trades. The trailing stop is left out: enter_bracket takes one distance in points, plans one
# per bar.


class R2FadeLines(SetupStrategy):
    """Sell a failed push through the monthly R2, decided in ``next()`` from the feed's lines."""

    name = "r2_fade_lines"
    parameters = Parameters([R2_FADE_PARAMETERS[name] for name in R2_FADE_PARAMETERS if name != "trail"])
    feed_lines: ClassVar[tuple[str, ...]] = ("P", "R2", "atr_14")

    SMOKE_PARAMS: ClassVar[dict[str, Any]] = {"reentry": True, "max_hold": 5}

    def start(self) -> None:
        """Validate the parameters once and start counting level periods."""
        super().start()
        self.values = self.parameters.validate(self.p.setup_params, owner=self.name)
        self.period = -1  # numbers the runs of equal (P, R2): a new month's levels start a new period
        self.levels = (math.nan, math.nan)

    def next(self) -> None:
        """At the close of each bar: sell at the next open after a failed push through R2."""
        lines = self.data.lines
        levels = (lines.P[0], lines.R2[0])
        if levels != self.levels:
            self.period, self.levels = self.period + 1, levels
        pivot, r2 = levels
        if len(self.data) >= self.data.buflen() or not self.is_flat:
            return  # the last bar's order would work on a bar that does not exist
        if not (lines.high[0] > r2 > lines.close[0] > pivot):
            return
        offset = parse_offset(self.values["stop_offset"])
        self.enter_bracket(
            "short",
            "market",
            stop=r2 + offset.to_points(r2, lines.atr_14[0], tick_size_of(self.frame)),
            target=pivot,
            max_hold=self.values["max_hold"] * session_bars(self.frame.index),
            period=-1 if self.values["reentry"] else self.period,
        )
