"""Continuous series: roll dates, back-adjustment arithmetic, per-row source contract, schedule, errors.

Crafted contracts keep the arithmetic checkable by hand; the real IBKR contract files check a true splice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtystrat.data.bars import load_bars
from rtystrat.data.continuous import SCHEDULE_COLUMNS, build_continuous, load_contract_files
from rtystrat.errors import DataError, ParameterError


def _contract(
    start: str,
    end: str,
    close: float | list[float],
    volume: float | list[float] = 1_000.0,
    open_interest: float | list[float] | None = None,
    drop: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Daily bars on weekdays from `start` to `end`: open = close, high = close + 1, low = close − 1."""
    index = pd.bdate_range(start, end, name="time")
    frame = pd.DataFrame({"close": close, "volume": volume}, index=index, dtype=np.float64)
    frame = frame.assign(open=frame["close"], high=frame["close"] + 1.0, low=frame["close"] - 1.0)
    if open_interest is not None:
        frame["open_interest"] = np.asarray(open_interest, dtype=np.float64)
    frame = frame.drop(index=pd.DatetimeIndex(list(drop)))
    return frame[["open", "high", "low", "close", "volume", *(["open_interest"] if open_interest else [])]]


@pytest.fixture
def three_quarters() -> dict[str, pd.DataFrame]:
    """RTYH25 at 100, RTYM25 at 110, RTYU25 at 121: each roll gaps +10 %, i.e. +10 and +11 points.

    Rolls with ``days_before_expiry:5``: RTYH25 expires Fri 2025-03-21 → roll Fri 2025-03-14; RTYM25 expires
    Fri 2025-06-20, Juneteenth (Thu 19 June) is no business day → roll Thu 2025-06-12.
    """
    return {
        "RTY_202506.csv": _contract("2025-03-03", "2025-06-20", 110.0),
        "RTYH25": _contract("2025-03-03", "2025-03-21", 100.0),
        "RTY_202509": _contract("2025-06-02", "2025-06-27", 121.0),
    }


def test_days_before_expiry_rolls_at_the_close_of_the_scheduled_session(three_quarters) -> None:
    series = build_continuous(three_quarters)
    bars = series.bars
    assert list(series.schedule["roll_date"]) == [pd.Timestamp("2025-03-14"), pd.Timestamp("2025-06-12")]
    # The roll date's row still comes from the old contract; the next session from the new one.
    assert bars.loc["2025-03-14", "contract"] == "RTYH25" and bars.loc["2025-03-17", "contract"] == "RTYM25"
    assert bars.loc["2025-06-12", "contract"] == "RTYM25" and bars.loc["2025-06-13", "contract"] == "RTYU25"
    assert bars["contract"].value_counts().to_dict() == {"RTYH25": 10, "RTYM25": 64, "RTYU25": 11}
    assert bars.index.is_unique and bars.index.is_monotonic_increasing and bars.index.name == "time"
    assert bars.index[0] == pd.Timestamp("2025-03-03") and bars.index[-1] == pd.Timestamp("2025-06-27")
    # No adjustment by default: the raw jumps stay.
    assert bars.loc["2025-03-14", "close"] == 100.0 and bars.loc["2025-03-17", "close"] == 110.0
    assert list(bars.columns) == ["open", "high", "low", "close", "volume", "contract"]
    assert (series.root, series.roll, series.adjust) == ("RTY", "days_before_expiry:5", "none")


def test_schedule_lists_each_roll_with_raw_prices(three_quarters) -> None:
    schedule = build_continuous(three_quarters, adjust="difference").schedule
    assert tuple(schedule.columns) == SCHEDULE_COLUMNS
    assert schedule[["from_contract", "to_contract"]].values.tolist() == [
        ["RTYH25", "RTYM25"],
        ["RTYM25", "RTYU25"],
    ]
    assert schedule["from_price"].tolist() == [100.0, 110.0]
    assert schedule["to_price"].tolist() == [110.0, 121.0]
    assert schedule["price_gap"].tolist() == [10.0, 11.0]
    assert schedule["price_ratio"].tolist() == pytest.approx([1.1, 1.1], abs=1e-12)
    assert schedule["adjustment"].tolist() == [10.0, 11.0]


