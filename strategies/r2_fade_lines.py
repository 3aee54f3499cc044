"""The R2 fade written the backtrader way: a ``next()`` that reads the indicator lines of its feed.

Same rule as :mod:`strategies.r2_fade` — after a bar with ``high > R2 > close > P``, sell at the next open,
stop ``R2 + stop_offset``, target ``P``, one filled trade per month's levels — decided bar by bar from
``self.data.lines`` (the feed carries the indicator frame's columns as lines: ``P``, ``S1``..``S3``,
``R1``..``R3``, ``sma_50``, ``rsi_14``, ``atr_14``). Orders go through :meth:`SetupStrategy.enter_bracket`,
so they fill under the same rules as the plans of the twin; a test holds the two to the same trades. The
trailing stop is left out here: ``enter_bracket`` takes one distance in points, the plans one per bar.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from rtystrat import Parameters, SetupStrategy, parse_offset
from rtystrat.signals.columns import session_bars, tick_size_of
from strategies.r2_fade import R2_FADE_PARAMETERS


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
