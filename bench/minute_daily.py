"""One backtest of a year of minute bars with daily indicators: rtystrat vs a plain ``resampledata`` script.

Run: ``python -m bench.minute_daily [--repeats 3] [--months 12]``. The strategy is the bullish reversal as
rtystrat's recipe defines it (buy limit at the monthly S2, stop 13 points under S2, target the pivot, daily
RSI(14) below 40, one fill per month, no time stop), traded on the shipped one-minute sample (2025, about
346,000 bars) with SMA/RSI/ATR counted in CME sessions. Three ways to run it:

1. the kernel: ``kernel.prepare`` (indicator frame with ``RunConfig(timeframe="D")``) + ``kernel.run``;
2. rtystrat's backtrader path: ``run_backtest(strategy, bars, config=RunConfig(timeframe="D"))``;
3. the plain backtrader script a user writes: the minute bars as a stock ``PandasData`` feed, the same feed
   resampled to days with ``cerebro.resampledata`` (timestamps moved 7 hours later so that a CME session,
   17:00-16:00 CT, is one calendar day), backtrader's ``RSI`` on the daily data, monthly pivots computed
   minute by minute in ``next()`` (the rule of :mod:`bench.backtrader_path`), default observers; it
   executes through rtystrat's broker and bracket API, and the script asserts that its trades equal
   rtystrat's.

The runs go through the shared harness (:func:`bench.common.interleaved`): rounds of kernel, rtystrat,
plain, the median and range of each printed with the load average before and after. The untimed warm-up
runs the two rtystrat paths on the first week only (numba's cache, imports): a warm-up of the plain script
would cost a fourth full run and warms nothing of it that the rounds do not.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import backtrader as bt
import pandas as pd

from bench.backtrader_path import COMPARED, ReversalRule, run_on_rtystrat_broker
from bench.common import format_seconds, interleaved, print_table
from rtystrat.data.sample import load_sample
from rtystrat.execution import kernel
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import run_backtest
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.registry import get_strategy

PARAMS = {"entry": "limit", "stop_offset": "13pt", "target": "pivot", "rsi_max": 40.0, "max_hold": 0}
CONFIG = RunConfig(timeframe="D")
SESSION_SHIFT = pd.Timedelta(hours=7)  # 17:00 CT + 7 h = midnight: one session per calendar day


class PlainMinuteReversal(SetupStrategy):
    """The plain script: minute bars in ``data0``, their daily resampling in ``data1``, rule in ``next()``."""

    name = "bullish_reversal"
    indicators = None
    params = (("stop_offset", 13.0), ("rsi_max", 40.0), ("tick", 0.1))

    def __init__(self) -> None:
        self.rsi = bt.indicators.RSI(self.data1.close, period=14, safediv=True)
        self.rule = ReversalRule(self.p.stop_offset, self.p.rsi_max, self.p.tick)

    def prenext(self) -> None:
        self.next()  # the pivots count every minute, before the daily RSI has warmed up

    def next(self) -> None:
        minutes = self.data0
        # the next minute's session date (calendar knowledge; the resampled run does not preload data0)
        bar = len(minutes) - 1
        following = self.frame.index[bar + 1].date() if bar + 1 < len(self.frame) else None
        # the daily RSI of the last session backtrader has closed: the one before this minute's session
        rsi = self.rsi[0] if len(self.data1) > 0 else float("nan")
        order = self.rule.on_bar(
            pd.Timestamp(minutes.datetime.date(0)),
            None if following is None else pd.Timestamp(following),
            minutes.high[0],
            minutes.low[0],
            minutes.close[0],
            rsi,
        )
        if order is not None and self.is_flat:
            # one fill per month, as the recipe and the daily plain script: the order carries its month
            self.enter_bracket("long", "limit", *order, period=self.rule.period)


def session_clock(times: pd.Series | pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Return `times` as naive Chicago times moved 7 hours later (the session date is the calendar date)."""
    return pd.DatetimeIndex(times).tz_convert("America/Chicago").tz_localize(None) + SESSION_SHIFT


