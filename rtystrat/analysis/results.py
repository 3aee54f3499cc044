"""The result of a backtest: statistics, trade log and equity curve, as plain pandas and plain JSON.

A :class:`BacktestResult` is what :func:`rtystrat.execution.engine.run_backtest` returns and what the report,
the plots and the CLI read. It serialises to a documented JSON object (never a pickle) that scripts can rely
on::

    {"schema": "rtystrat.result/2",
     "stats": {"Return [%]": 12.3, "# Trades": 41, ...},
     "trades": [{"setup": ..., "trade_id": 1, "leg": 1, "direction": ..., "entry_time": "2025-03-14T00:00:00",
                 ...}, ...],
     "trade_columns": {"entry_time": "datetime64[us]", ...},
     "equity": [["2025-03-13T00:00:00", 100000.0], ...], "benchmark": [[time, value], ...] | null,
     "time_dtype": "datetime64[ns, America/Chicago]", "params": {...}, "config": {...}}

Schema ``rtystrat.result/2`` writes one trade row per exit fill: a trade that scales out over several targets
has a row per leg (``trade_id``, ``leg``; ``# Trades`` counts it once). In ``/1`` each row was a whole trade
and had neither key; for this schema version a ``/1`` file is still read, each row becoming a trade of one
leg (``trade_id`` counted per setup in row order, ``leg`` 1); ``/3`` will refuse it.

Times are ISO 8601 (with the UTC offset when the data is tz-aware), durations ISO 8601 durations, and NaN or
±inf become ``null``. Money (``[$]`` statistics, equity, benchmark) is written in cents; trade-log prices are
on the tick grid and its $ columns in cents already (:mod:`rtystrat.execution.tradelog`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rtystrat.analysis import metrics
from rtystrat.analysis.formatting import (
    SUMMARY_TRADE_COLUMNS,
    config_facts,
    format_time,
    format_value,
    is_count,
    run_facts,
)
from rtystrat.analysis.resultcheck import MAX_RESULT_BYTES, check_result
from rtystrat.errors import DataError

__all__ = ["SCHEMA", "BacktestResult"]

SCHEMA = "rtystrat.result/2"
_PREVIOUS_SCHEMA = "rtystrat.result/1"  # still read, as trades of one leg each
_CENTS = 2  # decimals of money in JSON: 97,360.00000000001 $ is 97,360.00 $

_SUMMARY_BY_SETUP = ("# Trades", "Win Rate [%]", "Profit Factor", "Expectancy [R]", "Net P&L [$]")


@dataclass(frozen=True, eq=False, repr=False)
class BacktestResult:
    """Statistics, trade log and equity curve of one backtest.

    Attributes
    ----------
    stats : pd.Series
        Float statistics with units in the keys (see :func:`rtystrat.analysis.metrics.compute_stats`).
    trades : pd.DataFrame
        Trade log, one row per exit fill (a trade that scales out has one per leg, same ``trade_id``).
    equity : pd.Series
        Account value in $ at each bar close.
    params : dict
        Strategy parameters of the run (plain data).
    config : dict
        Run settings (contract, cash, fill policy, ...) as plain data.
    benchmark : pd.Series or None
        Buy-and-hold equity of the same contract, if computed.
    """

    stats: pd.Series
    trades: pd.DataFrame
    equity: pd.Series
    params: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    benchmark: pd.Series | None = None

    @classmethod
    def from_run(
        cls,
        trades: pd.DataFrame,
        equity: pd.Series,
        *,
        params: Mapping[str, Any],
        config: Any,
        benchmark: pd.Series | None = None,
        bars_per_year: float | None = None,
        risk_free: float = 0.0,
    ) -> BacktestResult:
        """Build a result from a run's trade log and equity curve, computing the statistics.

        Parameters
        ----------
        trades, equity
            As recorded by the analyzers.
        params : Mapping
            Strategy parameters.
        config : dataclass instance or Mapping
            Run settings; a dataclass (``RunConfig``) is converted with ``dataclasses.asdict``.
        benchmark : pd.Series, optional
            Buy-and-hold equity (:func:`rtystrat.analysis.metrics.buy_and_hold`).
        bars_per_year : float, optional
            Annualisation factor; estimated from the equity index when None.
        risk_free : float
            Annual risk-free rate for Sharpe and Sortino.
        """
        stats = metrics.compute_stats(
            equity, trades, bars_per_year=bars_per_year, benchmark=benchmark, risk_free=risk_free
        )
        if dataclasses.is_dataclass(config) and not isinstance(config, type):
            config = dataclasses.asdict(config)
        return cls(stats, trades, equity, _plain(dict(params or {})), _plain(dict(config or {})), benchmark)

    def __repr__(self) -> str:
        return (
            f"BacktestResult(bars={len(self.equity)}, trades={len(self.trades)}, "
            f"return={self.stats.get('Return [%]', float('nan')):.2f}%)"
        )

    # --- derived tables
    @property
    def bars_per_year(self) -> float:
        """Annualisation factor the statistics used."""
        return float(self.stats["Bars per Year"])

    def by_setup(self) -> pd.DataFrame:
        """Return trade statistics per setup (:func:`rtystrat.analysis.metrics.stats_by`)."""
        return metrics.stats_by(self.trades, self.equity, "setup", bars_per_year=self.bars_per_year)

    def by_direction(self) -> pd.DataFrame:
        """Return trade statistics per direction (long/short)."""
        return metrics.stats_by(self.trades, self.equity, "direction", bars_per_year=self.bars_per_year)

    def by_year(self) -> pd.DataFrame:
        """Return the per-calendar-year table (:func:`rtystrat.analysis.metrics.stats_by_year`)."""
        return metrics.stats_by_year(self.trades, self.equity)

    def drawdowns(self, top: int | None = 5) -> pd.DataFrame:
        """Return the `top` deepest drawdowns (:func:`rtystrat.analysis.metrics.drawdown_table`)."""
        return metrics.drawdown_table(self.equity, top)

    # --- JSON
    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready plain data (see the module docstring for the shape)."""
        return {
            "schema": SCHEMA,
            "stats": {key: _stat_value(key, value) for key, value in self.stats.items()},
            "trades": _records(self.trades),
            "trade_columns": {column: str(dtype) for column, dtype in self.trades.dtypes.items()},
            "equity": _pairs(self.equity.round(_CENTS)),
            "benchmark": None if self.benchmark is None else _pairs(self.benchmark.round(_CENTS)),
            "time_dtype": str(self.equity.index.dtype),
            "params": _plain(self.params),
            "config": _plain(self.config),
        }

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 1) -> str:
        """Return the result as strict JSON text, and write it to `path` when given."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> BacktestResult:
        """Rebuild a result from :meth:`to_dict` output, refusing other schema versions."""
        schema = data.get("schema") if isinstance(data, Mapping) else None
        if schema is None:
            raise DataError(f"{source}: not an rtystrat result (no 'schema' key)")
        if schema == _PREVIOUS_SCHEMA:
            data = _one_leg_trades(data)
        elif schema != SCHEMA:
            raise DataError(
                f"{source}: written with result schema {schema!r}, this rtystrat reads {SCHEMA!r}; "
                "re-run the backtest to regenerate it"
            )
        check_result(data, source)
        time_dtype = data.get("time_dtype", "datetime64[ns]")
        stats = pd.Series({key: np.nan if v is None else v for key, v in data["stats"].items()}, dtype=float)
        benchmark = data.get("benchmark")
        try:
            return cls(
                stats=stats,
                trades=_frame(data["trades"], data["trade_columns"]),
                equity=_series(data["equity"], time_dtype, "equity"),
                params=dict(data.get("params", {})),
                config=dict(data.get("config", {})),
                benchmark=None if benchmark is None else _series(benchmark, time_dtype, "buy_and_hold"),
            )
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime) as exc:
            # what the shape check cannot see: a time text that is no time, a dtype pandas does not know
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DataError(f"{source}: not a valid result: {message}") from None

    @classmethod
    def from_json(cls, path: str | Path) -> BacktestResult:
        """Read a result written by :meth:`to_json`; a file from another schema version is refused."""
        file = Path(path)
        if not file.is_file():
            raise DataError(f"{path}: not a regular file")
        if file.stat().st_size > MAX_RESULT_BYTES:
            raise DataError(
                f"{path}: {file.stat().st_size:,} bytes is larger than any result rtystrat writes"
            )
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise DataError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from None
        except UnicodeDecodeError:
            raise DataError(f"{path}: not valid JSON (not UTF-8 text)") from None
        except (RecursionError, ValueError) as error:  # nesting too deep; a number of over 4,300 digits
            raise DataError(
                f"{path}: not a valid result ({type(error).__name__}: nested or too long)"
            ) from None
        return cls.from_dict(data, source=str(path))

    # --- text
    def summary(self) -> str:
        """Return a compact, aligned two-column text summary for a terminal."""
        setups = sorted(self.trades["setup"].unique()) if "setup" in self.trades else []
        facts = run_facts(self.equity.index, self.trades)
        facts += [f"setups: {', '.join(map(str, setups))}"] if setups else []
        lines = ["  ·  ".join(facts)]
        cells = [(key, format_value(key, value)) for key, value in self.stats.items()]
        half = (len(cells) + 1) // 2
        left, right = cells[:half], cells[half:]
        key_width = max(len(key) for key, _ in cells)
        value_width = max(len(text) for _, text in cells)
        for row, (key, text) in enumerate(left):
            line = f"{key:<{key_width}}  {text:>{value_width}}"
            if row < len(right):
                line += f"    {right[row][0]:<{key_width}}  {right[row][1]:>{value_width}}"
            lines.append(line.rstrip())
        if len(setups) > 1:
            lines += ["", _text_table(self.by_setup()[list(_SUMMARY_BY_SETUP)])]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """Return a markdown report: statistics, per setup, per direction, per year, drawdowns, trades."""
        stats = pd.DataFrame({"Value": self.stats}).rename_axis("Statistic")
        sections = [("Statistics", stats)]
        if "setup" in self.trades:
            sections.append(("By setup", self.by_setup().T.rename_axis("Statistic")))
        if "direction" in self.trades:
            sections.append(("By direction", self.by_direction().T.rename_axis("Statistic")))
        sections.append(("By year", self.by_year()))
        drawdowns = self.drawdowns(5)
        sections.append(("Deepest drawdowns", drawdowns.set_axis(drawdowns.index + 1).rename_axis("rank")))
        columns = [column for column in SUMMARY_TRADE_COLUMNS if column in self.trades]
        sections.append(("Trades", self.trades[columns]))
        blocks = ["# Backtest report", _markdown_facts(self.config)]
        blocks += [f"## {title}\n\n{_markdown_table(table)}" for title, table in sections]
        return "\n\n".join(block for block in blocks if block) + "\n"


# --- plain data
def _plain(value: Any) -> Any:
    """Convert `value` to JSON-ready data: NaN/inf → None, times → ISO 8601, numpy → Python."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [_plain(item) for item in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | pd.Timedelta):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        return value
    if pd.isna(value):
        return None
    return str(value)