def test_difference_adjustment_shifts_older_segments_by_the_later_gaps(three_quarters) -> None:
    bars = build_continuous(three_quarters, adjust="difference").bars
    # RTYH25 rows: 100 + 10 + 11; RTYM25 rows: 110 + 11; RTYU25 rows untouched.
    for day, contract in (("2025-03-03", "RTYH25"), ("2025-04-01", "RTYM25"), ("2025-06-27", "RTYU25")):
        row = bars.loc[day]
        assert row["contract"] == contract
        assert (row["open"], row["high"], row["low"], row["close"]) == (121.0, 122.0, 120.0, 121.0)
    assert (bars["volume"] == 1_000.0).all()


def test_continuous_bars_are_a_canonical_frame_that_survives_a_csv_round_trip(
    three_quarters, tmp_path
) -> None:
    bars = build_continuous(three_quarters, adjust="ratio").bars
    pd.testing.assert_frame_equal(load_bars(bars), bars)
    bars.to_csv(tmp_path / "RTY_continuous.csv")
    pd.testing.assert_frame_equal(load_bars(tmp_path / "RTY_continuous.csv"), bars)


def test_ratio_adjustment_multiplies_older_segments_by_the_later_ratios(three_quarters) -> None:
    bars = build_continuous(three_quarters, adjust="ratio").bars
    # RTYH25: × 1.1 × 1.1 = × 1.21 → high 101 × 1.21 = 122.21; RTYM25: × 1.1 → high 111 × 1.1 = 122.1.
    assert bars.loc["2025-03-03", ["high", "close", "low"]].tolist() == pytest.approx([122.21, 121.0, 119.79])
    assert bars.loc["2025-04-01", ["high", "close", "low"]].tolist() == pytest.approx([122.1, 121.0, 119.9])
    assert bars.loc["2025-06-27", ["high", "close", "low"]].tolist() == [122.0, 121.0, 120.0]
    assert build_continuous(three_quarters, adjust="ratio").schedule["adjustment"].tolist() == pytest.approx(
        [1.1, 1.1]
    )


def test_gap_is_measured_on_the_roll_date_closes() -> None:
    # The spread changes every day, so measuring on the wrong day would give another gap.
    days = pd.bdate_range("2025-03-10", "2025-03-21")
    front = _contract("2025-03-10", "2025-03-21", [2000.0 + 10 * i for i in range(len(days))])
    spread = [15.0, 14.0, 13.0, 12.0, 17.5, 18.0, 19.0, 20.0, 21.0, 22.0]
    following = _contract("2025-03-10", "2025-03-21", [2000.0 + 10 * i + s for i, s in enumerate(spread)])
    series = build_continuous({"RTYH25": front, "RTYM25": following}, adjust="difference")
    roll = series.schedule.iloc[0]
    assert (roll["roll_date"], roll["from_price"], roll["to_price"]) == (
        pd.Timestamp("2025-03-14"),
        2040.0,
        2057.5,
    )
    assert roll["price_gap"] == 17.5
    # Old rows shifted by 17.5; the roll date's adjusted close equals the new contract's close that day.
    assert series.bars.loc["2025-03-10", "close"] == 2017.5
    assert series.bars.loc["2025-03-14", "close"] == 2057.5
    assert series.bars.loc["2025-03-17", "close"] == 2050.0 + 18.0


