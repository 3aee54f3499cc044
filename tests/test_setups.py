"""The two setups on crafted frames with known levels, their parameter checks, and freedom from look-ahead."""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rtystrat.data.bars import load_bars
from rtystrat.errors import DataError, ParameterError
from rtystrat.execution.config import RunConfig
from rtystrat.execution.fills import F_BAR, F_ENTRY_BAR, F_ENTRY_PRICE, F_PRICE, simulate_plans
from rtystrat.signals import columns
from rtystrat.signals.columns import keep_columns, session_bars
from rtystrat.signals.features import indicator_frame
from rtystrat.signals.parameters import Parameter
from rtystrat.signals.plans import ENTRY_LIMIT, ENTRY_MARKET, ENTRY_STOP, LONG, SHORT, Plans
from rtystrat.signals.setups import (
    BEARISH_BREAKDOWN_PARAMETERS,
    BULLISH_REVERSAL_PARAMETERS,
    bearish_breakdown,
    bullish_reversal,
)
from rtystrat.signals.targets import split_contracts

# The analysis's March-2025 levels, and made-up April levels for the next period.
MARCH = {"P": 2210.0, "S1": 2100.0, "S2": 2003.0, "S3": 1877.0, "R1": 2300.0}
APRIL = {"P": 2100.0, "S1": 2020.0, "S2": 1950.0, "S3": 1800.0, "R1": 2200.0}
DATES = pd.DatetimeIndex(
    pd.bdate_range("2025-03-24", "2025-04-04"), name="time"
)  # two weeks: 03-24 .. 03-31 (March's last bar), 04-01 .. 04-04


def crafted(
    lows: Sequence[float], closes: Sequence[float], **columns: Sequence[float] | float
) -> pd.DataFrame:
    """Return an indicator frame over DATES with the given lows/closes, March/April levels and indicators."""
    close = np.asarray(closes, dtype=float)
    low = np.asarray(lows, dtype=float)
    frame = pd.DataFrame({"open": close, "high": close + 5.0, "low": low, "close": close}, index=DATES)
    frame["volume"] = 1000.0
    in_march = frame.index.month == 3
    for name in MARCH:
        frame[name] = np.where(in_march, MARCH[name], APRIL[name])
    defaults: Mapping[str, float] = {"sma_50": 2230.0, "sma_100": 2280.0, "rsi_14": 25.0, "atr_14": 20.0}
    for name, value in {**defaults, **columns}.items():
        frame[name] = np.broadcast_to(np.asarray(value, dtype=float), len(frame)).copy()
    return frame


def rows(plans: Plans) -> list[str]:
    return [f"{DATES[i]:%m-%d}" for i in plans.signal_rows()]


def at(plans: Plans, date: str) -> tuple[float, float, float]:
    i = DATES.get_loc(pd.Timestamp(f"2025-{date}"))
    plans = plans.dense()
    return plans.entry_price[i], plans.stop[i], plans.target[i]


# Bullish frame: approach S2 2,003 from above, touch it on 03-26, then April (S2 1,950) with an RSI gap.
BULL_LOWS = [2040, 2010, 2000, 2015, 2030, 2035, 1960, 1955, 1940, 1970]
BULL_CLOSES = [2050, 2030, 2020, 2040, 2040, 2040, 1990, 1985, 1960, 1980]
BULL_RSI = [25, 25, 25, 25, 25, 25, 25, 35, 25, 25]


def test_bullish_limit_orders_on_every_close_above_s2_at_the_next_bars_levels_and_period() -> None:
    plans = bullish_reversal(crafted(BULL_LOWS, BULL_CLOSES, rsi_14=BULL_RSI)).dense()
    # Every close above the limit orders: 2,003 in March; 03-31 (March's last bar) places April's order
    # (1,950) and counts in April's period; 04-02 has RSI 35; the last row never trades. Whether a period
    # already had its trade is the state machine's business, not the plan's.
    assert rows(plans) == ["03-24", "03-25", "03-26", "03-27", "03-28", "03-31", "04-01", "04-03"]
    signalled = plans.direction != 0
    assert plans.period[signalled].tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    assert at(plans, "03-24") == (2003.0, 1990.0, 2210.0)
    assert at(plans, "03-31") == (1950.0, 1937.0, 2100.0)
    assert set(plans.direction[signalled]) == {LONG}
    assert set(plans.entry_type[signalled]) == {ENTRY_LIMIT}
    assert (plans.max_hold, plans.entry_valid_bars, plans.anchor_to_fill) == (10, 1, False)
    assert np.isnan(plans.invalidation).all()
    assert not plans.reentry


