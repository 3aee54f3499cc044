"""Read price bars into the canonical OHLCV frame, refuse bad rows, and resample by futures session.

The canonical frame (see :func:`load_bars`) has a sorted, unique ``DatetimeIndex`` named ``"time"`` and
float64 columns ``open, high, low, close, volume``, plus ``contract`` (str) and ``open_interest`` when the
source has them. Daily bars are tz-naive dates at midnight; intraday bars are tz-aware, in the exchange's
time zone (America/Chicago for CME equity-index futures).

Files are read by :mod:`rtystrat.data.readers` (columns and timestamps in any common layout); this module
validates the values. Validation is vectorised (a million-row minute file loads in seconds) and fails in
one line naming the file, the problem and the first offending row. Repairs happen only when asked for with
``repair=`` and are recorded in ``frame.attrs["repairs"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rtystrat.choices import PERIODS, REPAIRS
from rtystrat.data.calendar import next_trade_date
from rtystrat.data.readers import PRICE_COLUMNS, RawTable, bar_columns, parse_times, read_table
from rtystrat.errors import DataError, ParameterError, suggest

__all__ = [
    "EXCHANGE_TZ",
    "PERIODS",
    "REPAIRS",
    "Problem",
    "bar_interval",
    "check_load_options",
    "inspect_bars",
    "is_intraday",
    "load_bars",
    "period_keys",
    "repair_report",
    "resample_bars",
    "session_dates",
]

EXCHANGE_TZ = "America/Chicago"


@dataclass(frozen=True)
class Problem:
    """One kind of bad row found in a price file.

    `check` is the check's short name (``"high_below_open_close"``), `description` says what is wrong,
    `rows` lists every offending row as ``"line 12 (2025-07-13)"`` (``"row 12"`` for DataFrame and Parquet
    sources), `detail` gives the first one's values, and `repairs` the ``repair=`` options that fix it.
    """

    check: str
    description: str
    rows: tuple[str, ...]
    detail: str
    repairs: tuple[str, ...]

    def message(self, source: str) -> str:
        """Return the one-line error text for this problem in `source`."""
        more = len(self.rows) - 1
        tail = f", and {more} more row{'s' if more > 1 else ''}" if more else ""
        hint = " or ".join(repr(name) for name in self.repairs)
        return f"{source}: {self.description} at {self.rows[0]}: {self.detail}{tail}; repair={hint} fixes it"


def load_bars(
    source: str | Path | pd.DataFrame,
    *,
    tz: str | None = None,
    source_tz: str = "UTC",
    repair: str | Iterable[str] | None = None,
    adjusted: bool = False,
) -> pd.DataFrame:
    """Read OHLCV bars from a CSV/Parquet file or a DataFrame and validate them.

    Parameters
    ----------
    source : str, Path or DataFrame
        A CSV file (any compression pandas infers from the suffix, e.g. ``.csv.gz``), a ``.parquet`` file,
        or a DataFrame (its DatetimeIndex or a time column). Columns match by name, case-insensitively, in
        any order: time as ``time``/``datetime``/``timestamp``/``date`` (separate ``date`` and ``time``
        columns are joined); prices ``open, high, low, close`` (``o/h/l/c``, ``last``, ``settle``);
        ``volume`` (optional: without the column every volume is 0); ``contract`` and ``open_interest``
        are kept.
        Other columns (``Adj Close``, IBKR's ``average, barCount, wap, count``) are ignored.
    tz : str, optional
        Time zone of the result for intraday data (default America/Chicago, the CME's). Daily data stays
        tz-naive whatever `tz` says.
    source_tz : str, default "UTC"
        Time zone of *naive* intraday timestamps in the source. Timestamps with a UTC offset carry their own
        zone (mixed offsets in one file are fine); naive ones are assumed UTC, the usual vendor convention.
    repair : str or iterable of str, optional
        Explicit fixes, combinable (``("clip", "drop_weekend")`` or ``"clip,drop_weekend"``):
        ``"drop"`` drops rows with an unparseable timestamp, a missing, infinite or non-positive price,
        negative volume, inconsistent OHLC (unless ``"clip"``) or a timestamp already seen (keeps the first);
        ``"clip"`` widens high/low to contain open and close; ``"drop_weekend"`` drops Saturday/Sunday rows
        of daily data; ``"sort"`` sorts by time; ``"zero_volume"`` reads an empty or unreadable volume cell
        (``n/a``) as 0 (without it, such a cell is an error: a volume is data, not a default). What was
        repaired, and which rows, is recorded in ``frame.attrs["repairs"]`` (see :func:`repair_report`).
    adjusted : bool, default False
        Use the ``Adj Close`` column: close becomes the adjusted close and open/high/low are scaled by
        ``adj_close / close`` (Yahoo's convention).

    Returns
    -------
    pandas.DataFrame
        Index ``"time"`` (datetime64[ns]; tz-naive midnight dates for daily data, tz-aware for intraday),
        float64 ``open, high, low, close, volume``, plus ``contract``/``open_interest`` when present.
        ``attrs["source"]`` is the file name (``"<DataFrame>"`` for frames), ``attrs["repairs"]`` a list of
        ``{"repair", "problem", "count", "rows"}`` dicts.

    Raises
    ------
    DataError
        One line naming the file, the problem and the first offending row: empty file, missing OHLC
        column, unparseable timestamp, missing (NaN), infinite or non-positive price, high below
        open/close, low above open/close, high below low, weekend row in daily data, duplicate or unsorted
        timestamps; a folder, or a file that is not CSV text or Parquet.
    FileNotFoundError
        When `source` names no file.
    """
    frame, _ = _load(source, tz=tz, source_tz=source_tz, repair=repair, adjusted=adjusted, strict=True)
    return frame


def inspect_bars(
    source: str | Path | pd.DataFrame,
    *,
    tz: str | None = None,
    source_tz: str = "UTC",
    repair: str | Iterable[str] | None = None,
    adjusted: bool = False,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read bars like :func:`load_bars` but return every unrepaired problem instead of raising on the first.

    The frame keeps the bad rows (it may be unsorted or hold NaN), so use it only to report; structural
    errors (empty file, missing column) still raise :class:`DataError`.
    """
    return _load(source, tz=tz, source_tz=source_tz, repair=repair, adjusted=adjusted, strict=False)


def repair_report(bars: pd.DataFrame, max_rows: int = 5) -> list[str]:
    """Return one line per repair recorded in ``bars.attrs["repairs"]``, listing up to `max_rows` rows."""
    lines = []
    for item in bars.attrs.get("repairs", []):
        rows = item["rows"]
        shown = ", ".join(rows[:max_rows]) + (
            f", ... ({len(rows) - max_rows} more)" if len(rows) > max_rows else ""
        )
        noun = "row" if item["count"] == 1 else "rows"
        lines.append(f"{item['repair']}: {item['count']} {noun} with {item['problem']}: {shown}")
    return lines


def _load(
    source: str | Path | pd.DataFrame,
    *,
    tz: str | None,
    source_tz: str,
    repair: str | Iterable[str] | None,
    adjusted: bool,
    strict: bool,
) -> tuple[pd.DataFrame, list[Problem]]:
    repairs = check_load_options(tz=tz, source_tz=source_tz, repair=repair)
    raw = read_table(source)
    times, daily = parse_times(raw, tz or EXCHANGE_TZ, source_tz)
    frame = bar_columns(raw, times, adjusted)
    frame, repaired, problems = _validate(frame, raw, daily, repairs, strict)
    frame.attrs = {"source": raw.name, "repairs": repaired}
    return frame, problems


def check_load_options(
    *, tz: str | None = None, source_tz: str = "UTC", repair: str | Iterable[str] | None = None
) -> frozenset[str]:
    """Check the options of :func:`load_bars` (zones and repairs) without reading; return the repairs.

    Raises
    ------
    ParameterError
        An unknown time zone or repair, with suggestions.
    """
    _check_zone("tz", tz)
    _check_zone("source_tz", source_tz)
    return _parse_repair(repair)


def is_intraday(bars: pd.DataFrame | pd.DatetimeIndex) -> bool:
    """Return whether any bar has a time of day other than midnight (so it is not daily or coarser)."""
    index = bars if isinstance(bars, pd.DatetimeIndex) else pd.DatetimeIndex(bars.index)
    # Normalizing a million zoned stamps takes ~0.3 s, and a sweep asks several times: the first bars of
    # intraday data answer.
    head = index[:64]
    return bool((head != head.normalize()).any() or (index != index.normalize()).any())


def bar_interval(bars: pd.DataFrame | pd.DatetimeIndex) -> pd.Timedelta:
    """Return the typical bar spacing: the median difference between consecutive timestamps.

    The median ignores overnight, weekend and holiday gaps, so 1-minute bars give one minute and daily bars
    one day.
    """
    index = bars if isinstance(bars, pd.DatetimeIndex) else pd.DatetimeIndex(bars.index)
    if len(index) < 2:
        raise DataError(f"bar interval: needs at least two bars, got {len(index)}")
    return pd.Timedelta(int(np.median(np.diff(index.asi8))), unit=index.unit)


def session_dates(
    index: pd.DatetimeIndex, session_open: str = "17:00", tz: str = EXCHANGE_TZ
) -> pd.DatetimeIndex:
    """Return the futures trading day (tz-naive midnight) each bar belongs to.

    The CME session for trading day D opens at `session_open` (17:00 Chicago time) on the evening before,
    so an intraday bar stamped at or after that time belongs to the next day. A session that would fall on a
    day without a CME trade date belongs to the next trade date, as CME books it
    (:func:`rtystrat.data.calendar.next_trade_date`): the Sunday-evening open to Monday, the short Globex
    session of Martin Luther King Jr. Day to the Tuesday. An early close is simply a day with fewer bars.
    Daily bars are their own date.

    `index` holds bar start times; tz-aware ones are converted to the exchange zone `tz`, naive intraday
    ones are taken as already in exchange time. `session_open` is that zone's local time.
    """
    index = pd.DatetimeIndex(index)
    if not is_intraday(index):
        return pd.DatetimeIndex(index.tz_localize(None) if index.tz is not None else index, name="session")
    local = index.tz_convert(tz).tz_localize(None) if index.tz is not None else index
    dates = local.normalize()
    opens = pd.Timedelta(session_open + ":00" if session_open.count(":") == 1 else session_open)
    dates = dates + pd.to_timedelta((local - dates >= opens).astype(np.int64), unit="D")
    return next_trade_date(dates).rename("session")


def period_keys(index: pd.DatetimeIndex, period: str, session_open: str = "17:00") -> pd.DatetimeIndex:
    """Return, for every bar, the start date of its period (by futures session, see :func:`session_dates`).

    Periods: ``"D"`` the session date, ``"W"`` the Monday of its week, ``"M"`` the first of its month,
    ``"Q"`` the first day of its quarter.
    """
    period = _check_period(period)
    dates = session_dates(index, session_open)
    if period == "D":
        keys = dates
    elif period == "W":
        keys = dates - pd.to_timedelta(dates.day_of_week, unit="D")
    else:
        keys = dates.to_period(period).to_timestamp()
    return pd.DatetimeIndex(keys, name="time").as_unit("ns")


def resample_bars(bars: pd.DataFrame, period: str, session_open: str = "17:00") -> pd.DataFrame:
    """Aggregate bars to one OHLCV bar per session day, week, month or quarter.

    Intraday bars are grouped by futures session (:func:`session_dates`), so the daily bar of Tuesday runs
    from Monday 17:00 to Tuesday 16:00 Chicago time and a Sunday-evening open counts for Monday. Every
    period with at least one bar appears, the last one possibly incomplete.

    `period` is ``"D"`` (session day), ``"W"`` (Monday to Friday), ``"M"`` or ``"Q"`` (calendar month or
    quarter of the session dates). Returns tz-naive period start dates (:func:`period_keys`) as index
    ``"time"``, columns ``open`` (first), ``high`` (max), ``low`` (min), ``close`` (last), ``volume`` (sum).
    """
    keys = period_keys(pd.DatetimeIndex(bars.index), period, session_open)
    grouped = bars[["open", "high", "low", "close", "volume"]].groupby(keys, sort=True)
    result = pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum(),
        }
    )
    result.index.name = "time"
    result.attrs = {"source": bars.attrs.get("source", "<DataFrame>"), "repairs": []}
    return result


def _check_period(period: str) -> str:
    if period not in PERIODS:
        raise ParameterError(
            f"period: unknown value {period!r}{suggest(period, PERIODS)}; choose from {PERIODS}"
        )
    return period


def _check_zone(name: str, zone: str | None) -> None:
    """Raise ParameterError naming `name` when `zone` is not a time zone pandas knows."""
    if zone is None:
        return
    try:
        pd.Timestamp(0).tz_localize(zone)
    except (KeyError, ValueError, TypeError):
        raise ParameterError(
            f"{name}={zone!r}: unknown time zone; use an IANA name such as 'America/Chicago' or 'UTC'"
        ) from None


def _parse_repair(repair: str | Iterable[str] | None) -> frozenset[str]:
    if repair is None:
        return frozenset()
    names = repair.split(",") if isinstance(repair, str) else list(repair)
    names = [name.strip() for name in names if name.strip()]
    for name in names:
        if name not in REPAIRS:
            raise ParameterError(
                f"repair: unknown option {name!r}{suggest(name, REPAIRS)}; choose from {REPAIRS}"
            )
    return frozenset(names)


# Checks in the order they run: (name, description, repairs that fix it). Weekend rows go first because
# the stray Sunday row of real files also has inconsistent OHLC; dropping it first reports it once.
_CHECKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("unparseable_time", "unparseable timestamp", ("drop",)),
    ("weekend", "weekend row in daily data", ("drop_weekend",)),
    ("missing_price", "missing price", ("drop",)),
    ("infinite_price", "infinite price", ("drop",)),
    ("non_positive_price", "non-positive price", ("drop",)),
    ("unreadable_volume", "empty or unreadable volume", ("zero_volume", "drop")),
    ("negative_volume", "negative volume", ("drop",)),
    ("high_below_low", "high below low", ("clip", "drop")),
    ("high_below_open_close", "high below max(open, close)", ("clip", "drop")),
    ("low_above_open_close", "low above min(open, close)", ("clip", "drop")),
    ("duplicate_time", "duplicate timestamp", ("drop",)),
    ("unsorted_time", "unsorted timestamps", ("sort",)),
)
_MASKS: dict[str, Callable[[dict[str, np.ndarray], pd.DatetimeIndex], np.ndarray]] = {
    "unparseable_time": lambda v, t: t.isna(),
    "weekend": lambda v, t: t.day_of_week >= 5,
    "missing_price": lambda v, t: np.isnan(v["prices"]).any(axis=1),
    "infinite_price": lambda v, t: np.isinf(v["prices"]).any(axis=1),
    "non_positive_price": lambda v, t: (v["prices"] <= 0).any(axis=1),
    "unreadable_volume": lambda v, t: np.isnan(v["volume"]),
    "negative_volume": lambda v, t: v["volume"] < 0,
    "high_below_low": lambda v, t: v["high"] < v["low"],
    "high_below_open_close": lambda v, t: v["high"] < np.maximum(v["open"], v["close"]),
    "low_above_open_close": lambda v, t: v["low"] > np.minimum(v["open"], v["close"]),
    "duplicate_time": lambda v, t: t.duplicated(keep="first") & ~t.isna(),
    "unsorted_time": lambda v, t: np.r_[False, (t.asi8[1:] < t.asi8[:-1]) & ~t.isna()[1:] & ~t.isna()[:-1]],
}


