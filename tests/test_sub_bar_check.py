"""Sub-bars resolve their bar only when they agree with it: same high and low, open and close within ticks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtystrat.data.bars import load_bars
from rtystrat.data.calendar import trade_dates
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import (
    SUB_BAR_CLOSE_TICKS,
    SUB_BAR_OPEN_TICKS,
    check_sub_bars,
    run_backtest,
    sub_bars_for,
)
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.signals.plans import ENTRY_MARKET, Plans

CHICAGO = "America/Chicago"


def _daily(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    index = pd.DatetimeIndex(["2024-03-12", "2024-03-13", "2024-03-14"][: len(rows)], name="time")
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)
    frame.attrs["tick_size"] = 0.1
    return frame


def _hours(session: str, rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    """Hourly bars of the session of `session`, from 17:00 the evening before."""
    start = pd.Timestamp(session) - pd.Timedelta(hours=7)
    index = pd.date_range(start, periods=len(rows), freq="h", tz=CHICAGO, name="time")
    return pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)


def test_sub_bars_that_miss_the_low_or_are_absent_leave_the_bar_pessimistic() -> None:
    daily = _daily([(2000.0, 2010.0, 1990.0, 2005.0)] * 3)
    agreeing = _hours("2024-03-12", [(2000.0, 2010.0, 1999.0, 2001.0), (2001.0, 2002.0, 1990.0, 2005.0)])
    # a file cut before the session's low: its lowest low is 1,995.0, the bar's 1,990.0
    truncated = _hours("2024-03-13", [(2000.0, 2010.0, 1995.0, 2003.0)])
    sub_bars = sub_bars_for(daily, pd.concat([agreeing, truncated]))
    assert sub_bars[4].tolist() == [0, 2, 3, 3]
    (opens, _, lows, _, start), check = check_sub_bars(daily, sub_bars)
    assert start.tolist() == [0, 2, 2, 2]  # the second bar keeps no sub-bars: it is resolved pessimistically
    assert opens.tolist() == [2000.0, 2001.0] and lows.tolist() == [1999.0, 1990.0]
    assert (check.resolved, check.not_covered, check.disagreed) == (1, 1, 1)
    assert check.worst == "2024-03-13 sub-bar low 1,995 vs the bar's 1,990, 50 ticks"
    assert check.message() == (
        "intraday bars resolve 1 of 3 bars; 1 not covered, 1 disagree with their bar "
        "(worst: 2024-03-13 sub-bar low 1,995 vs the bar's 1,990, 50 ticks); "
        "those are resolved pessimistically"
    )


@pytest.mark.parametrize(
    ("open_ticks", "close_ticks", "agrees"),
    [
        (SUB_BAR_OPEN_TICKS - 0.5, SUB_BAR_CLOSE_TICKS - 0.5, True),
        (SUB_BAR_OPEN_TICKS + 0.5, 0.0, False),
        (0.0, SUB_BAR_CLOSE_TICKS + 0.5, False),
    ],
)
def test_first_open_and_last_close_must_be_within_their_tolerance(
    open_ticks: float, close_ticks: float, agrees: bool
) -> None:
    daily = _daily([(2000.0, 2030.0, 1970.0, 2005.0)])
    first_open, last_close = 2000.0 + open_ticks * 0.1, 2005.0 - close_ticks * 0.1
    hours = _hours("2024-03-12", [(first_open, 2030.0, 1999.0, 2001.0), (2001.0, 2002.0, 1970.0, last_close)])
    _, check = check_sub_bars(daily, sub_bars_for(daily, hours))
    assert (check.resolved, check.disagreed) == ((1, 0) if agrees else (0, 1))


def test_a_high_one_tick_off_disagrees() -> None:
    daily = _daily([(2000.0, 2010.0, 1990.0, 2005.0)])
    hours = _hours("2024-03-12", [(2000.0, 2010.1, 1990.0, 2005.0)])
    _, check = check_sub_bars(daily, sub_bars_for(daily, hours))
    assert check.disagreed == 1 and check.worst.endswith("sub-bar high 2,010.1 vs the bar's 2,010, 1 ticks")


# --- the real daily and hourly RTY files ------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_pair(shared_data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    daily = load_bars(shared_data / "daily" / "RTY_F_yahoo_daily.csv", repair="clip,drop_weekend")
    hourly = load_bars(shared_data / "intraday" / "RTY_F_yahoo_1h_utc.csv")
    daily.attrs["tick_size"] = 0.1
    return daily, hourly


def _expected_agreement(daily: pd.DataFrame, hourly: pd.DataFrame) -> pd.Series:
    """Whether each covered session agrees, computed here with pandas from the rule's statement."""
    local = hourly.index.tz_convert(CHICAGO)
    day = local.tz_localize(None).normalize() + pd.to_timedelta((local.hour >= 17).astype(int), unit="D")
    # a day without a trade date (Sunday evening, a holiday's short session): the next trade date
    sessions = trade_dates(day.min(), day.max() + pd.Timedelta(days=10))
    day = sessions[sessions.searchsorted(day)]
    sessions = (
        hourly.set_axis(day)
        .groupby(level=0)
        .agg({"open": "first", "high": "max", "low": "min", "close": "last"})
    )
    sessions = sessions[sessions.index.isin(daily.index)]
    bar = daily.loc[sessions.index]
    ticks = (sessions - bar[sessions.columns]).abs() / 0.1
    return (
        (ticks["high"] < 0.5)
        & (ticks["low"] < 0.5)
        & (ticks["open"] <= SUB_BAR_OPEN_TICKS)
        & (ticks["close"] <= SUB_BAR_CLOSE_TICKS)
    )


