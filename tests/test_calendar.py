"""rtystrat.data.calendar: CME trade dates against the library, the NYSE, CME's notices and real files."""

from __future__ import annotations

import pandas as pd
import pandas_market_calendars
import pytest

from rtystrat.data.calendar import (
    LIBRARY_CALENDAR,
    TRADE_DATE_CORRECTIONS,
    business_day,
    exchange_holidays,
    trade_dates,
)
from rtystrat.data.sample import load_sample
from rtystrat.errors import ParameterError

CORRECTIONS = pd.DatetimeIndex(sorted(TRADE_DATE_CORRECTIONS))


def library_days(name: str, start: str, end: str) -> pd.DatetimeIndex:
    days = pandas_market_calendars.get_calendar(name).valid_days(start, end)
    return pd.DatetimeIndex(days).tz_localize(None).as_unit("ns")


def dates(index: pd.DatetimeIndex) -> list[str]:
    return index.strftime("%Y-%m-%d").tolist()


def test_trade_dates_are_the_library_calendar_plus_cme_corrections() -> None:
    ours = trade_dates("1998-01-01", "2035-12-31")
    library = library_days(LIBRARY_CALENDAR, "1998-01-01", "2035-12-31")
    assert dates(ours.difference(library)) == ["2018-12-05", "2025-01-09"]
    assert ours.difference(library).equals(CORRECTIONS)
    assert library.difference(ours).empty
    assert ours.is_monotonic_increasing and (ours.day_of_week < 5).all() and ours.dtype == "datetime64[ns]"


def test_each_correction_is_a_day_the_library_still_closes() -> None:
    # When the library starts booking one of these as a trade date, this fails: drop the correction.
    for day in TRADE_DATE_CORRECTIONS:
        assert library_days(LIBRARY_CALENDAR, day, day).empty, day
        assert dates(trade_dates(day, day)) == [day]
        assert TRADE_DATE_CORRECTIONS[day].startswith("CME Group press release")


def test_holidays_of_2018_and_2025_follow_the_published_schedules() -> None:
    # NYSE holiday lists of both years (CME books each holiday's abbreviated Globex session to the next
    # trade date); the days of mourning 2018-12-05 and 2025-01-09 are CME trade dates, so absent here.
    assert dates(exchange_holidays("2018-01-01", "2018-12-31")) == [
        "2018-01-01", "2018-01-15", "2018-02-19", "2018-03-30", "2018-05-28", "2018-07-04", "2018-09-03",
        "2018-11-22", "2018-12-25",
    ]  # fmt: skip
    assert exchange_holidays("2025-01-01", "2025-12-31").strftime("%m-%d").tolist() == [
        "01-01", "01-20", "02-17", "04-18", "05-26", "06-19", "07-04", "09-01", "11-27", "12-25",
    ]  # fmt: skip
    # Saturday 1 Jan 2022 is not made up on Friday 31 Dec 2021; Juneteenth 2022 is observed on Monday 20th.
    assert dates(exchange_holidays("2021-12-01", "2022-06-30")) == [
        "2021-12-24", "2022-01-17", "2022-02-21", "2022-04-15", "2022-05-30", "2022-06-20",
    ]  # fmt: skip


def test_holidays_and_trade_dates_split_the_weekdays() -> None:
    weekdays = pd.bdate_range("2008-01-01", "2025-12-31").as_unit("ns")
    holidays = exchange_holidays("2008-01-01", "2025-12-31")
    sessions = trade_dates("2008-01-01", "2025-12-31")
    assert holidays.intersection(sessions).empty
    assert holidays.union(sessions).equals(weekdays)
    assert len(sessions) == 4533  # the shipped sample's row count


def test_trade_dates_differ_from_the_nyse_only_where_cme_traded_through_a_closure() -> None:
    # Hurricane Sandy (CME notices of 28 and 29 Oct 2012: equity futures traded until 08:15 CT each day)
    # and the days of mourning CME kept as abbreviated trade dates.
    ours, nyse = trade_dates("2008-01-01", "2026-12-31"), library_days("NYSE", "2008-01-01", "2026-12-31")
    assert dates(ours.difference(nyse)) == ["2012-10-29", "2012-10-30", "2018-12-05", "2025-01-09"]
    assert nyse.difference(ours).empty


def test_ford_day_of_mourning_is_closed() -> None:
    # "The CME's commodity and equity markets will be closed" on 2 Jan 2007 (CME statement, Dec 2006).
    assert dates(exchange_holidays("2006-12-29", "2007-01-03")) == ["2007-01-01", "2007-01-02"]


