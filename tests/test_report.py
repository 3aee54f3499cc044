"""HTML report: self-contained, with the tables and charts a quant reads, and the ``report`` command."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtystrat.analysis.results import BacktestResult
from rtystrat.cli import build_parser
from rtystrat.data.sample import load_sample
from rtystrat.errors import DataError
from rtystrat.plotting.report import render_html
from rtystrat.signals.features import indicator_frame

PNG = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Collect the page's section titles, tables (rows of cell texts) and image sources."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.titles: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[str] = []
        self.links: list[str] = []  # every src/href other than an embedded image
        self._title: str | None = None
        self._text: list[str] | None = None
        self._rows: list[list[str]] | None = None
        self._tables_under_title = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h2", "h3", "th", "td"):
            self._text = []
        elif tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag == "img":
            self.images.append(dict(attrs)["src"] or "")
        self.links += [
            value or ""
            for name, value in attrs
            if name in ("src", "href") and not (value or "").startswith("data:")
        ]

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3"):
            self._title = "".join(self._text or [])
            self._tables_under_title = 0
            self.titles.append(self._title)
            self._text = None
        elif tag in ("th", "td") and self._rows is not None:
            self._rows[-1].append("".join(self._text or []))
            self._text = None
        elif tag == "table" and self._rows is not None:
            # Several tables under one title (the statistics in two columns) are numbered.
            self._tables_under_title += 1
            key = (
                f"{self._title}"
                if self._tables_under_title == 1
                else f"{self._title} {self._tables_under_title}"
            )
            self.tables[key] = self._rows
            self._rows = None


@pytest.fixture
def result() -> BacktestResult:
    """Two setups over 2024–2025: a $1,000 long win, a $500 short loss, a $250 long win (in 2025)."""
    index = pd.bdate_range("2024-01-01", "2025-03-31", name="time")
    rows = [
        ("bullish_reversal", "long", "2024-02-01", 2000.0, "2024-02-08", 2020.0, 1_000.0, 2.0),
        ("bearish_breakdown", "short", "2024-06-03", 1990.0, "2024-06-05", 2000.0, -500.0, -1.0),
        ("bullish_reversal", "long", "2025-01-06", 2100.0, "2025-01-10", 2105.0, 250.0, 0.5),
    ]
    trades = pd.DataFrame(
        rows,
        columns=[
            "setup",
            "direction",
            "entry_time",
            "entry_price",
            "exit_time",
            "exit_price",
            "pnl_net",
            "r_multiple",
        ],
    )
    for column in ("entry_time", "exit_time"):
        trades[column] = pd.to_datetime(trades[column])
    trades["pnl_points"] = (trades["exit_price"] - trades["entry_price"]) * np.where(
        trades["direction"] == "long", 1.0, -1.0
    )
    trades["contracts"] = 1
    equity = pd.Series(100_000.0, index=index, name="equity")
    for trade in trades.itertuples():
        equity[equity.index >= trade.exit_time] += trade.pnl_net
    config = {"contract": "RTY", "cash": 100_000.0, "fill_policy": "pessimistic"}
    params = {
        "bullish_reversal": {"stop_offset": "13pt", "rsi_max": None},
        "bearish_breakdown": {"max_hold": 40},
    }
    return BacktestResult.from_run(trades, equity, params=params, config=config)


@pytest.fixture
def bars() -> pd.DataFrame:
    index = pd.bdate_range("2024-01-01", "2025-03-31", name="time")
    close = np.linspace(2000.0, 2100.0, len(index))
    return pd.DataFrame(
        {"open": close, "high": close + 5.0, "low": close - 5.0, "close": close, "volume": 1.0}, index=index
    )


def test_report_is_one_self_contained_page_with_the_equity_chart_embedded(result: BacktestResult) -> None:
    text = render_html(result)
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", text)
    assert "<script" not in text and "<link" not in text
    page = _Page(text)
    assert len(page.images) == 1
    prefix = "data:image/png;base64,"
    assert page.images[0].startswith(prefix)
    assert base64.b64decode(page.images[0][len(prefix) :]).startswith(PNG)


def test_report_has_every_section_in_reading_order(result: BacktestResult) -> None:
    page = _Page(render_html(result))
    assert page.titles == [
        "Equity",
        "Statistics",
        "By setup and direction",
        "By setup",
        "By direction",
        "By year",
        "Deepest drawdowns",
        "Trades (3)",
        "Parameters and run settings",
    ]


def test_report_tables_hold_the_stats_per_setup_per_year_and_every_trade(result: BacktestResult) -> None:
    page = _Page(render_html(result, title="Q"))
    statistics = dict(row for row in page.tables["Statistics"][1:] + page.tables["Statistics 2"][1:])
    assert statistics["Return [%]"] == "0.75"  # 100,000 → 100,750
    assert statistics["Net P&L [$]"] == "750.00"
    assert statistics["# Trades"] == "3"
    assert statistics["Max. Drawdown [$]"] == "-500.00"  # 101,000 → 100,500
    assert statistics["Duration [days]"] == "455"  # 2024-01-01 → 2025-03-31
    by_setup = page.tables["By setup"]
    assert by_setup[0] == ["Statistic", "bearish_breakdown", "bullish_reversal"]
    assert dict((row[0], row[1:]) for row in by_setup[1:])["Net P&L [$]"] == ["-500.00", "1,250.00"]
    by_year = page.tables["By year"]
    assert [row[:3] for row in by_year] == [
        ["year", "Return [%]", "Net P&L [$]"],
        ["2024", "0.50", "500.00"],
        ["2025", "0.25", "250.00"],
    ]
    trades = page.tables["Trades (3)"]
    assert trades[0][:4] == ["#", "setup", "direction", "entry_time"]
    assert [row[:4] for row in trades[1:]] == [
        ["1", "bullish_reversal", "long", "2024-02-01"],
        ["2", "bearish_breakdown", "short", "2024-06-03"],
        ["3", "bullish_reversal", "long", "2025-01-06"],
    ]
    settings = dict(page.tables["Parameters and run settings"][1:])
    assert settings == {
        "bullish_reversal.stop_offset": "13pt",
        "bullish_reversal.rsi_max": "none",
        "bearish_breakdown.max_hold": "40",
        "config.contract": "RTY",
        "config.cash": "100,000.00",
        "config.fill_policy": "pessimistic",
    }


def test_report_colours_gains_green_and_losses_red(result: BacktestResult) -> None:
    text = render_html(result)
    assert '<td class="num pos">1,000.00</td>' in text  # the first trade's pnl_net
    assert '<td class="num neg">-500.00</td>' in text


def test_report_with_bars_adds_the_interactive_price_chart_with_its_library_inline(
    result: BacktestResult, bars: pd.DataFrame
) -> None:
    text = render_html(result, bars=bars)
    page = _Page(text)
    assert "Price and trades" in page.titles
    assert len(page.images) == 1  # the equity PNG; the price chart is drawn by the page's script
    assert '<div class="chart">' in text
    assert "/* BEGIN bokeh.min.js */" in text
    assert page.links == []  # nothing outside the file (tests/test_report_browser.py opens it offline)


def test_report_of_eighteen_years_of_daily_bars_stays_under_two_megabytes(result: BacktestResult) -> None:
    frame = indicator_frame(load_sample("daily"))  # 4,533 bars, 2008-2025
    size = len(render_html(result, bars=frame).encode("utf-8"))
    assert 1_000_000 < size < 2_000_000  # BokehJS is about 1.3 MB of it


def test_report_escapes_names_from_the_data(result: BacktestResult) -> None:
    trades = result.trades.assign(setup=["<script>alert(1)</script>", "b", "c"])
    hostile = BacktestResult.from_run(trades, result.equity, params={}, config={})
    text = render_html(hostile)
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_a_run_without_trades_still_reports(result: BacktestResult) -> None:
    empty = BacktestResult.from_run(
        result.trades.iloc[:0], result.equity * 0 + 100_000.0, params={}, config={}
    )
    page = _Page(render_html(empty))
    assert "Trades (0)" in page.titles
    assert "By setup and direction" not in page.titles


def _run_command(argv: list[str]) -> int:
    """Run ``rtystrat --quiet report ARGV``'s handler; errors propagate (``main`` would print them)."""
    args = build_parser().parse_args(["--quiet", "report", *argv])
    return args.func(args)