def test_roll_moves_to_the_last_common_session_when_the_next_contract_lacks_the_scheduled_one() -> None:
    contracts = {
        "RTYH25": _contract("2025-03-03", "2025-03-21", 100.0),
        "RTYM25": _contract("2025-03-03", "2025-03-28", 110.0, drop=("2025-03-14",)),
    }
    series = build_continuous(contracts)
    assert series.schedule["roll_date"].tolist() == [pd.Timestamp("2025-03-13")]
    # RTYH25's row of 2025-03-14 is after the roll, and RTYM25 has none: the series skips that day.
    assert pd.Timestamp("2025-03-14") not in series.bars.index
    assert series.bars.loc["2025-03-17", "contract"] == "RTYM25"


def test_days_before_expiry_zero_rolls_on_expiry_day() -> None:
    contracts = {
        "RTYH25": _contract("2025-03-03", "2025-03-21", 100.0),
        "RTYM25": _contract("2025-03-03", "2025-03-28", 110.0),
    }
    series = build_continuous(contracts, roll="days_before_expiry:0")
    assert series.schedule["roll_date"].tolist() == [pd.Timestamp("2025-03-21")]


def test_series_ends_with_the_front_when_the_data_ends_before_the_roll() -> None:
    contracts = {
        "RTYH25": _contract("2025-03-03", "2025-03-12", 100.0),
        "RTYM25": _contract("2025-03-03", "2025-03-12", 110.0),
    }
    series = build_continuous(contracts, adjust="difference")
    assert series.schedule.empty and tuple(series.schedule.columns) == SCHEDULE_COLUMNS
    assert (series.bars["contract"] == "RTYH25").all() and len(series.bars) == 8
    assert (series.bars["close"] == 100.0).all()


# --- volume and open-interest rules -------------------------------------------------------------------------


def test_volume_rule_rolls_when_the_next_contract_first_trades_more() -> None:
    days = 10  # 2025-03-03 .. 2025-03-14
    front_volume = [0.0, 0.0, 1_000.0, 1_000.0, 1_000.0, 1_000.0, 800.0, 500.0, 100.0, 50.0]
    # Settlement-only rows (volume 0) while the front is also settlement-only must not trigger a roll;
    # an equal volume does not either: the next contract must trade strictly more.
    next_volume = [0.0, 0.0, 10.0, 600.0, 1_000.0, 1_200.0, 900.0, 2_000.0, 3_000.0, 3_000.0]
    contracts = {
        "RTYH25": _contract("2025-03-03", "2025-03-14", 100.0, volume=front_volume),
        "RTYM25": _contract("2025-03-03", "2025-03-21", 110.0, volume=next_volume + [3_000.0] * 5),
    }
    assert len(front_volume) == days
    series = build_continuous(contracts, roll="volume", adjust="difference")
    assert series.schedule["roll_date"].tolist() == [pd.Timestamp("2025-03-10")]  # 1,200 > 1,000
    assert series.bars.loc[:"2025-03-10", "contract"].eq("RTYH25").all()
    assert series.bars.loc["2025-03-11":, "contract"].eq("RTYM25").all()
    assert series.bars.loc["2025-03-10", "close"] == 110.0


def test_volume_rule_never_rolls_into_a_settlement_only_contract() -> None:
    contracts = {
        "RTYH25": _contract("2025-03-03", "2025-03-14", 100.0, volume=0.0),
        "RTYM25": _contract("2025-03-03", "2025-03-14", 110.0, volume=0.0),
    }
    series = build_continuous(contracts, roll="volume")
    assert series.schedule.empty and series.bars["contract"].eq("RTYH25").all()


def test_open_interest_rule_uses_open_interest_and_keeps_the_column() -> None:
    contracts = {
        "RTYH25": _contract(
            "2025-03-03", "2025-03-07", 100.0, volume=5.0, open_interest=[500, 400, 300, 200, 100]
        ),
        "RTYM25": _contract(
            "2025-03-03", "2025-03-07", 110.0, volume=1.0, open_interest=[100, 200, 350, 400, 500]
        ),
    }
    series = build_continuous(contracts, roll="open_interest")
    assert series.schedule["roll_date"].tolist() == [pd.Timestamp("2025-03-05")]  # 350 > 300
    assert series.bars["open_interest"].tolist() == [500.0, 400.0, 300.0, 400.0, 500.0]