@pytest.mark.shared_data
def test_real_hourly_sessions_resolve_only_where_they_match_the_daily_bar(real_pair) -> None:
    daily, hourly = real_pair
    (_, _, _, _, start), check = check_sub_bars(daily, sub_bars_for(daily, hourly))
    expected = _expected_agreement(daily, hourly)
    resolved = daily.index[np.diff(start) > 0]
    assert list(resolved) == list(expected.index[expected])
    # 503 covered sessions: the vendor's calendar-day rows of Thanksgiving 2023 and 4 July 2025 get none,
    # their hours belonging to the next trade date as CME books them
    assert check.resolved + check.disagreed == len(expected) == 503
    assert check.not_covered == len(daily) - 503
    # the March-2025 roll week: the hourly file is on the June contract, the daily file still on March
    roll_week = pd.date_range("2025-03-17", "2025-03-21")
    assert not resolved.isin(roll_week).any()
    assert check.disagreed > 51  # the sessions more than a point off, and some whose open or close is


class _LongOnMarch11(SetupStrategy):
    """Buy at the open of 2025-03-12, stop 1,990, target 2,300 (far away)."""

    name = "long_on_march_11"
    indicators = None

    @staticmethod
    def setup(frame: pd.DataFrame) -> Plans:
        plans = Plans.empty(len(frame))
        row = frame.index.get_loc(pd.Timestamp("2025-03-11"))
        plans.direction[row], plans.entry_type[row] = 1, ENTRY_MARKET
        plans.stop[row], plans.target[row] = 1990.0, 2300.0
        return plans._replace(max_hold=30)


@pytest.mark.shared_data
def test_hourly_file_cut_at_ten_on_march_13_leaves_that_day_pessimistic(
    real_pair, caplog: pytest.LogCaptureFixture
) -> None:
    daily, hourly = real_pair
    cut = hourly[hourly.index < pd.Timestamp("2025-03-13 10:00", tz=CHICAGO)]
    config = RunConfig(fill_policy="intraday", start="2025-03-03", end="2025-03-31")
    trade = run_backtest(_LongOnMarch11, daily, config=config, intraday=cut).trades.iloc[0]
    # the daily low of 1,985.5 proves the stop traded, although the hours up to 10:00 stay above it
    assert trade["exit_time"] == pd.Timestamp("2025-03-13") and trade["exit_reason"] == "stop"
    assert trade["exit_price"] == 1989.9  # the stop less one tick of slippage
    assert "(worst: 2025-03-13 sub-bar low 2,010.3 vs the bar's 1,985.5, 248 ticks)" in caplog.text
