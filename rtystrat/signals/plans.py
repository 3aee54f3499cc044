"""Bracket plans: what a setup asks the execution layer to do, as plain arrays.

A setup is a pure function from indicator columns to :class:`Plans`. Row ``t`` — the plan of bar ``t`` — is
decided at the close of bar ``t`` from data up to ``t`` only and works from bar ``t + 1`` on. The backtrader
strategy and the fast kernel read the same arrays, so they can only disagree about execution, never about
signals.

Plans come in two forms with one meaning. *Dense* plans have one row per bar (``direction`` 0 on the bars
that do not signal); they are what a hand-written setup returns and what :meth:`Plans.dense` gives.
*Sparse* plans list only the bars that signal, in ``rows``, and carry the per-row fields for those bars
alone, so a setup called thousands of times on a million bars allocates per call only what its signals
need; the fields that apply to every bar while a position is open (invalidation, trail, clock, period) stay
one value per bar. :meth:`Plans.sparse` and :meth:`Plans.dense` convert either way without changing what
any bar reads.

A plan says where a setup would enter and at which levels; it never predicts fills. What depends on the
position — whether an order was placed at all, whether the period already had its trade — is decided by the
state machine of :mod:`rtystrat.execution.fills` while it runs.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from rtystrat.errors import DataError

__all__ = ["ENTRY_LIMIT", "ENTRY_MARKET", "ENTRY_STOP", "LONG", "SHORT", "Plans"]

LONG = 1
SHORT = -1

ENTRY_MARKET = 0  # at the next bar's open
ENTRY_LIMIT = 1  # at `entry_price` or better
ENTRY_STOP = 2  # when price trades through `entry_price`


class Plans(NamedTuple):
    """Bracket plans of one setup over a bar series, dense (one row per bar) or sparse (signal rows only).

    Row ``t`` is the plan of bar ``t``: decided at the close of bar ``t`` from data up to ``t`` only, it
    places an order working from bar ``t + 1`` (the last bar's row never does: no bar follows it). A row
    is a *signal row* when its direction is not 0.

    *Per-row* fields — `direction`, `entry_type`, `entry_price`, `stop`, `target`, `targets`,
    `breakeven_offset` — hold one entry per row: per bar in dense plans (``rows`` None), per signal row in
    sparse plans, in the order of ``rows``. *Per-bar* fields — `invalidation`, `period`, `trail`, `clock` —
    hold one value per bar in both forms. A setup may return read-only arrays it shares between calls (what
    no parameter of the call changes); :meth:`dense` returns arrays of the caller's own for the per-row
    fields.

    Attributes
    ----------
    direction : int8 array
        ``LONG`` (+1), ``SHORT`` (-1), or 0 for "no new trade on this bar" (sparse plans: never 0).
    entry_type : int8 array
        ``ENTRY_MARKET``, ``ENTRY_LIMIT`` or ``ENTRY_STOP``.
    entry_price : float array
        Limit or stop price of the entry order; NaN for a market entry.
    stop, target : float arrays
        Absolute stop-loss and take-profit prices; NaN for none.
    invalidation : float array or None
        Per-bar level that ends the thesis while a position is open: a long exits after a close below it,
        a short after a close above it (at the next bar's open). NaN or None for none.
    max_hold : int
        Time stop: ticks of `clock` a position may be held before it exits at the next open (bars without a
        clock); 0 for none.
    entry_valid_bars : int
        Bars an unfilled limit or stop entry order keeps working before it is cancelled.
    anchor_to_fill : bool
        If true, stop and target keep their distances from the planned entry price but are measured from the
        actual fill price; if false they stay at the planned absolute prices.
    period : int64 array or None
        Per bar: the period of the levels the order of that bar's row uses (a resting order placed at the
        close of ``t``: the period of bar ``t + 1``, whose levels it works at; a bar event: its own bar's).
        Only signal rows' values are read. The execution layer arms no entry in a period in which an entry of
        this strategy already *filled* — whether it was stopped, reached its target or is still open. None:
        no such rule.
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
    rows : int64 array or None
        Sparse plans: the bar numbers of the signal rows, strictly increasing, each in ``[0, length)``.
        None: dense plans.
    length : int
        Sparse plans: the number of bars they cover (dense plans: unused, 0).
    """

    direction: np.ndarray
    entry_type: np.ndarray
    entry_price: np.ndarray
    stop: np.ndarray
    target: np.ndarray
    invalidation: np.ndarray | None
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
    rows: np.ndarray | None = None
    length: int = 0

    @classmethod
    def empty(cls, n: int) -> Plans:
        """Return dense plans of length `n` that never trade (setups fill in the rows that do)."""
        nan = np.full(n, np.nan)
        return cls(
            direction=np.zeros(n, dtype=np.int8),
            entry_type=np.zeros(n, dtype=np.int8),
            entry_price=nan.copy(),
            stop=nan.copy(),
            target=nan.copy(),
            invalidation=nan.copy(),
        )

    @property
    def bar_count(self) -> int:
        """The number of bars the plans cover."""
        return len(self.direction) if self.rows is None else int(self.length)

    def signal_rows(self) -> np.ndarray:
        """Return the int64 bar numbers of the signal rows (``rows``, or the non-zero dense directions)."""
        if self.rows is not None:
            return self.rows
        return np.flatnonzero(np.asarray(self.direction)).astype(np.int64)

    def sparse(self) -> Plans:
        """Return these plans with their signal rows only (themselves when already sparse)."""
        if self.rows is not None:
            return self
        rows = self.signal_rows()
        n = len(self.direction)

        def at(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else np.asarray(values)[rows]

        targets = self.targets
        if targets is not None:
            targets = np.asarray(targets, dtype=np.float64)[rows]
        return self._replace(
            **{name: at(getattr(self, name)) for name in _ROW_FIELDS if name != "targets"},
            targets=targets,
            rows=rows,
            length=n,
        )

    def take(self, positions: np.ndarray) -> Plans:
        """Return these sparse plans with the signal rows at `positions` (indices into ``rows``) only."""

        def at(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else np.asarray(values)[positions]

        fields = {name: at(getattr(self, name)) for name in _ROW_FIELDS}
        return self._replace(rows=self.rows[positions], **fields)

    def dense(self) -> Plans:
        """Return these plans with one row per bar (themselves when already dense).

        Bars without a signal get direction 0, ``ENTRY_MARKET`` and NaN prices, targets and break-even
        offsets; a missing invalidation becomes NaN on every bar. Per-bar fields are shared, not copied.
        """
        if self.rows is None:
            return self
        n, rows = self.bar_count, self.rows

        def spread(values: np.ndarray | None, fill: float, dtype: Any = np.float64) -> np.ndarray | None:
            if values is None:
                return None
            values = np.asarray(values)
            out = np.full((n, *values.shape[1:]), fill, dtype=dtype)
            out[rows] = values
            return out

        return self._replace(
            direction=spread(self.direction, 0, np.asarray(self.direction).dtype),
            entry_type=spread(self.entry_type, ENTRY_MARKET, np.asarray(self.entry_type).dtype),
            entry_price=spread(self.entry_price, np.nan),
            stop=spread(self.stop, np.nan),
            target=spread(self.target, np.nan),
            invalidation=np.full(n, np.nan) if self.invalidation is None else self.invalidation,
            targets=spread(self.targets, np.nan),
            breakeven_offset=spread(self.breakeven_offset, np.nan),
            rows=None,
            length=0,
        )

    def check(self, length: int, owner: str) -> None:
        """Raise :class:`DataError` naming `owner` and the field when the plans do not fit `length` bars.

        Compiled code reads these arrays without bounds checks: a short array would be read past its end.
        """
        if self.bar_count != length:
            raise DataError(f"{owner}: the plans cover {self.bar_count} bars, the data {length}")
        rows = self.rows
        if (
            rows is not None
            and len(rows)
            and (rows[0] < 0 or rows[-1] >= length or not (rows[1:] > rows[:-1]).all())
        ):
            raise DataError(f"{owner}: plans.rows must be strictly increasing bar numbers in [0, {length})")
        per_row = length if rows is None else len(rows)
        for name in _ROW_FIELDS:
            values = getattr(self, name)
            if values is not None and len(values) != per_row:
                raise DataError(f"{owner}: plans.{name} has {len(values)} rows, expected {per_row}")
        for name in ("invalidation", "period", "trail", "clock"):
            values = getattr(self, name)
            if values is not None and len(values) != length:
                raise DataError(f"{owner}: plans.{name} has {len(values)} rows, the data {length}")


# The fields with one entry per row (per bar when dense, per signal row when sparse).
_ROW_FIELDS = ("direction", "entry_type", "entry_price", "stop", "target", "targets", "breakeven_offset")
