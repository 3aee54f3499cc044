"""The article replay: exact orders from 2025-03-13, hand-checked fills on crafted bars, the real outcome."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtystrat.cli import replay as replay_cli
from rtystrat.data.bars import load_bars
from rtystrat.errors import DataError, ParameterError
from rtystrat.execution.config import RunConfig
from rtystrat.replay import ARTICLE_LEGS, article_plans, replay_article
from rtystrat.signals.plans import ENTRY_LIMIT, ENTRY_STOP, LONG, SHORT

# date, open, high, low, close — a path that fills every leg and exits each a different way.
DAILY = [
    ("2025-03-11", 2030.0, 2040.0, 2020.0, 2025.0),
    ("2025-03-12", 2025.0, 2035.0, 2015.0, 2027.0),  # decision bar: orders work from 03-13
    ("2025-03-13", 2024.0, 2036.0, 2001.0, 2010.0),  # low 2,001 < 2,003: both buy limits fill at 2,003
    ("2025-03-14", 2012.0, 2050.0, 2005.0, 2045.0),
    ("2025-03-17", 2050.0, 2105.0, 2040.0, 2095.0),  # high 2,105 > 2,100: first leg's target
    ("2025-03-18", 2040.0, 2045.0, 1995.0, 1998.0),  # low 1,995 <= 1,999.9: the sell stop fills
    ("2025-03-19", 1985.0, 1992.0, 1960.0, 1965.0),  # opens below 1,990: second leg stopped at the open
    ("2025-03-20", 1960.0, 1965.0, 1870.0, 1875.0),  # low 1,870 < 1,880: the short's target
    ("2025-03-21", 1880.0, 1890.0, 1870.0, 1885.0),
]


def bars_of(rows: list[tuple[str, float, float, float, float]], *, tz: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["time", "open", "high", "low", "close"])
    frame["time"] = pd.to_datetime(frame["time"])
    if tz is not None:
        frame["time"] = frame["time"].dt.tz_localize(tz)
    frame["volume"] = 100.0
    return load_bars(frame.set_index("time"))


def test_article_plans_place_each_order_once_with_constant_prices_from_the_decision_bar() -> None:
    frame = bars_of(DAILY)
    plans = article_plans(frame, leg="article_bearish_1880")
    assert np.flatnonzero(plans.direction).tolist() == [1]  # decided at the close of 03-12
    assert (plans.direction[1], plans.entry_type[1]) == (SHORT, ENTRY_STOP)
    np.testing.assert_array_equal(plans.entry_price[1:], 1999.9)
    np.testing.assert_array_equal(plans.stop[1:], 2060.0)
    np.testing.assert_array_equal(plans.target[1:], 1880.0)
    assert np.isnan(plans.stop[0]) and np.isnan(plans.invalidation).all()
    assert (plans.entry_valid_bars, plans.max_hold) == (len(frame) - 1, 0)
    legs = {leg.name: leg for leg in ARTICLE_LEGS}
    assert (legs["article_bullish_2100"].direction, legs["article_bullish_2100"].entry_type) == (
        LONG,
        ENTRY_LIMIT,
    )
    assert [leg.target for leg in ARTICLE_LEGS] == [2100.0, 2210.0, 1880.0]


def test_replay_on_crafted_daily_bars_matches_hand_computed_fills() -> None:
    replay = replay_article(bars_of(DAILY))
    legs = replay.legs.set_index("leg")
    # Hand-computed with 1 tick (0.1) slippage on stop fills, none on limits and targets, $2.50 per side:
    # leg 1: 2,003 → 2,100 target = +97.0 pt = $4,850 gross, $4,845 net;
    # leg 2: 2,003 → open 1,985 − 0.1 (gap through the 1,990 stop) = −18.1 pt = −$905, −$910 net;
    # short: 1,999.9 − 0.1 = 1,999.8 → 1,880 target = +119.8 pt = $5,990, $5,985 net.
    expected = pd.DataFrame(
        {
            "entry_time": pd.to_datetime(["2025-03-13", "2025-03-13", "2025-03-18"]),
            "entry_price": [2003.0, 2003.0, 1999.8],
            "exit_time": pd.to_datetime(["2025-03-17", "2025-03-19", "2025-03-20"]),
            "exit_price": [2100.0, 1984.9, 1880.0],
            "exit_reason": ["target", "stop", "target"],
            "pnl_points": [97.0, -18.1, 119.8],
            "pnl_gross": [4850.0, -905.0, 5990.0],
            "pnl_net": [4845.0, -910.0, 5985.0],
        },
        index=pd.Index(["article_bullish_2100", "article_bullish_2210", "article_bearish_1880"], name="leg"),
    )
    pd.testing.assert_frame_equal(legs[expected.columns], expected, check_dtype=False, atol=1e-9)
    assert not legs["ambiguous"].any()
    result = replay.result
    assert result.equity.iloc[-1] == pytest.approx(100_000.0 + 4845.0 - 910.0 + 5985.0, abs=0.005)
    assert "total: +198.7 points, +9,920.00 $ net" in replay.summary()


def test_an_order_never_reached_is_reported_as_not_filled() -> None:
    rows = [(date, 2050.0, 2060.0, 2040.0, 2050.0) for date, *_ in DAILY]
    replay = replay_article(bars_of(rows))
    assert replay.legs["entry_time"].isna().all()
    assert replay.summary().count("not filled") == 3
    assert replay.to_dict()["legs"][0]["entry_time"] is None


def test_replay_on_intraday_bars_starts_with_the_session_opening_the_evening_before() -> None:
    times = pd.date_range("2025-03-12 08:00", "2025-03-14 15:00", freq="h", tz="America/Chicago")
    times = times[times.hour != 16]  # the daily maintenance hour
    price = np.full(len(times), 2030.0)
    dip = times.get_loc(pd.Timestamp("2025-03-12 20:00", tz="America/Chicago"))  # in the 03-13 session
    rally = times.get_loc(pd.Timestamp("2025-03-13 10:00", tz="America/Chicago"))
    low, high = price - 5.0, price + 5.0
    low[dip] = 2001.0
    high[rally] = 2101.0
    frame = pd.DataFrame(
        {"open": price, "high": high, "low": low, "close": price, "volume": 1.0}, index=times
    )
    frame.index.name = "time"
    legs = replay_article(load_bars(frame)).legs.set_index("leg")
    assert legs.loc["article_bullish_2100", "entry_time"] == times[dip]
    assert legs.loc["article_bullish_2100", "exit_time"] == times[rally]
    assert legs.loc["article_bullish_2100", "exit_reason"] == "target"
    assert legs.loc["article_bullish_2210", "exit_reason"] == "end"
    assert pd.isna(legs.loc["article_bearish_1880", "entry_time"])


def test_data_that_misses_the_analysis_date_is_refused_in_one_line() -> None:
    with pytest.raises(DataError, match=r"ends on 2025-03-12, before 2025-03-13"):
        replay_article(bars_of(DAILY[:2]))
    with pytest.raises(DataError, match=r"starts on 2025-03-13; the replay needs a bar before 2025-03-13"):
        replay_article(bars_of(DAILY[2:]))


def test_replay_command_prints_the_legs_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "rty.csv"
    bars_of(DAILY).to_csv(data)
    out = tmp_path / "replay.json"
    parser = argparse.ArgumentParser()
    replay_cli.register(parser.add_subparsers())
    args = parser.parse_args(
        ["replay", "article", "--data", str(data), "--json", str(out), "--slippage-ticks", "0"]
    )
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "article_bearish_1880" in printed and "slippage 0 tick(s)" in printed
    written = json.loads(out.read_text(encoding="utf-8"))
    assert {"stats", "trades", "equity", "legs", "replay"} <= set(written)
    assert written["legs"][2]["entry_price"] == 1999.9  # no slippage this time
    assert written["trades"][0]["entry_time"].startswith("2025-03-13")


def test_replay_json_into_a_missing_folder_fails_before_the_replay(tmp_path: Path) -> None:
    data = tmp_path / "rty.csv"
    bars_of(DAILY).to_csv(data)
    parser = argparse.ArgumentParser()
    replay_cli.register(parser.add_subparsers())
    args = parser.parse_args(
        ["replay", "article", "--data", str(data), "--json", str(tmp_path / "a" / "r.json")]
    )
    with pytest.raises(ParameterError, match=r"^--json '.*r\.json': the folder .*a' does not exist$"):
        args.func(args)


@pytest.mark.shared_data
def test_replay_on_real_rty_daily_futures(shared_data: Path) -> None:
    bars = load_bars(shared_data / "daily" / "RTY_F_yahoo_daily.csv", repair="clip,drop_weekend")
    replay = replay_article(bars, config=RunConfig())
    legs = replay.legs.set_index("leg")
    # 2025-03-13: open 2,024.1, low 1,985.5 — both buy limits fill at 2,003 and the 1,990 stop is hit the
    # same day (1,989.9 after a tick of slippage); the sell stop fills at 1,999.8 and is stopped on 03-17
    # (high 2,075.5 > 2,060).
    assert legs["entry_time"].dt.strftime("%Y-%m-%d").tolist() == ["2025-03-13"] * 3
    assert legs["exit_time"].dt.strftime("%Y-%m-%d").tolist() == ["2025-03-13", "2025-03-13", "2025-03-17"]
    assert legs["exit_reason"].tolist() == ["stop", "stop", "stop"]
    np.testing.assert_allclose(legs["entry_price"], [2003.0, 2003.0, 1999.8])
    np.testing.assert_allclose(legs["exit_price"], [1989.9, 1989.9, 2060.1])
    np.testing.assert_allclose(legs["pnl_net"], [-660.0, -660.0, -3020.0])
