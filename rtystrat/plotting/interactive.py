"""The interactive price chart: candles, volume, levels, SMAs, RSI, trades, equity and drawdown in one time.

Built with Bokeh. Every panel shares one time axis: dragging pans all of them, the mouse wheel zooms all of
them, and the overview strip at the top shows the whole run with the visible window as a box to drag or
resize. The chart opens on the last `window` of the run (six months by default), so a multi-year run is
readable at first sight; zooming out reaches the whole range. Each panel's vertical scale follows the bars in
view. :func:`chart_html` embeds the chart with BokehJS inline, so a page holding it needs no network.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from bokeh.embed import components
from bokeh.layouts import gridplot
from bokeh.models import (
    BoxAnnotation,
    ColumnDataSource,
    CustomJS,
    HoverTool,
    Legend,
    NumeralTickFormatter,
    PanTool,
    PrintfTickFormatter,
    Range1d,
    RangeTool,
    Span,
    WheelZoomTool,
)
from bokeh.plotting import figure
from bokeh.resources import Resources

from rtystrat.data.bars import period_keys
from rtystrat.errors import ParameterError
from rtystrat.plotting._style import (
    EQUITY_COLOR,
    LEVEL_COLORS,
    LOSS_COLOR,
    SMA_COLORS,
    align_tz,
    outcome_colors,
    period_starts,
    require_columns,
)

__all__ = ["chart_html", "interactive_chart"]

DEFAULT_WINDOW = pd.DateOffset(months=6)
# Above this many bars a series is aggregated for the chart (5-minute bars, then 15-minute, ... then weeks):
# the page stays near 2 MB and pans smoothly; the trades keep their exact fill prices.
MAX_BARS = 5_000
_STEPS = ("5min", "15min", "30min", "1h", "2h", "4h", "D", "W")
_TOOLS = "xpan,xwheel_zoom,box_zoom,reset,save"
# Moves each panel's vertical range to the data between the time axis' start and end (x sorted ascending).
_FIT_Y = """
const x = source.data.x, low = source.data[low_key], high = source.data[high_key];
let a = 0, b = x.length;
while (a < b) { const m = (a + b) >> 1; if (x[m] < x_range.start) a = m + 1; else b = m; }
let min = zero ? 0 : Infinity, max = zero ? 0 : -Infinity;
for (let i = a; i < x.length && x[i] <= x_range.end; i++) {
  if (low[i] < min) min = low[i];
  if (high[i] > max) max = high[i];
}
if (Number.isFinite(min) && Number.isFinite(max)) {
  const pad = (max - min) * 0.05 || Math.abs(max) * 0.01 || 1;
  y_range.setv({start: min - pad, end: max + pad});
}
"""


def interactive_chart(
    frame: pd.DataFrame,
    trades: pd.DataFrame | None = None,
    equity: pd.Series | None = None,
    *,
    window: pd.DateOffset | None = DEFAULT_WINDOW,
    max_bars: int = MAX_BARS,
    title: str | None = None,
) -> Any:
    """Build the linked, zoomable chart of a backtest as a Bokeh layout.

    Parameters
    ----------
    frame : pd.DataFrame
        Bars, or an indicator frame (``rtystrat.signals.features.indicator_frame``): its level columns
        (``P``, ``S1``.., ``R1``..) are drawn as flat steps per period, ``sma_*`` columns as lines and the
        first ``rsi_*`` column in a panel of its own; ``volume`` gets a panel when any bar has some.
    trades : pd.DataFrame, optional
        Trade log. Each entry is marked ▲ (long) or ▼ (short) at its fill price and each exit ✕ at its fill
        price, joined by a dotted line, green for a win and red for a loss (``pnl_net``). Entries are drawn
        larger and above exits, so both stay visible when a trade enters and exits on one bar. Hovering a
        marker shows the trade.
    equity : pd.Series, optional
        Account value in $; adds the equity panel and the drawdown panel (``equity / cummax - 1`` in %).
    window : pd.DateOffset or None
        Time span shown on opening, ending at the last bar; None shows everything.
    max_bars : int
        Series longer than this are aggregated for the chart (5 minutes, 15, 30, 1 h, 2 h, 4 h, session day,
        week: the first step that fits). Bars take first open, highest high, lowest low, last close and summed
        volume; indicators and equity their last value; drawdown its deepest. Trade markers then stand on
        the chart bar their time falls in, at their exact fill prices.
    title : str, optional
        Title above the chart (``""`` for none); by default the setups traded, the data source and the
        period.

    Returns
    -------
    bokeh.models.GridPlot
        The panels stacked in one column. Show it in a notebook with ``bokeh.io.show``, write it with
        ``bokeh.io.save(chart, "chart.html", resources=bokeh.resources.INLINE)`` or embed it with
        :func:`chart_html`. Renderers are named (``candles``, ``entries``, ``exits``, ``equity``, ...) so a
        page can find them with ``Bokeh.documents[0].get_model_by_name``.
    """
    require_columns(frame, ["open", "high", "low", "close"], "frame")
    if frame.empty:
        raise ParameterError("frame: no bars to chart")
    if max_bars < 1:
        raise ParameterError(f"max_bars={max_bars}: must be at least 1")
    tz = frame.index.tz
    step = _step(pd.DatetimeIndex(frame.index), max_bars)
    bars = _aggregate_bars(frame, step)
    x_bars = bars["x"].to_numpy()
    spacing = float(np.median(np.diff(x_bars))) if len(x_bars) > 1 else 86_400_000.0
    curves = None if equity is None or equity.empty else _aggregate_equity(equity, tz, max_bars)
    first = min(x_bars[0], np.inf if curves is None else curves["x"].iat[0]) - spacing
    last = max(x_bars[-1], -np.inf if curves is None else curves["x"].iat[-1]) + spacing
    start = first if window is None else max(first, _ms(pd.Timestamp(last, unit="ms") - window))
    x_range = Range1d(start, last, bounds=(first, last))

    source = _source(bars)
    price = _panel("price", x_range, height=420, y_axis_label="Price")
    _candles(price, source, spacing)
    _levels(price, bars, spacing)
    for name, color in zip(
        [column for column in frame.columns if str(column).startswith("sma_")], itertools.cycle(SMA_COLORS)
    ):
        price.line(
            "x", name, source=source, color=color, line_width=1.4, legend_label=_label(name), name=name
        )
    trade_source = None if trades is None or trades.empty else _trades(price, trades, tz, step)
    _fit_y(price, x_range, source, "low", "high")
    panels = [price]
    if "volume" in bars and bool((bars["volume"] > 0).any()):
        volume = _panel("volume", x_range, height=110, y_axis_label="Volume")
        volume.vbar("x", 0.8 * spacing, "volume", source=source, color="#9e9e9e", name="volume-bars")
        volume.yaxis.formatter = NumeralTickFormatter(format="0.[0]a")  # 350k, not 3.500e+5
        _fit_y(volume, x_range, source, "volume", "volume", zero=True)
        panels.append(volume)
    rsi = next((column for column in frame.columns if str(column).startswith("rsi_")), None)
    if rsi is not None:
        panels.append(_rsi(x_range, source, rsi))
    if curves is not None:
        panels += _equity(x_range, curves)
    _legend_outside(price)
    overview = _overview(x_range, source, trade_source, first, last)
    chart = gridplot(
        [[panel] for panel in [overview, *panels]], merge_tools=True, sizing_mode="stretch_width"
    )
    # Drag pans and the wheel zooms from the start, as in backtesting.py's and vectorbt's charts.
    chart.toolbar.active_drag = _merged_tool(chart, PanTool)
    chart.toolbar.active_scroll = _merged_tool(chart, WheelZoomTool)
    overview.title.text = _title(frame, trades, bars) if title is None else title
    return chart


def chart_html(chart: Any) -> str:
    """Return `chart` as an HTML fragment with BokehJS inline: no request leaves the page."""
    script, div = components(chart)
    # The core library is all the chart uses: no widgets, tables, WebGL or MathJax bundles.
    return Resources(mode="inline", components=["bokeh"]).render_js() + div + script


def _source(frame: pd.DataFrame) -> ColumnDataSource:
    """A data source of the frame's columns as plain arrays (Bokeh's DataFrame path adds an index)."""
    return ColumnDataSource({str(column): frame[column].to_numpy() for column in frame.columns})


def _merged_tool(chart: Any, kind: type) -> Any:
    """The merged toolbar's proxy for the panels' tools of `kind`."""
    return next(tool for tool in chart.toolbar.tools if isinstance(getattr(tool, "tools", [tool])[0], kind))


def _ms(times: pd.DatetimeIndex | pd.Timestamp) -> Any:
    """Milliseconds since 1970 of naive wall-clock times: Bokeh's time axis shows them as written."""
    if isinstance(times, pd.Timestamp):
        return times.as_unit("ns").value / 1e6
    return pd.DatetimeIndex(times).as_unit("ns").asi8 / 1e6


