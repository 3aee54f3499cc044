"""Kernel vs backtrader on the same 50-combination grid over 5,000 daily bars (and vectorbt if installed).

Run: ``python -m bench.sweep_daily``. Prints medians and ratios measured in this run. The kernel and both
backtrader paths book the same trades (checked below). vectorbt, when installed, runs the same entries —
each limit fill computed from rtystrat's plans and given to vectorbt as a signal at its fill price — with
its own percentage stop and target from the fill and no time stop (its open-source version has neither
resting limit orders nor time stops), all 50 combinations as columns of one call: a speed reference whose
trades differ, and the script says by how much.
"""

from __future__ import annotations

import argparse
import os
import time

import backtrader as bt
import numpy as np
import pandas as pd

from bench.common import GRID_50, daily_bars, median_seconds, print_table
from rtystrat.execution import fills, kernel, tradelog
from rtystrat.execution.analyzers import EquityRecorder, TradeRecorder
from rtystrat.execution.broker import FuturesBroker, futures_commission
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import indicator_frame_for, run_backtest
from rtystrat.registry import get_strategy
from rtystrat.tuning.space import ParameterSpace
from rtystrat.tuning.sweep import sweep

COMPARED = ["entry_time", "entry_price", "exit_time", "exit_price", "exit_reason", "contracts"]


def optstrategy(
    strategy: type, bars: pd.DataFrame, combinations: list[dict], workers: int
) -> tuple[float, list[pd.DataFrame]]:
    """Time backtrader's own optimiser (``Cerebro.optstrategy``) over the combinations.

    Returns the seconds and each combination's trade log.
    """
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
    cerebro.addanalyzer(EquityRecorder, _name="equity")
    start = time.perf_counter()
    results = cerebro.run()
    seconds = time.perf_counter() - start
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
    return seconds, logs


def _vectorbt_signals(strategy: type, data: kernel.KernelData, combinations: list[dict]) -> dict:
    """Return vectorbt's inputs: per combination, entries at the bar a plan's limit fills, at its fill price.

    The limit of plan row ``t`` fills on bar ``t + 1`` when that bar trades below it, at the limit or a lower
    open; stop and target become fractions of that fill price.
    """
    shape = (len(data.close), len(combinations))
    entries, price = np.zeros(shape, dtype=bool), np.full(shape, np.nan)
    stop, target = np.full(shape, np.nan), np.full(shape, np.nan)
    for column, params in enumerate(combinations):
        plans = kernel.plans(strategy, data, params)
        rows = np.flatnonzero(plans.direction[:-1])
        rows = rows[data.low[rows + 1] < plans.entry_price[rows]]
        fill = np.minimum(data.open[rows + 1], plans.entry_price[rows])
        entries[rows + 1, column], price[rows + 1, column] = True, fill
        stop[rows + 1, column] = (fill - plans.stop[rows]) / fill
        target[rows + 1, column] = (plans.target[rows] - fill) / fill
    return {"entries": entries, "price": price, "sl_stop": stop, "tp_stop": target}


def _vectorbt(data: kernel.KernelData, signals: dict) -> object:
    """Simulate every combination as one column of a vectorbt portfolio (one contract, no costs)."""
    import vectorbt as vbt

    return vbt.Portfolio.from_signals(
        data.close[:, None],  # one column of prices, broadcast against the 50 columns of signals
        open=data.open[:, None],
        high=data.high[:, None],
        low=data.low[:, None],
        size=1.0,
        init_cash=1e9,
        stop_entry_price="price",
        **signals,
    )


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
    parser.add_argument("--repeats", type=int, default=7, help="repeats of the fast measurements")
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
    kernel.evaluate(strategy, data, combinations[0])  # compile (numba caches to disk after the first run)
    kernel_only = median_seconds(
        lambda: [kernel.evaluate(strategy, data, c) for c in combinations], args.repeats
    )
    serial = median_seconds(
        lambda: sweep(strategy, bars, space, executor="serial", progress=False), args.repeats
    )
    pooled = median_seconds(
        lambda: sweep(strategy, bars, space, executor="process", workers=args.workers, progress=False), 3
    )
    engine = median_seconds(
        lambda: sweep(strategy, bars, space, engine="backtrader", workers=args.workers, progress=False), 1
    )
    native, native_trades = optstrategy(strategy, bars, combinations, args.workers)
    rows = [
        ("kernel: 50 evaluations, one process", kernel_only),
        ("kernel: sweep(), serial (incl. frame + validation)", serial),
        (f"kernel: sweep(), {args.workers} processes (incl. pool start)", pooled),
        (f"backtrader: sweep(engine='backtrader'), {args.workers} processes", engine),
        (f"backtrader: Cerebro.optstrategy, maxcpus={args.workers}", native),
    ]
    vectorbt_note = ""
    try:
        import vectorbt  # noqa: F401  (optional comparison)
    except ImportError:
        print("vectorbt is not installed: no vectorbt row")
    else:
        signals = _vectorbt_signals(strategy, data, combinations)
        records = _vectorbt(data, signals).trades.records  # the first call compiles
        vectorbt_seconds = median_seconds(lambda: _vectorbt(data, signals), args.repeats)
        rows.append(("vectorbt: from_signals, 50 columns, one process (entries given)", vectorbt_seconds))
        ours = [kernel.run(strategy, data, params)[0] for params in combinations]
        same = sum(
            len(_round_trips(records[records["col"] == column], data.index) & _round_trips(log, data.index))
            for column, log in enumerate(ours)
        )
        vectorbt_note = (
            f"vectorbt trades: {len(records):,} (kernel: {sum(len(log) for log in ours):,}); "
            f"same entry and exit bar: {same:,}"
        )
    print_table(
        "50-combination sweep over 5,000 daily bars (median wall time)",
        [(name, f"{seconds * 1e3:,.1f} ms", f"{native / seconds:,.0f}x") for name, seconds in rows],
        ["engine", "time", "vs optstrategy"],
    )

    # Same trades: the kernel and optstrategy on every combination, run_backtest on the first and last.
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
    if vectorbt_note:
        print(vectorbt_note)


if __name__ == "__main__":
    main()
