"""Tuning figures: the sweep heatmap, the overfitting diagnostics and the walk-forward windows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from rtystrat.errors import ParameterError
from rtystrat.plotting._style import (
    BENCHMARK_COLOR,
    EQUITY_COLOR,
    LOSS_COLOR,
    align_tz,
    date_axis,
    datenum,
    dollars,
    require_columns,
    save,
)

__all__ = ["heatmap_axes", "plot_heatmap", "plot_overfitting", "plot_walkforward"]

_OFFSET = re.compile(r"\s*([-+]?\d+(?:\.\d*)?)\s*([a-z%]*)\s*", re.IGNORECASE)  # "13pt", "1.5atr", "20"


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


def heatmap_axes(varied: Sequence[str]) -> tuple[str, str] | None:
    """Return the heatmap's ``(x, y)`` among the `varied` parameters, or None for fewer than two.

    ``stop_offset`` across when varied (else the first), a target down when one is varied (else the next).
    """
    if len(varied) < 2:
        return None
    x = "stop_offset" if "stop_offset" in varied else varied[0]
    others = [name for name in varied if name != x]
    return x, next((name for name in others if "target" in name), others[0])


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
    # Parameters held at one value (a fixed axis of the grid) neither need a choice nor get aggregated.
    varying = [name for name in parameters if table[name].nunique(dropna=False) > 1]
    if y is None:
        others = [name for name in varying if name != x]
        if len(others) != 1:
            raise ParameterError(
                f"y: name the parameter for the rows, one of {others or list(table.columns)}"
            )
        y = others[0]
    require_columns(table, [x, y, value], "sweep")
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
        hidden = [name for name in varying if name not in (x, y)]
        title = f"{value} ({aggregate} over {', '.join(hidden)})" if hidden else value
    ax.set_title(title)
    return save(fig, path)


_WINDOW_COLUMNS = ("train_start", "train_end", "test_start", "test_end", "WFE", "note")
_TRAIN_COLOR, _TEST_COLOR, _FLAT_COLOR = "#9ecae1", "#ff7f0e", "#dddddd"


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
        From ``rtystrat.tuning.walkforward.walk_forward``: ``windows`` (one row per window with
        ``train_start``, ``test_start``, ``test_end``, the chosen parameters and ``"OOS Net P&L [$]"``), the
        stitched out-of-sample ``equity`` and ``stats`` (with ``"Walk-Forward Efficiency"``).
    title : str, optional
        Figure title; by default the number of windows, the OOS return and the walk-forward efficiency.
    path : str or Path, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    Figure
        Top: OOS equity ($) with each test window shaded. Bottom: one row per window, labelled with its number
        (the table's) and the parameters it chose or why it stayed flat; the training (IS) span in grey-blue,
        the test (OOS) span in orange (grey when no run qualified). The legends name every colour.
    """
    windows, equity = wf_result.windows, wf_result.equity
    tz = equity.index.tz
    parameters = _window_parameters(windows)
    train_start, test_start, test_end = (
        datenum(align_tz(windows[column], tz)) for column in ("train_start", "test_start", "test_end")
    )
    fig = Figure(figsize=(12, 4.5 + 0.28 * len(windows)), layout="constrained")
    ax_equity, ax_windows = fig.subplots(2, 1, sharex=True, height_ratios=(3, 0.6 + 0.25 * len(windows)))
    ax_equity.plot(datenum(equity.index), equity.to_numpy(), color=EQUITY_COLOR, lw=1.4, label="OOS equity")
    for number, (start, end) in enumerate(zip(test_start, test_end, strict=True)):
        ax_equity.axvspan(start, end, color=_TEST_COLOR, alpha=0.06 if number % 2 else 0.14, lw=0)
    ax_equity.legend(
        handles=[*ax_equity.get_lines(), Patch(color=_TEST_COLOR, alpha=0.14, label="test windows")],
        loc="upper left",
        fontsize="small",
    )
    ax_equity.set_ylabel("OOS equity [$]")
    dollars(ax_equity)
    ax_equity.grid(alpha=0.3)

    rows = np.arange(len(windows))
    flat = windows[parameters].isna().all(axis=1).to_numpy() if parameters else np.zeros(len(windows), bool)
    ax_windows.barh(
        rows,
        test_start - train_start,
        left=train_start,
        height=0.6,
        color=_TRAIN_COLOR,
        label="in sample (train)",
        gid="train-windows",
    )
    ax_windows.barh(
        rows,
        test_end - test_start,
        left=test_start,
        height=0.6,
        color=np.where(flat, _FLAT_COLOR, _TEST_COLOR),
        gid="test-windows",
    )
    # The parameters go in the row labels, beside the bars rather than over them. Name only those that
    # differ between windows; the fixed ones would crowd every row.
    shown = [name for name in parameters if windows[name].nunique() > 1] or parameters
    notes = windows["note"] if "note" in windows else pd.Series("flat: no run qualified", windows.index)
    labels = [
        f"{number}  " + (note if is_flat else ", ".join(f"{k}={v}" for k, v in chosen.items()))
        for number, chosen, is_flat, note in zip(
            windows.index, windows[shown].to_dict("records"), flat, notes, strict=True
        )
    ]
    ax_windows.set_yticks(rows, labels, fontsize="x-small")
    ax_windows.set_ylim(len(windows) - 0.5, -0.5)  # first window on top
    ax_windows.set_ylabel("Window")
    ax_windows.legend(
        handles=[
            Patch(color=_TRAIN_COLOR, label="in sample (train)"),
            Patch(color=_TEST_COLOR, label="out of sample (test)"),
            Patch(color=_FLAT_COLOR, label="out of sample, flat (no choice)"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize="small",
        frameon=False,
    )
    date_axis(ax_windows, tz)
    stats = wf_result.stats
    efficiency = stats.get("Walk-Forward Efficiency", np.nan)
    pbo = stats.get("Probability of Backtest Overfitting")
    fig.suptitle(
        title
        or f"Walk-forward: {len(windows)} windows, OOS return {stats.get('Return [%]', np.nan):.1f} %, "
        f"efficiency {efficiency:.2f}"
        + ("" if pbo is None else f", PBO {pbo:.2f}")
    )
    return save(fig, path)


def plot_overfitting(overfitting: Any, *, title: str | None = None, path: str | Path | None = None) -> Figure:
    """Plot the combinatorially symmetric cross-validation of a sweep: logit histogram and OOS vs IS.

    Parameters
    ----------
    overfitting : Overfitting or Diagnostics
        :func:`rtystrat.tuning.diagnostics.probability_of_backtest_overfitting`'s result, or the
        :class:`~rtystrat.tuning.diagnostics.Diagnostics` of a sweep (its ``overfitting``).
    title : str, optional
        Figure title; by default the PBO and the number of splits.
    path : str or Path, optional
        Save the figure there (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    Figure
        Left: histogram of the logits λ of the in-sample winner's relative out-of-sample rank, λ ≤ 0 (at
        or below the OOS median: overfit) in red. Right: each split's winner, OOS Sharpe ratio against IS,
        with the least-squares line whose slope is the performance degradation.
    """
    result = getattr(overfitting, "overfitting", overfitting)
    if result is None:
        raise ParameterError("plot_overfitting: these diagnostics have no PBO (fewer than two runs)")
    logits, is_sharpe, oos_sharpe = result.logits, result.in_sample, result.out_of_sample
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax_logit, ax_scatter = fig.subplots(1, 2)
    finite = logits[np.isfinite(logits)]
    # Bins with an edge at 0, so no bar mixes overfit and not overfit splits.
    step = max(float(np.ptp(finite)), 1e-9) / min(40, max(5, len(np.unique(finite))))
    edges = step * np.arange(np.floor(finite.min() / step), np.ceil(finite.max() / step) + 1.5)
    ax_logit.hist(finite[finite <= 0], bins=edges, color=LOSS_COLOR, alpha=0.8, label="λ ≤ 0 (overfit)")
    ax_logit.hist(finite[finite > 0], bins=edges, color=EQUITY_COLOR, alpha=0.8, label="λ > 0")
    ax_logit.axvline(0.0, color="black", lw=0.8)
    ax_logit.set_xlabel("logit λ of the IS winner's OOS rank")
    ax_logit.set_ylabel("splits")
    ax_logit.legend(fontsize="small", frameon=False)
    ax_scatter.scatter(is_sharpe, oos_sharpe, s=6, alpha=0.3, color=EQUITY_COLOR, lw=0)
    if np.isfinite(result.degradation_slope):
        line = np.array([is_sharpe.min(), is_sharpe.max()])
        ax_scatter.plot(
            line,
            result.degradation_intercept + result.degradation_slope * line,
            color="black",
            lw=1,
            label=f"slope {result.degradation_slope:.2f}",
        )
        ax_scatter.legend(fontsize="small", frameon=False)
    ax_scatter.axhline(0.0, color=BENCHMARK_COLOR, lw=0.8)
    ax_scatter.set_xlabel("IS Sharpe ratio (per period)")
    ax_scatter.set_ylabel("OOS Sharpe ratio (per period)")
    for ax in (ax_logit, ax_scatter):
        ax.grid(alpha=0.3)
    fig.suptitle(
        title
        or f"Probability of backtest overfitting {result.pbo:.2f} ({len(logits):,} splits of "
        f"{result.blocks} blocks); P(OOS loss) {result.probability_of_loss:.2f}"
    )
    return save(fig, path)
