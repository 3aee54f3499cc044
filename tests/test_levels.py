"""Pivot formulas on hand-computed cases, levels from the previous completed period, round numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rtystrat.data.bars import load_bars, resample_bars
from rtystrat.errors import DataError, ParameterError
from rtystrat.signals.levels import (
    LEVEL_NAMES,
    PERIODS,
    PIVOT_METHODS,
    period_levels,
    pivot_points,
    round_number_levels,
)

# One period: H 120, L 90, C 105 (range 30). Every value below is worked by hand from the module's table.
HIGH, LOW, CLOSE = 120.0, 90.0, 105.0
EXPECTED = {
    "classic": {"P": 105, "S1": 90, "S2": 75, "S3": 60, "R1": 120, "R2": 135, "R3": 150},
    "fibonacci": {"P": 105, "S1": 93.54, "S2": 86.46, "S3": 75, "R1": 116.46, "R2": 123.54, "R3": 135},
    "camarilla": {
        "P": 105,
        "S1": 102.25,
        "S2": 99.5,
        "S3": 96.75,
        "S4": 88.5,
        "R1": 107.75,
        "R2": 110.5,
        "R3": 113.25,
        "R4": 121.5,
    },
    # next period opens at 101: P = (120 + 90 + 2*101) / 4 = 103
    "woodie": {"P": 103, "S1": 86, "S2": 73, "S3": 56, "R1": 116, "R2": 133, "R3": 146},
}


@pytest.mark.parametrize("method", sorted(EXPECTED))
def test_pivot_points_match_hand_computed_levels(method: str) -> None:
    levels = pivot_points(HIGH, LOW, CLOSE, method, open_=101.0 if method == "woodie" else None)
    assert list(levels) == list(LEVEL_NAMES[method])
    assert levels == pytest.approx(EXPECTED[method], abs=1e-12)


@pytest.mark.parametrize(
    ("period_open", "expected"),
    [
        (100.0, {"P": 108.75, "S1": 97.5, "R1": 127.5}),  # C > O: X = 2H + L + C = 435
        (110.0, {"P": 101.25, "S1": 82.5, "R1": 112.5}),  # C < O: X = H + 2L + C = 405
        (105.0, {"P": 105.0, "S1": 90.0, "R1": 120.0}),  # C = O: X = H + L + 2C = 420
    ],
)
def test_demark_pivot_depends_on_close_versus_the_period_open(period_open: float, expected: dict) -> None:
    assert pivot_points(HIGH, LOW, CLOSE, "demark", open_=period_open) == pytest.approx(expected, abs=1e-12)


def test_classic_pivot_of_the_article_month_is_exact() -> None:
    levels = pivot_points(2336, 2129, 2165)
    assert (levels["P"], levels["S2"], levels["S3"]) == (2210.0, 2003.0, 1877.0)
    assert all(type(value) is float for value in levels.values())


def test_pivot_points_take_arrays_and_return_arrays_of_the_same_shape() -> None:
    levels = pivot_points(np.array([120.0, 2336.0]), np.array([90.0, 2129.0]), np.array([105.0, 2165.0]))
    assert isinstance(levels["S3"], np.ndarray)
    np.testing.assert_array_equal(levels["S3"], [60.0, 1877.0])


@pytest.mark.parametrize("method", ["woodie", "demark"])
def test_methods_needing_an_open_refuse_to_run_without_it(method: str) -> None:
    with pytest.raises(ParameterError, match=f"method='{method}' needs open_"):
        pivot_points(HIGH, LOW, CLOSE, method)


def test_unknown_method_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ParameterError, match=r"unknown pivot method \(did you mean 'classic'\?\)"):
        pivot_points(HIGH, LOW, CLOSE, "clasic")


def _daily(rows: list[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    index = pd.DatetimeIndex([pd.Timestamp(row[0]) for row in rows], name="time")
    values = np.array([row[1:] for row in rows], dtype=float)
    frame = pd.DataFrame(values, index=index, columns=["open", "high", "low", "close"])
    return frame.assign(volume=1.0)


def test_monthly_levels_come_from_the_previous_complete_month_only() -> None:
    bars = _daily(
        [
            ("2024-01-30", 100, 101, 99, 100),  # January: the data starts here, maybe mid-month
            ("2024-01-31", 100, 130, 80, 100),
            ("2024-02-01", 100, 110, 95, 100),  # February: complete, H 120 L 90 C 105
            ("2024-02-15", 100, 120, 90, 100),
            ("2024-02-29", 100, 106, 100, 105),
            ("2024-03-01", 105, 500, 1, 300),  # March's own prices must not leak into March's levels
            ("2024-03-04", 300, 301, 299, 300),
        ]
    )
    levels = period_levels(bars, "M")
    assert levels.loc[:"2024-02-29"].isna().all().all()  # January may be partial: never used
    assert levels.loc["2024-03-01"].to_dict() == pytest.approx(EXPECTED["classic"])
    assert levels.loc["2024-03-04"].to_dict() == pytest.approx(EXPECTED["classic"])


def test_daily_levels_on_daily_bars_start_from_the_first_session() -> None:
    bars = _daily([("2024-02-01", 100, 120, 90, 105), ("2024-02-02", 101, 140, 50, 60)])
    levels = period_levels(bars, "D", "woodie")
    assert levels.iloc[0].isna().all()
    assert levels.iloc[1].to_dict() == pytest.approx(EXPECTED["woodie"])  # opens at 101


def test_weekly_levels_switch_on_monday() -> None:
    bars = _daily(
        [
            ("2024-02-02", 100, 100, 100, 100),  # Friday: partial first week
            ("2024-02-05", 100, 120, 100, 100),  # Monday .. Friday: H 120 L 90 C 105
            ("2024-02-09", 100, 100, 90, 105),
            ("2024-02-12", 100, 100, 100, 100),  # next Monday
        ]
    )
    levels = period_levels(bars, "W", "camarilla")
    assert levels.loc[:"2024-02-09"].isna().all().all()
    assert levels.loc["2024-02-12"].to_dict() == pytest.approx(EXPECTED["camarilla"])


def test_daily_levels_of_intraday_bars_follow_the_futures_session() -> None:
    # The session of 2024-02-07 opens 2024-02-06 17:00 CT: the 16:00 bar closes the 6th, the 17:00 bar opens
    # the 7th. Sessions: 5th (partial, unused), 6th (H 120 L 90 C 105), 7th (gets the 6th's levels).
    times = [
        "2024-02-05 10:00",
        "2024-02-05 17:00",
        "2024-02-06 10:00",
        "2024-02-06 16:00",
        "2024-02-06 17:00",
    ]
    values = [[1, 1, 1, 1], [100, 120, 100, 100], [100, 100, 90, 100], [100, 106, 100, 105], [104, 200, 1, 2]]
    index = pd.DatetimeIndex(times, name="time").tz_localize("America/Chicago")
    bars = pd.DataFrame(values, index=index, columns=["open", "high", "low", "close"], dtype=float)
    levels = period_levels(bars, "D")
    assert levels.iloc[:4].isna().all().all()
    assert levels.iloc[4].to_dict() == pytest.approx(EXPECTED["classic"])


@pytest.mark.parametrize("method", PIVOT_METHODS)
@pytest.mark.parametrize("period", PERIODS)
def test_every_period_start_holds_pivots_of_the_previous_resampled_bar(period: str, method: str) -> None:
    rng = np.random.default_rng(7)
    index = pd.bdate_range("2023-01-02", periods=300, name="time")
    close = 2000 + rng.normal(0, 20, len(index)).cumsum()
    bars = pd.DataFrame(
        {"open": close + rng.normal(0, 5, len(index)), "close": close, "volume": 1.0}, index=index
    )
    bars["high"] = bars[["open", "close"]].max(axis=1) + rng.uniform(0, 10, len(index))
    bars["low"] = bars[["open", "close"]].min(axis=1) - rng.uniform(0, 10, len(index))
    periods = resample_bars(bars, period)  # the data layer's own aggregation, an independent path
    levels = period_levels(bars, period, method)
    first_used = 1 if period == "D" else 2
    for previous, current in zip(periods.index[first_used - 1 : -1], periods.index[first_used:], strict=True):
        before = periods.loc[previous]
        own_open = periods.loc[current, "open"] if method == "woodie" else before["open"]
        expected = pivot_points(before["high"], before["low"], before["close"], method, own_open)
        first_bar = levels.index.searchsorted(current)
        assert levels.iloc[first_bar].to_dict() == pytest.approx(expected, rel=1e-12)


def test_period_levels_refuse_unknown_period_and_missing_column() -> None:
    bars = _daily([("2024-02-01", 100, 120, 90, 105)])
    with pytest.raises(ParameterError, match=r"period='Y': unknown period"):
        period_levels(bars, "Y")
    with pytest.raises(DataError, match="needs column 'open'"):
        period_levels(bars.drop(columns="open"))


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("RTY_F_yahoo_daily.csv", {"P": 2210.3, "S2": 2003.5, "S3": 1877.6}),
        ("RUT_yahoo_daily.csv", {"P": 2205.4, "S2": 2004.5, "S3": 1882.9}),
    ],
)
def test_march_2025_monthly_levels_of_the_real_files(shared_data, name: str, expected: dict) -> None:
    bars = load_bars(shared_data / "daily" / name, repair="clip,drop_weekend")
    levels = period_levels(bars, "M")
    march = levels.loc["2025-03"]
    assert (march.nunique() == 1).all()  # one set of levels for the whole month
    first = march.iloc[0]
    assert {key: first[key] for key in expected} == pytest.approx(expected, abs=0.05)
    # ... and never March's own levels, which differ
    own = resample_bars(bars, "M").loc["2025-03-01"]
    assert first["P"] != pytest.approx((own["high"] + own["low"] + own["close"]) / 3, abs=1.0)


def test_round_number_levels_bracket_the_price() -> None:
    assert round_number_levels(2025.7, 100) == (2000.0, 2100.0)
    assert round_number_levels(2000.0, 100) == (2000.0, 2100.0)  # at a multiple: it is the level below
    assert round_number_levels(0.3, 0.1) == pytest.approx((0.3, 0.4))  # not 0.2: float noise tolerated
    below, above = round_number_levels(np.array([1999.9, 2050.0]), 50)
    np.testing.assert_array_equal(below, [1950.0, 2050.0])
    np.testing.assert_array_equal(above, [2000.0, 2100.0])
    with pytest.raises(ParameterError, match="step=0"):
        round_number_levels(2025.7, 0)
