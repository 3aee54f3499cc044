# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tuning stop and target
#
# Sweep the stop and the target of the bullish reversal on the fast kernel, read the result as a heatmap,
# check that the choice survives out of sample with a walk-forward, and confirm the best parameters in
# backtrader. Data: the shipped **synthetic** sample, so the numbers show the workflow, not an edge.
#
# The grids are small so the notebook runs in seconds; a real sweep takes the same calls with finer grids
# and `executor="process"` (all cores) or a Dask cluster.

# %%
# %matplotlib inline
import pandas as pd

from rtystrat import backtest, best_parameters, load_sample, plotting, rank, sweep, walk_forward

bars = load_sample("daily")

# Every S2 test, not only oversold ones, so each combination has enough trades to compare.
fixed = {"rsi_max": "none", "reentry": "true"}
space = {"stop_offset": "5:40:5pt", "target": "pivot,mid,r1", **fixed}

# %% [markdown]
# ## Sweep
#
# `5:40:5pt` reads as a trader writes it: 5 to 40 points in steps of 5, both ends included. The kernel
# applies the same fill rules and costs as the backtrader engine (a parity test holds them equal trade for
# trade), so it can screen a grid in a fraction of the time. On an empty numba cache the first call compiles
# it (about half a minute); later calls and processes read it from numba's cache.

# %%
results = sweep("bullish_reversal", bars, space, executor="serial", progress=False)
columns = ["# Trades", "Win Rate [%]", "Profit Factor", "Expectancy [R]", "Net P&L [$]"]
rank(results, "Expectancy [R]", min_trades=10)[columns].head()

# %%
plotting.plot_heatmap(results, x="stop_offset", y="target", value="Expectancy [R]")

# %% [markdown]
# ## Walk-forward
#
# Optimise on three years, trade the winner on the next year, move on a year, and stitch the out-of-sample
# years together. Walk-forward efficiency compares the annualised out-of-sample profit with the in-sample
# one (about 0.5 or more is usually read as robust; negative means the in-sample winner lost money after).

# %%
walk = walk_forward(
    "bullish_reversal", bars, space, train=36, test=12, min_trades=5, executor="serial", progress=False
)
walk.windows[["test_start", "test_end", "stop_offset", "target", "OOS Net P&L [$]", "WFE"]]

# %%
plotting.plot_walkforward(walk)

# %% [markdown]
# ## Confirm the best in backtrader
#
# Rerun the best combination through the backtrader engine: the same trades, so the same figures, plus the
# complete trade log and every statistic. (`sweep(..., confirm_top=N)` does this for the best N at once.)

# %%
best = best_parameters(results, "Expectancy [R]", min_trades=10)
print(f"best: {best}")
confirmed = backtest("bullish_reversal", bars, **best)
kernel_row = rank(results, "Expectancy [R]", min_trades=10).iloc[0]
pd.DataFrame({"kernel": kernel_row[columns], "backtrader": confirmed.stats[columns]})

# %%
print(confirmed.summary())

# %%
plotting.plot_equity(confirmed.equity, confirmed.benchmark, confirmed.trades)
