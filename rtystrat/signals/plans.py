"""Bracket plans: what a setup asks the execution layer to do, as plain arrays.

A setup is a pure function from indicator columns to :class:`Plans`. Row ``t`` is decided at the close of
bar ``t`` from data up to ``t`` only and works from bar ``t + 1`` on. The backtrader strategy and the fast
kernel read the same arrays, so they can only disagree about execution, never about signals.

A plan says where a setup would enter and at which levels; it never predicts fills. What depends on the
position — whether an order was placed at all, whether the period already had its trade — is decided by the
state machine of :mod:`rtystrat.execution.fills` while it runs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["ENTRY_LIMIT", "ENTRY_MARKET", "ENTRY_STOP", "LONG", "SHORT", "Plans"]

LONG = 1
SHORT = -1

ENTRY_MARKET = 0  # at the next bar's open
ENTRY_LIMIT = 1  # at `entry_price` or better
ENTRY_STOP = 2  # when price trades through `entry_price`


class Plans(NamedTuple):
    """Per-bar bracket plans of one setup (all arrays have the length of the bar series).

    Attributes
    ----------
    direction : int8 array
        ``LONG`` (+1), ``SHORT`` (-1), or 0 for "no new trade on this bar".
    entry_type : int8 array
        ``ENTRY_MARKET``, ``ENTRY_LIMIT`` or ``ENTRY_STOP``.
    entry_price : float array
        Limit or stop price of the entry order; NaN for a market entry.
    stop, target : float arrays
        Absolute stop-loss and take-profit prices; NaN for none.
    invalidation : float array
        Per-bar level that ends the thesis while a position is open: a long exits after a close below it,
        a short after a close above it (at the next bar's open). NaN for none.
    max_hold : int
        Time stop: ticks of `clock` a position may be held before it exits at the next open (bars without a
        clock); 0 for none.
    entry_valid_bars : int
        Bars an unfilled limit or stop entry order keeps working before it is cancelled.
    anchor_to_fill : bool
        If true, stop and target keep their distances from the planned entry price but are measured from the
        actual fill price; if false they stay at the planned absolute prices.
    period : int64 array or None
        The period of the levels each row's order uses (a resting order placed at the close of ``t``: the
        period of bar ``t + 1``, whose levels it works at; a bar event: its own bar's). The execution layer
        arms no entry in a period in which an entry of this strategy already *filled* — whether it was
        stopped, reached its target or is still open. None: no such rule.
    reentry : bool
        Lift the once-per-period rule: every signal row may arm an entry while flat.
    trail : float array or None
        Trailing stop: its distance in points at each bar's close (per bar, as an ATR multiple changes). While
        a position is open the stop moves to ``close − trail`` (short: ``+``) when that is tighter, and works
        from the next bar. None or NaN: no trailing.
    clock : int64 array or None
        What `max_hold` counts: a non-decreasing number per bar, the time stop firing at the open of the first
        bar whose clock is `max_hold` past the entry bar's. Each bar's session number counts sessions on
        intraday bars. None: bars (the bar numbers).
    targets : float array (rows × legs) or None
        Scale-out: each row's targets, one column per leg, with `target_shares` the share of the contracts
        each gets (:func:`rtystrat.signals.targets.split_contracts`, whole contracts, a leg of 0 dropped).
        Legs exit nearest target first, each as its own fill; the stop, time stop and invalidation close
        every leg still open. None: the single `target` (the rows' `target` is then ignored).
    target_shares : tuple of float
        Shares of the `targets` columns (empty without `targets`).
    breakeven : int
        After this many targets have filled (1: the first), the stop moves to the entry ± `breakeven_offset`
        (in the trade's favour) at that bar's close, working from the next bar, only when tighter. 0: never.
    breakeven_offset : float array or None
        Each row's distance in points beyond the entry price for the break-even stop (a long's stop at the
        entry fill + offset). None: 0.
    """

    direction: np.ndarray
    entry_type: np.ndarray
    entry_price: np.ndarray
    stop: np.ndarray
    target: np.ndarray
    invalidation: np.ndarray
    max_hold: int = 0
    entry_valid_bars: int = 1
    anchor_to_fill: bool = False
    period: np.ndarray | None = None
    reentry: bool = False
    trail: np.ndarray | None = None
    clock: np.ndarray | None = None
    targets: np.ndarray | None = None
    target_shares: tuple[float, ...] = ()
    breakeven: int = 0
    breakeven_offset: np.ndarray | None = None

    @classmethod
    def empty(cls, n: int) -> Plans:
        """Return plans of length `n` that never trade (setups fill in the rows that do)."""
        nan = np.full(n, np.nan)
        return cls(
            direction=np.zeros(n, dtype=np.int8),
            entry_type=np.zeros(n, dtype=np.int8),
            entry_price=nan.copy(),
            stop=nan.copy(),
            target=nan.copy(),
            invalidation=nan.copy(),
        )
