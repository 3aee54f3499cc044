"""The fill table: crafted bars, one case per row, hand-computed fills, through the pure rules and backtrader.

RTY: $50 a point, tick 0.1 ($5), commission $2.50 per contract per side ($5 a round trip), slippage 1 tick
unless a case says otherwise. Bar 0 is the decision bar (plan row 0); the order works from bar 1.
"""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd
import pytest

from rtystrat.data.contracts import round_to_tick
from rtystrat.execution import engine, fills, tradelog
from rtystrat.execution.config import RunConfig
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.signals.plans import ENTRY_LIMIT, ENTRY_MARKET, ENTRY_STOP, LONG, SHORT, Plans
from rtystrat.signals.targets import MAX_TARGETS, split_contracts

NAN = math.nan
FLAT_BAR = (2000.0, 2002.0, 1998.0, 2000.0)
# the ambiguous bar: open between stop 1990 and target 2030, range over both; h − o == o − l (a tie)
BOTH = (2010.0, 2035.0, 1985.0, 2000.0)
QUIET = (2000.0, 2006.0, 1996.0, 2004.0)


@dataclasses.dataclass(frozen=True)
class Case:
    """One row of the fill table: bars, the plan of bar 0, the expected trades."""

    name: str
    bars: tuple[tuple[float, float, float, float], ...]
    plan: tuple[int, int, float, float, float]  # direction, entry type, entry price, stop, target
    # (entry price, exit price, exit reason, $ net P&L) per trade, hand-computed
    expected: tuple[tuple[float, float, str, float], ...]
    policy: str = "pessimistic"
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    options: dict[str, Any] = dataclasses.field(default_factory=dict)  # Plans scalars
    invalidation: float = NAN
    contracts: tuple[str, ...] | None = None
    intraday: tuple[tuple[float, float, float, float], ...] | None = None  # 1-minute bars of bar 2
    ambiguous: tuple[bool, ...] | None = None
    trail: float = NAN  # trailing stop distance in points on every bar
    targets: tuple[float, ...] = ()  # scale-out: the legs' targets (the plan's own target is then ignored)
    shares: tuple[float, ...] = ()
    breakeven: int = 0
    breakeven_offset: float = 0.0
    legs: tuple[int, ...] | None = None  # expected leg of each exit fill


LONG_MARKET = (LONG, ENTRY_MARKET, NAN, 1990.0, 2030.0)
HIGH_FIRST = ((2010, 2035, 2008, 2030), (2030, 2031, 1985, 1990), (1990, 2000, 1988, 2000))
LOW_FIRST = ((2010, 2012, 1985, 1990), (1990, 2035, 1989, 2030), (2030, 2031, 1999, 2000))

# Trailing stop, long market entry at 2000.1, target 2030, trail 5: the entry bar closes at 2006, so bar 2
# works with the stop at 2001. Bar 2 opens at 2010, reaches 2032 (22 up) and 1985 (25 down).
TRAILED_BOTH = (FLAT_BAR, (2000, 2008, 1998, 2006), (2010, 2032, 1985, 2000), FLAT_BAR)
TRAILED = (LONG, ENTRY_MARKET, NAN, 1990.0, 2030.0)

TRAIL_TABLE = (
    # entry 2000.1; closes 2010, 2020 move the stop to 2000, 2010; bar 3 opens at 2005 below it: the gap fills
    # at the open − 0.1 = 2004.9 → +4.8 pt
    Case(
        "trailing_stop_gapped_through_fills_at_open",
        (FLAT_BAR, (2000, 2012, 1998, 2010), (2010, 2025, 2005, 2020), (2005, 2008, 2001, 2003), FLAT_BAR),
        (LONG, ENTRY_MARKET, NAN, 1990.0, 2100.0),
        ((2000.1, 2004.9, "stop", 4.8 * 50 - 5),),
        trail=10.0,
    ),
    # bar 1 reaches 2030 but closes at 2004: the stop moves to 1994 (from the close, not the high) and only
    # at the close; bar 2's low 1993 takes it at 1994 − 0.1
    Case(
        "trailing_stop_moves_at_the_close_not_inside_the_bar",
        (FLAT_BAR, (2000, 2030, 1995, 2004), (2004, 2006, 1993, 2000), FLAT_BAR),
        (LONG, ENTRY_MARKET, NAN, 1990.0, 2100.0),
        ((2000.1, 1993.9, "stop", -6.2 * 50 - 5),),
        trail=10.0,
    ),
    # limit 2000 filled inside bar 1 (low 1995); its close 2010 moves the stop to 2002 from the entry bar on;
    # bar 2's close 2004 would put it at 1996: it stays at 2002; bar 3's low 2001 takes it at 2001.9
    Case(
        "trailing_stop_starts_at_the_entry_bars_close_and_never_loosens",
        (FLAT_BAR, (2005, 2012, 1995, 2010), (2008, 2009, 2003, 2004), (2003, 2004, 2001, 2002), FLAT_BAR),
        (LONG, ENTRY_LIMIT, 2000.0, 1980.0, 2100.0),
        ((2000.0, 2001.9, "stop", 1.9 * 50 - 5),),
        trail=8.0,
    ),
    # short at 1999.9; close 1988 moves the stop down to 1998; bar 2's high 1999 takes it at 1998 + 0.1
    Case(
        "short_trailing_stop_moves_down_with_the_close",
        (FLAT_BAR, (2000, 2002, 1985, 1988), (1990, 1999, 1980, 1985), FLAT_BAR),
        (SHORT, ENTRY_MARKET, NAN, 2010.0, 1900.0),
        ((1999.9, 1998.1, "stop", 1.8 * 50 - 5),),
        trail=10.0,
    ),
    # the trailed stop (2001) and the target (2030) in one bar: each policy as for a fixed stop
    Case(
        "trailed_stop_and_target_pessimistic_takes_stop",
        TRAILED_BOTH,
        TRAILED,
        ((2000.1, 2000.9, "stop", 0.8 * 50 - 5),),
        trail=5.0,
        ambiguous=(True,),
    ),
    Case(
        "trailed_stop_and_target_optimistic_takes_target",
        TRAILED_BOTH,
        TRAILED,
        ((2000.1, 2030.0, "target", 29.9 * 50 - 5),),
        policy="optimistic",
        trail=5.0,
        ambiguous=(True,),
    ),
    Case(  # the high is nearer the open (22 < 25): O→H→L→C meets the target first
        "trailed_stop_and_target_ohlc_path_takes_the_nearer_extreme",
        TRAILED_BOTH,
        TRAILED,
        ((2000.1, 2030.0, "target", 29.9 * 50 - 5),),
        policy="ohlc_path",
        trail=5.0,
        ambiguous=(True,),
    ),
    Case(  # the first minute falls to 1985 through the trailed 2001
        "trailed_stop_and_target_intraday_low_first_takes_stop",
        TRAILED_BOTH,
        TRAILED,
        ((2000.1, 2000.9, "stop", 0.8 * 50 - 5),),
        policy="intraday",
        intraday=((2010, 2012, 1985, 1990), (1990, 2032, 1989, 2030), (2030, 2031, 1999, 2000)),
        trail=5.0,
        ambiguous=(True,),
    ),
)

# Scale-out: long at market, 2000 + 0.1 slippage = 2000.1, stop 1990, targets 2015 and 2030 with equal shares;
# two contracts: one per leg. A leg's $ net is its own: points × $50 × its contracts − $5 per contract.
TWO_LEGS = {"targets": (2015.0, 2030.0), "shares": (1.0, 1.0), "config": {"contracts": 2}}
FIRST_THEN_SECOND = (FLAT_BAR, QUIET, (2008, 2018, 2005, 2012), (2012, 2032, 2010, 2028), FLAT_BAR)
# stop 1990 and both targets in one bar: the high is nearer the open (23 < 27), so O→H→L→C meets both targets
SAME_BAR = (FLAT_BAR, QUIET, (2012, 2035, 1985, 2000), FLAT_BAR)
BREAKEVEN = {**TWO_LEGS, "breakeven": 1}

