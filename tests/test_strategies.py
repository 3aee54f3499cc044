"""Recipes end to end: hand-checked trades on crafted frames, invariants on real RTY, every strategy runs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rtystrat.analysis.results import BacktestResult
from rtystrat.api import backtest
from rtystrat.data.bars import load_bars
from rtystrat.data.contracts import round_to_tick
from rtystrat.execution.config import RunConfig
from rtystrat.registry import discover

EXIT_REASONS = {"target", "stop", "time", "invalidation", "end"}
TRADE_FIELDS = ["entry_time", "entry_price", "exit_time", "exit_price", "exit_reason", "pnl_points"]

# Monthly levels of the crafted frames (the analysis's March, then made-up April and May).
LEVELS = {
    3: {
        "P": 2210.0,
        "S1": 2100.0,
        "S2": 2003.5,
        "S3": 1877.0,
        "R1": 2300.0,
        "sma_50": 2230.0,
        "sma_100": 2280.0,
    },
    4: {
        "P": 2100.0,
        "S1": 2020.0,
        "S2": 1950.0,
        "S3": 1800.0,
        "R1": 2200.0,
        "sma_50": 1980.0,
        "sma_100": 1960.0,
    },
    5: {
        "P": 2000.0,
        "S1": 1920.0,
        "S2": 1850.0,
        "S3": 1700.0,
        "R1": 2100.0,
        "sma_50": 1850.0,
        "sma_100": 1900.0,
    },
}


def crafted_frame(
    idle: Mapping[int, float], bars: Mapping[str, tuple[float, float, float, float]]
) -> pd.DataFrame:
    """Return an indicator frame over 2025-03-03 .. 2025-05-09 with known levels and indicators.

    Each month's bars sit at its `idle` price (open = close, high/low ± 2) unless `bars` gives the date's
    (open, high, low, close). RSI is 25 (oversold) and ATR 20 throughout.
    """
    index = pd.bdate_range("2025-03-03", "2025-05-09", name="time")
    close = np.array([idle[day.month] for day in index])
    frame = pd.DataFrame(
        {"open": close, "high": close + 2.0, "low": close - 2.0, "close": close}, index=index
    )
    for date, values in bars.items():
        frame.loc[pd.Timestamp(date), ["open", "high", "low", "close"]] = values
    frame["volume"] = 1000.0
    for name in LEVELS[3]:
        frame[name] = [LEVELS[day.month][name] for day in index]
    frame["R2"], frame["R3"], frame["rsi_14"], frame["atr_14"] = (
        frame["R1"] + 100.0,
        frame["R1"] + 200.0,
        25.0,
        20.0,
    )
    return frame


def trade_list(result: BacktestResult) -> list[tuple[Any, ...]]:
    trades = result.trades[TRADE_FIELDS]
    return [
        (f"{entry:%m-%d}", round(price, 1), f"{exit_:%m-%d}", round(exit_price, 1), reason, round(points, 1))
        for entry, price, exit_, exit_price, reason, points in trades.itertuples(index=False)
    ]


def assert_equity_identity(result: BacktestResult, cash: float = 100_000.0) -> None:
    assert result.equity.iloc[-1] == pytest.approx(cash + result.trades["pnl_net"].sum(), abs=0.005)


def test_bullish_reversal_trades_a_target_a_time_stop_and_a_gapped_stop() -> None:
    frame = crafted_frame(
        idle={3: 2150.0, 4: 1970.0, 5: 1950.0},
        bars={
            "2025-03-04": (2040.0, 2045.0, 2001.0, 2020.0),  # trades through the 2,003.5 limit: fill
            "2025-03-05": (2020.0, 2215.0, 2015.0, 2200.0),  # above the 2,210 pivot: target
            "2025-04-01": (1990.0, 1995.0, 1945.0, 1960.0),  # April's limit 1,950 (ordered on 03-31): fill
            "2025-05-05": (1860.0, 1862.0, 1849.0, 1855.0),  # through May's limit 1,850: fill
            "2025-05-06": (1830.0, 1835.0, 1825.0, 1830.0),  # opens below the 1,837 stop
        },
    )
    result = backtest("bullish_reversal", frame, max_hold=3)
    # Hand-checked: limits fill at the limit (no slippage), targets at the target; the time stop exits at
    # the open after 3 sessions in the trade (04-01, 04-02, 04-03) minus a tick; a stop gapped through
    # fills at the open minus a tick.
    assert trade_list(result) == [
        ("03-04", 2003.5, "03-05", 2210.0, "target", 206.5),
        ("04-01", 1950.0, "04-04", 1969.9, "time", 19.9),
        ("05-05", 1850.0, "05-06", 1829.9, "stop", -20.1),
    ]
    assert set(result.trades["setup"]) == {"bullish_reversal"}
    assert result.trades["stop"].tolist() == [1990.5, 1937.0, 1837.0]
    assert_equity_identity(result)


def test_bearish_breakdown_trades_a_target_an_invalidation_and_an_end_of_data_exit() -> None:
    frame = crafted_frame(
        idle={3: 2020.0, 4: 1930.0, 5: 1810.0},
        bars={
            "2025-03-11": (2010.0, 2012.0, 1993.0, 1995.0),  # closes below 2,000 after 2,020: signal
            "2025-03-12": (1990.0, 1992.0, 1960.0, 1965.0),  # sold at the open: 1,990 − a tick
            "2025-03-13": (1900.0, 1905.0, 1875.0, 1885.0),  # below S3 + 3 = 1,880: target
            "2025-04-01": (1930.0, 1935.0, 1905.0, 1910.0),
            "2025-04-02": (1910.0, 1912.0, 1893.0, 1895.0),  # below April's 1,900 (S2 1,950): signal
            "2025-04-03": (1893.0, 1905.0, 1890.0, 1900.0),  # sold at 1,893 − a tick
            "2025-04-04": (1900.0, 1932.0, 1898.0, 1930.0),
            "2025-04-07": (1930.0, 1968.0, 1928.0, 1965.0),  # closes above SMA100 1,960: invalidation
            "2025-04-08": (1966.0, 1970.0, 1950.0, 1955.0),  # bought back at the open + a tick
            "2025-05-01": (1810.0, 1812.0, 1798.0, 1805.0),
            "2025-05-02": (1805.0, 1806.0, 1793.0, 1795.0),  # below May's 1,800 (S2 1,850): signal
            "2025-05-05": (1794.0, 1797.0, 1791.0, 1795.0),  # sold at 1,794 − a tick; held to the end
        },
    )
    frame.loc["2025-05-06":, ["open", "high", "low", "close"]] = (1795.0, 1797.0, 1793.0, 1795.0)
    result = backtest("bearish_breakdown", frame, stop_offset="100pt")
    assert trade_list(result) == [
        ("03-12", 1989.9, "03-13", 1880.0, "target", 109.9),
        ("04-03", 1892.9, "04-08", 1966.1, "invalidation", -73.2),
        ("05-05", 1793.9, "05-09", 1795.0, "end", -1.1),
    ]
    assert result.trades["stop"].tolist() == [2100.0, 2000.0, 1900.0]
    assert result.trades["target"].tolist() == [1880.0, 1803.0, 1703.0]
    assert_equity_identity(result)


def test_both_setups_share_one_account() -> None:
    frame = crafted_frame(
        idle={3: 2150.0, 4: 1970.0, 5: 1950.0}, bars={"2025-03-04": (2040.0, 2045.0, 2001.0, 2020.0)}
    )
    both = backtest("both", frame)
    alone = backtest("bullish_reversal", frame)
    assert set(both.trades["setup"]) == {"bullish_reversal"}  # no breakdown in this frame
    pd.testing.assert_frame_equal(both.trades, alone.trades, check_dtype=False)
    assert set(both.params) == {"bullish_reversal", "bearish_breakdown"}
    assert both.params["bearish_breakdown"]["stop_offset"] == "60pt"


@pytest.fixture(scope="module")
def real_daily(shared_data: Path) -> pd.DataFrame:
    return load_bars(shared_data / "daily" / "RTY_F_yahoo_daily.csv", repair="clip,drop_weekend")


def previous_month_levels(bars: pd.DataFrame, day: pd.Timestamp) -> dict[str, float]:
    """Classic floor pivots from the calendar month before `day`, computed here independently."""
    month = bars[bars.index.to_period("M") == (day.to_period("M") - 1)]
    # the file stores 32-bit floats (2336.199951171875): the prices written are those rounded to the cent
    high, low, close = (
        round(float(value), 2) for value in (month["high"].max(), month["low"].min(), month["close"].iloc[-1])
    )
    pivot = (high + low + close) / 3.0
    return {"P": pivot, "S2": pivot - (high - low), "S3": low - 2.0 * (high - pivot)}


@pytest.mark.shared_data
def test_both_setups_on_real_rty_keep_the_invariants(real_daily: pd.DataFrame) -> None:
    result = backtest("both", real_daily)
    trades = result.trades
    counts = trades["setup"].value_counts()
    assert counts["bullish_reversal"] >= 3 and counts["bearish_breakdown"] >= 3
    assert set(trades["exit_reason"]) <= EXIT_REASONS
    assert_equity_identity(result)
    first_levels = real_daily.index[0].to_period("M") + 1  # levels exist from the first full month's next
    assert (trades["entry_time"].dt.to_period("M") > first_levels).all()
    for trade in trades.itertuples():
        if trade.setup == "bullish_reversal":
            # A buy limit: the levels in force on the entry bar, from the month before it.
            levels = previous_month_levels(real_daily, trade.entry_time)
            assert trade.stop == round_to_tick(round_to_tick(levels["S2"], 0.1, "down") - 13.0, 0.1, "down")
            assert trade.target == round_to_tick(levels["P"], 0.1, "up")
        else:
            # A market sell after a close below the level: the levels of the signal bar (the bar before).
            signal = real_daily.index[real_daily.index.get_loc(trade.entry_time) - 1]
            levels = previous_month_levels(real_daily, signal)
            level = np.floor(levels["S2"] / 100.0) * 100.0
            assert trade.stop == pytest.approx(level + 60.0)
            assert trade.target == round_to_tick(levels["S3"] + 3.0, 0.1, "down")
            assert real_daily.loc[signal, "close"] < level


@pytest.mark.shared_data
def test_april_2025_trades_after_the_march_trade_closed(real_daily: pd.DataFrame) -> None:
    # The March-2025 trade was open when April's S2 limit was first armed (03-31 … 04-03) and when price
    # traded through it (04-04); April is not used by that. Flat again, the strategy buys April's S2 on
    # 04-10 (open 1,933.3 above the limit, low 1,794.3 through it): at the limit, S2 rounded down.
    result = backtest("bullish_reversal", real_daily, rsi_max=None, max_hold=40, stop_offset="100pt")
    trades = result.trades.set_index("entry_time")
    march = trades.loc["2025-03"].iloc[0]
    assert march.exit_time >= pd.Timestamp("2025-04-04")  # still open at April's first orders
    april = trades.loc["2025-04-10"]
    s2 = previous_month_levels(real_daily, pd.Timestamp("2025-04-10"))["S2"]
    assert april.entry_price == round_to_tick(s2, 0.1, "down")
    assert len(trades.loc["2025-04"]) == 1


@pytest.mark.parametrize("name", sorted(discover()))
def test_every_discovered_strategy_runs_on_the_sample_with_its_smoke_params(name: str) -> None:
    cls = discover()[name]
    result = backtest(name, config=RunConfig(start="2015-01-01"), **getattr(cls, "SMOKE_PARAMS", {}))
    assert len(result.trades) >= 1
    assert set(result.trades["exit_reason"]) <= EXIT_REASONS
    assert_equity_identity(result)


@pytest.mark.parametrize("params", [{}, {"reentry": True, "stop_offset": "1atr", "max_hold": 3}])
def test_r2_fade_books_the_same_trades_from_plans_lines_and_the_kernel(params: dict[str, Any]) -> None:
    # Three ways to run one rule: plans through backtrader, a next() reading the feed's lines through
    # backtrader, and the plans through the sweep kernel.
    from rtystrat import load_sample
    from rtystrat.execution import kernel
    from strategies.r2_fade import R2Fade, R2FadeLines

    bars = load_sample("daily")
    config = RunConfig()
    planned = backtest(R2Fade, bars, config=config, **params).trades
    lines = backtest(R2FadeLines, bars, config=config, **params).trades
    fast, _ = kernel.run(R2Fade, kernel.prepare(R2Fade, bars, config), R2Fade.parameters.validate(params))
    compared = [*TRADE_FIELDS, "contracts"]
    assert len(planned) >= 5
    pd.testing.assert_frame_equal(lines[compared], planned[compared])
    pd.testing.assert_frame_equal(fast[compared], planned[compared])
