"""A backtest as one self-contained HTML file: headline figures, charts, statistics tables and the trade list.

The file has no external references: CSS is inline, the equity chart is embedded as base64 PNG and the
interactive price chart carries its JavaScript library inline, so it can be mailed, archived or opened
offline. Every cell is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rtystrat.analysis import formatting
from rtystrat.analysis.formatting import config_facts, format_time, format_value, run_facts
from rtystrat.plotting.interactive import chart_html, interactive_chart
from rtystrat.plotting.performance import plot_equity

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rtystrat.analysis.results import BacktestResult

__all__ = ["render_html"]

HEADLINE = (
    "Return [%]",
    "Net P&L [$]",
    "Max. Drawdown [%]",
    "# Trades",
    "Win Rate [%]",
    "Profit Factor",
    "Expectancy [R]",
    "Sharpe Ratio",
)
# The page has room for the excursions, bars held and same-bar ambiguity too.
REPORT_TRADE_COLUMNS = (*formatting.SUMMARY_TRADE_COLUMNS, "mae_r", "mfe_r", "bars_held", "ambiguous")
# Cells of these columns/rows are green when positive and red when negative.
_SIGNED = ("Return", "P&L", "Expectancy", "pnl_", "r_multiple", "Trade [")
_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1f2328; margin: 0; background: #f6f8fa; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
.facts { color: #57606a; margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 10px; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px; }
.card .label { color: #57606a; font-size: 12px; }
.card .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
figure { margin: 8px 0; } figure img { width: 100%; height: auto; }
.scroll { overflow-x: auto; } .trades { max-height: 560px; overflow-y: auto; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 0 32px; }
.side { display: flex; flex-wrap: wrap; gap: 0 32px; } .side h3 { font-size: 15px; margin: 8px 0 6px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eaeef2; white-space: nowrap; }
thead th { background: #f6f8fa; text-align: left; position: sticky; top: 0; }
tbody th { text-align: left; font-weight: 600; }
td.num, th.num { text-align: right; } .pos { color: #1a7f37; } .neg { color: #cf222e; }
tbody tr:nth-child(even) { background: #fafbfc; }
.muted { color: #57606a; }
.chart { min-height: 400px; }
"""


def render_html(result: BacktestResult, *, bars: pd.DataFrame | None = None, title: str | None = None) -> str:
    """Render a backtest result as one self-contained HTML page.

    Parameters
    ----------
    result : BacktestResult
        The backtest to report.
    bars : pd.DataFrame, optional
        The bars it ran on; adds the interactive price chart (`rtystrat.plotting.interactive`): candles,
        volume, the trades at their fills, equity and drawdown on one zoomable time axis. An indicator frame
        (``rtystrat.signals.features.indicator_frame``) also shows its levels, SMAs and RSI.
    title : str, optional
        Page title; by default "Backtest report" and the setups traded.

    Returns
    -------
    str
        The HTML document: headline figures, equity chart, interactive price chart (with `bars`), statistics,
        tables per setup, direction and year, deepest drawdowns, the trade list, parameters and run settings.
    """
    trades = result.trades
    setups = sorted(map(str, trades["setup"].unique())) if "setup" in trades else []
    title = title or "Backtest report" + (f": {', '.join(setups)}" if setups else "")
    facts = run_facts(result.equity.index, trades)
    facts += [
        f"{key.replace('_', ' ')} {format_value(key, value)}" for key, value in config_facts(result.config)
    ]
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="facts">{" · ".join(html.escape(fact) for fact in facts)}</p>',
        _cards(result.stats),
        "<h2>Equity</h2>",
        _image(plot_equity(result.equity, result.benchmark, trades, title=""), "Equity and drawdown"),
    ]
    if bars is not None:
        chart = interactive_chart(bars, trades, result.equity)
        body += ["<h2>Price and trades</h2>", f'<div class="chart">{chart_html(chart)}</div>']
    stats = result.stats.rename_axis("Statistic").to_frame("Value")
    half = (len(stats) + 1) // 2
    body += [
        "<h2>Statistics</h2>",
        f'<div class="columns">{_table(stats.iloc[:half])}{_table(stats.iloc[half:])}</div>',
    ]
    breakdowns = [
        f"<div><h3>By {name}</h3>{_table(table().T.rename_axis('Statistic'))}</div>"
        for name, table in (("setup", result.by_setup), ("direction", result.by_direction))
        if name in trades and len(trades)
    ]
    if breakdowns:
        body += ["<h2>By setup and direction</h2>", f'<div class="side scroll">{"".join(breakdowns)}</div>']
    body += ["<h2>By year</h2>", _scroll(_table(result.by_year()))]
    body += ["<h2>Deepest drawdowns</h2>", _scroll(_table(_drawdowns(result)))]
    columns = [column for column in REPORT_TRADE_COLUMNS if column in trades]
    trade_table = (
        trades[columns].set_axis(range(1, len(trades) + 1)).rename_axis("#") if len(trades) else None
    )
    body += [
        f"<h2>Trades ({len(trades):,})</h2>",
        f'<div class="scroll trades">{_table(trade_table)}</div>' if trade_table is not None else _none(),
    ]
    # Run settings are keyed "config.<name>" so they never clash with a strategy parameter's name.
    settings = {**dict(_flatten(result.params)), **dict(_flatten(result.config, "config."))}
    shown = {name: "none" if value is None else format_value(name, value) for name, value in settings.items()}
    table = pd.Series(shown, dtype=object).rename_axis("Name").to_frame("Value")
    body += ["<h2>Parameters and run settings</h2>", _table(table)]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        "<body><main>\n" + "\n".join(body) + "\n</main></body>\n</html>\n"
    )


