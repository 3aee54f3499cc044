"""Performance figures: the equity curve with its drawdown, and the Monte Carlo fan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from rtystrat.errors import ParameterError
from rtystrat.plotting._style import (
    BENCHMARK_COLOR,
    EQUITY_COLOR,
    LOSS_COLOR,
    align_tz,
    date_axis,
    datenum,
    dollars,
    outcome_colors,
    outcome_legend,
    require_columns,
    save,
)

__all__ = ["plot_equity", "plot_montecarlo"]


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
        Figure title; default "Equity" ("" for none).
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
    x = datenum(equity.index)
    fig = Figure(figsize=(11, 6), layout="constrained")
    ax_equity, ax_drawdown = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    ax_equity.plot(x, equity.to_numpy(), color=EQUITY_COLOR, linewidth=1.4, label="strategy")
    if benchmark is not None and not benchmark.empty:
        ax_equity.plot(
            datenum(align_tz(benchmark.index, tz)),
            benchmark.to_numpy(),
            color=BENCHMARK_COLOR,
            linewidth=1.0,
            label="buy & hold",
        )
    handles, _ = ax_equity.get_legend_handles_labels()
    if trades is not None and not trades.empty:
        require_columns(trades, ("exit_time", "pnl_net"), "trades")
        exits = align_tz(trades["exit_time"], tz)
        # An exit between bar times shows on the equity of the bar before it.
        values = equity.asof(exits).to_numpy(dtype=float)
        ax_equity.scatter(
            datenum(exits), values, c=outcome_colors(trades["pnl_net"]), s=18, zorder=3, gid="trade-exits"
        )
        handles += outcome_legend()
    ax_equity.set_ylabel("Equity [$]")
    dollars(ax_equity)
    ax_equity.grid(alpha=0.3)
    ax_equity.legend(handles=handles, loc="best", fontsize="small")
    ax_equity.set_title("Equity" if title is None else title)

    drawdown = 100.0 * (equity / equity.cummax() - 1.0)
    ax_drawdown.fill_between(x, drawdown.to_numpy(), 0.0, color=LOSS_COLOR, alpha=0.35, lw=0)
    ax_drawdown.plot(x, drawdown.to_numpy(), color=LOSS_COLOR, linewidth=0.8)
    worst = int(np.argmin(drawdown.to_numpy()))
    ax_drawdown.plot(x[worst], drawdown.iloc[worst], marker="o", color=LOSS_COLOR, ms=4)
    # Above the panel, so it never hides the curve.
    ax_drawdown.set_title(
        f"max drawdown {drawdown.iloc[worst]:.1f} % on {drawdown.index[worst]:%Y-%m-%d}",
        loc="right",
        fontsize="small",
    )
    ax_drawdown.set_ylabel("Drawdown [%]")
    ax_drawdown.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    ax_drawdown.set_ylim(top=0.0)
    ax_drawdown.grid(alpha=0.3)
    date_axis(ax_drawdown, tz)
    return save(fig, path)


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
        From ``rtystrat.analysis.montecarlo.monte_carlo(..., keep_paths=True)``.
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
        dollars(ax_fan)
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
    return save(fig, path)
