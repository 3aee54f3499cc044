"""Fill rules of a bracket order on bar data: one state machine for every execution path.

The backtrader strategy (:mod:`rtystrat.execution.strategy`) and the fast sweep kernel run the *same*
functions: the kernel compiled by numba, the strategy, which calls them once per bar, as the interpreter runs
them (:func:`bar_functions`); the parity tests hold the two to the same fills. Everything here is plain numpy
state; no backtrader.

Rules (what a backtest assumes)
-------------------------------
======================  =================================================================================
Entry, market           next bar's open + slippage.
Entry, limit            only when the bar trades *through* the limit (long: low < limit); fills at the
                        limit or at a better open. A limit merely touched (low == limit) does not fill:
                        at a touch the queue ahead of the order may have taken all the volume.
Entry, stop             when the bar reaches the stop price (long: high >= stop); fills at the stop or at a
                        worse open, + slippage.
Stop-loss               live from the entry bar on; triggers on a touch; fills at the stop or at a worse
                        open (gap), − slippage.
Target                  live from the entry bar on; a limit order, so it needs the bar to trade through it
                        (long: high > target); fills at the target or at a better open (gap), no slippage.
Both touched, one bar   ``fill_policy``: ``pessimistic`` the stop (default), ``optimistic`` the target,
                        ``ohlc_path`` walk O→H→L→C or O→L→H→C (nearer extreme first; a tie takes the
                        adverse extreme first), ``intraday`` walk the bar's lower-timeframe sub-bars, each
                        resolved pessimistically (limit/stop entries fill on the sub-bars; market entries and
                        next-open exits keep the bar's own open; a bar without sub-bars is pessimistic). A bar
                        that opens beyond stop or target is not ambiguous: the gap fills at the open.
Entry bar               entry filled at the open: the whole bar counts. Entry filled inside the bar: the
                        stop counts if the bar reached it (the low may have come after the fill); the
                        target counts only if the bar must have crossed it after the fill (a stop entry
                        runs toward the target; for a limit entry only a close beyond the target proves
                        it — ``optimistic`` takes the target if the bar reached it). ``ohlc_path`` places
                        the entry on its path instead.
Trailing stop           at each bar's close while the position is open (the entry bar's close included)
                        the stop moves to ``close − trail`` (short: ``+``), rounded away from the market,
                        when that is tighter; it never loosens. It works from the next bar: inside a bar the
                        stop is one fixed level, so the same-bar rules above apply to it unchanged (a gap
                        through it fills at the open; ``intraday`` sub-bars do not move it).
Scale-out               :func:`scale_out` splits the contracts over up to ``MAX_LEGS`` targets when the entry
                        is placed (largest remainder; a tie to the farther target; a leg of 0 is dropped).
                        Each leg's target is a target as above; legs exit nearest first, each its own
                        EXIT record (``F_LEG``, ``F_CONTRACTS`` the leg's). A gap beyond several targets
                        fills each at the open. Stop and a target in one bar: ``pessimistic`` the stop
                        closes every open leg, ``optimistic`` each target the bar may have reached fills
                        first and the stop takes the rest, ``ohlc_path``/``intraday`` in path order. The
                        stop, time stop, invalidation, roll and end close every open leg.
Break-even              after the k-th target filled, at that bar's close, the stop moves to the entry fill
                        ± offset (rounded away from the market) when tighter; it works from the next bar,
                        like the trailing stop (never inside the bar of the target).
Time stop               exit at the open of the first bar ``i`` with ``clock[i] − clock[entry bar] ≥
                        max_hold``, − slippage. The clock counts bars by default (``max_hold`` bars after
                        the entry bar); a session clock (each bar's session number: intraday bars traded
                        with session indicators) counts sessions, the entry's own session being the first —
                        a trade entered mid-session with ``max_hold`` 2 exits at the first open of the
                        second session after it. Decided at the close of the bar before, which knows the
                        next bar's session from its time as a roll knows the next contract.
Invalidation            after a close beyond the invalidation level (long: close < level): exit at the next
                        bar's open − slippage.
Roll                    position open when the ``contract`` column changes between bars t−1 and t: exit
                        at t−1's close − slippage (reason ``roll``), re-enter at t's open + slippage with the
                        same stop and target; both legs pay commission. A time stop or invalidation due
                        at t's open exits at t−1's close instead, with its own reason.
End of data             an open position exits at the last close, commission but no slippage (``end``).
Ticks                   limit/stop/target prices are rounded to the tick on the conservative side: entry
                        limits and stop entries away from the market, stop-losses away from the market
                        (long: down), targets away from the entry (long: up); opens round to nearest.
Costs                   slippage ``slippage_ticks`` ticks on market and stop fills (entries, stop-losses,
                        time/invalidation/roll exits), never on limits and targets; commission per
                        contract per side.
Margin                  a fill needs ``contracts × (initial_margin + commission_per_side)`` of free cash;
                        otherwise the entry is rejected (reported, not traded).
Once per period         a strategy arms no entry in a level period (``Plans.period`` of the row) in which
                        one of its entries already filled — stopped, at target or still open; an order that
                        was never placed (the strategy was in a trade) or never filled uses nothing.
                        ``Plans.reentry`` lifts the rule.
Size                    fixed ``contracts``, or ``floor(risk_per_trade / (|entry − stop| × multiplier))``
                        with the planned entry (the decision bar's close for a market entry); 0 → skipped.
======================  =================================================================================

``ambiguous`` marks an exit whose bar the OHLC alone cannot resolve: the pessimistic and optimistic answers
differ. Each exit also carries both answers' prices, so the trade log can show the P&L band
(``pnl_net_pessimistic`` / ``pnl_net_optimistic``). The band re-prices each trade's exit bar only; it does
not replay the trades that would have followed a different exit, nor re-price an answer that would have
kept the trade open (a limit entry's bar whose high may have preceded the fill).

MAE/MFE count each bar's range while the trade is live, except that the exit bar counts only its open and
the exit price, and an entry bar with a fill inside the bar counts its favourable side only as far as it must
have followed the fill, but its adverse extreme in full — as the stop check does (a stop entry's bar may have
made its adverse extreme before the fill).

Kernel-facing API
-----------------
All arrays are float64 unless noted; times are bar indices ``0 … n−1``.

``make_settings(policy=, multiplier=, tick_size=, slippage_ticks=, commission_per_side=, initial_margin=,
contracts=, risk_per_trade=)``
    Run constants as one vector, indices ``SET_*`` (``RunConfig.fill_settings()`` builds it).
``new_state()``
    One strategy's order/position state, indices ``ST_*``.
``arm(state, bar, direction, entry_type, entry_price, stop, target, reference_price, valid_bars,
anchor_to_fill, max_hold, period, settings) -> contracts``
    At the close of ``bar``, when ``state[ST_PHASE] == FLAT``: place the bracket working from ``bar + 1``.
    Returns the contracts (0: skipped, the risk budget buys no whole contract; −1: refused, `period` ≥ 0
    already had a filled entry; the state stays flat either way). `period` −1: no once-per-period rule.
``scale_out(state, targets, shares, breakeven, breakeven_offset, settings) -> legs``
    Right after an ``arm`` that returned contracts > 0: split them over `targets` (one per leg) in
    proportion to `shares`, with break-even after `breakeven` targets (0: never).
``step(state, bar, open, high, low, close, sub_bars, sub_first, sub_last, invalidation, trail, clock,
roll_next, is_last, cash, settings, out) -> count``
    Process one bar, writing ``count`` fill records to the rows of ``out`` (shape
    ``(MAX_FILLS_PER_BAR, FILL_FIELDS)``, columns ``F_*``, kinds ``ENTRY``/``EXIT``/``REJECTED``).
    ``sub_bars`` is None for a policy the bar's OHLC decides, else the sub-bars' ``(open, high, low,
    close)`` (``policy_sub_bars``), of which ``[sub_first:sub_last]`` are this bar's for ``intraday`` (none:
    pessimistic); ``invalidation`` the level in force on this bar (NaN: none); ``trail`` the trailing stop's
    distance in points at this bar's close (NaN: none); ``clock`` the time stop's int64 clock per bar (empty:
    bar numbers, see ``hold_clock``); ``roll_next`` whether the next bar is another contract; ``cash`` the
    account's free cash for the margin check.
``simulate(open, high, low, close, contract_id, index, offset, rows, direction, entry_type, entry_price,
stop, target, invalidation, period, trail, clock, targets, shares, breakeven, breakeven_offset, max_hold,
entry_valid_bars, anchor_to_fill, sub_bars, sub_start, settings, cash) -> (trades, events)``
    One strategy over a whole series, looping ``step`` and ``arm`` exactly as the backtrader strategy does
    (decide at each close while flat, never on the last bar; ``cash`` = starting cash + closed net P&L),
    skipping only bars on which they would do nothing.
    ``contract_id`` int64 (equal ids: same contract, see ``contract_ids``); ``index`` the series' blocks
    for the search of exits (``exit_index``, built once per series; the bars given are its bars ``offset``
    on, a window); ``sub_start`` int64 of length
    ``n + 1`` (sub-bars of bar ``i`` are ``sub_start[i]:sub_start[i+1]``), or empty without sub-bars;
    ``rows`` int64, the strictly increasing bars of the plan rows (the signal rows of sparse
    :class:`Plans`), whose ``direction``, ``entry_type`` (int64), ``entry_price``, ``stop``, ``target``,
    ``targets`` (rows × legs) and ``breakeven_offset`` have one entry per row; per bar: ``invalidation``
    (empty for none), ``period`` int64, the periods for the once-per-period rule, empty for none
    (``entry_periods``), ``trail`` the trailing distances, empty for none (``trail_points``), ``clock`` as for
    ``step``; ``shares`` and ``breakeven`` the scale-out, empty for none (``target_legs``).
    ``plan_arguments(plans, start, stop)`` builds ``rows`` to ``anchor_to_fill`` from Plans.
    ``trades``: the EXIT records in order; ``events``: rows ``(bar, kind, contracts)`` for REJECTED and
    SKIPPED entries. It is the one whole-series loop: the fast kernel calls it, and
    ``simulate_plans(bars, plans, settings, cash)`` calls it from a frame and Plans.

The trade log (one row per exit fill, with ``trade_id`` and ``leg``; $ amounts) is built from EXIT records by
:mod:`rtystrat.execution.tradelog`.

Every compiled function and every constant they read stays in this one module: numba's on-disk cache is
keyed on a function's own source file, so a compiled caller elsewhere would keep running a stale copy of
``step`` after this file changes (a kernel loop of its own once booked 1549.8000000000002 for 1549.8 that
way). Python code elsewhere may use the layout constants freely.
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numba
import numpy as np
import pandas as pd
from numba.extending import register_jitable

from rtystrat.choices import POLICIES
from rtystrat.signals.plans import ENTRY_LIMIT, ENTRY_MARKET, Plans

__all__ = [
    "EXIT_REASONS",
    "POLICIES",
    "BarFunctions",
    "arm",
    "bar_functions",
    "contract_ids",
    "entry_periods",
    "exit_index",
    "hold_clock",
    "make_settings",
    "new_state",
    "order_rows",
    "plan_arguments",
    "scale_out",
    "simulate",
    "simulate_plans",
    "step",
    "target_legs",
    "trail_points",
]

# The codes of the names of rtystrat.choices.POLICIES (their positions there, as make_settings writes them).
# Literal, not computed from that tuple: numba's cache is keyed on this file alone and would keep codes
# computed from another module stale; tests/test_config.py holds the two in step.
PESSIMISTIC, OPTIMISTIC, OHLC_PATH, INTRADAY = range(4)

EXIT_REASONS = ("", "target", "stop", "time", "invalidation", "roll", "end")
# floats, as the state and the fill records store them (compiled helpers then type one way, see below)
NO_EXIT, TARGET, STOP, TIME, INVALIDATION, ROLL, END = (float(code) for code in range(7))

# settings vector
SET_POLICY, SET_MULTIPLIER, SET_TICK, SET_DECIMALS, SET_SLIPPAGE_TICKS = range(5)
SET_COMMISSION, SET_MARGIN, SET_CONTRACTS, SET_RISK = range(5, 9)
SETTINGS_SIZE = 9

# Legs (scale-out targets) a position may have; rtystrat.signals.targets.MAX_TARGETS, kept here because
# compiled code reads it (a test holds the two equal).
MAX_LEGS = 4

# state vector
# ST_CONTRACTS: contracts still open (all legs); ST_REFERENCE: the price an anchored bracket is measured from
ST_PHASE, ST_DIRECTION, ST_ENTRY_TYPE, ST_ORDER_PRICE, ST_STOP, ST_LEGS = range(6)
ST_STOP_OFFSET, ST_REFERENCE, ST_EXPIRY, ST_CONTRACTS, ST_MAX_HOLD, ST_ENTRY_BAR = range(6, 12)
ST_LEG_BAR, ST_ENTRY_PRICE, ST_INITIAL_RISK, ST_BEST, ST_WORST, ST_PENDING, ST_ENTRY_SLIPPAGE = range(12, 19)
# the period of the working entry (-1: no once-per-period rule) and of the last entry that filled (NaN: none)
ST_PERIOD, ST_USED_PERIOD = range(19, 21)
# the next leg to exit (0-based), the targets after which the stop moves to break-even (0: never) and its
# offset in points, the entry fills so far (the trade id of the open position)
ST_LEG, ST_BREAKEVEN, ST_BREAKEVEN_OFFSET, ST_TRADE_ID = range(21, 25)
# per leg, nearest target first: target price, its distance from ST_REFERENCE (anchored), contracts
ST_LEG_TARGET = 25
ST_LEG_OFFSET = ST_LEG_TARGET + MAX_LEGS
ST_LEG_CONTRACTS = ST_LEG_OFFSET + MAX_LEGS
STATE_SIZE = ST_LEG_CONTRACTS + MAX_LEGS
FLAT, WORKING, POSITION, ROLLING = 0.0, 1.0, 2.0, 3.0

# fill records (F_CONTRACTS of an EXIT: its leg's contracts; F_LEG: 1 = the nearest target's leg)
F_KIND, F_BAR, F_PRICE, F_DIRECTION, F_CONTRACTS, F_REASON, F_ENTRY_BAR, F_ENTRY_PRICE = range(8)
F_INITIAL_RISK, F_MAE, F_MFE, F_AMBIGUOUS, F_PRICE_PESSIMISTIC, F_PRICE_OPTIMISTIC = range(8, 14)
F_SLIPPAGE, F_STOP, F_TARGET, F_TRADE_ID, F_LEG = range(14, 19)
FILL_FIELDS = 19
ENTRY, EXIT, REJECTED, SKIPPED = 1.0, 2.0, 3.0, 4.0
MAX_FILLS_PER_BAR = 2 + MAX_LEGS  # a roll's re-entry, the exits of every leg, and room for a rejection

# A price within a millionth of a tick of the grid is on it (as rtystrat.data.contracts.round_to_tick).
_TICK_EPSILON = 1e-6

# Bars per block of the exit scan's extremes (exit_index): a block the position provably sits through costs
# one comparison; a smaller block skips closer to the exit, a larger one skips a long trade in fewer steps.
SCAN_BLOCK = 64
# columns of exit_index's extremes: per block, max(open, high), min(open, low), max(close), min(close)
X_TOP, X_BOTTOM, X_CLOSE_TOP, X_CLOSE_BOTTOM = range(4)

# The helpers below are plain Python functions that compiled code may call (numba's register_jitable): numba
# compiles one into each compiled caller when that caller compiles, for the argument types it is given — one
# set each, as every caller passes the same types (the exit reasons are floats, as the state stores them) —
# and the interpreter runs them as they are (bar_functions). Explicit signatures compiled every helper when
# this module was imported, which a run that compiles nothing would pay for.


def make_settings(
    *,
    policy: str,
    multiplier: float,
    tick_size: float,
    slippage_ticks: float,
    commission_per_side: float,
    initial_margin: float,
    contracts: int,
    risk_per_trade: float | None,
) -> np.ndarray:
    """Return the run constants as the vector the compiled functions read (indices ``SET_*``)."""
    settings = np.zeros(SETTINGS_SIZE)
    settings[SET_POLICY] = POLICIES.index(policy)
    settings[SET_MULTIPLIER] = multiplier
    settings[SET_TICK] = tick_size
    # decimals of the tick (0.1 → 1, 0.25 → 2): rounded prices print clean (1989.6, not 1989.6000000000001)
    settings[SET_DECIMALS] = max(
        0, -int(decimal.Decimal(repr(float(tick_size))).normalize().as_tuple().exponent)
    )
    settings[SET_SLIPPAGE_TICKS] = slippage_ticks
    settings[SET_COMMISSION] = commission_per_side
    settings[SET_MARGIN] = initial_margin
    settings[SET_CONTRACTS] = contracts
    settings[SET_RISK] = np.nan if risk_per_trade is None else risk_per_trade
    return settings


def new_state() -> np.ndarray:
    """Return the state vector of a flat strategy with no working order."""
    state = np.full(STATE_SIZE, np.nan)
    state[ST_PHASE] = FLAT
    state[ST_PENDING] = NO_EXIT
    return state


@register_jitable
def _round(price: float, settings: np.ndarray, mode: float) -> float:
    """Round to the tick: mode > 0 up, < 0 down, 0 nearest (half up); NaN stays NaN."""
    if math.isnan(price):
        return price
    tick = settings[SET_TICK]
    ticks = price / tick
    if mode > 0:
        whole = math.ceil(ticks - _TICK_EPSILON)
    elif mode < 0:
        whole = math.floor(ticks + _TICK_EPSILON)
    else:
        whole = math.floor(ticks + 0.5 + _TICK_EPSILON)
    return round(whole * tick, int(settings[SET_DECIMALS]))


@numba.njit(cache=True)
def arm(
    state: np.ndarray,
    bar: int,
    direction: int,
    entry_type: int,
    entry_price: float,
    stop: float,
    target: float,
    reference_price: float,
    valid_bars: int,
    anchor_to_fill: bool,
    max_hold: int,
    period: int,
    settings: np.ndarray,
) -> int:
    """Place a bracket at the close of `bar` (state must be flat); return its contracts, 0 when skipped.

    Returns -1, placing nothing, when `period` (>= 0) already had an entry that filled: once per period.
    """
    if period >= 0 and period == state[ST_USED_PERIOD]:
        return -1
    d = 1.0 if direction > 0 else -1.0
    # conservative side: entry limits away from the market, stop entries past it, stops away, targets beyond
    if entry_type == ENTRY_MARKET:
        order_price = np.nan
        reference = _round(reference_price, settings, 0.0)
    else:
        order_price = _round(entry_price, settings, -d if entry_type == ENTRY_LIMIT else d)
        reference = order_price
    stop = _round(stop, settings, -d)
    target = _round(target, settings, d)
    anchor = reference if anchor_to_fill else np.nan
    risk = settings[SET_RISK]
    if math.isnan(risk):
        contracts = settings[SET_CONTRACTS]
    else:
        distance = abs(reference - stop)
        if math.isnan(distance) or distance <= 0.0:
            return 0
        contracts = math.floor(risk / (distance * settings[SET_MULTIPLIER]) + 1e-9)
    if contracts < 1:
        return 0
    state[ST_PHASE] = WORKING
    state[ST_DIRECTION] = d
    state[ST_ENTRY_TYPE] = entry_type
    state[ST_ORDER_PRICE] = order_price
    state[ST_STOP] = stop
    state[ST_REFERENCE] = anchor
    state[ST_STOP_OFFSET] = stop - anchor
    # one leg, the whole position at `target`; scale_out() may split it
    state[ST_LEGS], state[ST_LEG] = 1.0, 0.0
    state[ST_LEG_TARGET], state[ST_LEG_OFFSET] = target, target - anchor
    state[ST_LEG_CONTRACTS] = contracts
    state[ST_BREAKEVEN], state[ST_BREAKEVEN_OFFSET] = 0.0, 0.0
    state[ST_EXPIRY] = bar + (1 if entry_type == ENTRY_MARKET else max(valid_bars, 1))
    state[ST_CONTRACTS] = contracts
    state[ST_MAX_HOLD] = max_hold
    state[ST_PENDING] = NO_EXIT
    state[ST_ENTRY_BAR] = np.nan
    state[ST_PERIOD] = period
    return int(contracts)


@numba.njit(cache=True)
def scale_out(
    state: np.ndarray,
    targets: np.ndarray,
    shares: np.ndarray,
    breakeven: int,
    breakeven_offset: float,
    settings: np.ndarray,
) -> int:
    """Split the bracket :func:`arm` just placed over several targets; return the legs kept.

    `targets` (one per leg, NaN: none) are rounded as :func:`arm` rounds a target and ordered nearest first
    (ties keep their order); the contracts are split in proportion to `shares` by largest remainder, the
    leftover of a tie going to the later leg (:func:`rtystrat.signals.targets.split_contracts`); a leg
    that gets no contract is dropped. After `breakeven` targets have filled (0: never) the stop moves to
    the entry ± `breakeven_offset` points at that bar's close, working from the next bar.
    """
    d = state[ST_DIRECTION]
    k = len(shares)
    key = np.empty(k)
    order = np.arange(k)
    total = 0.0
    for i in range(k):
        rounded = _round(targets[i], settings, d)
        key[i] = np.inf if math.isnan(rounded) else d * rounded
        total += shares[i]
    for i in range(1, k):  # insertion sort: a handful of legs, stable
        j = i
        while j > 0 and key[order[j]] < key[order[j - 1]]:
            order[j], order[j - 1] = order[j - 1], order[j]
            j -= 1
    contracts = state[ST_CONTRACTS]
    legs = np.empty(k)
    fractions = np.empty(k)
    left = contracts
    for r in range(k):
        quota = contracts * shares[order[r]] / total
        legs[r] = math.floor(quota + 1e-9)  # 3 × (1/3) is 0.9999999999999999
        fractions[r] = round(quota - legs[r], 9)
        left -= legs[r]
    for _ in range(int(left)):
        best = -1
        for r in range(k):  # the largest remainder; `>=`: a tie goes to the later leg
            if fractions[r] >= 0.0 and (best < 0 or fractions[r] >= fractions[best]):
                best = r
        legs[best] += 1.0
        fractions[best] = -1.0
    kept = 0
    for r in range(k):
        if legs[r] > 0:
            target = _round(targets[order[r]], settings, d)
            state[ST_LEG_TARGET + kept] = target
            state[ST_LEG_OFFSET + kept] = target - state[ST_REFERENCE]
            state[ST_LEG_CONTRACTS + kept] = legs[r]
            kept += 1
    state[ST_LEGS] = kept
    state[ST_BREAKEVEN] = breakeven
    state[ST_BREAKEVEN_OFFSET] = breakeven_offset
    return kept


@register_jitable
def _record(
    out: np.ndarray, row: int, kind: float, bar: int, price: float, state: np.ndarray, reason: float
) -> int:
    """Write one fill record from the state into ``out[row]``; return the next free row."""
    out[row, :] = np.nan
    out[row, F_KIND] = kind
    out[row, F_BAR] = bar
    out[row, F_PRICE] = price
    out[row, F_DIRECTION] = state[ST_DIRECTION]
    out[row, F_CONTRACTS] = state[ST_CONTRACTS]
    out[row, F_REASON] = reason
    out[row, F_STOP] = state[ST_STOP]
    leg = int(state[ST_LEG])
    out[row, F_TARGET] = state[ST_LEG_TARGET + leg]
    out[row, F_AMBIGUOUS] = 0.0
    out[row, F_TRADE_ID] = state[ST_TRADE_ID]
    if kind == EXIT:
        d = state[ST_DIRECTION]
        out[row, F_CONTRACTS] = state[ST_LEG_CONTRACTS + leg]
        out[row, F_LEG] = leg + 1
        out[row, F_ENTRY_BAR] = state[ST_LEG_BAR]
        out[row, F_ENTRY_PRICE] = state[ST_ENTRY_PRICE]
        out[row, F_INITIAL_RISK] = state[ST_INITIAL_RISK]
        entry = d * state[ST_ENTRY_PRICE]
        out[row, F_MAE] = max(0.0, entry - state[ST_WORST])
        out[row, F_MFE] = max(0.0, state[ST_BEST] - entry)
        out[row, F_PRICE_PESSIMISTIC] = price
        out[row, F_PRICE_OPTIMISTIC] = price
        out[row, F_SLIPPAGE] = state[ST_ENTRY_SLIPPAGE]
    return row + 1


@register_jitable
def _open_leg(state: np.ndarray, bar: int, price: float, slippage: float) -> None:
    """Turn the state into an open position filled at `price` on `bar` (stop/target already set)."""
    d = state[ST_DIRECTION]
    state[ST_PHASE] = POSITION
    if math.isnan(state[ST_ENTRY_BAR]):
        state[ST_ENTRY_BAR] = bar
    state[ST_LEG_BAR] = bar
    state[ST_ENTRY_PRICE] = price
    state[ST_ENTRY_SLIPPAGE] = slippage
    state[ST_INITIAL_RISK] = abs(price - state[ST_STOP])
    state[ST_BEST] = d * price
    state[ST_WORST] = d * price
    state[ST_PENDING] = NO_EXIT
    # each entry fill starts a trade (a roll's re-entry too, as its exit ends one)
    state[ST_TRADE_ID] = 1.0 if math.isnan(state[ST_TRADE_ID]) else state[ST_TRADE_ID] + 1.0
    if state[ST_PERIOD] >= 0:
        state[ST_USED_PERIOD] = state[ST_PERIOD]  # the period has had its trade, however it ends


@register_jitable
def _close_leg(
    state: np.ndarray, out: np.ndarray, row: int, bar: int, price: float, reason: float, slippage: float
) -> int:
    """Record the exit of every open leg at `price` and make the state flat; return the next row.

    The legs stay as they were (a roll re-opens them).
    """
    d = state[ST_DIRECTION]
    state[ST_BEST] = max(state[ST_BEST], d * price)
    state[ST_WORST] = min(state[ST_WORST], d * price)
    state[ST_ENTRY_SLIPPAGE] += slippage
    first = state[ST_LEG]
    for leg in range(int(first), int(state[ST_LEGS])):
        state[ST_LEG] = leg
        row = _record(out, row, EXIT, bar, price, state, reason)
    state[ST_LEG] = first
    state[ST_PHASE] = FLAT
    return row


@register_jitable
def _leg_target(state: np.ndarray) -> float:
    """Return the target of the next leg to exit (NaN: none)."""
    return state[ST_LEG_TARGET + int(state[ST_LEG])]


@register_jitable
def _mark_ambiguous(out: np.ndarray, r: int, pessimistic: float, optimistic: float) -> None:
    """Flag exit record `r` as ambiguous with both answers' prices (NaN: that answer keeps the leg open)."""
    out[r, F_AMBIGUOUS] = 1.0
    if not math.isnan(pessimistic):  # an answer that keeps the leg open is not re-priced
        out[r, F_PRICE_PESSIMISTIC] = pessimistic
    if not math.isnan(optimistic):
        out[r, F_PRICE_OPTIMISTIC] = optimistic


