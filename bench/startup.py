"""How fast rtystrat starts: the command line's help, a new sweep worker, and the first run after install.

Run: ``python -m bench.startup [--repeats 3] [--first-run]``. Each figure is the median of interleaved
rounds in fresh processes, with the load average before and after; CPU time (user + system, from
``getrusage``) holds on a busy machine where wall time does not:

- ``rtystrat --help``, ``rtystrat backtest --help`` and ``rtystrat sweep --help`` beside the bare interpreter,
  wall and CPU time (the command line loads no heavy module to parse);
- the first task of a new worker of a forked process pool, forked from a process that has not run the
  kernel yet and from one that has (what ``sweep`` does now: its first run goes in the calling process);
- with ``--first-run``, ``rtystrat backtest both`` on an empty numba cache (``NUMBA_CACHE_DIR`` set to a new
  folder: what a user waits for right after installing) and on the cache it left; about half a minute of
  CPU per round.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

from bench.common import Timing, format_seconds, load_average, print_table

# A new pool's first task against its second, in a fresh interpreter: the difference is the worker's start.
WORKER = """
import sys, time
from rtystrat.data.sample import load_sample
from rtystrat.execution import kernel
from rtystrat.execution.config import RunConfig
from rtystrat.registry import get_strategy
from rtystrat.tuning import sweep as sweep_module
from rtystrat.tuning.executors import Payload, open_executor

strategy = get_strategy("bullish_reversal")
config = RunConfig()
data = kernel.prepare(strategy, load_sample("daily"), config)
params = strategy.parameters.validate({"rsi_max": None})
if sys.argv[1] == "warm":
    kernel.evaluate(strategy, data, params)
job = sweep_module._Job(sweep_module.portable_strategy(strategy), "kernel", config, False)
with open_executor("process", 1, Payload("bench", data)) as (pool, reference):
    start = time.perf_counter()
    pool.submit(sweep_module._run_batch, job, reference, [(0, params)]).result()
    first = time.perf_counter() - start
    start = time.perf_counter()
    pool.submit(sweep_module._run_batch, job, reference, [(0, params)]).result()
    print(first - (time.perf_counter() - start))
"""


def _worker_start(parent: str) -> float:
    out = subprocess.run([sys.executable, "-c", WORKER, parent], check=True, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def _child_run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run `argv`; return its wall time and the CPU time (user + system) it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _print_rounds(title: str, rounds: dict[str, list[tuple[float, ...]]], header: list[str]) -> None:
    """Print the median and range of each column of `rounds` (one tuple of figures per round)."""
    rows = []
    for name, values in rounds.items():
        columns = [Timing(column) for column in zip(*values, strict=True)]
        rows.append((name, *(f"{format_seconds(c.median)} ({c.spread()})" for c in columns)))
    print_table(f"{title} (median and range of {len(next(iter(rounds.values())))} rounds)", rows, header)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (at least 3)")
    parser.add_argument("--first-run", action="store_true", help="also time backtest both on an empty cache")
    args = parser.parse_args()
    rtystrat = [sys.executable, "-m", "rtystrat"]
    commands = {
        "python -c pass (the interpreter alone)": [sys.executable, "-c", "pass"],
        "rtystrat --help": [*rtystrat, "--help"],
        "rtystrat backtest --help": [*rtystrat, "backtest", "--help"],
        "rtystrat sweep --help": [*rtystrat, "sweep", "--help"],
    }
    print(f"load average before: {load_average()}")
    for argv in commands.values():
        _child_run(argv, dict(os.environ))  # warm the file cache
    started: dict[str, list[tuple[float, ...]]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, argv in commands.items():
            started[name].append(_child_run(argv, dict(os.environ)))
    print(f"load average after:  {load_average()}")
    _print_rounds("Command line start, a fresh process each", started, ["command", "wall time", "CPU time"])

    # Measured inside each process (first task minus second), so the rounds are collected here.
    print(f"load average before: {load_average()}")
    starts: dict[str, list[tuple[float, ...]]] = {"parent has run the kernel": [], "parent has not": []}
    for _ in range(args.repeats):
        starts["parent has run the kernel"].append((_worker_start("warm"),))
        starts["parent has not"].append((_worker_start("cold"),))
    print(f"load average after:  {load_average()}")
    _print_rounds("New forked worker: its first task's extra time", starts, ["parent", "extra time"])

    if args.first_run:
        print(f"load average before: {load_average()}")
        runs: dict[str, list[tuple[float, ...]]] = {"empty numba cache": [], "the cache that run left": []}
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory(prefix="rtystrat-numba-") as cache:
                env = {**os.environ, "NUMBA_CACHE_DIR": cache}
                for name in runs:  # the empty cache first: the second run finds what the first compiled
                    runs[name].append(_child_run([*rtystrat, "backtest", "both"], env))
        print(f"load average after:  {load_average()}")
        _print_rounds("rtystrat backtest both", runs, ["numba cache", "wall time", "CPU time"])


if __name__ == "__main__":
    main()
