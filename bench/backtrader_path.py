"""rtystrat's backtrader path for one run vs plain backtrader scripts of the same strategy.

Run: ``python -m bench.backtrader_path``. The strategy is the bullish reversal as rtystrat's recipe
defines it (buy limit at the monthly S2, stop 13 points under S2, target the pivot, RSI(14) below 40, out
after 10 sessions, one fill per month), over 5,000 daily bars. Three ways to run it:

1. rtystrat: ``run_backtest(strategy, bars, params=...)`` — indicator frame, plans, a feed without indicator
   lines, statistics.
2. The plain backtrader script a user writes for the same rule: a stock ``PandasData`` feed of the bars,
   backtrader's own ``RSI`` indicator, monthly pivots computed bar by bar in ``next()``, the default
   observers (``stdstats``) and per-bar decisions in ``next()``; it executes through rtystrat's
   ``FuturesBroker`` and the documented bracket API (``SetupStrategy.enter_bracket``), so it books the
   same fills — the script asserts that its trades equal rtystrat's.
3. The same script with backtrader's native ``buy_bracket`` instead: its stop and target start working
   only after the entry bar, and a bar touching both takes the stop; it books different trades, and the
   script counts how many agree.

Every path runs once untimed, then the three run in --repeats interleaved rounds (default 5); the table
shows medians and each over the plain script's (below 1: faster), with the load average before and after.
"""

from __future__ import annotations

import argparse
import math
from typing import NamedTuple

import backtrader as bt
import pandas as pd

from bench.common import daily_bars, interleaved, print_timings
from rtystrat.data.contracts import get_contract, round_to_tick
from rtystrat.execution.analyzers import TradeRecorder
from rtystrat.execution.broker import FuturesBroker, futures_commission
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import run_backtest
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.registry import get_strategy

PARAMS = {"entry": "limit", "stop_offset": "13pt", "target": "pivot", "rsi_max": 40.0, "max_hold": 10}
COMPARED = ["entry_time", "entry_price", "exit_time", "exit_price", "exit_reason", "contracts"]


class Order(NamedTuple):
    """The bracket a flat strategy places at this close: a buy limit working the next bar."""

    entry: float
    stop: float
    target: float


class ReversalRule:
    """The bullish reversal decided one bar at a time from the bar, its RSI and the next session's date.

    Monthly classic pivots of the previous complete month (the first month of the data may be partial, so
    its levels are not used). An order placed at a close works on the next bar at the next bar's levels —
    at the close of a month's last session that month is complete, and the next session's date is
    calendar knowledge (backtrader exposes it on preloaded data). One fill per month: each order carries
    the month it works in (:attr:`period`), and a month in which an entry filled takes no more entries —
    which only the executing side knows.
    """

    def __init__(self, stop_offset: float, rsi_max: float, tick: float) -> None:
        self.stop_offset, self.rsi_max, self.tick = stop_offset, rsi_max, tick
        self.month: tuple[int, int] | None = None
        self.months_seen = 0
        self.high = self.low = self.close = math.nan
        self.levels: tuple[float, float] | None = None  # (P, S2) in force on the current bar
        self.period = -1  # the month the last order works in, as year × 12 + month

    def _pivots(self) -> tuple[float, float] | None:
        if self.months_seen < 2:  # the data's first month may have started mid-month
            return None
        pivot = (self.high + self.low + self.close) / 3.0
        return pivot, pivot - (self.high - self.low)

    def on_bar(
        self,
        when: pd.Timestamp,
        following: pd.Timestamp | None,
        high: float,
        low: float,
        close: float,
        rsi: float,
    ) -> Order | None:
        """Take bar `when` (`following`: the next session's date, None on the last bar); return the order."""
        month = (when.year, when.month)
        if month != self.month:
            self.levels = self._pivots()
            self.month, self.months_seen = month, self.months_seen + 1
            self.high, self.low = high, low
        self.high, self.low, self.close = max(self.high, high), min(self.low, low), close
        if following is None:
            return None
        next_month = (following.year, following.month)
        levels = self._pivots() if next_month != month else self.levels
        if levels is None:
            return None
        pivot, s2 = levels
        entry = round_to_tick(s2, self.tick, "down")
        stop = s2 - self.stop_offset
        if not (close > entry and rsi < self.rsi_max and pivot > entry and stop < entry):
            return None
        self.period = next_month[0] * 12 + next_month[1]
        return Order(entry, stop, pivot)


class _RuleDriven(bt.Strategy):
    """What both plain scripts share: backtrader's RSI in ``__init__``, the rule applied in ``next()``."""

    params = (("stop_offset", 13.0), ("rsi_max", 40.0), ("max_hold", 10), ("tick", 0.1))

    def __init__(self) -> None:
        self.rsi = bt.indicators.RSI(self.data.close, period=14, safediv=True)
        self.rule = ReversalRule(self.p.stop_offset, self.p.rsi_max, self.p.tick)

    def prenext(self) -> None:
        self.next()  # the pivots count every bar, before the RSI has warmed up too

    def decide(self) -> Order | None:
        following = self.data.datetime.date(1) if len(self.data) < self.data.buflen() else None
        return self.rule.on_bar(
            pd.Timestamp(self.data.datetime.date(0)),
            None if following is None else pd.Timestamp(following),
            self.data.high[0],
            self.data.low[0],
            self.data.close[0],
            self.rsi[0],
        )