@register_jitable
def _take_target(state: np.ndarray, out: np.ndarray, row: int, bar: int, price: float) -> int:
    """Record the exit of the next leg at its target (or a better open); flat after the last leg."""
    d = state[ST_DIRECTION]
    state[ST_BEST] = max(state[ST_BEST], d * price)
    state[ST_WORST] = min(state[ST_WORST], d * price)
    row = _record(out, row, EXIT, bar, price, state, TARGET)
    leg = int(state[ST_LEG])
    state[ST_CONTRACTS] -= state[ST_LEG_CONTRACTS + leg]
    state[ST_LEG] = leg + 1
    if leg + 1 >= state[ST_LEGS]:
        state[ST_PHASE] = FLAT
    return row


@register_jitable
def _bar(
    state: np.ndarray,
    bar: int,
    o: float,
    h: float,
    lo: float,
    c: float,
    monotonic: bool,
    optimistic: bool,
    cash: float,
    settings: np.ndarray,
    out: np.ndarray,
    row: int,
) -> int:
    """Resolve the working entry and the stop/target of one bar or one monotonic path segment.

    Prices are handled in the trade's direction (``x' = d·x``: a short's low is ``−high``), so one set of
    long-side rules serves both directions. Returns the next free row of `out`.
    """
    phase = state[ST_PHASE]
    if phase != WORKING and phase != POSITION:
        return row
    d = state[ST_DIRECTION]
    slip = settings[SET_SLIPPAGE_TICKS] * settings[SET_TICK]
    no = d * o
    nc = d * c
    nh = d * h if d > 0 else -lo
    nl = d * lo if d > 0 else -h
    # after the entry: the range that surely follows it (low/high_after) and the high that may (high_possible)
    start, low_after, high_after, high_possible = no, nl, nh, nh
    if phase == WORKING:
        entry_type = state[ST_ENTRY_TYPE]
        level = d * state[ST_ORDER_PRICE]
        if entry_type == ENTRY_MARKET:
            filled, market, at_open, slippage = True, no, True, slip
        elif entry_type == ENTRY_LIMIT:
            filled, market, at_open, slippage = nl < level, min(no, level), no < level, 0.0
        else:
            filled, market, at_open, slippage = nh >= level, max(no, level), no >= level, slip
        if not filled:
            return row
        contracts = state[ST_CONTRACTS]
        if contracts * (settings[SET_MARGIN] + settings[SET_COMMISSION]) > cash:
            row = _record(out, row, REJECTED, bar, d * market, state, NO_EXIT)
            state[ST_PHASE] = FLAT
            return row
        price = _round(d * (market + slippage), settings, 0.0)
        if not math.isnan(state[ST_STOP_OFFSET]):
            state[ST_STOP] = _round(price + state[ST_STOP_OFFSET], settings, -d)
        for leg in range(int(state[ST_LEGS])):
            if not math.isnan(state[ST_LEG_OFFSET + leg]):
                state[ST_LEG_TARGET + leg] = _round(price + state[ST_LEG_OFFSET + leg], settings, d)
        _open_leg(state, bar, price, slippage)
        row = _record(out, row, ENTRY, bar, price, state, NO_EXIT)
        start = market
        if monotonic:
            # the rest of a path segment runs from the fill to the segment's end
            low_after, high_after = min(market, nc), max(market, nc)
            high_possible = high_after
        elif not at_open and entry_type == ENTRY_LIMIT:
            # price fell to the limit: the low followed the fill, the high may have preceded it
            high_after = nc
    stop = d * state[ST_STOP]
    state[ST_BEST] = max(state[ST_BEST], start)
    state[ST_WORST] = min(state[ST_WORST], start)
    # A gap fills at the open as a market order would, on the tick grid (vendor opens may be off it).
    if start <= stop:
        # gapped through (or born beyond) the stop: every leg left
        return _close_leg(state, out, row, bar, _round(d * (start - slip), settings, 0.0), STOP, slip)
    while state[ST_PHASE] == POSITION and start > d * _leg_target(state):
        row = _take_target(state, out, row, bar, _round(d * start, settings, 0.0))  # gapped through it
    if state[ST_PHASE] != POSITION:
        return row
    stopped = d * (stop - slip)
    if low_after <= stop:
        # the stop takes every leg left; a leg whose target the bar may have reached first is ambiguous
        if optimistic:
            while state[ST_PHASE] == POSITION and high_possible > d * _leg_target(state):
                target = _leg_target(state)
                row = _take_target(state, out, row, bar, target)
                _mark_ambiguous(out, row - 1, stopped, target)
            if state[ST_PHASE] == POSITION:
                row = _close_leg(state, out, row, bar, stopped, STOP, slip)
        else:
            first = row
            row = _close_leg(state, out, row, bar, stopped, STOP, slip)
            for r in range(first, row):
                if high_possible > d * out[r, F_TARGET]:
                    _mark_ambiguous(out, r, stopped, out[r, F_TARGET])
        return row
    while state[ST_PHASE] == POSITION and high_after > d * _leg_target(state):
        row = _take_target(state, out, row, bar, _leg_target(state))
    while optimistic and state[ST_PHASE] == POSITION and high_possible > d * _leg_target(state):
        # the target may have traded before the limit filled; the pessimistic answer keeps the leg open
        target = _leg_target(state)
        row = _take_target(state, out, row, bar, target)
        _mark_ambiguous(out, row - 1, np.nan, target)
    if state[ST_PHASE] == POSITION:
        state[ST_BEST] = max(state[ST_BEST], high_after)
        state[ST_WORST] = min(state[ST_WORST], low_after)
    return row