def test_bullish_reentry_only_marks_the_plans() -> None:
    frame = crafted(BULL_LOWS, BULL_CLOSES, rsi_14=BULL_RSI)
    once, every = bullish_reversal(frame), bullish_reversal(frame, reentry=True)
    assert every.reentry and rows(every) == rows(once)
    np.testing.assert_array_equal(every.period, once.period)


def test_bullish_without_rsi_filter_orders_regardless_of_rsi() -> None:
    plans = bullish_reversal(crafted(BULL_LOWS, BULL_CLOSES, rsi_14=np.nan), rsi_max=None)
    assert rows(plans) == ["03-24", "03-25", "03-26", "03-27", "03-28", "03-31", "04-01", "04-02", "04-03"]


def test_aprils_order_is_placed_once_the_march_trade_is_over() -> None:
    # The reported case in small: March's trade (limit 2,003 filled on 03-25, stop 100 points under S2) is
    # still open on 04-01, when price trades through April's S2 (1,950; low 1,945) — no order was working,
    # so April is not used. The time stop (6 sessions) exits at 04-02's open; at its close the strategy
    # places April's limit, filled on 04-03 at 1,950 (open 1,960, low 1,940), held to the last close.
    lows = [2040, 2000, 2015, 2030, 2035, 2035, 1945, 1955, 1940, 1970]
    closes = [2050, 2030, 2040, 2040, 2040, 2040, 1990, 1985, 1960, 1980]
    frame = crafted(lows, closes)
    plans = bullish_reversal(frame, stop_offset="100pt", max_hold=6)
    config = RunConfig()
    trades, _ = simulate_plans(frame, plans, config.fill_settings(), config.cash)
    got = [
        (f"{DATES[int(t[F_ENTRY_BAR])]:%m-%d}", t[F_ENTRY_PRICE], f"{DATES[int(t[F_BAR])]:%m-%d}", t[F_PRICE])
        for t in trades
    ]
    assert got == [("03-25", 2003.0, "04-02", 1984.9), ("04-03", 1950.0, "04-04", 1980.0)]


def test_bullish_bounce_buys_next_open_after_the_first_bar_that_holds_s2() -> None:
    frame = crafted(BULL_LOWS, BULL_CLOSES, rsi_14=BULL_RSI)
    plans = bullish_reversal(frame, entry="bounce").dense()
    # 03-26: low 2,000 <= 2,003 < close 2,020 and low above the stop 1,990; 04-03 likewise at 1,950.
    assert rows(plans) == ["03-26", "04-03"]
    assert plans.period[[2, 8]].tolist() == [0, 1]  # a bar event counts in its own bar's period
    assert plans.entry_type[2] == ENTRY_MARKET and np.isnan(plans.entry_price[2])
    assert (plans.stop[2], plans.target[2]) == (1990.0, 2210.0)
    # With a 10-point band: 03-25 (low 2,010 <= 2,013 < close 2,030), 03-26, 04-01 (low 1,960 <= 1,960).
    assert rows(bullish_reversal(frame, entry="bounce", entry_band="10pt")) == ["03-25", "03-26", "04-01"]


@pytest.mark.parametrize(
    ("params", "entry", "stop", "target"),
    [
        ({"target": "mid"}, 2003.0, 1990.0, 2106.5),
        ({"target": "r1"}, 2003.0, 1990.0, 2300.0),
        ({"target": "150pt"}, 2003.0, 1990.0, 2153.0),
        ({"entry_band": "2pt", "target": "1%"}, 2005.0, 1990.0, 2025.05),
        ({"stop_offset": "1atr"}, 2003.0, 1983.0, 2210.0),
        ({"stop_offset": "0.5%"}, 2003.0, 1992.985, 2210.0),
        ({"stop_offset": "130tick"}, 2003.0, 1990.0, 2210.0),
    ],
)
def test_bullish_prices_for_each_target_and_offset_form(
    params: dict[str, Any], entry: float, stop: float, target: float
) -> None:
    plans = bullish_reversal(crafted(BULL_LOWS, BULL_CLOSES, rsi_14=BULL_RSI), **params)
    np.testing.assert_allclose(at(plans, "03-24"), (entry, stop, target), atol=1e-9)


