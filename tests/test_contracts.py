"""Contract specs, tick rounding and the expiry calendar, against exchange facts and hand arithmetic."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from rtystrat.data.contracts import (
    CONTRACTS,
    MONTH_CODES,
    ContractSpec,
    contract_code,
    expiry_date,
    get_contract,
    parse_contract_code,
    parse_contract_file_name,
    roll_date,
    round_to_tick,
)
from rtystrat.errors import ParameterError

# (multiplier $/point, tick size points, tick value $) from the CME/CBOT contract specifications.
EXCHANGE_TERMS = {
    "RTY": (50.0, 0.10, 5.00),
    "M2K": (5.0, 0.10, 0.50),
    "ES": (50.0, 0.25, 12.50),
    "MES": (5.0, 0.25, 1.25),
    "NQ": (20.0, 0.25, 5.00),
    "MNQ": (2.0, 0.25, 0.50),
    "YM": (5.0, 1.0, 5.00),
    "MYM": (0.5, 1.0, 0.50),
}


@pytest.mark.parametrize("symbol", sorted(EXCHANGE_TERMS))
def test_preset_matches_exchange_terms(symbol: str) -> None:
    spec = get_contract(symbol)
    multiplier, tick_size, tick_value = EXCHANGE_TERMS[symbol]
    assert (spec.symbol, spec.multiplier, spec.tick_size, spec.months) == (
        symbol,
        multiplier,
        tick_size,
        "HMUZ",
    )
    assert spec.tick_value == pytest.approx(tick_value, abs=1e-12)
    assert spec.commission_per_side > 0 and spec.initial_margin > 0 and spec.currency == "USD"


def test_rty_defaults_are_the_documented_assumptions() -> None:
    rty = get_contract("RTY")
    assert (rty.name, rty.exchange, rty.commission_per_side, rty.initial_margin) == (
        "E-mini Russell 2000",
        "CME",
        2.50,
        7_000.0,
    )


def test_micro_is_a_tenth_of_its_emini() -> None:
    for micro, emini in (("M2K", "RTY"), ("MES", "ES"), ("MNQ", "NQ"), ("MYM", "YM")):
        assert CONTRACTS[micro].multiplier * 10 == CONTRACTS[emini].multiplier
        assert CONTRACTS[micro].initial_margin * 10 == pytest.approx(CONTRACTS[emini].initial_margin)


def test_get_contract_is_case_insensitive() -> None:
    assert get_contract(" rty ") is get_contract("RTY")


def test_unknown_contract_suggests_and_lists_valid_symbols() -> None:
    with pytest.raises(
        ParameterError, match=r"unknown contract 'RTX' \(did you mean 'RTY'\?\); valid: RTY, M2K"
    ):
        get_contract("RTX")


def test_spec_is_frozen_and_overridable() -> None:
    rty = get_contract("RTY")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rty.commission_per_side = 1.0  # type: ignore[misc]
    cheaper = rty.with_(commission_per_side=1.25)
    assert cheaper.commission_per_side == 1.25 and rty.commission_per_side == 2.50
    assert dataclasses.replace(rty, initial_margin=9_000.0).initial_margin == 9_000.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tick_size": 0.0}, "tick_size must be > 0"),
        ({"multiplier": -50.0}, "multiplier must be > 0"),
        ({"commission_per_side": -1.0}, "commission_per_side must be >= 0"),
        ({"months": "HMQA"}, "months must be letters"),
    ],
)
def test_spec_rejects_impossible_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ParameterError, match=f"RTY: {message}"):
        get_contract("RTY").with_(**changes)


def test_spec_fields_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        ContractSpec("RTY", "E-mini Russell 2000", "CME", 50.0, 0.1, 2.5, 7000.0)  # type: ignore[misc]


# --- tick rounding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "tick_size", "mode", "expected"),
    [
        # The analysis's stop: S2 2,003.5 minus a 13.37-point offset = 1,990.13, between ticks.
        (2003.5 - 13.37, 0.1, "down", 1990.1),
        (2003.5 - 13.37, 0.1, "up", 1990.2),
        (2003.5 - 13.37, 0.1, "nearest", 1990.1),
        # Float noise just above a tick must not push "up" to the next tick, nor noise below push "down".
        (1990.0000000001, 0.1, "up", 1990.0),
        (1989.9999999999, 0.1, "down", 1990.0),
        (0.1 + 0.2, 0.1, "up", 0.3),
        (1990.15, 0.1, "nearest", 1990.2),  # half a tick rounds up
        (5123.13, 0.25, "nearest", 5123.25),
        (5123.12, 0.25, "nearest", 5123.0),
        (5123.01, 0.25, "up", 5123.25),
        (42_017.5, 1.0, "down", 42_017.0),
        (-3.37, 0.1, "down", -3.4),
    ],
)
def test_round_to_tick_scalar(price: float, tick_size: float, mode: str, expected: float) -> None:
    result = round_to_tick(price, tick_size, mode)  # type: ignore[arg-type]
    assert isinstance(result, float)
    assert result == expected  # exact: results are clean decimals


def test_round_to_tick_array_keeps_shape_and_nan() -> None:
    prices = np.array([[2003.5 - 13.37, np.nan], [1990.0000000001, 2000.05]])
    np.testing.assert_array_equal(
        round_to_tick(prices, 0.1, "up"), np.array([[1990.2, np.nan], [1990.0, 2000.1]])
    )
    assert isinstance(round_to_tick([1.0, 2.0], 0.25), np.ndarray)


def test_round_to_tick_is_idempotent_on_every_tick_of_a_range() -> None:
    prices = np.round(np.arange(19_000, 21_000) * 0.1, 1)
    for mode in ("nearest", "up", "down"):
        np.testing.assert_array_equal(round_to_tick(prices, 0.1, mode), prices)  # type: ignore[arg-type]


def test_round_to_tick_rejects_bad_mode_and_tick() -> None:
    with pytest.raises(
        ParameterError, match=r"mode must be one of nearest, up, down, got 'dwn' \(did you mean"
    ):
        round_to_tick(1.0, 0.1, "dwn")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="tick_size must be > 0"):
        round_to_tick(1.0, 0.0)


# --- codes, file names, calendar -----------------------------------------------------------------------


def test_month_codes_cover_the_year_in_order() -> None:
    assert "".join(MONTH_CODES) == "FGHJKMNQUVXZ"
    assert [MONTH_CODES[c] for c in "HMUZ"] == [3, 6, 9, 12]


@pytest.mark.parametrize(
    ("root", "year", "month", "code"),
    [
        ("RTY", 2025, 6, "RTYM25"),
        ("rty", 2026, 9, "RTYU26"),
        ("ES", 2027, 12, "ESZ27"),
        ("MYM", 2030, 3, "MYMH30"),
    ],
)
def test_contract_code_round_trips(root: str, year: int, month: int, code: str) -> None:
    assert contract_code(root, year, month) == code
    assert parse_contract_code(code) == (root.upper(), year, month)


def test_parse_contract_code_accepts_four_digit_years_and_rejects_junk() -> None:
    assert parse_contract_code("M2KZ2024") == ("M2K", 2024, 12)
    with pytest.raises(ParameterError, match="not a contract code"):
        parse_contract_code("RTY2025")


def test_parse_contract_file_name() -> None:
    assert parse_contract_file_name("RTY_202609.csv") == ("RTY", 2026, 9)
    assert parse_contract_file_name("es_202712") == ("ES", 2027, 12)
    for bad in ("RTY_202613.csv", "RTY-202609.csv", "RTY_2026.csv"):
        with pytest.raises(ParameterError, match="not a contract file name"):
            parse_contract_file_name(bad)


@pytest.mark.parametrize(
    ("symbol", "year", "month", "expiry"),
    [
        # The Yahoo front-month file jumps on exactly these days (data README): RTYZ24, RTYH25, RTYM25.
        ("RTY", 2024, 12, dt.date(2024, 12, 20)),
        ("RTY", 2025, 3, dt.date(2025, 3, 21)),
        ("RTY", 2025, 6, dt.date(2025, 6, 20)),
        ("M2K", 2026, 9, dt.date(2026, 9, 18)),
        ("ES", 2027, 12, dt.date(2027, 12, 17)),
        ("NQ", 2026, 3, dt.date(2026, 3, 20)),
        # Third Friday on the 15th (earliest possible) and on the 21st (latest possible).
        ("YM", 2030, 3, dt.date(2030, 3, 15)),
        ("MES", 2025, 12, dt.date(2025, 12, 19)),
        # Juneteenth fell on the third Friday of June 2026: last trading day Thursday the 18th.
        ("RTY", 2026, 6, dt.date(2026, 6, 18)),
        # Good Friday 21 March 2008 was the third Friday: the contract expired on Thursday the 20th.
        ("ES", 2008, 3, dt.date(2008, 3, 20)),
    ],
)
def test_expiry_is_third_friday_or_business_day_before(
    symbol: str, year: int, month: int, expiry: dt.date
) -> None:
    assert expiry_date(symbol, year, month) == expiry


# Last trading days of every RTY contract since CME listed it in July 2017 (RTYU17), written out from a
# wall calendar: the third Friday, except June 2026 and June 2027, whose third Fridays are Juneteenth
# (observed on Friday 18 June in 2027, the 19th being a Saturday), so trading ends on the Thursday.
RTY_EXPIRIES = {
    2017: ("09-15", "12-15"),
    2018: ("03-16", "06-15", "09-21", "12-21"),
    2019: ("03-15", "06-21", "09-20", "12-20"),
    2020: ("03-20", "06-19", "09-18", "12-18"),
    2021: ("03-19", "06-18", "09-17", "12-17"),
    2022: ("03-18", "06-17", "09-16", "12-16"),
    2023: ("03-17", "06-16", "09-15", "12-15"),
    2024: ("03-15", "06-21", "09-20", "12-20"),
    2025: ("03-21", "06-20", "09-19", "12-19"),
    2026: ("03-20", "06-18", "09-18", "12-18"),
    2027: ("03-19", "06-17", "09-17", "12-17"),
}


@pytest.mark.parametrize("year", sorted(RTY_EXPIRIES))
def test_rty_expiries_of_every_listed_year(year: int) -> None:
    months = (9, 12) if year == 2017 else (3, 6, 9, 12)
    got = [f"{expiry_date('RTY', year, month):%m-%d}" for month in months]
    assert tuple(got) == RTY_EXPIRIES[year]


def test_expiry_rejects_unlisted_month() -> None:
    with pytest.raises(ParameterError, match="RTY lists no contract in month 7"):
        expiry_date("RTY", 2026, 7)


@pytest.mark.parametrize(
    ("year", "month", "days", "expected"),
    [
        (2025, 3, 0, dt.date(2025, 3, 21)),
        (2025, 3, 5, dt.date(2025, 3, 14)),
        (2024, 12, 5, dt.date(2024, 12, 13)),
        # Counting back from Friday 18 Sep 2026 skips Labor Day (7 Sep) and the weekends.
        (2026, 9, 9, dt.date(2026, 9, 4)),
        (2026, 9, 40, dt.date(2026, 7, 23)),
        # From the Juneteenth-shifted expiry (Thursday 18 June 2026).
        (2026, 6, 1, dt.date(2026, 6, 17)),
        # RTYZ18 (21 Dec 2018): the 12th trade date back is 5 Dec, the Bush day of mourning, which CME
        # booked as an abbreviated trade date (rtystrat.data.calendar); the 13th is 4 Dec.
        (2018, 12, 12, dt.date(2018, 12, 5)),
        (2018, 12, 13, dt.date(2018, 12, 4)),
    ],
)
def test_roll_date_counts_exchange_business_days(year: int, month: int, days: int, expected: dt.date) -> None:
    assert roll_date("RTY", year, month, business_days_before=days) == expected


def test_roll_date_rejects_negative_days() -> None:
    with pytest.raises(ParameterError, match="business_days_before must be >= 0"):
        roll_date("RTY", 2025, 3, business_days_before=-1)
