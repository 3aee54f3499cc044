"""Figures: what each plot draws (axes, labels, markers, colours), checked on crafted data."""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations
from pathlib import Path
from types import SimpleNamespace

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from rtystrat import plotting
from rtystrat.analysis.montecarlo import MonteCarloResult
from rtystrat.errors import ParameterError

GREEN, RED = "#2ca02c", "#d62728"
LEVELS = ("P", "S1", "S2", "S3", "R1")
# Hand-set monthly levels: January has no completed month before it, February and March do.
MONTH_LEVELS = {
    "2025-01": dict.fromkeys(LEVELS, np.nan),
    "2025-02": {"P": 105.0, "S1": 100.0, "S2": 95.0, "S3": 90.0, "R1": 110.0},
    "2025-03": {"P": 101.0, "S1": 98.0, "S2": 94.0, "S3": 88.0, "R1": 104.0},
}


@pytest.fixture
def frame() -> pd.DataFrame:
    """Daily bars for Q1 2025 with hand-set monthly levels, SMAs and an RSI."""
    index = pd.bdate_range("2025-01-01", "2025-03-31", name="time")
    rng = np.random.default_rng(3)
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.0, len(index)))
    open_ = close + rng.normal(0.0, 0.5, len(index))
    frame = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + 0.5,
            "low": np.minimum(open_, close) - 0.5,
            "close": close,
            "volume": 1.0,
        },
        index=index,
    )
    for month, levels in MONTH_LEVELS.items():
        for name, value in levels.items():
            frame.loc[month, name] = value
    frame["sma_50"] = frame["close"].rolling(50).mean()
    frame["sma_100"] = frame["close"].rolling(10).mean()  # any line will do; the name is what is checked
    frame["rsi_14"] = np.linspace(20.0, 80.0, len(index))
    frame.attrs["source"] = "crafted.csv"
    return frame


@pytest.fixture
def trades(frame: pd.DataFrame) -> pd.DataFrame:
    """Three round trips: a winning long, a losing short, a losing long."""
    rows = [
        ("2025-01-08", 100.0, "2025-01-15", 103.0, "long", 145.0),
        ("2025-02-10", 99.0, "2025-02-12", 101.0, "short", -105.0),
        ("2025-03-03", 98.0, "2025-03-10", 96.5, "long", -80.0),
    ]
    return pd.DataFrame(
        [
            {
                "setup": "test",
                "direction": direction,
                "entry_time": pd.Timestamp(entry_time),
                "entry_price": entry_price,
                "exit_time": pd.Timestamp(exit_time),
                "exit_price": exit_price,
                "pnl_net": pnl,
            }
            for entry_time, entry_price, exit_time, exit_price, direction, pnl in rows
        ]
    )


@pytest.fixture
def equity(frame: pd.DataFrame, trades: pd.DataFrame) -> pd.Series:
    """Cash plus each trade's net P&L from its exit on: 10,000 → 10,145 → 10,040 → 9,960."""
    values = pd.Series(10_000.0, index=frame.index, name="equity")
    for trade in trades.itertuples():
        values[values.index >= trade.exit_time] += trade.pnl_net
    return values


def _by_gid(fig: Figure, gid: str) -> list:
    return [artist for artist in fig.findobj() if artist.get_gid() == gid]


def _face_hexes(collection) -> list[str]:
    return [to_hex(color) for color in collection.get_facecolors()]


