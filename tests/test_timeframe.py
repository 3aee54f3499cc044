"""Intraday bars with daily indicators: values of completed sessions only, checked against resampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rtystrat
from rtystrat.errors import ParameterError
from rtystrat.signals import setups, ta
from rtystrat.signals.features import indicator_frame


@pytest.fixture(scope="module")
def minute() -> pd.DataFrame:
    """The shipped one-minute sample (2025, CME Globex sessions)."""
    return rtystrat.load_sample("minute")


@pytest.fixture(scope="module")
def minute_frame(minute: pd.DataFrame) -> pd.DataFrame:
    return indicator_frame(minute, levels="M:classic", sma=(50, 100), rsi=14, atr=14, timeframe="D")


def _sessions_by_shift(bars: pd.DataFrame) -> pd.DatetimeIndex:
    """Session date of each bar, by a second rule: Chicago time + 7 h, Saturday and Sunday to Monday.

    A CME session runs 17:00–16:00 CT, so adding 7 hours moves every session into one calendar day.
    """
    shifted = (bars.index.tz_convert("America/Chicago").tz_localize(None) + pd.Timedelta(hours=7)).normalize()
    return shifted + pd.to_timedelta(np.where(shifted.day_of_week >= 5, 7 - shifted.day_of_week, 0), unit="D")


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


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.integers(0, 60),
    cut=st.floats(0.05, 0.95),
    factor=st.floats(0.6, 1.4).filter(lambda value: abs(value - 1) > 0.01),
    seed=st.integers(0, 2**32 - 1),
)
def test_perturbing_minute_bars_after_t_changes_nothing_at_or_before_t(
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
        plans_before = setup(before.rename(columns=renamed), **params)
        plans_after = setup(after.rename(columns=renamed), **params)
        for name in ("direction", "entry_price", "stop", "target", "invalidation"):
            np.testing.assert_array_equal(
                getattr(plans_before, name)[: t + 1], getattr(plans_after, name)[: t + 1], err_msg=name
            )