def _wall(times: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Drop the time zone, keeping the local time the bars were stamped in."""
    return times if times.tz is None else times.tz_localize(None)


def _keys(times: pd.DatetimeIndex, step: str | None) -> pd.DatetimeIndex:
    """The chart bar each time falls in: itself, the start of its `step`, or its session day or week."""
    if step in ("D", "W"):
        return period_keys(times, step)
    wall = _wall(times)
    return wall if step is None else wall.floor(step)


def _step(times: pd.DatetimeIndex, max_bars: int) -> str | None:
    """The finest step that leaves at most `max_bars` chart bars (None: the series as it is)."""
    if len(times) <= max_bars:
        return None
    for step in _STEPS:
        if _keys(times, step).nunique() <= max_bars:
            return step
    return _STEPS[-1]


def _aggregate_bars(frame: pd.DataFrame, step: str | None) -> pd.DataFrame:
    """Bars (and indicator columns) per chart bar, with ``x`` in ms and a fill colour per candle."""
    keys = _keys(pd.DatetimeIndex(frame.index), step)
    rules = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    numeric = frame.select_dtypes("number")
    grouped = numeric.groupby(keys.to_numpy(), sort=True)
    bars = grouped.agg({column: rules.get(str(column), "last") for column in numeric.columns})
    bars.insert(0, "x", _ms(pd.DatetimeIndex(bars.index)))
    bars["color"] = np.where(bars["close"] >= bars["open"], "white", "#555555")
    return bars.reset_index(drop=True)


def _aggregate_equity(equity: pd.Series, tz: Any, max_bars: int) -> pd.DataFrame:
    """Equity and drawdown in % (from every bar, so no trough is lost) per chart bar."""
    index = align_tz(equity.index, tz)
    values = equity.to_numpy(dtype=float)
    columns = {
        "equity": values,
        "drawdown": 100.0 * (values / np.maximum.accumulate(values) - 1.0),
    }
    frame = pd.DataFrame(columns)
    keys = _keys(index, _step(index, max_bars)).to_numpy()
    curves = frame.groupby(keys, sort=True).agg(
        {name: "min" if name == "drawdown" else "last" for name in frame}
    )
    curves.insert(0, "x", _ms(pd.DatetimeIndex(curves.index)))
    return curves.reset_index(drop=True)


def _panel(name: str, x_range: Range1d, *, height: int, y_axis_label: str) -> Any:
    panel = figure(
        name=name,
        x_range=x_range,
        y_range=Range1d(0, 1),  # set to the opening window by _fit_y
        x_axis_type="datetime",
        height=height,
        tools=_TOOLS,
        sizing_mode="stretch_width",
        y_axis_label=y_axis_label,
    )
    panel.grid.grid_line_alpha = 0.3
    return panel


def _fit_y(
    panel: Any, x_range: Range1d, source: ColumnDataSource, low: str, high: str, *, zero: bool = False
) -> None:
    """Fit `panel`'s vertical range to the window now (in Python) and on every pan or zoom (in the page)."""
    data = source.data
    shown = (data["x"] >= x_range.start) & (data["x"] <= x_range.end)
    values = np.concatenate(
        [np.asarray(data[low])[shown], np.asarray(data[high])[shown], [0.0] if zero else []]
    )
    values = values[np.isfinite(values)]
    if len(values):
        bottom, top = float(values.min()), float(values.max())
        pad = (top - bottom) * 0.05 or abs(top) * 0.01 or 1.0
        panel.y_range.start, panel.y_range.end = bottom - pad, top + pad
    callback = CustomJS(
        args={
            "source": source,
            "x_range": x_range,
            "y_range": panel.y_range,
            "low_key": low,
            "high_key": high,
            "zero": zero,
        },
        code=_FIT_Y,
    )
    x_range.js_on_change("start", callback)
    x_range.js_on_change("end", callback)


def _candles(panel: Any, source: ColumnDataSource, spacing: float) -> None:
    """Wicks and bodies: hollow when the bar closed up, filled grey when it closed down."""
    panel.segment("x", "high", "x", "low", source=source, color="#444444", name="wicks")
    bodies = panel.vbar(
        "x",
        0.7 * spacing,
        "open",
        "close",
        source=source,
        fill_color="color",
        line_color="#444444",
        legend_label="bars",
        name="candles",
    )
    panel.add_tools(
        HoverTool(
            renderers=[bodies],
            tooltips=[
                ("time", "@x{%F %H:%M}"),
                ("open", "@open{0,0.00}"),
                ("high", "@high{0,0.00}"),
                ("low", "@low{0,0.00}"),
                ("close", "@close{0,0.00}"),
            ],
            formatters={"@x": "datetime"},
        )
    )


def _levels(panel: Any, bars: pd.DataFrame, spacing: float) -> None:
    """Each level as one flat segment per period, from the period's first chart bar to the next period's."""
    names = [name for name in LEVEL_COLORS if name in bars]
    if not names:
        return
    starts = period_starts(bars[names])
    x = bars["x"].to_numpy()
    segments = pd.DataFrame({"x0": x[starts], "x1": np.append(x[starts[1:]], x[-1] + spacing)})
    for name in names:
        steps = segments.assign(level=bars[name].to_numpy(dtype=float)[starts])
        steps = steps[np.isfinite(steps["level"])]
        panel.segment(
            "x0",
            "level",
            "x1",
            "level",
            source=_source(steps),
            color=LEVEL_COLORS[name],
            line_dash="dashed",
            line_width=1.2,
            legend_label=name,
            name=f"level-{name}",
        )


def _trades(panel: Any, trades: pd.DataFrame, tz: Any, step: str | None) -> ColumnDataSource:
    """Draw entries and exits at their fill prices, joined by a dotted line; return the trades' source.

    A marker stands on the chart bar its time falls in (the bar itself unless bars were aggregated to
    `step`); its tooltip gives the exact time.
    """
    columns = ("direction", "entry_time", "entry_price", "exit_time", "exit_price", "pnl_net")
    require_columns(trades, columns, "trades")
    entry_times, exit_times = align_tz(trades["entry_time"], tz), align_tz(trades["exit_time"], tz)
    long = trades["direction"].to_numpy() == "long"
    data = {
        "entry_x": _ms(_keys(entry_times, step)),
        "exit_x": _ms(_keys(exit_times, step)),
        "entry_price": trades["entry_price"].to_numpy(dtype=float),
        "exit_price": trades["exit_price"].to_numpy(dtype=float),
        "marker": np.where(long, "triangle", "inverted_triangle"),
        "color": outcome_colors(trades["pnl_net"]),
        "setup": trades["setup"].astype(str).to_numpy() if "setup" in trades else np.full(len(trades), ""),
        "direction": trades["direction"].astype(str).to_numpy(),
        "entered": _wall(entry_times).strftime("%Y-%m-%d %H:%M").to_numpy(),
        "exited": _wall(exit_times).strftime("%Y-%m-%d %H:%M").to_numpy(),
        "pnl_net": trades["pnl_net"].to_numpy(dtype=float),
        "r_multiple": trades["r_multiple"].to_numpy(dtype=float)
        if "r_multiple" in trades
        else np.full(len(trades), np.nan),
    }
    source = ColumnDataSource(data)
    panel.segment(
        "entry_x",
        "entry_price",
        "exit_x",
        "exit_price",
        source=source,
        color="color",
        line_dash="dotted",
        line_width=1.5,
        name="trade-lines",
    )
    # Exits first and smaller, entries last and larger: a same-bar trade shows both markers.
    exits = panel.scatter(
        "exit_x",
        "exit_price",
        source=source,
        marker="x",
        size=10,
        line_width=2.5,
        color="color",
        legend_label="exit",
        name="exits",
    )
    entries = panel.scatter(
        "entry_x",
        "entry_price",
        source=source,
        marker="marker",
        size=13,
        fill_color="color",
        line_color="black",
        legend_label="entry ▲ long ▼ short",
        name="entries",
    )
    panel.add_tools(
        HoverTool(
            renderers=[entries, exits],
            tooltips=[
                ("trade", "@setup @direction"),
                ("entry", "@entered @entry_price{0,0.00}"),
                ("exit", "@exited @exit_price{0,0.00}"),
                ("P&L", "$@pnl_net{0,0.00} (@r_multiple{0.00} R)"),
            ],
        )
    )
    return source


def _rsi(x_range: Range1d, source: ColumnDataSource, rsi: str) -> Any:
    panel = _panel("rsi", x_range, height=110, y_axis_label=_label(rsi))
    panel.y_range.start, panel.y_range.end = 0, 100
    panel.add_layout(BoxAnnotation(bottom=30, top=70, fill_color="#eeeeee", fill_alpha=0.6))
    panel.line("x", rsi, source=source, color="#6a3d9a", name=rsi)
    return panel


def _equity(x_range: Range1d, curves: pd.DataFrame) -> list[Any]:
    source = _source(curves)
    equity = _panel("equity", x_range, height=170, y_axis_label="Equity [$]")
    equity.line("x", "equity", source=source, color=EQUITY_COLOR, line_width=1.5, name="equity-curve")
    equity.add_tools(
        HoverTool(
            tooltips=[("time", "@x{%F %H:%M}"), ("equity", "$@equity{0,0.00}")],
            formatters={"@x": "datetime"},
            mode="vline",
        )
    )
    equity.yaxis.formatter = NumeralTickFormatter(format="$0,0")
    _fit_y(equity, x_range, source, "equity", "equity")
    drawdown = _panel("drawdown", x_range, height=120, y_axis_label="Drawdown")
    drawdown.yaxis.formatter = PrintfTickFormatter(format="%.1f%%")
    drawdown.varea(
        "x", 0.0, "drawdown", source=source, color=LOSS_COLOR, fill_alpha=0.35, name="drawdown-area"
    )
    drawdown.add_layout(Span(location=0, dimension="width", line_color="#999999"))
    _fit_y(drawdown, x_range, source, "drawdown", "drawdown", zero=True)
    return [equity, drawdown]


def _overview(
    x_range: Range1d, source: ColumnDataSource, trades: ColumnDataSource | None, first: float, last: float
) -> Any:
    """The whole run's close and entries, with the visible window as a box to drag (a RangeTool)."""
    overview = figure(
        name="overview",
        x_range=Range1d(first, last),
        x_axis_type="datetime",
        height=90,
        tools="",
        toolbar_location=None,
        sizing_mode="stretch_width",
    )
    overview.line("x", "close", source=source, color="#444444")
    if trades is not None:  # where the trades are, to find them in a long run
        overview.scatter(
            "entry_x",
            "entry_price",
            source=trades,
            marker="marker",
            size=6,
            color="color",
            name="overview-entries",
        )
    overview.yaxis.visible = False
    overview.grid.grid_line_color = None
    overview.add_tools(RangeTool(x_range=x_range))
    return overview


def _legend_outside(panel: Any) -> None:
    legend: Legend = panel.legend[0]
    legend.orientation = "horizontal"
    legend.click_policy = "hide"  # a click on an entry hides its lines, e.g. the levels
    legend.label_text_font_size = "11px"
    panel.add_layout(legend, "above")


def _label(column: str) -> str:
    return column.replace("_", " ").upper()


def _title(frame: pd.DataFrame, trades: pd.DataFrame | None, bars: pd.DataFrame) -> str:
    setups = (
        ", ".join(sorted(map(str, trades["setup"].unique())))
        if trades is not None and not trades.empty and "setup" in trades
        else ""
    )
    times = pd.to_datetime(bars["x"].iloc[[0, -1]], unit="ms")
    period = f"{times.iat[0]:%Y-%m-%d} – {times.iat[1]:%Y-%m-%d}"
    return "  ".join(part for part in (setups, frame.attrs.get("source", ""), period) if part)