@pytest.mark.parametrize(
    ("trail", "expected"),
    [("8pt", [8.0] * 10), ("1atr", [20.0] * 10), ("1%", [c / 100 for c in BULL_CLOSES])],
)
def test_bullish_trail_is_a_distance_in_points_at_every_close(trail: str, expected: list[float]) -> None:
    frame = crafted(BULL_LOWS, BULL_CLOSES, rsi_14=BULL_RSI)
    np.testing.assert_allclose(bullish_reversal(frame, trail=trail).trail, expected)
    assert bullish_reversal(frame).trail is None


def test_tick_offsets_use_the_frames_tick_size() -> None:
    frame = crafted(BULL_LOWS, BULL_CLOSES, rsi_14=BULL_RSI)
    frame.attrs["tick_size"] = 0.25
    assert at(bullish_reversal(frame, stop_offset="130tick"), "03-24")[1] == 2003.0 - 32.5


def test_bullish_rows_with_target_below_the_entry_are_skipped() -> None:
    # A 300-point band puts the limit (2,303) above the pivot (2,210): no plan can make money.
    assert rows(bullish_reversal(crafted(BULL_LOWS, BULL_CLOSES), entry_band="300pt")) == []


# Bearish frame: March level = round hundred under S2 2,003 = 2,000; April's S2 1,950 → level 1,900.
BEAR_LOWS = [2040, 2005, 1990, 1985, 1980, 1980, 1950, 1890, 1880, 1880]
BEAR_CLOSES = [2050, 2010, 1995, 2005, 1990, 1985, 1960, 1895, 1905, 1890]


def test_bearish_close_below_round_level_sells_next_open() -> None:
    frame = crafted(BEAR_LOWS, BEAR_CLOSES)
    plans = bearish_breakdown(frame).dense()
    # 03-26 closes below 2,000 after 2,010; 03-28 does it again (March's period: the state machine takes it
    # only if 03-26's entry did not fill); 04-02 closes below April's 1,900 after 1,960.
    assert rows(plans) == ["03-26", "03-28", "04-02"]
    assert plans.period[plans.direction != 0].tolist() == [0, 0, 1]
    i, j = DATES.get_loc("2025-03-26"), DATES.get_loc("2025-04-02")
    assert plans.entry_type[i] == ENTRY_MARKET and plans.direction[i] == SHORT
    assert (plans.stop[i], plans.target[i]) == (2060.0, 1880.0)
    assert (plans.stop[j], plans.target[j]) == (1960.0, 1803.0)
    np.testing.assert_array_equal(plans.invalidation, frame["sma_100"].to_numpy())
    assert plans.max_hold == 40
    assert bearish_breakdown(frame, reentry=True).reentry and not plans.reentry


def test_bearish_sell_stop_one_tick_under_the_level_while_the_close_holds_it() -> None:
    plans = bearish_breakdown(crafted(BEAR_LOWS, BEAR_CLOSES), entry="stop").dense()
    # Closes at or above 2,000: 03-24, 03-25, 03-27; 03-31 places April's stop at 1,899.9 (close 1,985 >=
    # 1,900, April's period); 04-01 and 04-03 (close 1,905) too.
    assert rows(plans) == ["03-24", "03-25", "03-27", "03-31", "04-01", "04-03"]
    assert plans.period[plans.direction != 0].tolist() == [0, 0, 0, 1, 1, 1]
    assert set(plans.entry_type[plans.direction != 0]) == {ENTRY_STOP}
    np.testing.assert_allclose(at(plans, "03-24"), (1999.9, 2060.0, 1880.0))
    np.testing.assert_allclose(at(plans, "03-31"), (1899.9, 1960.0, 1803.0))


def test_bearish_trend_filter_needs_the_close_below_both_smas() -> None:
    frame = crafted(BEAR_LOWS, BEAR_CLOSES, sma_50=[2230] * 2 + [1990] + [2230] * 7)
    assert rows(bearish_breakdown(frame)) == ["03-28", "04-02"]  # 03-26 closed above SMA50 1,990
    assert rows(bearish_breakdown(frame, trend_filter=False)) == ["03-26", "03-28", "04-02"]


