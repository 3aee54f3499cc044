"""Bearish breakdown under the round number below S2 — the analysis's trend-continuation trade.

Copy this file to add a setup: name it, point ``setup`` at a pure function ``(frame, **params) -> Plans``,
declare its parameters, and give a few quick smoke-test overrides.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rtystrat.execution.strategy import SetupStrategy
from rtystrat.signals import setups


class BearishBreakdown(SetupStrategy):
    """Sell a close below the round hundred under S2, stop 60 points above it, target just above S3.

    The analysis of 2025-03-13 (RTY at 2,025.7, SMA50 2,229.3, SMA100 2,281.1, S2 2,003, S3 1,877) called a
    trend continuation with price "firmly below its major moving averages": short below 2,000, target 1,880,
    stop 2,060, "bearish unless reclaimed" (the 100-day SMA), over "1–2 months". Each default below comes
    from it:

    ===============  ==========  ===========================================================================
    parameter        default     from the analysis
    ===============  ==========  ===========================================================================
    level            "round"     short below 2,000: the round hundred at or below S2 (2,003)
    round_step       100         2,000 is a multiple of 100
    entry            "close"     a close below 2,000, sold at the next open (``"stop"``: a sell stop 1,999.9)
    trend_filter     True        "firmly below its major moving averages": close below SMA50 and SMA100
    target_offset    "3pt"       target 1,880 = S3 1,877 + 3
    stop_offset      "60pt"      stop 2,060 = 2,000 + 60
    invalidation     "sma_100"   "bearish unless reclaimed": a close back above SMA100 (2,281) exits
    max_hold         40          "1–2 months": 40 sessions, the upper end
    reentry          False       one trade per month's levels (a choice of this library)
    ===============  ==========  ===========================================================================
    """

    name = "bearish_breakdown"
    setup = staticmethod(setups.bearish_breakdown)
    parameters = setups.BEARISH_BREAKDOWN_PARAMETERS

    #: Overrides that make a quick run trade often on the shipped sample (tests run every strategy with them).
    SMOKE_PARAMS: ClassVar[dict[str, Any]] = {"trend_filter": False, "reentry": True, "max_hold": 10}
