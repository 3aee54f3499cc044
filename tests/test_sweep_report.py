"""The sweep's HTML report: self-contained, the ranking, the heatmap, the diagnostics and their figure."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from rtystrat import render_sweep_html
from rtystrat.data.sample import load_sample
from rtystrat.tuning.diagnostics import diagnose, probability_of_backtest_overfitting, spa_test
from rtystrat.tuning.sweep import sweep

GRID = {"stop_offset": "10:30:10pt", "target": ["pivot", "mid"], "rsi_max": ["none"]}


@pytest.fixture(scope="module")
def kept() -> tuple[pd.DataFrame, pd.DataFrame]:
    bars = load_sample("daily").loc["2016-01-01":]
    return sweep("bullish_reversal", bars, GRID, executor="serial", progress=False, keep_returns=True)


class _Cells(HTMLParser):
    """Collects the text of every table row and the sources of the images (a second reading of the page)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.images: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(dict(attrs)["src"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _read(page: str) -> _Cells:
    cells = _Cells()
    cells.feed(page)
    return cells


def test_sweep_report_shows_the_diagnostics_numbers_and_both_figures_inline(
    kept: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    frame, returns = kept
    report = diagnose(frame, returns, min_trades=5, blocks=8, spa_reps=100, seed=4)
    page = render_sweep_html(frame, report, min_trades=5, title="RTY <sweep>")
    cells = _read(page)
    rows = {row[0]: row[1:] for row in cells.rows if row}
    # The numbers come from separate computations on the same returns, not from the summary the page read.
    pbo = probability_of_backtest_overfitting(returns, 8).pbo
    assert rows["Probability of Backtest Overfitting"][0] == f"{pbo:.3f}"
    assert "8 blocks, 70 splits" in rows["Probability of Backtest Overfitting"][1]
    summary = report.to_dict()
    spa = spa_test(_monthly_or_weekly(returns, summary["spa"]["period"]), reps=100, seed=4)
    assert rows["Hansen's SPA p-value vs flat"][0] == f"{spa['pvalue_consistent']:.3f}"
    selected = summary["selected"]
    assert rows["Deflated Sharpe Ratio"][0] == f"{selected['deflated_sharpe_ratio']:.3f}"
    assert rows["Probabilistic Sharpe Ratio"][0] == f"{selected['probabilistic_sharpe_ratio']:.3f}"
    assert rows["Best plateau"][0].startswith("stop_offset=")
    # The ranking: the best run first, by the objective among runs with at least 5 trades.
    ranked = frame[frame["# Trades"] >= 5].sort_values("Expectancy [R]", ascending=False, kind="stable")
    first = next(row for row in cells.rows if row and row[0] == "1")
    assert first[1:3] == list(ranked.index[0][:2])
    assert first[3] == f"{ranked['Expectancy [R]'].iloc[0]:,.2f}"
    # Self-contained: the heatmap and the overfitting figure are inline PNGs, nothing is fetched.
    assert len(cells.images) == 2 and all(src.startswith("data:image/png;base64,") for src in cells.images)
    assert not re.search(r"(src|href)=\"?https?:", page)
    assert "<title>RTY &lt;sweep&gt;</title>" in page


def _monthly_or_weekly(returns: pd.DataFrame, period: str) -> pd.DataFrame:
    """The compounded returns the SPA test ran on, by pandas' calendar resampling."""
    rule = {"month": "ME", "week": "W"}[period]
    return (1 + returns.astype("float64")).resample(rule).prod() - 1


def test_sweep_report_without_diagnostics_has_the_ranking_only(
    kept: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    frame, _ = kept
    page = render_sweep_html(frame, min_trades=1_000)
    assert "How likely is the best run an accident?" not in page
    assert "no run has 1000 or more trades" in page
    assert len(_read(page).images) == 1  # the heatmap