def test_bearish_level_s2_and_invalidation_choices() -> None:
    frame = crafted(BEAR_LOWS, BEAR_CLOSES)
    plans = bearish_breakdown(frame, level="s2", invalidation="sma_50", stop_offset="1.5atr").dense()
    # Level 2,003: 03-26 closes at 1,995 below it after 2,010; stop 2,003 + 1.5 × 20.
    assert rows(plans)[0] == "03-26"
    assert plans.stop[2] == 2033.0
    np.testing.assert_array_equal(plans.invalidation, frame["sma_50"].to_numpy())
    assert bearish_breakdown(frame, invalidation="none").invalidation is None
    assert np.isnan(bearish_breakdown(frame, invalidation="none").dense().invalidation).all()


def test_bearish_rows_with_target_above_the_entry_are_skipped() -> None:
    # S3 + 200 = 2,077 lies above the level: shorting there would aim at a loss.
    assert rows(bearish_breakdown(crafted(BEAR_LOWS, BEAR_CLOSES), target_offset="200pt")) == []


def test_no_plans_while_levels_are_missing() -> None:
    frame = crafted(BULL_LOWS, BULL_CLOSES)
    frame.loc[frame.index.month == 3, list(MARCH)] = np.nan
    frame["rsi_14"] = BULL_RSI
    assert rows(bullish_reversal(frame)) == ["03-31", "04-01", "04-03"]  # only April's orders


def test_missing_column_is_a_one_line_data_error() -> None:
    frame = crafted(BULL_LOWS, BULL_CLOSES).drop(columns=["rsi_14"])
    with pytest.raises(DataError, match="column 'rsi_14' needed by bullish_reversal is missing"):
        bullish_reversal(frame)
    assert rows(bullish_reversal(frame, rsi_max=None))  # the column is needed only by the filter


@pytest.mark.parametrize(
    ("setup", "params", "message"),
    [
        (
            bullish_reversal,
            {"stop_ofset": "13pt"},
            "unknown parameter 'stop_ofset' (did you mean 'stop_offset'?)",
        ),
        (
            bullish_reversal,
            {"stop_offset": "-13pt"},
            "stop_offset='-13pt' is negative: offsets are distances >= 0 and the setup sets their side "
            "(try '13pt')",
        ),
        (bullish_reversal, {"stop_offset": -5}, "stop_offset=-5 is negative: offsets are distances >= 0"),
        (bullish_reversal, {"target": "-5"}, "target='-5' is negative: offsets are distances >= 0"),
        (bullish_reversal, {"stop_offset": "-abc"}, "stop_offset='-abc' is not valid; expected an offset"),
        (bullish_reversal, {"stop_offset": "0pt"}, "the distance must be > 0"),
        (bullish_reversal, {"target": "0pt"}, "must lie above the entry"),
        (bullish_reversal, {"target": "pivott"}, "did you mean 'pivot'"),
        (bullish_reversal, {"entry": "market"}, "expected one of 'limit', 'bounce'"),
        (bullish_reversal, {"rsi_max": 150}, "out of range"),
        (bullish_reversal, {"max_hold": 2.5}, "expected an integer >= 0"),
        (bearish_breakdown, {"round_step": 0}, "expected a number > 0"),
        (bearish_breakdown, {"target_offset": "-3pt"}, "target_offset='-3pt' is negative"),
        (bearish_breakdown, {"trend_filter": "maybe"}, "expected true or false"),
    ],
)
def test_bad_parameters_raise_one_line_errors(setup: Any, params: dict[str, Any], message: str) -> None:
    with pytest.raises(ParameterError) as info:
        setup(crafted(BULL_LOWS, BULL_CLOSES), **params)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_parameter_error_lists_the_valid_names() -> None:
    with pytest.raises(ParameterError, match="valid: level, round_step, entry, trend_filter"):
        BEARISH_BREAKDOWN_PARAMETERS.validate({"lvl": "s2"}, owner="bearish_breakdown")


def test_text_values_from_a_command_line_are_converted() -> None:
    values = BULLISH_REVERSAL_PARAMETERS.validate(
        {
            "stop_offset": "20",
            "rsi_max": "none",
            "max_hold": "5",
            "reentry": "true",
            "target": "R1",
            "trail": "1.5ATR",
        }
    )
    assert values == {
        "entry": "limit",
        "entry_band": "0pt",
        "stop_offset": "20pt",
        "target": "r1",
        "targets": None,
        "breakeven": 0,
        "breakeven_offset": "0tick",
        "trail": "1.5atr",
        "rsi_max": None,
        "max_hold": 5,
        "reentry": True,
    }


