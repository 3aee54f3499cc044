"""The kernel on one-minute bars: one run over 1,000,000 bars, and a sweep of the 10,000-combination grid.

Run: ``python -m bench.sweep_minute [--repeats 3] [--backtrader] [--scaling]``. Cases, every one run once
untimed and then in interleaved rounds (the table shows medians, each over the kernel's one run, and the load
average):

- one run of the kernel (``kernel.evaluate``: plans, fills, statistics) with a wide stop and target, no time
  stop and re-entries, so the strategy is in a trade much of the time (the script prints how much);
- the minimal numba bracket loop (``bench.common.bracket_loop``) on the same plans: the floor of a fill loop;
- vectorbt's ``from_signals`` on the kernel's entries, when installed (``pip install 'rtystrat[bench]'``);
- a 200-combination (``--runs``) random slice of the 10,000-combination grid (100 stops x 100 targets) on
  all cores, and its extrapolation to the whole grid;
- with ``--backtrader``, one backtrader run of the default parameters (about half a minute each).

``--scaling`` times only the sweep of the slice (``--runs`` combinations), on 1 process and on ``--workers``
processes, and the same split for a control of pure CPU work (a Python loop of fixed total length over
fresh worker processes), all four interleaved. It prints each speed-up (1 process's median over
``--workers``'s) and the CPU time the worker processes used: on a machine shared with other jobs the control
shows how much a second process can gain at all, and equal CPU times show the workers duplicate no work.

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

from bench.common import (
    format_seconds,
    has_vectorbt,
    interleaved,
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
# One run that is in a trade much of the time: wide stop and target, no time stop, re-entries allowed.
IN_A_TRADE = {"stop_offset": "60pt", "target": "200pt", "rsi_max": None, "max_hold": 0, "reentry": True}


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


def _scaling(cases: dict[str, Callable[[], object]], repeats: int) -> None:
    """Time `cases` (1 process, then `workers`, for the sweep and the control), interleaved; print each
    speed-up and the median CPU time of the worker processes."""
    cpu: dict[str, list[float]] = {name: [] for name in cases}

    def counted(name: str, run: Callable[[], object]) -> Callable[[], None]:
        def timed() -> None:
            before = _children_cpu()
            run()
            cpu[name].append(_children_cpu() - before)

        return timed

    timings = interleaved({name: counted(name, run) for name, run in cases.items()}, repeats)
    print_timings("1 process against more, interleaved", timings)
    names = list(cases)
    for one, many in (names[:2], names[2:]):
        print(f"{many}: {timings[one].median / timings[many].median:.2f}x the speed of 1 process")
    for name in names:  # the untimed warm-up run is the first entry
        print(f"CPU time of the worker processes, median: {statistics.median(cpu[name][1:]):.2f} s  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (at least 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="worker processes")
    parser.add_argument("--backtrader", action="store_true", help="add one backtrader run to every round")
    parser.add_argument("--full", action="store_true", help="then time all 10,000 combinations once")
    parser.add_argument("--scaling", action="store_true", help="only the slice: 1 process vs --workers")
    parser.add_argument("--runs", type=int, default=200, help="combinations in the slice of the grid")
    args = parser.parse_args()
    strategy = get_strategy("bullish_reversal")
    start = time.perf_counter()
    bars = minute_bars()
    print(f"{len(bars):,} one-minute bars generated in {time.perf_counter() - start:.1f} s")
    slice_ = ParameterSpace(GRID_10K, random=args.runs, seed=1)

    def sweep_case(workers: int) -> tuple[str, Callable[[], object]]:
        name = f"kernel: sweep(), {args.runs} of the 10,000 combinations, {workers} process(es)"
        return name, lambda: sweep(strategy, bars, slice_, workers=workers, progress=False)

    if args.scaling:
        cases = dict([sweep_case(1), sweep_case(args.workers)])
        for workers in (1, args.workers):
            cases[f"control: {SPIN:,} steps of a Python loop, {workers} process(es)"] = (
                lambda workers=workers: _spin_on(workers)
            )
        _scaling(cases, args.repeats)
        return
    data = kernel.prepare(strategy, bars, RunConfig())
    params = strategy.parameters.validate(IN_A_TRADE)
    trades, _ = kernel.run(strategy, data, params)
    held = (data.index.get_indexer(trades["exit_time"]) - data.index.get_indexer(trades["entry_time"])).sum()
    print(f"one run: {len(trades):,} trades, in a trade on {held / len(bars):.0%} of the bars")
    cases = {
        "kernel: one run (plans, fills, statistics)": lambda: kernel.evaluate(strategy, data, params),
        "minimal numba bracket loop: one run (plans included)": lambda: run_bracket_loop(
            strategy, data, params
        ),
    }
    if has_vectorbt():
        signals = vectorbt_signals(strategy, data, [params])
        cases["vectorbt: from_signals, one run (entries given)"] = lambda: vectorbt_portfolio(data, signals)
    else:
        print("vectorbt is not installed (pip install 'rtystrat[bench]'): no vectorbt row")
    name, run_sweep = sweep_case(args.workers)
    cases[name] = run_sweep
    if args.backtrader:
        cases["backtrader engine: one run (default parameters), 1 process"] = lambda: run_backtest(
            strategy, bars, config=RunConfig(), params={"rsi_max": None}
        )
    timings = interleaved(cases, args.repeats)
    print_timings(f"{len(bars):,} one-minute bars", timings)
    per_run = timings[name].median / args.runs
    print(f"sweep extrapolated to 10,000 combinations: {format_seconds(per_run * 10_000)}")
    if args.backtrader:
        backtrader = timings["backtrader engine: one run (default parameters), 1 process"].median
        hours = backtrader * 10_000 / args.workers / 3600
        print(f"backtrader extrapolated to 10,000 runs on {args.workers} cores: {hours:,.1f} h")
    if args.full:
        start = time.perf_counter()
        frame = sweep(strategy, bars, ParameterSpace(GRID_10K), workers=args.workers, progress=True)
        seconds = time.perf_counter() - start
        print(f"full sweep, a single run: {len(frame):,} combinations in {format_seconds(seconds)}")
    print(f"peak RSS of this process {peak_rss_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
