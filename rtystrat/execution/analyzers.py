"""The backtrader analyzer that records a run's trade log.

It only records; :mod:`rtystrat.analysis.metrics` computes statistics from what it returns. Times come back
in the data's own time zone (backtrader drops it): rows are looked up by bar position in the strategy's frame.
The equity per bar is the account's, kept by :class:`rtystrat.execution.broker.FuturesBroker` (``values``).
"""

from __future__ import annotations

from typing import Any

import backtrader as bt
import numpy as np
import pandas as pd

from rtystrat.execution import fills, tradelog

__all__ = ["TradeRecorder"]


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
        self._log: pd.DataFrame | None = None

    def notify_order(self, order: bt.Order) -> None:
        """Keep the fill record of every executed exit (its ``order.info['fill']``)."""
        record = order.info.get("fill")
        if record is not None and order.status == bt.Order.Completed and record[fills.F_KIND] == fills.EXIT:
            self._records.append(record)
            self.booked_prices.append(order.executed.price)
            self._log = None

    def notify_trade(self, trade: bt.Trade) -> None:
        """Keep backtrader's own P&L of each closed trade."""
        if trade.isclosed:
            self.backtrader_pnl.append((trade.pnl, trade.pnlcomm))

    def get_analysis(self) -> pd.DataFrame:
        """Return the trade log of the strategy (one row per round trip, or per leg around a roll).

        Built once per run and kept: backtrader itself asks every analyzer for its analysis when the run
        stops (for its writers), before the engine does.
        """
        if self._log is None:
            strategy = self.strategy
            settings = strategy.settings
            frame = strategy.frame
            contract: Any = (
                frame["contract"].to_numpy(object)
                if "contract" in frame.columns
                else strategy.broker.p.contract
            )
            self._log = tradelog.trade_log(
                np.array(self._records).reshape(-1, fills.FILL_FIELDS),
                frame.index,
                setup=strategy.name,
                multiplier=settings[fills.SET_MULTIPLIER],
                commission_per_side=settings[fills.SET_COMMISSION],
                contracts_traded=contract,
            )
        return self._log