def test_scale_out_targets_from_a_command_line_are_canonical() -> None:
    values = BULLISH_REVERSAL_PARAMETERS.validate({"targets": " MID , 150PT:2", "breakeven": "1"})
    assert (values["targets"], values["breakeven"]) == ("mid:1,150pt:2", 1)
    with pytest.raises(ParameterError, match="give target='r1' or targets='mid:1,pivot:1', not both"):
        BULLISH_REVERSAL_PARAMETERS.validate({"target": "r1", "targets": "mid:1,pivot:1"})
    with pytest.raises(ParameterError, match=r"targets='mdi:1,pivot:1': 'mdi' is not a target.*'mid'"):
        BULLISH_REVERSAL_PARAMETERS.validate({"targets": "mdi:1,pivot:1"})


@pytest.mark.parametrize(
    ("contracts", "shares", "legs"),
    [
        (2, (1, 1), [1, 1]),
        (3, (1, 1), [1, 2]),  # tie: the leftover goes to the last target
        (1, (1, 1), [0, 1]),  # one contract: the first leg is dropped, a single target at the last
        (5, (1, 2, 2), [1, 2, 2]),
        (4, (1, 1, 1), [1, 1, 2]),
        (10, (3, 1), [7, 3]),  # 7.5 / 2.5: the remainders tie, the later leg takes the leftover
        (7, (0.5, 0.25, 0.25), [3, 2, 2]),  # 3.5 / 1.75 / 1.75: .75 beats .5, two leftovers
        (3, (1, 1, 1), [1, 1, 1]),  # 3 × 1/3 is 0.9999999999999999 in floats: still 1 each
    ],
)
def test_split_contracts_largest_remainder(contracts: int, shares: tuple, legs: list[int]) -> None:
    assert split_contracts(contracts, shares) == legs
    assert sum(legs) == contracts


def test_every_parameter_is_documented_and_defaults_quote_the_analysis() -> None:
    for table in (BULLISH_REVERSAL_PARAMETERS, BEARISH_BREAKDOWN_PARAMETERS):
        described = table.describe()
        assert (described["doc"].str.len() > 10).all()
        assert (described.drop(index="reentry")["source"].str.len() > 10).all()
    assert BULLISH_REVERSAL_PARAMETERS["stop_offset"].source == "Stop 1,990: S2 (2,003) − 13."


def test_with_defaults_replaces_and_validates() -> None:
    table = BULLISH_REVERSAL_PARAMETERS.with_defaults(stop_offset=20)
    assert table.defaults()["stop_offset"] == "20pt"
    with pytest.raises(ParameterError, match="did you mean 'max_hold'"):
        BULLISH_REVERSAL_PARAMETERS.with_defaults(max_hod=3)


def test_validating_a_validated_dict_again_converts_nothing_and_gives_a_fresh_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = BULLISH_REVERSAL_PARAMETERS.with_defaults()  # a table of its own: nothing validated yet
    given = {"stop_offset": "20", "rsi_max": "none", "max_hold": "5", "target": "R1", "trail": "1.5ATR"}
    first = table.validate(given)
    converted = []
    convert = Parameter.convert
    monkeypatch.setattr(
        Parameter, "convert", lambda self, value, **kw: converted.append(value) or convert(self, value, **kw)
    )
    again = table.validate(first)  # what a setup does with the parameters a sweep validated
    assert again == first and again is not first and converted == []
    again["stop_offset"] = "1pt"  # the caller's copy: the next call does not see it
    assert table.validate(first)["stop_offset"] == "20pt"
    assert table.validate(given) == first and converted == []
    # values equal across types are validated each on their own: True is not the integer 1
    assert table.validate({"max_hold": 1})["max_hold"] == 1
    with pytest.raises(ParameterError, match="max_hold=True is not valid"):
        table.validate({"max_hold": True})
    with pytest.raises(ParameterError, match="max_hold=True is not valid"):
        table.validate({"max_hold": True})  # a failure is never remembered
    with pytest.raises(ParameterError, match="stop_offset=\\['20pt'\\] is not"):
        table.validate({"stop_offset": ["20pt"]})  # unhashable: validated without the memo
    assert converted == [1, True, True, ["20pt"]]


