"""backtrader analyzers that record a run: the trade log and the mark-to-market equity per bar.

They only record; :mod:`rtystrat.analysis.metrics` computes statistics from what they return. Times come back
in the data's own time zone (backtrader drops it): rows are looked up by bar position in the strategy's frame.
"""

from __future__ import annotations

from typing import Any

import backtrader as bt
import numpy as np
import pandas as pd

from rtystrat.execution import fills, tradelog

__all__ = ["EquityRecorder", "ProgressCounter", "TradeRecorder"]


class TradeRecorder(bt.Analyzer):
    """Record each closed trade of a :class:`~rtystrat.execution.strategy.SetupStrategy` from its booked exit
    orders.

    ``get_analysis()`` returns the trade log DataFrame (:data:`rtystrat.execution.tradelog.TRADE_COLUMNS`).
    Alongside, ``booked_prices`` holds the exit prices backtrader executed and ``backtrader_pnl``
    backtrader's own closed-trade P&L (``Trade.pnl``, ``Trade.pnlcomm``); the tests hold them equal to the
    log's ``exit_price``, ``pnl_gross`` and ``pnl_net``.
    """

    def start(self) -> None:
        """Reset the recordings."""
        self._records: list[np.ndarray] = []
        self.booked_prices: list[float] = []
        self.backtrader_pnl: list[tuple[float, float]] = []

    def notify_order(self, order: bt.Order) -> None:
        """Keep the fill record of every executed exit (its ``order.info['fill']``)."""
        record = order.info.get("fill")
        if record is not None and order.status == bt.Order.Completed and record[fills.F_KIND] == fills.EXIT:
            self._records.append(record)
            self.booked_prices.append(order.executed.price)

    def notify_trade(self, trade: bt.Trade) -> None:
        """Keep backtrader's own P&L of each closed trade."""
        if trade.isclosed:
            self.backtrader_pnl.append((trade.pnl, trade.pnlcomm))

    def get_analysis(self) -> pd.DataFrame:
        """Return the trade log of the strategy (one row per round trip, or per leg around a roll)."""
        strategy = self.strategy
        settings = strategy.settings
        records = np.array(self._records).reshape(-1, fills.FILL_FIELDS)
        frame = strategy.frame
        contract: Any = (
            frame["contract"].to_numpy(object) if "contract" in frame.columns else strategy.broker.p.contract
        )
        log = tradelog.trade_log(
            records,
            frame.index,
            setup=strategy.name,
            multiplier=settings[fills.SET_MULTIPLIER],
            commission_per_side=settings[fills.SET_COMMISSION],
            contracts_traded=contract,
        )
        return log


class EquityRecorder(bt.Analyzer):
    """Record the account value (cash + margin held + open P&L at the close) after every bar.

    ``get_analysis()`` returns a Series named ``"equity"`` indexed by the bar times (tz restored).
    """

    def start(self) -> None:
        """Reset the recording."""
        self._values: list[float] = []

    def next(self) -> None:
        """Record the value at this bar's close (the broker has booked and marked the bar)."""
        self._values.append(self.strategy.broker.getvalue())

    def get_analysis(self) -> pd.Series:
        """Return the equity curve in $."""
        index = self.strategy.frame.index
        return pd.Series(self._values, index=index[: len(self._values)], name="equity", dtype=np.float64)


class ProgressCounter(bt.Analyzer):
    """Advance a progress bar (``params.bar``, a tqdm) by one on each bar of the run.

    Every strategy of a run gets its own analyzers; only the first strategy's counter advances the bar, so
    it counts bars, not bars times strategies.
    """

    params = (("bar", None),)

    def start(self) -> None:
        """Count only for the first strategy of the run."""
        self._counts = self.strategy is self.strategy.env.runningstrats[0]

    def next(self) -> None:
        """Count one bar."""
        if self._counts:
            self.p.bar.update(1)