@register_jitable
def _leg_price(out: np.ndarray, first: int, last: int, leg: float) -> float:
    """Return the exit price of `leg` among the records ``out[first:last]``, or NaN (it stays open)."""
    for r in range(first, last):
        if out[r, F_KIND] == EXIT and out[r, F_LEG] == leg:
            return out[r, F_PRICE]
    return np.nan


@register_jitable
def _walk(
    state: np.ndarray,
    bar: int,
    o: float,
    h: float,
    lo: float,
    c: float,
    sub_bars: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    sub_first: int,
    sub_last: int,
    cash: float,
    settings: np.ndarray,
    out: np.ndarray,
    row: int,
) -> int:
    """Resolve a bar along a path (``ohlc_path``) or its sub-bars (``intraday``), flagging ambiguity.

    The bar-level pessimistic and optimistic answers are computed on copies of the state: where they differ
    for a leg, its exit is ambiguous and carries both prices.
    """
    half = MAX_FILLS_PER_BAR
    scratch = np.empty((2 * half, FILL_FIELDS))  # the pessimistic answer's records, then the optimistic's
    end_pessimistic = _bar(state.copy(), bar, o, h, lo, c, False, False, cash, settings, scratch, 0)
    end_optimistic = _bar(state.copy(), bar, o, h, lo, c, False, True, cash, settings, scratch, half)

    first = row
    if settings[SET_POLICY] == OHLC_PATH or sub_last <= sub_first:
        d = state[ST_DIRECTION]
        if settings[SET_POLICY] != OHLC_PATH:
            row = _bar(state, bar, o, h, lo, c, False, False, cash, settings, out, row)
        else:
            up_first = (h - o) < (o - lo) or ((h - o) == (o - lo) and d < 0)
            x1, x2 = (h, lo) if up_first else (lo, h)
            for a, b in ((o, x1), (x1, x2), (x2, c)):
                row = _bar(state, bar, a, max(a, b), min(a, b), b, True, False, cash, settings, out, row)
    else:
        sub_open, sub_high, sub_low, sub_close = sub_bars
        if state[ST_PHASE] == WORKING and state[ST_ENTRY_TYPE] == ENTRY_MARKET:
            # "at the open" means the bar's own open, as for time stops and rolls
            row = _bar(state, bar, o, o, o, o, True, False, cash, settings, out, row)
        for k in range(sub_first, sub_last):
            row = _bar(
                state,
                bar,
                sub_open[k],
                sub_high[k],
                sub_low[k],
                sub_close[k],
                False,
                False,
                cash,
                settings,
                out,
                row,
            )
    for r in range(first, row):
        if out[r, F_KIND] != EXIT:
            continue
        price_pessimistic = _leg_price(scratch, 0, end_pessimistic, out[r, F_LEG])
        price_optimistic = _leg_price(scratch, half, end_optimistic, out[r, F_LEG])
        if price_pessimistic != price_optimistic and not (
            math.isnan(price_pessimistic) and math.isnan(price_optimistic)
        ):
            _mark_ambiguous(out, r, price_pessimistic, price_optimistic)
    return row


