"""The declared parameters of the two setups of :mod:`rtystrat.signals.setups`, with the analysis's defaults.

Each parameter is declared once, with its default, units and the sentence of the March-2025 analysis it comes
from (``.describe()`` prints the table); :mod:`rtystrat.signals.setups` reads them, and re-exports the tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rtystrat.errors import ParameterError
from rtystrat.signals.offsets import parse_offset
from rtystrat.signals.parameters import Parameter, Parameters

__all__ = ["BEARISH_BREAKDOWN_PARAMETERS", "BULLISH_REVERSAL_PARAMETERS", "BULLISH_TARGET_WORDS"]

#: The words the bullish target and scale-out targets take besides offsets.
BULLISH_TARGET_WORDS = ("pivot", "mid", "r1")


def _check_bullish(values: Mapping[str, Any], owner: str) -> None:
    target = values["target"]
    if target not in BULLISH_TARGET_WORDS and parse_offset(target).is_zero:
        raise ParameterError(
            f"{owner or 'bullish_reversal'}: target={target!r} must lie above the entry (> 0)"
        )
    if values["targets"] is not None and target != "pivot":
        raise ParameterError(
            f"{owner or 'bullish_reversal'}: give target={target!r} or targets={values['targets']!r}, "
            "not both (targets replaces target)"
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
            name="targets",
            default=None,
            kind="targets",
            choices=BULLISH_TARGET_WORDS,
            optional=True,
            doc="Scale-out instead of one target: 'mid:1,pivot:1' sells half the contracts at the S2-P "
            "midpoint and the rest at the pivot (whole contracts, largest remainder, a leg of 0 dropped; "
            "each item a target word or an offset, ':share' optional). None: the single target.",
            source="Targets 2,100 (about the S2-P midpoint) and 2,210 (the pivot): part at each.",
        ),
        Parameter(
            name="breakeven",
            default=0,
            kind="int",
            minimum=0,
            maximum=4,
            doc="After this many targets filled, move the stop to the entry + breakeven_offset at that "
            "bar's close, working from the next bar, if tighter (0: never).",
            source="Not in the analysis; the usual companion of a partial exit.",
        ),
        Parameter(
            name="breakeven_offset",
            default="0tick",
            kind="offset",
            doc="How far above the entry the break-even stop sits (percent of the planned entry; ATR of "
            "the signal bar); e.g. '1tick' to cover costs.",
            source="Not in the analysis; 0: the stop moves to the entry price itself.",
        ),
        Parameter(
            name="trail",
            default=None,
            kind="offset",
            positive=True,
            optional=True,
            doc="Trailing stop this far below each close while in the trade (percent of the close; ATR of "
            "that bar); it only rises and works from the next bar (none: the stop stays put).",
            source="Not in the analysis, which names fixed stops; a common way to let a reversal run.",
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
            default="sma_100",
            kind="choice",
            choices=("sma_100", "sma_50", "none"),
            doc="Exit at the next open after a close above this SMA ('none': no invalidation exit).",
            source="'Bearish unless reclaimed': the 100-day SMA (2,281.1).",
        ),
        Parameter(
            name="trail",
            default=None,
            kind="offset",
            positive=True,
            optional=True,
            doc="Trailing stop this far above each close while in the trade (percent of the close; ATR of "
            "that bar); it only falls and works from the next bar (none: the stop stays put).",
            source="Not in the analysis, which names fixed stops; a way to keep a breakdown's gains.",
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
