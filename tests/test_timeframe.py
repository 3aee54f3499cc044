"""Intraday bars with daily indicators: values of completed sessions only, checked against resampling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rtystrat
from rtystrat.cli import build_parser
from rtystrat.cli.backtest import run_config
from rtystrat.data.calendar import trade_dates
from rtystrat.errors import ParameterError
from rtystrat.execution import fills, kernel
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import indicator_frame_for, run_backtest
from rtystrat.execution.fills import EXIT_REASONS, F_BAR, F_ENTRY_BAR, F_ENTRY_PRICE, F_PRICE, F_REASON
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.registry import get_strategy
from rtystrat.signals import setups, ta
from rtystrat.signals.columns import FrameColumns
from rtystrat.signals.features import indicator_frame
from rtystrat.signals.plans import LONG, Plans


@pytest.fixture(scope="module")
def minute() -> pd.DataFrame:
    """The shipped one-minute sample (2025, CME Globex sessions)."""
    return rtystrat.load_sample("minute")


@pytest.fixture(scope="module")
def minute_frame(minute: pd.DataFrame) -> pd.DataFrame:
    return indicator_frame(minute, levels="M:classic", sma=(50, 100), rsi=14, atr=14, timeframe="D")


def _sessions_by_shift(bars: pd.DataFrame) -> pd.DatetimeIndex:
    """Session date of each bar, by a second rule: Chicago time + 7 h, then the first trade date on or after.

    A CME session runs 17:00–16:00 CT, so adding 7 hours moves every session into one calendar day; a day
    without a trade date (a weekend, a holiday's short Globex session) is booked to the next trade date.
    """
    shifted = (bars.index.tz_convert("America/Chicago").tz_localize(None) + pd.Timedelta(hours=7)).normalize()
    sessions = trade_dates(shifted.min(), shifted.max() + pd.Timedelta(days=10))
    return sessions[sessions.searchsorted(shifted)]


def test_minute_bars_hold_the_sma100_of_the_completed_sessions_closes(
    minute: pd.DataFrame, minute_frame: pd.DataFrame
) -> None:
    sessions = _sessions_by_shift(minute)
    closes = minute["close"].groupby(sessions).last()  # each session's close: its last minute's close
    dates = closes.index
    number = dates.get_indexer(sessions)  # the session of every bar, 0, 1, ...
    # SMA100 of the 100 sessions before the bar's own, by plain cumulative sums
    total = np.r_[0.0, np.cumsum(closes.to_numpy())]
    expected = np.where(
        number >= 100, (total[np.maximum(number, 100)] - total[np.maximum(number - 100, 0)]) / 100, np.nan
    )
    np.testing.assert_allclose(minute_frame["sma_100"].to_numpy(), expected, rtol=0, atol=1e-9)
    assert np.isnan(expected[number < 100]).all() and not np.isnan(expected[number >= 100]).any()
    # one bar by hand: 2025-06-03 10:30 CT is in the session of 2025-06-03, so it sees closes to 2025-06-02
    at = minute_frame.index.get_loc(pd.Timestamp("2025-06-03 10:30", tz="America/Chicago"))
    last = dates.get_loc(pd.Timestamp("2025-06-02"))
    assert minute_frame["sma_100"].iloc[at] == pytest.approx(
        closes.iloc[last - 99 : last + 1].mean(), abs=1e-9
    )


def test_daily_rsi_and_atr_on_minute_bars_change_only_when_a_session_opens(
    minute: pd.DataFrame, minute_frame: pd.DataFrame
) -> None:
    sessions = _sessions_by_shift(minute)
    daily = minute.groupby(sessions).agg({"open": "first", "high": "max", "low": "min", "close": "last"})
    rsi = ta.rsi(daily["close"], 14).shift(1)  # the previous session's value
    atr = ta.atr(daily["high"], daily["low"], daily["close"], 14).shift(1)
    np.testing.assert_allclose(minute_frame["rsi_14"], rsi.reindex(sessions).to_numpy(), atol=1e-9)
    np.testing.assert_allclose(minute_frame["atr_14"], atr.reindex(sessions).to_numpy(), atol=1e-9)
    changes = minute_frame["rsi_14"].ffill().diff().fillna(0) != 0
    assert changes.sum() > 200
    assert (sessions[changes.to_numpy()] != sessions[np.flatnonzero(changes.to_numpy()) - 1]).all()


def test_daily_timeframe_on_daily_bars_changes_nothing() -> None:
    daily = rtystrat.load_sample("daily").iloc[-400:]
    plain = indicator_frame(daily)
    with_timeframe = indicator_frame(daily, timeframe="D")
    assert with_timeframe.attrs["timeframe"] == "D"
    pd.testing.assert_frame_equal(plain, with_timeframe)


def test_weekly_timeframe_holds_the_previous_weeks_values() -> None:
    daily = rtystrat.load_sample("daily").iloc[-300:]
    frame = indicator_frame(daily, levels=None, sma=4, rsi=None, atr=None, timeframe="W")
    weeks = daily.index - pd.to_timedelta(daily.index.day_of_week, unit="D")
    closes = daily["close"].groupby(weeks).last()
    expected = closes.rolling(4).mean().shift(1).reindex(weeks).to_numpy()
    np.testing.assert_allclose(frame["sma_4"], expected, atol=1e-9)


def test_unknown_timeframe_is_refused_with_a_suggestion() -> None:
    with pytest.raises(
        ParameterError,
        match=r"timeframe='d1': .*unknown period \(did you mean 'D'\?\); choose from D, W, M, Q",
    ):
        indicator_frame(rtystrat.load_sample("daily").iloc[-30:], timeframe="d1")


# Where the window starts, the cut and the change after it; a few cases on the default run, many under slow.
_PERTURBATIONS = given(
    start=st.integers(0, 60),
    cut=st.floats(0.05, 0.95),
    factor=st.floats(0.6, 1.4).filter(lambda value: abs(value - 1) > 0.01),
    seed=st.integers(0, 2**32 - 1),
)
_FIXTURE_SHARED = [HealthCheck.function_scoped_fixture]  # `minute` is read, never changed


@settings(max_examples=3, deadline=None, suppress_health_check=_FIXTURE_SHARED)
@_PERTURBATIONS
def test_perturbing_minute_bars_after_t_changes_nothing_at_or_before_t(
    minute: pd.DataFrame, start: int, cut: float, factor: float, seed: int
) -> None:
    _assert_perturbing_after_t_changes_nothing_up_to_t(minute, start, cut, factor, seed)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=_FIXTURE_SHARED)
@_PERTURBATIONS
def test_perturbing_minute_bars_after_t_changes_nothing_at_or_before_t_in_many_more_cases(
    minute: pd.DataFrame, start: int, cut: float, factor: float, seed: int
) -> None:
    _assert_perturbing_after_t_changes_nothing_up_to_t(minute, start, cut, factor, seed)


def _assert_perturbing_after_t_changes_nothing_up_to_t(
    minute: pd.DataFrame, start: int, cut: float, factor: float, seed: int
) -> None:
    """Daily indicators, weekly levels and setup decisions up to t ignore every later minute's prices."""
    sessions = _sessions_by_shift(minute)
    first = sessions.unique()[start]
    bars = minute.loc[(sessions >= first) & (sessions < first + pd.Timedelta(days=75))]
    t = int(cut * (len(bars) - 1))
    rng = np.random.default_rng(seed)
    altered = bars.copy()
    later = altered.iloc[t + 1 :]
    noise = rng.normal(0, 3, len(later))  # later prices scaled and shaken, bars kept consistent
    shifted = later[["open", "high", "low", "close"]] * factor + noise[:, None]
    shifted["high"] = shifted.max(axis=1)
    shifted["low"] = shifted[["open", "low", "close"]].min(axis=1)
    altered.iloc[t + 1 :, :4] = shifted[["open", "high", "low", "close"]].to_numpy()
    kwargs = {"levels": "W:classic", "sma": (5, 20), "rsi": 14, "atr": 14, "timeframe": "D"}
    before, after = indicator_frame(bars, **kwargs), indicator_frame(altered, **kwargs)
    pd.testing.assert_frame_equal(before.iloc[: t + 1], after.iloc[: t + 1], check_exact=True)
    assert not before.iloc[t + 1 :].equals(after.iloc[t + 1 :])
    # the setups read columns named after the default indicators
    renamed = {"sma_5": "sma_50", "sma_20": "sma_100"}
    for setup, params in (
        (setups.bullish_reversal, {"rsi_max": None, "reentry": True}),
        (setups.bearish_breakdown, {"trend_filter": False, "level": "s2"}),
        (setups.bearish_breakdown, {"entry": "stop", "invalidation": "sma_50"}),
    ):
        plans_before = setup(before.rename(columns=renamed), **params).dense()
        plans_after = setup(after.rename(columns=renamed), **params).dense()
        for name in ("direction", "entry_price", "stop", "target", "invalidation"):
            np.testing.assert_array_equal(
                getattr(plans_before, name)[: t + 1], getattr(plans_after, name)[: t + 1], err_msg=name
            )


class WeeklyBullish(get_strategy("bullish_reversal")):
    """The bullish reversal on the previous week's pivots: levels minute bars reach within weeks."""

    name = "weekly_bullish"
    indicators: ClassVar[dict[str, Any]] = {"levels": "W:classic"}


class WeeklyBearish(get_strategy("bearish_breakdown")):
    """The bearish breakdown on the previous week's pivots."""

    name = "weekly_bearish"
    indicators: ClassVar[dict[str, Any]] = {"levels": "W:classic"}


DAILY = RunConfig(timeframe="D")
COMPARED = ["entry_time", "entry_price", "exit_time", "exit_price", "exit_reason", "contracts"]


def _weekly_s2(bars: pd.DataFrame) -> pd.Series:
    """Classic S2 = P − (H − L) of the previous week, by session dates from the shifted clock."""
    sessions = _sessions_by_shift(bars)
    weeks = sessions - pd.to_timedelta(sessions.day_of_week, unit="D")
    week = bars.groupby(weeks).agg({"high": "max", "low": "min", "close": "last"})
    s2 = (week["high"] + week["low"] + week["close"]) / 3 - (week["high"] - week["low"])
    return pd.Series(s2.shift(1).reindex(weeks).to_numpy(), index=bars.index)


def test_bullish_limit_at_s2_fills_on_the_first_minute_bar_through_it(minute: pd.DataFrame) -> None:
    params = {"rsi_max": None, "stop_offset": "10pt", "target": "30pt"}
    data = kernel.prepare(WeeklyBullish, minute, DAILY)
    trades, _ = kernel.run(WeeklyBullish, data, WeeklyBullish.parameters.validate(params))
    limit = np.floor(_weekly_s2(minute) * 10 + 1e-6) / 10  # the buy limit, on the 0.1 tick below S2
    armed = minute["close"].shift(1) > limit.shift(1)  # the previous close was above the limit
    through = (minute["low"] < limit) & armed
    checked = 0
    previous_exit = minute.index[0]
    for trade in trades.itertuples():
        week_start = limit.index[(limit != limit.shift(1)).to_numpy() & (limit.index <= trade.entry_time)][-1]
        if previous_exit < week_start:  # flat all week: the order worked from the week's first bar
            first = through.loc[week_start:].idxmax()
            assert trade.entry_time == first, trade
            at = minute.loc[first]
            assert trade.entry_price == pytest.approx(min(limit.loc[first], at["open"]), abs=1e-9)
            checked += 1
        previous_exit = trade.exit_time
    assert checked >= 3


def test_a_close_below_the_level_is_a_session_close_unless_bar_closes_are_asked_for(
    minute: pd.DataFrame,
) -> None:
    params = WeeklyBearish.parameters.validate({"level": "s2", "trend_filter": False, "reentry": True})
    data = kernel.prepare(WeeklyBearish, minute, DAILY)
    trades, _ = kernel.run(WeeklyBearish, data, params)
    sessions = _sessions_by_shift(minute)
    closes = minute["close"].groupby(sessions).last()
    s2 = _weekly_s2(minute)
    assert len(trades) >= 2
    for trade in trades.itertuples():
        # the signal bar is the first of a session, the entry its next bar's open
        entry = minute.index.get_loc(trade.entry_time)
        session = sessions[entry]
        assert sessions[entry - 1] == session != sessions[entry - 2]
        number = closes.index.get_loc(session)
        level = s2.iloc[entry - 1]
        assert closes.iloc[number - 1] < level <= closes.iloc[number - 2], trade
    # on bar closes the same rule sells after any minute's close below S2
    by_bar = indicator_frame_for(
        WeeklyBearish, indicator_frame(minute, "W:classic", timeframe="D", closes="bar"), DAILY
    )
    bar_trades, _ = kernel.run(WeeklyBearish, kernel.prepare(WeeklyBearish, by_bar, DAILY), params)
    first_bars = (
        sessions[minute.index.get_indexer(bar_trades["entry_time"]) - 1]
        != sessions[minute.index.get_indexer(bar_trades["entry_time"]) - 2]
    )
    assert len(bar_trades) > len(trades) and not first_bars.all()


@pytest.mark.slow
def test_kernel_and_backtrader_book_the_same_trades_on_minute_bars_with_daily_indicators(
    minute: pd.DataFrame,
) -> None:
    # Indicators warm up on the whole year; three weeks of minutes are traded (backtrader's cost).
    october = RunConfig(timeframe="D", start="2025-10-06", end="2025-10-24")
    november = RunConfig(timeframe="D", start="2025-10-27", end="2025-11-14")
    cases = [
        (
            WeeklyBullish,
            {"rsi_max": 45.0, "stop_offset": "10pt", "target": "30pt", "reentry": True},
            november,
        ),
        (WeeklyBullish, {"entry": "bounce", "rsi_max": None, "target": "30pt", "max_hold": 1}, november),
        (
            WeeklyBearish,
            {"level": "round", "round_step": 10.0, "reentry": True, "stop_offset": "30pt"},
            october,
        ),
        (WeeklyBearish, {"entry": "stop", "level": "s2", "invalidation": "sma_50", "reentry": True}, october),
    ]
    compared = _assert_parity(minute, cases)
    assert compared >= 5  # limit, bounce (time stop), close and stop entries all trade


def _assert_parity(bars: pd.DataFrame, cases: list[tuple[type, dict[str, Any], RunConfig]]) -> int:
    """Run every case on both engines, assert equal trades, return how many trades were compared."""
    compared = 0
    for strategy, params, config in cases:
        frame = indicator_frame_for(strategy, bars, config)
        reference = run_backtest(strategy, frame, config=config, params=params).trades
        validated = strategy.parameters.validate(params)
        trades, _ = kernel.run(strategy, kernel.prepare(strategy, frame, config), validated)
        pd.testing.assert_frame_equal(
            trades[COMPARED].reset_index(drop=True),
            reference[COMPARED].reset_index(drop=True),
            obj=str(params),
        )
        compared += len(trades)
    return compared


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "start"), [("RTY_F_yahoo_1h_utc.csv", "2024-07-01"), ("RUT_ibkr_5m.csv", "2025-09-01")]
)
def test_kernel_and_backtrader_agree_on_real_intraday_files_with_daily_indicators(
    shared_data: Path, name: str, start: str
) -> None:
    bars = rtystrat.load_bars(shared_data / "intraday" / name, repair="clip")
    config = RunConfig(timeframe="D", start=start)
    cases = [
        (WeeklyBullish, {"rsi_max": None, "stop_offset": "10pt", "target": "30pt", "reentry": True}, config),
        (WeeklyBullish, {"entry": "bounce", "rsi_max": None, "target": "30pt", "max_hold": 2}, config),
        (
            WeeklyBearish,
            {"level": "round", "round_step": 10.0, "trend_filter": False, "reentry": True},
            config,
        ),
        (WeeklyBearish, {"entry": "stop", "level": "s2", "invalidation": "sma_50", "reentry": True}, config),
    ]
    assert _assert_parity(bars, cases) >= 8


