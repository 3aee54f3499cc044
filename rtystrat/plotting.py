"""Figures from backtest results: equity, price with levels and trades, heatmap, walk-forward, Monte Carlo.

Every function builds a :class:`matplotlib.figure.Figure` directly (no pyplot global state, no backend
switch), returns it, and writes it to `path` when one is given (format from the suffix: ``.png``, ``.svg``,
``.pdf``). Nothing here opens a window, so it works the same on a laptop, a server and in a notebook (a
notebook displays a returned Figure by itself).

Colours carry one meaning each: green/red only for winning/losing trades, blue for the strategy's equity,
grey for the benchmark and for candles.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter

from rtystrat.errors import ParameterError, suggest

__all__ = ["plot_equity", "plot_heatmap", "plot_montecarlo", "plot_price", "plot_walkforward"]

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
# Above this many bars in view, candles are thinner than a pixel at usual sizes; a close line reads better.
_MAX_CANDLES = 300
_OFFSET = re.compile(r"\s*([-+]?\d+(?:\.\d*)?)\s*([a-z%]*)\s*", re.IGNORECASE)  # "13pt", "1.5atr", "20"


def _save(fig: Figure, path: str | Path | None) -> Figure:
    """Write `fig` to `path` (format from the suffix) when a path is given, and return it."""
    if path is not None:
        path = Path(path)
        if path.suffix.lower() not in _SAVE_FORMATS:
            raise ParameterError(f"path: cannot save a figure as {path.name!r}; use one of {_SAVE_FORMATS}")
        fig.savefig(path, dpi=120)
    return fig


def _date_axis(ax: Any, tz: Any = None) -> None:
    """Put concise dates on the x axis (``2025``, ``Mar``, ``13`` instead of full timestamps)."""
    locator = mdates.AutoDateLocator(tz=tz, minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))


def _dollars(ax: Any) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"${value:,.0f}"))


def _outcome_colors(pnl: pd.Series) -> list[str]:
    """Green for a trade that made money after costs, red otherwise (a scratch trade costs commission)."""
    return [WIN_COLOR if value > 0 else LOSS_COLOR for value in pnl.to_numpy(dtype=float)]


def _outcome_legend() -> list[Any]:
    return [Patch(color=WIN_COLOR, label="win"), Patch(color=LOSS_COLOR, label="loss")]


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise ParameterError(
                f"{what}: no column {column!r}{suggest(column, map(str, frame.columns))}; "
                f"columns are {list(map(str, frame.columns))}"
            )


def _datenum(times: pd.DatetimeIndex) -> np.ndarray:
    """Matplotlib date numbers of `times` (tz-aware times are placed at their UTC instant)."""
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    return mdates.date2num(times.to_numpy())


def _align_tz(times: pd.Series | pd.Index, tz: Any) -> pd.DatetimeIndex:
    """Trade times in the time zone of the bars (a JSON round trip may have dropped or changed it)."""
    index = pd.DatetimeIndex(times)
    if tz is None:
        return index if index.tz is None else index.tz_convert(None)
    return index.tz_localize(tz) if index.tz is None else index.tz_convert(tz)


def plot_equity(
    equity: pd.Series,
    benchmark: pd.Series | None = None,
    trades: pd.DataFrame | None = None,
    *,
    title: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Plot the equity curve above its underwater (drawdown) panel.

    Parameters
    ----------
    equity : pd.Series
        Account value in $ at each bar close.
    benchmark : pd.Series, optional
        Buy-and-hold account value in $ on the same index, drawn in grey.
    trades : pd.DataFrame, optional
        Trade log; each exit is marked on the equity curve, green for a win and red for a loss (``pnl_net``).
    title : str, optional
        Figure title; default "Equity".
    path : str or Path, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    Figure
        Two axes: equity ($) and drawdown (% below the running peak, ``equity / cummax(equity) - 1``).
    """
    if equity.empty:
        raise ParameterError("equity: the equity curve is empty; nothing to plot")
    tz = equity.index.tz
    x = _datenum(equity.index)
    fig = Figure(figsize=(11, 6), layout="constrained")
    ax_equity, ax_drawdown = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    ax_equity.plot(x, equity.to_numpy(), color=EQUITY_COLOR, linewidth=1.4, label="strategy")
    if benchmark is not None and not benchmark.empty:
        ax_equity.plot(
            _datenum(_align_tz(benchmark.index, tz)),
            benchmark.to_numpy(),
            color=BENCHMARK_COLOR,
            linewidth=1.0,
            label="buy & hold",
        )
    handles, _ = ax_equity.get_legend_handles_labels()
    if trades is not None and not trades.empty:
        exits = _align_tz(trades["exit_time"], tz)
        # An exit between bar times shows on the equity of the bar before it.
        values = equity.asof(exits).to_numpy(dtype=float)
        ax_equity.scatter(
            _datenum(exits), values, c=_outcome_colors(trades["pnl_net"]), s=18, zorder=3, gid="trade-exits"
        )
        handles += _outcome_legend()
    ax_equity.set_ylabel("Equity [$]")
    _dollars(ax_equity)
    ax_equity.grid(alpha=0.3)
    ax_equity.legend(handles=handles, loc="best", fontsize="small")
    ax_equity.set_title(title or "Equity")

    drawdown = 100.0 * (equity / equity.cummax() - 1.0)
    ax_drawdown.fill_between(x, drawdown.to_numpy(), 0.0, color=LOSS_COLOR, alpha=0.35, lw=0)
    ax_drawdown.plot(x, drawdown.to_numpy(), color=LOSS_COLOR, linewidth=0.8)
    worst = int(np.argmin(drawdown.to_numpy()))
    ax_drawdown.plot(x[worst], drawdown.iloc[worst], marker="o", color=LOSS_COLOR, ms=4)
    ax_drawdown.text(
        0.99,
        0.08,
        f"max drawdown {drawdown.iloc[worst]:.1f} % on {drawdown.index[worst]:%Y-%m-%d}",
        transform=ax_drawdown.transAxes,
        ha="right",
        fontsize="small",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8},
    )
    ax_drawdown.set_ylabel("Drawdown [%]")
    ax_drawdown.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax_drawdown.set_ylim(top=0.0)
    ax_drawdown.grid(alpha=0.3)
    _date_axis(ax_drawdown, tz)
    return _save(fig, path)


