"""The backtrader feed carries the pure values bar for bar; backtrader's own SMA/RSI agree with ours."""

from __future__ import annotations

import backtrader as bt
import numpy as np
import pandas as pd
import pytest

from rtystrat.data.bars import load_bars
from rtystrat.errors import DataError
from rtystrat.execution.feeds import FrameFeed, bar_time, make_feed
from rtystrat.signals.features import indicator_frame


def _bars(rows: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 2000 + rng.normal(0, 15, rows).cumsum()
    open_ = close + rng.normal(0, 5, rows)
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + rng.uniform(0, 8, rows),
            "low": np.minimum(open_, close) - rng.uniform(0, 8, rows),
            "close": close,
            "volume": rng.integers(0, 1000, rows).astype(float),
        },
        index=pd.bdate_range("2023-01-02", periods=rows, name="time"),
    )


class _Recorder(bt.Strategy):
    """Record every line of the feed at every bar, with backtrader's own SMA(50) and RSI(14)."""

    def __init__(self) -> None:
        self.sma = bt.indicators.SMA(self.data.close, period=50)
        self.rsi = bt.indicators.RSI(self.data.close, period=14, safediv=True)
        self.rows: list[dict] = []

    def prenext(self) -> None:
        self.next()

    def next(self) -> None:
        names = self.data.lines.getlinealiases()
        row = {name: getattr(self.data.lines, name)[0] for name in names if name != "datetime"}
        time = bar_time(self.data) if isinstance(self.data, FrameFeed) else len(self.data)
        row.update(time=time, wall=self.data.datetime.datetime(0))
        row.update(bt_sma=self.sma[0], bt_rsi=self.rsi[0])
        self.rows.append(row)


def _run(frame: pd.DataFrame, runonce: bool) -> pd.DataFrame:
    cerebro = bt.Cerebro(stdstats=False, runonce=runonce)
    cerebro.adddata(make_feed(frame))
    cerebro.addstrategy(_Recorder)
    (strategy,) = cerebro.run()
    return pd.DataFrame(strategy.rows).set_index("time")


@pytest.fixture(scope="module")
def rty_frame(shared_data) -> pd.DataFrame:
    bars = load_bars(shared_data / "daily" / "RTY_F_yahoo_daily.csv", repair="clip,drop_weekend")
    return indicator_frame(bars, levels="M:classic", sma=(50, 100), rsi=14, atr=14)


@pytest.mark.shared_data
@pytest.mark.parametrize("runonce", [True, False], ids=["runonce", "next"])
def test_a_run_sees_the_pure_values_bar_for_bar(rty_frame: pd.DataFrame, runonce: bool) -> None:
    seen = _run(rty_frame, runonce)
    assert seen.index.equals(rty_frame.index)
    for column in rty_frame.columns:
        np.testing.assert_array_equal(seen[column].to_numpy(), rty_frame[column].to_numpy(), column)
    march = seen.loc["2025-03-03"]  # first bar of March: February's levels
    assert (march["P"], march["S2"], march["S3"]) == pytest.approx((2210.3, 2003.5, 1877.6), abs=0.05)


@pytest.mark.shared_data
@pytest.mark.parametrize("runonce", [True, False], ids=["runonce", "next"])
def test_backtrader_sma_and_rsi_agree_with_ours_after_warm_up(rty_frame: pd.DataFrame, runonce: bool) -> None:
    seen = _run(rty_frame, runonce)
    warm = seen.iloc[50:]  # backtrader's RSI(14) is warm from bar 14, its SMA(50) from bar 49
    np.testing.assert_allclose(warm["bt_sma"], rty_frame["sma_50"].iloc[50:], rtol=0, atol=1e-9)
    np.testing.assert_allclose(warm["bt_rsi"], rty_frame["rsi_14"].iloc[50:], rtol=0, atol=1e-9)


def test_the_fast_loader_matches_backtraders_pandasdata() -> None:
    frame = indicator_frame(_bars(), levels="W:fibonacci", sma=20, rsi=5, atr=None)
    ours = _run(frame, runonce=True)
    plain_class = type(
        "Plain",
        (bt.feeds.PandasData,),
        {
            "lines": tuple(frame.columns[5:]),
            "params": tuple((c, c) for c in frame.columns[5:]),
        },
    )
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(plain_class(dataname=frame, openinterest=None))
    cerebro.addstrategy(_Recorder)
    (strategy,) = cerebro.run()
    plain = pd.DataFrame(strategy.rows)
    for column in ("wall", "open", "high", "low", "close", "volume", "P", "R3", "sma_20", "rsi_5"):
        np.testing.assert_array_equal(ours[column].to_numpy(), plain[column].to_numpy(), column)


def test_intraday_times_are_exchange_local_and_restore_exactly_across_daylight_saving() -> None:
    # Hourly bars through the night daylight saving ends (2025-11-02 01:00 CT happens twice).
    index = pd.date_range("2025-11-01 18:00", "2025-11-02 06:00", freq="h", tz="America/Chicago", name="time")
    bars = _bars(len(index)).set_axis(index)
    feed = make_feed(bars)
    assert (feed.timezone, feed._timeframe, feed._compression) == (
        "America/Chicago",
        bt.TimeFrame.Minutes,
        60,
    )
    seen = _run(bars, runonce=False)
    assert seen.index.equals(index)  # bar_time: the original tz-aware times, the repeated hour included
    np.testing.assert_array_equal(seen["wall"], index.tz_localize(None).to_pydatetime())
    assert list(seen["wall"].dt.hour[6:10]) == [0, 1, 1, 2]


