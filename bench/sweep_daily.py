"""Kernel vs backtrader on the same 50-combination grid over 5,000 daily bars (and vectorbt if installed).

Run: ``python -m bench.sweep_daily [--repeats 3] [--no-backtrader]``. Every case runs once untimed, then
the cases run in interleaved rounds; the table shows medians and each median over the kernel's, with the
load average before and after. The minimal numba bracket loop (``bench.common.bracket_loop``) is the floor
a fill loop can reach on the same plans. The kernel and both backtrader paths book the same trades (checked
below). vectorbt, when installed, runs the same entries — each limit fill computed from rtystrat's plans and
given to vectorbt as a signal at its fill price — with its own percentage stop and target from the fill and
no time stop (its open-source version has neither resting limit orders nor time stops), all 50 combinations
as columns of one call: a speed reference whose trades differ, and the script says by how much.
"""

from __future__ import annotations

import argparse
import os

import backtrader as bt
import numpy as np
import pandas as pd

from bench.common import (
    GRID_50,
    daily_bars,
    has_vectorbt,
    interleaved,
    print_timings,
    run_bracket_loop,
    vectorbt_portfolio,
    vectorbt_signals,
)
from rtystrat.execution import fills, kernel, tradelog
from rtystrat.execution.analyzers import TradeRecorder
from rtystrat.execution.broker import FuturesBroker, futures_commission
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import indicator_frame_for, run_backtest
from rtystrat.registry import get_strategy
from rtystrat.tuning.space import ParameterSpace
from rtystrat.tuning.sweep import sweep

COMPARED = ["entry_time", "entry_price", "exit_time", "exit_price", "exit_reason", "contracts"]


def optstrategy(
    strategy: type, bars: pd.DataFrame, combinations: list[dict], workers: int
) -> list[pd.DataFrame]:
    """Run backtrader's own optimiser (``Cerebro.optstrategy``) over the combinations; return each
    combination's trade log."""
    config = RunConfig()
    frame = indicator_frame_for(strategy, bars, config)
    cerebro = bt.Cerebro(stdstats=False, optreturn=True, maxcpus=workers)
    broker = FuturesBroker(fill_settings=config.fill_settings(), contract=config.contract)
    broker.setcash(config.cash)
    broker.addcommissioninfo(futures_commission(config.spec))
    cerebro.broker = broker
    # backtrader pickles the Cerebro for its worker pool: a stock PandasData feed pickles, the generated
    # indicator feed does not. The strategy takes its plans from `frame`, so OHLCV lines are all it reads.
    cerebro.adddata(bt.feeds.PandasData(dataname=frame[["open", "high", "low", "close", "volume"]]))
    cerebro.optstrategy(strategy, setup_params=combinations, frame=[frame], intraday=[None])
    cerebro.addanalyzer(TradeRecorder, _name="trades")
    results = cerebro.run()
    # optreturn strips the strategy from the analyzers; rebuild each trade log from the recorded fills.
    spec = config.spec
    logs = [
        tradelog.trade_log(
            np.array(result[0].analyzers.trades._records).reshape(-1, fills.FILL_FIELDS),
            frame.index,
            setup=strategy.name,
            multiplier=spec.multiplier,
            commission_per_side=config.commission,
            contracts_traded=spec.symbol,
        )
        for result in results
    ]
    return logs


def _round_trips(trades: pd.DataFrame, index: pd.DatetimeIndex) -> set[tuple[int, int]]:
    """Return (entry bar, exit bar) pairs of a trade log or of vectorbt's trade records."""
    if "entry_idx" in trades.columns:
        entry, exit_ = trades["entry_idx"].to_numpy(), trades["exit_idx"].to_numpy()
    else:
        entry, exit_ = index.get_indexer(trades["entry_time"]), index.get_indexer(trades["exit_time"])
    return set(zip(entry.tolist(), exit_.tolist(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes for the pooled runs")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (at least 3)")
    parser.add_argument(
        "--no-backtrader", action="store_true", help="leave out the two backtrader cases (seconds per round)"
    )
    args = parser.parse_args()
    strategy = get_strategy("bullish_reversal")
    bars = daily_bars()
    space = ParameterSpace(GRID_50)
    combinations = [strategy.parameters.validate(combination) for combination in space]
    print(
        f"{len(bars):,} daily bars, {len(combinations)} combinations ({space.describe()}), "
        f"{args.workers} workers"
    )
    data = kernel.prepare(strategy, bars, RunConfig())
    workers = args.workers
    cases = {
        "kernel: 50 evaluations, 1 process": lambda: [
            kernel.evaluate(strategy, data, c) for c in combinations
        ],
        "minimal numba bracket loop: 50 runs, 1 process (plans included)": lambda: [
            run_bracket_loop(strategy, data, c) for c in combinations
        ],
        "kernel: sweep(), serial (frame + validation included)": lambda: sweep(
            strategy, bars, space, executor="serial", progress=False
        ),
        f"kernel: sweep(), {workers} processes (pool start included)": lambda: sweep(
            strategy, bars, space, executor="process", workers=workers, progress=False
        ),
    }
    if not args.no_backtrader:
        cases[f"backtrader: sweep(engine='backtrader'), {workers} processes"] = lambda: sweep(
            strategy, bars, space, engine="backtrader", workers=workers, progress=False
        )
        cases[f"backtrader: Cerebro.optstrategy, maxcpus={workers}"] = lambda: optstrategy(
            strategy, bars, combinations, workers
        )
    if has_vectorbt():
        signals = vectorbt_signals(strategy, data, combinations)
        cases["vectorbt: from_signals, 50 columns, 1 process (entries given)"] = lambda: vectorbt_portfolio(
            data, signals
        )
    else:
        print("vectorbt is not installed (pip install 'rtystrat[bench]'): no vectorbt row")
    timings = interleaved(cases, args.repeats)
    print_timings("50-combination sweep over 5,000 daily bars", timings)

    # Same trades: the kernel and optstrategy on every combination, run_backtest on the first and last.
    native_trades = optstrategy(strategy, bars, combinations, workers)
    same = [
        kernel.run(strategy, data, params)[0][COMPARED].equals(native[COMPARED].reset_index(drop=True))
        for params, native in zip(combinations, native_trades, strict=True)
    ]
    total = sum(len(log) for log in native_trades)
    print(f"kernel trades == optstrategy trades: {sum(same)}/{len(same)} combinations ({total:,} trades)")
    for params in (combinations[0], combinations[-1]):
        trades, _ = kernel.run(strategy, data, params)
        reference = run_backtest(strategy, bars, params=params).trades
        print(
            f"kernel trades == run_backtest trades, {params['stop_offset']}/{params['target']}: "
            f"{trades[COMPARED].equals(reference[COMPARED])} ({len(trades)} trades)"
        )
    ours = [kernel.run(strategy, data, params)[0] for params in combinations]
    loop_trades = sum(run_bracket_loop(strategy, data, params)[0] for params in combinations)
    print(
        f"minimal loop trades: {loop_trades:,} (kernel: {sum(len(log) for log in ours):,}; no ticks or costs)"
    )
    if has_vectorbt():
        records = vectorbt_portfolio(data, signals).trades.records
        same_bars = sum(
            len(_round_trips(records[records["col"] == column], data.index) & _round_trips(log, data.index))
            for column, log in enumerate(ours)
        )
        print(
            f"vectorbt trades: {len(records):,} (kernel: {sum(len(log) for log in ours):,}); "
            f"same entry and exit bar: {same_bars:,}"
        )


if __name__ == "__main__":
    main()