SCALE_OUT_TABLE = (
    Case(
        "scale_out_first_target_then_second_each_its_own_fill",
        FIRST_THEN_SECOND,
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 2030.0, "target", 29.9 * 50 - 5)),
        legs=(1, 2),
        **TWO_LEGS,
    ),
    Case(  # the targets given farthest first: legs are numbered nearest first all the same
        "scale_out_legs_are_ordered_nearest_target_first",
        FIRST_THEN_SECOND,
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 2030.0, "target", 29.9 * 50 - 5)),
        legs=(1, 2),
        targets=(2030.0, 2015.0),
        shares=(1.0, 1.0),
        config={"contracts": 2},
    ),
    Case(  # 3 contracts 1:1 → 1.5 / 1.5: the leftover goes to the last target (2 × 29.9 × 50 − 2 × 5)
        "scale_out_three_contracts_leftover_to_the_last_target",
        FIRST_THEN_SECOND,
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 2030.0, "target", 2 * 29.9 * 50 - 10)),
        legs=(1, 2),
        targets=(2015.0, 2030.0),
        shares=(1.0, 1.0),
        config={"contracts": 3},
    ),
    Case(  # 1 contract 1:1 → 0.5 / 0.5, the tie to the last: the first leg has none and is dropped
        "scale_out_one_contract_is_one_target_at_the_last",
        FIRST_THEN_SECOND,
        LONG_MARKET,
        ((2000.1, 2030.0, "target", 29.9 * 50 - 5),),
        legs=(1,),
        targets=(2015.0, 2030.0),
        shares=(1.0, 1.0),
    ),
    Case(
        "scale_out_gap_through_both_targets_fills_both_at_open",
        (FLAT_BAR, QUIET, (2040, 2045, 2038, 2042)),
        LONG_MARKET,
        ((2000.1, 2040.0, "target", 39.9 * 50 - 5), (2000.1, 2040.0, "target", 39.9 * 50 - 5)),
        ambiguous=(False, False),
        **TWO_LEGS,
    ),
    Case(  # open 2020 is beyond 2015 (that leg fills at the open), the high 2035 trades through 2030
        "scale_out_gap_through_first_target_second_inside_the_bar",
        (FLAT_BAR, QUIET, (2020, 2035, 2018, 2030)),
        LONG_MARKET,
        ((2000.1, 2020.0, "target", 19.9 * 50 - 5), (2000.1, 2030.0, "target", 29.9 * 50 - 5)),
        ambiguous=(False, False),
        **TWO_LEGS,
    ),
    Case(
        "scale_out_gap_through_stop_closes_every_leg_at_open",
        (FLAT_BAR, (2000, 2005, 1995, 2002), (1985, 1988, 1980, 1984)),
        LONG_MARKET,
        ((2000.1, 1984.9, "stop", -15.2 * 50 - 5), (2000.1, 1984.9, "stop", -15.2 * 50 - 5)),
        legs=(1, 2),
        **TWO_LEGS,
    ),
    Case(  # short from 1999.9: 1985 at bar 2 (low 1983), then the stop 2010 + 0.1 at bar 3 (high 2012)
        "short_scale_out_first_target_then_stop",
        (FLAT_BAR, (2000, 2004, 1996, 2001), (1998, 1999, 1983, 1990), (1990, 2012, 1988, 2008)),
        (SHORT, ENTRY_MARKET, NAN, 2010.0, 1900.0),
        ((1999.9, 1985.0, "target", 14.9 * 50 - 5), (1999.9, 2010.1, "stop", -10.2 * 50 - 5)),
        targets=(1985.0, 1970.0),
        shares=(1.0, 1.0),
        config={"contracts": 2},
    ),
    Case(
        "scale_out_same_bar_pessimistic_stops_every_leg",
        SAME_BAR,
        LONG_MARKET,
        ((2000.1, 1989.9, "stop", -10.2 * 50 - 5), (2000.1, 1989.9, "stop", -10.2 * 50 - 5)),
        ambiguous=(True, True),
        **TWO_LEGS,
    ),
    Case(
        "scale_out_same_bar_optimistic_takes_both_targets",
        SAME_BAR,
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 2030.0, "target", 29.9 * 50 - 5)),
        policy="optimistic",
        ambiguous=(True, True),
        **TWO_LEGS,
    ),
    Case(
        "scale_out_same_bar_ohlc_path_high_first_takes_both_targets",
        SAME_BAR,
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 2030.0, "target", 29.9 * 50 - 5)),
        policy="ohlc_path",
        ambiguous=(True, True),
        **TWO_LEGS,
    ),
    Case(  # minute 1 reaches 2016 (the first target), minute 2 falls to 1985 (the stop takes the second leg)
        "scale_out_same_bar_intraday_first_target_then_stop",
        SAME_BAR,
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 1989.9, "stop", -10.2 * 50 - 5)),
        policy="intraday",
        intraday=((2012, 2016, 2008, 2014), (2014, 2014, 1985, 1990), (1990, 2035, 1989, 2000)),
        ambiguous=(True, True),
        **TWO_LEGS,
    ),
    # limit 2000 filled inside bar 1 (low 1999); its close 2008 proves 2006 came after the fill, the high 2032
    # may have come before: pessimistic holds the second leg to the end (close 2009), optimistic takes 2030
    Case(
        "scale_out_limit_entry_bar_close_proves_the_first_target_only",
        (FLAT_BAR, (2005, 2032, 1999, 2008), (2008, 2010, 2004, 2009)),
        (LONG, ENTRY_LIMIT, 2000.0, 1990.0, NAN),
        ((2000.0, 2006.0, "target", 6.0 * 50 - 5), (2000.0, 2009.0, "end", 9.0 * 50 - 5)),
        ambiguous=(False, False),
        targets=(2006.0, 2030.0),
        shares=(1.0, 1.0),
        config={"contracts": 2},
    ),
    Case(
        "scale_out_limit_entry_bar_optimistic_takes_the_unproven_target",
        (FLAT_BAR, (2005, 2032, 1999, 2008), (2008, 2010, 2004, 2009)),
        (LONG, ENTRY_LIMIT, 2000.0, 1990.0, NAN),
        ((2000.0, 2006.0, "target", 6.0 * 50 - 5), (2000.0, 2030.0, "target", 30.0 * 50 - 5)),
        policy="optimistic",
        ambiguous=(False, True),
        targets=(2006.0, 2030.0),
        shares=(1.0, 1.0),
        config={"contracts": 2},
    ),
    # contract change after bar 2: the first leg took 2015 on bar 2, the second leaves at bar 2's close − 0.1
    # (roll) and comes back on RTYM4 at 2025.1 for its target 2060
    Case(
        "scale_out_roll_closes_the_open_leg_and_reopens_it",
        (
            FLAT_BAR,
            (2000, 2005, 1995, 2004),
            (2004, 2018, 2001, 2010),
            (2025, 2030, 2020, 2028),
            (2030, 2065, 2028, 2060),
            FLAT_BAR,
        ),
        LONG_MARKET,
        (
            (2000.1, 2015.0, "target", 14.9 * 50 - 5),
            (2000.1, 2009.9, "roll", 9.8 * 50 - 5),
            (2025.1, 2060.0, "target", 34.9 * 50 - 5),
        ),
        legs=(1, 2, 2),
        contracts=("RTYH4",) * 3 + ("RTYM4",) * 3,
        targets=(2015.0, 2060.0),
        shares=(1.0, 1.0),
        config={"contracts": 2},
    ),
)