@register_jitable
def _trail(state: np.ndarray, close: float, trail: float, settings: np.ndarray) -> None:
    """Move the stop of an open position to `close` − `trail` (short: +), rounded away from the market, when
    that is tighter: the trailing stop at a bar's close (NaN `trail`: none). It never loosens; the bar's
    fills used the old stop."""
    if math.isnan(trail):
        return
    d = state[ST_DIRECTION]
    trailed = _round(close - d * trail, settings, -d)
    if math.isnan(state[ST_STOP]) or d * trailed > d * state[ST_STOP]:
        state[ST_STOP] = trailed


@register_jitable
def _elapsed(clock: np.ndarray, since: float, bar: int) -> float:
    """Return the time stop's clock ticks from bar `since` to bar `bar`; an empty `clock` counts bars."""
    if len(clock) == 0:
        return bar - since
    return clock[bar] - clock[int(since)]


@numba.njit(cache=True)
def step(
    state: np.ndarray,
    bar: int,
    o: float,
    h: float,
    lo: float,
    c: float,
    sub_bars: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None,
    sub_first: int,
    sub_last: int,
    invalidation: float,
    trail: float,
    clock: np.ndarray,
    roll_next: bool,
    is_last: bool,
    cash: float,
    settings: np.ndarray,
    out: np.ndarray,
) -> int:
    """Process bar `bar` for one strategy; write its fills to `out` and return how many (see module doc)."""
    row = 0
    d = state[ST_DIRECTION]
    slip = settings[SET_SLIPPAGE_TICKS] * settings[SET_TICK]
    if state[ST_PHASE] == POSITION and state[ST_PENDING] != NO_EXIT:
        # time stop / invalidation decided at the previous close: market exit at this open
        price = _round(o - d * slip, settings, 0.0)
        return _close_leg(state, out, row, bar, price, state[ST_PENDING], slip)
    if state[ST_PHASE] == ROLLING:
        price = _round(o + d * slip, settings, 0.0)
        _open_leg(state, bar, price, slip)
        row = _record(out, row, ENTRY, bar, price, state, ROLL)
    if state[ST_PHASE] == WORKING or state[ST_PHASE] == POSITION:
        policy = settings[SET_POLICY]
        # `sub_bars is None` is decided by its type when numba compiles: a run of a policy that needs no walk
        # compiles no _walk (most of a first run's compile time).
        if sub_bars is None and policy > OPTIMISTIC:
            raise ValueError("the fill policy walks each bar: pass sub_bars (see policy_sub_bars)")
        if sub_bars is None or policy <= OPTIMISTIC:  # PESSIMISTIC or OPTIMISTIC: the bar's OHLC decides
            row = _bar(state, bar, o, h, lo, c, False, policy == OPTIMISTIC, cash, settings, out, row)
        else:
            row = _walk(state, bar, o, h, lo, c, sub_bars, sub_first, sub_last, cash, settings, out, row)
    if state[ST_PHASE] == POSITION:
        if is_last:
            return _close_leg(state, out, row, bar, _round(c, settings, 0.0), END, 0.0)
        if state[ST_MAX_HOLD] > 0 and _elapsed(clock, state[ST_ENTRY_BAR], bar + 1) >= state[ST_MAX_HOLD]:
            state[ST_PENDING] = TIME
        elif d * c < d * invalidation:
            state[ST_PENDING] = INVALIDATION
        _trail(state, c, trail, settings)
        if state[ST_BREAKEVEN] > 0 and state[ST_LEG] >= state[ST_BREAKEVEN]:
            # break-even once the k-th target has filled, from the next bar on, only when tighter
            even = _round(state[ST_ENTRY_PRICE] + d * state[ST_BREAKEVEN_OFFSET], settings, -d)
            if math.isnan(state[ST_STOP]) or d * even > d * state[ST_STOP]:
                state[ST_STOP] = even
        if roll_next:
            price = _round(c - d * slip, settings, 0.0)
            reason = state[ST_PENDING] if state[ST_PENDING] != NO_EXIT else ROLL
            row = _close_leg(state, out, row, bar, price, reason, slip)
            if reason == ROLL:
                state[ST_PHASE] = ROLLING
    elif state[ST_PHASE] == WORKING and (is_last or bar >= state[ST_EXPIRY]):
        state[ST_PHASE] = FLAT  # the entry order expired unfilled
    return row


