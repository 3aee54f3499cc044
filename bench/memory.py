"""Peak memory of a 10,000-run sweep against a single run of the same strategy on the same data.

Run: ``python -m bench.memory``. Each case runs in a fresh Python process (``python -m bench.memory --case
...``) that reports its own peak resident set size (``ru_maxrss``, as ``/usr/bin/time -v`` shows it), so the
numbers do not share imports, caches or allocator state. The sweep runs serially in that process, so its peak
is the whole sweep's peak; ``--case pool`` runs it on a 2-process pool and reports the parent and the largest
worker; ``--case diagnostics`` runs it serially keeping each run's daily returns
(``keep_returns=True``), then :func:`rtystrat.tuning.diagnostics.diagnose` without and with the SPA test,
and reports the peak after each step. ``--cases`` picks the cases of the table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from typing import Any

from bench.common import daily_bars, load_average, peak_rss_mib, print_table
from rtystrat.execution import kernel
from rtystrat.execution.config import RunConfig
from rtystrat.registry import get_strategy
from rtystrat.tuning.diagnostics import diagnose
from rtystrat.tuning.sweep import sweep

# 10,000 combinations: stop 1-100 points x target 1-100 points above the entry, RSI filter off.
_CASES = ("single", "serial", "pool", "diagnostics")
GRID_10K = {"stop_offset": "1:100:1pt", "target": "5:500:5pt", "rsi_max": ["none"]}


def _case(name: str) -> dict[str, float]:
    strategy = get_strategy("bullish_reversal")
    bars = daily_bars()
    if name == "single":
        data = kernel.prepare(strategy, bars, RunConfig())
        kernel.evaluate(strategy, data, strategy.parameters.validate({"rsi_max": None}))
        return {"runs": 1, "peak_mib": peak_rss_mib()}
    if name == "diagnostics":
        frame, returns = sweep(strategy, bars, GRID_10K, executor="serial", progress=False, keep_returns=True)
        swept = peak_rss_mib()
        diagnose(frame, returns, spa_reps=0)
        without_spa = peak_rss_mib()
        diagnose(frame, returns)
        return {
            "runs": len(frame),
            "sweep_peak_mib": swept,
            "no_spa_peak_mib": without_spa,
            "peak_mib": peak_rss_mib(),
        }
    executor = "serial" if name == "serial" else "process"
    frame = sweep(strategy, bars, GRID_10K, executor=executor, workers=2, progress=False)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {"runs": len(frame), "peak_mib": peak_rss_mib(), "worker_peak_mib": children}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", choices=_CASES, help="run one case and print JSON")
    parser.add_argument("--cases", nargs="+", choices=_CASES[1:], default=_CASES[1:], help="table's sweeps")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_case(args.case)))
        return
    print(f"load average: {load_average()}")
    results = {}
    for case in ("single", *args.cases):
        out = subprocess.run(
            [sys.executable, "-m", "bench.memory", "--case", case], capture_output=True, text=True, check=True
        )
        results[case] = json.loads(out.stdout.strip().splitlines()[-1])
    single = results["single"]["peak_mib"]
    rows: list[tuple[Any, ...]] = [("one kernel run", 1, f"{single:,.0f}", "1.00x")]
    labels = {
        "serial": [("10,000-run sweep, serial", "peak_mib")],
        "pool": [
            ("10,000-run sweep, 2 processes: parent", "peak_mib"),
            ("10,000-run sweep, 2 processes: largest worker", "worker_peak_mib"),
        ],
        "diagnostics": [
            ("10,000-run sweep keeping daily returns, serial", "sweep_peak_mib"),
            ("  then diagnose(spa_reps=0) (DSR, PSR, PBO, plateau)", "no_spa_peak_mib"),
            ("  then diagnose() (the same and Hansen's SPA, 500 reps)", "peak_mib"),
        ],
    }
    for case in args.cases:
        for label, key in labels[case]:
            mib = results[case][key]
            rows.append((label, results[case]["runs"], f"{mib:,.0f}", f"{mib / single:.2f}x"))
    print_table(
        "Peak RSS, 5,000 daily bars (each case in a fresh process)",
        rows,
        ["case", "runs", "MiB", "vs one run"],
    )


if __name__ == "__main__":
    main()
