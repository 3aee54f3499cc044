"""Shared pieces of the benchmarks: reproducible data, timing, peak memory, a table printer.

Benchmarks are scripts, not tests: each prints a table of medians and ratios measured in one run.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from rtystrat.data.sample import generate_daily, generate_minute

#: The 50-combination grid of the issue: stop 5-50 points x five targets, RSI filter off (trades more).
GRID_50 = {
    "stop_offset": "5:50:5pt",
    "target": ["pivot", "mid", "r1", "60pt", "120pt"],
    "rsi_max": ["none"],
}


def daily_bars(count: int = 5_000) -> pd.DataFrame:
    """Return the last `count` sessions of the seeded synthetic daily series (from 1998 on)."""
    bars = generate_daily(start="1998-01-02", end="2025-12-31")
    return bars.iloc[-count:]


def minute_bars(count: int = 1_000_000) -> pd.DataFrame:
    """Return about `count` one-minute bars: whole 23-hour sessions drawn inside the synthetic daily bars."""
    daily = generate_daily(start="1998-01-02", end="2025-12-31")
    sessions = -(-count // 1_380) + 5  # 1,380 minutes per regular session; a few early closes are shorter
    return generate_minute(daily.iloc[-sessions:]).iloc[-count:]


def median_seconds(run: Callable[[], Any], repeats: int) -> float:
    """Return the median wall time of `repeats` calls of `run`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mib() -> float:
    """Return this process's peak resident set size in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def print_table(title: str, rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    """Print an aligned table (right-aligned numbers)."""
    cells = [[str(cell) for cell in header], *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for number, row in enumerate(cells):
        print(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if number == 0:
            print("  ".join("-" * w for w in widths))
