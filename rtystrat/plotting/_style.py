"""Shared look of every figure: colours with one meaning each, date axes, money ticks, saving."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from rtystrat.errors import ParameterError, suggest

WIN_COLOR = "#2ca02c"
LOSS_COLOR = "#d62728"
EQUITY_COLOR = "#1f77b4"
BENCHMARK_COLOR = "#7f7f7f"
# Supports in blues, resistances in purples, the pivot in black: green/red stay reserved for trade outcomes.
LEVEL_COLORS = {
    "P": "#222222",
    "S1": "#4292c6",
    "S2": "#2171b5",
    "S3": "#08306b",
    "S4": "#08306b",
    "R1": "#807dba",
    "R2": "#6a51a3",
    "R3": "#3f007d",
    "R4": "#3f007d",
}
SMA_COLORS = ("#ff7f0e", "#8c564b", "#e377c2")
_SAVE_FORMATS = (".png", ".svg", ".pdf")


def save(fig: Figure, path: str | Path | None) -> Figure:
    """Write `fig` to `path` (format from the suffix) when a path is given, and return it."""
    if path is not None:
        path = Path(path)
        if path.suffix.lower() not in _SAVE_FORMATS:
            raise ParameterError(f"path: cannot save a figure as {path.name!r}; use one of {_SAVE_FORMATS}")
        fig.savefig(path, dpi=120)
    return fig


def date_axis(ax: Any, tz: Any = None) -> None:
    """Put concise dates on the x axis (``2025``, ``Mar``, ``13`` instead of full timestamps)."""
    locator = mdates.AutoDateLocator(tz=tz, minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))


def dollars(ax: Any) -> None:
    """Label the y axis in dollars with thousands separators (``$100,000``)."""
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"${value:,.0f}"))


def outcome_colors(pnl: pd.Series) -> list[str]:
    """Green for a trade that made money after costs, red otherwise (a scratch trade costs commission)."""
    return [WIN_COLOR if value > 0 else LOSS_COLOR for value in pnl.to_numpy(dtype=float)]


def outcome_legend() -> list[Any]:
    """Legend handles for the win and loss colours."""
    return [Patch(color=WIN_COLOR, label="win"), Patch(color=LOSS_COLOR, label="loss")]


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Raise a one-line ParameterError naming the first of `columns` missing from `frame`."""
    for column in columns:
        if column not in frame.columns:
            raise ParameterError(
                f"{what}: no column {column!r}{suggest(column, map(str, frame.columns))}; "
                f"columns are {list(map(str, frame.columns))}"
            )


def datenum(times: pd.DatetimeIndex) -> np.ndarray:
    """Matplotlib date numbers of `times` (tz-aware times are placed at their UTC instant)."""
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    return mdates.date2num(times.to_numpy())


def period_starts(levels: pd.DataFrame) -> np.ndarray:
    """Positions of the rows where any level changes: where each period's flat step begins (NaN counts)."""
    filled = levels.fillna(-np.inf)
    return np.flatnonzero(filled.ne(filled.shift()).any(axis=1))


def align_tz(times: pd.Series | pd.Index, tz: Any) -> pd.DatetimeIndex:
    """Trade times in the time zone of the bars (a JSON round trip may have dropped or changed it)."""
    index = pd.DatetimeIndex(times)
    if tz is None:
        return index if index.tz is None else index.tz_convert(None)
    return index.tz_localize(tz) if index.tz is None else index.tz_convert(tz)