def _validate(
    frame: pd.DataFrame, raw: RawTable, daily: bool, repairs: frozenset[str], strict: bool
) -> tuple[pd.DataFrame, list[dict], list[Problem]]:
    """Run the checks in order; repair what `repairs` allows, raise (strict) or collect the rest."""
    order = np.arange(len(frame))  # positions into `raw` of the rows still in `frame`
    repaired: list[dict] = []
    problems: list[Problem] = []
    for name, description, fixes in _CHECKS:
        if name == "weekend" and not daily:
            continue
        values = {column: frame[column].to_numpy() for column in (*PRICE_COLUMNS, "volume")}
        values["prices"] = frame[list(PRICE_COLUMNS)].to_numpy()
        mask = np.asarray(_MASKS[name](values, pd.DatetimeIndex(frame.index)), dtype=bool)
        if not mask.any():
            continue
        bad = np.flatnonzero(mask)
        detail = _detail(name, frame, bad[0], lambda row, order=order: raw.where([order[row]])[0])
        if name == "unreadable_volume":
            cell = raw.columns["volume"].iloc[order[bad[0]]]
            detail = "volume missing (empty or NA)" if pd.isna(cell) else f"volume {str(cell)!r}"
        problem = Problem(name, description, raw.where(order[bad]), detail, fixes)
        action = next((fix for fix in fixes if fix in repairs), None)
        if action is None:
            if strict:
                raise DataError(problem.message(raw.source))
            problems.append(problem)
            continue
        repaired.append(
            {"repair": action, "problem": description, "count": len(bad), "rows": list(problem.rows)}
        )
        if action == "clip":
            # Only the flagged rows, so that each later check still reports its own rows.
            frame = frame.copy()
            high = np.maximum.reduce([values["high"], values["open"], values["close"]])
            low = np.minimum.reduce([values["low"], values["open"], values["close"]])
            frame.loc[mask, "high"], frame.loc[mask, "low"] = high[mask], low[mask]
        elif action == "zero_volume":
            frame = frame.copy()
            frame.loc[mask, "volume"] = 0.0
        elif action == "sort":
            permutation = np.argsort(frame.index.asi8, kind="stable")
            frame, order = frame.iloc[permutation], order[permutation]
        else:
            frame, order = frame.iloc[~mask], order[~mask]
    return frame, repaired, problems


def _detail(check: str, frame: pd.DataFrame, row: int, where: Callable[[int], str]) -> str:
    """Describe the first offending row of `check`."""
    index = frame.index
    if check == "unparseable_time":
        return "not a date/time"
    if check == "weekend":
        return f"a {index[row]:%A}"
    if check == "duplicate_time":
        return f"same time as {where(int(np.flatnonzero(index == index[row])[0]))}"
    if check == "unsorted_time":
        return f"earlier than {where(row - 1)} on the row before"
    if check == "missing_price":
        return "no " + ", ".join(name for name in PRICE_COLUMNS if np.isnan(frame[name].iloc[row]))
    names = ("volume",) if check == "negative_volume" else PRICE_COLUMNS
    # repr, not a fixed precision: a high 1e-14 below the close (float noise) must show as different.
    return " ".join(f"{name} {float(frame[name].iloc[row])!r}" for name in names)
