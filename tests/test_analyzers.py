"""Recorders: trade-log columns and times, mark-to-market equity, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import run_backtest
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.execution.tradelog import TRADE_COLUMNS
from rtystrat.signals.plans import ENTRY_MARKET, LONG, Plans

ROWS = [
    (2000.0, 2002.0, 1998.0, 2000.0),  # decision: buy at the next open, stop 1990, target 2030
    (2000.0, 2005.0, 1995.0, 2002.0),  # bought 2000.1
    (2002.0, 2010.0, 2001.0, 2008.0),
    (2008.0, 2032.0, 2006.0, 2020.0),  # target 2030
    (2020.0, 2021.0, 2019.0, 2020.0),
]


def one_trade(frame: pd.DataFrame) -> Plans:
    plans = Plans.empty(len(frame))
    plans.direction[0], plans.entry_type[0] = LONG, ENTRY_MARKET
    plans.stop[0], plans.target[0] = 1990.0, 2030.0
    return plans


class OneTrade(SetupStrategy):
    name = "one_trade"
    setup = staticmethod(one_trade)
    indicators = None


def _bars(index: pd.DatetimeIndex) -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=["open", "high", "low", "close"], index=index)
    frame["volume"] = 1.0
    return frame


def test_equity_is_marked_to_market_at_every_close() -> None:
    bars = _bars(pd.bdate_range("2024-01-02", periods=len(ROWS), name="time"))
    result = run_backtest(OneTrade, bars)
    expected = [
        100_000.0,
        100_000.0 - 2.5 + (2002.0 - 2000.1) * 50,  # entry commission, open P&L at the close
        100_000.0 - 2.5 + (2008.0 - 2000.1) * 50,
        100_000.0 - 5.0 + (2030.0 - 2000.1) * 50,  # realised at the target
        100_000.0 - 5.0 + (2030.0 - 2000.1) * 50,
    ]
    np.testing.assert_allclose(result.equity.to_numpy(), expected, atol=1e-6)
    assert result.equity.name == "equity"
    pd.testing.assert_index_equal(result.equity.index, bars.index)


def test_trade_log_restores_the_data_time_zone() -> None:
    index = pd.date_range("2024-03-10 00:00", periods=len(ROWS), freq="h", tz="America/Chicago", name="time")
    result = run_backtest(OneTrade, _bars(index))
    trade = result.trades.iloc[0]
    assert (trade.entry_time, trade.exit_time) == (index[1], index[3])
    assert trade.duration == pd.Timedelta(hours=2) and trade.bars_held == 2
    pd.testing.assert_index_equal(result.equity.index, index)


def test_trade_log_has_every_column_with_plain_types() -> None:
    bars = _bars(pd.bdate_range("2024-01-02", periods=len(ROWS), name="time"))
    trades = run_backtest(OneTrade, bars, config=RunConfig(contracts=2)).trades
    assert tuple(trades.columns) == TRADE_COLUMNS
    row = trades.iloc[0]
    assert (row.setup, row.direction, row.contract, row.exit_reason) == ("one_trade", "long", "RTY", "target")
    assert trades["contracts"].dtype == np.int64 and trades["ambiguous"].dtype == bool
    # 29.9 points × $50 × 2, commission $2.50 × 2 sides × 2, 1 tick of slippage on the entry × 2 contracts
    assert (row.pnl_gross, row.commission, row.slippage, row.pnl_net) == pytest.approx(
        (2990.0, 10.0, 10.0, 2980.0)
    )
    # risk 2000.1 − 1990 = 10.1 points; R net of costs: 2980 / (10.1 × 50 × 2)
    assert (row.initial_risk_points, row.r_multiple) == pytest.approx((10.1, 2980.0 / 1010.0))
    # bar 1 low 1995 and high 2005, bar 2 up to 2010; exit bar counts its open 2008 and the fill 2030
    assert (row.mae_points, row.mfe_points) == pytest.approx((5.1, 29.9))


def test_empty_run_gives_an_empty_log_with_the_columns() -> None:
    bars = _bars(pd.bdate_range("2024-01-02", periods=len(ROWS), name="time"))
    trades = run_backtest(OneTrade, bars, config=RunConfig(cash=1_000.0)).trades
    assert trades.empty and tuple(trades.columns) == TRADE_COLUMNS
