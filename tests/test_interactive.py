"""The interactive chart's data: level steps, trade markers at their fills, aggregation, opening window."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from bokeh.models import Plot

from rtystrat.errors import ParameterError
from rtystrat.plotting.interactive import chart_html, interactive_chart

DAY_MS = 86_400_000.0


def _ms(text: str) -> float:
    return pd.Timestamp(text).value / 1e6


def _bars(index: pd.DatetimeIndex, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 2000.0 + rng.normal(0.0, 3.0, len(index)).cumsum()
    open_ = close + rng.normal(0.0, 1.0, len(index))
    spread = rng.uniform(0.5, 4.0, len(index))
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.integers(1, 1_000, len(index)).astype(float),
        },
        index=index.rename("time"),
    )


class _Tags(HTMLParser):
    """Every start tag and its attributes (script bodies are text to the parser, not tags)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def _data(chart: object, name: str) -> dict[str, np.ndarray]:
    renderer = chart.select_one({"name": name})  # type: ignore[attr-defined]
    return {key: np.asarray(value) for key, value in renderer.data_source.data.items()}


def test_levels_are_one_flat_step_per_period_without_the_jumps() -> None:
    frame = _bars(pd.date_range("2025-01-01", periods=6, freq="D")).assign(
        P=[np.nan, np.nan, 10.0, 10.0, 12.0, 12.0], S1=[np.nan, np.nan, 8.0, 8.0, 8.0, 9.0]
    )
    chart = interactive_chart(frame, window=None)
    # A step starts where any level changes (rows 2, 4 and 5); the last runs one bar past the last bar.
    pivot = _data(chart, "level-P")
    assert pivot["x0"].tolist() == [_ms("2025-01-03"), _ms("2025-01-05"), _ms("2025-01-06")]
    assert pivot["x1"].tolist() == [_ms("2025-01-05"), _ms("2025-01-06"), _ms("2025-01-07")]
    assert pivot["level"].tolist() == [10.0, 12.0, 12.0]
    assert _data(chart, "level-S1")["level"].tolist() == [8.0, 8.0, 9.0]


def test_every_trade_has_one_entry_and_one_exit_marker_at_its_fills_in_the_bars_local_time() -> None:
    index = pd.date_range("2025-03-10 08:30", periods=300, freq="min", tz="America/Chicago")
    frame = _bars(index)
    trades = pd.DataFrame(
        {
            "setup": ["a", "b"],
            "direction": ["long", "short"],
            # the second enters and exits on one bar; times come back from JSON in UTC
            "entry_time": pd.to_datetime(["2025-03-10 14:35Z", "2025-03-10 15:00Z"]),
            "entry_price": [2001.25, 1999.5],
            "exit_time": pd.to_datetime(["2025-03-10 14:50Z", "2025-03-10 15:00Z"]),
            "exit_price": [2004.0, 2003.0],
            "pnl_net": [132.5, -180.0],
        }
    )
    chart = interactive_chart(frame, trades)
    entries, exits = _data(chart, "entries"), _data(chart, "exits")
    assert len(entries["entry_x"]) == len(exits["exit_x"]) == 2
    # 14:35 UTC is 09:35 in Chicago (CDT, UTC-5, from 2025-03-09): the axis shows the exchange's clock.
    assert entries["entry_x"].tolist() == [_ms("2025-03-10 09:35"), _ms("2025-03-10 10:00")]
    assert exits["exit_x"].tolist() == [_ms("2025-03-10 09:50"), _ms("2025-03-10 10:00")]
    assert entries["entry_price"].tolist() == [2001.25, 1999.5]
    assert exits["exit_price"].tolist() == [2004.0, 2003.0]
    assert entries["marker"].tolist() == ["triangle", "inverted_triangle"]
    assert entries["color"].tolist() == ["#2ca02c", "#d62728"]
    # Entries are drawn after (above) the exits and larger, so a same-bar trade shows both.
    price = chart.select_one({"name": "price"})
    order = [renderer.name for renderer in price.renderers]
    assert order.index("entries") > order.index("exits")
    entry_glyph = chart.select_one({"name": "entries"}).glyph
    assert entry_glyph.size > chart.select_one({"name": "exits"}).glyph.size