def _stat_value(key: str, value: float) -> float | int | None:
    if not math.isfinite(value):
        return None
    if is_count(key):
        return int(value)
    return round(float(value), _CENTS) if str(key).endswith("[$]") else float(value)


def _records(trades: pd.DataFrame) -> list[dict[str, Any]]:
    columns = {column: [_plain(item) for item in trades[column].tolist()] for column in trades.columns}
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _pairs(series: pd.Series) -> list[list[Any]]:
    return [[time.isoformat(), _plain(value)] for time, value in series.items()]


def _times(values: list[Any], dtype: str) -> pd.DatetimeIndex:
    """Parse ISO times back to the stored dtype, e.g. ``datetime64[us, America/Chicago]``."""
    timezone = dtype.split(", ", 1)[1].rstrip("]") if ", " in dtype else None
    if timezone is None:
        return pd.DatetimeIndex(pd.to_datetime(values, format="ISO8601")).astype(dtype)
    # offsets differ across a DST change, so aware times are parsed through UTC and converted back
    return (
        pd.DatetimeIndex(pd.to_datetime(values, format="ISO8601", utc=True))
        .tz_convert(timezone)
        .astype(dtype)
    )


def _series(pairs: list[list[Any]], time_dtype: str, name: str) -> pd.Series:
    times = _times([time for time, _ in pairs], time_dtype)
    values = [np.nan if value is None else value for _, value in pairs]
    return pd.Series(values, index=times.rename("time"), name=name, dtype=float)


