"""The arrays a setup reads from an indicator frame, computed once per frame and shared by every call.

A sweep calls a setup thousands of times on one frame with different parameters. What no parameter changes
— the columns as float arrays, next-bar values, the levels a resting order works at, the runs of identical
levels, bars per session, the tick — is computed the first time a setup asks and kept in a
:class:`FrameColumns`. :func:`keep_columns` keeps that object for a frame its caller no longer changes (the
sweep kernel's); setups call :func:`columns_of`, which returns the kept object, or a fresh one for any
other frame, so a frame changed between two calls is always read afresh. Kept arrays are read-only: every
call shares them.

Custom setups can use the same: ``columns = columns_of(frame, ["close", "S2"], "my_setup")`` then
``columns.column("close")``, ``columns.resting("S2")``, ``columns.periods("P", "S2")``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

from rtystrat.data.bars import is_intraday, period_keys, session_dates
from rtystrat.data.contracts import get_contract
from rtystrat.errors import DataError
from rtystrat.signals.features import parse_levels_spec
from rtystrat.signals.levels import PERIOD_OPEN_METHODS

__all__ = ["FrameColumns", "columns_of", "keep_columns", "session_bars", "tick_size_of"]

_DEFAULT_CONTRACT = "RTY"


def tick_size_of(frame: pd.DataFrame) -> float:
    """Return ``frame.attrs["tick_size"]`` (set by the engine from the run's contract), else RTY's tick."""
    tick = frame.attrs.get("tick_size")
    return float(tick) if tick is not None else get_contract(_DEFAULT_CONTRACT).tick_size


def session_bars(index: pd.DatetimeIndex) -> int:
    """Return the typical number of bars per trading session (1 for daily data; the median for intraday).

    Time stops are declared in sessions; without a :attr:`FrameColumns.session_clock` they count bars,
    this many per session.
    """
    if len(index) == 0 or not is_intraday(index):
        return 1
    _, counts = np.unique(session_dates(index).asi8, return_counts=True)
    return max(int(np.median(counts)), 1)


class FrameColumns:
    """The arrays of one indicator frame that no setup parameter changes, each computed on first use.

    The arrays are read-only: they are shared by every setup call that uses this object. :meth:`derived`
    keeps a few parameter-dependent intermediate results too (a setup's entry stage per entry setting).

    Parameters
    ----------
    frame : DataFrame
        The indicator frame; it must not change while this object is in use (it is held weakly).
    """

    # intermediate results kept per frame: a sweep cycles through a few entry settings, trailing distances
    # and invalidation levels
    _DERIVED_KEPT = 16

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = weakref.ref(frame)
        self.tick = tick_size_of(frame)
        self._arrays: dict[Hashable, Any] = {}
        self._derived: dict[Hashable, Any] = {}

    @property
    def frame(self) -> pd.DataFrame | None:
        """The frame (None once it is gone)."""
        return self._frame()

    def _kept(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key not in self._arrays:
            self._arrays[key] = _read_only(compute())
        return self._arrays[key]

    def column(self, name: str) -> np.ndarray:
        """Return column `name` as float64 (NaN for missing values)."""
        return self._kept(name, lambda: self.frame[name].to_numpy(dtype=np.float64, na_value=np.nan))

    def following(self, name: str) -> np.ndarray:
        """Return the next row's values of column `name` (NaN on the last row: no next bar to trade)."""
        return self._kept(("following", name), lambda: _shift(self.column(name), -1))

    def preceding(self, name: str) -> np.ndarray:
        """Return the previous row's values of column `name` (NaN on the first row)."""
        return self._kept(("preceding", name), lambda: _shift(self.column(name), 1))

    def resting(self, name: str) -> np.ndarray:
        """Return the levels a resting order placed at each row's close works at: the next bar's.

        They come from periods completed by this bar, so they are known at its close — except for methods
        whose levels use the open of the period they are for (woodie, per ``frame.attrs["levels"]``): at the
        close of a period's last bar the next period's levels are not known yet, so that row places no
        order (NaN).
        """
        return self._kept(("resting", name), lambda: self._resting(name))

    def _resting(self, name: str) -> np.ndarray:
        shifted = _shift(self.column(name), -1)
        spec = self.frame.attrs.get("levels")
        if spec is not None:
            period, method = parse_levels_spec(spec)
            if method in PERIOD_OPEN_METHODS:
                keys = period_keys(pd.DatetimeIndex(self.frame.index), period).asi8
                shifted[:-1][keys[1:] != keys[:-1]] = np.nan
        return shifted

    @property
    def session_events(self) -> bool:
        """Whether bar events are judged on completed sessions: intraday bars with session indicators.

        True for a frame built by :func:`~rtystrat.signals.features.indicator_frame` with a ``timeframe``
        from intraday bars, unless it was built with ``closes="bar"``.
        """
        # kept: a sweep asks on every call, and telling intraday bars apart reads the whole index
        return self._kept("session_events", self._session_events)

    def _session_events(self) -> bool:
        frame = self.frame
        return bool(
            frame.attrs.get("timeframe") is not None
            and frame.attrs.get("closes", "session") == "session"
            and is_intraday(pd.DatetimeIndex(frame.index))
        )

    @property
    def session_clock(self) -> np.ndarray | None:
        """The session number of each bar (0, 0, …, 1, …), the clock of a time stop counted in sessions
        (:attr:`Plans.clock <rtystrat.signals.plans.Plans>`): on intraday bars with a ``timeframe``
        (:func:`~rtystrat.signals.features.indicator_frame`), else None (time stops count bars).

        Sessions are numbered as they appear in the data: a session without bars is not counted.
        """
        return self._kept("session_clock", self._session_clock)

    def _session_clock(self) -> np.ndarray | None:
        frame = self.frame
        index = pd.DatetimeIndex(frame.index)
        if frame.attrs.get("timeframe") is None or not is_intraday(index):
            return None
        dates = session_dates(index).asi8
        return np.cumsum(np.r_[False, dates[1:] != dates[:-1]], dtype=np.int64)

    def event(self, name: str) -> np.ndarray:
        """Return column `name` as a bar event reads it ("a close below 2,000", "a low at S2").

        On bars judged one by one, the column itself. With :attr:`session_events`, the completed session's
        value (``open``: its first, ``high``/``low``: its extreme, ``close``: its last bar's) on the first
        bar of the next session, the first bar that knows the session is over, and NaN on every other bar,
        so events happen once per session, decided at the close of that first bar.
        """
        if not self.session_events:
            return self.column(name)
        return self._kept(("event", name), lambda: self._session_values(name, 1))

    def event_preceding(self, name: str) -> np.ndarray:
        """Return :meth:`event`'s previous value: the row before, or the session before the completed one."""
        if not self.session_events:
            return self.preceding(name)
        return self._kept(("event_preceding", name), lambda: self._session_values(name, 2))

    def completed(self, name: str) -> np.ndarray:
        """Return the price a filter compares (close against an SMA): the bar's own, or with
        :attr:`session_events` the last completed session's on every bar (NaN in the first two sessions)."""
        if not self.session_events:
            return self.column(name)
        return self._kept(("completed", name), lambda: self._session_values(name, 1, every_bar=True))

    def _session_values(self, name: str, back: int, every_bar: bool = False) -> np.ndarray:
        """Values of the session `back` sessions before each bar's own, on its first bar (or on every bar).

        The data's first session may have started before the data, so it yields nothing (NaN).
        """
        keys = period_keys(pd.DatetimeIndex(self.frame.index), self.frame.attrs["timeframe"]).asi8
        new = np.r_[True, keys[1:] != keys[:-1]]
        starts = np.flatnonzero(new)
        values = self.column(name)
        if name == "high":
            per_session = np.maximum.reduceat(values, starts)
        elif name == "low":
            per_session = np.minimum.reduceat(values, starts)
        elif name == "open":
            per_session = values[starts]
        else:
            per_session = values[np.r_[starts[1:], len(values)] - 1]
        per_session[:1] = np.nan
        source = np.arange(len(starts)) - back
        session_value = np.where(source >= 0, per_session[np.maximum(source, 0)], np.nan)
        block = np.cumsum(new) - 1
        out = session_value[block]
        if not every_bar:
            out[~new] = np.nan
        return out

    def periods(self, *names: str) -> np.ndarray:
        """Number the runs of rows whose `names` columns are identical (NaN equals NaN): 0, 0, 1, ..."""
        return self._kept(("periods", *names), lambda: _period_ids(*(self.column(n) for n in names)))

    @property
    def names(self) -> frozenset[str]:
        """The frame's column names."""
        return self._kept("names", lambda: frozenset(self.frame.columns))

    @property
    def session_bars(self) -> int:
        """Bars per trading session (:func:`session_bars`)."""
        return self._kept("session_bars", lambda: session_bars(self.frame.index))

    def derived(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return ``compute()``, kept under `key` (the parameters it depends on) with the last few others.

        Arrays in the result (or in a tuple result) become read-only.
        """
        if key in self._derived:
            self._derived[key] = self._derived.pop(key)  # most recently used last
        else:
            self._derived[key] = _read_only(compute())
            while len(self._derived) > self._DERIVED_KEPT:
                del self._derived[next(iter(self._derived))]
        return self._derived[key]


_KEPT: dict[int, FrameColumns] = {}


def keep_columns(frame: pd.DataFrame) -> FrameColumns:
    """Keep the :class:`FrameColumns` of `frame` for every later :func:`columns_of` call on this very object.

    For a caller that no longer changes `frame` and calls setups on it many times (the sweep kernel). The
    arrays are dropped with the frame.
    """
    kept = _KEPT.get(id(frame))
    if kept is None or kept.frame is not frame:
        kept = _KEPT[id(frame)] = FrameColumns(frame)
        weakref.finalize(frame, _KEPT.pop, id(frame), None)
    return kept


def columns_of(frame: pd.DataFrame, names: list[str], setup: str) -> FrameColumns:
    """Return the kept :class:`FrameColumns` of `frame`, or a new one, after checking `names` are columns.

    Raises
    ------
    DataError
        Naming the first missing column and the setup that needs it.
    """
    kept = _KEPT.get(id(frame))
    if kept is None or kept.frame is not frame:
        kept, present = FrameColumns(frame), frame.columns
    else:  # a kept frame does not change: its column names are kept too (a set reads faster than an Index)
        present = kept.names
    missing = [name for name in names if name not in present]
    if missing:
        raise DataError(
            f"{frame.attrs.get('source', '<DataFrame>')}: column {missing[0]!r} needed by {setup} is missing "
            f"(build the frame with rtystrat.signals.features.indicator_frame)"
        )
    return kept


def _read_only(value: Any) -> Any:
    """Make `value`'s arrays (or a tuple's) read-only, so that no caller changes what others share."""
    for item in value if isinstance(value, tuple) else (value,):
        if isinstance(item, np.ndarray):
            item.flags.writeable = False
    return value


def _shift(values: np.ndarray, rows: int) -> np.ndarray:
    """Return `values` moved down by `rows` (up when negative), NaN where nothing moved in."""
    shifted = np.full_like(values, np.nan)
    if rows > 0:
        shifted[rows:] = values[:-rows]
    else:
        shifted[:rows] = values[-rows:]
    return shifted


def _period_ids(*levels: np.ndarray) -> np.ndarray:
    """Number the runs of rows with identical levels (NaN equals NaN): 0, 0, ..., 1, 1, ..."""
    change = np.zeros(len(levels[0]), dtype=bool)
    for values in levels:
        previous = _shift(values, 1)
        change |= ~((values == previous) | (np.isnan(values) & np.isnan(previous)))
    change[:1] = True
    return np.cumsum(change) - 1
