"""Indicator frames by spec, no look-ahead anywhere (property test), and the levels table of a date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtystrat.data.bars import load_bars
from rtystrat.data.calendar import trade_dates
from rtystrat.errors import DataError, ParameterError
from rtystrat.signals.features import indicator_frame, levels_table, parse_levels_spec, rsi_zone
from rtystrat.signals.levels import PERIODS, PIVOT_METHODS


def _random_bars(seed: int, rows: int, intraday: bool) -> pd.DataFrame:
    """Return a random walk of consistent OHLC bars: business days, or hourly CME bars in Chicago time."""
    rng = np.random.default_rng(seed)
    if intraday:
        # 23-hour Globex sessions: every hour except 16:00, no Saturday, Sunday from 17:00.
        index = pd.date_range("2024-02-25 17:00", periods=rows * 2, freq="h", tz="America/Chicago")
        weekday, hour = index.day_of_week, index.hour
        keep = (
            (hour != 16) & (weekday != 5) & ~((weekday == 6) & (hour < 17)) & ~((weekday == 4) & (hour > 16))
        )
        index = index[keep][:rows]
    else:
        index = pd.bdate_range("2023-11-20", periods=rows)
    close = 2000 + rng.normal(0, 15, rows).cumsum()
    open_ = close + rng.normal(0, 5, rows)
    frame = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + rng.uniform(0, 8, rows),
            "low": np.minimum(open_, close) - rng.uniform(0, 8, rows),
            "close": close,
            "volume": rng.integers(0, 1000, rows).astype(float),
        },
        index=pd.DatetimeIndex(index, name="time"),
    )
    return frame


def test_indicator_frame_adds_named_columns_after_the_bars() -> None:
    bars = _random_bars(1, 120, intraday=False)
    frame = indicator_frame(bars)
    added = ["P", "S1", "S2", "S3", "R1", "R2", "R3", "sma_50", "sma_100", "rsi_14", "atr_14"]
    assert list(frame.columns) == [*bars.columns, *added]
    pd.testing.assert_frame_equal(frame[bars.columns], bars)
    # applying it twice changes nothing
    pd.testing.assert_frame_equal(indicator_frame(frame), frame)


def test_indicator_frame_columns_follow_the_method_and_parameters() -> None:
    bars = _random_bars(2, 60, intraday=False)
    camarilla = indicator_frame(bars, levels="W:camarilla", sma=20, rsi=None, atr=5)
    assert list(camarilla.columns[5:]) == [
        *("P", "S1", "S2", "S3", "S4", "R1", "R2", "R3", "R4"),
        *("sma_20", "atr_5"),
    ]
    demark = indicator_frame(bars, levels="d:DeMark", sma=None, rsi=3, atr=None)
    assert list(demark.columns[5:]) == ["P", "S1", "R1", "rsi_3"]
    assert list(indicator_frame(bars, levels=None, sma=(), rsi=None, atr=None).columns) == list(bars.columns)


def test_levels_specs_parse_with_classic_as_default_method() -> None:
    assert parse_levels_spec("M:classic") == ("M", "classic")
    assert parse_levels_spec("w:Fibonacci") == ("W", "fibonacci")
    assert parse_levels_spec("Q") == ("Q", "classic")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("X:classic", r"levels='X:classic': period='X': unknown period; choose from D, W, M, Q"),
        ("M:fibonaci", r"levels='M:fibonaci': .*unknown pivot method \(did you mean 'fibonacci'\?\)"),
        ("M:classic:2", r"levels='M:classic:2': expected 'PERIOD:METHOD'"),
        ("", r"levels='': expected 'PERIOD:METHOD'"),
    ],
)
def test_bad_levels_specs_fail_in_one_line(spec: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        indicator_frame(_random_bars(3, 10, intraday=False), levels=spec)


@pytest.mark.parametrize(("name", "value"), [("sma", (50, 0)), ("rsi", (14, 28)), ("atr", 1.5)])
def test_bad_indicator_periods_are_refused(name: str, value: object) -> None:
    with pytest.raises(ParameterError, match=f"{name}="):
        indicator_frame(_random_bars(3, 10, intraday=False), **{name: value})


# The bars, the cut and the kind of change; the default run draws a few cases, the slow run many more.
_LOOK_AHEAD_CASES = given(
    seed=st.integers(0, 2**32 - 1),
    intraday=st.booleans(),
    cut=st.floats(0.05, 0.95),
    change=st.sampled_from(["shock", "truncate", "scramble"]),
)


def _assert_no_look_ahead(seed: int, intraday: bool, cut: float, change: str) -> None:
    bars = _random_bars(seed, 700 if intraday else 260, intraday)
    t = int(cut * (len(bars) - 1))
    rng = np.random.default_rng(seed + 1)
    future = bars.iloc[t + 1 :].copy()
    if change == "shock":  # every later price moved a lot, bars kept consistent
        future[["open", "high", "low", "close"]] *= rng.uniform(0.5, 1.5)
    elif change == "scramble":  # later bars replaced by an unrelated walk
        future[:] = _random_bars(seed + 2, len(future), intraday).to_numpy()
    altered = pd.concat([bars.iloc[: t + 1], future.iloc[: 0 if change == "truncate" else None]])
    # SMA, RSI and ATR are computed apart from the levels, so they are checked once and each levels
    # spec alone: the same columns as every spec with every indicator, at a third of the cost.
    indicators = {"sma": (5, 50), "rsi": 14, "atr": 14}
    cases = [(None, indicators)] + [
        (f"{period}:{method}", dict.fromkeys(indicators)) for period in PERIODS for method in PIVOT_METHODS
    ]
    for spec, columns in cases:
        before = indicator_frame(bars, spec, **columns).iloc[: t + 1]
        after = indicator_frame(altered, spec, **columns).iloc[: t + 1]
        pd.testing.assert_frame_equal(before, after, check_exact=True, obj=str(spec))


@settings(max_examples=6, deadline=None)
@_LOOK_AHEAD_CASES
def test_changing_bars_after_t_never_changes_any_value_at_or_before_t(
    seed: int, intraday: bool, cut: float, change: str
) -> None:
    _assert_no_look_ahead(seed, intraday, cut, change)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@_LOOK_AHEAD_CASES
def test_changing_bars_after_t_never_changes_any_value_at_or_before_t_in_many_more_cases(
    seed: int, intraday: bool, cut: float, change: str
) -> None:
    _assert_no_look_ahead(seed, intraday, cut, change)


def test_rsi_zones() -> None:
    assert [rsi_zone(value) for value in (29.9, 30.0, 70.0, 70.1)] == [
        "oversold",
        "neutral",
        "neutral",
        "overbought",
    ]


@pytest.fixture(scope="module")
def rty_daily(shared_data) -> pd.DataFrame:
    return load_bars(shared_data / "daily" / "RTY_F_yahoo_daily.csv", repair="clip,drop_weekend")


@pytest.mark.shared_data
def test_levels_table_of_the_article_day_at_the_article_price(rty_daily: pd.DataFrame) -> None:
    table = levels_table(rty_daily, "2025-03-13", price=2025.7)
    expected = {"P": 2210.3, "S2": 2003.5, "S3": 1877.6, "sma_50": 2229.3, "sma_100": 2279.8}
    assert {key: table[key] for key in expected} == pytest.approx(expected, abs=0.05)
    assert table["rsi_14"] == pytest.approx(25.3, abs=0.05)
    assert (table["rsi_14_zone"], table["price_source"], table["levels_from"]) == (
        "oversold",
        "override",
        "2025-02",
    )
    assert table["close"] == pytest.approx(1996.1, abs=1e-3)
    assert (table["support_name"], table["resistance_name"]) == ("S2", "S1")
    assert table["support_points"] == pytest.approx(2025.7 - table["S2"], abs=1e-9)
    assert table["price_vs_sma_50"] == table["price_vs_sma_100"] == "below"
    assert table["price_vs_sma_50_points"] == pytest.approx(2025.7 - table["sma_50"], abs=1e-9)
    assert (table["round_below"], table["round_above"]) == (2000.0, 2100.0)
    # the 6-month high: the largest high from 2024-09-14 to 2025-03-13
    window = rty_daily.loc["2024-09-14":"2025-03-13", "high"]
    assert table["lookback_high"] == pytest.approx(window.max())
    assert table["off_high_pct"] == pytest.approx(100 * (window.max() - 2025.7) / window.max())


@pytest.mark.shared_data
def test_levels_table_at_the_close_and_on_aggregated_intraday_bars(rty_daily: pd.DataFrame) -> None:
    table = levels_table(rty_daily, "2025-03-13")
    expected = {"price": 1996.1, "sma_50": 2228.7, "sma_100": 2279.5, "rsi_14": 22.9}
    assert {key: table[key] for key in expected} == pytest.approx(expected, abs=0.05)
    assert table["price_source"] == "close"
    assert (table["support_name"], table["resistance_name"]) == ("S3", "S2")


def test_levels_table_aggregates_intraday_bars_to_sessions() -> None:
    bars = _random_bars(5, 2600, intraday=True)
    # a session is its 17:00-to-16:00 day (+7 h), or the next trade date when that day has none (the
    # bars run through Good Friday, Memorial Day and Juneteenth 2024)
    days = pd.DatetimeIndex((bars.index.tz_localize(None) + pd.Timedelta(hours=7)).normalize())
    sessions = trade_dates(days.min(), days.max() + pd.Timedelta(days=10))
    daily = (
        bars.groupby(sessions[sessions.searchsorted(days)])
        .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
        .rename_axis("time")
    )
    day = daily.index[-3]
    assert levels_table(bars, day, period="W") == levels_table(daily, day, period="W")


@pytest.mark.parametrize(
    ("date", "kwargs", "error", "message"),
    [
        ("2030-01-02", {}, DataError, r"date 2030-01-02 is outside the data \(2023-11-20 .. 2024-10-18\)"),
        (
            "2024-09-14",
            {},
            DataError,
            r"no session on 2024-09-14 .*nearest sessions 2024-09-13 and 2024-09-16",
        ),
        ("2024-03-01", {}, DataError, r"not enough history for SMA100 on 2024-03-01: 75 sessions up to it"),
        ("2023-12-29", {"sma": (5,)}, DataError, r"not enough history for M levels on 2023-12-29"),
        ("2024-09-13", {"method": "fib"}, ParameterError, r"method='fib': unknown pivot method"),
        ("2024-09-13", {"price": -5.0}, ParameterError, r"price=-5.0: must be a positive number"),
    ],
)
def test_levels_table_errors_name_the_problem(date: str, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        levels_table(_random_bars(4, 240, intraday=False), date, **kwargs)