def test_price_figure_has_a_price_axes_above_volume_and_rsi_axes_with_zones(frame: pd.DataFrame) -> None:
    volumes = np.arange(1.0, len(frame) + 1.0)
    fig = plotting.plot_price(frame.assign(volume=volumes))
    price, volume, rsi = fig.axes
    assert price.get_ylabel() == "Price"
    assert volume.get_ylabel() == "Volume"
    (bars,) = _by_gid(fig, "volume")
    corners = np.array([path.vertices[:4] for path in bars.get_paths()])
    assert corners[:, 1, 1].tolist() == volumes.tolist()  # each bar's top is its volume
    assert (corners[:, 0, 1] == 0.0).all()
    days = mdates.date2num(frame.index.to_pydatetime())
    assert corners[:, :2, 0].mean(axis=1) + 0.4 == pytest.approx(days)  # 0.8 of a day wide, left edge
    assert volume.get_ylim() == pytest.approx((0.0, 1.05 * volumes.max()))
    assert rsi.get_ylabel() == "RSI 14"
    assert rsi.get_ylim() == (0.0, 100.0)
    assert list(rsi.get_yticks()) == [30.0, 70.0]
    assert isinstance(rsi.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)
    assert fig.get_suptitle() == "crafted.csv  2025-01-01 – 2025-03-31"


def test_price_figure_without_rsi_or_volume_has_one_axes(frame: pd.DataFrame) -> None:
    assert len(plotting.plot_price(frame, rsi=None).axes) == 2
    assert len(plotting.plot_price(frame, rsi=None, volume=False).axes) == 1
    assert len(plotting.plot_price(frame.assign(volume=0.0), rsi=None).axes) == 1  # a file without volume


def test_price_title_names_the_setups_the_data_and_the_period(
    frame: pd.DataFrame, trades: pd.DataFrame
) -> None:
    fig = plotting.plot_price(frame, trades.assign(setup=["b", "a", "b"]))
    assert fig.get_suptitle() == "a, b  crafted.csv  2025-01-01 – 2025-03-31"


def test_an_entry_marker_stays_above_the_exit_of_the_same_bar(
    frame: pd.DataFrame, trades: pd.DataFrame
) -> None:
    same_bar = trades.assign(exit_time=trades["entry_time"], exit_price=trades["entry_price"])
    fig = plotting.plot_price(frame, same_bar)
    (longs,) = _by_gid(fig, "entries-long")
    (exits,) = _by_gid(fig, "exits")
    assert longs.get_zorder() > exits.get_zorder()
    assert longs.get_sizes()[0] > exits.get_sizes()[0]  # the exit's ✕ sits inside the entry's outline


def test_levels_are_left_out_of_a_long_window_unless_asked_for() -> None:
    index = pd.bdate_range("2020-01-01", periods=600, name="time")
    close = np.linspace(100.0, 200.0, len(index))
    long_frame = pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1.0}, index=index
    )
    for name, offset in {"P": 0.0, "S1": -5.0, "S2": -10.0, "S3": -15.0, "R1": 5.0}.items():
        long_frame[name] = close + offset
    long_frame["sma_50"] = long_frame["sma_100"] = long_frame["rsi_14"] = close
    assert not _by_gid(plotting.plot_price(long_frame), "level-P")  # 600 bars: the price reads alone
    assert _by_gid(plotting.plot_price(long_frame, start=index[-200]), "level-P")  # zoomed in: drawn
    assert _by_gid(plotting.plot_price(long_frame, levels=("P",)), "level-P")  # asked for: drawn


def test_price_figure_marks_every_entry_and_exit_coloured_by_outcome(
    frame: pd.DataFrame, trades: pd.DataFrame
) -> None:
    fig = plotting.plot_price(frame, trades)
    (longs,) = _by_gid(fig, "entries-long")
    (shorts,) = _by_gid(fig, "entries-short")
    (exits,) = _by_gid(fig, "exits")
    assert longs.get_offsets().tolist() == [
        [mdates.date2num(pd.Timestamp("2025-01-08")), 100.0],
        [mdates.date2num(pd.Timestamp("2025-03-03")), 98.0],
    ]
    assert _face_hexes(longs) == [GREEN, RED]
    assert _face_hexes(shorts) == [RED]
    assert len(exits.get_offsets()) == 3
    assert _face_hexes(exits) == [GREEN, RED, RED]
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert labels == ["SMA 50", "SMA 100", "long entry", "short entry", "exit", "win", "loss"]