@pytest.mark.parametrize(
    "given",
    [
        {"stop_offset": "13.123456789", "target": "0.25%", "entry_band": 2, "rsi_max": "45"},
        {"targets": " MID , 150PT:2,r1:0.5", "breakeven": "1", "breakeven_offset": "2t", "trail": "0.5pct"},
        {"entry": "BOUNCE", "reentry": "yes", "max_hold": 7.0, "target": "1.5ATR"},
    ],
)
def test_validated_values_are_their_own_validation(given: dict[str, Any]) -> None:
    """What lets a second validation of a validated dict skip the work: it would return it unchanged."""
    first = BULLISH_REVERSAL_PARAMETERS.with_defaults().validate(given)
    second = BULLISH_REVERSAL_PARAMETERS.with_defaults().validate(first)
    assert [(type(v), v) for v in second.values()] == [(type(v), v) for v in first.values()]


def test_time_stop_counts_sessions_in_bars() -> None:
    daily = pd.date_range("2025-03-03", periods=5, freq="B")
    hourly = pd.date_range("2025-03-02 17:00", periods=23 * 4, freq="h", tz="America/Chicago")
    hourly = hourly[(hourly.hour != 16)]  # the daily maintenance hour: 23 bars per session
    assert session_bars(daily) == 1
    assert session_bars(hourly) == 23


def random_bars(seed: int, n: int = 1000) -> pd.DataFrame:
    """Return seeded RTY-like daily bars: a mean-reverting log price around 2,000 through S2 and S3."""
    rng = np.random.default_rng(seed)
    deviation = np.zeros(n)
    shocks = rng.normal(0.0, 0.022, n)
    for i in range(1, n):
        deviation[i] = 0.98 * deviation[i - 1] + shocks[i]
    close = 2000.0 * np.exp(deviation)
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0.0, 0.004, n))
    spread = np.abs(rng.normal(0.0, 0.01, n)) * close
    frame = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": 1.0,
        },
        index=pd.bdate_range("2020-01-01", periods=n, name="time"),
    )
    return load_bars(frame)


LOOKAHEAD_CASES = [
    (bullish_reversal, {}),
    (bullish_reversal, {"rsi_max": None, "stop_offset": "1atr", "target": "mid"}),
    (bullish_reversal, {"entry": "bounce", "entry_band": "0.5%", "rsi_max": None}),
    (bearish_breakdown, {}),
    (bearish_breakdown, {"entry": "stop", "trend_filter": False, "target_offset": "0.5atr"}),
    (bearish_breakdown, {"level": "s2", "reentry": True}),
]


@pytest.mark.parametrize(("setup", "params"), LOOKAHEAD_CASES)
def test_changing_bars_after_t_never_changes_plans_at_or_before_t(setup: Any, params: dict[str, Any]) -> None:
    rng = np.random.default_rng(7)
    bars = random_bars(seed=10)
    plans = setup(indicator_frame(bars), **params).dense()
    assert np.count_nonzero(plans.direction) >= 3  # the property is only meaningful with signals
    signal_rows = np.flatnonzero(plans.direction)
    # Cut just before, at and after signals (where a leak would show), plus random places.
    cuts = np.r_[signal_rows[:3] - 1, signal_rows[:3], rng.integers(100, len(bars) - 2, size=6)]
    for t in cuts:
        changed = bars.copy()
        later = changed.index > changed.index[t]
        factor = np.exp(rng.normal(0.0, 0.05, later.sum()))
        for column in ("open", "high", "low", "close"):
            changed.loc[later, column] *= factor
        other = setup(indicator_frame(changed), **params).dense()
        for name in ("direction", "entry_type", "entry_price", "stop", "target", "invalidation"):
            np.testing.assert_array_equal(
                getattr(other, name)[: t + 1], getattr(plans, name)[: t + 1], err_msg=name
            )


