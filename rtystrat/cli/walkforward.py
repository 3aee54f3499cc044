"""``rtystrat walkforward``: optimise on rolling (or anchored) windows and trade the winners out of sample."""

from __future__ import annotations

import argparse
import json

from rtystrat.cli.outputs import atomic_path, check_output
from rtystrat.cli.sweep import add_run_options, format_frame, format_number, load_inputs, wrote

EPILOG = """\
example:
  rtystrat walkforward bullish_reversal --data RTY_F_yahoo_daily.csv \\
      --grid stop_offset=5:40:5pt --grid target=pivot,mid,r1 --param rsi_max=none \\
      --train 24 --test 6 --json walkforward.json --plot walkforward.png

Each window optimises the objective on --train months (runs with fewer than --min-trades trades do not
count), then trades the winning parameters on the next --test months; the test windows are stitched into
one out-of-sample equity curve. --anchored starts every training window at the first month.
Walk-forward efficiency = annualised out-of-sample profit / annualised in-sample profit (1 = as good).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``walkforward`` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "walkforward",
        help="walk-forward optimisation with stitched out-of-sample results",
        description="Optimise on a training window, trade the best parameters on the next, repeat.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    add_run_options(parser)
    parser.add_argument(
        "--train", type=int, default=24, metavar="MONTHS", help="training months (default: 24)"
    )
    parser.add_argument("--test", type=int, default=6, metavar="MONTHS", help="test months (default: 6)")
    parser.add_argument(
        "--anchored", action="store_true", help="training windows all start at the first month"
    )
    parser.add_argument("--min-trades", type=int, default=5, help="fewest training trades a run needs")
    parser.add_argument(
        "--plot", metavar="OUT", help="save the out-of-sample equity over the windows (PNG/SVG/PDF)"
    )
    parser.set_defaults(func=run, executor="serial")


def run(args: argparse.Namespace) -> int:
    """Run the walk-forward the options describe; print windows and out-of-sample stats; write JSON/plot."""
    from rtystrat.tuning.walkforward import walk_forward

    inputs = {"--data": args.data}
    check_output("--json", args.json, inputs)
    check_output("--plot", args.plot, inputs)
    strategy, bars, space, shared = load_inputs(args)
    result = walk_forward(
        strategy, bars, space, train=args.train, test=args.test, anchored=args.anchored, **shared
    )
    print(format_frame(result.windows))
    print()
    keys = ["Return [%]", "CAGR [%]", "Max. Drawdown [%]", "Sharpe Ratio", "# Trades", "Expectancy [R]",
            "Net P&L [$]", "Walk-Forward Efficiency", "Probability of Backtest Overfitting"]  # fmt: skip
    stats = result.stats.reindex(keys)
    width = max(len(key) for key in keys)
    for key, value in stats.items():
        print(f"{key:<{width}}  {format_number(value, key)}")
    if args.json:
        with atomic_path(args.json) as path:
            path.write_text(json.dumps(result.to_dict(), indent=1, allow_nan=False), encoding="utf-8")
        wrote(args, args.json)
    if args.plot:
        from rtystrat.plotting import plot_walkforward  # matplotlib only when a figure is asked for

        with atomic_path(args.plot) as path:
            plot_walkforward(result, path=path)
        wrote(args, args.plot)
    return 0