def shifted(bars: pd.DataFrame) -> pd.DataFrame:
    """Return the OHLCV of `bars` on the session clock (:func:`session_clock`)."""
    moved = bars[["open", "high", "low", "close", "volume"]].copy()
    moved.index = session_clock(bars.index)
    return moved


def plain_run(moved: pd.DataFrame) -> pd.DataFrame:
    """Run the plain ``resampledata`` script through rtystrat's broker; return its trade log."""
    cerebro = bt.Cerebro()  # defaults: runonce, preload, stdstats observers
    minutes = bt.feeds.PandasData(dataname=moved, timeframe=bt.TimeFrame.Minutes, compression=1)
    cerebro.adddata(minutes)
    cerebro.resampledata(minutes, timeframe=bt.TimeFrame.Days, compression=1)
    cerebro.addstrategy(PlainMinuteReversal, frame=moved)
    return run_on_rtystrat_broker(cerebro, CONFIG)


def kernel_run(strategy: type, bars: pd.DataFrame) -> pd.DataFrame:
    """Run the kernel from bars (indicator frame included); return its trade log."""
    data = kernel.prepare(strategy, bars, CONFIG)
    trades, _ = kernel.run(strategy, data, strategy.parameters.validate(PARAMS))
    return trades


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--months", type=int, default=12, help="months of the 2025 sample to trade")
    args = parser.parse_args()
    strategy = get_strategy("bullish_reversal")
    bars = load_sample("minute")
    bars = bars.loc[: bars.index[0] + pd.DateOffset(months=args.months)]
    moved = shifted(bars)
    print(f"{len(bars):,} one-minute bars, {bars.index[0]} to {bars.index[-1]}", flush=True)

    week = bars.loc[: bars.index[0] + pd.DateOffset(weeks=1)]
    kernel_run(strategy, week)
    run_backtest(strategy, week, config=CONFIG, params=PARAMS)
    results: dict[str, pd.DataFrame] = {}

    def kept(key: str, run: Callable[[], pd.DataFrame]) -> Callable[[], None]:
        return lambda: results.__setitem__(key, run())

    timings = interleaved(
        {
            "kernel": kept("kernel", lambda: kernel_run(strategy, bars)),
            "ours": kept("ours", lambda: run_backtest(strategy, bars, config=CONFIG, params=PARAMS).trades),
            "plain": kept("plain", lambda: plain_run(moved)),
        },
        args.repeats,
        warm=False,
    )

    labels = {
        "kernel": "rtystrat kernel (indicator frame, plans, simulation)",
        "ours": "rtystrat run_backtest (backtrader path)",
        "plain": "plain backtrader script, resampledata + rtystrat broker",
    }
    plain_median = timings["plain"].median
    rows = []
    for key, label in labels.items():
        timing = timings[key]
        speedup = f"{plain_median / timing.median:,.1f}x"
        rows.append((label, format_seconds(timing.median), timing.spread(), speedup))
    print_table(
        f"One run over {len(bars):,} one-minute bars with daily indicators "
        f"(median of {args.repeats} interleaved rounds)",
        rows,
        ["path", "median", "range", "plain script / path"],
    )
    # the times are printed first: a difference in the trades must not cost a long run's figures
    ours, plain = results["ours"], results["plain"]
    print("trades of run_backtest:", ours[COMPARED].to_string(), sep="\n")
    print(
        "trades of the plain script (session clock: Chicago time + 7 h):",
        plain[COMPARED].to_string(),
        sep="\n",
    )
    in_session_time = ours[COMPARED].assign(
        entry_time=session_clock(ours["entry_time"]), exit_time=session_clock(ours["exit_time"])
    )
    pd.testing.assert_frame_equal(results["kernel"][COMPARED], ours[COMPARED])
    pd.testing.assert_frame_equal(
        plain[COMPARED].reset_index(drop=True), in_session_time.reset_index(drop=True)
    )
    print(f"trades: {len(ours)}, identical on all three paths (entry/exit time, price, reason, contracts)")


if __name__ == "__main__":
    main()