def _flatten(values: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Yield ``(dotted name, value)`` pairs, one per leaf (``bullish_reversal.stop_offset``)."""
    for key, value in values.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _image(fig: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


def _cards(stats: pd.Series) -> str:
    cards = [
        f'<div class="card"><div class="label">{html.escape(key)}</div>'
        f'<div class="value{_sign_class(key, stats[key])}">{html.escape(format_value(key, stats[key]))}</div>'
        "</div>"
        for key in HEADLINE
        if key in stats
    ]
    return f'<div class="cards">{"".join(cards)}</div>'


def _drawdowns(result: BacktestResult) -> pd.DataFrame:
    table = result.drawdowns(5)
    return table.set_axis(range(1, len(table) + 1)).rename_axis("#")


def _scroll(content: str) -> str:
    return f'<div class="scroll">{content}</div>'


def _none() -> str:
    return '<p class="muted">None.</p>'


def _table(table: pd.DataFrame | None) -> str:
    """Render `table` with its index as the first column; numbers right-aligned and signed ones coloured."""
    if table is None or table.empty:
        return _none()
    numeric = [_is_number_column(table[column]) for column in table.columns]
    header = "".join(
        f"<th{' class=num' if right else ''}>{html.escape(str(column))}</th>"
        for column, right in zip(table.columns, numeric, strict=True)
    )
    rows = []
    for label, values in zip(table.index, table.itertuples(index=False), strict=True):
        cells = [f"<th>{html.escape(_label(label))}</th>"]
        for column, value in zip(table.columns, values, strict=True):
            # A transposed stats table has the statistic in the row label: it decides the format.
            key = label if table.index.name == "Statistic" else column
            css = ("num" if _is_number(value) else "") + _sign_class(key, value)
            cells.append(f'<td class="{css.strip()}">{html.escape(format_value(key, value))}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    index_name = html.escape(str(table.index.name or ""))
    return (
        f"<table><thead><tr><th>{index_name}</th>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _is_number_column(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _sign_class(key: Any, value: Any) -> str:
    if not _is_number(value) or not any(mark in str(key) for mark in _SIGNED) or not math.isfinite(value):
        return ""
    return " pos" if value > 0 else " neg" if value < 0 else ""


def _label(value: Any) -> str:
    return format_time(value) if isinstance(value, pd.Timestamp) else str(value)