@numba.njit(cache=True)
def _cannot_fill(direction: int, entry_type: int, price: float, high: float, low: float, tick: float) -> bool:
    """Whether a limit or stop entry order at `price` provably does not fill on a bar spanning `low`..`high`.

    A long limit fills only below its price, a long stop only at or above it (a short: mirrored). The order
    is rounded to the tick before it works, which moves it by at most a millionth of a tick toward the
    bar, so a whole tick of margin makes the answer exact whatever the rounding.
    """
    if entry_type == ENTRY_MARKET or math.isnan(price):
        return False
    if entry_type == ENTRY_LIMIT:
        return low >= price + tick if direction > 0 else high <= price - tick
    return high < price - tick if direction > 0 else low > price + tick


@numba.njit(cache=True)
def _next_entry(
    rows: np.ndarray,
    direction: np.ndarray,
    entry_type: np.ndarray,
    entry_price: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    period: np.ndarray,
    used: float,
    sub_start: np.ndarray,
    skip: bool,
    settings: np.ndarray,
    start: int,
) -> int:
    """Return the first plan row from row `start` on (a position in `rows`) that places an order,
    ``len(rows)`` when none does.

    A row places none without a signal, on the last bar, in the period `used` that already had its filled
    entry (when `period` is not empty), or — with `skip` — when its order provably cannot fill on the next
    bar and no sub-bars of that bar decide the fill. A tight loop of its own: scanned inside
    :func:`simulate`'s loop it ran several times slower.
    """
    n = len(high)
    sub_bars_decide = len(sub_start) > 0 and settings[SET_POLICY] == INTRADAY
    tick = settings[SET_TICK]
    once = len(period) > 0
    for j in range(start, len(rows)):
        i = rows[j]
        if i >= n - 1:
            break  # rows increase: no later row is before the last bar either
        if direction[j] == 0 or (once and period[i] == used):
            continue
        if (
            skip
            and not (sub_bars_decide and sub_start[i + 2] > sub_start[i + 1])
            and _cannot_fill(direction[j], entry_type[j], entry_price[j], high[i + 1], low[i + 1], tick)
        ):
            continue
        return j
    return len(rows)


