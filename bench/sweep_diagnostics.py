"""What the overfitting diagnostics cost: the 50-combination × 5,000-daily-bar sweep with and without them.

Run: ``python -m bench.sweep_diagnostics [--repeats N]``. Every case runs once to warm up (numba, imports),
then the cases run interleaved N times (default 5) so a change of machine load hits them alike; the table
shows each case's median and its ratio to the plain sweep, and the load average before and after. Cases,
all serial (one process: the pool's start-up would only add noise to both sides):

- the sweep as it is (``sweep``);
- the sweep keeping each run's daily returns (``keep_returns=True``);
- that plus :func:`rtystrat.tuning.diagnostics.diagnose` without the SPA test (DSR, PSR, effective trials,
  PBO over the 12,870 CSCV splits of 16 blocks, plateau);
- that plus Hansen's SPA test as :func:`~rtystrat.tuning.diagnostics.diagnose` runs it by default (``arch``,
  every run against flat on monthly returns, 500 bootstrap replications);
- that plus the SPA test on the daily returns (``arch``, 500 replications), for comparison (``--daily-spa``:
  it takes most of a minute on a loaded machine).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bench.common import GRID_50, daily_bars, interleaved, print_timings
from rtystrat.tuning.diagnostics import diagnose
from rtystrat.tuning.sweep import sweep


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved runs of every case (default 5)")
    parser.add_argument("--daily-spa", action="store_true", help="also time the SPA test on daily returns")
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
        return diagnose(*keep())

    def daily_spa() -> Any:
        frame, returns = keep()
        return diagnose(frame, returns.to_numpy())  # no times: the SPA test runs on the days as they are

    cases: dict[str, Callable[[], Any]] = {
        "sweep (no diagnostics)": plain,
        "sweep keeping daily returns": keep,
        "  + DSR, PSR, PBO (16 blocks), plateau": without_spa,
        "  + Hansen's SPA (arch, monthly, 500 reps)": with_spa,
    }
    if args.daily_spa:
        cases["  + Hansen's SPA on daily returns instead (500 reps)"] = daily_spa
    timings = interleaved(cases, args.repeats)
    summary = diagnose(*keep(), spa_reps=0).to_dict()
    print_timings(f"50 combinations x 5,000 daily bars, serial; PBO {summary['pbo']['pbo']:.3f}", timings)


if __name__ == "__main__":
    main()
