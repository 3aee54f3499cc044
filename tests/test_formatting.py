"""One way to write a value in every report: counts, money, ratios, times, the header facts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rtystrat.analysis.formatting import config_facts, format_time, format_value, run_facts


@pytest.mark.parametrize(
    ("key", "value", "text"),
    [
        ("# Trades", 3.0, "3"),
        ("Bars", 12_345.0, "12,345"),
        ("contracts", 2.0, "2"),  # a trade-log count stored as float
        ("Duration [days]", 455.0, "455"),
        ("Duration [days]", 4.5, "4.50"),
        ("Return [%]", 1234.5, "1,234.50"),
        ("Profit Factor", math.inf, "inf"),
        ("Max. Consecutive Wins", math.inf, "inf"),
        ("Sharpe Ratio", math.nan, "n/a"),
        ("commission_per_side", None, "n/a"),
        ("ambiguous", np.bool_(True), "True"),
        ("exit_reason", "target", "target"),
        ("entry_time", pd.Timestamp("2025-03-13"), "2025-03-13"),
        ("entry_time", pd.Timestamp("2025-03-13 09:31", tz="America/Chicago"), "2025-03-13 09:31"),
        ("duration", pd.Timedelta(days=3), "3 days"),
        ("duration", pd.Timedelta(hours=5), "0 days 05:00:00"),
    ],
)
def test_format_value(key: str, value: object, text: str) -> None:
    assert format_value(key, value) == text


def test_run_facts_say_span_bars_and_trades_in_the_singular_for_one() -> None:
    index = pd.date_range("2024-01-02", periods=3, freq="D")
    one = pd.DataFrame({"pnl_net": [1.0]})
    assert run_facts(index, one) == ["2024-01-02 → 2024-01-04", "3 bars", "1 trade"]
    assert run_facts(index, one.iloc[:0])[-1] == "0 trades"
    assert format_time(pd.Timestamp("2024-01-02 17:00")) == "2024-01-02 17:00"


def test_config_facts_keep_the_settings_that_are_set_in_a_fixed_order() -> None:
    config = {"fill_policy": "pessimistic", "cash": 100_000.0, "commission_per_side": None, "runonce": True}
    assert config_facts(config) == [("cash", 100_000.0), ("fill_policy", "pessimistic")]
