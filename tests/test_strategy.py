"""SetupStrategy: the bracket API of a custom next(), its errors, decisions that never read a later bar."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from rtystrat.errors import ParameterError
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import run_backtest
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.signals.plans import ENTRY_LIMIT, LONG, Plans


def _bars(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 2000.0 + np.cumsum(rng.normal(0.0, 12.0, n))
    open_ = np.r_[close[0], close[:-1]] + rng.normal(0.0, 4.0, n)
    high = np.maximum(open_, close) + rng.exponential(6.0, n)
    low = np.minimum(open_, close) - rng.exponential(6.0, n)
    index = pd.bdate_range("2020-01-02", periods=n, name="time")
    frame = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=index).round(1)
    frame["volume"] = 1.0
    return frame


def dip_plans(frame: pd.DataFrame) -> Plans:
    """Each Monday: buy limit 5 under the close, stop 20 under, target 15 over, 3-bar time stop."""
    close = frame["close"].to_numpy()
    plans = Plans.empty(len(frame))
    rows = np.flatnonzero(frame.index.day_of_week == 0)
    plans.direction[rows] = LONG
    plans.entry_type[rows] = ENTRY_LIMIT
    plans.entry_price[rows] = close[rows] - 5.0
    plans.stop[rows] = close[rows] - 20.0
    plans.target[rows] = close[rows] + 15.0
    plans.invalidation[:] = close - 30.0
    return plans._replace(max_hold=3, entry_valid_bars=2)


class PlannedDip(SetupStrategy):
    name = "dip"
    setup = staticmethod(dip_plans)
    indicators = None


class HandWrittenDip(SetupStrategy):
    """The same rule written as a custom next() on the bracket API."""

    name = "dip"
    indicators = None

    def next(self) -> None:
        if (
            self.data.datetime.date(0).weekday() != 0
            or not self.is_flat
            or len(self.data) == self.data.buflen()
        ):
            return
        close = self.data.close[0]
        self.enter_bracket(
            "long", "limit", close - 5.0, close - 20.0, close + 15.0,
            max_hold=3, invalidation=close - 30.0, valid_bars=2,
        )  # fmt: skip


def test_custom_next_with_bracket_api_trades_like_the_plans() -> None:
    bars = _bars()
    planned = run_backtest(PlannedDip, bars)
    # the plans' invalidation moves with each close; the hand-written one fixes it at the entry's close,
    # so compare a run where invalidation never triggers
    assert "invalidation" not in set(planned.trades["exit_reason"])
    hand = run_backtest(HandWrittenDip, bars)
    assert len(planned.trades) > 20
    pd.testing.assert_frame_equal(hand.trades, planned.trades)


def test_decisions_never_read_a_later_bar() -> None:
    bars = _bars()
    full = run_backtest(PlannedDip, bars).trades
    cut = 250
    short = run_backtest(PlannedDip, bars.iloc[:cut]).trades
    # every trade closed before the cut is the same whether or not the later bars exist
    closed = short[(short["exit_reason"] != "end")]
    pd.testing.assert_frame_equal(closed, full.iloc[: len(closed)])
    assert closed["exit_time"].max() < bars.index[cut]


class Breakout(SetupStrategy):
    """Sell stop under the low of bar 2 with a fixed invalidation level."""

    name = "breakout"
    indicators = None

    def next(self) -> None:
        if len(self.data) == 3:
            self.enter_bracket("short", "stop", 1990.0, 2010.0, 1950.0, invalidation=1995.0, valid_bars=3)


def test_bracket_invalidation_level_exits_at_next_open() -> None:
    index = pd.bdate_range("2024-01-02", periods=7, name="time")
    rows = [
        (2000, 2002, 1998, 2000),
        (2000, 2002, 1998, 2000),
        (2000, 2002, 1998, 2000),  # decision bar (bar 2)
        (1999, 2000, 1992, 1994),  # no trigger (low 1992 > 1990)
        (1993, 1994, 1985, 1996),  # sell stop 1990 → 1989.9; closes 1996 above 1995: invalidated
        (1997, 1999, 1996, 1998),  # exit at the open 1997 + 0.1
        (1998, 1999, 1997, 1998),
    ]
    bars = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index, dtype=float)
    trades = run_backtest(Breakout, bars).trades
    assert list(trades[["entry_price", "exit_price", "exit_reason"]].itertuples(index=False, name=None)) == [
        (1989.9, 1997.1, "invalidation")
    ]
    assert trades["pnl_net"].iloc[0] == pytest.approx(-7.2 * 50 - 5)


class Misuse(SetupStrategy):
    name = "misuse"
    indicators = None
    call: ClassVar[dict[str, Any]] = {}

    def next(self) -> None:
        if len(self.data) == 2:
            self.enter_bracket(**self.call)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"direction": "up"}, "direction must be 'long' or 'short'"),
        ({"direction": "long", "entry_type": "limt"}, "entry_type must be one of .* \\(did you mean 'limit'"),
        ({"direction": "long", "entry_type": "stop"}, "a stop entry needs an entry_price"),
    ],
)
def test_bracket_api_rejects_bad_orders_in_one_line(call: dict, message: str) -> None:
    Misuse.call = call
    with pytest.raises(ParameterError, match=message):
        run_backtest(Misuse, _bars(10))


def test_bracket_api_refuses_a_second_bracket_while_one_is_open() -> None:
    class Twice(SetupStrategy):
        name = "twice"
        indicators = None

        def next(self) -> None:
            if len(self.data) in (2, 3):
                self.enter_bracket("long", stop=math.nan)

    with pytest.raises(ParameterError, match="twice: enter_bracket while a position or entry order is open"):
        run_backtest(Twice, _bars(10))


def test_risk_sizing_without_a_stop_skips_and_reports() -> None:
    class NoStop(SetupStrategy):
        name = "no_stop"
        indicators = None

        def next(self) -> None:
            if len(self.data) == 2:
                self.contracts = self.enter_bracket("long")

    result = run_backtest(NoStop, _bars(10), config=RunConfig(risk_per_trade=1000.0))
    assert result.trades.empty and result.stats["# Skipped Entries"] == 1


class ReadsLevels(SetupStrategy):
    """Plans from the frame, but declares that its own code reads the S2 line."""

    name = "reads_levels"
    setup = staticmethod(dip_plans)
    feed_lines: ClassVar[tuple[str, ...]] = ("S2",)


def test_feed_lines_follow_what_the_strategy_reads() -> None:
    assert PlannedDip.lines_read() == ()  # trades its plans: they come from the frame
    assert HandWrittenDip.lines_read() is None  # its own next() may read any line
    assert ReadsLevels.lines_read() == ("S2",)


@pytest.mark.parametrize(
    ("classes", "extra_lines"),
    [([PlannedDip], set()), ([ReadsLevels], {"S2"}), ([PlannedDip, HandWrittenDip], None)],
)
def test_the_engine_feed_carries_the_lines_its_strategies_read(
    classes: list, extra_lines: set | None
) -> None:
    from rtystrat.execution.engine import _run, indicator_frame_for  # the feed is internal to a run

    config = RunConfig()
    frame = indicator_frame_for(ReadsLevels, _bars(), config)
    names = [f"{cls.name}{number}" for number, cls in enumerate(classes)]
    classes = [type(name, (cls,), {"name": name}) for name, cls in zip(names, classes, strict=True)]
    strategies = _run(classes, frame, config, None, {name: {} for name in names})
    standard = {"open", "high", "low", "close", "volume", "openinterest", "datetime"}
    every = {str(column) for column in frame.columns} - standard  # None: every indicator column
    assert set(strategies[0].data.lines.getlinealiases()) - standard == (
        every if extra_lines is None else extra_lines
    )
