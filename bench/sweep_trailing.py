"""Kernel sweep speed with a trailing stop in the grid against the 50-combination stop × target grid.

Run: ``python -m bench.sweep_trailing [--repeats N] [--without-trail]``. Both grids have 50 combinations over
5,000 daily bars (the bullish reversal, RSI filter off): ``GRID_50`` (stop 5–50 pt × 5 targets) and stop
5–50 pt × ``trail=1:3:0.5atr``. The two are timed interleaved, ``--repeats`` rounds of one sweep each after a
warm-up, and the medians printed with the 1-minute load average before and after. ``--without-trail`` times
``GRID_50`` alone, so a checkout without trailing stops can be measured by the same script.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from bench.common import GRID_50, daily_bars, print_table
from rtystrat.execution import kernel
from rtystrat.execution.config import RunConfig
from rtystrat.registry import get_strategy
from rtystrat.tuning.space import ParameterSpace

GRID_TRAIL = {"stop_offset": "5:50:5pt", "trail": "1:3:0.5atr", "rsi_max": ["none"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--without-trail", action="store_true")
    args = parser.parse_args()
    strategy = get_strategy("bullish_reversal")
    data = kernel.prepare(strategy, daily_bars(), RunConfig())
    grids = {"stop × target (GRID_50)": GRID_50}
    if not args.without_trail:
        grids["stop × trail 1–3 ATR"] = GRID_TRAIL
    cases: dict[str, list[dict[str, Any]]] = {
        label: [strategy.parameters.validate(combination) for combination in ParameterSpace(grid)]
        for label, grid in grids.items()
    }
    for combinations in cases.values():  # compile and warm up
        for combination in combinations:
            kernel.evaluate(strategy, data, combination)
    load_before = os.getloadavg()[0]
    times: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(args.repeats):
        for label, combinations in cases.items():
            start = time.perf_counter()
            for combination in combinations:
                kernel.evaluate(strategy, data, combination)
            times[label].append(time.perf_counter() - start)
    load_after = os.getloadavg()[0]
    base = statistics.median(times["stop × target (GRID_50)"])
    print_table(
        f"50 combinations × 5,000 daily bars, kernel, 1 process (median of {args.repeats}, interleaved; "
        f"load {load_before:.2f} → {load_after:.2f})",
        [
            (
                label,
                str(len(cases[label])),
                f"{statistics.median(t) * 1e3:,.1f} ms",
                f"{statistics.median(t) / base:.2f}x",
            )
            for label, t in times.items()
        ],
        ["grid", "combinations", "median", "vs GRID_50"],
    )


if __name__ == "__main__":
    main()
