"""backtrader data feeds that carry precomputed indicator columns as extra lines.

`make_feed(frame)` turns an indicator frame (`rtystrat.signals.features.indicator_frame`) into a
``bt.feeds.PandasData`` whose extra lines are the frame's extra numeric columns, named exactly as the
columns: ``P, S1..S3, R1..R3, sma_50, sma_100, rsi_14, atr_14`` and so on — the "indicator feed". A
strategy reads them like any line (``self.data.lines.S2[0]``, ``self.data.lines.P[0]``): one spelling for a
level in frames, lines and JSON. `make_feed(frame, lines=[...])` carries only the named columns
(``lines=[]``: OHLCV alone): each line costs a copy per bar, so the engine gives a strategy that trades
its plans — which it reads from the frame — a feed without indicator lines
(`rtystrat.execution.strategy.SetupStrategy.lines_read`).

Why a data feed with extra lines rather than backtrader indicators
------------------------------------------------------------------
- Parity by construction: the lines hold the very numbers the pure functions (`rtystrat.signals.levels`,
  `rtystrat.signals.ta`) return, which the fast sweep kernel uses too, so the backtrader path and the kernel
  cannot drift apart. The tests check the run sees them bar for bar.
- No look-ahead: higher-timeframe levels need the previous *completed* period; the pure functions are
  property-tested for it, whereas wiring a resampled feed into backtrader's ``PivotPoint`` (which has no S3
  anyway) is easy to get wrong — and users never touch that plumbing here.
- Speed: values are computed once, vectorised, instead of line by line in Python; rows are read from
  arrays prepared at start rather than ``DataFrame.iloc`` per cell, as ``PandasData`` does.
backtrader's own ``SMA``/``RSI`` remain usable on the feed; the tests show they agree with ours.

Time zones
----------
backtrader silently drops the time zone of a tz-aware index (it stores UTC and prints it as if local). The
feed is therefore given naive exchange-local times (the wall clock in the frame's own zone, America/Chicago
for CME data), so ``self.data.datetime.datetime(0)`` and ``.date(0)`` read as a trader expects. The
original tz-aware frame is kept as ``feed.frame`` and its zone name as ``feed.timezone``; restore a bar's
exact time by position with `bar_time` (``feed.frame.index[len(feed) - 1 - ago]``). That stays exact even
in the hour that repeats when daylight saving ends, where a naive wall-clock time is ambiguous (CME equity
futures are closed then — Sunday 1–2 a.m. — but other data need not be); ``tz_localize`` on naive times
would have to guess there.
"""

from __future__ import annotations

import functools
import keyword
import math
from collections.abc import Sequence

import backtrader as bt
import pandas as pd
from backtrader.utils import date2num

from rtystrat.data.bars import bar_interval, is_intraday
from rtystrat.errors import DataError

__all__ = ["FrameFeed", "bar_time", "make_feed"]

# Frame columns that map onto backtrader's standard lines.
_STANDARD = {
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
    "open_interest": "openinterest",
    "openinterest": "openinterest",
}


class FrameFeed(bt.feeds.PandasData):
    """``PandasData`` reading rows from arrays prepared at start, instead of ``DataFrame.iloc`` per cell.

    Values are identical to ``PandasData``'s; only the cost differs. Rows come from lists; when nothing can
    drop or alter a row (no filters such as resampling or replay, no ``fromdate``/``todate``, no
    ``tzinput``) preloading fills every line in one step, and each bar is its own tick: the feed keeps no
    ``tick_open`` .. ``tick_close`` copies per bar, they stay None — which backtrader's broker reads as
    "match orders on the bar's lines", the very prices it would have copied. With filters every step is
    backtrader's own.
    """

    def start(self) -> None:
        """Map columns (``PandasData.start``), then extract every mapped column once."""
        super().start()
        frame = self.p.dataname
        self._rows = len(frame)
        # backtrader's own conversion, so times compare equal with any other backtrader feed.
        self._times = [date2num(stamp) for stamp in frame.index.to_pydatetime()]
        self._columns = [
            (getattr(self.lines, field), frame.iloc[:, column].to_numpy("float64").tolist())
            for field, column in self._colmapping.items()
            if field != "datetime" and column is not None
        ]
        self._tick_nullify()  # the tick attributes exist (None) before the first bar

    def _load(self) -> bool:
        self._idx += 1
        if self._idx >= self._rows:
            return False
        for line, values in self._columns:
            line[0] = values[self._idx]
        self.lines.datetime[0] = self._times[self._idx]
        return True

    def _rows_pass_unchanged(self) -> bool:
        """True when backtrader would load every row as it is (nothing filters, cuts or shifts one)."""
        return not self._filters and not self._tzinput and self.p.fromdate is None and self.p.todate is None

    def preload(self) -> None:
        """Fill every line with all rows at once when they pass unchanged; else load bar by bar."""
        if not self._rows_pass_unchanged():
            super().preload()
            return
        filled = {id(line): values for line, values in self._columns}
        filled[id(self.lines.datetime)] = self._times
        missing = [math.nan] * self._rows  # an unmapped line (no open interest column): NaN, as forward()
        for line in self.lines:
            line.array.extend(filled.get(id(line), missing))
        self._idx = self._rows  # where loading bar by bar leaves it: a further _load has no row
        self._last()
        self.home()

    def advance(
        self, size: int = 1, datamaster: bt.AbstractDataBase | None = None, ticks: bool = True
    ) -> None:
        """Move to the next preloaded bar; without filters or a master data, with no tick bookkeeping."""
        if datamaster is None and self._rows_pass_unchanged():
            self.lines.advance(size)
        else:
            super().advance(size, datamaster, ticks)

    def _tick_fill(self, force: bool = False) -> None:
        """Copy the bar into the tick attributes only where a filter builds bars from ticks (see above)."""
        if not self._rows_pass_unchanged():
            super()._tick_fill(force)


