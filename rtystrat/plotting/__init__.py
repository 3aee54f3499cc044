"""Figures from backtest results: equity, price with levels and trades, heatmap, overfitting,
walk-forward, Monte Carlo.

Every function builds a :class:`matplotlib.figure.Figure` directly (no pyplot global state, no backend
switch), returns it, and writes it to `path` when one is given (format from the suffix: ``.png``, ``.svg``,
``.pdf``). Nothing here opens a window, so it works the same on a laptop, a server and in a notebook (a
notebook displays a returned Figure by itself).

Colours carry one meaning each: green/red only for winning/losing trades, blue for the strategy's equity,
grey for the benchmark and for candles.
"""

from __future__ import annotations

from rtystrat.plotting.performance import plot_equity, plot_montecarlo
from rtystrat.plotting.price import plot_price
from rtystrat.plotting.tuning import plot_heatmap, plot_overfitting, plot_walkforward

__all__ = [
    "plot_equity",
    "plot_heatmap",
    "plot_montecarlo",
    "plot_overfitting",
    "plot_price",
    "plot_walkforward",
]
