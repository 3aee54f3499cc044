"""``rtystrat report``: turn a result JSON (``backtest --json``) into one self-contained HTML page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rtystrat.cli.common import add_data_options, read_bars
from rtystrat.cli.outputs import atomic_path, check_output
from rtystrat.errors import DataError

EPILOG = """\
example:
  rtystrat backtest both --json result.json
  rtystrat report result.json -o report.html
  rtystrat report result.json --data data/rty_sample_daily.csv -o report.html  # + interactive chart
"""


def register(subparsers: Any) -> None:
    """Add the ``report`` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "report",
        help="write an HTML report (stats, charts, trades) from a result JSON",
        description="Write one self-contained HTML file (inline CSS, charts and script; opens offline)\n"
        "from a result JSON: headline figures, equity and drawdown, statistics, per-setup,\n"
        "per-direction and per-year tables, deepest drawdowns and the trade list; with --data an\n"
        "interactive price chart.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("result", type=Path, metavar="RESULT.json", help="result written by --json")
    parser.add_argument(
        "-o", "--output", type=Path, help="HTML file to write (default: RESULT with the suffix .html)"
    )
    add_data_options(
        parser,
        data_help="the bars the backtest ran on: adds an interactive price chart with the trades, monthly "
        "levels, SMA 50/100, RSI 14, equity and drawdown",
    )
    parser.add_argument("--title", help="page title (default: 'Backtest report' and the setups)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read the result (and bars), render the page and write it; print where it went."""
    from rtystrat.analysis.results import BacktestResult
    from rtystrat.plotting.report import render_html  # matplotlib loads only when a report is asked for

    if not args.result.is_file():
        raise DataError(f"{args.result}: no such result file (write one with 'rtystrat backtest ... --json')")
    inputs = {"RESULT.json": args.result, "--data": args.data}
    check_output("-o", args.output or args.result.with_suffix(".html"), inputs)  # before any reading
    result = BacktestResult.from_json(args.result)
    bars = None if args.data is None else _bars(args, result.equity.index)
    output = check_output("-o", args.output or args.result.with_suffix(".html"), inputs)
    page = render_html(result, bars=bars, title=args.title)
    with atomic_path(output) as path:
        path.write_text(page, encoding="utf-8")
    if not getattr(args, "quiet", False):
        print(f"wrote {output} ({output.stat().st_size / 1024:,.0f} KiB)", file=sys.stderr)
    return 0


def _bars(args: argparse.Namespace, index: Any) -> Any:
    """Indicator frame of the ``--data`` bars, cut to the backtest's period (indicators warm up before it)."""
    from rtystrat.signals.features import indicator_frame

    frame = indicator_frame(read_bars(args, args.data), levels="M:classic", sma=(50, 100), rsi=14, atr=None)
    window = frame.loc[index[0] : index[-1]]
    if window.empty:
        raise DataError(f"{args.data}: no bars between {index[0]} and {index[-1]}, the period of the result")
    return window