@pytest.mark.parametrize(
    ("setup", "params"),
    [
        (bullish_reversal, {"rsi_max": None, "reentry": True}),
        (bearish_breakdown, {"entry": "stop", "level": "s2", "trend_filter": False, "reentry": True}),
    ],
)
def test_woodie_levels_are_not_used_by_an_order_placed_before_their_periods_open(
    setup: Any, params: dict[str, Any]
) -> None:
    """Woodie's pivot uses the open of the period it is for: unknown at the close of a week's last bar."""
    bars = random_bars(seed=10, n=400)
    plans = setup(indicator_frame(bars, levels="W:woodie"), **params).dense()
    last_of_week = np.flatnonzero(np.diff(bars.index.isocalendar().week.to_numpy()) != 0)
    assert np.count_nonzero(plans.direction[last_of_week + 1]) >= 5  # orders inside the following weeks
    for t in last_of_week[5:25]:
        changed = bars.copy()
        changed.iloc[t + 1, changed.columns.get_loc("open")] *= 0.97  # only the next week's first open
        changed.iloc[t + 1, changed.columns.get_loc("low")] = changed.iloc[t + 1][["open", "low"]].min()
        other = setup(indicator_frame(changed, levels="W:woodie"), **params).dense()
        for name in ("direction", "entry_price", "stop", "target"):
            np.testing.assert_array_equal(
                getattr(other, name)[: t + 1], getattr(plans, name)[: t + 1], err_msg=f"{name} t={t}"
            )


def test_a_limit_merely_touched_is_not_a_fill_so_the_order_is_renewed() -> None:
    lows = list(BULL_LOWS)
    lows[2] = 2003.0  # 03-26 touches 2,003 without trading through it
    plans = bullish_reversal(crafted(lows, BULL_CLOSES, rsi_14=BULL_RSI))
    assert rows(plans)[:4] == ["03-24", "03-25", "03-26", "03-27"]


def test_entry_prices_are_rounded_to_the_tick_like_the_fill_rules() -> None:
    frame = crafted(BULL_LOWS, BULL_CLOSES, rsi_14=BULL_RSI)
    frame["S2"] = np.where(frame.index.month == 3, 2003.5333, APRIL["S2"])
    assert at(bullish_reversal(frame), "03-24")[0] == 2003.5  # a buy limit rounds down
    assert at(bearish_breakdown(frame, level="s2", entry="stop"), "03-24")[0] == 2003.4  # S2 − 1 tick, down


SWEEP = [
    {"stop_offset": stop, "target": target, "entry": entry, "entry_band": band, "rsi_max": rsi}
    for stop in ("5pt", "1atr")
    for target in ("pivot", "40pt")
    for entry in ("limit", "bounce")
    for band in ("0pt", "3pt", "0.1%", "0.2%", "5tick")
    for rsi in (None, 40.0)
]  # 20 entry settings: more than a frame keeps, so earlier ones are recomputed


def test_kept_columns_give_the_plans_of_a_fresh_computation() -> None:
    frame = indicator_frame(random_bars(seed=10, n=600))
    fresh = [bullish_reversal(frame, **params) for params in SWEEP]
    fresh += [
        bearish_breakdown(frame, entry=entry, level=level)
        for entry in ("close", "stop")
        for level in ("round", "s2")
    ]
    columns = keep_columns(frame)
    assert keep_columns(frame) is columns
    for _ in range(2):  # the second pass reads every entry stage from the cache or recomputes it
        kept = [bullish_reversal(frame, **params) for params in SWEEP]
        kept += [
            bearish_breakdown(frame, entry=e, level=lv) for e in ("close", "stop") for lv in ("round", "s2")
        ]
        for one, other in zip(fresh, kept, strict=True):
            for name in Plans._fields:
                np.testing.assert_array_equal(getattr(one, name), getattr(other, name), err_msg=name)
    assert sum(np.count_nonzero(plans.direction) for plans in fresh) > 50
    with pytest.raises(ValueError, match="read-only"):
        columns.column("close")[0] = 0.0  # shared by every call: nobody may change it
    kept[0].stop[0] = 1.0  # a stop computed for the call belongs to the caller


def test_columns_are_kept_only_for_a_frame_said_to_be_kept_and_dropped_with_it() -> None:
    frame = crafted(BULL_LOWS, BULL_CLOSES, rsi_14=BULL_RSI)
    before = rows(bullish_reversal(frame))
    frame.loc[:, "rsi_14"] = 50.0  # a frame not kept may change between calls
    assert rows(bullish_reversal(frame)) == [] != before
    keep_columns(frame)
    count = len(columns._KEPT)
    del frame
    gc.collect()
    assert len(columns._KEPT) == count - 1