def test_report_command_writes_the_page_beside_the_json(result: BacktestResult, tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    result.to_json(path)
    assert _run_command([str(path)]) == 0
    page = _Page((tmp_path / "run.html").read_text(encoding="utf-8"))
    assert dict(page.tables["Statistics"][1:])["Return [%]"] == "0.75"


def test_report_command_with_data_adds_the_price_chart(
    result: BacktestResult, bars: pd.DataFrame, tmp_path: Path
) -> None:
    path, data = tmp_path / "run.json", tmp_path / "bars.csv"
    result.to_json(path)
    bars.to_csv(data)
    assert _run_command([str(path), "--data", str(data), "-o", str(tmp_path / "out.html")]) == 0
    text = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "Price and trades" in _Page(text).titles
    assert '"name":"entries"' in text.replace(" ", "")  # the trades' markers are in the chart's document


def test_report_command_names_a_missing_result_and_data_outside_its_period(
    result: BacktestResult, bars: pd.DataFrame, tmp_path: Path
) -> None:
    with pytest.raises(DataError, match=r"nope\.json: no such result file"):
        _run_command([str(tmp_path / "nope.json")])
    path, data = tmp_path / "run.json", tmp_path / "bars.csv"
    result.to_json(path)
    bars.shift(800, freq="D").to_csv(data)  # bars from 2026 on
    with pytest.raises(DataError, match=r"bars\.csv: no bars between 2024-01-01"):
        _run_command([str(path), "--data", str(data)])