def test_price_window_marks_only_trades_inside_it(frame: pd.DataFrame, trades: pd.DataFrame) -> None:
    fig = plotting.plot_price(frame, trades, start="2025-02-01", end="2025-02-28")
    assert not _by_gid(fig, "entries-long")
    (shorts,) = _by_gid(fig, "entries-short")
    (exits,) = _by_gid(fig, "exits")
    assert len(shorts.get_offsets()) == len(exits.get_offsets()) == 1
    assert fig.get_suptitle() == "test  crafted.csv  2025-02-03 – 2025-02-28"


def test_levels_are_one_flat_segment_per_period_without_the_empty_first_month(frame: pd.DataFrame) -> None:
    fig = plotting.plot_price(frame)
    (pivot,) = _by_gid(fig, "level-P")
    assert isinstance(pivot, LineCollection)
    segments = [segment.tolist() for segment in pivot.get_segments()]
    february, march = (mdates.date2num(pd.Timestamp(day)) for day in ("2025-02-03", "2025-03-03"))
    end = mdates.date2num(pd.Timestamp("2025-04-01"))  # last bar + one day
    assert segments == [[[february, 105.0], [march, 105.0]], [[march, 101.0], [end, 101.0]]]


def test_levels_are_labelled_right_of_the_axes_with_latest_values_and_never_overlap(
    frame: pd.DataFrame,
) -> None:
    fig = plotting.plot_price(frame)
    labels = {name: _by_gid(fig, f"level-label-{name}")[0] for name in LEVELS}
    assert {name: text.get_text() for name, text in labels.items()} == {
        "P": "P 101.0",
        "S1": "S1 98.0",
        "S2": "S2 94.0",
        "S3": "S3 88.0",
        "R1": "R1 104.0",
    }
    assert all(text.get_position()[0] > 1.0 for text in labels.values())
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    boxes = [text.get_window_extent(canvas.get_renderer()) for text in labels.values()]
    assert not any(a.overlaps(b) for a, b in combinations(boxes, 2))
    # Price order is kept from bottom to top.
    heights = {name: box.y0 for name, box in zip(labels, boxes, strict=True)}
    assert sorted(heights, key=heights.get) == ["S3", "S2", "S1", "P", "R1"]


def test_short_window_draws_candles_and_long_window_a_close_line(frame: pd.DataFrame) -> None:
    fig = plotting.plot_price(frame, levels=(), sma=(), rsi=None)
    (bodies,) = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    assert len(bodies.get_paths()) == len(frame)
    fig = plotting.plot_price(frame, levels=(), sma=(), rsi=None, candles=False)
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["close"]
    assert not [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]


def test_price_names_a_missing_column_and_an_empty_window(frame: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match=r"frame: no column 'sma_20' \(did you mean 'sma_50'\?\)"):
        plotting.plot_price(frame, sma=("sma_20",))
    with pytest.raises(ParameterError, match="no bars between 2030-01-01 and None"):
        plotting.plot_price(frame, start="2030-01-01")


def test_equity_figure_has_equity_and_drawdown_panels_with_trade_exits(
    equity: pd.Series, trades: pd.DataFrame
) -> None:
    benchmark = (10_000.0 + np.arange(len(equity))).astype(float)
    fig = plotting.plot_equity(equity, pd.Series(benchmark, index=equity.index), trades)
    top, bottom = fig.axes
    assert top.get_ylabel() == "Equity [$]"
    assert bottom.get_ylabel() == "Drawdown [%]"
    assert [line.get_label() for line in top.get_lines()] == ["strategy", "buy & hold"]
    (exits,) = _by_gid(fig, "trade-exits")
    assert exits.get_offsets()[:, 1].tolist() == [10_145.0, 10_040.0, 9_960.0]
    assert _face_hexes(exits) == [GREEN, RED, RED]
    # Deepest drawdown: 9,960 from the 10,145 peak = -1.82 %, reached at the last exit.
    drawdown = bottom.get_lines()[0].get_ydata()
    assert drawdown.min() == pytest.approx(100.0 * (9_960.0 / 10_145.0 - 1.0))
    assert bottom.get_title(loc="right") == "max drawdown -1.8 % on 2025-03-10"
    assert isinstance(bottom.xaxis.get_major_formatter(), mdates.ConciseDateFormatter)