class PlainBullishReversal(_RuleDriven, SetupStrategy):
    """The plain script: decisions in ``next()``, executed by rtystrat's bracket API."""

    name = "bullish_reversal"
    indicators = None

    def next(self) -> None:
        order = self.decide()
        if order is not None and self.is_flat:
            self.enter_bracket("long", "limit", *order, max_hold=self.p.max_hold, period=self.rule.period)


class NativeBracketReversal(_RuleDriven):
    """The plain script with backtrader's native ``buy_bracket``, renewed each bar while flat."""

    def __init__(self) -> None:
        super().__init__()
        self.working: list[bt.Order] = []
        self.entry_bar: int | None = None
        self.filled_period = -1  # the month of the last entry that filled
        self.round_trips: list[tuple[pd.Timestamp, pd.Timestamp]] = []

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed and order.isbuy() and self.entry_bar is None:
            self.entry_bar = len(self)
            self.filled_period = self.rule.period
        if not order.alive() and order in self.working:
            self.working.remove(order)

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed:
            self.entry_bar = None
            self.round_trips.append(
                (pd.Timestamp(bt.num2date(trade.dtopen)), pd.Timestamp(bt.num2date(trade.dtclose)))
            )

    def next(self) -> None:
        order = self.decide()
        if self.position:
            if self.entry_bar is not None and len(self) - self.entry_bar + 1 >= self.p.max_hold:
                for working in list(self.working):
                    self.cancel(working)
                self.close()
            return
        if order is None or self.working or self.rule.period == self.filled_period:
            return
        self.working.extend(
            self.buy_bracket(
                price=order.entry,
                exectype=bt.Order.Limit,
                stopprice=order.stop,
                limitprice=order.target,
                valid=self.data.datetime.date(0) + pd.Timedelta(days=1),
            )
        )


def run_on_rtystrat_broker(cerebro: bt.Cerebro, config: RunConfig) -> pd.DataFrame:
    """Run a plain script's `cerebro` on rtystrat's broker and costs of `config`; return its trade log."""
    broker = FuturesBroker(fill_settings=config.fill_settings(), contract=config.contract)
    broker.setcash(config.cash)
    broker.addcommissioninfo(futures_commission(config.spec))
    cerebro.broker = broker
    cerebro.addanalyzer(TradeRecorder, _name="trades")
    (strategy,) = cerebro.run()
    return strategy.analyzers.trades.get_analysis()


def plain_run(bars: pd.DataFrame) -> pd.DataFrame:
    """Run the plain script through rtystrat's broker; return its trade log."""
    cerebro = bt.Cerebro()  # defaults: runonce, preload, stdstats observers
    cerebro.adddata(bt.feeds.PandasData(dataname=bars))
    cerebro.addstrategy(PlainBullishReversal)
    return run_on_rtystrat_broker(cerebro, RunConfig())


def native_run(bars: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Run the native-bracket script; return its round trips as (entry time, exit time) pairs."""
    spec = get_contract("RTY")
    cerebro = bt.Cerebro()
    cerebro.adddata(bt.feeds.PandasData(dataname=bars))
    cerebro.addstrategy(NativeBracketReversal)
    cerebro.broker.setcash(100_000.0)
    cerebro.broker.addcommissioninfo(
        bt.CommInfoBase(
            commission=spec.commission_per_side,
            mult=spec.multiplier,
            margin=spec.initial_margin,
            stocklike=False,
            commtype=bt.CommInfoBase.COMM_FIXED,
        )
    )
    cerebro.broker.set_slippage_fixed(spec.tick_size, slip_limit=False)
    (strategy,) = cerebro.run()
    return strategy.round_trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (at least 3)")
    args = parser.parse_args()
    strategy = get_strategy("bullish_reversal")
    bars = daily_bars()

    ours = run_backtest(strategy, bars, params=PARAMS).trades
    plain = plain_run(bars)
    pd.testing.assert_frame_equal(plain[COMPARED], ours[COMPARED])  # the same trades, or no comparison
    native = set(native_run(bars))
    same_days = native & set(zip(ours["entry_time"], ours["exit_time"], strict=True))

    timings = interleaved(
        {
            "plain backtrader script, rtystrat broker + enter_bracket (same trades)": lambda: plain_run(bars),
            "rtystrat run_backtest (from bars: indicators, plans, lean feed, stats)": lambda: run_backtest(
                strategy, bars, params=PARAMS
            ),
            "plain backtrader script, native buy_bracket (different trades)": lambda: native_run(bars),
        },
        args.repeats,
    )
    print_timings(f"One run over {len(bars):,} daily bars", timings)
    print(
        f"rtystrat trades: {len(ours)}; plain script (rtystrat fills): {len(plain)}, identical entry/exit "
        f"time, price, reason and contracts: {len(ours)}; native buy_bracket: {len(native)}, "
        f"same entry and exit day as rtystrat: {len(same_days)}"
    )


if __name__ == "__main__":
    main()