@numba.njit(cache=True)
def order_rows(
    rows: np.ndarray,
    direction: np.ndarray,
    entry_type: np.ndarray,
    entry_price: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    sub_start: np.ndarray,
    skip: bool,
    settings: np.ndarray,
) -> np.ndarray:
    """Return the positions in `rows` of the plan rows :func:`_next_entry` may return whatever the state.

    The others never place an order (no signal, the last bar, or, with `skip`, an order that provably
    cannot fill), so :func:`simulate` runs the same without them.
    """
    positions = np.empty(len(rows), dtype=np.int64)
    no_periods = np.empty(0, dtype=np.int64)
    count = 0
    j = _next_entry(rows, direction, entry_type, entry_price, high, low, no_periods, np.nan, sub_start, skip,
                    settings, 0)  # fmt: skip
    while j < len(rows):
        positions[count] = j
        count += 1
        j = _next_entry(rows, direction, entry_type, entry_price, high, low, no_periods, np.nan, sub_start,
                        skip, settings, j + 1)  # fmt: skip
    return positions[:count].copy()


@numba.njit(cache=True)
def _quiet_closes(
    close: np.ndarray,
    invalidation: np.ndarray,
    clock: np.ndarray,
    d: float,
    entry_bar: float,
    max_hold: float,
    first: int,
    last: int,
) -> bool:
    """Return whether no bar of ``first … last − 1`` closes beyond its invalidation level (NaN or an empty
    `invalidation`: none) and no time stop falls due at its close (`max_hold` 0: none): :func:`step`'s tests
    at a close."""
    if len(invalidation) > 0:
        for k in range(first, last):
            if d * close[k] < d * invalidation[k]:
                return False
    if max_hold <= 0:
        return True
    if len(clock) == 0:  # counted in bars: due inside the run only if due at its last close
        return _elapsed(clock, entry_bar, last) < max_hold
    for k in range(first, last):  # noqa: SIM110 (all() of a generator would not compile here)
        if _elapsed(clock, entry_bar, k + 1) >= max_hold:
            return False
    return True


