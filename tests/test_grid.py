"""Prices on the tick grid: storage noise snapped, contracts whose grid the prices do not fit named."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rtystrat
from rtystrat.data.contracts import CONTRACTS
from rtystrat.data.grid import grid_warning, off_grid_share, snap_to_grid
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import indicator_frame_for
from strategies.bullish_reversal import BullishReversal

PRICES = ["open", "high", "low", "close"]


def _bars(values: list[float]) -> pd.DataFrame:
    index = pd.date_range("2025-01-02", periods=len(values))
    return pd.DataFrame({name: values for name in PRICES}, index=index)


def test_snap_moves_float32_noise_onto_the_grid_and_counts_it() -> None:
    # 2336.2 stored as a 32-bit float, and a price a third of a tick off that must stay where it is
    bars = _bars([float(np.float32(2336.2)), 2336.2 + 0.1 / 3, 2003.5])
    snapped = snap_to_grid(bars, 0.1)
    assert snapped["high"].tolist() == [2336.2, 2336.2 + 0.1 / 3, 2003.5]
    assert snapped.attrs["snapped"] == 4  # one price in each of the four columns
    assert bars["high"].iloc[0] == float(np.float32(2336.2))  # the input is not changed


def test_snap_leaves_prices_two_hundredths_of_a_tick_off_alone() -> None:
    bars = _bars([2003.5 + 0.002])  # 0.02 tick: more than storage noise
    assert snap_to_grid(bars, 0.1)["close"].iloc[0] == 2003.5 + 0.002
    assert off_grid_share(bars, 0.1) == 1.0


def test_snap_reads_an_off_grid_32_bit_price_as_its_shortest_decimal() -> None:
    bars = _bars([float(np.float32(1427.02))])  # an expiry-day settlement, stored as 1427.02001953125
    snapped = snap_to_grid(bars, 0.1)
    assert snapped["close"].iloc[0] == 1427.02 and snapped.attrs["snapped"] == 4
    assert off_grid_share(snapped, 0.1) == 1.0


def test_es_prices_on_rty_grid_are_named_as_fitting_es() -> None:
    es = _bars([5000.25, 5000.5, 5000.75, 5001.0, 5001.25, 5001.5, 5001.75, 5002.0])
    line = grid_warning(es, CONTRACTS["RTY"])
    assert line is not None and line.startswith("50% of prices are off RTY's 0.1 tick grid")
    assert "(--contract ES, MES, NQ or MNQ?)" in line
    assert grid_warning(es, CONTRACTS["ES"]) is None


def test_rty_prices_on_es_grid_name_the_russell_contracts() -> None:
    rty = _bars([2003.1, 2003.2, 2003.5, 2004.0, 2004.3, 2004.7])
    line = grid_warning(rty, CONTRACTS["ES"])
    assert line is not None and line.startswith("67% of prices are off ES's 0.25 tick grid")
    assert line.endswith("(--contract RTY or M2K?)")


def test_adjusted_prices_fit_no_preset() -> None:
    adjusted = _bars([101.2345, 99.8761, 100.0123])
    assert grid_warning(adjusted, CONTRACTS["RTY"]).endswith(
        "they fit no preset's grid (adjusted prices or an index?)"
    )


def test_engine_warns_once_per_frame_on_off_grid_prices(caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(3)
    close = 5000 + np.round(np.cumsum(rng.normal(0, 4, 60)) * 4) / 4  # ES quarter points
    bars = pd.DataFrame(
        {"open": close, "high": close + 2.25, "low": close - 1.75, "close": close, "volume": 1.0},
        index=pd.date_range("2025-01-02", periods=60, freq="B", name="time"),
    )
    frame = indicator_frame_for(BullishReversal, bars, RunConfig())
    assert caplog.text.count("off RTY's 0.1 tick grid") == 1
    indicator_frame_for(BullishReversal, frame, RunConfig())  # the prepared frame is not checked again
    assert caplog.text.count("off RTY's 0.1 tick grid") == 1
    caplog.clear()
    indicator_frame_for(BullishReversal, bars, RunConfig(contract="ES"))
    assert "tick grid" not in caplog.text


# --- the real RTY file: every monthly classic level from exact decimals -----------------------------


def _exact_monthly_levels(path: Path) -> dict[str, dict[str, Fraction]]:
    """Return the classic levels each month trades on (from the previous month), in exact fractions.

    The CSV text is read with the csv module; every price is the decimal written in the file rounded to the
    cent, which removes 32-bit storage noise (``2336.199951171875`` is 2,336.2; expiry-day settlements are
    quoted in cents, 1,427.02). The two rows the engine needs repaired are repaired the same way here: the
    Sunday row is dropped, and a high below the open or close is raised to it.
    """
    months: dict[str, list[tuple[Fraction, Fraction, Fraction]]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            day = dt.date.fromisoformat(row["Date"][:10])
            if day.weekday() >= 5:
                continue
            written = [Decimal(row[name]) for name in ("Open", "High", "Low", "Close")]
            cents = [value.quantize(Decimal("0.01")) for value in written]
            noise = [abs(value - cent) for value, cent in zip(written, cents, strict=True)]
            assert max(noise) < Decimal("0.0002"), row
            o, h, lo, c = (Fraction(cent) for cent in cents)
            h, lo = max(h, o, c), min(lo, o, c)
            months.setdefault(f"{day:%Y-%m}", []).append((h, lo, c))
    levels = {}
    keys = sorted(months)
    for previous, month in itertools.pairwise(keys):
        rows = months[previous]
        h, lo, c = max(r[0] for r in rows), min(r[1] for r in rows), rows[-1][2]
        p = (h + lo + c) / 3
        levels[month] = {
            "P": p,
            "S1": 2 * p - h,
            "R1": 2 * p - lo,
            "S2": p - (h - lo),
            "R2": p + (h - lo),
            "S3": lo - 2 * (h - p),
            "R3": h + 2 * (p - lo),
        }
    return levels


def _floor(value: Fraction, tick: Fraction) -> float:
    return float(math.floor(value / tick) * tick)


def _ceil(value: Fraction, tick: Fraction) -> float:
    return float(math.ceil(value / tick) * tick)


@pytest.mark.shared_data
def test_every_monthly_level_of_the_rty_file_books_the_exact_decimal_prices(shared_data: Path) -> None:
    path = shared_data / "daily" / "RTY_F_yahoo_daily.csv"
    exact = _exact_monthly_levels(path)
    bars = rtystrat.load_bars(path, repair="drop_weekend,clip")
    frame = indicator_frame_for(BullishReversal, bars, RunConfig())
    tick = Fraction(1, 10)
    one_per_month = frame.groupby(frame.index.strftime("%Y-%m")).head(1)
    checked, without = 0, []
    for day, row in one_per_month.iterrows():
        if math.isnan(row["P"]):
            without.append(f"{day:%Y-%m}")
            continue
        expected = exact[f"{day:%Y-%m}"]
        for name, level in expected.items():
            # a buy limit or long stop rounds down, a sell limit or target up (the conservative sides)
            got_down = rtystrat.round_to_tick(row[name], 0.1, "down")
            got_up = rtystrat.round_to_tick(row[name], 0.1, "up")
            assert (got_down, got_up) == (_floor(level, tick), _ceil(level, tick)), (day, name)
        limit = _floor(expected["S2"], tick)
        assert rtystrat.round_to_tick(limit - 13, 0.1, "down") == _floor(expected["S2"] - 13, tick)
        checked += 1
    # the file starts on 2017-07-10: a month that may be partial gives no levels to the next one
    assert without == ["2017-07", "2017-08"]
    assert checked == len(exact) - 1 > 100

    # and the orders the setup plans on the bars it signals book the same prices (the fill machine rounds
    # a long's stop down and its target up, as round_to_tick does)
    plans = BullishReversal.setup(
        frame, **BullishReversal.parameters.validate({}, owner="bullish_reversal")
    ).dense()
    signalled = np.flatnonzero(plans.direction)
    assert len(signalled) >= 4
    for bar in signalled:
        level = exact[f"{frame.index[bar + 1]:%Y-%m}"]  # a resting limit works on the next bar's levels
        assert plans.entry_price[bar] == _floor(level["S2"], tick)
        assert rtystrat.round_to_tick(plans.stop[bar], 0.1, "down") == _floor(level["S2"] - 13, tick)
        assert rtystrat.round_to_tick(plans.target[bar], 0.1, "up") == _ceil(level["P"], tick)


@pytest.mark.shared_data
def test_march_2025_bullish_trade_books_the_s2_limit_and_its_stop(shared_data: Path) -> None:
    path = shared_data / "daily" / "RTY_F_yahoo_daily.csv"
    config = RunConfig(start="2025-02-01", end="2025-04-30")
    result = rtystrat.backtest("bullish_reversal", path, config=config, repair="drop_weekend,clip")
    trade = result.trades.set_index("entry_time").loc[pd.Timestamp("2025-03-11")]
    # S2 of February 2025 = 2,003.5 exactly (H 2,336.2, L 2,129.4, C 2,165.3); stop 13 points under it
    assert (trade["entry_price"], trade["stop"], trade["target"]) == (2003.5, 1990.5, 2210.3)
    assert trade["exit_price"] == 1990.4  # the stop less one tick of slippage
    assert trade["pnl_net"] == -660.0  # 13.1 points x 50 $ + 2 x 2.50 $ commission