# Break-even after the first target (2015, on bar 2): the stop moves from 1990 to the entry 2000.1 at bar 2's
# close and works from bar 3.
BREAKEVEN_TABLE = (
    Case(  # bar 3's low 1999 takes the moved stop at 2000.1 − 0.1
        "breakeven_after_first_target_works_from_the_next_bar",
        (FLAT_BAR, QUIET, (2004, 2018, 2003, 2010), (2008, 2012, 1999, 2001), FLAT_BAR),
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 2000.0, "stop", -0.1 * 50 - 5)),
        **BREAKEVEN,
    ),
    Case(  # bar 2 also trades down to 1999, below the entry: the stop is still 1990 on that bar
        "breakeven_is_not_active_on_the_bar_of_the_target",
        (FLAT_BAR, QUIET, (2004, 2018, 1999, 2010), (2010, 2032, 2008, 2031), FLAT_BAR),
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 2030.0, "target", 29.9 * 50 - 5)),
        **BREAKEVEN,
    ),
    Case(  # the stop at entry + 2 ticks = 2000.3, filled at 2000.2: +0.1 point, $0 net
        "breakeven_with_two_ticks_in_profit",
        (FLAT_BAR, QUIET, (2004, 2018, 2003, 2010), (2008, 2012, 1999, 2001), FLAT_BAR),
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 2000.2, "stop", 0.1 * 50 - 5)),
        breakeven_offset=0.2,
        **BREAKEVEN,
    ),
    Case(  # bar 3 opens at 1995, below the break-even stop: filled at the open − 0.1
        "breakeven_stop_gapped_through_fills_at_open",
        (FLAT_BAR, QUIET, (2004, 2018, 2003, 2010), (1995, 1998, 1990, 1996), FLAT_BAR),
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 1994.9, "stop", -5.2 * 50 - 5)),
        **BREAKEVEN,
    ),
    Case(  # the minutes of bar 2 reach 2018 and then 1995: inside the bar the stop stays at 1990
        "breakeven_intraday_sub_bars_do_not_move_the_stop",
        (FLAT_BAR, QUIET, (2004, 2018, 1995, 2000), (2002, 2004, 1998, 2000)),
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 2000.0, "stop", -0.1 * 50 - 5)),
        policy="intraday",
        intraday=((2004, 2018, 2003, 2016), (2016, 2016, 1995, 1999), (1999, 2001, 1998, 2000)),
        ambiguous=(False, False),
        **BREAKEVEN,
    ),
    # short 1999.9, first target 1985 on bar 2; bar 3's high 2001 takes the stop moved to 1999.9 at 2000
    Case(
        "short_breakeven_moves_the_stop_down_to_the_entry",
        (FLAT_BAR, (2000, 2004, 1996, 2001), (1998, 1999, 1983, 1990), (1992, 2001, 1988, 1995), FLAT_BAR),
        (SHORT, ENTRY_MARKET, NAN, 2010.0, NAN),
        ((1999.9, 1985.0, "target", 14.9 * 50 - 5), (1999.9, 2000.0, "stop", -0.1 * 50 - 5)),
        targets=(1985.0, 1970.0),
        shares=(1.0, 1.0),
        breakeven=1,
        config={"contracts": 2},
    ),
    Case(  # the trailing stop (close − 5 = 2005 after bar 2) is tighter than break-even: it stays
        "breakeven_never_loosens_a_tighter_trailing_stop",
        (FLAT_BAR, QUIET, (2004, 2018, 2003, 2010), (2008, 2012, 2004, 2006), FLAT_BAR),
        LONG_MARKET,
        ((2000.1, 2015.0, "target", 14.9 * 50 - 5), (2000.1, 2004.9, "stop", 4.8 * 50 - 5)),
        trail=5.0,
        **BREAKEVEN,
    ),
)

# Long trades held over many bars, past several blocks of the exit scan (fills.SCAN_BLOCK bars): market entry
# at bar 1's open 2000 + 0.1, stop 1950, target 2100; the quiet bars span 1995-2008. Bar 100 reaches the
# target without trading through it and bar 140's low stays 0.05 above the stop: neither fills.
HELD = (2000.0, 2008.0, 1995.0, 2000.0)
HELD_PLAN = (LONG, ENTRY_MARKET, NAN, 1950.0, 2100.0)
HELD_BARS = (
    (FLAT_BAR,)
    + (HELD,) * 99
    + ((2000.0, 2100.0, 1995.0, 2050.0),)
    + (HELD,) * 39
    + ((2000.0, 2008.0, 1950.05, 2000.0),)
    + (HELD,) * 9
)
HELD_TABLE = (
    # bar 150 opens at 1940, below the stop: filled at the open − 0.1 = 1939.9 → −60.2 pt
    Case(
        "long_trade_held_over_blocks_exits_at_gapped_stop",
        (*HELD_BARS, (1940.0, 1946.0, 1932.0, 1944.0), (1944.0, 1950.0, 1940.0, 1945.0)),
        HELD_PLAN,
        ((2000.1, 1939.9, "stop", -60.2 * 50 - 5),),
    ),
    # the contract changes at bar 70: out at bar 69's close − 0.1, in again at bar 70's open + 0.1; bar 150
    # opens at 2110, above the target: filled at that open
    Case(
        "long_trade_held_over_blocks_rolls_then_gaps_through_target",
        (*HELD_BARS, (2110.0, 2115.0, 2105.0, 2112.0), (2112.0, 2114.0, 2108.0, 2110.0)),
        HELD_PLAN,
        ((2000.1, 1999.9, "roll", -0.2 * 50 - 5), (2000.1, 2110.0, "target", 109.9 * 50 - 5)),
        contracts=("RTYH4",) * 70 + ("RTYM4",) * 82,
    ),
)