def test_long_series_are_aggregated_to_the_finest_step_that_fits() -> None:
    frame = _bars(pd.date_range("2025-01-06 08:30", periods=600, freq="min"), seed=1)
    trades = pd.DataFrame(
        {
            "direction": ["long"],
            "entry_time": [pd.Timestamp("2025-01-06 08:52")],
            "entry_price": [2001.0],
            "exit_time": [pd.Timestamp("2025-01-06 09:00")],
            "exit_price": [2003.5],
            "pnl_net": [115.0],
        }
    )
    # 5 minutes gives 120 bars, 15 minutes 40
    chart = interactive_chart(frame, trades, max_bars=50, window=None)
    candles = _data(chart, "candles")
    expected = frame.resample("15min").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    assert len(candles["x"]) == len(expected) == 40
    assert candles["x"].tolist() == (expected.index.as_unit("ns").asi8 / 1e6).tolist()
    for column in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(candles[column], expected[column].to_numpy(), err_msg=column)
    # The trade's markers stand on the 08:45 and 09:00 candles, at the fill prices.
    entries = _data(chart, "entries")
    assert (entries["entry_x"][0], entries["exit_x"][0]) == (_ms("2025-01-06 08:45"), _ms("2025-01-06 09:00"))
    assert (entries["entry_price"][0], entries["exit_price"][0]) == (2001.0, 2003.5)


def test_aggregated_drawdown_keeps_the_deepest_point_of_each_chart_bar() -> None:
    index = pd.date_range("2025-01-06 08:30", periods=600, freq="min")
    equity = pd.Series(100_000.0, index=index)
    equity.iloc[7] = 90_000.0  # a dip inside the first 15 minutes, recovered within them
    chart = interactive_chart(_bars(index), equity=equity, max_bars=50, window=None)
    curves = _data(chart, "drawdown-area")
    assert curves["drawdown"][0] == pytest.approx(-10.0)
    assert curves["equity"][0] == 100_000.0  # the bar's last value
    assert (curves["drawdown"][1:] == 0.0).all()


def test_opening_window_is_the_last_six_months_with_the_whole_run_in_reach() -> None:
    frame = _bars(pd.bdate_range("2023-01-02", "2025-06-30"), seed=2)
    chart = interactive_chart(frame)
    price = chart.select_one({"name": "price"})
    x_range = price.x_range
    assert x_range.end == _ms("2025-07-01")  # one bar's spacing past the last bar
    assert x_range.start == _ms("2025-01-01")  # six months before that
    assert x_range.bounds == (_ms("2023-01-01"), _ms("2025-07-01"))  # zoom out to the whole run
    # The price scale fits the bars in view, 5 % above and below (not the whole run's range).
    shown = frame.loc["2025-01-01":"2025-06-30"]
    low, high = shown["low"].min(), shown["high"].max()
    pad = 0.05 * (high - low)
    assert (price.y_range.start, price.y_range.end) == pytest.approx((low - pad, high + pad))
    every_panel = chart.select({"type": Plot})
    assert {panel.name for panel in every_panel} == {"overview", "price", "volume"}
    assert all(panel.x_range is x_range for panel in every_panel if panel.name != "overview")
    assert interactive_chart(frame, window=None).select_one({"name": "price"}).x_range.start == _ms(
        "2023-01-01"
    )


def test_chart_html_carries_bokeh_inline_and_refers_to_nothing_outside() -> None:
    frame = _bars(pd.bdate_range("2025-01-02", periods=50))
    text = chart_html(interactive_chart(frame))
    assert "/* BEGIN bokeh.min.js */" in text  # the library itself, inline
    tags = _Tags(text)
    assert {tag for tag, _ in tags.found} == {"script", "div"}
    assert [(tag, name) for tag, attrs in tags.found for name, _ in attrs if name in ("src", "href")] == []
    assert "cdn.bokeh.org" not in text


def test_bad_input_is_named_in_one_line() -> None:
    frame = _bars(pd.bdate_range("2025-01-02", periods=5))
    with pytest.raises(ParameterError, match=r"frame: no column 'close'"):
        interactive_chart(frame.drop(columns="close"))
    with pytest.raises(ParameterError, match=r"max_bars=0: must be at least 1"):
        interactive_chart(frame, max_bars=0)
    with pytest.raises(ParameterError, match=r"trades: no column 'exit_time'"):
        interactive_chart(
            frame, pd.DataFrame(columns=["direction", "entry_time", "entry_price"], data=[[1, 2, 3]])
        )
