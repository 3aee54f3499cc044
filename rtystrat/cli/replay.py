"""``rtystrat replay article``: trade the March-2025 analysis's exact numbers; print what each order did."""

from __future__ import annotations

import argparse
import json
import sys

from rtystrat.cli.backtest import add_run_arguments, load, run_config
from rtystrat.cli.common import add_data_options
from rtystrat.cli.outputs import atomic_path, check_output

EPILOG = """\
example:
  rtystrat replay article --data RTY_F_yahoo_daily.csv --json replay.json

  Places the analysis's orders on the first bar of 2025-03-13 — buy limit 2,003 (stop 1,990) as two legs
  with targets 2,100 and 2,210, and a sell stop 1,999.9 ("short below 2,000", stop 2,060, target 1,880) —
  and reports each fill, exit and P&L per RTY contract. Any daily or intraday file covering that date works.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``replay`` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "replay",
        help="replay the March-2025 analysis's trades with its absolute numbers",
        description="Trade the analysis's absolute entry, stop and target prices from its date on with "
        "rtystrat's fill rules and costs, and report each order's fill, exit and P&L.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument("analysis", choices=("article",), help="which analysis to replay")
    add_data_options(parser, data_help="bars file covering the analysis date", required=True)
    add_run_arguments(parser)
    parser.add_argument("--json", metavar="OUT", help="write the result and the per-leg outcome as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Replay the analysis on ``args.data``, print the per-leg table, write JSON on request; return 0."""
    from rtystrat.replay import replay_article

    args.quiet = getattr(args, "quiet", False)
    config = run_config(args)
    check_output("--json", args.json, {"--data": args.data, "--intraday": args.intraday})
    bars, intraday = load(args)
    replay = replay_article(bars, config=config, intraday=intraday)
    print(replay.summary())
    if args.json:
        with atomic_path(args.json) as path:
            path.write_text(json.dumps(replay.to_dict(), indent=1, allow_nan=False) + "\n", encoding="utf-8")
        if not args.quiet:
            print(f"wrote {args.json}", file=sys.stderr)
    return 0