def test_plots_name_a_trade_column_they_miss(
    frame: pd.DataFrame, trades: pd.DataFrame, equity: pd.Series
) -> None:
    with pytest.raises(ParameterError, match="trades: no column 'pnl_net'"):
        plotting.plot_price(frame, trades.drop(columns="pnl_net"))
    with pytest.raises(ParameterError, match="trades: no column 'exit_time'"):
        plotting.plot_equity(equity, trades=trades.drop(columns="exit_time"))


def test_equity_of_intraday_bars_keeps_their_time_zone_on_the_axis(equity: pd.Series) -> None:
    intraday = equity.copy()
    intraday.index = pd.date_range("2025-03-10 08:30", periods=len(equity), freq="min", tz="America/Chicago")
    fig = plotting.plot_equity(intraday)
    x = fig.axes[0].get_lines()[0].get_xdata()
    assert x[0] == mdates.date2num(pd.Timestamp("2025-03-10 13:30"))  # 08:30 CDT is 13:30 UTC
    assert str(fig.axes[1].xaxis.get_major_formatter()._tz) == "America/Chicago"


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_figures_are_saved_in_the_format_of_the_suffix(
    equity: pd.Series, tmp_path: Path, suffix: str, magic: bytes
) -> None:
    path = tmp_path / f"equity{suffix}"
    plotting.plot_equity(equity, path=path)
    assert path.read_bytes().startswith(magic)


def test_saving_to_an_unknown_format_names_the_file(equity: pd.Series, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"cannot save a figure as 'equity\.txt'"):
        plotting.plot_equity(equity, path=tmp_path / "equity.txt")


@pytest.fixture
def sweep() -> pd.DataFrame:
    """Expectancy over stop 10/5/20 (unsorted, as a random search lists them) × target pivot/mid/r1."""
    stops, targets = [10, 5, 20], ["pivot", "mid", "r1"]
    index = pd.MultiIndex.from_product([stops, targets], names=["stop_offset", "target"])
    values = [0.1, -0.2, 0.3, 0.0, 0.5, np.nan, -0.4, 0.2, 0.25]
    return pd.DataFrame({"Expectancy [R]": values, "# Trades": 10}, index=index)


