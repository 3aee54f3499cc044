"""Read a price table — CSV (also compressed), Parquet or a DataFrame — and find its columns and timestamps.

This is the reading half of :func:`rtystrat.data.bars.load_bars`: columns are matched by name in any order and
case (:data:`PRICE_COLUMNS` and their aliases, Yahoo and IBKR layouts included), timestamps are parsed
whatever their form (ISO with or without offsets, separate date and time columns, ``YYYYMMDD`` integers,
epoch seconds/milliseconds/nanoseconds, other formats pandas can infer), and each row keeps the line or row
it came from, so that validation can name it. Nothing here judges the values: that is ``bars``' job.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from rtystrat.errors import DataError

__all__ = ["PRICE_COLUMNS", "RawTable", "bar_columns", "parse_times", "read_table"]

PRICE_COLUMNS = ("open", "high", "low", "close")

# Column names are compared after lower-casing and removing everything but letters and digits, so
# "Adj Close", "adj_close" and "AdjClose" are one name. The first alias present wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "datetime", "timestamp", "date"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "last", "settle"),
    "volume": ("volume", "vol", "v"),
    "adj_close": ("adjclose",),
    "contract": ("contract",),
    "open_interest": ("openinterest", "oi"),
}


@dataclass
class RawTable:
    """A table as read, before validation: columns by canonical name plus where each row came from."""

    source: str
    name: str
    columns: dict[str, pd.Series]
    positions: np.ndarray  # 1-based line number in the file, or row number for in-memory tables
    unit: str  # "line" or "row"

    def where(self, index: np.ndarray | Iterable[int]) -> tuple[str, ...]:
        """Return where rows `index` came from, e.g. ``("line 12 (2025-07-13)",)``."""
        times = self.columns["time"]
        return tuple(f"{self.unit} {self.positions[i]} ({times.iloc[i]})" for i in index)


def read_table(source: str | Path | pd.DataFrame) -> RawTable:
    """Read `source` (a CSV or Parquet file, or a DataFrame) and match its columns to canonical names.

    A DatetimeIndex (of a frame or a Parquet file) serves as the time column.

    Raises
    ------
    DataError
        One line naming the file: a folder, not CSV text or Parquet, no rows, a missing column.
    FileNotFoundError
        When `source` names no file.
    """
    if isinstance(source, pd.DataFrame):
        table, label, name, unit = source, "<DataFrame>", "<DataFrame>", "row"
    else:
        if not isinstance(source, str | os.PathLike):
            raise DataError(f"source: expected a file path or a DataFrame, got {type(source).__name__}")
        path = Path(source)
        label, name = str(source), path.name
        if not path.exists():
            raise FileNotFoundError(f"{label}: no such file")
        if path.is_dir():
            raise DataError(f"{label}: is a folder, not a bars file")
        if not path.is_file():  # a device such as /dev/zero or a pipe: reading it would never end
            raise DataError(f"{label}: is not a regular file (a device or a pipe?)")
        if path.suffix.lower() in (".parquet", ".pq"):
            try:
                table, unit = pd.read_parquet(path), "row"
            except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
                raise DataError(f"{label}: cannot read as Parquet ({_first_line(exc)})") from None
        else:
            table, positions, unit = _read_csv(path, label)
    if unit == "row":  # a frame or a Parquet file: rows are counted, an index of times is the time column
        if isinstance(table.index, pd.DatetimeIndex):
            table = table.reset_index(names=table.index.name or "time")
        positions = np.arange(1, len(table) + 1)
    if len(table) == 0:
        raise DataError(f"{label}: empty file, no rows")
    return RawTable(label, name, _match_columns(table, label), positions, unit)


def _read_csv(path: Path, label: str) -> tuple[pd.DataFrame, np.ndarray, str]:
    try:
        # Blank lines are kept (as all-NaN rows) and removed below, so that row i stays at line i + 2.
        table = pd.read_csv(path, sep=_separator(path), skip_blank_lines=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{label}: empty file, no rows") from None
    except UnicodeDecodeError:
        raise DataError(
            f"{label}: cannot read as CSV text (not UTF-8; a binary or spreadsheet file?)"
        ) from None
    # OSError: a .gz suffix on a file that is not gzip; EOFError: a truncated .gz; zlib.error: a damaged one
    except (pd.errors.ParserError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{label}: cannot read as CSV ({_first_line(exc)})") from None
    positions = np.arange(2, len(table) + 2)
    blank = table.isna().all(axis=1).to_numpy()
    if blank.any():
        table, positions = table.loc[~blank].reset_index(drop=True), positions[~blank]
    return table, positions, "line"


def _first_line(exc: BaseException) -> str:
    """Return the first line of an exception's message (library errors can span several lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _separator(path: Path) -> str:
    """Return the field separator of the header line: comma unless the header has only semicolons/tabs."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    for separator in (",", ";", "\t"):
        if separator in header:
            return separator
    return ","


def _key(column: object) -> str:
    # pandas renames a repeated header "close" to "close.1"; it is still a close column
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\.\d+$", "", str(column)).lower())


def _match_columns(table: pd.DataFrame, label: str) -> dict[str, pd.Series]:
    keys: dict[str, str] = {}
    for position, column in enumerate(table.columns):
        key = _key(column)
        if key in keys:
            _check_same_column(table, keys[key], position, column, label)
        else:
            keys[key] = column
    found: dict[str, pd.Series] = {}
    for canonical, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in keys:
                found[canonical] = table[keys[alias]]
                break
    if "date" in keys and "time" in keys:
        # Separate date and time-of-day columns (common in platform exports): join them.
        found["time"] = table[keys["date"]].astype(str) + " " + table[keys["time"]].astype(str)
    missing = [name for name in ("time", *PRICE_COLUMNS) if name not in found]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        listed = ", ".join(str(column) for column in table.columns)
        raise DataError(f"{label}: missing column{'s' if len(missing) > 1 else ''} {names} (found: {listed})")
    return found


def _check_same_column(table: pd.DataFrame, first: object, position: int, column: object, label: str) -> None:
    """Raise when a second column of one name (``close`` twice, ``Close`` and ``close``) holds other values;
    which of the two is the price cannot be told."""
    earlier = table.iloc[:, list(table.columns).index(first)]
    later = table.iloc[:, position]
    if earlier.astype(str).equals(later.astype(str)):
        return  # a repeated column with the same values loses nothing
    differ = int(np.flatnonzero((earlier.astype(str) != later.astype(str)).to_numpy())[0])
    raise DataError(
        f"{label}: two columns named like {str(first)!r} (column {list(table.columns).index(first) + 1} and "
        f"column {position + 1}, {str(column)!r}) with different values (first at data row {differ + 1}); "
        "keep the one that holds the prices"
    )


def parse_times(raw: RawTable, tz: str, source_tz: str) -> tuple[pd.DatetimeIndex, bool]:
    """Parse the time column; return it (NaT where unparseable) and whether the bars are daily."""
    try:
        return _parse_times(raw, tz, source_tz)
    except pd.errors.OutOfBoundsDatetime as exc:
        raise DataError(
            f"{raw.source}: a timestamp outside the years 1677-2262 that pandas can hold ({_first_line(exc)})"
        ) from None


def _parse_times(raw: RawTable, tz: str, source_tz: str) -> tuple[pd.DatetimeIndex, bool]:
    column = raw.columns["time"]
    if isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column):
        times = column
    elif pd.api.types.is_numeric_dtype(column):
        times = _numeric_times(raw, column)
    else:
        text = column.astype(str).str.strip()
        try:
            times = pd.to_datetime(text, format="ISO8601", errors="coerce")
        except ValueError:  # mixed UTC offsets (real IBKR files): one instant each, in UTC
            times = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        if times.isna().all():
            times = _guess_format(text)
    times = pd.DatetimeIndex(times)
    valid = times[~times.isna()]
    local = valid.tz_localize(None) if valid.tz is not None else valid
    daily = bool(len(local)) and bool((local == local.normalize()).all())
    if daily:
        times = times.tz_localize(None) if times.tz is not None else times
    else:
        try:
            if times.tz is None:
                times = times.tz_localize(source_tz, ambiguous="raise", nonexistent="raise")
            times = times.tz_convert(tz)
        except (ValueError, KeyError) as exc:  # KeyError: unknown zone name
            raise DataError(
                f"{raw.source}: cannot place timestamps in time zone {source_tz!r}: {exc}"
            ) from None
    return times.as_unit("ns"), daily


def _numeric_times(raw: RawTable, column: pd.Series) -> pd.DatetimeIndex:
    """Parse integer stamps: YYYYMMDD dates (IBKR daily) or epoch seconds/milliseconds/nanoseconds."""
    values = pd.to_numeric(column, errors="coerce")
    median = float(values.median())
    if not 1e7 <= median < 1e19:  # epoch seconds below 1e7 are the first 4 months of 1970
        first = int(np.flatnonzero(values.notna().to_numpy())[0]) if values.notna().any() else 0
        raise DataError(
            f"{raw.source}: time column {str(column.name)!r} at {raw.where([first])[0]}: numbers such as "
            f"{values.iloc[first]} are neither YYYYMMDD dates nor epoch seconds (Excel serial dates?); write "
            "the timestamps as YYYY-MM-DD or ISO 8601 text"
        )
    if 1e7 <= median < 1e8:
        return pd.DatetimeIndex(
            pd.to_datetime(values.astype("Int64").astype(str), format="%Y%m%d", errors="coerce")
        )
    unit = "s" if median < 1e11 else "ms" if median < 1e14 else "ns"
    return pd.DatetimeIndex(pd.to_datetime(values, unit=unit, errors="coerce", utc=True))


def _guess_format(text: pd.Series) -> pd.Series:
    """Parse non-ISO stamps (e.g. ``03/14/2025``) in the format pandas infers from the first readable one."""
    for sample in text.head(100):
        fmt = guess_datetime_format(sample)
        if fmt:
            try:
                return pd.to_datetime(text, format=fmt, errors="coerce")
            except ValueError:
                return pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")


def bar_columns(raw: RawTable, times: pd.DatetimeIndex, adjusted: bool) -> pd.DataFrame:
    """Return the float64 OHLCV columns of `raw` on `times` (``contract``/``open_interest`` when present).

    Unreadable numbers (``abc``, ``n/a``, an empty cell) become NaN for validation to report; a file without a
    volume column reads as volume 0. With
    `adjusted`, close is the ``Adj Close`` column and open/high/low are scaled by ``adj_close / close``.
    """
    data = {name: pd.to_numeric(raw.columns[name], errors="coerce").to_numpy(float) for name in PRICE_COLUMNS}
    if "volume" in raw.columns:
        data["volume"] = pd.to_numeric(raw.columns["volume"], errors="coerce").to_numpy(float)
    else:
        data["volume"] = np.zeros(len(times))
    if adjusted:
        if "adj_close" not in raw.columns:
            found = ", ".join(raw.columns)
            raise DataError(f"{raw.source}: adjusted=True needs an 'Adj Close' column (found: {found})")
        adj_close = pd.to_numeric(raw.columns["adj_close"], errors="coerce").to_numpy(float)
        factor = adj_close / data["close"]
        for name in ("open", "high", "low"):
            data[name] = data[name] * factor
        data["close"] = adj_close
    if "open_interest" in raw.columns:
        data["open_interest"] = pd.to_numeric(raw.columns["open_interest"], errors="coerce").to_numpy(float)
    if "contract" in raw.columns:
        data["contract"] = raw.columns["contract"].astype(str).to_numpy()
    return pd.DataFrame(data, index=pd.DatetimeIndex(times, name="time"))