TABLE = (
    *TRAIL_TABLE,
    *SCALE_OUT_TABLE,
    *BREAKEVEN_TABLE,
    *HELD_TABLE,
    # entry 2000 + 0.1 slippage; open 1985 is below the stop: fills at the open − 0.1 → −15.2 pt
    Case(
        "long_stop_gapped_through_fills_at_open",
        (FLAT_BAR, (2000, 2005, 1995, 2002), (1985, 1988, 1980, 1984)),
        LONG_MARKET,
        ((2000.1, 1984.9, "stop", -15.2 * 50 - 5),),
    ),
    Case(
        "short_stop_gapped_through_fills_at_open",
        (FLAT_BAR, (2000, 2004, 1996, 2001), (2015, 2020, 2012, 2018)),
        (SHORT, ENTRY_MARKET, NAN, 2010.0, 1970.0),
        ((1999.9, 2015.1, "stop", -15.2 * 50 - 5),),
    ),
    Case(
        "target_gapped_through_fills_at_better_open",
        (FLAT_BAR, QUIET, (2040, 2045, 2038, 2042)),
        LONG_MARKET,
        ((2000.1, 2040.0, "target", 39.9 * 50 - 5),),
    ),
    # vendor opens off the tick grid (Yahoo's float32 noise, index data in cents): a gap fill is a market
    # fill at the open, so it lands on the tick like every other open fill — 1985.03 − 0.1 → 1984.9
    Case(
        "long_stop_gapped_through_off_tick_open_fills_on_the_tick",
        (FLAT_BAR, (2000, 2005, 1995, 2002), (1985.0300244, 1988, 1980, 1984)),
        LONG_MARKET,
        ((2000.1, 1984.9, "stop", -15.2 * 50 - 5),),
    ),
    Case(
        "short_stop_gapped_through_off_tick_open_fills_on_the_tick",
        (FLAT_BAR, (2000, 2004, 1996, 2001), (2014.9699756, 2020, 2012, 2018)),
        (SHORT, ENTRY_MARKET, NAN, 2010.0, 1970.0),
        ((1999.9, 2015.1, "stop", -15.2 * 50 - 5),),
    ),
    Case(
        "target_gapped_through_off_tick_open_fills_on_the_tick",
        (FLAT_BAR, QUIET, (2040.0300244, 2045, 2038, 2042)),
        LONG_MARKET,
        ((2000.1, 2040.0, "target", 39.9 * 50 - 5),),
    ),
    Case(
        "both_touched_pessimistic_takes_stop",
        (FLAT_BAR, QUIET, BOTH),
        LONG_MARKET,
        ((2000.1, 1989.9, "stop", -10.2 * 50 - 5),),
        ambiguous=(True,),
    ),
    Case(
        "both_touched_optimistic_takes_target",
        (FLAT_BAR, QUIET, BOTH),
        LONG_MARKET,
        ((2000.1, 2030.0, "target", 29.9 * 50 - 5),),
        policy="optimistic",
        ambiguous=(True,),
    ),
    Case(
        "both_touched_ohlc_path_tie_takes_adverse_extreme_first",
        (FLAT_BAR, QUIET, BOTH),
        LONG_MARKET,
        ((2000.1, 1989.9, "stop", -10.2 * 50 - 5),),
        policy="ohlc_path",
        ambiguous=(True,),
    ),
    Case(
        "both_touched_ohlc_path_high_nearer_open_takes_target",
        (FLAT_BAR, QUIET, (2020, 2035, 1985, 2000)),
        LONG_MARKET,
        ((2000.1, 2030.0, "target", 29.9 * 50 - 5),),
        policy="ohlc_path",
        ambiguous=(True,),
    ),
    Case(
        "both_touched_ohlc_path_low_nearer_open_takes_stop",
        (FLAT_BAR, QUIET, (2000, 2035, 1985, 2000)),
        LONG_MARKET,
        ((2000.1, 1989.9, "stop", -10.2 * 50 - 5),),
        policy="ohlc_path",
        ambiguous=(True,),
    ),
    Case(
        "both_touched_intraday_high_first_takes_target",
        (FLAT_BAR, QUIET, BOTH, FLAT_BAR),
        LONG_MARKET,
        ((2000.1, 2030.0, "target", 29.9 * 50 - 5),),
        policy="intraday",
        intraday=HIGH_FIRST,
        ambiguous=(True,),
    ),
    Case(
        "both_touched_intraday_low_first_takes_stop",
        (FLAT_BAR, QUIET, BOTH, FLAT_BAR),
        LONG_MARKET,
        ((2000.1, 1989.9, "stop", -10.2 * 50 - 5),),
        policy="intraday",
        intraday=LOW_FIRST,
        ambiguous=(True,),
    ),
    # the case: a bar opening beyond the target fills the target at that open, not the stop
    Case(
        "both_touched_open_beyond_target_fills_target_at_open",
        (FLAT_BAR, QUIET, (2040, 2045, 1980, 1990)),
        LONG_MARKET,
        ((2000.1, 2040.0, "target", 39.9 * 50 - 5),),
        ambiguous=(False,),
    ),
    Case(
        "stop_breached_on_entry_bar",
        (FLAT_BAR, (2005, 2008, 1985, 1995)),
        (LONG, ENTRY_LIMIT, 2000, 1990, 2030),
        ((2000.0, 1989.9, "stop", -10.1 * 50 - 5),),
    ),
    Case(
        "limit_touched_not_penetrated_does_not_fill",
        (FLAT_BAR, (2005, 2008, 2000, 2004), (2004, 2006, 1999, 2003)),
        (LONG, ENTRY_LIMIT, 2000, 1990, 2030),
        (),
    ),
    # the high 2008 may have come before the fill at 2000; only a close beyond the target would prove it after
    Case(
        "limit_entry_bar_target_counts_only_after_fill",
        (FLAT_BAR, (2005, 2008, 1999, 2003), (2003, 2004, 2001, 2002)),
        (LONG, ENTRY_LIMIT, 2000, 1990, 2006),
        ((2000.0, 2002.0, "end", 2.0 * 50 - 5),),
    ),
    # the high 2035 may have come before the fill at 2000: pessimistic holds on, optimistic takes the target
    Case(
        "limit_entry_bar_high_before_fill_pessimistic_holds",
        (FLAT_BAR, (2005, 2035, 1995, 2010), (2010, 2012, 2008, 2010)),
        (LONG, ENTRY_LIMIT, 2000, 1990, 2030),
        ((2000.0, 2010.0, "end", 10.0 * 50 - 5),),
        ambiguous=(False,),
    ),
    Case(
        "limit_entry_bar_high_before_fill_optimistic_takes_target",
        (FLAT_BAR, (2005, 2035, 1995, 2010), (2010, 2012, 2008, 2010)),
        (LONG, ENTRY_LIMIT, 2000, 1990, 2030),
        ((2000.0, 2030.0, "target", 30.0 * 50 - 5),),
        policy="optimistic",
        ambiguous=(True,),
    ),
    # the 1-minute bars show the fill first (low 1995), then the rally through 2030
    Case(
        "limit_entry_bar_intraday_fill_then_target",
        (FLAT_BAR, (2004, 2008, 2002, 2006), (2005, 2035, 1995, 2010), FLAT_BAR),
        (LONG, ENTRY_LIMIT, 2000, 1990, 2030),
        ((2000.0, 2030.0, "target", 30.0 * 50 - 5),),
        policy="intraday",
        options={"entry_valid_bars": 2},
        intraday=((2005, 2006, 1995, 1999), (1999, 2035, 1998, 2031), (2031, 2032, 2009, 2010)),
        ambiguous=(True,),
    ),
    # 2003.5 − 13.37 = 1990.13 → a long's stop rounds down (away from the market) to 1990.1; fill 1990.0
    Case(
        "stop_of_13_37_points_rounds_to_tick",
        (FLAT_BAR, (2006, 2007, 2001, 2002), (1995, 1996, 1988, 1990)),
        (LONG, ENTRY_LIMIT, 2003.5, 2003.5 - 13.37, 2030),
        ((2003.5, 1990.0, "stop", -13.5 * 50 - 5),),
    ),
    # 3 contracts: gross −10.2 × 50 × 3 = −1530, commission 2 × 2.50 × 3 = 15, slippage 2 ticks × $5 × 3 = 30
    Case(
        "three_contracts_commission_and_slippage",
        (FLAT_BAR, (2000, 2005, 1995, 2002), (1995, 1996, 1985, 1988)),
        LONG_MARKET,
        ((2000.1, 1989.9, "stop", -1530.0 - 15.0),),
        config={"contracts": 3},
    ),
    Case(
        "entry_without_margin_is_rejected",
        (FLAT_BAR, QUIET, QUIET),
        LONG_MARKET,
        (),
        config={"cash": 7_000.0},
    ),
    # risk $2,000 / (13.3 pt × $50) = 3.0 → 3 contracts
    Case(
        "risk_based_size_three_contracts",
        (FLAT_BAR, (2005, 2008, 1999, 2001), (1995, 1996, 1980, 1985)),
        (LONG, ENTRY_LIMIT, 2000, 1986.7, 2030),
        ((2000.0, 1986.6, "stop", -13.4 * 150 - 15),),
        config={"risk_per_trade": 2_000.0},
    ),
    Case(
        "risk_budget_below_one_contract_is_skipped",
        (FLAT_BAR, QUIET, QUIET),
        (LONG, ENTRY_LIMIT, 2000, 1986.7, 2030),
        (),
        config={"risk_per_trade": 600.0},
    ),
    # exit H4 at bar 2's close − 0.1, re-enter M4 at bar 3's open + 0.1; the target stays 2060
    Case(
        "roll_closes_and_reopens_position",
        (
            FLAT_BAR,
            (2000, 2005, 1995, 2004),
            (2004, 2012, 2001, 2010),
            (2025, 2030, 2020, 2028),
            (2030, 2065, 2028, 2060),
            FLAT_BAR,
        ),
        (LONG, ENTRY_MARKET, NAN, 1990, 2060),
        ((2000.1, 2009.9, "roll", 9.8 * 50 - 5), (2025.1, 2060.0, "target", 34.9 * 50 - 5)),
        contracts=("RTYH4",) * 3 + ("RTYM4",) * 3,
    ),
    Case(
        "time_stop_exits_at_next_open",
        (FLAT_BAR, (2000, 2005, 1995, 2002), (2002, 2006, 1998, 2004), (2005, 2008, 2001, 2006), FLAT_BAR),
        LONG_MARKET,
        ((2000.1, 2004.9, "time", 4.8 * 50 - 5),),
        options={"max_hold": 2},
    ),
    Case(
        "close_beyond_invalidation_exits_at_next_open",
        (FLAT_BAR, (2000, 2004, 1996, 1998), (1998, 2008, 1997, 2006), (2007, 2009, 2003, 2004), FLAT_BAR),
        (SHORT, ENTRY_MARKET, NAN, 2030, 1970),
        ((1999.9, 2007.1, "invalidation", -7.2 * 50 - 5),),
        invalidation=2005.0,
    ),
    Case(
        "stop_entry_gapped_fills_at_worse_open",
        (FLAT_BAR, (1990, 1993, 1985, 1988), (1988, 1990, 1958, 1962)),
        (SHORT, ENTRY_STOP, 1995, 2010, 1960),
        ((1989.9, 1960.0, "target", 29.9 * 50 - 5),),
    ),
    Case(
        "open_position_closes_at_last_close",
        (FLAT_BAR, (2000, 2005, 1995, 2003)),
        LONG_MARKET,
        ((2000.1, 2003.0, "end", 2.9 * 50 - 5),),
    ),
    # limit 2000 filled at the better open 1995; stop/target keep their distances: 1985 / 2015
    Case(
        "anchored_bracket_measured_from_fill",
        (FLAT_BAR, (1995, 1999, 1992, 1996), (1996, 2016, 1994, 2010)),
        (LONG, ENTRY_LIMIT, 2000, 1990, 2020),
        ((1995.0, 2015.0, "target", 20.0 * 50 - 5),),
        options={"anchor_to_fill": True},
    ),
)