def test_business_day_steps_over_holidays_and_stops_on_corrections() -> None:
    step = business_day()
    assert pd.Timestamp("2025-01-17") + step == pd.Timestamp("2025-01-21")  # MLK Day
    assert pd.Timestamp("2025-01-08") + step == pd.Timestamp("2025-01-09")  # Carter: a trade date
    assert pd.Timestamp("2018-12-06") - step == pd.Timestamp("2018-12-05")  # Bush: a trade date
    assert pd.Timestamp("2006-12-29") + step == pd.Timestamp("2007-01-03")  # Ford: closed


def test_dates_are_validated_in_one_line() -> None:
    with pytest.raises(ParameterError, match=r"^start must be a date like '2025-01-31', got 'soon'$"):
        trade_dates("soon", "2025-01-31")
    assert trade_dates("2025-01-31", "2025-01-01").empty


def test_the_shipped_sample_is_on_the_trade_dates() -> None:
    daily = load_sample("daily")
    assert daily.index.equals(trade_dates("2008-01-02", "2025-12-31").rename(daily.index.name))


@pytest.mark.shared_data
def test_rty_file_rows_are_the_trade_dates(shared_data) -> None:
    # Every trade date of the Yahoo RTY file's span has a row but the Bush day of mourning, whose session
    # the vendor dropped (next test); its only other rows are the vendor's quirks: calendar-day rows on
    # Thanksgiving 2023, 4 July and Labor Day 2025, and a Sunday (data README).
    rows = pd.DatetimeIndex(pd.read_csv(shared_data / "daily" / "RTY_F_yahoo_daily.csv")["Date"])
    sessions = trade_dates(rows.min(), rows.max())
    assert dates(sessions.difference(rows)) == ["2018-12-05"]
    assert dates(rows.difference(sessions)) == ["2023-11-23", "2025-07-04", "2025-07-13", "2025-09-01"]


@pytest.mark.shared_data
def test_rty_files_show_the_carter_session_as_its_own_trade_date(shared_data) -> None:
    daily = pd.read_csv(shared_data / "daily" / "RTY_F_yahoo_daily.csv", index_col="Date").round(1)
    hourly = pd.read_csv(shared_data / "intraday" / "RTY_F_yahoo_1h_utc.csv", index_col="Datetime").round(1)
    # 17:00 CT on 8 Jan to the 08:30 CT halt on 9 Jan (hourly bars start 23:00 to 14:00 UTC).
    session = hourly.loc["2025-01-08 23:00:00":"2025-01-09 14:00:00"]
    assert len(session) == 16
    bar = daily.loc["2025-01-09"]
    assert [bar["Open"], bar["High"], bar["Low"], bar["Close"]] == [
        session["Open"].iloc[0], session["High"].max(), session["Low"].min(), session["Close"].iloc[-1]
    ]  # fmt: skip
    assert (bar["Open"], bar["Close"], bar["Volume"]) == (2254.5, 2246.2, 13615)
    # The 10 January bar opens at the 17:00 CT reopening, not at the 9 January session's open ...
    assert daily.loc["2025-01-10", "Open"] == hourly.loc["2025-01-09 23:00:00", "Open"] == 2245.5
    # ... whereas Martin Luther King Jr. Day's session is booked forward: 21 January opens at its Sunday open.
    assert daily.loc["2025-01-21", "Open"] == hourly.loc["2025-01-19 23:00:00", "Open"] == 2288.7
    assert "2025-01-20" not in daily.index


@pytest.mark.shared_data
def test_rty_file_drops_the_bush_session_without_booking_it_forward(shared_data) -> None:
    # No row on 5 Dec 2018, and the 6 December bar opens 7.7 points above the 4 December close: at the
    # reopening after the 08:30 CT halt, not at the 4 December evening open.
    daily = pd.read_csv(shared_data / "daily" / "RTY_F_yahoo_daily.csv", index_col="Date").round(1)
    assert "2018-12-05" not in daily.index
    assert round(daily.loc["2018-12-06", "Open"] - daily.loc["2018-12-04", "Close"], 1) == 7.7


@pytest.mark.shared_data
def test_business_days_match_the_sessions_of_a_real_contract_file(shared_data) -> None:
    # IBKR writes one row per settlement day: every row is a business day and every business day has a row.
    rows = pd.to_datetime(pd.read_csv(shared_data / "contracts" / "RTY" / "RTY_202609.csv")["date"])
    calendar = pd.date_range(rows.min(), rows.max(), freq=business_day())
    assert list(calendar) == list(rows)
