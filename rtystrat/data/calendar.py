"""Trade dates of CME equity-index futures, from a maintained exchange calendar plus CME's own notices.

A *trade date* is the day CME books a session to: the Globex session that opens at 17:00 Chicago time on
the evening before and closes at 16:00 (:func:`rtystrat.data.bars.session_dates`). Daily bars, daily
settlements, the business days counted back to a roll and the expiry rule all run on trade dates.

Source
------
Trade dates are those of ``pandas_market_calendars``' CME trade-date calendar (``CME_TradeDate``), which
that library keeps for "deciding what days are eligible business days for contract expiries and trade
dates": weekdays less New Year's Day, Martin Luther King Jr. Day (from 1998), Presidents' Day, Good Friday,
Memorial Day, Juneteenth (from 2022), Independence Day, Labor Day, Thanksgiving and Christmas (each on the
weekday it is observed), and the national days of mourning.

On most of those holidays Globex still trades an abbreviated equity session (until 12:00 CT), but CME
books it to the next trade date (its holiday notices read "for trade date of ..."), so the holiday has no
daily bar and no settlement of its own. The same library's *session* calendar for CME equities
(``CME_Equity``, like ``exchange_calendars``' ``CMES``) lists those days as early-close sessions and is
therefore not the one used here; the NYSE calendar differs on unscheduled closures (below).

Where CME's notices overrule the library
----------------------------------------
The library closes every national day of mourning (its source marks the list unverified). CME's notices
say that equity futures traded a session booked to that day on two of them, kept here as trade dates
(:data:`TRADE_DATE_CORRECTIONS`):

- **2018-12-05**, President George H. W. Bush. CME Group press release of 2 Dec 2018, "CME Group U.S.
  Equity, Interest Rate Markets to Close for National Day of Mourning": equity products trade "an
  abbreviated session, closing after overnight trading at 8:30 a.m. Central Time and reopening at their
  regularly scheduled times for a trade date of Dec. 6" — the overnight session is trade date 5 December.
  The Yahoo RTY daily file has no row that day, but it did not book the session forward either: its
  6 December bar opens at 1,489.6, 7.7 points above the 4 December close (ES +11.5, NQ +31.25 alike), at
  the 17:00 reopening after the halt, whereas a session booked forward opens the next bar at its own
  first price (the 21 Jan 2025 bar, after Martin Luther King Jr. Day, opens at 2,288.7, the Sunday 17:00
  price of the hourly file). The vendor dropped the session; CME traded it.
- **2025-01-09**, President Jimmy Carter. CME Group press release of 30 Dec 2024, "CME Group Announces
  Trading Hours for U.S. National Day of Mourning to Honor Former President Jimmy Carter": "U.S. equity
  markets will be open until 8:30 a.m. CT on January 9" and reopen "on January 9 for a trade date of
  January 10". The Yahoo RTY daily file has the bar (open 2,254.5, high 2,256.0, low 2,240.8, close
  2,246.2, 13,615 contracts): exactly its hourly bars from 17:00 CT on the 8th to the 08:30 halt; its
  10 January bar opens at the 17:00 reopening (2,245.5).

Checked and agreeing with the library: 2007-01-02 (President Ford) is closed — "The CME's commodity and
equity markets will be closed" (CME statement reported by CNBC, 29 Dec 2006; the ES file has no row);
2012-10-29 and 2012-10-30 (Hurricane Sandy) are trade dates although the NYSE was shut — CME notices of
28 and 29 Oct 2012: equity futures traded from 17:00 CT the evening before until an 08:15 CT halt on each
day, the pattern of the two corrections above (the notices do not name the trade date, and the ES file has
no rows on either day). Older days of mourning (1994 and before, 2004-06-11) follow the library
unverified, and so do the Good Fridays on which Globex traded a short equity session for the jobs report
(2010, 2012, 2015, 2021, 2023): not trade dates, although the RTY file's Monday bars after 2021-04-02 and
2023-04-07 open 41.1 and 12.4 points away from the Thursday close, as the bar after 2018-12-05 does; the
vendor file alone cannot tell a dropped trade date from a closed day.

Expiries are on trade dates too (:func:`rtystrat.data.contracts.expiry_date`). A quarterly expiry settles
on the index's opening quotation, so a third Friday that CME trades while the NYSE is shut would move it;
no such day has occurred and none is modelled.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping

import numpy as np
import pandas as pd

from rtystrat.errors import ParameterError

__all__ = [
    "LIBRARY_CALENDAR",
    "TRADE_DATE_CORRECTIONS",
    "business_day",
    "exchange_holidays",
    "next_trade_date",
    "trade_dates",
]

#: Name of the ``pandas_market_calendars`` calendar the trade dates start from.
LIBRARY_CALENDAR = "CME_TradeDate"

#: Days the library closes but CME equity futures booked as trade dates, with CME's notice for each.
TRADE_DATE_CORRECTIONS: Mapping[str, str] = {
    "2018-12-05": "CME Group press release, 2 Dec 2018: equity products trade an abbreviated session to "
    "08:30 CT and reopen for a trade date of Dec. 6",
    "2025-01-09": "CME Group press release, 30 Dec 2024: U.S. equity markets open until 08:30 CT on "
    "January 9, reopening for a trade date of January 10",
}

DateLike = str | dt.date | pd.Timestamp


@functools.cache
def _holidays() -> np.ndarray:
    """Return the sorted weekdays (``datetime64[D]``) that are not trade dates."""
    # Imported on first use: loading the library's calendars takes about a second.
    import pandas_market_calendars

    closed = pandas_market_calendars.get_calendar(LIBRARY_CALENDAR).holidays().holidays
    closed = np.asarray(closed, dtype="datetime64[D]")
    restored = np.array(list(TRADE_DATE_CORRECTIONS), dtype="datetime64[D]")
    return np.setdiff1d(closed[np.is_busday(closed)], restored)


def _day(value: DateLike, name: str) -> np.datetime64:
    try:
        return np.datetime64(pd.Timestamp(value).date(), "D")
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a date like '2025-01-31', got {value!r}") from None


def trade_dates(start: DateLike, end: DateLike) -> pd.DatetimeIndex:
    """Return the CME equity-index trade dates from `start` to `end` (both inclusive).

    Returns
    -------
    DatetimeIndex
        Tz-naive midnights (``datetime64[ns]``), in order.

    Examples
    --------
    >>> trade_dates("2025-01-08", "2025-01-21").strftime("%d").tolist()  # 9th kept; 20th is MLK Day
    ['08', '09', '10', '13', '14', '15', '16', '17', '21']
    """
    days = np.arange(_day(start, "start"), _day(end, "end") + 1, dtype="datetime64[D]")
    return pd.DatetimeIndex(days[np.is_busday(days, holidays=_holidays())]).as_unit("ns")


def exchange_holidays(start: DateLike, end: DateLike) -> pd.DatetimeIndex:
    """Return the weekdays from `start` to `end` (inclusive) that are not trade dates.

    Examples
    --------
    >>> exchange_holidays("2025-01-01", "2025-01-31").strftime("%m-%d").tolist()
    ['01-01', '01-20']
    """
    closed = _holidays()
    inside = closed[(closed >= _day(start, "start")) & (closed <= _day(end, "end"))]
    return pd.DatetimeIndex(inside).as_unit("ns")


@functools.cache
def business_day() -> pd.offsets.CustomBusinessDay:
    """Return the offset that steps from one trade date to the next (weekdays less :func:`exchange_holidays`).

    Examples
    --------
    >>> (pd.Timestamp("2025-01-17") + business_day()).date()  # over the weekend and MLK Day
    datetime.date(2025, 1, 21)
    """
    return pd.offsets.CustomBusinessDay(holidays=_holidays())


def next_trade_date(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Return each of `dates` (tz-naive midnights) that is a trade date, and the next trade date for the rest.

    This is how CME books a session that trades on a day without a trade date of its own: the Globex
    equity session of Martin Luther King Jr. Day belongs to the Tuesday, a Sunday-evening open to Monday.

    Examples
    --------
    >>> next_trade_date(pd.DatetimeIndex(["2025-01-17", "2025-01-19", "2025-01-20"])).strftime("%d").tolist()
    ['17', '21', '21']
    """
    dates = pd.DatetimeIndex(dates)
    days = np.busday_offset(dates.to_numpy().astype("datetime64[D]"), 0, roll="forward", holidays=_holidays())
    return pd.DatetimeIndex(days, name=dates.name).as_unit(dates.unit)