def _frame(case: Case) -> pd.DataFrame:
    index = pd.date_range("2024-01-02", periods=len(case.bars), freq="B", name="time")
    frame = pd.DataFrame(
        np.array(case.bars, dtype=float), columns=["open", "high", "low", "close"], index=index
    )
    frame["volume"] = 1.0
    if case.contracts is not None:
        frame["contract"] = list(case.contracts)
    return frame


def _plans(case: Case, n: int) -> Plans:
    plans = Plans.empty(n)
    direction, entry_type, entry_price, stop, target = case.plan
    plans.direction[0], plans.entry_type[0] = direction, entry_type
    plans.entry_price[0], plans.stop[0], plans.target[0] = entry_price, stop, target
    plans.invalidation[:] = case.invalidation
    if not math.isnan(case.trail):
        plans = plans._replace(trail=np.full(n, case.trail))
    if case.targets:
        plans = plans._replace(
            targets=np.tile(case.targets, (n, 1)),
            target_shares=case.shares,
            breakeven=case.breakeven,
            breakeven_offset=np.full(n, case.breakeven_offset),
        )
    return plans._replace(**case.options)


def _intraday(case: Case, frame: pd.DataFrame) -> pd.DataFrame | None:
    if case.intraday is None:
        return None
    # 1-minute bars of bar 2's session (08:30 Chicago on that date)
    start = pd.Timestamp(frame.index[2].date()).tz_localize("America/Chicago") + pd.Timedelta(
        hours=8, minutes=30
    )
    index = pd.date_range(start, periods=len(case.intraday), freq="min", name="time")
    return pd.DataFrame(
        np.array(case.intraday, dtype=float), columns=["open", "high", "low", "close"], index=index
    )


def _config(case: Case) -> RunConfig:
    return RunConfig(fill_policy=case.policy, **case.config)


def pure_trades(case: Case) -> tuple[pd.DataFrame, np.ndarray]:
    """Run the case through the compiled rules alone."""
    frame = _frame(case)
    config = _config(case)
    intraday = _intraday(case, frame)
    sub_bars = None if intraday is None else engine.sub_bars_for(frame, intraday)
    trades, events = fills.simulate_plans(
        frame, _plans(case, len(frame)), config.fill_settings(), config.cash, sub_bars=sub_bars
    )
    contract = frame["contract"].to_numpy(object) if case.contracts else "RTY"
    log = tradelog.trade_log(
        trades, frame.index, setup="case", multiplier=50.0, commission_per_side=2.5, contracts_traded=contract
    )
    return log, events


def backtrader_run(case: Case) -> SetupStrategy:
    """Run the case through a real backtrader run; return the finished strategy."""
    frame = _frame(case)
    plans = _plans(case, len(frame))
    strategy = type("Case", (SetupStrategy,), {"name": "case", "setup": staticmethod(lambda frame: plans)})
    strategy.indicators = None
    config = _config(case)
    intraday = _intraday(case, frame)
    sub_bars = None if intraday is None else engine.sub_bars_for(frame, intraday)
    return engine._run([strategy], frame, config, sub_bars, {"case": {}})[0]


def _check_expected(log: pd.DataFrame, case: Case) -> None:
    got = list(zip(log["entry_price"], log["exit_price"], log["exit_reason"], log["pnl_net"], strict=True))
    assert len(got) == len(case.expected)
    for (entry, exit_, reason, pnl), expected in zip(got, case.expected, strict=True):
        assert (entry, exit_, reason) == pytest.approx(expected[:3], abs=1e-9)
        assert pnl == pytest.approx(expected[3], abs=1e-6)
    if case.ambiguous is not None:
        assert tuple(log["ambiguous"]) == case.ambiguous
    if case.legs is not None:
        assert tuple(log["leg"]) == case.legs


@pytest.mark.parametrize("case", TABLE, ids=lambda case: case.name)
def test_fill_table_pure_rules(case: Case) -> None:
    log, _ = pure_trades(case)
    _check_expected(log, case)


@pytest.mark.parametrize("case", TABLE, ids=lambda case: case.name)
def test_fill_table_backtrader_books_same_prices_and_pnl(case: Case) -> None:
    strategy = backtrader_run(case)
    log = strategy.analyzers.trades.get_analysis()
    _check_expected(log, case)
    pd.testing.assert_frame_equal(log, pure_trades(case)[0])
    # backtrader executed exactly these prices; its own trade P&L (points × $50 × size − commission) agrees
    assert strategy.analyzers.trades.booked_prices == pytest.approx(list(log["exit_price"]), abs=1e-9)
    # (backtrader closes its trade when the position is flat: once for all the legs of a trade)
    own = np.array(strategy.analyzers.trades.backtrader_pnl).reshape(-1, 2)
    per_trade = log.groupby("trade_id")[["pnl_gross", "pnl_net"]].sum()
    np.testing.assert_allclose(own[:, 0], per_trade["pnl_gross"], atol=1e-6)
    np.testing.assert_allclose(own[:, 1], per_trade["pnl_net"], atol=1e-6)
    cash = _config(case).cash
    assert strategy.broker.getvalue() == pytest.approx(cash + log["pnl_net"].sum(), abs=0.005)


def test_margin_rejection_and_size_skip_are_reported() -> None:
    rejected = next(case for case in TABLE if case.name == "entry_without_margin_is_rejected")
    skipped = next(case for case in TABLE if case.name == "risk_budget_below_one_contract_is_skipped")
    assert pure_trades(rejected)[1].tolist() == [[1.0, fills.REJECTED, 1.0]]
    assert pure_trades(skipped)[1].tolist() == [[0.0, fills.SKIPPED, 0.0]]
    assert [event["event"] for event in backtrader_run(rejected).events] == ["rejected"]
    assert [event["event"] for event in backtrader_run(skipped).events] == ["skipped"]


def test_mae_mfe_and_r_multiples_of_crafted_trades() -> None:
    by_name = {case.name: case for case in TABLE}
    long_log, _ = pure_trades(by_name["long_stop_gapped_through_fills_at_open"])
    # entry 2000.1; bar 1 spans 1995–2005 (all after the open fill); the exit bar counts its open and fill
    row = long_log.iloc[0]
    assert (row.initial_risk_points, row.mae_points, row.mfe_points) == pytest.approx((10.1, 15.2, 4.9))
    assert (row.mae_r, row.r_multiple) == pytest.approx((15.2 / 10.1, -765.0 / (10.1 * 50)))
    short_log, _ = pure_trades(by_name["short_stop_gapped_through_fills_at_open"])
    row = short_log.iloc[0]  # short from 1999.9: best low 1996, worst the exit 2015.1; risk 2010 − 1999.9
    assert (row.initial_risk_points, row.mae_points, row.mfe_points) == pytest.approx((10.1, 15.2, 3.9))
    ambiguous_log, _ = pure_trades(by_name["both_touched_pessimistic_takes_stop"])
    row = ambiguous_log.iloc[0]  # bar 1 high 2006, exit bar open 2010 (its high is not counted), exit 1989.9
    assert (row.mae_points, row.mfe_points, row.mfe_r) == pytest.approx((10.2, 9.9, 9.9 / 10.1))
    assert (row.pnl_net_pessimistic, row.pnl_net_optimistic) == pytest.approx((-515.0, 1490.0))
    held_log, _ = pure_trades(by_name["long_trade_held_over_blocks_exits_at_gapped_stop"])
    row = held_log.iloc[0]  # worst: the exit 1939.9; best: bar 100's high 2100, 99.9 above the entry
    assert (row.mae_points, row.mfe_points) == pytest.approx((60.2, 99.9))


