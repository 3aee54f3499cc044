"""Check a result read back from JSON against its schema before anything is built from it.

A result file is data a user may have edited, truncated or produced elsewhere. Rebuilding it without a check
gave reports of a result whose trades had no exit price, or tracebacks deep in pandas for a string where a
number belongs. :func:`check_result` names the first thing wrong, in one line, with its JSON path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rtystrat.errors import DataError

__all__ = ["MAX_RESULT_BYTES", "REQUIRED_TRADE_COLUMNS", "check_result"]

#: Largest result file read (a 20-year minute backtest writes a few hundred MB at most); larger is refused
#: before reading, so that a wrong path (a disk image, /dev/zero) cannot exhaust memory.
MAX_RESULT_BYTES = 2 * 1024**3

#: Trade-log columns every report, chart and statistic reads.
REQUIRED_TRADE_COLUMNS = ("direction", "entry_time", "entry_price", "exit_time", "exit_price", "pnl_net")

_NUMERIC_DTYPES = ("float", "int", "uint", "bool", "Float", "Int", "UInt", "boolean")
_TEXT_DTYPES = ("object", "str", "string", "category")


def check_result(data: Any, source: str) -> None:
    """Raise a one-line :class:`DataError` naming `source` and the JSON path of the first thing wrong.

    Checks the shape :meth:`rtystrat.analysis.results.BacktestResult.to_dict` writes: ``stats`` an object of
    finite numbers or null; ``equity`` (and ``benchmark`` when not null) a non-empty list of
    ``[time text, number or null]``; ``trades`` a list of objects with exactly the ``trade_columns``, which
    include :data:`REQUIRED_TRADE_COLUMNS`, and hold a number or null where the column is numeric and text or
    null where it is a time; ``params`` and ``config`` objects.
    """

    def fail(where: str, what: str) -> DataError:
        return DataError(f"{source}: not a valid result: {where} {what}")

    _expect(data, dict, "the file", "must be a JSON object", fail)
    _expect(data.get("stats"), dict, "'stats'", "must be an object of statistics", fail)
    for key, value in data["stats"].items():
        _number(value, f"stats[{key!r}]", fail)
    _expect(data.get("time_dtype", "datetime64[ns]"), str, "'time_dtype'", "must be text", fail)
    if not data.get("time_dtype", "datetime64[ns]").startswith("datetime64["):
        raise fail("'time_dtype'", f"must be a datetime64 dtype, not {data['time_dtype']!r}")
    for name in ("equity", "benchmark"):
        pairs = data.get(name)
        if name == "benchmark" and pairs is None:
            continue
        _expect(pairs, list, f"{name!r}", "must be a list of [time, value] pairs", fail)
        if not pairs:
            raise fail(f"{name!r}", "is empty (a result has at least one equity value)")
        for row, pair in enumerate(pairs):
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise fail(f"{name}[{row}]", "must be a [time text, value] pair")
            _number(pair[1], f"{name}[{row}][1]", fail)
    columns = data.get("trade_columns")
    _expect(columns, dict, "'trade_columns'", "must be an object of column dtypes", fail)
    missing = [name for name in REQUIRED_TRADE_COLUMNS if name not in columns]
    if missing:
        raise fail("'trade_columns'", f"lacks {', '.join(map(repr, missing))}")
    for column, dtype in columns.items():
        if not isinstance(dtype, str) or not dtype.startswith((*_NUMERIC_DTYPES, *_TEXT_DTYPES, "datetime64",
                                                                "timedelta64")):  # fmt: skip
            raise fail(f"trade_columns[{column!r}]", f"is not a dtype rtystrat writes ({dtype!r})")
    trades = data.get("trades")
    _expect(trades, list, "'trades'", "must be a list of trade objects", fail)
    for row, trade in enumerate(trades):
        _expect(trade, dict, f"trades[{row}]", "must be an object", fail)
        if set(trade) != set(columns):
            gone = sorted(set(columns) - set(trade))
            extra = sorted(set(trade) - set(columns))
            what = (
                f"lacks {', '.join(map(repr, gone))}"
                if gone
                else f"has unknown {', '.join(map(repr, extra))}"
            )
            raise fail(f"trades[{row}]", what)
        for column, dtype in columns.items():
            value, where = trade[column], f"trades[{row}][{column!r}]"
            if dtype.startswith(("bool", "boolean")):
                if not (value is None or isinstance(value, bool)):
                    raise fail(where, f"must be true, false or null, not {_kind(value)}")
            elif dtype.startswith(_NUMERIC_DTYPES):
                _number(value, where, fail)
            elif dtype.startswith(("datetime64", "timedelta64")) and not (
                value is None or isinstance(value, str)
            ):
                raise fail(where, f"must be a time text or null, not {_kind(value)}")
    for name in ("params", "config"):
        _expect(data.get(name, {}), dict, f"{name!r}", "must be an object", fail)


def _expect(value: Any, kind: type, where: str, what: str, fail: Any) -> None:
    if not isinstance(value, kind):
        raise fail(where, f"{what} (found {_kind(value)})")


def _number(value: Any, where: str, fail: Any) -> None:
    """Accept null or a number that fits a float (a 400-digit integer does not)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(where, f"must be a number or null, not {_kind(value)}")
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    if not finite:
        raise fail(where, "is a number too large for a float")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return f"{type(value).__name__} {value!r}"[:60]
