"""``SetupStrategy``: backtrader strategy trading a setup's :class:`~rtystrat.signals.plans.Plans` with
honest fills.

Timeline of bar ``t`` (one broker pass, then the strategy; see :mod:`rtystrat.execution.broker`)::

    broker.next()   → the strategy's bracket book: rtystrat.execution.fills.step(bar t) → fills booked at
    their prices strategy.next() → at the close of t, if flat with no working entry: arm plan row t (works
    from t+1)

The fills of bar ``t`` depend only on the order armed at the close of ``t − 1`` and bar ``t`` itself; a
decision at ``t`` reads plan row ``t`` and nothing later. Users who write their own ``next()`` call
:meth:`SetupStrategy.enter_bracket`, which feeds the same machinery.

A recipe is a short subclass::

    class BullishReversal(SetupStrategy):
        name = "bullish_reversal"
        setup = staticmethod(rtystrat.signals.setups.bullish_reversal)
        parameters = rtystrat.signals.setups.BULLISH_REVERSAL_PARAMETERS
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import backtrader as bt
import numpy as np
import pandas as pd

from rtystrat.errors import ParameterError, suggest
from rtystrat.execution import fills
from rtystrat.execution.broker import FuturesBroker
from rtystrat.signals.plans import ENTRY_LIMIT, ENTRY_MARKET, ENTRY_STOP, LONG, SHORT, Plans

__all__ = ["SetupStrategy"]

_DIRECTIONS = {"long": LONG, "short": SHORT, LONG: LONG, SHORT: SHORT}
_ENTRY_TYPES = {"market": ENTRY_MARKET, "limit": ENTRY_LIMIT, "stop": ENTRY_STOP}
_LINE_READERS = ("__init__", "prenext", "next")  # methods where a subclass may read the feed's lines


class SetupStrategy(bt.Strategy):
    """Trade the plans of ``type(self).setup``, or brackets from a custom ``next()``, with rtystrat's fills.

    Class attributes
    ----------------
    name : str
        Registry name; the trade log's ``setup`` column.
    setup : callable, optional
        Pure function ``(frame, **setup_params) -> Plans`` (a staticmethod). None: brackets come from
        :meth:`enter_bracket` only.
    parameters : Mapping
        Declared parameters with their defaults (owned by :mod:`rtystrat.signals.parameters`).
    indicators : Mapping or None
        Keyword arguments of :func:`rtystrat.signals.features.indicator_frame` the setup needs (``{}``: its
        defaults — levels ``"M:classic"``, SMA 50/100, RSI 14, ATR 14); None: plain bars suffice.
    feed_lines : sequence of str or None
        Indicator columns the strategy's own code reads as backtrader lines (``self.data.lines.S2``); the
        engine's feed carries OHLCV plus these. None (default): decided by :meth:`lines_read`.

    Parameters (backtrader ``params``)
    ----------------------------------
    setup_params : dict, optional
        Parameter values passed to `setup`.
    frame : DataFrame, optional
        The frame the feed was built from (default: ``data.frame`` of an
        :func:`rtystrat.execution.feeds.make_feed` feed, else the feed's ``dataname``).
    intraday : tuple, optional
        Sub-bars ``(open, high, low, close, sub_start)`` for the ``intraday`` policy (built by the engine).

    Attributes
    ----------
    events : list of dict
        Entries rejected for margin or skipped for size 0, with time, setup and reason.
    """

    name: ClassVar[str] = "custom"
    setup: ClassVar[Callable[..., Plans] | None] = None
    parameters: ClassVar[Mapping[str, Any]] = {}
    indicators: ClassVar[Mapping[str, Any] | None] = {}
    feed_lines: ClassVar[Sequence[str] | None] = None

    params = (("setup_params", None), ("frame", None), ("intraday", None))

    @classmethod
    def lines_read(cls) -> tuple[str, ...] | None:
        """Return the indicator columns the feed must carry as lines for this class; None: all of them.

        `feed_lines` when the class declares it. Otherwise none for a strategy that trades its plans —
        they come from the frame, not the feed, and every extra line costs a copy per bar — and all for a
        strategy with its own ``__init__``, ``prenext`` or ``next``, which may read any line.
        """
        if cls.feed_lines is not None:
            return tuple(cls.feed_lines)
        own_code = any(getattr(cls, hook) is not getattr(SetupStrategy, hook) for hook in _LINE_READERS)
        return None if own_code else ()

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Precompute the arrays, get the plans and register the bracket book with the broker."""
        if not isinstance(self.broker, FuturesBroker) or self.broker.p.fill_settings is None:
            raise ParameterError(
                f"{type(self).__name__} needs rtystrat's FuturesBroker: run it through run_backtest"
            )
        frame = self.p.frame
        if frame is None:
            frame = getattr(self.data, "frame", None)
        if frame is None:
            frame = self.data.p.dataname
        self.frame: pd.DataFrame = frame
        self.settings: np.ndarray = self.broker.p.fill_settings
        self._n = len(frame)
        self._open, self._high, self._low, self._close = (
            frame[column].to_numpy(np.float64) for column in ("open", "high", "low", "close")
        )
        self._contract_id = fills.contract_ids(frame)
        intraday = self.p.intraday
        self._sub_bars = fills.policy_sub_bars(self.settings, intraday[:4] if intraday else None)
        self._sub_start = intraday[4] if intraday else np.zeros(self._n + 1, dtype=np.int64)
        self.plans: Plans | None = None
        self._periods = np.empty(0, dtype=np.int64)  # no once-per-period rule without plans
        self._hold_clock = np.empty(0, dtype=np.int64)  # enter_bracket's max_hold counts bars
        self._legs = fills.target_legs(Plans.empty(0))  # without plans: one target per bracket
        if type(self).setup is not None:
            plans = type(self).setup(frame, **dict(self.p.setup_params or {}))
            plans.check(self._n, self.name)
            self.plans = plans.dense()  # read bar by bar
            self._periods = fills.entry_periods(self.plans)
            self._hold_clock = fills.hold_clock(self.plans)
            self._legs = fills.target_legs(self.plans)
        self._machine = fills.bar_functions(self.settings)
        self._state = fills.new_state()
        self._out = np.empty((fills.MAX_FILLS_PER_BAR, fills.FILL_FIELDS))
        self._invalidation = np.nan
        self._trail = np.nan  # a bracket of enter_bracket: its constant trailing distance
        self.events: list[dict[str, Any]] = []
        self.broker.register(self)

    def next(self) -> None:
        """At the close of the bar: arm the plan row of this bar when flat with no working entry."""
        plans = self.plans
        bar = len(self.data) - 1
        if plans is None or not self.is_flat or plans.direction[bar] == 0 or bar + 1 >= self._n:
            return
        self._invalidation = self._trail = np.nan  # plans carry per-bar values instead
        contracts = self._arm(
            bar,
            int(plans.direction[bar]),
            int(plans.entry_type[bar]),
            float(plans.entry_price[bar]),
            float(plans.stop[bar]),
            float(plans.target[bar]),
            int(plans.entry_valid_bars),
            bool(plans.anchor_to_fill),
            int(plans.max_hold),
            int(self._periods[bar]) if len(self._periods) else -1,
        )
        targets, shares, breakeven, breakeven_offset = self._legs
        if contracts > 0 and len(shares):
            offset = breakeven_offset[bar] if len(breakeven_offset) else 0.0
            self._machine.scale_out(self._state, targets[bar], shares, breakeven, offset, self.settings)

    def prenext(self) -> None:
        """Plans need no backtrader warm-up: decide on every bar, as the fast kernel does."""
        self.next()

    # ---------------------------------------------------------------------------------------- bracket API
    @property
    def is_flat(self) -> bool:
        """True when the strategy has no open position, no working entry and no roll in progress."""
        return self._state[fills.ST_PHASE] == fills.FLAT

    def enter_bracket(
        self,
        direction: str | int,
        entry_type: str = "market",
        entry_price: float = math.nan,
        stop: float = math.nan,
        target: float = math.nan,
        *,
        max_hold: int = 0,
        invalidation: float = math.nan,
        valid_bars: int = 1,
        anchor_to_fill: bool = False,
        period: int = -1,
        trail: float = math.nan,
    ) -> int:
        """Place a bracket at this bar's close; it works from the next bar under rtystrat's fill rules.

        Parameters
        ----------
        direction : {"long", "short"} or ±1
        entry_type : {"market", "limit", "stop"}
            Market: next open. Limit/stop: at `entry_price` (rounded to the tick, conservative side).
        entry_price, stop, target : float
            Absolute prices; NaN for none (stop and target are live on the entry bar).
        max_hold : int
            Time stop in bars after the entry bar (exit at the next open); 0 for none.
        invalidation : float
            A long exits at the next open after a close below this level (a short: above); NaN for none.
        valid_bars : int
            Bars an unfilled limit/stop entry works.
        anchor_to_fill : bool
            Keep stop/target distances from `entry_price` (market: this close) but measure them from the fill.
        trail : float
            Trailing stop distance in points from each close while in the position (works from the next
            bar, only tightens the stop); NaN for none.
        period : int
            The level period the entry belongs to (an id that changes when the levels do): no bracket is
            placed in a period in which an entry of this strategy already filled. −1: no such rule.

        Returns
        -------
        int
            Contracts of the bracket; 0 when the risk budget buys no whole contract (recorded in `events`)
            or when `period` already had its filled entry (not recorded: nothing was asked of the market).

        Raises
        ------
        ParameterError
            For an unknown direction or entry type, or when the strategy is not flat.
        """
        if direction not in _DIRECTIONS:
            raise ParameterError(f"{self.name}: direction must be 'long' or 'short', got {direction!r}")
        if entry_type not in _ENTRY_TYPES:
            raise ParameterError(
                f"{self.name}: entry_type must be one of {', '.join(_ENTRY_TYPES)}, got {entry_type!r}"
                f"{suggest(str(entry_type), _ENTRY_TYPES)}"
            )
        if not self.is_flat:
            raise ParameterError(f"{self.name}: enter_bracket while a position or entry order is open")
        if entry_type != "market" and not math.isfinite(entry_price):
            raise ParameterError(f"{self.name}: a {entry_type} entry needs an entry_price")
        self._invalidation, self._trail = float(invalidation), float(trail)
        return self._arm(
            len(self.data) - 1,
            _DIRECTIONS[direction],
            _ENTRY_TYPES[entry_type],
            float(entry_price),
            float(stop),
            float(target),
            int(valid_bars),
            bool(anchor_to_fill),
            int(max_hold),
            int(period),
        )

    def _arm(
        self,
        bar: int,
        direction: int,
        entry_type: int,
        entry_price: float,
        stop: float,
        target: float,
        valid_bars: int,
        anchor_to_fill: bool,
        max_hold: int,
        period: int,
    ) -> int:
        contracts = self._machine.arm(
            self._state, bar, direction, entry_type, entry_price, stop, target, self._close[bar],
            valid_bars, anchor_to_fill, max_hold, period, self.settings,
        )  # fmt: skip
        if contracts < 0:
            return 0  # the period already had its trade
        if contracts == 0:
            self._event(bar, "skipped", "the risk budget buys no whole contract (or the plan has no stop)")
        return contracts

    # --------------------------------------------------------------------------------- broker callback
    def process_bar(self) -> None:
        """Compute this bar's fills with :func:`rtystrat.execution.fills.step` and book them (called by the
        broker)."""
        if self._state[fills.ST_PHASE] == fills.FLAT:
            return  # nothing working: no fill possible (the common case, kept cheap)
        bar = len(self.data) - 1
        sub_start = self._sub_start
        invalidation = (
            self.plans.invalidation[bar]
            if math.isnan(self._invalidation) and self.plans
            else self._invalidation
        )
        trail = self._trail
        if math.isnan(trail) and self.plans is not None and self.plans.trail is not None:
            trail = self.plans.trail[bar]
        out = self._out
        count = self._machine.step(
            self._state, bar, self._open[bar], self._high[bar], self._low[bar], self._close[bar],
            self._sub_bars, sub_start[bar], sub_start[bar + 1], invalidation, trail, self._hold_clock,
            bar + 1 < self._n and self._contract_id[bar + 1] != self._contract_id[bar], bar == self._n - 1,
            self.broker.getcash(), self.settings, out,
        )  # fmt: skip
        for row in range(count):
            record = out[row].copy()
            kind = record[fills.F_KIND]
            if kind == fills.REJECTED:
                needed = record[fills.F_CONTRACTS] * (
                    self.settings[fills.SET_MARGIN] + self.settings[fills.SET_COMMISSION]
                )
                self._event(
                    bar, "rejected", f"margin: needs ${needed:,.2f}, free cash ${self.broker.getcash():,.2f}"
                )
                continue
            size = record[fills.F_DIRECTION] * record[fills.F_CONTRACTS]
            if kind == fills.EXIT:
                size = -size
            self.broker.book(self, self.data, size, record[fills.F_PRICE], fill=record, setup=self.name)

    def _event(self, bar: int, kind: str, detail: str) -> None:
        self.events.append(
            {"time": self.frame.index[bar], "setup": self.name, "event": kind, "detail": detail}
        )