@pytest.mark.parametrize(
    ("price", "mode"),
    [(2003.5 - 13.37, "down"), (2003.5 - 13.37, "up"), (1990.0000000001, "up"), (2210.35, "nearest")],
)
def test_rounding_matches_contracts_round_to_tick(price: float, mode: str) -> None:
    settings = RunConfig().fill_settings()
    sign = {"down": -1.0, "up": 1.0, "nearest": 0.0}[mode]
    assert fills._round(price, settings, sign) == round_to_tick(price, 0.1, mode)
    assert _compiled_round(price, settings, sign) == round_to_tick(price, 0.1, mode)


@numba.njit
def _compiled_round(price: float, settings: np.ndarray, mode: float) -> float:
    return fills._round(price, settings, mode)


@pytest.mark.parametrize("tick", [0.1, 0.25, 0.01, 0.05, 0.005, 1.0, 0.2])
def test_interpreted_rounding_is_the_compiled_rounding(tick: float) -> None:
    # The backtrader strategy rounds with the interpreter, the kernel with numba (round(x, n) is numpy's
    # multiply-rint-divide in one, numba's port of it in the other): the same prices, bit for bit, on grid
    # prices, half ticks, vendor float noise a few ulps off the grid and arbitrary prices.
    rng = np.random.default_rng(int(tick * 1_000))
    grid = rng.integers(1, 500_000, 3_000) * tick
    prices = np.concatenate(
        [
            grid,
            grid + tick / 2,
            np.nextafter(grid, np.inf),
            np.nextafter(np.nextafter(grid, -np.inf), -np.inf),
            rng.uniform(1.0, 5_000.0, 3_000),
        ]
    )
    settings = fills.make_settings(
        policy="pessimistic", multiplier=50.0, tick_size=tick, slippage_ticks=0.0, commission_per_side=0.0,
        initial_margin=0.0, contracts=1, risk_per_trade=None,
    )  # fmt: skip
    for mode in (-1.0, 0.0, 1.0):
        interpreted = [fills._round(price, settings, mode) for price in prices]
        compiled = [_compiled_round(price, settings, mode) for price in prices]
        assert interpreted == compiled


def test_working_limit_order_expires_after_valid_bars() -> None:
    bars = (FLAT_BAR, (2005, 2008, 2001, 2004), (2004, 2006, 2001, 2003), (2003, 2004, 1999, 2002))
    plan = (LONG, ENTRY_LIMIT, 2000.0, 1990.0, 2030.0)
    two = Case("two_bars", bars, plan, (), options={"entry_valid_bars": 2})
    three = Case(
        "three_bars", bars, plan, ((2000.0, 2002.0, "end", 2.0 * 50 - 5),), options={"entry_valid_bars": 3}
    )
    _check_expected(pure_trades(two)[0], two)
    _check_expected(pure_trades(three)[0], three)


# Once per period. Period 0 = rows 0–1, period 1 = rows 2–5, period 2 = rows 6–8. Row 0 buys at market
# (stop 1,900, target 2,100). Row 2 asks for period 1's buy limit 1,990 while that trade is open, and bar 3
# trades through 1,990 (low 1,985) — but no order was working, so period 1 is not used. Bar 3 reaches the
# target (2,100); at its close the strategy is flat and row 3 places the limit: filled on bar 4 at 1,990,
# stopped on bar 5 at 1,950 − 0.1. Period 1 had its fill, so row 5's limit (1,950) is refused; row 6
# (period 2, limit 1,948) fills on bar 7 and runs to the end (close 1,960). With reentry row 5's limit is
# placed: filled on bar 6 at 1,950 (open 1,960, low 1,940), held to the end; row 6 comes while in a trade.
PERIOD_BARS = (
    FLAT_BAR,
    (2000, 2010, 1995, 2005),
    (2005, 2010, 1995, 2000),
    (2000, 2105, 1985, 2060),
    (1995, 1998, 1980, 1992),
    (1992, 1994, 1945, 1960),
    (1960, 1965, 1940, 1955),
    (1955, 1960, 1945, 1958),
    (1958, 1962, 1955, 1960),
)
PERIOD_ROWS = {  # row: (entry type, entry price, stop, target)
    0: (ENTRY_MARKET, NAN, 1900.0, 2100.0),
    2: (ENTRY_LIMIT, 1990.0, 1950.0, 2050.0),
    3: (ENTRY_LIMIT, 1990.0, 1950.0, 2050.0),
    5: (ENTRY_LIMIT, 1950.0, 1900.0, 2000.0),
    6: (ENTRY_LIMIT, 1948.0, 1900.0, 2000.0),
}


def _period_plans(reentry: bool) -> Plans:
    plans = Plans.empty(len(PERIOD_BARS))._replace(
        period=np.array([0, 0, 1, 1, 1, 1, 2, 2, 2]), reentry=reentry
    )
    for row, (entry_type, price, stop, target) in PERIOD_ROWS.items():
        plans.direction[row], plans.entry_type[row] = LONG, entry_type
        plans.entry_price[row], plans.stop[row], plans.target[row] = price, stop, target
    return plans


@pytest.mark.parametrize(
    ("reentry", "expected"),
    [
        (
            False,
            [(1, 2000.1, 3, 2100.0, "target"), (4, 1990.0, 5, 1949.9, "stop"), (7, 1948.0, 8, 1960.0, "end")],
        ),
        (
            True,
            [(1, 2000.1, 3, 2100.0, "target"), (4, 1990.0, 5, 1949.9, "stop"), (6, 1950.0, 8, 1960.0, "end")],
        ),
    ],
)
def test_a_period_is_used_by_a_filled_entry_not_by_a_signal_while_in_a_trade(
    reentry: bool, expected: list[tuple[int, float, int, float, str]]
) -> None:
    case = Case("periods", PERIOD_BARS, LONG_MARKET, ())
    frame, config = _frame(case), _config(case)
    plans = _period_plans(reentry)
    trades, _ = fills.simulate_plans(frame, plans, config.fill_settings(), config.cash)
    log = tradelog.trade_log(
        trades, frame.index, setup="periods", multiplier=50.0, commission_per_side=2.5, contracts_traded="RTY"
    )
    got = [
        (frame.index.get_loc(row.entry_time), row.entry_price, frame.index.get_loc(row.exit_time),
         row.exit_price, row.exit_reason)
        for row in log.itertuples()
    ]  # fmt: skip
    assert got == expected  # prices on the tick grid, rounded to its decimals
    strategy = type(
        "Periods", (SetupStrategy,), {"name": "periods", "setup": staticmethod(lambda frame: plans)}
    )
    strategy.indicators = None
    booked = engine._run([strategy], frame, config, None, {"periods": {}})[0].analyzers.trades.get_analysis()
    pd.testing.assert_frame_equal(booked.drop(columns="setup"), log.drop(columns="setup"))


COMPILED = fills.BarFunctions(fills.step, fills.arm, fills.scale_out)
INTERPRETED = fills.BarFunctions(fills.step.py_func, fills.arm.py_func, fills.scale_out.py_func)