def _crafted_sessions() -> pd.DataFrame:
    """Minute bars of four CME sessions (a session opens at 17:00 CT the evening before its date); bar i opens
    at 2000 + i, one point wide, with session indicators (``attrs["timeframe"]``)."""
    stamps = [
        *("2025-03-04 09:00", "2025-03-04 09:01", "2025-03-04 09:02", "2025-03-04 09:03"),  # session 03-04
        *("2025-03-04 17:00", "2025-03-04 17:01", "2025-03-05 09:00", "2025-03-05 09:01"),  # session 03-05
        *("2025-03-05 17:00", "2025-03-05 17:01", "2025-03-06 09:00", "2025-03-06 09:01"),  # session 03-06
        *("2025-03-06 17:00", "2025-03-06 17:01"),  # session 03-07
    ]
    opens = 2000.0 + np.arange(len(stamps))
    index = pd.DatetimeIndex(stamps).tz_localize("America/Chicago")
    frame = pd.DataFrame(
        {"open": opens, "high": opens + 0.5, "low": opens - 0.5, "close": opens + 0.2, "volume": 1.0}, index
    )
    frame.attrs["timeframe"] = "D"
    return frame


@pytest.mark.parametrize(
    ("clocked", "exit_bar"),
    [
        # sessions: entered in 03-04's session (the first), held through 03-05's (the second), out at the
        # first open of 03-06's session, 17:00 on 03-05 (bar 8)
        (True, 8),
        # bars: the entry bar and the next are the two bars held, out at the open of bar 4
        (False, 4),
    ],
)
def test_max_hold_counts_sessions_on_the_session_clock_in_both_engines(clocked: bool, exit_bar: int) -> None:
    frame = _crafted_sessions()
    clock = FrameColumns(frame).session_clock
    assert clock.tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 2
    # a market long decided at the close of 09:01 enters at 09:02's open, 2002 + 1 tick of slippage
    plans = Plans.empty(len(frame))._replace(max_hold=2, clock=clock if clocked else None)
    plans.direction[1], plans.stop[1], plans.target[1] = LONG, 1900.0, 2100.0
    config = RunConfig()
    trades, _ = fills.simulate_plans(frame, plans, config.fill_settings(), config.cash)
    exit_price = 2000.0 + exit_bar - 0.1  # the open − 1 tick of slippage
    assert trades[:, [F_ENTRY_BAR, F_ENTRY_PRICE, F_BAR, F_PRICE]].tolist() == [
        [2, 2002.1, exit_bar, exit_price]
    ]
    assert EXIT_REASONS[int(trades[0, F_REASON])] == "time"
    strategy = type("Crafted", (SetupStrategy,), {"name": "crafted", "setup": staticmethod(lambda _: plans)})
    strategy.indicators = None
    booked = run_backtest(strategy, frame, config=config).trades
    columns = ["entry_time", "entry_price", "exit_time", "exit_price", "exit_reason"]
    expected = [[frame.index[2], 2002.1, frame.index[exit_bar], exit_price, "time"]]
    assert booked[columns].to_numpy().tolist() == expected