def _one_leg_trades(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return a ``rtystrat.result/1`` object with the ``/2`` trade keys: every row a trade of one leg."""
    trades = data.get("trades")
    columns = data.get("trade_columns")
    if not isinstance(trades, list) or not isinstance(columns, Mapping) or "trade_id" in columns:
        return dict(data)  # the shape check names what is wrong
    counts: dict[Any, int] = {}
    rows = []
    for row in trades:
        if not isinstance(row, Mapping):
            return dict(data)
        setup = row.get("setup")
        counts[setup] = counts.get(setup, 0) + 1
        rows.append({"setup": setup, "trade_id": counts[setup], "leg": 1, **row})
    typed = {"setup": columns.get("setup", "object"), "trade_id": "int64", "leg": "int64", **columns}
    return {**data, "trades": rows, "trade_columns": typed}


def _frame(records: list[dict[str, Any]], dtypes: Mapping[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(dtypes) or None)
    for column, dtype in dtypes.items():
        values = frame[column]
        if dtype.startswith("datetime64"):
            frame[column] = pd.Series(_times(values.tolist(), dtype), index=frame.index)
        elif dtype.startswith("timedelta64"):
            frame[column] = pd.to_timedelta(values).astype(dtype)
        else:
            frame[column] = values.astype(dtype)
    return frame


# --- tables
def _cells(table: pd.DataFrame) -> tuple[list[str], list[list[str]], list[bool]]:
    """Return the header, formatted rows and a right-align flag per column (numbers right)."""
    header = [str(table.index.name or "")] + [str(column) for column in table.columns]
    # A transposed statistics table has the statistic in the row label: it decides the format.
    by_row = table.index.name == "Statistic"
    rows = [
        [format_time(label) if isinstance(label, pd.Timestamp) else str(label)]
        + [
            format_value(label if by_row else column, value)
            for column, value in zip(table.columns, row, strict=True)
        ]
        for label, row in zip(table.index, table.itertuples(index=False), strict=True)
    ]
    numeric = [False] + [pd.api.types.is_numeric_dtype(dtype) for dtype in table.dtypes]
    return header, rows, numeric


def _text_table(table: pd.DataFrame) -> str:
    header, rows, numeric = _cells(table)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.rjust(w) if right else cell.ljust(w)
            for cell, w, right in zip(row, widths, numeric, strict=True)
        ).rstrip()
        for row in [header, *rows]
    )


def _markdown_table(table: pd.DataFrame) -> str:
    """Render `table` (index as first column) as a GitHub-flavoured markdown table, without tabulate."""
    if table.empty:
        return "_none_"
    header, rows, numeric = _cells(table)
    escape = [[cell.replace("|", "\\|") for cell in row] for row in [header, *rows]]
    rule = ["---:" if right else ":---" for right in numeric]
    return "\n".join("| " + " | ".join(row) + " |" for row in [escape[0], rule, *escape[1:]])


def _markdown_facts(config: Mapping[str, Any]) -> str:
    return " · ".join(f"{key.replace('_', ' ')}: **{value}**" for key, value in config_facts(config))