def _reserved_names() -> frozenset[str]:
    """Return names a new line cannot take without shadowing a backtrader attribute or parameter."""
    names = set(dir(FrameFeed)) | set(dir(FrameFeed.lines)) | set(FrameFeed.params._getkeys())
    return frozenset(names | {"p", "params"})  # set on each instance: `self.data.p` is the params


@functools.cache
def _feed_class(extra_lines: tuple[str, ...]) -> type[FrameFeed]:
    """Return the FrameFeed subclass declaring `extra_lines`, each read from the column of the same name.

    backtrader's documented way to add lines to a pandas feed is a subclass declaring ``lines`` and one
    param per line naming its column; classes are cached so each column set is declared once.
    """
    params = tuple((name, name) for name in extra_lines)
    return type("IndicatorFeed", (FrameFeed,), {"lines": extra_lines, "params": params})


def _extra_columns(frame: pd.DataFrame, source: str, lines: Sequence[str] | None) -> list[str]:
    """Return the numeric non-standard columns of `frame` (those named in `lines`), checked as line names."""
    wanted = None if lines is None else {str(line) for line in lines}
    available = {str(column) for column in frame.columns}
    for line in sorted(wanted or ()):
        if line not in available:
            raise DataError(f"{source}: line {line!r} has no column in the frame")
    reserved = _reserved_names()
    extra: list[str] = []
    for column in frame.columns:
        name = str(column)
        if name.lower() in _STANDARD or not pd.api.types.is_numeric_dtype(frame[column]):
            continue  # standard lines are mapped by name; text (e.g. `contract`) cannot be a line
        if wanted is not None and name not in wanted:
            continue
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_") or name in reserved:
            raise DataError(f"{source}: column {column!r} cannot be a backtrader line name; rename it")
        extra.append(name)
    return extra


def _timeframe(frame: pd.DataFrame) -> tuple[int, int]:
    """Return backtrader's ``(timeframe, compression)`` for the bar spacing of `frame`."""
    if len(frame) < 2 or not is_intraday(frame):
        return bt.TimeFrame.Days, 1
    minutes = bar_interval(frame) / pd.Timedelta(minutes=1)
    if minutes >= 1 and float(minutes).is_integer():
        return bt.TimeFrame.Minutes, int(minutes)
    return bt.TimeFrame.Seconds, max(1, round(minutes * 60))


def make_feed(
    frame: pd.DataFrame, name: str | None = None, *, lines: Sequence[str] | None = None
) -> FrameFeed:
    """Return a backtrader feed of `frame` with one extra line per extra numeric column.

    Parameters
    ----------
    frame : pd.DataFrame
        Canonical bars, usually with indicator columns (`rtystrat.signals.features.indicator_frame`).
    name : str, optional
        The feed's name in backtrader (``data._name``); defaults to ``frame.attrs["source"]``.
    lines : sequence of str, optional
        The extra columns to carry, named as in the frame; ``[]``: OHLCV only. Default: every extra
        numeric column.

    Returns
    -------
    FrameFeed
        Standard lines from ``open, high, low, close, volume`` (and ``open_interest``), extra lines named
        exactly as the other numeric columns (``P``, ``S2``, ``sma_50``); text columns are left out. Times
        are naive exchange-local (see the module docstring); ``feed.frame`` is the original frame and
        ``feed.timezone`` its zone (None for daily bars).
    """
    source = str(frame.attrs.get("source", "<DataFrame>"))
    missing = [column for column in ("open", "high", "low", "close") if column not in frame.columns]
    if missing:
        raise DataError(f"{source}: a feed needs column {missing[0]!r}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError(f"{source}: a feed needs a DatetimeIndex, got {type(frame.index).__name__}")
    extra = _extra_columns(frame, source, lines)
    timezone = None if frame.index.tz is None else str(frame.index.tz)
    naive = frame.copy(deep=False)
    if timezone is not None:
        naive.index = frame.index.tz_localize(None)  # wall-clock time in the frame's own zone
    standard = {
        bt_name: column
        for column in frame.columns
        if (bt_name := _STANDARD.get(str(column).lower())) is not None
    }
    timeframe, compression = _timeframe(frame)
    feed = _feed_class(tuple(extra))(
        dataname=naive,
        name=source if name is None else name,
        timeframe=timeframe,
        compression=compression,
        datetime=None,
        openinterest=standard.get("openinterest", -1),
        **{bt_name: column for bt_name, column in standard.items() if bt_name != "openinterest"},
        **{column: column for column in extra},
    )
    feed.frame = frame
    feed.timezone = timezone
    return feed


def bar_time(feed: FrameFeed, ago: int = 0) -> pd.Timestamp:
    """Return the original (tz-aware for intraday data) timestamp of the feed's bar `ago` bars back.

    Call it during a run (``bar_time(self.data)`` in ``next``); it looks the bar up by position in
    ``feed.frame``, so it is exact even where naive exchange-local times repeat (end of daylight saving).
    """
    position = len(feed) - 1 - ago
    if not 0 <= position < len(feed.frame):
        raise IndexError(f"bar_time: no bar {ago} bars back (the feed has {len(feed)} bars so far)")
    return feed.frame.index[position]