def test_open_interest_rule_without_the_column_names_the_contract() -> None:
    contracts = {"RTYH25": _contract("2025-03-03", "2025-03-07", 100.0)}
    with pytest.raises(DataError, match="RTYH25: missing column 'open_interest'"):
        build_continuous(contracts, roll="open_interest")


# --- intraday bars roll by CME session ------------------------------------------------------------------


def test_intraday_contracts_roll_at_the_end_of_the_session() -> None:
    # Hourly bars in Chicago time; the 2025-03-14 session runs from Thu 17:00 to Fri 16:00.
    times = pd.date_range("2025-03-13 08:00", "2025-03-17 10:00", freq="h", tz="America/Chicago", name="time")
    weekday, hour = times.day_of_week, times.hour
    # Globex hours: Sunday 17:00 to Friday 16:00, with a daily break from 16:00 to 17:00.
    trading = ((weekday < 4) | ((weekday == 4) & (hour < 16)) | ((weekday == 6) & (hour >= 17))) & (
        hour != 16
    )
    times = times[trading]
    ramp = np.arange(len(times), dtype=np.float64)

    def frame(offset: float) -> pd.DataFrame:
        close = 2000.0 + ramp + offset
        return pd.DataFrame(
            {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 100.0}, index=times
        )

    series = build_continuous({"RTYH25": frame(0.0), "RTYM25": frame(12.0)}, adjust="difference")
    roll = series.schedule.iloc[0]
    last_of_session = times[times <= pd.Timestamp("2025-03-14 15:00", tz="America/Chicago")][-1]
    assert roll["roll_date"] == pd.Timestamp("2025-03-14") and roll["price_gap"] == 12.0
    assert roll["from_price"] == 2000.0 + ramp[times.get_loc(last_of_session)]
    bars = series.bars
    # Thursday-evening bars belong to the Friday session: still the old contract.
    assert bars.loc[pd.Timestamp("2025-03-13 18:00", tz="America/Chicago"), "contract"] == "RTYH25"
    assert bars.loc[last_of_session, "contract"] == "RTYH25"
    first_new = bars.index[bars["contract"] == "RTYM25"][0]
    assert first_new == pd.Timestamp("2025-03-16 17:00", tz="America/Chicago")  # the Sunday-evening open
    np.testing.assert_array_equal(bars["close"].to_numpy(), 2012.0 + ramp)  # seamless after adjustment


# --- errors -------------------------------------------------------------------------------------------


def test_contracts_that_do_not_overlap_before_the_roll_are_refused() -> None:
    contracts = {
        "RTYH25": _contract("2025-03-03", "2025-03-21", 100.0),
        "RTYM25": _contract("2025-03-17", "2025-03-28", 110.0),
    }
    with pytest.raises(
        DataError,
        match=r"RTYH25 \(2025-03-03\.\.2025-03-21\) and RTYM25 \(2025-03-17\.\.2025-03-28\) share no "
        r"session on or before the roll date 2025-03-14",
    ):
        build_continuous(contracts)


def test_front_that_stops_before_its_roll_while_the_next_continues_is_refused() -> None:
    contracts = {
        "RTYH25": _contract("2025-03-03", "2025-03-07", 100.0),
        "RTYM25": _contract("2025-03-03", "2025-03-28", 110.0),
    }
    with pytest.raises(
        DataError, match=r"RTYH25 .* stops before its roll date 2025-03-14 while RTYM25 continues"
    ):
        build_continuous(contracts)


