"""rtystrat.data.sample: the shipped synthetic sample regenerates byte for byte and behaves like RTY."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtystrat.api import backtest
from rtystrat.data import sample
from rtystrat.data.bars import load_bars, resample_bars
from rtystrat.data.sample import (
    DAILY_FILE,
    MINUTE_FILE,
    SEED,
    _to_csv,
    generate_daily,
    generate_minute,
    load_sample,
    write_sample,
)
from rtystrat.errors import ParameterError
from rtystrat.signals.ta import rsi

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def daily() -> pd.DataFrame:
    return load_sample("daily")


@pytest.fixture(scope="module")
def minute() -> pd.DataFrame:
    return load_sample("minute")


def test_regenerating_gives_the_shipped_daily_bytes_and_the_first_month_of_minutes() -> None:
    # The whole year of minutes takes seconds to draw; the default run checks the slice the file starts
    # with (the generator draws session after session, so January is the same alone or in the year) and
    # the slow run below the whole file.
    daily = generate_daily()
    assert _to_csv(daily, "date").encode() == (DATA / DAILY_FILE).read_bytes()
    january = generate_minute(daily.loc["2025-01"], SEED + 1)
    assert january.index.normalize().nunique() >= 20
    shipped = gzip.decompress((DATA / MINUTE_FILE).read_bytes()).decode()
    assert shipped.startswith(_to_csv(january, "time"))


@pytest.mark.slow
def test_regenerating_gives_the_shipped_bytes(tmp_path: Path) -> None:
    write_sample(tmp_path)
    assert (tmp_path / DAILY_FILE).read_bytes() == (DATA / DAILY_FILE).read_bytes()
    fresh, shipped = (tmp_path / MINUTE_FILE).read_bytes(), (DATA / MINUTE_FILE).read_bytes()
    assert gzip.decompress(fresh) == gzip.decompress(shipped)
    if "ng" not in zlib.ZLIB_RUNTIME_VERSION:  # zlib-ng deflates differently; the content check above holds
        assert fresh == shipped


def test_shipped_files_load_cleanly(daily: pd.DataFrame, minute: pd.DataFrame) -> None:
    assert daily.attrs["repairs"] == [] and minute.attrs["repairs"] == []
    assert (len(daily), daily.index[0], daily.index[-1]) == (
        4533,
        pd.Timestamp("2008-01-02"),
        pd.Timestamp("2025-12-31"),
    )
    assert daily.index[-1] - daily.index[0] >= pd.Timedelta(days=15 * 365)
    assert len(minute) == 345_930
    assert minute.index[0] == pd.Timestamp("2025-01-01 17:00", tz="America/Chicago")
    assert minute.index[-1] == pd.Timestamp("2025-12-31 15:59", tz="America/Chicago")


def test_prices_sit_on_the_tenth_of_a_point_tick(daily: pd.DataFrame, minute: pd.DataFrame) -> None:
    for bars in (daily, minute):
        prices = bars[["open", "high", "low", "close"]].to_numpy()
        assert np.abs(prices * 10 - np.round(prices * 10)).max() < 1e-6
        assert (bars["volume"] == np.round(bars["volume"])).all()


def test_minute_sessions_resample_to_the_daily_rows_of_2025(
    daily: pd.DataFrame, minute: pd.DataFrame
) -> None:
    pd.testing.assert_frame_equal(resample_bars(minute, "D"), daily.loc["2025"], check_flags=False)


def test_minute_sessions_follow_the_cme_clock(minute: pd.DataFrame) -> None:
    clock = minute.index.hour * 60 + minute.index.minute
    assert not ((clock >= 16 * 60) & (clock < 17 * 60)).any()  # the daily maintenance hour
    sunday = minute.index.day_of_week == 6
    assert minute.index[sunday].min() == pd.Timestamp("2025-01-05 17:00", tz="America/Chicago")
    assert (clock[sunday] >= 17 * 60).all()
    assert not (minute.index.day_of_week == 5).any()
    # Independence Day and Christmas are closed; the day after Thanksgiving closes at 12:15.
    dates = minute.index.tz_localize(None).normalize()
    for holiday in ("2025-07-04", "2025-12-25"):
        assert not ((dates == pd.Timestamp(holiday)) & (clock < 16 * 60)).any()
    assert minute.loc["2025-11-27 17:00":"2025-11-28 23:59"].index[-1].strftime("%H:%M") == "12:14"
    assert len(minute.loc["2025-11-27 17:00":"2025-11-28 23:59"]) == 19 * 60 + 15


def test_daily_sample_touches_s2_and_breaks_to_s3(daily: pd.DataFrame) -> None:
    # Classic floor pivots of the previous calendar month, computed here with plain pandas.
    month = daily.index.to_period("M")
    bars = daily.groupby(month).agg(high=("high", "max"), low=("low", "min"), close=("close", "last"))
    high, low, close = bars["high"].shift(), bars["low"].shift(), bars["close"].shift()
    pivot = (high + low + close) / 3
    s2, s3 = pivot - (high - low), low - 2 * (high - pivot)
    touched_s2, reached_s3 = bars["low"] <= s2, bars["low"] <= s3
    bounced = touched_s2 & ~reached_s3
    assert (int(touched_s2.sum()), int(bounced.sum()), int(reached_s3.sum())) == (27, 19, 8)
    assert [str(period) for period in bars.index[bounced & (bars.index.year == 2025)]] == ["2025-02"]
    assert [str(period) for period in bars.index[reached_s3 & (bars.index.year == 2025)]] == ["2025-04"]
    drawdown = daily["close"] / daily["close"].cummax() - 1
    assert drawdown.min() == pytest.approx(-0.48, abs=0.005)


def test_with_default_parameters_the_setups_trade_before_2025_but_not_in_it(daily: pd.DataFrame) -> None:
    # data/README.md says so: February 2025's touch of S2 has RSI(14) >= 31 (the bullish reversal wants
    # < 30) and April's fall closes no lower than 2,527.9, above the 2,500 the bearish breakdown sells.
    trades = backtest("both", daily).trades
    assert len(trades) == 12
    assert trades["entry_time"].max() == pd.Timestamp("2024-11-12")
    february = rsi(daily["close"], 14).loc["2025-02"]
    assert february.min() == pytest.approx(31.04, abs=0.01)
    assert daily.loc["2025-04", "close"].min() == 2527.9
    relaxed = backtest("bullish_reversal", daily, rsi_max=None).trades.set_index("entry_time")
    assert relaxed.loc["2025-02-27", ["entry_price", "exit_reason"]].tolist() == [2650.1, "target"]


def test_load_sample_reads_the_shipped_files_without_regenerating(monkeypatch: pytest.MonkeyPatch) -> None:
    # Regenerating costs seconds (the minute bars, the exchange calendar) on every command that runs on the
    # sample; in the repository the files are there to read.
    def regenerate(*args: object) -> None:
        raise AssertionError("the sample was regenerated although its files are in data/")

    monkeypatch.setattr(sample, "sample_frames", regenerate)
    assert len(load_sample("daily")) == 4533
    assert len(load_sample("minute")) == 345_930


def test_load_sample_regenerates_the_daily_bars_in_memory_without_the_files(
    tmp_path: Path, daily: pd.DataFrame
) -> None:
    regenerated = load_sample("daily", folder=tmp_path)
    pd.testing.assert_frame_equal(regenerated, daily)
    assert regenerated.attrs["source"] == DAILY_FILE


@pytest.mark.slow
def test_load_sample_regenerates_the_minutes_in_memory_without_the_files(
    tmp_path: Path, minute: pd.DataFrame
) -> None:
    regenerated = load_sample("minute", folder=tmp_path)
    pd.testing.assert_frame_equal(regenerated, minute)
    assert regenerated.attrs["source"] == MINUTE_FILE


def test_generator_is_seeded() -> None:
    first = generate_daily(seed=1, start="2020-01-01", end="2020-03-31")
    pd.testing.assert_frame_equal(first, generate_daily(seed=1, start="2020-01-01", end="2020-03-31"))
    assert not first.equals(generate_daily(seed=2, start="2020-01-01", end="2020-03-31"))
    bars = generate_minute(first.iloc[:3], seed=5)
    pd.testing.assert_frame_equal(bars, generate_minute(first.iloc[:3], seed=5))
    assert load_bars(bars).shape == (3 * 23 * 60, 5)


def test_unknown_sample_kind_suggests() -> None:
    with pytest.raises(ParameterError, match=r"unknown sample 'minutes' \(did you mean 'minute'\?\)"):
        load_sample("minutes")
