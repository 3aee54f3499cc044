"""Bullish reversal at S2 — the short-term reversal play of the March-2025 RTY analysis.

Copy this file to add a setup: name it, point ``setup`` at a pure function ``(frame, **params) -> Plans``,
declare its parameters, and give a few quick smoke-test overrides.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rtystrat.execution.strategy import SetupStrategy
from rtystrat.signals import setups


class BullishReversal(SetupStrategy):
    """Buy the first test of the monthly S2 from above, stop under S2, target the pivot.

    The analysis of 2025-03-13 (RTY at 2,025.7, RSI(14) 25.16, monthly pivot 2,210, S2 2,003) called a
    "short-term reversal play": "buy near S2 (2,003)", stop 1,990, targets 2,100 and 2,210, over "1–2 weeks".
    Each default below comes from it:

    ===============  ==========  ===========================================================================
    parameter        default     from the analysis
    ===============  ==========  ===========================================================================
    entry            "limit"     "buy near S2 (2,003)": a resting buy limit at the level
    entry_band       "0pt"       the buy price is S2 itself (2,003)
    stop_offset      "13pt"      stop 1,990 = S2 2,003 − 13
    target           "pivot"     target 2,210 = the pivot (``"mid"`` gives the 2,100-ish first target)
    rsi_max          30          RSI(14) 25.16, oversold (below 30): the premise of the reversal
    max_hold         10          "1–2 weeks": 10 sessions
    reentry          False       one trade per month's levels (a choice of this library)
    ===============  ==========  ===========================================================================
    """

    name = "bullish_reversal"
    setup = staticmethod(setups.bullish_reversal)
    parameters = setups.BULLISH_REVERSAL_PARAMETERS

    #: Overrides that make a quick run trade often on the shipped sample (tests run every strategy with them).
    SMOKE_PARAMS: ClassVar[dict[str, Any]] = {"rsi_max": None, "max_hold": 5}