def test_setups_count_max_hold_in_sessions_on_session_indicators(
    minute: pd.DataFrame, minute_frame: pd.DataFrame
) -> None:
    sessions = _sessions_by_shift(minute)
    plans = setups.bullish_reversal(minute_frame, max_hold=3)
    assert plans.max_hold == 3
    np.testing.assert_array_equal(plans.clock, sessions.unique().get_indexer(sessions))
    # without a timeframe the time stop counts bars: 3 sessions of the median session's bars
    by_bar = setups.bearish_breakdown(indicator_frame(minute, "M:classic", sma=(50, 100)), max_hold=3)
    assert by_bar.clock is None
    assert by_bar.max_hold == 3 * int(np.median(np.unique(sessions, return_counts=True)[1]))


def test_run_config_takes_a_timeframe_and_refuses_an_unknown_one() -> None:
    assert RunConfig(timeframe="d").timeframe == "D"
    assert RunConfig.from_dict(RunConfig(timeframe="W").to_dict()).timeframe == "W"
    with pytest.raises(ParameterError, match=r"timeframe must be one of D, W, M, Q or None, got 'H'"):
        RunConfig(timeframe="H")


@pytest.mark.parametrize(
    "argv",
    [
        ["backtest", "bullish_reversal"],
        ["sweep", "bullish_reversal", "--grid", "stop_offset=10pt,13pt"],
        ["walkforward", "bullish_reversal", "--grid", "stop_offset=10pt,13pt"],
    ],
)
def test_run_commands_take_a_timeframe(argv: list[str]) -> None:
    args = build_parser().parse_args([*argv, "--timeframe", "d"])
    assert run_config(args).timeframe == "D"
    assert run_config(build_parser().parse_args(argv)).timeframe is None


