"""The price chart: candles or close, the period's levels as steps, SMAs, RSI and every trade."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from rtystrat.errors import ParameterError
from rtystrat.plotting._style import (
    LEVEL_COLORS,
    SMA_COLORS,
    align_tz,
    date_axis,
    datenum,
    outcome_colors,
    outcome_legend,
    period_starts,
    require_columns,
    save,
)

__all__ = ["plot_price"]

# Above this many bars in view, candles are thinner than a pixel at usual sizes; a close line reads better.
_MAX_CANDLES = 300
# Above this many bars (two years of daily bars), period levels are dashes too short to read and bury the
# price: by default they are drawn only in a narrower window.
_MAX_LEVEL_BARS = 500
DEFAULT_LEVELS = ("P", "S1", "S2", "S3", "R1")


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


def _draw_volume(ax: Any, x: np.ndarray, volume: np.ndarray, width: float) -> None:
    """Draw volume bars as one collection: one Rectangle artist per bar made long charts slow to draw."""
    left, right, zero = x - width / 2, x + width / 2, np.zeros_like(volume)
    bars = np.stack([np.c_[left, zero], np.c_[left, volume], np.c_[right, volume], np.c_[right, zero]], 1)
    ax.add_collection(PolyCollection(bars, facecolors="#9e9e9e", lw=0, gid="volume"))
    ax.set_ylim(0.0, 1.05 * float(np.nanmax(volume)))  # the bars stand on the axis, as Axes.bar draws them


def _draw_levels(ax: Any, x: np.ndarray, view: pd.DataFrame, levels: Sequence[str], spacing: float) -> None:
    """Draw each level as one flat segment per period, without the vertical jumps between periods."""
    values = view[list(levels)]
    starts = period_starts(values)
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
    columns = ("direction", "entry_time", "entry_price", "exit_time", "exit_price", "pnl_net")
    require_columns(trades, columns, "trades")
    tz = view.index.tz
    entry_times, exit_times = align_tz(trades["entry_time"], tz), align_tz(trades["exit_time"], tz)
    first, last = view.index[0], view.index[-1]
    colors = np.asarray(outcome_colors(trades["pnl_net"]))
    shown = (entry_times <= last) & (exit_times >= first)
    if not shown.any():
        return []
    entry_x, exit_x = datenum(entry_times), datenum(exit_times)
    entry_y, exit_y = trades["entry_price"].to_numpy(dtype=float), trades["exit_price"].to_numpy(dtype=float)
    ax.add_collection(
        LineCollection(
            np.stack([np.c_[entry_x, entry_y], np.c_[exit_x, exit_y]], axis=1)[shown],
            colors=list(colors[shown]),
            lw=1.2,
            linestyles=":",
            zorder=3,
        ),
        autolim=False,  # a trade reaching past the window must not stretch the price scale
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
                zorder=5,  # above the exit marker when a trade enters and exits on one bar
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
            s=40,
            c=list(colors[exit_in]),
            edgecolors="black",
            linewidths=0.6,
            zorder=4,
            gid="exits",
        )
        handles.append(Line2D([], [], ls="", marker="X", color="#999999", mec="black", label="exit"))
    return handles + outcome_legend()


def _has_setups(trades: pd.DataFrame | None) -> bool:
    return trades is not None and not trades.empty and "setup" in trades


def plot_price(
    frame: pd.DataFrame,
    trades: pd.DataFrame | None = None,
    levels: Sequence[str] | None = None,
    sma: Sequence[str] = ("sma_50", "sma_100"),
    rsi: str | None = "rsi_14",
    start: Any = None,
    end: Any = None,
    *,
    volume: bool = True,
    candles: bool | None = None,
    title: str | None = None,
    path: str | Path | None = None,
) -> Figure:
    """Plot price with the period's levels, moving averages, an RSI panel and every trade.

    Parameters
    ----------
    frame : pd.DataFrame
        Indicator frame (bars plus level, SMA and RSI columns, as
        ``rtystrat.signals.features.indicator_frame`` returns).
    trades : pd.DataFrame, optional
        Trade log. Entries are marked ▲ (long) or ▼ (short) at the entry price, exits ✕ at the exit price,
        joined by a dotted line; green for a win and red for a loss (``pnl_net``). Only entries and exits
        inside the window are marked.
    levels : sequence of str, optional
        Level columns, drawn as flat dashed steps per period and labelled with their latest value at the
        right edge. By default P, S1..S3 and R1 when at most 500 bars are in view (over a longer window
        they would bury the price; zoom in with `start`/`end`); ``()`` for none.
    sma : sequence of str
        Moving-average columns drawn as lines.
    rsi : str or None
        RSI column for the lower panel (with the 30/70 zones); None for no panel.
    volume : bool
        A volume panel under the price, when the frame has volume (vendor files often have none).
    start, end : date-like, optional
        Window to plot (inclusive), e.g. ``"2025-01-01"``.
    candles : bool, optional
        Draw candles (True) or a close line (False); by default candles when at most 300 bars are in view.
    title : str, optional
        Figure title; by default the setups traded (from `trades`), the data source and the window.
    path : str or Path, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    Figure
        The price axes, then the volume axes when drawn, then the RSI axes when `rsi` is given.
    """
    view = frame.loc[start:end]
    if levels is None:
        levels = DEFAULT_LEVELS if len(view) <= _MAX_LEVEL_BARS else ()
    require_columns(frame, ["open", "high", "low", "close", *levels, *sma, *([rsi] if rsi else [])], "frame")
    if view.empty:
        raise ParameterError(
            f"start/end: no bars between {start} and {end}; the data spans "
            f"{frame.index[0]} to {frame.index[-1]}"
        )
    x = datenum(view.index)
    spacing = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    volume = volume and "volume" in view and bool((view["volume"] > 0).any())
    ratios = [4.0, *([1.0] if volume else []), *([1.0] if rsi else [])]
    fig = Figure(figsize=(12, 4.0 + 1.5 * len(ratios)), layout="constrained")
    axes = fig.subplots(len(ratios), 1, sharex=True, height_ratios=ratios, squeeze=False)
    ax_price = axes[0, 0]
    handles: list[Any] = []
    if len(view) <= _MAX_CANDLES if candles is None else candles:
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
    setups = ", ".join(sorted(map(str, trades["setup"].unique()))) if _has_setups(trades) else ""
    period = f"{view.index[0]:%Y-%m-%d} – {view.index[-1]:%Y-%m-%d}"
    fig.suptitle(title or "  ".join(part for part in (setups, source, period) if part))
    if volume:
        ax_volume = axes[1, 0]
        _draw_volume(ax_volume, x, view["volume"].to_numpy(dtype=float), 0.8 * spacing)
        ax_volume.set_ylabel("Volume")
        ax_volume.grid(alpha=0.25)
    if rsi:
        ax_rsi = axes[-1, 0]
        ax_rsi.axhspan(30, 70, color="#eeeeee", lw=0)
        for bound in (30, 70):
            ax_rsi.axhline(bound, color="#999999", lw=0.8, ls="--")
        ax_rsi.plot(x, view[rsi].to_numpy(), color="#6a3d9a", lw=1.0)
        ax_rsi.set_ylim(0, 100)
        ax_rsi.set_yticks([30, 70])
        ax_rsi.set_ylabel(rsi.replace("_", " ").upper())
    date_axis(axes[-1, 0], view.index.tz)
    return save(fig, path)