def _bar_by_bar(
    bars: tuple[np.ndarray, ...],
    contract: np.ndarray,
    plans: Plans,
    sub: tuple,
    settings: np.ndarray,
    cash: float,
    machine: fills.BarFunctions = COMPILED,
) -> tuple[np.ndarray, np.ndarray]:
    """Run `plans` as the backtrader strategy does: every bar through step(), every flat signal row armed,
    with `machine`'s step, arm and scale_out (compiled, or as the interpreter runs them)."""
    open_, high, low, close = bars
    n = len(open_)
    periods, trails = fills.entry_periods(plans), fills.trail_points(plans)
    targets, shares, breakeven, breakeven_offset = fills.target_legs(plans)
    state, out = fills.new_state(), np.empty((fills.MAX_FILLS_PER_BAR, fills.FILL_FIELDS))
    sub_bars = fills.policy_sub_bars(settings, sub[:4])
    trades, events = [], []
    for i in range(n):
        roll_next = i + 1 < n and contract[i + 1] != contract[i]
        count = machine.step(
            state, i, open_[i], high[i], low[i], close[i], sub_bars, sub[4][i], sub[4][i + 1],
            plans.invalidation[i], trails[i] if len(trails) else NAN, fills.hold_clock(plans), roll_next,
            i == n - 1, cash, settings, out,
        )  # fmt: skip
        for record in out[:count]:
            if record[fills.F_KIND] == fills.EXIT:
                trades.append(record.copy())
                points = record[fills.F_DIRECTION] * (record[fills.F_PRICE] - record[fills.F_ENTRY_PRICE])
                cost = 2.0 * settings[fills.SET_COMMISSION]
                cash += (points * settings[fills.SET_MULTIPLIER] - cost) * record[fills.F_CONTRACTS]
            elif record[fills.F_KIND] == fills.REJECTED:
                events.append([i, fills.REJECTED, record[fills.F_CONTRACTS]])
        if state[fills.ST_PHASE] == fills.FLAT and plans.direction[i] != 0 and i + 1 < n:
            row = (
                plans.direction[i],
                plans.entry_type[i],
                plans.entry_price[i],
                plans.stop[i],
                plans.target[i],
            )
            scalars = (plans.entry_valid_bars, plans.anchor_to_fill, plans.max_hold)
            period = periods[i] if len(periods) else -1
            contracts = machine.arm(state, i, *row, close[i], *scalars, period, settings)
            if contracts == 0:
                events.append([i, fills.SKIPPED, 0.0])
            elif contracts > 0 and len(shares):
                offset = breakeven_offset[i] if len(breakeven_offset) else 0.0
                machine.scale_out(state, targets[i], shares, breakeven, offset, settings)
    return np.array(trades).reshape(-1, fills.FILL_FIELDS), np.array(events).reshape(-1, 3)


