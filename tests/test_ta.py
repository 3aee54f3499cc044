"""SMA, RSI and ATR: hand-computed cases and TA-Lib to 1e-9 on real futures data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtystrat.data.bars import load_bars
from rtystrat.errors import ParameterError
from rtystrat.signals import ta


def test_sma_of_a_ramp() -> None:
    result = ta.sma(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0]), 3)
    assert result.name == "sma_3"
    np.testing.assert_array_equal(result, [np.nan, np.nan, 2.0, 3.0, 4.0])


def test_rsi_is_seeded_with_the_mean_of_the_first_changes_then_smoothed_by_wilder() -> None:
    # changes +1 +1 -1 +1; seed at bar 2: AU = 1, AD = 0 -> 100; bar 3: AU = (1 + 0)/2, AD = (0 + 1)/2 -> 50;
    # bar 4: AU = (0.5 + 1)/2 = 0.75, AD = 0.25 -> 75
    result = ta.rsi([1.0, 2.0, 3.0, 2.0, 3.0], 2)
    assert result.name == "rsi_2"
    np.testing.assert_allclose(result, [np.nan, np.nan, 100.0, 50.0, 75.0], rtol=0, atol=1e-12)


def test_rsi_of_a_flat_series_is_zero_like_talib() -> None:
    np.testing.assert_array_equal(ta.rsi(np.ones(5), 2), [np.nan, np.nan, 0.0, 0.0, 0.0])


def test_atr_seeds_with_the_mean_true_range_including_gaps() -> None:
    high = [10.0, 12.0, 11.0, 15.0]
    low = [9.0, 10.0, 8.0, 13.0]
    close = [9.5, 11.0, 9.0, 14.0]
    # true ranges: bar 1 max(12, 9.5) - min(10, 9.5) = 2.5; bar 2 11 - 8 = 3; bar 3 (gap up) 15 - 9 = 6
    np.testing.assert_array_equal(ta.true_range(high, low, close), [np.nan, 2.5, 3.0, 6.0])
    # ATR(2): seed (2.5 + 3)/2 = 2.75 at bar 2; bar 3 (2.75 + 6)/2 = 4.375
    result = ta.atr(high, low, close, 2)
    assert result.name == "atr_2"
    np.testing.assert_array_equal(result, [np.nan, np.nan, 2.75, 4.375])


def test_indicators_keep_the_index_of_a_series() -> None:
    index = pd.date_range("2024-01-01", periods=4, name="time")
    close = pd.Series([1.0, 2.0, 3.0, 4.0], index=index)
    for result in (ta.sma(close, 2), ta.rsi(close, 2), ta.atr(close, close, close, 2)):
        assert result.index.equals(index)


def test_a_series_shorter_than_the_period_is_all_nan() -> None:
    assert ta.rsi([1.0, 2.0], 14).isna().all()
    assert ta.sma([1.0, 2.0], 3).isna().all()


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "14"])
def test_a_period_that_is_not_a_positive_whole_number_is_refused(bad: object) -> None:
    with pytest.raises(ParameterError, match=r"rsi=.*whole number >= 1"):
        ta.rsi([1.0, 2.0, 3.0], bad)


@pytest.fixture(scope="module")
def rty_daily(shared_data) -> pd.DataFrame:
    return load_bars(shared_data / "daily" / "RTY_F_yahoo_daily.csv", repair="clip,drop_weekend")


@pytest.mark.shared_data
@pytest.mark.parametrize("n", [2, 14, 50, 100])
def test_sma_rsi_atr_match_talib_to_1e9_on_real_futures(rty_daily: pd.DataFrame, n: int) -> None:
    talib = pytest.importorskip("talib", reason="TA-Lib (test dependency `ta-lib`) is the reference")
    high, low, close = (rty_daily[column].to_numpy() for column in ("high", "low", "close"))
    pairs = [
        (ta.sma(rty_daily["close"], n), talib.SMA(close, n)),
        (ta.rsi(rty_daily["close"], n), talib.RSI(close, n)),
        (ta.atr(rty_daily["high"], rty_daily["low"], rty_daily["close"], n), talib.ATR(high, low, close, n)),
    ]
    for ours, reference in pairs:
        # Same warm-up (NaN positions), then the same numbers.
        np.testing.assert_array_equal(ours.isna().to_numpy(), np.isnan(reference))
        np.testing.assert_allclose(ours.to_numpy(), reference, rtol=0, atol=1e-9, equal_nan=True)


@pytest.mark.shared_data
def test_the_article_day_values(rty_daily: pd.DataFrame) -> None:
    close = rty_daily["close"]
    day = pd.Timestamp("2025-03-13")
    assert ta.sma(close, 50)[day] == pytest.approx(2228.7, abs=0.05)
    assert ta.sma(close, 100)[day] == pytest.approx(2279.5, abs=0.05)
    assert ta.rsi(close, 14)[day] == pytest.approx(22.9, abs=0.05)
