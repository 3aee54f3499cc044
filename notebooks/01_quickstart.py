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
# # Quickstart: both setups on the sample data
#
# Load daily bars, run the two setups of the March-2025 RTY analysis together in one account (bullish
# reversal at S2, bearish breakdown to S3), read the statistics, and plot the equity curve and the trades.
#
# The shipped sample is **synthetic** RTY-like data (no row is a real price), so the numbers below say
# nothing about the real market; point `backtest` at your own file to get real answers.

# %%
# %matplotlib inline
from pathlib import Path
from tempfile import gettempdir

import pandas as pd

from rtystrat import backtest, indicator_frame, load_sample, monte_carlo, plotting, render_html

bars = load_sample("daily")
print(f"{len(bars):,} daily bars, {bars.index[0]:%Y-%m-%d} to {bars.index[-1]:%Y-%m-%d}")
bars.tail()

# %% [markdown]
# ## Run both setups
#
# `"both"` runs `bullish_reversal` and `bearish_breakdown` in one account with their documented defaults
# (each default quotes the sentence of the analysis it comes from). Fills follow the default
# `pessimistic` policy: when one bar touches stop and target, the stop wins unless the bar opened beyond
# the target.

# %%
result = backtest("both", bars)
print(result.summary())

# %% [markdown]
# ## Read the statistics
#
# Stats carry their units in their names. The per-setup table answers "which setup earns the money?".

# %%
result.stats[
    ["Return [%]", "Max. Drawdown [%]", "# Trades", "Win Rate [%]", "Profit Factor", "Expectancy [R]"]
]

# %%
result.by_setup()[["# Trades", "Win Rate [%]", "Profit Factor", "Expectancy [R]", "Net P&L [$]"]]

# %%
result.by_year().tail(5)

# %%
columns = ["setup", "direction", "entry_time", "entry_price", "exit_time", "exit_price", "exit_reason"]
result.trades[[*columns, "pnl_net", "r_multiple"]].tail(10)

# %% [markdown]
# ## Plot the equity curve
#
# Equity against buy-and-hold of the same contract, with the drawdown below; each dot is a trade exit,
# green for a win and red for a loss.

# %%
plotting.plot_equity(result.equity, result.benchmark, result.trades)

# %% [markdown]
# ## The trades on the chart
#
# The price chart shows the monthly pivot levels as steps (P, S1–S3, R1), SMA 50/100 and RSI 14, and every
# entry (▲ long, ▼ short) and exit (✕) of the window, coloured by outcome.

# %%
frame = indicator_frame(bars)
last_entry = result.trades["entry_time"].max()
window = {"start": last_entry - pd.DateOffset(months=9), "end": last_entry + pd.DateOffset(months=1)}
plotting.plot_price(frame, result.trades, **window)

# %% [markdown]
# ## How lucky was the order of the trades?
#
# Shuffle the R multiples 2,000 times: every path ends at the same total, but the drawdown on the way
# differs. The histogram is the drawdown to expect from the same trades in another order.

# %%
simulation = monte_carlo(result.trades["r_multiple"], method="shuffle", paths=2_000, seed=1, keep_paths=True)
plotting.plot_montecarlo(simulation)

# %% [markdown]
# ## One file to share
#
# `render_html(result)` writes a self-contained report (charts embedded): open it in any browser.

# %%
report = Path(gettempdir()) / "rtystrat_quickstart.html"
report.write_text(render_html(result), encoding="utf-8")
print(f"report written to {report}")