def test_volume_rule_without_an_overtake_before_the_front_ends_is_refused() -> None:
    contracts = {
        "RTYH25": _contract("2025-03-03", "2025-03-07", 100.0, volume=1_000.0),
        "RTYM25": _contract("2025-03-03", "2025-03-14", 110.0, volume=10.0),
    }
    with pytest.raises(DataError, match="RTYM25's volume never exceeds RTYH25's"):
        build_continuous(contracts, roll="volume")


def test_difference_adjustment_that_makes_prices_non_positive_is_refused() -> None:
    contracts = {
        # RTYH25 rallied from 50 to 100; RTYM25 settles at 20 on the roll date: gap −80 → 49 − 80 < 0.
        "RTYH25": _contract("2025-03-03", "2025-03-21", [50.0] * 5 + [100.0] * 10),
        "RTYM25": _contract("2025-03-03", "2025-03-28", 20.0),
    }
    with pytest.raises(DataError, match=r"non-positive at 2025-03-03 .*use adjust='ratio'"):
        build_continuous(contracts, adjust="difference")
    assert build_continuous(contracts, adjust="ratio").bars["low"].min() > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"roll": "volum"},
            r"roll must be one of days_before_expiry:N, volume, open_interest, got 'volum' \(did you",
        ),
        ({"roll": "days_before_expiry:-1"}, "roll must be one of"),
        ({"adjust": "panama"}, "adjust must be one of none, difference, ratio, got 'panama'"),
    ],
)
def test_bad_roll_or_adjust_is_a_parameter_error(
    three_quarters, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        build_continuous(three_quarters, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("contracts", "error", "message"),
    [
        ({}, DataError, "no contracts given"),
        (
            {"front": _contract("2025-03-03", "2025-03-07", 1.0)},
            ParameterError,
            "contract key 'front' is neither",
        ),
        (
            {
                "RTYH25": _contract("2025-03-03", "2025-03-07", 1.0),
                "ESH25": _contract("2025-03-03", "2025-03-07", 1.0),
            },
            DataError,
            r"contracts of several roots given \(ES, RTY\)",
        ),
        (
            {
                "RTYH25": _contract("2025-03-03", "2025-03-07", 1.0),
                "RTY_202503": _contract("2025-03-03", "2025-03-07", 1.0),
            },
            DataError,
            "contract RTYH25 given twice",
        ),
        (
            {"RTYH25": _contract("2025-03-03", "2025-03-07", 1.0).drop(columns="close")},
            DataError,
            "RTYH25: missing column 'close'",
        ),
        (
            {"RTYH25": _contract("2025-03-03", "2025-03-07", 1.0).iloc[:0]},
            DataError,
            "RTYH25: needs at least one row",
        ),
    ],
)
def test_bad_contract_mappings_fail_in_one_line(
    contracts: dict, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        build_continuous(contracts)


# --- files -------------------------------------------------------------------------------------------


def _write(folder: Path, name: str, frame: pd.DataFrame) -> None:
    frame.rename_axis("date").reset_index().assign(date=lambda f: f["date"].dt.strftime("%Y-%m-%d")).to_csv(
        folder / name, index=False
    )


def test_load_contract_files_reads_a_folder_in_expiry_order(tmp_path: Path) -> None:
    _write(tmp_path, "RTY_202506.csv", _contract("2025-03-03", "2025-03-28", 110.0))
    _write(tmp_path, "RTY_202503.csv", _contract("2025-03-03", "2025-03-21", 100.0))
    (tmp_path / "README.md").write_text("notes\n")
    contracts = load_contract_files(tmp_path, "rty")
    assert list(contracts) == ["RTYH25", "RTYM25"]
    assert contracts["RTYH25"].attrs["source"] == "RTY_202503.csv"
    assert load_contract_files(tmp_path).keys() == contracts.keys()  # a single root needs no name
    series = build_continuous(contracts, adjust="difference")
    assert series.schedule["roll_date"].tolist() == [pd.Timestamp("2025-03-14")]


def test_load_contract_files_errors_name_the_folder_and_the_roots(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a folder"):
        load_contract_files(tmp_path / "missing", "RTY")
    with pytest.raises(DataError, match="no contract files found"):
        load_contract_files(tmp_path)
    _write(tmp_path, "ES_202503.csv", _contract("2025-03-03", "2025-03-21", 100.0))
    _write(tmp_path, "RTY_202503.csv", _contract("2025-03-03", "2025-03-21", 100.0))
    with pytest.raises(
        DataError, match=r"no RTX_YYYYMM.csv files \(did you mean 'RTY'\?\) \(roots found: ES, RTY\)"
    ):
        load_contract_files(tmp_path, "RTX")
    with pytest.raises(
        DataError, match=r"cannot tell which root to load \(roots found: ES, RTY; pass root=\)"
    ):
        load_contract_files(tmp_path)
    _write(tmp_path, "rty_202503.CSV", _contract("2025-03-03", "2025-03-21", 100.0))
    with pytest.raises(DataError, match="two files for RTYH25"):
        load_contract_files(tmp_path, "RTY")


# --- real contract files ---------------------------------------------------------------------------------


def _raw_close(folder: Path, name: str, day: str) -> float:
    raw = pd.read_csv(folder / name, index_col="date")
    return float(raw.loc[day, "close"])


@pytest.mark.shared_data
def test_real_splice_of_rtyu26_into_rtyz26(shared_data: Path) -> None:
    folder = shared_data / "contracts" / "RTY"
    contracts = load_contract_files(folder, "RTY")
    pair = {code: contracts[code] for code in ("RTYU26", "RTYZ26")}
    # The files end 2026-07-31, before the usual roll (5 business days before the 2026-09-18 expiry), so
    # roll 40 business days before: counted by hand, skipping Labor Day 2026-09-07, that is 2026-07-23.
    series = build_continuous(pair, roll="days_before_expiry:40", adjust="difference")
    roll = series.schedule.iloc[0]
    assert len(series.schedule) == 1 and roll["roll_date"] == pd.Timestamp("2026-07-23")
    assert (roll["from_contract"], roll["to_contract"]) == ("RTYU26", "RTYZ26")
    from_close = _raw_close(folder, "RTY_202609.csv", "2026-07-23")
    to_close = _raw_close(folder, "RTY_202612.csv", "2026-07-23")
    assert (from_close, to_close) == (2951.7, 2974.3)
    assert (roll["from_price"], roll["to_price"]) == (from_close, to_close)
    assert roll["price_gap"] == roll["adjustment"] == pytest.approx(22.6, abs=1e-9)
    bars = series.bars
    old = bars["contract"] == "RTYU26"
    raw_old = contracts["RTYU26"].loc[bars.index[old]]
    np.testing.assert_allclose(bars.loc[old, "close"], raw_old["close"] + 22.6, atol=1e-9)
    new = contracts["RTYZ26"].loc["2026-07-24":]
    pd.testing.assert_frame_equal(
        bars.loc[~old, ["open", "high", "low", "close"]], new[["open", "high", "low", "close"]]
    )
    assert bars.index[old][-1] == pd.Timestamp("2026-07-23") and bars.index[~old][0] == pd.Timestamp(
        "2026-07-24"
    )
    assert old.sum() == len(contracts["RTYU26"].loc[:"2026-07-23"]) and (~old).sum() == len(new)


@pytest.mark.shared_data
def test_real_folder_with_the_default_rule_stays_on_the_front_until_the_data_ends(shared_data: Path) -> None:
    contracts = load_contract_files(shared_data / "contracts" / "RTY", "RTY")
    assert len(contracts) == 11 and next(iter(contracts)) == "RTYU26"
    series = build_continuous(contracts)
    assert series.schedule.empty
    assert (series.bars["contract"] == "RTYU26").all() and len(series.bars) == 279
    # The volume rule does not roll either: RTYZ26 never outtrades RTYU26 in these files.
    assert build_continuous(contracts, roll="volume").schedule.empty
