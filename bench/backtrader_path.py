"""rtystrat's backtrader path for one run vs a plain backtrader script of the same strategy.

Run: ``python -m bench.backtrader_path``. The plain script is what a backtrader user writes for the bullish
reversal (buy limit at the monthly S2, stop 13 points under it, target the pivot, out after 10 sessions):
stock ``PandasData`` feed with the level columns as extra lines, default observers, per-bar Python in
``next()``, backtrader's own ``buy_bracket``, a futures commission scheme and fixed slippage. Both run on
the same indicator frame. Their trades differ where backtrader's native fills differ from rtystrat's
(children live only from the bar after the entry, stop before target on a bar touching both, ...); the
script prints how many trades agree. Medians over --repeats runs, measured in this run.
"""

from __future__ import annotations

import argparse

import backtrader as bt
import pandas as pd

from bench.common import daily_bars, median_seconds, print_table
from rtystrat.config import RunConfig
from rtystrat.engine import indicator_frame_for, run_backtest
from rtystrat.registry import get_strategy


class LevelsData(bt.feeds.PandasData):
    """OHLCV plus the monthly pivot levels the strategy reads."""

    lines = ("pivot", "s2")
    params = (("pivot", "P"), ("s2", "S2"))


class PlainBullishReversal(bt.Strategy):
    """The bullish reversal as plain backtrader: one bracket at a time, renewed each bar while flat."""

    params = (("stop_offset", 13.0), ("max_hold", 10), ("tick", 0.1))

    def __init__(self) -> None:
        self.working: list[bt.Order] = []
        self.entry_bar = None
        self.round_trips: list[tuple[pd.Timestamp, pd.Timestamp]] = []

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed and order.isbuy() and self.entry_bar is None:
            self.entry_bar = len(self)
        if not order.alive() and order in self.working:
            self.working.remove(order)

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed:
            self.entry_bar = None
            self.round_trips.append(
                (pd.Timestamp(bt.num2date(trade.dtopen)), pd.Timestamp(bt.num2date(trade.dtclose)))
            )

    def next(self) -> None:
        if self.position:
            if self.entry_bar is not None and len(self) - self.entry_bar + 1 >= self.p.max_hold:
                for order in list(self.working):
                    self.cancel(order)
                self.close()
            return
        if self.working:
            return
        s2, pivot, close = self.data.s2[0], self.data.pivot[0], self.data.close[0]
        if not (close > s2 < pivot):  # NaN levels compare False: no trade before the first month
            return
        entry = round(s2 / self.p.tick) * self.p.tick
        orders = self.buy_bracket(
            price=entry,
            exectype=bt.Order.Limit,
            stopprice=entry - self.p.stop_offset,
            limitprice=pivot,
            valid=self.data.datetime.date(0) + pd.Timedelta(days=1),
        )
        self.working.extend(orders)


def plain_run(frame: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Run the plain script; return its round trips as (entry time, exit time) pairs."""
    cerebro = bt.Cerebro()  # defaults: runonce, preload, stdstats observers
    cerebro.adddata(LevelsData(dataname=frame))
    cerebro.addstrategy(PlainBullishReversal)
    cerebro.broker.setcash(100_000.0)
    cerebro.broker.addcommissioninfo(
        bt.CommInfoBase(
            commission=2.5, mult=50.0, margin=7_000.0, stocklike=False, commtype=bt.CommInfoBase.COMM_FIXED
        )
    )
    cerebro.broker.set_slippage_fixed(0.1, slip_limit=False)
    (strategy,) = cerebro.run()
    return strategy.round_trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    strategy = get_strategy("bullish_reversal")
    bars = daily_bars()
    frame = indicator_frame_for(strategy, bars, RunConfig())
    params = {"rsi_max": None, "entry": "limit", "stop_offset": "13pt", "target": "pivot", "max_hold": 10}
    ours = median_seconds(lambda: run_backtest(strategy, frame, params=params), args.repeats)
    plain = median_seconds(lambda: plain_run(frame), args.repeats)
    trades = run_backtest(strategy, frame, params=params).trades
    plain_trades = set(plain_run(frame))
    same = plain_trades & set(zip(trades["entry_time"], trades["exit_time"], strict=True))
    rows = [
        (
            "rtystrat run_backtest (bracket fills on the entry bar)",
            f"{ours * 1e3:,.0f} ms",
            f"{plain / ours:.2f}x",
        ),
        ("plain backtrader script (native buy_bracket)", f"{plain * 1e3:,.0f} ms", "1.00x"),
    ]
    print_table(
        f"One run over {len(bars):,} daily bars (median of {args.repeats})", rows, ["path", "time", "speed"]
    )
    print(
        f"rtystrat trades: {len(trades)}; plain script trades: {len(plain_trades)}; "
        f"same entry and exit day: {len(same)}"
    )


if __name__ == "__main__":
    main()
