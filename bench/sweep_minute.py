"""The kernel on one-minute bars: one run over 1,000,000 bars, and sweeps of the 10,000-combination grid.

Run: ``python -m bench.sweep_minute [--repeats 3] [--runs 200] [--backtrader] [--full]``, or
``python -m bench.sweep_minute --scaling [--repeats 3] [--runs 1000] [--workers 2]``. Every case runs in
interleaved rounds after an untimed warm-up; the tables show medians and ratios measured in that one run, with
the load average before and after.

The default cases:

- one run of the kernel (``kernel.evaluate``: plans, fills, statistics) of :data:`IN_A_TRADE`, parameters
  that keep the strategy in a trade on most of the bars (the script prints the share), where a fill loop
  that steps every bar of an open position is at its slowest;
- the minimal numba bracket loop (``bench.common.bracket_loop``) on the same plans: the floor of a fill loop;
- vectorbt's ``from_signals`` on the kernel's entries, when installed (``pip install 'rtystrat[bench]'``);
  the script prints vectorbt's time over the kernel's (the issue's target: at least 2);
- ``sweep()`` of 1 combination: what a sweep does once, whatever its size (the indicator frame, the first
  run in the calling process);
- ``sweep()`` of a ``--runs`` random slice (default 200) of the 10,000-combination grid (100 stops x 100
  targets) on ``--workers`` processes (default: all cores); the whole grid is extrapolated as the set-up
  plus 9,999 times the slice's time per further run;
- with ``--backtrader``, one backtrader run of the default parameters (about half a minute each).

``--scaling`` times the sweep of the slice on 1 process and on ``--workers`` processes, the 1-combination
sweep (the set-up) and a control of pure CPU work (a Python loop of fixed total length split over 1 and
``--workers`` fresh processes), all interleaved. It prints each speed-up (1 process's median over
``--workers``'s), the most the set-up leaves the sweep (Amdahl: ``T1 / (S + (T1 - S) / workers)``) and
the CPU time the worker processes used: on a machine shared with other jobs the control shows how much a
second process can gain at all, and equal CPU times show the workers duplicate no work. Its slice defaults
to 1,000 runs: the set-up (about 2 s of one process) runs once per sweep, so on 200 runs of ~0.1 s it
alone caps 2 processes near 1.8x, and the faster the runs the more a small slice measures the set-up
rather than the sweep.

``--full`` times the whole 10,000-combination sweep once after the rounds (minutes; a single run, printed
apart from the medians).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import resource
import statistics
import time
from collections.abc import Callable

import pandas as pd

from bench.common import (
    Timing,
    format_seconds,
    has_vectorbt,
    interleaved,
    load_average,
    minute_bars,
    peak_rss_mib,
    print_timings,
    run_bracket_loop,
    vectorbt_portfolio,
    vectorbt_signals,
)
from rtystrat.execution import kernel
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import run_backtest
from rtystrat.registry import get_strategy
from rtystrat.tuning.space import ParameterSpace
from rtystrat.tuning.sweep import sweep

# 100 stops x 100 targets above the entry = 10,000 combinations, RSI filter off.
GRID_10K = {"stop_offset": "1:100:1pt", "target": "5:500:5pt", "rsi_max": ["none"]}
# One run that is in a trade on most bars (about two thirds of them): the buy limit 8 % of S2 above S2, where
# the synthetic minute closes often are (a median 9.5 % above S2), so it fills soon after each exit; the stop
# 10 % under S2 and the target 10 % over the entry, so each trade lasts weeks; no time stop; re-entries.
IN_A_TRADE = {
    "entry_band": "8%",
    "stop_offset": "10%",
    "target": "10%",
    "rsi_max": None,
    "max_hold": 0,
    "reentry": True,
}
SETUP = "kernel: sweep(), 1 combination (the set-up: indicator frame, first run)"

# The control's total loop length: about a second of CPU on a quiet core.
SPIN = 20_000_000


def _spin(count: int) -> int:
    """Pure CPU work that shares nothing: the control of what more processes get from this machine."""
    total = 0
    for i in range(count):
        total += i
    return total


def _spin_on(workers: int) -> None:
    """Run :data:`SPIN` loop steps split over `workers` fresh processes."""
    with cf.ProcessPoolExecutor(workers) as pool:
        list(pool.map(_spin, [SPIN // workers] * workers))


def _children_cpu() -> float:
    """Return the CPU time (user + system) of this process's finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _ratio(timings: dict[str, Timing], slower: str, faster: str, text: str) -> float:
    """Print and return the median of `slower` over the median of `faster` (both timed in these rounds)."""
    ratio = timings[slower].median / timings[faster].median
    print(f"{text}: {ratio:.2f}x")
    return ratio


def _extrapolate(timings: dict[str, Timing], name: str, runs: int, total: int = 10_000) -> float:
    """Return the time of `total` runs: the set-up once, plus each further run at the slice's pace."""
    setup = timings[SETUP].median
    return setup + (timings[name].median - setup) / (runs - 1) * (total - 1)