def test_backtest_command_trades_minute_bars_with_daily_indicators(
    minute: pd.DataFrame, tmp_path: Path
) -> None:
    # February to the exit's week: the monthly levels and a daily RSI warmed up over 50 sessions, without the
    # months of minute bars after the trade that both backtrader runs would step through for nothing
    span = minute.loc["2025-02-01":"2025-04-18"]
    path = tmp_path / "minute.csv"
    span.to_csv(path)
    out = tmp_path / "result.json"
    argv = ["backtest", "bullish_reversal", "--data", str(path), "--timeframe", "D", "--start", "2025-04-07"]
    params = ["--param", "max_hold=2", "--param", "rsi_max=35"]  # daily RSI(14) 33.6 on the signal day
    args = build_parser().parse_args([*argv, *params, "--json", str(out), "--quiet"])
    assert args.func(args) == 0
    result = json.loads(out.read_text())
    assert result["config"]["timeframe"] == "D"
    # The sweep's compiled path as the second implementation (a second backtrader run over the 73,140 bars
    # cost a second of CPU): the same trade, entered and left at the same minutes for the same reason.
    config = RunConfig(timeframe="D", start="2025-04-07")
    strategy = get_strategy("bullish_reversal")
    data = kernel.prepare(strategy, indicator_frame_for(strategy, span, config), config)
    expected, _ = kernel.run(strategy, data, strategy.parameters.validate({"max_hold": 2, "rsi_max": 35.0}))
    assert len(expected) == 1
    for column in ("entry_time", "exit_time", "exit_reason"):
        assert [trade[column] for trade in result["trades"]] == [
            t.isoformat() if column.endswith("time") else t for t in expected[column]
        ], column


@pytest.mark.shared_data
def test_levels_command_reads_an_hourly_file_by_session(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hourly = shared_data / "intraday" / "RTY_F_yahoo_1h_utc.csv"
    args = build_parser().parse_args(["levels", "--data", str(hourly), "--date", "2025-03-13", "--json"])
    assert args.func(args) == 0
    table = json.loads(capsys.readouterr().out)
    bars = rtystrat.load_bars(hourly, repair="clip,drop_weekend")
    sessions = bars.groupby(_sessions_by_shift(bars)).agg({"high": "max", "low": "min", "close": "last"})
    february = sessions.loc["2025-02"]
    high, low, close = february["high"].max(), february["low"].min(), february["close"].iloc[-1]
    pivot = (high + low + close) / 3
    assert (table["P"], table["S2"]) == pytest.approx((pivot, pivot - (high - low)), abs=1e-9)
    assert table["S2"] == pytest.approx(2003.0, abs=0.05)  # the analysis's 2,003
    closes = sessions["close"].loc[:"2025-03-13"]
    assert table["sma_100"] == pytest.approx(closes.iloc[-100:].mean(), abs=1e-9)