def _draw_candles(ax: Any, x: np.ndarray, view: pd.DataFrame, width: float) -> None:
    """Draw OHLC candles: hollow when the bar closed up, filled grey when it closed down."""
    opens, highs, lows, closes = (view[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close"))
    left, right = x - width / 2, x + width / 2
    ax.add_collection(
        LineCollection(np.stack([np.c_[x, lows], np.c_[x, highs]], axis=1), colors="#444444", lw=0.8)
    )
    bodies = np.stack([np.c_[left, opens], np.c_[left, closes], np.c_[right, closes], np.c_[right, opens]], 1)
    faces = np.where(closes >= opens, "white", "#555555")
    ax.add_collection(PolyCollection(bodies, facecolors=faces, edgecolors="#444444", lw=0.6, zorder=2))


def _draw_levels(ax: Any, x: np.ndarray, view: pd.DataFrame, levels: Sequence[str], spacing: float) -> None:
    """Draw each level as one flat segment per period, without the vertical jumps between periods."""
    values = view[list(levels)]
    starts = np.flatnonzero(values.fillna(-np.inf).ne(values.fillna(-np.inf).shift()).any(axis=1))
    ends = np.append(x[starts[1:]], x[-1] + spacing)
    for name in levels:
        y = values[name].to_numpy(dtype=float)[starts]
        segments = [
            [(x0, level), (x1, level)]
            for x0, x1, level in zip(x[starts], ends, y, strict=True)
            if np.isfinite(level)
        ]
        color = LEVEL_COLORS.get(name, "#444444")
        ax.add_collection(
            LineCollection(segments, colors=color, lw=1.0, linestyles="--", gid=f"level-{name}")
        )


def _label_levels(ax: Any, view: pd.DataFrame, levels: Sequence[str]) -> None:
    """Write each level's name and last value just right of the axes, nudged apart so labels never overlap."""
    last = view[list(levels)].dropna(how="all")
    if last.empty:
        return
    latest = last.iloc[-1].dropna().sort_values()
    low, high = ax.get_ylim()
    positions = ((latest - low) / (high - low)).to_numpy(copy=True)
    gap = 0.045  # axes fraction; about one line of small text on a 4-inch-high panel
    for i in range(1, len(positions)):
        positions[i] = max(positions[i], positions[i - 1] + gap)
    positions -= max(positions[-1] - 1.0, 0.0)
    for (name, value), y in zip(latest.items(), positions, strict=True):
        ax.text(
            1.01,
            y,
            f"{name} {value:,.1f}",
            transform=ax.transAxes,
            va="center",
            fontsize="small",
            color=LEVEL_COLORS.get(str(name), "#444444"),
            clip_on=False,
            gid=f"level-label-{name}",
        )


def _draw_trades(ax: Any, trades: pd.DataFrame, view: pd.DataFrame) -> list[Any]:
    """Mark entries (▲ long, ▼ short) and exits (✕) coloured by outcome; return the legend handles."""
    tz = view.index.tz
    entry_times, exit_times = _align_tz(trades["entry_time"], tz), _align_tz(trades["exit_time"], tz)
    first, last = view.index[0], view.index[-1]
    colors = np.asarray(_outcome_colors(trades["pnl_net"]))
    shown = (entry_times <= last) & (exit_times >= first)
    if not shown.any():
        return []
    entry_x, exit_x = _datenum(entry_times), _datenum(exit_times)
    entry_y, exit_y = trades["entry_price"].to_numpy(dtype=float), trades["exit_price"].to_numpy(dtype=float)
    ax.add_collection(
        LineCollection(
            np.stack([np.c_[entry_x, entry_y], np.c_[exit_x, exit_y]], axis=1)[shown],
            colors=list(colors[shown]),
            lw=1.2,
            linestyles=":",
            zorder=3,
        )
    )
    entry_in = np.asarray((entry_times >= first) & (entry_times <= last))
    exit_in = np.asarray((exit_times >= first) & (exit_times <= last))
    handles = []
    for direction, marker in (("long", "^"), ("short", "v")):
        rows = entry_in & (trades["direction"].to_numpy() == direction)
        if rows.any():
            ax.scatter(
                entry_x[rows],
                entry_y[rows],
                marker=marker,
                s=70,
                c=list(colors[rows]),
                edgecolors="black",
                linewidths=0.6,
                zorder=4,
                gid=f"entries-{direction}",
            )
            handles.append(
                Line2D([], [], ls="", marker=marker, color="#999999", mec="black", label=f"{direction} entry")
            )
    if exit_in.any():
        ax.scatter(
            exit_x[exit_in],
            exit_y[exit_in],
            marker="X",
            s=60,
            c=list(colors[exit_in]),
            edgecolors="black",
            linewidths=0.6,
            zorder=4,
            gid="exits",
        )
        handles.append(Line2D([], [], ls="", marker="X", color="#999999", mec="black", label="exit"))
    return handles + _outcome_legend()


def plot_price(
    frame: pd.DataFrame,
    trades: pd.DataFrame | None = None,
    levels: Sequence[str] = ("P", "S1", "S2", "S3", "R1"),
    sma: Sequence[str] = ("sma_50", "sma_100"),
    rsi: str | None = "rsi_14",
    start: Any = None,
    end: Any = None,
    *,
    candles: bool | None = None,
    title: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Plot price with the period's levels, moving averages, an RSI panel and every trade.

    Parameters
    ----------
    frame : pd.DataFrame
        Indicator frame (bars plus level, SMA and RSI columns, as ``rtystrat.features.indicator_frame``
        returns).
    trades : pd.DataFrame, optional
        Trade log. Entries are marked ▲ (long) or ▼ (short) at the entry price, exits ✕ at the exit price,
        joined by a dotted line; green for a win and red for a loss (``pnl_net``). Only entries and exits
        inside the window are marked.
    levels : sequence of str
        Level columns, drawn as flat dashed steps per period and labelled with their latest value at the
        right edge.
    sma : sequence of str
        Moving-average columns drawn as lines.
    rsi : str or None
        RSI column for the lower panel (with the 30/70 zones); None for no panel.
    start, end : date-like, optional
        Window to plot (inclusive), e.g. ``"2025-01-01"``.
    candles : bool, optional
        Draw candles (True) or a close line (False); by default candles when at most 300 bars are in view.
    title : str, optional
        Figure title; by default the data source and the window.
    path : str or Path, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    Figure
        The price axes, plus the RSI axes below it when `rsi` is given.
    """
    _require_columns(frame, ["open", "high", "low", "close", *levels, *sma, *([rsi] if rsi else [])], "frame")
    view = frame.loc[start:end]
    if view.empty:
        raise ParameterError(
            f"start/end: no bars between {start} and {end}; the data spans "
            f"{frame.index[0]} to {frame.index[-1]}"
        )
    x = _datenum(view.index)
    spacing = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    fig = Figure(figsize=(12, 7 if rsi else 5.5), layout="constrained")
    axes = fig.subplots(2 if rsi else 1, 1, sharex=True, height_ratios=(4, 1) if rsi else None, squeeze=False)
    ax_price = axes[0, 0]
    handles: list[Any] = []
    if candles if candles is not None else len(view) <= _MAX_CANDLES:
        _draw_candles(ax_price, x, view, 0.7 * spacing)
    else:
        handles += ax_price.plot(x, view["close"].to_numpy(), color="#444444", lw=1.0, label="close")
    if levels:
        _draw_levels(ax_price, x, view, levels, spacing)
    for name, color in zip(sma, itertools.cycle(SMA_COLORS)):
        handles += ax_price.plot(
            x, view[name].to_numpy(), color=color, lw=1.2, label=name.replace("_", " ").upper()
        )
    if trades is not None and not trades.empty:
        handles += _draw_trades(ax_price, trades, view)
    ax_price.autoscale_view()
    ax_price.set_xlim(x[0] - spacing, x[-1] + spacing)
    if levels:
        _label_levels(ax_price, view, levels)
    ax_price.set_ylabel("Price")
    ax_price.grid(alpha=0.25)
    ax_price.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=len(handles) or 1,
        fontsize="small",
        frameon=False,
    )
    source = frame.attrs.get("source", "")
    fig.suptitle(title or f"{source}  {view.index[0]:%Y-%m-%d} – {view.index[-1]:%Y-%m-%d}".strip())
    if rsi:
        ax_rsi = axes[1, 0]
        ax_rsi.axhspan(30, 70, color="#eeeeee", lw=0)
        for bound in (30, 70):
            ax_rsi.axhline(bound, color="#999999", lw=0.8, ls="--")
        ax_rsi.plot(x, view[rsi].to_numpy(), color="#6a3d9a", lw=1.0)
        ax_rsi.set_ylim(0, 100)
        ax_rsi.set_yticks([30, 70])
        ax_rsi.set_ylabel(rsi.replace("_", " ").upper())
    _date_axis(axes[-1, 0], view.index.tz)
    return _save(fig, path)


def _axis_order(values: pd.Series) -> list[Any]:
    """Order a parameter's values for an axis.

    Numbers and offsets with one unit (``"5pt"``, ``"10pt"``) in increasing order; anything else (``"pivot"``,
    ``"r1"``, mixed units) in the order the sweep lists them.
    """
    unique = list(pd.unique(values))
    if pd.api.types.is_numeric_dtype(values):
        return sorted(unique)
    offsets = [_OFFSET.fullmatch(str(value)) for value in unique]
    if all(offsets) and len({match[2] for match in offsets}) == 1:
        return [value for _, value in sorted(zip((float(m[1]) for m in offsets), unique, strict=True))]
    return unique


def plot_heatmap(
    sweep_frame: pd.DataFrame,
    x: str = "stop_offset",
    y: str | None = None,
    value: str = "Expectancy [R]",
    *,
    aggregate: str = "max",
    title: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Plot one stat of a sweep over two parameters as an annotated heatmap.

    Parameters
    ----------
    sweep_frame : pd.DataFrame
        Sweep results: one row per combination, parameters in the index (or in columns), stats in columns.
    x, y : str
        Parameters for the columns and rows of the map. `y` defaults to the only other parameter.
    value : str
        Stat to colour by, e.g. ``"Expectancy [R]"`` or ``"Profit Factor"``.
    aggregate : str
        How cells combine rows that differ in other parameters (pandas aggregation name); ``"max"`` shows
        the best value reached over them.
    title : str, optional
        Figure title; by default the stat.
    path : str or Path, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    Figure
        The map (grey cells: no result, e.g. too few trades) with the best cell outlined, and a colour bar;
        diverging colours centred at 0 when the stat takes both signs.
    """
    parameters = [name for name in sweep_frame.index.names if name is not None]
    table = sweep_frame.reset_index() if parameters else sweep_frame
    if y is None:
        others = [name for name in parameters if name != x]
        if len(others) != 1:
            raise ParameterError(
                f"y: name the parameter for the rows, one of {others or list(table.columns)}"
            )
        y = others[0]
    _require_columns(table, [x, y, value], "sweep")
    grid = (
        table.groupby([y, x], sort=False)[value]
        .agg(aggregate)
        .unstack(x)
        .reindex(index=_axis_order(table[y]), columns=_axis_order(table[x]))
    )
    cells = np.ma.masked_invalid(grid.to_numpy(dtype=float))
    if cells.mask.all():
        raise ParameterError(f"value: {value!r} has no finite value in the sweep; nothing to plot")
    low, high = float(cells.min()), float(cells.max())
    diverging = low < 0.0 < high
    cmap = matplotlib.colormaps["RdBu" if diverging else "viridis"].with_extremes(bad="#dddddd")
    norm = TwoSlopeNorm(0.0, low, high) if diverging else Normalize(low, high)

    fig = Figure(
        figsize=(max(5.0, 0.8 * grid.shape[1] + 3.0), max(4.0, 0.5 * grid.shape[0] + 2.0)),
        layout="constrained",
    )
    ax = fig.subplots()
    image = ax.imshow(cells, cmap=cmap, norm=norm, origin="lower", aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [str(label) for label in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(label) for label in grid.index])
    if grid.shape[1] > 10:
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if cells.size <= 400:  # beyond that the numbers no longer fit their cells
        for (row, column), cell in np.ndenumerate(cells.filled(np.nan)):
            if np.isfinite(cell):
                red, green, blue, _ = cmap(norm(cell))
                luminance = 0.299 * red + 0.587 * green + 0.114 * blue  # ITU-R BT.601 luma
                ax.text(
                    column,
                    row,
                    f"{cell:.2f}",
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color="white" if luminance < 0.5 else "black",
                )
    best_row, best_column = np.unravel_index(np.ma.argmax(cells), cells.shape)
    ax.add_patch(
        Rectangle((best_column - 0.5, best_row - 0.5), 1, 1, fill=False, lw=2, ec="black", gid="best")
    )
    fig.colorbar(image, ax=ax, label=value)
    if title is None:
        title = value if len(parameters) <= 2 else f"{value} ({aggregate} over the other parameters)"
    ax.set_title(title)
    return _save(fig, path)


def plot_montecarlo(
    mc_result: Any,
    *,
    sample_paths: int = 100,
    title: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Plot a Monte Carlo run: a fan of equity paths with percentile bands, and the max-drawdown histogram.

    Parameters
    ----------
    mc_result : MonteCarloResult
        From ``rtystrat.montecarlo.monte_carlo(..., keep_paths=True)``.
    sample_paths : int
        How many individual paths to draw under the bands (thin grey lines).
    title : str, optional
        Figure title; by default the method and the number of paths and trades.
    path : str or Path, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    Figure
        Left: equity after each trade — sample paths, the 5–95 % and 25–75 % bands and the median. Right:
        histogram of each path's max drawdown (% of the peak when the run had a starting equity, else in the
        outcomes' unit) with its median and 5th percentile (the bad case) marked.
    """
    bands = mc_result.equity_bands((5.0, 25.0, 50.0, 75.0, 95.0))
    unit = mc_result.unit
    trades = bands.index.to_numpy()
    fig = Figure(figsize=(12, 5), layout="constrained")
    ax_fan, ax_drawdown = fig.subplots(1, 2, width_ratios=(2, 1))
    shown = mc_result.paths[:sample_paths]
    ax_fan.add_collection(
        LineCollection(
            [np.c_[trades, row] for row in shown], colors="#999999", lw=0.5, alpha=0.35, gid="sample-paths"
        )
    )
    ax_fan.fill_between(
        trades, bands["p5"], bands["p95"], color=EQUITY_COLOR, alpha=0.15, lw=0, label="5–95 %"
    )
    ax_fan.fill_between(
        trades, bands["p25"], bands["p75"], color=EQUITY_COLOR, alpha=0.3, lw=0, label="25–75 %"
    )
    ax_fan.plot(trades, bands["p50"], color=EQUITY_COLOR, lw=1.8, label="median")
    ax_fan.autoscale_view()
    ax_fan.set_xlim(0, trades[-1])
    ax_fan.set_xlabel("Trade")
    ax_fan.set_ylabel(f"Equity [{unit}]")
    if unit == "$":
        _dollars(ax_fan)
    ax_fan.grid(alpha=0.3)
    ax_fan.legend(loc="upper left", fontsize="small")
    ax_fan.set_title(f"Equity paths ({len(shown)} of {len(mc_result.paths):,} drawn)")

    percent = mc_result.max_drawdown_percent is not None
    depths = mc_result.max_drawdown_percent if percent else mc_result.max_drawdown
    ax_drawdown.hist(depths, bins=40, color=LOSS_COLOR, alpha=0.6, edgecolor="white", linewidth=0.4)
    for q, style, name in ((50.0, "-", "median"), (5.0, "--", "5th percentile")):
        value = float(np.percentile(depths, q))
        suffix = " %" if percent else f" {unit}"
        ax_drawdown.axvline(value, color="black", ls=style, lw=1.0, label=f"{name} {value:,.1f}{suffix}")
    ax_drawdown.set_xlabel("Max. drawdown [%]" if percent else f"Max. drawdown [{unit}]")
    ax_drawdown.set_ylabel("Paths")
    ax_drawdown.legend(loc="upper left", fontsize="small")
    ax_drawdown.grid(alpha=0.3)
    ax_drawdown.set_title("Max. drawdown per path")
    fig.suptitle(
        title or f"Monte Carlo: {len(mc_result.paths):,} {mc_result.method} paths of {trades[-1]:,} trades"
    )
    return _save(fig, path)


_WINDOW_COLUMNS = ("train_start", "train_end", "test_start", "test_end", "WFE")


def _window_parameters(windows: pd.DataFrame) -> list[str]:
    """Parameter columns of a walk-forward window table: all but the times and the IS/OOS figures."""
    return [
        str(column)
        for column in windows.columns
        if column not in _WINDOW_COLUMNS and not str(column).startswith(("IS ", "OOS "))
    ]


def plot_walkforward(wf_result: Any, *, title: str | None = None, path: str | Path | None = None) -> Figure:
    """Plot a walk-forward run: the stitched out-of-sample equity above the in/out-of-sample windows.

    Parameters
    ----------
    wf_result : WalkForwardResult
        From ``rtystrat.walkforward.walk_forward``: ``windows`` (one row per window with ``train_start``,
        ``test_start``, ``test_end``, the chosen parameters and ``"OOS Net P&L [$]"``), the stitched
        out-of-sample ``equity`` and ``stats`` (with ``"Walk-Forward Efficiency"``).
    title : str, optional
        Figure title; by default the number of windows, the OOS return and the walk-forward efficiency.
    path : str or Path, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    Figure
        Top: OOS equity ($) with each test window shaded. Bottom: one row per window, the training (IS)
        span in grey-blue with the parameters it chose, the test (OOS) span in orange (grey when no
        run qualified and the window stayed flat).
    """
    windows, equity = wf_result.windows, wf_result.equity
    tz = equity.index.tz
    parameters = _window_parameters(windows)
    train_start, test_start, test_end = (
        _datenum(_align_tz(windows[column], tz)) for column in ("train_start", "test_start", "test_end")
    )
    fig = Figure(figsize=(12, 4.5 + 0.28 * len(windows)), layout="constrained")
    ax_equity, ax_windows = fig.subplots(2, 1, sharex=True, height_ratios=(3, 0.6 + 0.25 * len(windows)))
    ax_equity.plot(_datenum(equity.index), equity.to_numpy(), color=EQUITY_COLOR, lw=1.4, label="OOS equity")
    for number, (start, end) in enumerate(zip(test_start, test_end, strict=True)):
        ax_equity.axvspan(start, end, color="#ff7f0e", alpha=0.06 if number % 2 else 0.14, lw=0)
    ax_equity.set_ylabel("OOS equity [$]")
    _dollars(ax_equity)
    ax_equity.grid(alpha=0.3)

    rows = np.arange(len(windows))
    flat = windows[parameters].isna().all(axis=1).to_numpy() if parameters else np.zeros(len(windows), bool)
    ax_windows.barh(
        rows,
        test_start - train_start,
        left=train_start,
        height=0.6,
        color="#9ecae1",
        label="in sample (train)",
        gid="train-windows",
    )
    ax_windows.barh(
        rows,
        test_end - test_start,
        left=test_start,
        height=0.6,
        color=np.where(flat, "#dddddd", "#ff7f0e"),
        label="out of sample (test)",
        gid="test-windows",
    )
    for row, start, chosen, is_flat in zip(
        rows, train_start, windows[parameters].to_dict("records"), flat, strict=True
    ):
        text = "no run qualified: flat" if is_flat else ", ".join(f"{k}={v}" for k, v in chosen.items())
        ax_windows.text(start, row, f" {text}", va="center", fontsize="x-small", clip_on=True)
    ax_windows.set_yticks(rows, [str(number + 1) for number in rows])
    ax_windows.set_ylim(len(windows) - 0.5, -0.5)  # first window on top
    ax_windows.set_ylabel("Window")
    ax_windows.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    _date_axis(ax_windows, tz)
    stats = wf_result.stats
    efficiency = stats.get("Walk-Forward Efficiency", np.nan)
    fig.suptitle(
        title
        or f"Walk-forward: {len(windows)} windows, OOS return {stats.get('Return [%]', np.nan):.1f} %, "
        f"efficiency {efficiency:.2f}"
    )
    return _save(fig, path)
