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
# # Article replay: the March-2025 RTY analysis, checked against the market
#
# On 2025-03-13, with the E-mini Russell 2000 at 2,025.7, the analysis read: pivot 2,210, S2 2,003, S3 1,877;
# price below its 50- and 100-day averages (2,229.3 and 2,281.1); RSI(14) 25.16, oversold. It proposed two
# trades:
#
# - **bullish reversal**: buy near S2 (2,003), stop 1,990, targets 2,100 and 2,210;
# - **bearish breakdown**: short below 2,000, target 1,880, stop 2,060.
#
# This notebook recomputes the levels table for that day and trades those exact numbers.
#
# It uses the real RTY futures file in `../shared/data` beside the checkout when it is there (set
# `RTYSTRAT_SHARED_DATA` to point elsewhere); otherwise it falls back to the shipped **synthetic** sample,
# whose prices have nothing to do with March 2025 — the cell below says which one ran and where it looked.
# The folder is found from the checkout this notebook belongs to (the one rtystrat is installed from in
# development mode), not from the folder Jupyter was started in.

# %%
# %matplotlib inline
import os
from pathlib import Path

import pandas as pd

import rtystrat
from rtystrat import backtest, indicator_frame, levels_table, load_bars, load_sample, plotting, replay_article

# This notebook's folder, from the checkout rtystrat is installed from (notebooks/ beside rtystrat/): the
# path does not depend on the kernel's working directory.
notebook_folder = Path(rtystrat.__file__).resolve().parents[1] / "notebooks"
shared = Path(os.environ.get("RTYSTRAT_SHARED_DATA", notebook_folder / ".." / ".." / "shared" / "data"))
real_file = shared.resolve() / "daily" / "RTY_F_yahoo_daily.csv"
if real_file.is_file():
    # Yahoo's file has a Sunday row and two bars whose high is below the close: repaired explicitly.
    bars = load_bars(real_file, repair="clip,drop_weekend")
    print(f"Using the real RTY front-month file {real_file.name} ({len(bars):,} daily bars).")
else:
    bars = load_sample("daily")
    print(f"{real_file} is absent: using the shipped SYNTHETIC sample. Its prices are not March 2025's,")
    print("so the article's absolute numbers will not match; the generalised setups below still apply.")

# %% [markdown]
# ## The levels table of 2025-03-13
#
# Levels come from the previous completed month (February: high, low, close). The analysis was written
# intraday at 2,025.7 while the day's bar closed at 1,996.1, so the table is computed at that price: SMA and
# RSI include it, the levels do not depend on it.

# %%
table = levels_table(bars, "2025-03-13", price=2025.7 if real_file.is_file() else None)
keys = ["date", "price", "P", "S1", "S2", "S3", "R1", "sma_50", "sma_100", "rsi_14", "rsi_14_zone"]
keys += ["support_name", "support_points", "off_high_pct"]
pd.Series({key: table[key] for key in keys}, name="2025-03-13").to_frame()

# %% [markdown]
# ## What the two trades did
#
# `replay_article` places the analysis's orders at the start of the 2025-03-13 session and lets the shared
# execution layer fill them (pessimistic same-bar policy, 1 tick of slippage on stop fills, RTY
# commission). The bullish trade is two one-contract legs, one per target.

# %%
replay = replay_article(bars)
print(replay.summary())

# %%
frame = indicator_frame(bars)
# Ending the window in March labels the levels the analysis read: P 2,210, S2 2,003, S3 1,877.
plotting.plot_price(frame, replay.result.trades, start="2025-01-02", end="2025-03-31")

# %% [markdown]
# On daily bars, a bar that touches both the entry and the stop is resolved by the fill policy. Where the
# real hourly file is present, the same orders replayed on hourly bars show the order in which prices were
# actually reached.

# %%
hourly_file = shared / "intraday" / "RTY_F_yahoo_1h_utc.csv"
if hourly_file.is_file():
    print(replay_article(load_bars(hourly_file)).summary())
else:
    print("no hourly file: skipped")

# %% [markdown]
# ## The same idea as rules
#
# The library's setups generalise the analysis: levels relative to each month's pivots instead of one
# day's absolute numbers. Here is what they traded around March 2025 with their default parameters.

# %%
rules = backtest("both", bars)
around = rules.trades[
    (rules.trades["entry_time"] >= "2025-02-01") & (rules.trades["entry_time"] <= "2025-05-31")
]
around[
    ["setup", "direction", "entry_time", "entry_price", "exit_time", "exit_price", "exit_reason", "pnl_net"]
]
