"""Shared pieces of the benchmarks: reproducible data, interleaved timing, the load average, peak memory,
a minimal compiled bracket loop as the floor of what a fill loop can cost, and the table printers.

Benchmarks are scripts, not tests: each prints the medians of interleaved rounds and their ratios, measured
in that one run, with the machine's load average before and after.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numba
import numpy as np
import pandas as pd

from rtystrat.data.sample import generate_daily, generate_minute
from rtystrat.execution import kernel

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


@numba.njit(cache=True)
def bracket_loop(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    direction: np.ndarray,
    entry: np.ndarray,
    stop: np.ndarray,
    target: np.ndarray,
    max_hold: int,
) -> tuple[int, float]:
    """Return (trades, points) of long limit brackets in the least work a bar loop can do: the floor a fill
    loop is compared with.

    A plan on bar ``t`` (``direction[t] > 0``) is a buy limit at ``entry[t]`` working on bar ``t + 1`` only,
    filled at ``min(open, entry)`` when the low trades below it. The position exits at the open once it has
    been held `max_hold` bars (0: never), else at its stop (``min(open, stop)``; the stop takes a bar that
    touches both), at its target (``max(open, target)``) or at the last close. No ticks, costs, sizing,
    rolls or invalidation.
    """
    trades, points = 0, 0.0
    t, n = 0, len(open_)
    while t < n - 1:
        if direction[t] <= 0 or not low[t + 1] < entry[t]:
            t += 1
            continue
        fill, level, goal = min(open_[t + 1], entry[t]), stop[t], target[t]
        k = t + 1
        while True:
            if max_hold > 0 and k - t > max_hold:
                exit_price = open_[k]
                break
            if low[k] <= level:
                exit_price = min(open_[k], level) if k > t + 1 else level
                break
            if high[k] > goal:
                exit_price = max(open_[k], goal) if k > t + 1 else goal
                break
            if k == n - 1:
                exit_price = close[k]
                break
            k += 1
        trades += 1
        points += exit_price - fill
        t = k
    return trades, points


def run_bracket_loop(strategy: type, data: kernel.KernelData, params: dict[str, Any]) -> tuple[int, float]:
    """Run :func:`bracket_loop` on the plans the kernel runs for `params` (plans built outside the timing
    would favour the loop: they are built here, as the kernel builds them)."""
    plans = kernel.plans(strategy, data, params).dense()
    return bracket_loop(
        data.open,
        data.high,
        data.low,
        data.close,
        plans.direction,
        plans.entry_price,
        plans.stop,
        plans.target,
        int(plans.max_hold),
    )


def has_vectorbt() -> bool:
    """Return True when the optional vectorbt (``pip install 'rtystrat[bench]'``) can be imported."""
    try:
        import vectorbt  # noqa: F401  (optional comparison)
    except ImportError:
        return False
    return True


def vectorbt_signals(strategy: type, data: kernel.KernelData, combinations: list[dict[str, Any]]) -> dict:
    """Return vectorbt's inputs: per combination, entries at the bar a plan's limit fills, at its fill price.

    vectorbt's open-source ``from_signals`` has neither resting limit orders nor time stops, so it gets the
    kernel's entries: the limit of plan row ``t`` fills on bar ``t + 1`` when that bar trades below it, at
    the limit or a lower open; stop and target become fractions of that fill price.
    """
    shape = (len(data.close), len(combinations))
    entries, price = np.zeros(shape, dtype=bool), np.full(shape, np.nan)
    stop, target = np.full(shape, np.nan), np.full(shape, np.nan)
    for column, params in enumerate(combinations):
        plans = kernel.plans(strategy, data, params).dense()  # setups return signal rows only
        rows = np.flatnonzero(plans.direction[:-1])
        rows = rows[data.low[rows + 1] < plans.entry_price[rows]]
        fill = np.minimum(data.open[rows + 1], plans.entry_price[rows])
        entries[rows + 1, column], price[rows + 1, column] = True, fill
        stop[rows + 1, column] = (fill - plans.stop[rows]) / fill
        target[rows + 1, column] = (plans.target[rows] - fill) / fill
    return {"entries": entries, "price": price, "sl_stop": stop, "tp_stop": target}


def vectorbt_portfolio(data: kernel.KernelData, signals: dict) -> Any:
    """Simulate every column of `signals` as one vectorbt portfolio (one contract, no costs)."""
    import vectorbt as vbt

    return vbt.Portfolio.from_signals(
        data.close[:, None],  # one column of prices, broadcast against the columns of signals
        open=data.open[:, None],
        high=data.high[:, None],
        low=data.low[:, None],
        size=1.0,
        init_cash=1e9,
        stop_entry_price="price",
        **signals,
    )


class Timing(NamedTuple):
    """Wall times of one case, in seconds, one per interleaved round."""

    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def spread(self) -> str:
        """``min-max`` of the rounds, scaled like :func:`format_seconds`."""
        return f"{format_seconds(min(self.seconds))}-{format_seconds(max(self.seconds))}"


def load_average() -> str:
    """Return the 1-, 5- and 15-minute load averages of this machine as text (its cores beside them)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def interleaved(
    cases: Mapping[str, Callable[[], Any]], repeats: int = 3, *, warm: bool = True
) -> dict[str, Timing]:
    """Time every case `repeats` times, interleaved, and return their timings.

    Each case first runs once untimed when `warm` (imports, numba's cache, first-call allocations); then
    each round runs every case once, so a change of machine load during the benchmark hits all cases alike
    and the ratio of two medians holds better than either time. The load average is printed before and after.
    """
    if repeats < 3:
        raise ValueError("repeats: at least 3 rounds, so a median means something")
    print(f"load average before: {load_average()}", flush=True)
    if warm:
        for run in cases.values():
            run()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    print(f"load average after:  {load_average()}", flush=True)
    return {name: Timing(tuple(values)) for name, values in times.items()}


def format_seconds(seconds: float) -> str:
    """Format a duration with a unit that keeps three significant digits (µs, ms or s)."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:,.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:,.1f} ms"
    return f"{seconds:,.2f} s"


def print_timings(title: str, timings: Mapping[str, Timing]) -> None:
    """Print each case's median, its range over the rounds and its median over the first case's (above 1:
    slower than the first case)."""
    first = next(iter(timings.values())).median
    rows = [
        (name, format_seconds(timing.median), timing.spread(), f"{timing.median / first:,.2f}")
        for name, timing in timings.items()
    ]
    rounds = len(next(iter(timings.values())).seconds)
    print_table(
        f"{title} (median of {rounds} interleaved rounds)", rows, ["case", "median", "range", "vs row 1"]
    )


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