def test_text_columns_are_left_out_and_line_names_are_checked() -> None:
    bars = _bars(5).assign(contract="RTYH5")
    feed = make_feed(bars, name="rty")
    assert feed.lines.getlinealiases() == FrameFeed.lines.getlinealiases()
    assert feed._name == "rty"
    with pytest.raises(DataError, match="column 'size' cannot be a backtrader line name"):
        make_feed(bars.assign(size=1.0))
    with pytest.raises(DataError, match="column 'p' cannot be a backtrader line name"):
        make_feed(bars.assign(P=1.0, p=2.0))  # P is a line; p is backtrader's shorthand for params
    with pytest.raises(DataError, match="a feed needs column 'close'"):
        make_feed(bars.drop(columns="close"))


def test_feeds_with_the_same_columns_share_one_class() -> None:
    frame = indicator_frame(_bars(60))
    assert type(make_feed(frame)) is type(make_feed(frame.copy()))


def test_a_feed_carries_only_the_named_indicator_lines() -> None:
    frame = indicator_frame(_bars(60))
    standard = FrameFeed.lines.getlinealiases()
    assert make_feed(frame, lines=[]).lines.getlinealiases() == standard
    lean = make_feed(frame, lines=["S2", "rsi_14"])  # column names, matched as line names
    assert set(lean.lines.getlinealiases()) - set(standard) == {"S2", "rsi_14"}
    seen = _run_feed(lean)
    np.testing.assert_array_equal(seen["S2"].to_numpy(), frame["S2"].to_numpy())
    np.testing.assert_array_equal(seen["close"].to_numpy(), frame["close"].to_numpy())
    with pytest.raises(DataError, match="line 'sma_20' has no column in the frame"):
        make_feed(frame, lines=["sma_20"])


def _run_feed(feed: FrameFeed) -> pd.DataFrame:
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(feed)
    cerebro.addstrategy(_Recorder)
    (strategy,) = cerebro.run()
    return pd.DataFrame(strategy.rows)


def test_preloading_every_row_at_once_fills_the_lines_as_loading_bar_by_bar_does() -> None:
    frame = indicator_frame(_bars(120), levels="W:classic", sma=20, rsi=5, atr=None)
    at_once, bar_by_bar = make_feed(frame), make_feed(frame)
    for feed in (at_once, bar_by_bar):
        bt.Cerebro().adddata(feed)
        feed._start()
    at_once.preload()
    bt.feeds.PandasData.preload(bar_by_bar)  # backtrader's own: one load() per row
    assert at_once.lines.getlinealiases() == bar_by_bar.lines.getlinealiases()
    for fast, slow in zip(at_once.lines, bar_by_bar.lines, strict=True):
        np.testing.assert_array_equal(np.array(fast.array), np.array(slow.array))  # open interest: NaN
    assert (len(at_once), at_once.buflen()) == (len(bar_by_bar), bar_by_bar.buflen()) == (0, 120)


class _NativeOrders(bt.Strategy):
    """Trade backtrader's own orders (limit, stop, market) on a fixed schedule; record every execution."""

    def __init__(self) -> None:
        self.executions: list[tuple[object, float, float]] = []

    def next(self) -> None:
        step = len(self.data) % 9
        close = self.data.close[0]
        if step == 0 and not self.position:
            self.buy(exectype=bt.Order.Limit, price=close - 4.0)
        elif step == 3 and not self.position:
            self.buy(exectype=bt.Order.Stop, price=close + 4.0)
        elif step == 5 and self.position:
            self.sell(exectype=bt.Order.Stop, price=close - 6.0)
        elif step == 7 and self.position:
            self.close()

    def notify_order(self, order: bt.Order) -> None:
        if order.status == order.Completed:
            self.executions.append(
                (self.data.datetime.datetime(0), order.executed.price, order.executed.size)
            )


@pytest.mark.parametrize("replay", [False, True], ids=["bars", "replayed-into-days"])
@pytest.mark.parametrize("runonce", [True, False], ids=["runonce", "next"])
def test_backtraders_own_orders_fill_on_the_feed_as_on_pandasdata(runonce: bool, replay: bool) -> None:
    # Without a filter the feed keeps no per-bar tick copies (None: the broker matches on the bar, the same
    # prices); replaying hourly bars into days, the ticks are the hours and backtrader's own copies run.
    index = pd.date_range("2025-03-03 08:00", periods=400, freq="h", name="time")
    bars = _bars(len(index), seed=11).set_axis(index)
    executions = []
    hourly = {"timeframe": bt.TimeFrame.Minutes, "compression": 60}  # as make_feed reads the index
    for feed in (make_feed(bars), bt.feeds.PandasData(dataname=bars, **hourly)):
        cerebro = bt.Cerebro(stdstats=False, runonce=runonce)
        if replay:
            cerebro.replaydata(feed, timeframe=bt.TimeFrame.Days)
        else:
            cerebro.adddata(feed)
        cerebro.addstrategy(_NativeOrders)
        (strategy,) = cerebro.run()
        executions.append(strategy.executions)
        if isinstance(feed, FrameFeed) and not replay:
            assert (feed.tick_open, feed.tick_close) == (None, None)
    assert len(executions[0]) > 20
    assert executions[0] == executions[1]
