"""Offsets: parsing every accepted form, conversion to points, and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from rtystrat.errors import ParameterError
from rtystrat.signals.offsets import Offset, parse_offset


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("13pt", 13.0, "pt"),
        ("13", 13.0, "pt"),
        (13, 13.0, "pt"),
        (12.5, 12.5, "pt"),
        (" 13 pts ", 13.0, "pt"),
        ("130tick", 130.0, "tick"),
        ("130t", 130.0, "tick"),
        ("130 ticks", 130.0, "tick"),
        ("0.5%", 0.5, "pct"),
        ("0.5pct", 0.5, "pct"),
        ("1.5atr", 1.5, "atr"),
        ("1.5ATR", 1.5, "atr"),
        (".25atr", 0.25, "atr"),
        ("0", 0.0, "pt"),
    ],
)
def test_parse_offset_accepts_every_documented_form(text: str | float, value: float, unit: str) -> None:
    assert parse_offset(text) == Offset(value, unit)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (Offset(13, "pt"), "13pt"),
        (Offset(130, "tick"), "130tick"),
        (Offset(0.5, "pct"), "0.5%"),
        (Offset(1.5, "atr"), "1.5atr"),
    ],
)
def test_offset_text_round_trips(offset: Offset, expected: str) -> None:
    assert str(offset) == expected
    assert parse_offset(str(offset)) == offset


def test_to_points_in_each_unit() -> None:
    # Hand-computed: 130 ticks of 0.1 = 13; 0.5 % of 2,003 = 10.015; 1.5 × ATR 20 = 30.
    assert parse_offset("13pt").to_points(2003.0) == 13.0
    assert parse_offset("130tick").to_points(2003.0, tick_size=0.1) == pytest.approx(13.0, abs=1e-12)
    assert parse_offset("0.5%").to_points(2003.0) == pytest.approx(10.015, abs=1e-12)
    assert parse_offset("1.5atr").to_points(2003.0, atr=20.0) == 30.0


def test_to_points_is_vectorised_over_prices_and_atr() -> None:
    prices = np.array([2000.0, 1000.0, np.nan])
    atr = np.array([10.0, 20.0, 30.0])
    np.testing.assert_allclose(parse_offset("1%").to_points(prices), [20.0, 10.0, np.nan])
    np.testing.assert_allclose(parse_offset("2atr").to_points(prices, atr=atr), [20.0, 40.0, 60.0])
    assert parse_offset("13").to_points(prices) == 13.0  # a scalar broadcasts


@pytest.mark.parametrize("text", ["-13pt", "thirteen", "13 lots", "", "nan", "inf", None, True, [13]])
def test_bad_offsets_raise_one_line_naming_the_parameter_and_forms(text: object) -> None:
    with pytest.raises(ParameterError) as info:
        parse_offset(text, name="stop_offset")  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("stop_offset=")
    assert "'130tick'" in message and "'1.5atr'" in message


def test_tick_and_atr_offsets_need_their_inputs() -> None:
    with pytest.raises(ParameterError, match="tick size"):
        parse_offset("5tick").to_points(2000.0)
    with pytest.raises(ParameterError, match="ATR"):
        parse_offset("1atr").to_points(2000.0)


def test_offset_refuses_negative_distance_and_unknown_unit() -> None:
    with pytest.raises(ParameterError):
        Offset(-1.0)
    with pytest.raises(ParameterError):
        Offset(1.0, "lots")  # type: ignore[arg-type]