def _scaling(cases: dict[str, Callable[[], object]], workers: int, repeats: int) -> None:
    """Time `cases` (the set-up; the sweep on 1 process and on `workers`; the control on 1 and `workers`),
    interleaved; print each speed-up, the most the set-up allows, and the median CPU time of the workers."""
    cpu: dict[str, list[float]] = {name: [] for name in cases}

    def counted(name: str, run: Callable[[], object]) -> Callable[[], None]:
        def timed() -> None:
            before = _children_cpu()
            run()
            cpu[name].append(_children_cpu() - before)

        return timed

    # Rounds of 1,000 runs take minutes: warm up on a small sweep instead of every case once (the numba
    # cache, the calendar, first allocations; each sweep builds its own frame and workers anyway).
    cases[SETUP]()
    timings = interleaved({name: counted(name, run) for name, run in cases.items()}, repeats, warm=False)
    print_timings("1 process against more, interleaved", timings)
    setup, one, many, control_one, control_many = cases
    speedup = _ratio(timings, one, many, f"sweep on {workers} processes, speed-up over 1 process")
    _ratio(timings, control_one, control_many, f"control on {workers} processes, speed-up over 1 process")
    serial, total = timings[setup].median, timings[one].median
    bound = total / (serial + (total - serial) / workers)
    print(
        f"the most {workers} processes can gain, the set-up ({format_seconds(serial)}) run once: {bound:.2f}x"
    )
    print(f"the sweep's speed-up over that bound: {speedup / bound:.0%}")
    for name in (one, many, control_one, control_many):
        print(f"CPU time of the worker processes, median: {statistics.median(cpu[name]):.2f} s  {name}")


def _in_a_trade(strategy: type, data: kernel.KernelData, params: dict) -> None:
    """Print the trades of `params` and the share of the bars they hold a position on."""
    trades, _ = kernel.run(strategy, data, params)
    entries = data.index.get_indexer(pd.DatetimeIndex(trades["entry_time"]))
    exits = data.index.get_indexer(pd.DatetimeIndex(trades["exit_time"]))
    share = (exits - entries).sum() / len(data.index)
    print(f"one run: {len(trades):,} trades, in a trade on {share:.0%} of the bars")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (at least 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="worker processes")
    parser.add_argument("--backtrader", action="store_true", help="add one backtrader run to every round")
    parser.add_argument("--full", action="store_true", help="then time all 10,000 combinations once")
    parser.add_argument("--scaling", action="store_true", help="only the slice: 1 process vs --workers")
    parser.add_argument(
        "--runs", type=int, help="combinations in the slice of the grid (default 200; 1,000 with --scaling)"
    )
    args = parser.parse_args()
    runs = args.runs or (1_000 if args.scaling else 200)
    strategy = get_strategy("bullish_reversal")
    start = time.perf_counter()
    bars = minute_bars()
    print(f"{len(bars):,} one-minute bars generated in {time.perf_counter() - start:.1f} s")
    slice_ = ParameterSpace(GRID_10K, random=runs, seed=1)
    one = ParameterSpace(GRID_10K, random=1, seed=1)

    def sweep_case(workers: int) -> tuple[str, Callable[[], object]]:
        name = f"kernel: sweep(), {runs} of the 10,000 combinations, {workers} process(es)"
        return name, lambda: sweep(strategy, bars, slice_, workers=workers, progress=False)

    cases: dict[str, Callable[[], object]] = {
        SETUP: lambda: sweep(strategy, bars, one, workers=args.workers, progress=False)
    }
    if args.scaling:
        cases.update([sweep_case(1), sweep_case(args.workers)])
        for workers in (1, args.workers):
            cases[f"control: {SPIN:,} steps of a Python loop, {workers} process(es)"] = (
                lambda workers=workers: _spin_on(workers)
            )
        _scaling(cases, args.workers, args.repeats)
        return
    data = kernel.prepare(strategy, bars, RunConfig())
    params = strategy.parameters.validate(IN_A_TRADE)
    _in_a_trade(strategy, data, params)
    one_run = "kernel: one run (plans, fills, statistics)"
    loop = "minimal numba bracket loop: one run (plans included)"
    vectorbt = "vectorbt: from_signals, one run (entries given)"
    cases = {
        one_run: lambda: kernel.evaluate(strategy, data, params),
        loop: lambda: run_bracket_loop(strategy, data, params),
        **cases,
    }
    if has_vectorbt():
        signals = vectorbt_signals(strategy, data, [params])
        cases[vectorbt] = lambda: vectorbt_portfolio(data, signals)
        booked = int(vectorbt_portfolio(data, signals).trades.count().sum())
        print(f"vectorbt, given the kernel's entries: {booked:,} trades")
    else:
        print("vectorbt is not installed (pip install 'rtystrat[bench]'): no vectorbt row")
    name, run_sweep = sweep_case(args.workers)
    cases[name] = run_sweep
    backtrader = "backtrader engine: one run (default parameters), 1 process"
    if args.backtrader:
        cases[backtrader] = lambda: run_backtest(strategy, bars, config=RunConfig(), params={"rsi_max": None})
    timings = interleaved(cases, args.repeats)
    print_timings(f"{len(bars):,} one-minute bars", timings)
    if vectorbt in timings:
        _ratio(timings, vectorbt, one_run, "one run: vectorbt's time over the kernel's (target: at least 2)")
    _ratio(timings, one_run, loop, "one run: the kernel's time over the minimal loop's")
    whole = _extrapolate(timings, name, runs)
    print(f"sweep extrapolated to 10,000 combinations on {args.workers} processes: {format_seconds(whole)}")
    if args.backtrader:
        hours = timings[backtrader].median * 10_000 / args.workers / 3600
        print(f"backtrader extrapolated to 10,000 runs on {args.workers} cores: {hours:,.1f} h")
    if args.full:
        print(f"load average before the full sweep: {load_average()}")
        start = time.perf_counter()
        frame = sweep(strategy, bars, ParameterSpace(GRID_10K), workers=args.workers, progress=True)
        seconds = time.perf_counter() - start
        print(f"full sweep, a single run: {len(frame):,} combinations in {format_seconds(seconds)}")
        print(f"load average after: {load_average()}")
    print(f"peak RSS of this process {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
