"""The HTML report in a real browser: headless Chromium opens the file offline and draws the chart.

Needs Debian's ``chromium`` (``.ci/run`` installs it when it runs as root with apt-get); Playwright drives the
installed browser, so nothing is downloaded. Without Chromium these tests skip and say why.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from playwright.sync_api import Page, sync_playwright

from rtystrat.analysis.results import BacktestResult
from rtystrat.data.sample import load_sample
from rtystrat.plotting._style import LOSS_COLOR, WIN_COLOR
from rtystrat.plotting.report import render_html
from rtystrat.signals.features import indicator_frame

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--no-sandbox",  # the suite runs as root in CI, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
POINT_VALUE = 50.0
# Generous: on a loaded 2-core machine Chromium can take many seconds to start and parse BokehJS.
TIMEOUT_MS = 120_000
# (entry bar, exit bar, direction, entry at, exit at) as positions from the end of the bars. The first is
# years before the chart's opening window; the second (a win: long from the low to the high) and the third (a
# loss: short from the low to the high) enter and exit on one bar.
TRADES = [
    (-650, -640, "long", "close", "close"),
    (-100, -100, "long", "low", "high"),
    (-60, -60, "short", "low", "high"),
    (-30, -20, "short", "close", "close"),
]


@dataclass
class Opened:
    """The report's page once BokehJS is idle, with what the page logged and requested while loading."""

    page: Page
    url: str
    frame: pd.DataFrame
    trades: pd.DataFrame
    messages: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def _result(frame: pd.DataFrame) -> BacktestResult:
    rows = []
    for entry, exit_, direction, entry_at, exit_at in TRADES:
        entry_price, exit_price = frame[entry_at].iat[entry], frame[exit_at].iat[exit_]
        sign = 1.0 if direction == "long" else -1.0
        rows.append(
            {
                "setup": "bullish_reversal" if direction == "long" else "bearish_breakdown",
                "direction": direction,
                "entry_time": frame.index[entry],
                "entry_price": entry_price,
                "exit_time": frame.index[exit_],
                "exit_price": exit_price,
                "pnl_net": sign * (exit_price - entry_price) * POINT_VALUE,
                "r_multiple": sign * (exit_price - entry_price) / 10.0,
                "contracts": 1,
            }
        )
    trades = pd.DataFrame(rows)
    equity = pd.Series(100_000.0, index=frame.index, name="equity")
    for trade in trades.itertuples():
        equity[equity.index >= trade.exit_time] += trade.pnl_net
    return BacktestResult.from_run(trades, equity, params={}, config={})


def _watch(page: Page, messages: list[str], requests: list[str]) -> None:
    """Record `page`'s console messages and uncaught errors, and every URL it requests."""
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    page.on("request", lambda request: requests.append(request.url))


@pytest.fixture(scope="module")
def opened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Opened]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it as root)")
    frame = indicator_frame(load_sample("daily")).loc["2023-01-01":]
    result = _result(frame)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(result, bars=frame), encoding="utf-8")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 1000},
            timeout=TIMEOUT_MS,
        )
        opened = Opened(context.new_page(), path.as_uri(), frame, result.trades)
        _watch(opened.page, opened.messages, opened.requests)
        opened.page.goto(opened.url, timeout=TIMEOUT_MS)
        opened.page.wait_for_function(
            "() => window.Bokeh !== undefined && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle",
            timeout=TIMEOUT_MS,
        )
        yield opened
        context.close()


def test_the_page_loads_with_no_console_error_and_no_request_but_the_file(opened: Opened) -> None:
    noise = ("log: ", "info: ", "debug: ")  # BokehJS says its version and when the document is idle
    assert [message for message in opened.messages if not message.startswith(noise)] == []
    assert opened.requests == [opened.url]


def test_those_checks_catch_a_console_error_and_a_request_leaving_the_file(
    opened: Opened, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!DOCTYPE html><script>console.error("broken")</script><img src="http://127.0.0.1:9/x.png">',
        encoding="utf-8",
    )
    page = opened.page.context.new_page()
    messages: list[str] = []
    requests: list[str] = []
    _watch(page, messages, requests)
    page.goto(broken.as_uri(), timeout=TIMEOUT_MS)
    page.close()
    assert "error: broken" in messages
    assert requests == [broken.as_uri(), "http://127.0.0.1:9/x.png"]  # port 9 discards: nothing leaves


def test_every_panel_is_drawn_with_the_trades_in_their_colours(opened: Opened) -> None:
    canvases = opened.page.evaluate(
        """() => {
          // Bokeh draws inside shadow roots: walk them for canvases with a size.
          let count = 0;
          const walk = (root) => root.querySelectorAll("*").forEach((element) => {
            if (element.tagName === "CANVAS" && element.width > 0 && element.height > 0) count += 1;
            if (element.shadowRoot) walk(element.shadowRoot);
          });
          walk(document);
          return count;
        }"""
    )
    assert canvases >= 6  # overview, price, volume, RSI, equity, drawdown
    pixels = imread(io.BytesIO(opened.page.locator(".chart").screenshot()), format="png")[..., :3]
    pixels = np.round(pixels * 255).astype(int)
    for color in (WIN_COLOR, LOSS_COLOR):  # the opening window holds a winning and a losing trade
        rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
        assert (pixels == rgb).all(axis=-1).sum() >= 20, color  # a marker's fill, not a stray pixel


def test_the_page_draws_one_entry_and_one_exit_marker_per_trade(opened: Opened) -> None:
    counts = opened.page.evaluate(
        """() => {
          const document_ = Bokeh.documents[0];
          return Object.fromEntries(["entries", "exits", "overview-entries"].map((name) => {
            const renderer = document_.get_model_by_name(name);
            // The glyph view's screen coordinates: markers the browser has placed, not only data.
            const view = Bokeh.index.find_one(renderer);
            return [name, [renderer.data_source.get_length(), view.glyph.sx.filter(Number.isFinite).length]];
          }));
        }"""
    )
    trades = len(opened.trades)
    assert trades == len(TRADES) == 4
    assert counts == {name: [trades, trades] for name in ("entries", "exits", "overview-entries")}


def test_zooming_moves_every_panel_and_fits_the_price_scale_to_the_bars_in_view(opened: Opened) -> None:
    start, end = opened.frame.index[-660], opened.frame.index[-630]  # around the first trade, years back
    ranges = opened.page.evaluate(
        """async ([start, end]) => {
          const document_ = Bokeh.documents[0];
          const price = document_.get_model_by_name("price");
          price.x_range.setv({start, end});
          await new Promise((resolve) => setTimeout(resolve, 100));  // the scale follows asynchronously
          const drawdown = document_.get_model_by_name("drawdown");
          return {y: [price.y_range.start, price.y_range.end], linked: drawdown.x_range.start === start};
        }""",
        [start.value / 1e6, end.value / 1e6],
    )
    shown = opened.frame.loc[start:end]
    low, high = shown["low"].min(), shown["high"].max()
    assert ranges["y"] == pytest.approx([low - 0.05 * (high - low), high + 0.05 * (high - low)])
    assert ranges["linked"]
