"""rtystrat.data.bars: reading, validation with row-precise errors, explicit repairs, session resampling."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtystrat.data.bars import (
    bar_interval,
    inspect_bars,
    is_intraday,
    load_bars,
    period_keys,
    repair_report,
    resample_bars,
    session_dates,
)
from rtystrat.errors import DataError, ParameterError

HEADER = "Date,Open,High,Low,Close,Volume\n"
GOOD_ROWS = "2024-01-02,100,102,99,101,10\n2024-01-03,101,103,100,102,11\n2024-01-04,102,104,101,103,12\n"


def write(folder: Path, text: str, name: str = "bars.csv") -> Path:
    path = folder / name
    path.write_text(text)
    return path


# --- validation: one crafted file per problem; the message names the problem, the line and the time ---


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "2024-01-02,100,102,99,101,10\n2024-13-45,101,103,100,102,11\n",
            "unparseable timestamp at line 3 (2024-13-45)",
        ),
        (
            "2024-01-02,100,102,99,101,10\n2024-01-03,101,,100,102,11\n",
            "missing price at line 3 (2024-01-03): no high",
        ),
        (
            "2024-01-02,100,102,99,101,10\n2024-01-03,0,103,0,102,11\n",
            "non-positive price at line 3 (2024-01-03)",
        ),
        (
            "2024-01-02,100,102,99,101,10\n2024-01-03,101,103,100,102,-5\n",
            "negative volume at line 3 (2024-01-03)",
        ),
        (
            "2024-01-02,100,102,99,101,10\n2024-01-03,101,101.5,100,102,11\n",
            "high below max(open, close) at line 3",
        ),
        (
            "2024-01-02,100,102,99,101,10\n2024-01-03,101,103,101.5,102,11\n",
            "low above min(open, close) at line 3",
        ),
        (
            "2024-01-02,100,102,99,101,10\n2024-01-03,101,99,104,102,11\n",
            "high below low at line 3 (2024-01-03)",
        ),
        (
            "2024-01-05,100,102,99,101,10\n2024-01-06,101,103,100,102,11\n",
            "weekend row in daily data at line 3",
        ),
        (
            GOOD_ROWS + "2024-01-03,101,103,100,102,11\n",
            "duplicate timestamp at line 5 (2024-01-03): same time as line 3",
        ),
        (GOOD_ROWS + "2024-01-02,101,103,100,102,11\n", "duplicate timestamp at line 5 (2024-01-02)"),
        (
            "2024-01-03,100,102,99,101,10\n2024-01-02,101,103,100,102,11\n",
            "unsorted timestamps at line 3 (2024-01-02)",
        ),
    ],
)
def test_bad_row_raises_one_line_naming_problem_file_and_line(
    tmp_path: Path, body: str, expected: str
) -> None:
    path = write(tmp_path, HEADER + body)
    with pytest.raises(DataError) as error:
        load_bars(path)
    message = str(error.value)
    assert expected in message
    assert message.startswith(str(path))
    assert "\n" not in message


def test_error_detail_shows_the_offending_values_and_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2024-01-02,100,102,99,101,10\n2024-01-03,101,101.5,100,102,11\n")
    with pytest.raises(
        DataError, match=r"open 101\.0 high 101\.5 low 100\.0 close 102\.0; repair='clip' or 'drop'"
    ):
        load_bars(path)


def test_error_counts_further_bad_rows(tmp_path: Path) -> None:
    body = "".join(f"2024-01-0{day},100,99,98,101,1\n" for day in (2, 3, 4))
    with pytest.raises(DataError, match=r"at line 2 \(2024-01-02\).*, and 2 more rows;"):
        load_bars(write(tmp_path, HEADER + body))


@pytest.mark.parametrize("text", ["", HEADER, HEADER + "\n\n"])
def test_empty_file_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(DataError, match=r"bars\.csv: empty file, no rows"):
        load_bars(write(tmp_path, text))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("2024-01-02,100,102,99,101,10\n2024-01-03,101,inf,100,102,11\n", "infinite price at line 3"),
        ("2024-01-02,100,102,99,101,10\n2024-01-03,-inf,103,-inf,102,11\n", "infinite price at line 3"),
    ],
)
def test_infinite_price_is_refused_not_traded(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(DataError, match=expected + r" \(2024-01-03\).*repair='drop' fixes it"):
        load_bars(write(tmp_path, HEADER + body))
    repaired = load_bars(write(tmp_path, HEADER + body), repair="drop")
    assert list(repaired.index.strftime("%m-%d")) == ["01-02"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bars.csv", b"\x00\x01\xff\xfe binary", r"bars\.csv: cannot read as CSV text \(not UTF-8"),
        ("bars.parquet", b"hello", r"bars\.parquet: cannot read as Parquet"),
        ("bars.csv.gz", b"not gzip at all", r"bars\.csv\.gz: cannot read as CSV"),
        ("bars.csv", b'Date,Open\n"2024-01-02,1\n', r"bars\.csv: cannot read as CSV"),
    ],
)
def test_unreadable_file_is_one_line_naming_the_file(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=expected) as error:
        load_bars(path)
    assert "\n" not in str(error.value)


def test_missing_file_and_folder_are_one_line_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.csv: no such file$"):
        load_bars(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"is a folder, not a bars file$"):
        load_bars(tmp_path)
    with pytest.raises(DataError, match=r"source: expected a file path or a DataFrame, got int"):
        load_bars(5)  # type: ignore[arg-type]


def test_missing_column_lists_what_was_found(tmp_path: Path) -> None:
    path = write(tmp_path, "Date,Open,Low,Close,Volume\n2024-01-02,100,99,101,10\n")
    with pytest.raises(DataError, match=r"missing column 'high' \(found: Date, Open, Low, Close, Volume\)"):
        load_bars(path)


def test_blank_lines_do_not_shift_reported_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2024-01-02,100,102,99,101,10\n\n2024-01-03,101,99,100,102,11\n")
    with pytest.raises(DataError, match=r"high below low at line 4 \(2024-01-03\)"):
        load_bars(path)


def test_dataframe_source_errors_name_the_row(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"open": [1.0, 2.0], "high": [1.0, np.nan], "low": [1.0, 2.0], "close": [1.0, 2.0]},
        index=pd.DatetimeIndex(["2024-01-02", "2024-01-03"], name="time"),
    )
    with pytest.raises(
        DataError, match=r"^<DataFrame>: missing price at row 2 \(2024-01-03 00:00:00\): no high"
    ):
        load_bars(frame)


# --- repairs are explicit, reported, and do exactly what they say ---


def test_clip_widens_high_and_low_and_records_rows(tmp_path: Path) -> None:
    body = "2024-01-02,100,102,99,101,10\n2024-01-03,101,101.5,100,102,11\n2024-01-04,102,104,102.5,103,12\n"
    bars = load_bars(write(tmp_path, HEADER + body), repair="clip")
    assert bars["high"].tolist() == [102.0, 102.0, 104.0]
    assert bars["low"].tolist() == [99.0, 100.0, 102.0]
    assert bars.attrs["repairs"] == [
        {
            "repair": "clip",
            "problem": "high below max(open, close)",
            "count": 1,
            "rows": ["line 3 (2024-01-03)"],
        },
        {
            "repair": "clip",
            "problem": "low above min(open, close)",
            "count": 1,
            "rows": ["line 4 (2024-01-04)"],
        },
    ]
    assert repair_report(bars) == [
        "clip: 1 row with high below max(open, close): line 3 (2024-01-03)",
        "clip: 1 row with low above min(open, close): line 4 (2024-01-04)",
    ]


def test_drop_removes_every_bad_row_and_keeps_the_first_duplicate(tmp_path: Path) -> None:
    body = (
        "2024-01-02,100,102,99,101,10\n"
        "garbage,100,102,99,101,10\n"
        "2024-01-03,101,,100,102,11\n"
        "2024-01-03,101,103,100,102,11\n"
        "2024-01-04,102,101,100,103,12\n"
        "2024-01-03,1,1,1,1,1\n"
        "2024-01-05,103,105,102,104,13\n"
    )
    bars = load_bars(write(tmp_path, HEADER + body), repair="drop")
    assert bars.index.strftime("%Y-%m-%d").tolist() == ["2024-01-02", "2024-01-03", "2024-01-05"]
    assert bars.loc["2024-01-03", "close"] == 102.0
    assert [(item["problem"], item["rows"]) for item in bars.attrs["repairs"]] == [
        ("unparseable timestamp", ["line 3 (garbage)"]),
        ("missing price", ["line 4 (2024-01-03)"]),
        ("high below max(open, close)", ["line 6 (2024-01-04)"]),
        ("duplicate timestamp", ["line 7 (2024-01-03)"]),
    ]


def test_combined_repairs_as_string_or_tuple_agree_and_drop_weekend_runs_first(tmp_path: Path) -> None:
    body = "2024-01-05,100,102,99,101,10\n2024-01-07,101,100,99,102,0\n2024-01-08,102,101,100,103,12\n"
    path = write(tmp_path, HEADER + body)
    from_string = load_bars(path, repair="clip, drop_weekend")
    from_tuple = load_bars(path, repair=("drop_weekend", "clip"))
    pd.testing.assert_frame_equal(from_string, from_tuple)
    assert len(from_string) == 2
    assert [(item["repair"], item["rows"]) for item in from_string.attrs["repairs"]] == [
        ("drop_weekend", ["line 3 (2024-01-07)"]),
        ("clip", ["line 4 (2024-01-08)"]),
    ]


def test_sort_orders_rows_and_reports_them(tmp_path: Path) -> None:
    body = "2024-01-03,101,103,100,102,11\n2024-01-02,100,102,99,101,10\n"
    bars = load_bars(write(tmp_path, HEADER + body), repair="sort")
    assert bars["close"].tolist() == [101.0, 102.0]
    assert bars.attrs["repairs"][0]["rows"] == ["line 3 (2024-01-02)"]


def test_unknown_repair_suggests_the_closest(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"unknown option 'clipp' \(did you mean 'clip'\?\)"):
        load_bars(write(tmp_path, HEADER + GOOD_ROWS), repair="clipp")


def test_inspect_lists_every_unrepaired_problem(tmp_path: Path) -> None:
    body = "2024-01-02,100,102,99,101,10\n2024-01-03,101,99,100,102,11\n2024-01-03,0,103,100,102,11\n"
    _, problems = inspect_bars(write(tmp_path, HEADER + body))
    assert [(problem.check, problem.rows) for problem in problems] == [
        ("non_positive_price", ("line 4 (2024-01-03)",)),
        ("high_below_low", ("line 3 (2024-01-03)",)),
        ("high_below_open_close", ("line 3 (2024-01-03)",)),
        ("low_above_open_close", ("line 4 (2024-01-03)",)),  # open 0 is below low 100
        ("duplicate_time", ("line 4 (2024-01-03)",)),
    ]


def test_settlement_only_rows_are_valid(tmp_path: Path) -> None:
    bars = load_bars(write(tmp_path, HEADER + "2024-01-02,100,100,100,100,0\n2024-01-03,101,101,101,101,0\n"))
    assert bars.attrs["repairs"] == []
    assert bars["volume"].tolist() == [0.0, 0.0]


# --- columns: names, order, aliases, formats ---


def test_yahoo_column_order_and_adjusted_close(tmp_path: Path) -> None:
    text = "Date,Close,High,Low,Open,Adj Close,Volume\n2024-01-02,101,102,99,100,50.5,10\n"
    path = write(tmp_path, text)
    bars = load_bars(path)
    assert bars.columns.tolist() == ["open", "high", "low", "close", "volume"]
    assert bars.iloc[0].tolist() == [100.0, 102.0, 99.0, 101.0, 10.0]
    adjusted = load_bars(path, adjusted=True)
    assert adjusted.iloc[0, :4].tolist() == pytest.approx([50.0, 51.0, 49.5, 50.5])
    with pytest.raises(DataError, match="adjusted=True needs an 'Adj Close' column"):
        load_bars(write(tmp_path, HEADER + GOOD_ROWS, "plain.csv"), adjusted=True)


def test_ibkr_columns_are_ignored_and_contract_and_open_interest_kept(tmp_path: Path) -> None:
    text = (
        "date,open,high,low,close,volume,average,barCount,Contract,Open Interest\n"
        "2024-01-02,1,2,1,2,5,1.5,3,RTYH4,900\n"
    )
    bars = load_bars(write(tmp_path, text))
    assert bars.columns.tolist() == ["open", "high", "low", "close", "volume", "open_interest", "contract"]
    assert (bars["contract"].iloc[0], bars["open_interest"].iloc[0]) == ("RTYH4", 900.0)


def test_missing_volume_reads_as_zero_and_dtypes_are_float(tmp_path: Path) -> None:
    bars = load_bars(write(tmp_path, "TIMESTAMP,O,H,L,C\n2024-01-02,1,2,1,2\n"))
    assert bars["volume"].tolist() == [0.0]
    assert (bars.dtypes == "float64").all()
    assert bars.index.name == "time"
    assert bars.attrs["source"] == "bars.csv"


def test_separate_date_and_time_columns_and_semicolons(tmp_path: Path) -> None:
    text = "Date;Time;Open;High;Low;Close\n2024-01-02;14:30:00;1;2;1;2\n2024-01-02;14:31:00;2;3;2;3\n"
    bars = load_bars(write(tmp_path, text))
    assert bars.index[0] == pd.Timestamp("2024-01-02 08:30", tz="America/Chicago")


def test_integer_yyyymmdd_dates(tmp_path: Path) -> None:
    bars = load_bars(write(tmp_path, "date,open,high,low,close\n20240102,1,2,1,2\n20240103,2,3,2,3\n"))
    assert bars.index.tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]


def test_gzip_parquet_and_dataframe_sources_give_the_same_frame(tmp_path: Path) -> None:
    text = HEADER + GOOD_ROWS
    plain = load_bars(write(tmp_path, text))
    gz = tmp_path / "bars.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    parquet = tmp_path / "bars.parquet"
    plain.to_parquet(parquet)
    for other in (load_bars(gz), load_bars(parquet), load_bars(plain)):
        pd.testing.assert_frame_equal(other, plain, check_flags=False)


# --- time zones ---


def test_naive_intraday_is_utc_by_default_and_converted_to_chicago(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2024-01-02 23:00:00,1,2,1,2,1\n2024-01-02 23:01:00,2,3,2,3,1\n")
    bars = load_bars(path)
    assert str(bars.index.tz) == "America/Chicago"
    assert bars.index[0] == pd.Timestamp("2024-01-02 17:00", tz="America/Chicago")
    local = load_bars(path, source_tz="America/Chicago", tz="America/New_York")
    assert local.index[0] == pd.Timestamp("2024-01-03 00:00", tz="America/New_York")


def test_mixed_utc_offsets_parse_to_one_zone(tmp_path: Path) -> None:
    text = HEADER + "2024-03-08 20:55:00+00:00,1,2,1,2,1\n2024-03-11 15:55:00-04:00,2,3,2,3,1\n"
    bars = load_bars(write(tmp_path, text))
    assert bars.index.strftime("%Y-%m-%d %H:%M %z").tolist() == [
        "2024-03-08 14:55 -0600",
        "2024-03-11 14:55 -0500",
    ]


def test_ambiguous_local_time_is_an_error_not_a_guess(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2024-11-03 01:30:00,1,2,1,2,1\n2024-11-03 02:30:00,2,3,2,3,1\n")
    with pytest.raises(DataError, match="cannot place timestamps in time zone 'America/Chicago'"):
        load_bars(path, source_tz="America/Chicago")


@pytest.mark.parametrize("name", ["tz", "source_tz"])
def test_unknown_time_zone_names_the_parameter(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, HEADER + "2024-03-12 14:30:00,1,2,1,2,1\n2024-03-12 14:31:00,2,3,2,3,1\n")
    with pytest.raises(ParameterError, match=rf"^{name}='Mars/Phobos': unknown time zone; use an IANA name"):
        load_bars(path, **{name: "Mars/Phobos"})


def test_daily_data_stays_tz_naive(tmp_path: Path) -> None:
    bars = load_bars(write(tmp_path, HEADER + "2024-01-02 00:00:00-05:00,1,2,1,2,1\n"), tz="Europe/London")
    assert bars.index.tz is None
    assert bars.index[0] == pd.Timestamp("2024-01-02")
    assert not is_intraday(bars)


def test_is_intraday_finds_one_time_of_day_anywhere() -> None:
    days = pd.date_range("2024-01-01", periods=200, freq="D", tz="America/Chicago")
    assert not is_intraday(days)
    moved = pd.DatetimeIndex([days[150] + pd.Timedelta(hours=9, minutes=30)])
    one = days[:150].append(moved).append(days[151:])
    assert is_intraday(one)  # the 151st bar alone, past the first ones the check looks at first
    assert is_intraday(pd.date_range("2024-01-02 17:00", periods=3, freq="min"))


# --- sessions and resampling ---


def minute_bars(start: str, end: str) -> pd.DataFrame:
    """1-minute bars from `start` to `end` (exclusive, Chicago time), close = minute number, volume 1."""
    index = pd.date_range(start, end, freq="min", tz="America/Chicago", inclusive="left", name="time")
    close = np.arange(len(index), dtype=float) + 1000.0
    return pd.DataFrame(
        {"open": close, "high": close + 0.5, "low": close - 0.5, "close": close, "volume": 1.0}, index
    )


def test_session_resampling_across_a_sunday_open_and_a_holiday() -> None:
    # Christmas week 2024: Friday 20th's session ends 16:00; Globex reopens Sunday 17:00 for Monday 23rd;
    # Tuesday 24th closes early at 12:15; Christmas Day has no session; trading resumes Wednesday 17:00 for
    # Thursday 26th. The bar values are numbered so that every expected figure is a minute count.
    pieces = [
        minute_bars("2024-12-19 17:00", "2024-12-20 16:00"),
        minute_bars("2024-12-22 17:00", "2024-12-23 16:00"),
        minute_bars("2024-12-23 17:00", "2024-12-24 12:15"),
        minute_bars("2024-12-25 17:00", "2024-12-26 16:00"),
    ]
    bars = pd.concat([piece + offset for piece, offset in zip(pieces, (0, 2000, 4000, 6000), strict=True)])
    bars["volume"] = 1.0
    daily = resample_bars(bars, "D")
    assert daily.index.strftime("%Y-%m-%d").tolist() == [
        "2024-12-20",
        "2024-12-23",
        "2024-12-24",
        "2024-12-26",
    ]
    assert daily["volume"].tolist() == [1380.0, 1380.0, 1155.0, 1380.0]
    assert daily["open"].tolist() == [1000.0, 3000.0, 5000.0, 7000.0]
    assert daily["close"].tolist() == [2379.0, 4379.0, 6154.0, 8379.0]
    assert daily["high"].tolist() == [2379.5, 4379.5, 6154.5, 8379.5]
    assert daily["low"].tolist() == [999.5, 2999.5, 4999.5, 6999.5]
    weekly = resample_bars(bars, "W")
    assert weekly.index.strftime("%Y-%m-%d").tolist() == ["2024-12-16", "2024-12-23"]
    assert weekly.loc["2024-12-23"].tolist() == [3000.0, 8379.5, 2999.5, 8379.0, 3915.0]
    dates = session_dates(bars.index)
    assert dates[bars.index.get_loc(pd.Timestamp("2024-12-23 15:59", tz="America/Chicago"))] == pd.Timestamp(
        "2024-12-23"
    )
    assert dates[bars.index.get_loc(pd.Timestamp("2024-12-23 17:00", tz="America/Chicago"))] == pd.Timestamp(
        "2024-12-24"
    )
    assert bar_interval(bars) == pd.Timedelta(minutes=1)
    assert is_intraday(bars)


def test_a_holiday_session_is_booked_to_the_next_trade_date() -> None:
    # Martin Luther King Jr. Day 2025: Globex opens Sunday 19th 17:00 and halts Monday 12:00, CME books
    # it to Tuesday 21st, whose session resumes Monday 17:00; one daily bar, opening at Sunday's first
    # minute (as the Yahoo RTY file's 21 January bar does). 9 Jan 2025, a day of mourning CME kept as a
    # trade date (17:00 to an 08:30 halt), stays a session of its own.
    pieces = [
        minute_bars("2025-01-19 17:00", "2025-01-20 12:00"),
        minute_bars("2025-01-20 17:00", "2025-01-21 16:00"),
        minute_bars("2025-01-08 17:00", "2025-01-09 08:30"),
        minute_bars("2025-01-09 17:00", "2025-01-10 16:00"),
    ]
    bars = pd.concat([piece + offset for piece, offset in zip(pieces, (2000, 4000, 0, 1000), strict=True)])
    bars = bars.sort_index().assign(volume=1.0)
    daily = resample_bars(bars, "D")
    assert daily.index.strftime("%Y-%m-%d").tolist() == ["2025-01-09", "2025-01-10", "2025-01-21"]
    assert daily["volume"].tolist() == [15.5 * 60, 23 * 60, 19 * 60 + 23 * 60]
    assert daily["open"].tolist() == [1000.0, 2000.0, 3000.0]
    assert daily.loc["2025-01-21", "close"] == 5000.0 + 23 * 60 - 1  # Tuesday's last minute


def test_session_dates_follow_exchange_time_whatever_the_index_zone() -> None:
    utc = pd.DatetimeIndex(["2024-07-01 21:59", "2024-07-01 22:00"], tz="UTC")  # 16:59 and 17:00 CDT
    assert session_dates(utc).strftime("%Y-%m-%d").tolist() == ["2024-07-01", "2024-07-02"]


def test_daily_resampling_to_week_month_quarter() -> None:
    index = pd.bdate_range("2024-03-25", "2024-04-05", name="time")
    close = np.arange(1.0, len(index) + 1)
    bars = pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 0.5, "close": close, "volume": 2.0}, index
    )
    weekly = resample_bars(bars, "W")
    assert weekly.index.strftime("%Y-%m-%d").tolist() == ["2024-03-25", "2024-04-01"]
    assert weekly.iloc[0].tolist() == [1.0, 6.0, 0.5, 5.0, 10.0]
    monthly = resample_bars(bars, "M")
    assert monthly["close"].tolist() == [5.0, 10.0]
    quarterly = resample_bars(bars, "Q")
    assert quarterly.index.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-04-01"]
    assert period_keys(bars.index, "M")[-1] == pd.Timestamp("2024-04-01")
    assert bar_interval(bars) == pd.Timedelta(days=1)


def test_unknown_period_suggests() -> None:
    with pytest.raises(ParameterError, match=r"unknown value 'MM' \(did you mean 'M'\?\)"):
        resample_bars(pd.DataFrame(), "MM")


# --- the real files in ../shared/data ---


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("name", "repair", "rows", "first", "last"),
    [
        ("daily/RTY_F_yahoo_daily.csv", "clip,drop_weekend", 2172, "2017-07-10", "2026-02-23"),
        ("daily/RUT_yahoo_daily.csv", None, 9686, "1987-09-10", "2026-02-23"),
        ("daily/RUT_ibkr_daily.csv", None, 2552, "2016-06-28", "2026-08-21"),
        ("daily/ES_F_yahoo_daily.csv", "clip,drop_weekend", 6422, "2000-09-18", "2026-02-23"),
        ("daily/NQ_F_yahoo_daily.csv", "clip,drop_weekend", 6422, "2000-09-18", "2026-02-23"),
        ("daily/IWM_yahoo_daily_adjusted.csv", "clip", 6473, "2000-05-26", "2026-02-23"),
        ("contracts/RTY/RTY_202609.csv", None, 279, "2025-06-23", "2026-07-31"),
        ("contracts/ES/ES_202612.csv", None, 500, "2024-07-30", "2026-07-31"),
    ],
)
def test_real_daily_files_load(
    shared_data: Path, name: str, repair: str | None, rows: int, first: str, last: str
) -> None:
    bars = load_bars(shared_data / name, repair=repair)
    assert len(bars) == rows
    assert (bars.index[0], bars.index[-1]) == (pd.Timestamp(first), pd.Timestamp(last))
    assert bars.index.tz is None
    assert bars.index.is_monotonic_increasing and bars.index.is_unique


@pytest.mark.shared_data
def test_real_rty_daily_needs_explicit_repairs_and_reports_them(shared_data: Path) -> None:
    path = shared_data / "daily/RTY_F_yahoo_daily.csv"
    with pytest.raises(DataError, match=r"weekend row in daily data at line 2018 \(2025-07-13\): a Sunday"):
        load_bars(path)
    with pytest.raises(DataError, match=r"high below max\(open, close\) at line 2064 \(2025-09-15\)"):
        load_bars(path, repair="drop_weekend")
    bars = load_bars(path, repair="clip,drop_weekend")
    assert repair_report(bars) == [
        "drop_weekend: 1 row with weekend row in daily data: line 2018 (2025-07-13)",
        "clip: 1 row with high below max(open, close): line 2064 (2025-09-15)",
    ]


@pytest.mark.shared_data
def test_real_contract_settlement_only_rows_load(shared_data: Path) -> None:
    bars = load_bars(shared_data / "contracts/RTY/RTY_202612.csv")
    flat = (bars["open"] == bars["high"]) & (bars["low"] == bars["close"]) & (bars["open"] == bars["close"])
    assert bars.loc["2025-04-28", ["open", "volume"]].tolist() == [2068.8, 0.0]
    assert (flat & (bars["volume"] == 0)).sum() > 100


@pytest.mark.shared_data
def test_real_hourly_utc_file_lands_in_chicago_sessions(shared_data: Path) -> None:
    bars = load_bars(shared_data / "intraday/RTY_F_yahoo_1h_utc.csv")
    assert len(bars) == 11516
    assert bars.index[0] == pd.Timestamp("2023-07-10 17:00", tz="America/Chicago")
    assert bars.index[-1] == pd.Timestamp("2025-07-09 17:00", tz="America/Chicago")
    assert bar_interval(bars) == pd.Timedelta(hours=1)
    # The CME maintenance hour 16:00-17:00 CT holds no bar once the UTC stamps are placed in Chicago time,
    # except one stray 1-lot print in the vendor file.
    assert bars.loc[bars.index.hour == 16, "volume"].tolist() == [1.0]


@pytest.mark.shared_data
def test_real_ibkr_5m_mixed_offsets_parse_to_one_zone(shared_data: Path) -> None:
    bars = load_bars(shared_data / "intraday/RUT_ibkr_5m.csv")
    assert len(bars) == 47738
    assert str(bars.index.tz) == "America/Chicago"
    assert bars.index[0] == pd.Timestamp("2024-03-11 08:30", tz="America/Chicago")
    assert bars.index[-1] == pd.Timestamp("2026-08-21 14:55", tz="America/Chicago")
    # Regular hours 08:30-15:00 CT for both the +00:00 and the -04:00 rows: the offsets were honoured.
    minutes = bars.index.hour * 60 + bars.index.minute
    assert minutes.min() == 8 * 60 + 30 and minutes.max() == 14 * 60 + 55
    assert bar_interval(bars) == pd.Timedelta(minutes=5)


@pytest.mark.shared_data
def test_monthly_bars_of_real_rty_match_the_analysis_february(shared_data: Path) -> None:
    bars = load_bars(shared_data / "daily/RTY_F_yahoo_daily.csv", repair="clip,drop_weekend")
    february = resample_bars(bars, "M").loc["2025-02-01"]
    assert february["high"] == pytest.approx(2336.2, abs=0.05)
    assert february["low"] == pytest.approx(2129.4, abs=0.05)
    assert february["close"] == pytest.approx(2165.3, abs=0.05)


@pytest.mark.shared_data
def test_real_hourly_sessions_resample_to_the_daily_file(shared_data: Path) -> None:
    hourly = resample_bars(load_bars(shared_data / "intraday/RTY_F_yahoo_1h_utc.csv"), "D")
    daily = load_bars(shared_data / "daily/RTY_F_yahoo_daily.csv", repair="clip,drop_weekend")
    assert hourly.loc["2025-03-13", "low"] == pytest.approx(daily.loc["2025-03-13", "low"], abs=0.05)
    assert hourly.loc["2025-03-13", "high"] == pytest.approx(daily.loc["2025-03-13", "high"], abs=0.05)


# --- cells that used to load silently as something else ---


@pytest.mark.parametrize("cell", ["abc", "n/a", ""])
def test_an_unreadable_volume_is_an_error_naming_the_row_or_a_reported_repair(
    tmp_path: Path, cell: str
) -> None:
    path = write(tmp_path, HEADER + f"2024-01-02,100,102,99,101,10\n2024-01-03,101,103,100,102,{cell}\n")
    with pytest.raises(DataError) as error:
        load_bars(path)
    shown = "volume 'abc'" if cell == "abc" else "volume missing (empty or NA)"
    assert str(error.value) == (
        f"{path}: empty or unreadable volume at line 3 (2024-01-03): {shown}; "
        "repair='zero_volume' or 'drop' fixes it"
    )
    bars = load_bars(path, repair="zero_volume")
    assert bars["volume"].tolist() == [10.0, 0.0]
    assert repair_report(bars) == ["zero_volume: 1 row with empty or unreadable volume: line 3 (2024-01-03)"]
    assert load_bars(path, repair="drop")["volume"].tolist() == [10.0]


def test_a_second_close_column_with_other_values_is_an_error(tmp_path: Path) -> None:
    text = "Date,Open,High,Low,Close,Volume,Close\n2024-01-02,100,102,99,101,10,101\n"
    text += "2024-01-03,101,103,100,102,11,99\n"
    message = r"two columns named like 'Close' \(column 5 and column 7, 'Close.1'\) with different values"
    with pytest.raises(DataError, match=message + r" \(first at data row 2\)"):
        load_bars(write(tmp_path, text))
    same = "Date,Open,High,Low,close,Volume,CLOSE\n2024-01-02,100,102,99,101,10,101\n"
    assert load_bars(write(tmp_path, same, "same.csv"))["close"].tolist() == [101.0]


@pytest.mark.parametrize("stamp", ["39449", "45000.5", "1"])
def test_excel_serial_dates_are_refused_not_read_as_1970_seconds(tmp_path: Path, stamp: str) -> None:
    path = write(tmp_path, HEADER + f"{stamp},100,102,99,101,10\n")
    with pytest.raises(DataError, match=rf"time column 'Date' at line 2 \({stamp}\): .*Excel serial dates\?"):
        load_bars(path)


def test_a_truncated_gzip_file_and_a_device_are_one_line_errors(tmp_path: Path) -> None:
    whole = gzip.compress((HEADER + GOOD_ROWS * 2000).encode())
    truncated = tmp_path / "bars.csv.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match="cannot read as CSV"):
        load_bars(truncated)
    device = tmp_path / "zero.csv"
    device.symlink_to("/dev/zero")
    with pytest.raises(DataError, match="is not a regular file"):
        load_bars(device)
