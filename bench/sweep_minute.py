"""The kernel on one-minute bars: a 10,000-combination grid over 1,000,000 bars on all cores.

Run: ``python -m bench.sweep_minute`` (a 200-combination slice of the grid, to extrapolate) or
``python -m bench.sweep_minute --full`` (all 10,000 combinations; minutes). Prints wall time, runs per second
and peak memory measured in this run, and one backtrader run on the same bars for the ratio.
"""

from __future__ import annotations

import argparse
import os
import time

from bench.common import minute_bars, peak_rss_mib, print_table
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import run_backtest
from rtystrat.registry import get_strategy
from rtystrat.tuning.space import ParameterSpace
from rtystrat.tuning.sweep import sweep

# 100 stops x 100 targets above the entry = 10,000 combinations, RSI filter off.
GRID_10K = {"stop_offset": "1:100:1pt", "target": "5:500:5pt", "rsi_max": ["none"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="run all 10,000 combinations")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="worker processes")
    args = parser.parse_args()
    strategy = get_strategy("bullish_reversal")
    start = time.perf_counter()
    bars = minute_bars()
    print(f"{len(bars):,} one-minute bars generated in {time.perf_counter() - start:.1f} s")
    space = ParameterSpace(GRID_10K) if args.full else ParameterSpace(GRID_10K, random=200, seed=1)
    start = time.perf_counter()
    frame = sweep(strategy, bars, space, workers=args.workers, progress=True)
    seconds = time.perf_counter() - start
    per_run = seconds / len(frame)
    start = time.perf_counter()
    result = run_backtest(strategy, bars, config=RunConfig(), params={"rsi_max": None})
    backtrader = time.perf_counter() - start
    rows = [
        (
            f"kernel sweep, {len(frame):,} runs, {args.workers} processes",
            f"{seconds:,.1f} s",
            f"{1 / per_run:,.1f}",
        ),
        ("  extrapolated to 10,000 runs", f"{per_run * 10_000:,.0f} s", ""),
        ("backtrader engine, 1 run, 1 process", f"{backtrader:,.1f} s", f"{1 / backtrader:,.3f}"),
        (
            "  extrapolated to 10,000 runs on the same cores",
            f"{backtrader * 10_000 / args.workers / 3600:,.1f} h",
            "",
        ),
    ]
    print_table(
        "10,000-combination grid over 1,000,000 one-minute bars", rows, ["case", "wall time", "runs/s"]
    )
    print(f"backtrader run: {len(result.trades)} trades; peak RSS of this process {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