@numba.njit(cache=True)
def _next_exit(
    state: np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    invalidation: np.ndarray,
    trail: np.ndarray,
    clock: np.ndarray,
    index: tuple[np.ndarray, np.ndarray],
    offset: int,
    sub_start: np.ndarray,
    settings: np.ndarray,
    start: int,
) -> int:
    """Return the first bar from `start` on on which :func:`step` could do anything to the open position.

    Called while a position is open with no exit pending. A bar passes when its range (``ohlc_path``: and
    its close, which the path visits) stays a whole tick clear of the stop and of the next leg's target, no
    time stop falls due at its close, its close is not beyond `invalidation`, no sub-bars of it decide the
    fill (``intraday``: sub-bars may reach beyond their bar), it is not the last bar and the contract does
    not change after it. On such a bar step books nothing; what it would still do is done here, as step does
    it: the bar's range widens the trade's best and worst prices (MAE/MFE) and the trailing stop moves at its
    close (:func:`_trail`). Break-even needs no bar: it is set on the bar of its target, which step handles,
    and never moves the stop again. The last bar is always returned (at the latest ``len(open_) − 1``).

    Without a trailing stop (which may move at every close) a run of :data:`SCAN_BLOCK` bars aligned on
    the blocks of `index` (:func:`exit_index` of the whole series; bar 0 here is bar `offset` there) passes
    at once when its extremes stay clear and :func:`_quiet_closes` finds no close that acts. An empty
    `invalidation` has no level (it is never read).
    """
    n = len(open_)
    extremes, rolls = index
    d = state[ST_DIRECTION]
    tick = settings[SET_TICK]
    path = settings[SET_POLICY] == OHLC_PATH
    sub_bars_decide = len(sub_start) > 0 and settings[SET_POLICY] == INTRADAY
    trails = len(trail) > 0
    entry_bar, max_hold = state[ST_ENTRY_BAR], state[ST_MAX_HOLD]
    end = n - 1
    roll = np.searchsorted(rolls, start + offset)
    if roll < len(rolls):
        end = min(end, rolls[roll] - offset)  # the bar before the next roll
    # levels in the trade's direction, a tick closer; NaN (none) compares False, as in step
    stop = d * state[ST_STOP] + tick
    target = d * _leg_target(state) - tick
    best, worst = state[ST_BEST], state[ST_WORST]
    k = start
    while k < end:
        if (
            not trails
            and (k + offset) % SCAN_BLOCK == 0
            and k + SCAN_BLOCK <= end
            and not (sub_bars_decide and sub_start[k + SCAN_BLOCK] > sub_start[k])
        ):
            block = extremes[(k + offset) // SCAN_BLOCK]
            top, bottom = block[X_TOP], block[X_BOTTOM]
            if path:
                top, bottom = max(top, block[X_CLOSE_TOP]), min(bottom, block[X_CLOSE_BOTTOM])
            favourable, adverse = (top, bottom) if d > 0 else (-bottom, -top)
            if not (adverse <= stop or favourable >= target) and _quiet_closes(
                close, invalidation, clock, d, entry_bar, max_hold, k, k + SCAN_BLOCK
            ):
                best, worst = max(best, favourable), min(worst, adverse)
                k += SCAN_BLOCK
                continue
        top, bottom = max(open_[k], high[k]), min(open_[k], low[k])
        if path:
            top, bottom = max(top, close[k]), min(bottom, close[k])
        favourable, adverse = (top, bottom) if d > 0 else (-bottom, -top)
        if (
            adverse <= stop
            or favourable >= target
            or not _quiet_closes(close, invalidation, clock, d, entry_bar, max_hold, k, k + 1)
            or (sub_bars_decide and sub_start[k + 1] > sub_start[k])
        ):
            break
        best, worst = max(best, favourable), min(worst, adverse)
        if trails:
            _trail(state, close[k], trail[k], settings)
            stop = d * state[ST_STOP] + tick
        k += 1
    state[ST_BEST], state[ST_WORST] = best, worst
    return k


@numba.njit(cache=True)
def _room(buffer: np.ndarray, used: int) -> np.ndarray:
    """Return `buffer`, doubled in length when its `used` rows fill it."""
    if used < len(buffer):
        return buffer
    return np.concatenate((buffer, np.empty_like(buffer)))


@numba.njit(cache=True)
def simulate(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    contract_id: np.ndarray,
    index: tuple[np.ndarray, np.ndarray],
    offset: int,
    rows: np.ndarray,
    direction: np.ndarray,
    entry_type: np.ndarray,
    entry_price: np.ndarray,
    stop: np.ndarray,
    target: np.ndarray,
    invalidation: np.ndarray,
    period: np.ndarray,
    trail: np.ndarray,
    clock: np.ndarray,
    targets: np.ndarray,
    shares: np.ndarray,
    breakeven: int,
    breakeven_offset: np.ndarray,
    max_hold: int,
    entry_valid_bars: int,
    anchor_to_fill: bool,
    sub_bars: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None,
    sub_start: np.ndarray,
    settings: np.ndarray,
    cash: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Run one strategy's plans over a whole series; return ``(trades, events)`` (see module doc).

    It skips only work that cannot change the outcome, which is most of the work on minute bars, where a
    strategy is flat most of the time: ``step`` is not called while flat (it would return no fill), and an
    entry order that works one bar and provably cannot fill on it (:func:`_cannot_fill`) is not placed — it
    would expire unfilled and leave the state flat. That second skip is off when an order works longer,
    when a risk budget sizes the trades (a size-0 skip is an event to report) and on bars whose sub-bars
    decide the fill (their range may exceed the bar's). While a position is open, ``step`` is called only
    on the bars where it may act (:func:`_next_exit`, over the blocks of `index` from :func:`exit_index`;
    bar 0 here is bar `offset` of the series `index` was built on). The backtrader strategy places every
    order and steps every bar; the parity tests hold the two paths equal trade for trade.
    """
    n = len(open_)
    state = np.full(STATE_SIZE, np.nan)  # new_state(), which is not compiled
    state[ST_PHASE] = FLAT
    state[ST_PENDING] = NO_EXIT
    out = np.empty((MAX_FILLS_PER_BAR, FILL_FIELDS))
    trades = np.empty((16, FILL_FIELDS))
    events = np.empty((4, 3))
    n_trades = 0
    n_events = 0
    cost = 2.0 * settings[SET_COMMISSION]
    multiplier = settings[SET_MULTIPLIER]
    has_sub_bars = len(sub_start) > 0
    trails = len(trail) > 0
    levels = len(invalidation) > 0  # empty: no invalidation level
    skip = entry_valid_bars <= 1 and math.isnan(settings[SET_RISK])
    i = 0
    row = 0  # the next plan row (a position in `rows`) that may arm an entry
    while i < n:
        if state[ST_PHASE] == POSITION and state[ST_PENDING] == NO_EXIT:
            # bars on which the position only waits pass without step: jump to the next that may act
            i = _next_exit(
                state, open_, high, low, close, invalidation, trail, clock, index, offset, sub_start,
                settings, i,
            )  # fmt: skip
        if state[ST_PHASE] != FLAT:
            roll_next = i + 1 < n and contract_id[i + 1] != contract_id[i]
            sub_first = sub_start[i] if has_sub_bars else 0
            sub_last = sub_start[i + 1] if has_sub_bars else 0
            count = step(
                state, i, open_[i], high[i], low[i], close[i], sub_bars, sub_first, sub_last,
                invalidation[i] if levels else np.nan, trail[i] if trails else np.nan, clock, roll_next,
                i == n - 1, cash, settings, out,
            )  # fmt: skip
            for r in range(count):
                kind = out[r, F_KIND]
                if kind == EXIT:
                    trades = _room(trades, n_trades)
                    trades[n_trades] = out[r]
                    n_trades += 1
                    points = out[r, F_DIRECTION] * (out[r, F_PRICE] - out[r, F_ENTRY_PRICE])
                    cash += (points * multiplier - cost) * out[r, F_CONTRACTS]
                elif kind == REJECTED:
                    events = _room(events, n_events)
                    events[n_events, 0], events[n_events, 1] = i, REJECTED
                    events[n_events, 2] = out[r, F_CONTRACTS]
                    n_events += 1
        if state[ST_PHASE] == FLAT:
            # flat bars pass without fills until a plan row places an order: jump to that row's bar
            while row < len(rows) and rows[row] < i:
                row += 1  # rows of bars passed in a trade (their signals came while not flat)
            row = _next_entry(
                rows, direction, entry_type, entry_price, high, low, period, state[ST_USED_PERIOD], sub_start,
                skip, settings, row,
            )  # fmt: skip
            if row == len(rows):
                break
            i = rows[row]
            contracts = arm(
                state, i, direction[row], entry_type[row], entry_price[row], stop[row], target[row], close[i],
                entry_valid_bars, anchor_to_fill, max_hold, period[i] if len(period) > 0 else -1, settings,
            )  # fmt: skip
            if contracts == 0:
                events = _room(events, n_events)
                events[n_events, 0], events[n_events, 1], events[n_events, 2] = i, SKIPPED, 0.0
                n_events += 1
            elif contracts > 0 and len(shares) > 0:
                even_offset = breakeven_offset[row] if len(breakeven_offset) > 0 else 0.0
                scale_out(state, targets[row], shares, breakeven, even_offset, settings)
            row += 1
        i += 1
    return trades[:n_trades].copy(), events[:n_events].copy()


def simulate_plans(
    bars: pd.DataFrame,
    plans: Plans,
    settings: np.ndarray,
    cash: float,
    *,
    sub_bars: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Run :func:`simulate` on a bar frame and its :class:`Plans` (a convenience for tests and the kernel).

    `sub_bars` is ``(open, high, low, close, sub_start)`` for the ``intraday`` policy.
    """
    sub_start = np.empty(0, dtype=np.int64) if sub_bars is None else sub_bars[4]
    plans.check(len(bars), "plans")
    prices = [bars[column].to_numpy(np.float64) for column in ("open", "high", "low", "close")]
    contract_id = contract_ids(bars)
    return simulate(
        *prices,
        contract_id,
        exit_index(*prices, contract_id),
        0,
        *plan_arguments(plans),
        policy_sub_bars(settings, None if sub_bars is None else sub_bars[:4]),
        sub_start,
        settings,
        float(cash),
    )


_NO_LEVELS = np.empty(0)


def plan_arguments(plans: Plans, start: int = 0, stop: int | None = None) -> tuple[Any, ...]:
    """Return the plan arguments of :func:`simulate` (`rows` to `anchor_to_fill`) for bars ``[start, stop)``.

    The signal rows in that window, numbered from `start`, with their per-row fields (dense plans: their
    signal rows, :meth:`Plans.sparse`), and the per-bar fields cut to the window; an absent field is an
    empty array. Every array is read-only and contiguous, direction and entry type int8, the prices
    float64, whatever the plans hold (an array that is all that already passes untouched): numba compiles
    :func:`simulate` once per combination of argument types, and setups share read-only arrays between
    calls while they make others afresh.
    """
    plans = plans.sparse()
    stop = plans.bar_count if stop is None else stop
    rows = plans.rows
    # a whole run (the sweep's every call) takes every row: rows lie in [0, bar_count)
    first = int(rows.searchsorted(start)) if start > 0 else 0
    last = int(rows.searchsorted(stop)) if stop < plans.bar_count else len(rows)
    signals, bars = slice(first, last), slice(start, stop)
    targets, shares, breakeven, breakeven_offset = target_legs(plans)
    invalidation = _NO_LEVELS if plans.invalidation is None else plans.invalidation
    float64, int64 = np.dtype(np.float64), np.dtype(np.int64)
    return (
        _read_only_view(rows[signals] - start if start else rows[signals], int64),
        _read_only_view(plans.direction[signals], np.dtype(np.int8)),
        _read_only_view(plans.entry_type[signals], np.dtype(np.int8)),
        _read_only_view(plans.entry_price[signals], float64),
        _read_only_view(plans.stop[signals], float64),
        _read_only_view(plans.target[signals], float64),
        _read_only_view(np.asarray(invalidation)[bars], float64),
        _read_only_view(entry_periods(plans)[bars], int64),
        _read_only_view(trail_points(plans)[bars], float64),
        _read_only_view(hold_clock(plans)[bars], int64),
        _read_only_view(targets[signals], float64),
        _read_only_view(shares, float64),
        breakeven,
        _read_only_view(breakeven_offset[signals], float64),
        int(plans.max_hold),
        int(plans.entry_valid_bars),
        bool(plans.anchor_to_fill),
    )


def _read_only_view(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Return `values` as a contiguous read-only array of `dtype`: itself when it is one already (a setup's
    shared arrays, passed each call untouched), else a read-only view of a converted copy or of itself."""
    values = np.asarray(values)
    flags = values.flags
    if values.dtype == dtype and not flags.writeable and flags.c_contiguous:
        return values
    if not values.size:  # an absent field: one shared empty array per shape
        return _read_only_empty(values.shape, dtype)
    view = np.ascontiguousarray(values, dtype=dtype).view()
    view.flags.writeable = False
    return view


@functools.lru_cache(maxsize=16)
def _read_only_empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    empty = np.empty(shape, dtype=dtype)
    empty.flags.writeable = False
    return empty


def exit_index(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, contract_id: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the `index` argument of :func:`simulate`: what its exit scan reads instead of every bar.

    Built once per bar series (the kernel keeps it for every combination): ``(extremes, rolls)`` with
    ``extremes[b]`` the ``max(open, high)``, ``min(open, low)``, max and min of the close (columns ``X_*``)
    of bars ``b · SCAN_BLOCK`` to ``(b + 1) · SCAN_BLOCK − 1``, and ``rolls`` the int64 bars after which
    `contract_id` changes. The open counts with the high and low (a bar's range as the fill rules see it,
    a gap included) and the close apart (only ``ohlc_path`` walks to it), so the scan needs no promise that
    the bars are consistent. Prices must not be NaN (the data layer refuses them).
    """
    starts = np.arange(0, len(high), SCAN_BLOCK)
    extremes = np.empty((len(starts), 4))
    if len(starts):
        extremes[:, X_TOP] = np.maximum.reduceat(np.maximum(open_, high), starts)
        extremes[:, X_BOTTOM] = np.minimum.reduceat(np.minimum(open_, low), starts)
        extremes[:, X_CLOSE_TOP] = np.maximum.reduceat(close, starts)
        extremes[:, X_CLOSE_BOTTOM] = np.minimum.reduceat(close, starts)
    rolls = np.flatnonzero(contract_id[1:] != contract_id[:-1]).astype(np.int64)
    return extremes, rolls


_NO_SUB_BARS = (np.empty(0),) * 4


def policy_sub_bars(
    settings: np.ndarray, sub_bars: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Return the `sub_bars` argument of :func:`step` and :func:`simulate` for the policy of `settings`.

    None when the bar's OHLC alone decides (``pessimistic``, ``optimistic``): the compiled functions then
    leave out the walk along a bar's path, and a first run does not wait for it to compile. Otherwise the
    sub-bars' ``(open, high, low, close)`` float64 arrays, empty without sub-bars (``ohlc_path``).
    """
    if settings[SET_POLICY] <= OPTIMISTIC:
        return None
    return _NO_SUB_BARS if sub_bars is None else tuple(np.asarray(a, dtype=np.float64) for a in sub_bars)


class BarFunctions(NamedTuple):
    """:func:`step`, :func:`arm` and :func:`scale_out` for a caller that drives one strategy bar by bar."""

    step: Callable[..., int]
    arm: Callable[..., int]
    scale_out: Callable[..., int]


def bar_functions(settings: np.ndarray) -> BarFunctions:
    """Return the state machine's functions for the backtrader strategy, which calls them once per bar.

    The interpreter runs them — the very functions numba compiles for :func:`simulate`, each helper they
    call included — so a backtest compiles nothing: per bar they cost microseconds beside backtrader's own
    work, where compiling them costs seconds before the first bar. Only ``intraday`` runs :func:`step`
    compiled, as it walks every sub-bar of a bar. The engines' parity tests hold the interpreted and the
    compiled runs to the same fills.
    """
    step_function = step if settings[SET_POLICY] == INTRADAY else step.py_func
    return BarFunctions(step_function, arm.py_func, scale_out.py_func)


_NO_PERIODS = np.empty(0, dtype=np.int64)


def entry_periods(plans: Plans) -> np.ndarray:
    """Return the int64 periods of the once-per-period rule for `plans`; empty when the rule is off.

    The rule is off for plans without periods and for ``reentry`` plans.
    """
    if plans.period is None or plans.reentry:
        return _NO_PERIODS
    return np.asarray(plans.period, dtype=np.int64)


_NO_TRAIL = np.empty(0)


def trail_points(plans: Plans) -> np.ndarray:
    """Return the float64 trailing distances of `plans` per bar; empty without a trailing stop."""
    return _NO_TRAIL if plans.trail is None else np.asarray(plans.trail, dtype=np.float64)


_BAR_CLOCK = np.empty(0, dtype=np.int64)


def hold_clock(plans: Plans) -> np.ndarray:
    """Return the int64 clock of the time stop of `plans` per bar; empty (bar numbers) without one."""
    return _BAR_CLOCK if plans.clock is None else np.asarray(plans.clock, dtype=np.int64)


_NO_TARGETS = np.empty((0, 0))


def target_legs(plans: Plans) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Return ``(targets, shares, breakeven, breakeven_offset)`` of `plans` for :func:`simulate`.

    Without scale-out: an empty (0, 0) `targets`, no shares (each entry keeps its single target) and no
    break-even.
    """
    if plans.targets is None:
        return _NO_TARGETS, np.empty(0), 0, np.empty(0)
    offset = np.empty(0) if plans.breakeven_offset is None else plans.breakeven_offset
    return (
        _legs_as_columns(np.asarray(plans.targets, dtype=np.float64)),
        np.asarray(plans.target_shares, dtype=np.float64),
        int(plans.breakeven),
        np.asarray(offset, dtype=np.float64),
    )


def _legs_as_columns(targets: np.ndarray) -> np.ndarray:
    """Return `targets` as rows × legs: a plain column is one leg."""
    return targets.reshape(-1, 1) if targets.ndim == 1 else targets


def contract_ids(bars: pd.DataFrame) -> np.ndarray:
    """Return int64 ids of the ``contract`` column (equal ids: same contract), zeros when there is none."""
    if "contract" not in bars.columns:
        return np.zeros(len(bars), dtype=np.int64)
    codes, _ = pd.factorize(bars["contract"].astype(str))
    return codes.astype(np.int64)