def _simulate(
    bars: tuple[np.ndarray, ...],
    contract: np.ndarray,
    plans: Plans,
    sub: tuple,
    settings: np.ndarray,
    cash: float,
    index: tuple[np.ndarray, np.ndarray] | None = None,
    offset: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Run fills.simulate; `index` (default: built on `bars`) may be of a longer series that `bars` are
    bars `offset` on of."""
    arguments = fills.plan_arguments(plans)  # the signal rows of the dense plans
    sub_bars = fills.policy_sub_bars(settings, sub[:4])
    index = fills.exit_index(*bars, contract) if index is None else index
    return fills.simulate(*bars, contract, index, offset, *arguments, sub_bars, sub[4], settings, cash)


def _plans_in(plans: Plans, window: slice) -> Plans:
    """Return the rows of `plans` in `window` (every per-row array sliced, the scalars kept)."""
    rows = {name: value[window] for name, value in plans._asdict().items() if isinstance(value, np.ndarray)}
    return plans._replace(**rows)


def _random_run(
    policy: str, options: dict, n: int, held: bool, seed: int
) -> tuple[tuple[np.ndarray, ...], np.ndarray, Plans, tuple]:
    """Random bars, contracts, plans and sub-bars: brackets near the market (many entries fill, many cannot),
    or with `held` wide brackets that stay open over many blocks of the exit scan, no invalidation level
    unless `options` give one, and a few closes beyond their bar's range (a walk along the bar visits them).
    Sub-bars reach beyond their bar (no skip may trust the bar's range there)."""
    rng = np.random.default_rng(seed)
    close = 2000.0 + np.cumsum(rng.normal(0.0, 6.0, n))
    open_ = np.r_[close[0], close[:-1]] + rng.normal(0.0, 3.0, n)
    high = np.maximum(open_, close) + rng.exponential(3.0, n)
    low = np.minimum(open_, close) - rng.exponential(3.0, n)
    if held:
        outside = rng.random(n) < 0.02
        close[outside] += rng.choice([-1.0, 1.0], outside.sum()) * (high - low)[outside]
    contract = np.repeat(np.arange(n // 300 + 1), 300)[:n].astype(np.int64)
    plans = Plans.empty(n)._replace(**options)
    rows = np.flatnonzero(rng.random(n) < 0.3)
    plans.direction[rows] = rng.choice([LONG, SHORT], len(rows))
    plans.entry_type[rows] = rng.choice([ENTRY_MARKET, ENTRY_LIMIT, ENTRY_STOP], len(rows))
    side = plans.direction[rows] * np.where(plans.entry_type[rows] == ENTRY_LIMIT, -1.0, 1.0)
    plans.entry_price[rows] = close[rows] + side * rng.uniform(0.0, 8.0, len(rows))
    reach = 8.0 if held else 1.0
    plans.stop[rows] = close[rows] - plans.direction[rows] * rng.uniform(5.0, 15.0, len(rows)) * reach
    plans.target[rows] = close[rows] + plans.direction[rows] * rng.uniform(5.0, 25.0, len(rows)) * reach
    if not held:
        plans.invalidation[:] = close - 12.0
    if plans.target_shares:
        legs = len(plans.target_shares)
        near = close[:, None] + plans.direction[:, None] * rng.uniform(2.0, 25.0, (n, legs)) * reach
        near[rng.random((n, legs)) < 0.1] = np.nan  # a leg without a target exits with the stop or in time
        plans = plans._replace(targets=near, breakeven_offset=rng.choice([0.0, 0.1, 1.0], n))
    empty = np.empty(0)
    sub = (empty, empty, empty, empty, np.zeros(n + 1, dtype=np.int64))
    if policy == "intraday":
        per_bar = rng.integers(0, 4, n)  # some bars have none; with `held` most have none
        if held:
            per_bar[rng.random(n) < 0.95] = 0
        owner = np.repeat(np.arange(n), per_bar)
        width = high[owner] - low[owner]
        sub_low = low[owner] - rng.uniform(-0.5, 0.5, len(owner)) * width
        sub_high = high[owner] + rng.uniform(-0.5, 0.5, len(owner)) * width
        sub_open, sub_close = (
            np.clip(open_[owner], sub_low, sub_high),
            np.clip(close[owner], sub_low, sub_high),
        )
        sub = (sub_open, sub_high, sub_low, sub_close, np.r_[0, np.cumsum(per_bar)].astype(np.int64))
    return (open_, high, low, close), contract, plans, sub


@pytest.mark.parametrize(
    ("policy", "options", "config"),
    [
        ("pessimistic", {}, {}),
        ("pessimistic", {"period": np.arange(1_500) // 25}, {}),
        ("optimistic", {"max_hold": 3, "period": np.arange(1_500) // 10}, {}),
        ("pessimistic", {"max_hold": 2, "clock": np.arange(1_500) // 7}, {}),
        ("ohlc_path", {"trail": np.full(1_500, 6.0)}, {}),
        ("ohlc_path", {"anchor_to_fill": True}, {}),
        ("pessimistic", {"entry_valid_bars": 2}, {}),
        ("pessimistic", {}, {"risk_per_trade": 600.0, "cash": 9_000.0}),
        ("intraday", {}, {}),
        # scale-out: three legs (the third has no target on some rows), break-even after the first
        ("pessimistic", {"target_shares": (1.0, 1.0, 2.0), "breakeven": 1}, {"contracts": 4}),
        ("optimistic", {"target_shares": (1.0, 2.0, 1.0), "breakeven": 2}, {"contracts": 3}),
        ("ohlc_path", {"target_shares": (1.0, 1.0), "trail": np.full(1_500, 6.0)}, {"contracts": 2}),
        ("intraday", {"target_shares": (1.0, 1.0, 1.0), "breakeven": 1}, {"contracts": 5}),
        ("pessimistic", {"target_shares": (1.0, 3.0), "anchor_to_fill": True}, {"risk_per_trade": 2_000.0}),
    ],
)
def test_simulate_skips_only_work_that_changes_nothing(policy: str, options: dict, config: dict) -> None:
    # simulate() jumps over flat bars and does not place orders that cannot fill on their bar; a plain loop
    # of step() and arm() over every bar must book the same fills, cash and events.
    bars, contract, plans, sub = _random_run(policy, options, 1_500, held=False, seed=7)
    run = RunConfig(fill_policy=policy, **config)
    trades, events = _simulate(bars, contract, plans, sub, run.fill_settings(), run.cash)
    expected_trades, expected_events = _bar_by_bar(bars, contract, plans, sub, run.fill_settings(), run.cash)
    assert len(trades) > 20
    np.testing.assert_array_equal(trades, expected_trades)
    np.testing.assert_array_equal(events, expected_events)
    # the interpreter running the same functions (the backtrader strategy's bar_functions) books the same
    interpreted = _bar_by_bar(bars, contract, plans, sub, run.fill_settings(), run.cash, INTERPRETED)
    np.testing.assert_array_equal(interpreted[0], trades)
    np.testing.assert_array_equal(interpreted[1], events)
    # without sub-bars, an empty sub_start is the same as zeros
    no_sub_start = (*sub[:4], np.empty(0, dtype=np.int64))
    if policy != "intraday":
        assert np.array_equal(
            _simulate(bars, contract, plans, no_sub_start, run.fill_settings(), run.cash)[0],
            trades,
            equal_nan=True,  # a leg without a target records a NaN target
        )


HELD_BARS_RUN = 6_000


@pytest.mark.parametrize(
    ("policy", "options", "config"),
    [
        ("pessimistic", {}, {}),
        ("optimistic", {"max_hold": 150}, {}),
        ("pessimistic", {"max_hold": 3, "clock": np.arange(HELD_BARS_RUN) // 50}, {}),
        ("pessimistic", {"invalidation": np.full(HELD_BARS_RUN, 1_950.0)}, {}),
        ("pessimistic", {"trail": np.where(np.arange(HELD_BARS_RUN) % 3 == 0, 40.0, np.nan)}, {}),
        ("ohlc_path", {}, {}),
        ("ohlc_path", {"trail": np.full(HELD_BARS_RUN, 45.0)}, {}),
        ("intraday", {"max_hold": 200}, {}),
        ("pessimistic", {"target_shares": (1.0, 1.0, 2.0), "breakeven": 1}, {"contracts": 4}),
        (
            "optimistic",
            {"target_shares": (1.0, 2.0), "breakeven": 1, "anchor_to_fill": True},
            {"contracts": 3},
        ),
        ("intraday", {"target_shares": (1.0, 1.0), "trail": np.full(HELD_BARS_RUN, 50.0)}, {"contracts": 2}),
    ],
)
def test_exit_scan_books_what_stepping_every_bar_books(policy: str, options: dict, config: dict) -> None:
    # Positions open over many blocks of the exit scan; simulate() calls step() only where it may act. A
    # plain loop of step() over every bar must book the same fills (MAE/MFE included), cash and events, on
    # the whole series and on a window of it that starts inside a block (the scan reads the blocks of the
    # whole series).
    bars, contract, plans, sub = _random_run(policy, options, HELD_BARS_RUN, held=True, seed=11)
    run = RunConfig(fill_policy=policy, **config)
    trades, events = _simulate(bars, contract, plans, sub, run.fill_settings(), run.cash)
    expected_trades, expected_events = _bar_by_bar(bars, contract, plans, sub, run.fill_settings(), run.cash)
    held = expected_trades[:, fills.F_BAR] - expected_trades[:, fills.F_ENTRY_BAR]
    assert len(expected_trades) > 20 and np.sum(held > fills.SCAN_BLOCK) >= 10
    np.testing.assert_array_equal(trades, expected_trades)
    np.testing.assert_array_equal(events, expected_events)
    interpreted = _bar_by_bar(bars, contract, plans, sub, run.fill_settings(), run.cash, INTERPRETED)
    np.testing.assert_array_equal(interpreted[0], trades)
    np.testing.assert_array_equal(interpreted[1], events)
    if policy == "intraday":
        return  # the sub-bars are numbered over the whole series
    window = slice(1_000 + fills.SCAN_BLOCK // 3, 5_000)
    part = (tuple(a[window] for a in bars), contract[window], _plans_in(plans, window))
    index = fills.exit_index(*bars, contract)
    trades, events = _simulate(*part, sub, run.fill_settings(), run.cash, index, window.start)
    expected_trades, expected_events = _bar_by_bar(*part, sub, run.fill_settings(), run.cash)
    assert len(expected_trades) > 10
    np.testing.assert_array_equal(trades, expected_trades)
    np.testing.assert_array_equal(events, expected_events)


# On an empty numba cache: a backtest of both setups on the sample, then step compiled as simulate calls it
# for the default policy. Prints how many functions each compiled, then the names the second compiled.
FIRST_RUNS = """
import numpy as np
from numba.core import event
from rtystrat.data.sample import load_sample
from rtystrat.execution import fills
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import run_backtest
from rtystrat.registry import get_strategy

compiled = []


class Compiles(event.Listener):
    def on_start(self, event):
        pass

    def on_end(self, event):
        compiled.append(event.data["dispatcher"].py_func.__name__)


event.register("numba:compile", Compiles())
setups = [get_strategy("bullish_reversal"), get_strategy("bearish_breakdown")]
result = run_backtest(setups, load_sample("daily"))
print(len(result.trades), len(compiled))
compiled.clear()
settings = RunConfig().fill_settings()
state, out = fills.new_state(), np.empty((fills.MAX_FILLS_PER_BAR, fills.FILL_FIELDS))
sub_bars, clock, price = fills.policy_sub_bars(settings), np.empty(0, dtype=np.int64), 1.0
fills.step(state, 0, price, price, price, price, sub_bars, 0, 0, np.nan, np.nan, clock, False, False, 1e6,
           settings, out)
print(len(compiled), *sorted(set(compiled)))
"""


def test_a_backtest_compiles_nothing_and_step_compiles_no_path_walk(tmp_path: Path) -> None:
    # A first backtest waited seconds for numba to compile the state machine it calls once per bar; the
    # interpreter runs it there (bar_functions). The kernel's step compiles for the default policy without
    # the walk along a bar's path (ohlc_path, intraday), which pessimistic and optimistic never take.
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", FIRST_RUNS], capture_output=True, text=True, check=True, env=env
    )
    backtest, step = (line.split() for line in proc.stdout.splitlines())
    assert int(backtest[0]) > 10 and backtest[1] == "0"
    assert int(step[0]) > 0 and {"step", "_bar", "_round"} <= set(step[1:]) and "_walk" not in step[1:]


def test_step_refuses_a_walking_policy_without_sub_bars() -> None:
    settings = RunConfig(fill_policy="ohlc_path").fill_settings()
    out = np.empty((fills.MAX_FILLS_PER_BAR, fills.FILL_FIELDS))
    state = fills.new_state()
    fills.arm(state, 0, LONG, ENTRY_MARKET, NAN, 1990.0, 2030.0, 2000.0, 1, False, 0, -1, settings)
    with pytest.raises(ValueError, match="pass sub_bars"):
        fills.step(
            state,
            1,
            *BOTH,
            None,
            0,
            0,
            NAN,
            NAN,
            np.empty(0, dtype=np.int64),
            False,
            False,
            1e6,
            settings,
            out,
        )


def test_compiled_scale_out_splits_as_the_documented_rule() -> None:
    # fills.scale_out (compiled, sorts the legs itself) against rtystrat.signals.targets.split_contracts
    # (plain Python, legs given nearest first): random contracts, shares and targets in any order.
    assert fills.MAX_LEGS == MAX_TARGETS
    rng = np.random.default_rng(3)
    for _ in range(300):
        legs = int(rng.integers(1, fills.MAX_LEGS + 1))
        contracts = int(rng.integers(1, 13))
        shares = rng.choice([0.5, 1.0, 2.0, 3.0], legs)
        targets = 2000.0 + rng.permutation(np.arange(1, legs + 1) * 7.3)
        settings = RunConfig(contracts=contracts).fill_settings()
        state = fills.new_state()
        assert (
            fills.arm(state, 0, LONG, ENTRY_MARKET, NAN, 1990.0, NAN, 2000.0, 1, False, 0, -1, settings) > 0
        )
        kept = fills.scale_out(state, targets, shares, 0, 0.0, settings)
        nearest_first = np.argsort(targets, kind="stable")
        expected = split_contracts(contracts, list(shares[nearest_first]))
        got = state[fills.ST_LEG_CONTRACTS : fills.ST_LEG_CONTRACTS + kept].tolist()
        assert got == [leg for leg in expected if leg > 0], (contracts, shares, targets)
        prices = state[fills.ST_LEG_TARGET : fills.ST_LEG_TARGET + kept].tolist()
        kept_targets = [
            round_to_tick(t, 0.1, "up")
            for t, n in zip(targets[nearest_first], expected, strict=True)
            if n > 0
        ]
        assert prices == kept_targets