def test_heatmap_puts_numbers_in_order_and_labels_as_listed_with_the_best_cell_outlined(
    sweep: pd.DataFrame,
) -> None:
    fig = plotting.plot_heatmap(sweep)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "10", "20"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["pivot", "mid", "r1"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("stop_offset", "target", "Expectancy [R]")
    cells = ax.images[0].get_array()
    assert cells.tolist() == [[0.0, 0.1, -0.4], [0.5, -0.2, 0.2], [None, 0.3, 0.25]]  # masked = no result
    (best,) = _by_gid(fig, "best")
    assert best.get_xy() == (-0.5, 0.5)  # stop 5, target mid
    assert sorted(t.get_text() for t in ax.texts) == sorted(
        f"{v:.2f}" for v in sweep["Expectancy [R]"].dropna()
    )
    assert fig.axes[1].get_ylabel() == "Expectancy [R]"  # the colour bar


def test_heatmap_takes_the_best_over_other_parameters_and_asks_which_is_the_row(sweep: pd.DataFrame) -> None:
    wider = pd.concat({1: sweep, 2: sweep + 1.0}, names=["max_hold"])
    with pytest.raises(
        ParameterError, match=r"y: name the parameter for the rows, one of \['max_hold', 'target'\]"
    ):
        plotting.plot_heatmap(wider)
    fig = plotting.plot_heatmap(wider, y="target")
    assert fig.axes[0].images[0].get_array()[0].tolist() == [1.0, 1.1, 0.6]
    assert fig.axes[0].get_title() == "Expectancy [R] (max over max_hold)"


def test_heatmap_ignores_parameters_held_at_one_value(sweep: pd.DataFrame) -> None:
    fixed = pd.concat({"none": sweep}, names=["rsi_max"])
    fig = plotting.plot_heatmap(fixed)
    assert (fig.axes[0].get_ylabel(), fig.axes[0].get_title()) == ("target", "Expectancy [R]")


def test_heatmap_orders_offsets_of_one_unit_by_value(sweep: pd.DataFrame) -> None:
    offsets = sweep.rename(index={10: "10pt", 5: "5pt", 20: "20pt"}, level="stop_offset")
    fig = plotting.plot_heatmap(offsets)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["5pt", "10pt", "20pt"]


def test_heatmap_names_an_unknown_stat(sweep: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match=r"no column 'Expectancy' \(did you mean 'Expectancy \[R\]'\?\)"):
        plotting.plot_heatmap(sweep, value="Expectancy")


def test_importing_plotting_neither_loads_pyplot_nor_switches_the_backend() -> None:
    code = (
        # Read the rc value, not get_backend(): resolving the backend itself imports pyplot.
        "import sys, matplotlib; before = matplotlib.rcParams._get('backend'); import rtystrat.plotting; "
        "print('matplotlib.pyplot' in sys.modules, matplotlib.rcParams._get('backend') == before)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


@pytest.fixture
def monte_carlo_result() -> MonteCarloResult:
    """Three hand-made paths of two trades in R: up-up, down-up, up-down."""
    paths = np.array([[0.0, 1.0, 2.0], [0.0, -1.0, 0.0], [0.0, 1.0, 0.0]])
    return MonteCarloResult(
        final_equity=paths[:, -1],
        max_drawdown=np.array([0.0, -1.0, -1.0]),
        max_drawdown_percent=None,
        unit="R",
        method="shuffle",
        start_equity=0.0,
        paths=paths,
    )


def test_monte_carlo_figure_draws_paths_bands_and_the_drawdown_histogram(
    monte_carlo_result: MonteCarloResult,
) -> None:
    fig = plotting.plot_montecarlo(monte_carlo_result, sample_paths=2)
    fan, histogram = fig.axes
    (paths,) = _by_gid(fig, "sample-paths")
    assert [segment[:, 1].tolist() for segment in paths.get_segments()] == [[0.0, 1.0, 2.0], [0.0, -1.0, 0.0]]
    (median,) = fan.get_lines()
    assert median.get_ydata().tolist() == [0.0, 1.0, 0.0]  # per-trade median of the three paths
    assert (fan.get_xlabel(), fan.get_ylabel()) == ("Trade", "Equity [R]")
    assert [t.get_text() for t in fan.get_legend().get_texts()] == ["5–95 %", "25–75 %", "median"]
    assert sum(patch.get_height() for patch in histogram.patches) == 3  # one count per path
    assert histogram.get_xlabel() == "Max. drawdown [R]"
    labels = [t.get_text() for t in histogram.get_legend().get_texts()]
    assert labels == ["median -1.0 R", "5th percentile -1.0 R"]
    assert fig.get_suptitle() == "Monte Carlo: 3 shuffle paths of 2 trades"


def test_monte_carlo_figure_needs_the_paths(monte_carlo_result: MonteCarloResult) -> None:
    without = MonteCarloResult(**{**monte_carlo_result.__dict__, "paths": None})
    with pytest.raises(ParameterError, match="keep_paths=True"):
        plotting.plot_montecarlo(without)


@pytest.fixture
def walk_forward_result() -> SimpleNamespace:
    """Three 2-month test windows after 4-month training windows; the second chose nothing and stayed flat."""
    tests = pd.to_datetime(["2024-05-01", "2024-07-01", "2024-09-01", "2024-11-01"])
    windows = pd.DataFrame(
        {
            "train_start": tests[:-1] - pd.DateOffset(months=4),
            "train_end": tests[:-1] - pd.Timedelta(days=1),
            "test_start": tests[:-1],
            "test_end": tests[1:] - pd.Timedelta(days=1),
            "stop_offset": ["5pt", None, "10pt"],
            "target": ["pivot", None, "r1"],
            "reentry": [True, None, True],  # fixed: not repeated on every row
            "IS Expectancy [R]": [0.4, np.nan, 0.2],
            "OOS Net P&L [$]": [300.0, 0.0, -100.0],
            "WFE": [0.5, np.nan, np.nan],
            "note": ["", "flat: no run with ≥ 10 trades in training (most: 4)", ""],
        },
        index=pd.RangeIndex(1, 4, name="window"),
    )
    index = pd.bdate_range("2024-05-01", "2024-10-31", name="time")
    equity = pd.Series(np.linspace(10_000.0, 10_200.0, len(index)), index=index, name="equity")
    stats = pd.Series({"Return [%]": 2.0, "Walk-Forward Efficiency": 0.25})
    return SimpleNamespace(windows=windows, equity=equity, stats=stats, trades=pd.DataFrame())


def test_walk_forward_figure_shows_oos_equity_and_one_row_per_window(
    walk_forward_result: SimpleNamespace,
) -> None:
    fig = plotting.plot_walkforward(walk_forward_result)
    top, bottom = fig.axes
    assert top.get_ylabel() == "OOS equity [$]"
    assert top.get_lines()[0].get_ydata()[[0, -1]].tolist() == [10_000.0, 10_200.0]
    assert len(top.patches) == 3  # one shaded span per test window
    train, test = _by_gid(fig, "train-windows"), _by_gid(fig, "test-windows")
    start = mdates.date2num(pd.Timestamp("2024-01-01"))
    assert train[0].get_x() == start
    assert train[0].get_width() == mdates.date2num(pd.Timestamp("2024-05-01")) - start
    assert [to_hex(bar.get_facecolor()) for bar in test] == ["#ff7f0e", "#dddddd", "#ff7f0e"]
    # Window numbers are the table's; the parameters and the reason for a flat window label the rows,
    # left of the axis, so no text runs over the bars.
    assert not bottom.texts
    assert [t.get_text() for t in bottom.get_yticklabels()] == [
        "1  stop_offset=5pt, target=pivot",
        "2  flat: no run with ≥ 10 trades in training (most: 4)",
        "3  stop_offset=10pt, target=r1",
    ]
    fig.canvas.draw()
    bars_left = min(bar.get_window_extent().x0 for bar in [*train, *test])
    assert all(t.get_window_extent().x1 <= bars_left for t in bottom.get_yticklabels())
    # Every colour drawn is named in a legend.
    legend_colours = {
        to_hex(handle.get_facecolor() if hasattr(handle, "get_facecolor") else handle.get_color())
        for axis in fig.axes
        for handle in axis.get_legend().legend_handles
    }
    drawn = {to_hex(bar.get_facecolor()) for bar in [*train, *test]} | {
        to_hex(top.get_lines()[0].get_color())
    }
    drawn |= {to_hex(span.get_facecolor()) for span in top.patches}
    assert drawn <= legend_colours
    assert [t.get_text() for t in bottom.get_legend().get_texts()] == [
        "in sample (train)",
        "out of sample (test)",
        "out of sample, flat (no choice)",
    ]
    assert fig.get_suptitle() == "Walk-forward: 3 windows, OOS return 2.0 %, efficiency 0.25"
    walk_forward_result.stats["Probability of Backtest Overfitting"] = 0.625
    titled = plotting.plot_walkforward(walk_forward_result)
    assert titled.get_suptitle() == "Walk-forward: 3 windows, OOS return 2.0 %, efficiency 0.25, PBO 0.62"
