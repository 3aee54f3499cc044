"""What the overfitting diagnostics cost: the 50-combination × 5,000-daily-bar sweep with and without them.

Run: ``python -m bench.sweep_diagnostics [--repeats N]``. Every case runs once to warm up (numba, imports),
then the cases run interleaved N times (default 5) so a change of machine load hits them alike; the table
shows each case's median and its ratio to the plain sweep, and the load average before and after. Cases,
all serial (one process: the pool's start-up would only add noise to both sides):

- the sweep as it is (``sweep``);
- the sweep keeping each run's daily returns (``keep_returns=True``);
- that plus :func:`rtystrat.tuning.diagnostics.diagnose` without the SPA test (DSR, PSR, effective trials,
  PBO over the 12,870 CSCV splits of 16 blocks, plateau);
- that plus Hansen's SPA test (``arch``, 1,000 bootstrap replications).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import GRID_50, daily_bars, print_table
from rtystrat.tuning.diagnostics import diagnose
from rtystrat.tuning.sweep import sweep


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs of every case (default 5)")
    args = parser.parse_args(argv)
    bars = daily_bars(5_000)
    options: dict[str, Any] = {"executor": "serial", "progress": False}

    def plain() -> Any:
        return sweep("bullish_reversal", bars, GRID_50, **options)

    def keep() -> Any:
        return sweep("bullish_reversal", bars, GRID_50, keep_returns=True, **options)

    def without_spa() -> Any:
        return diagnose(*keep(), spa_reps=0)

    def with_spa() -> Any:
        return diagnose(*keep(), spa_reps=1000)

    cases: dict[str, Callable[[], Any]] = {
        "sweep (no diagnostics)": plain,
        "sweep keeping daily returns": keep,
        "  + DSR, PSR, PBO (16 blocks), plateau": without_spa,
        "  + Hansen's SPA (arch, 1,000 reps)": with_spa,
    }
    load_before = os.getloadavg()[0]
    times: dict[str, list[float]] = {name: [] for name in cases}
    for run in cases.values():
        run()  # warm-up
    for _ in range(args.repeats):
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    load_after = os.getloadavg()[0]
    base = statistics.median(times["sweep (no diagnostics)"])
    rows = [
        (name, f"{statistics.median(values) * 1000:,.1f} ms", f"{statistics.median(values) / base:.2f}x")
        for name, values in times.items()
    ]
    summary = diagnose(*keep(), spa_reps=0).to_dict()
    print_table(
        f"50 combinations x 5,000 daily bars, serial, median of {args.repeats} interleaved runs "
        f"(load average {load_before:.2f} -> {load_after:.2f}); PBO {summary['pbo']['pbo']:.3f}",
        rows,
        ("case", "median", "vs plain sweep"),
    )


if __name__ == "__main__":
    main()
