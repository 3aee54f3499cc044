"""``rtystrat backtest``: run one or both setups on a bars file (or the shipped sample), print the summary."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rtystrat.choices import PERIODS, POLICIES
from rtystrat.cli.common import add_data_options, add_strategy_path_option, check_input, read_bars
from rtystrat.cli.outputs import atomic_path, check_output
from rtystrat.errors import ParameterError
from rtystrat.registry import SETUP_GROUPS, discover, file_reference, resolve_strategies, strategy_names

if TYPE_CHECKING:
    import pandas as pd

    from rtystrat.execution.config import RunConfig

EPILOG = """\
examples:
  rtystrat backtest both                                  # both setups, one account, shipped sample data
  rtystrat backtest bullish_reversal --data RTY.csv --param stop_offset=20pt --param target=mid
  rtystrat backtest bearish_breakdown --data RTY.csv --fill-policy ohlc_path --json result.json
  rtystrat backtest bullish_reversal --data RTY_1min.csv --timeframe D   # minute bars, daily SMA/RSI/ATR
  rtystrat backtest --list                                # strategies and their parameters

  Strategies are looked up by name in the recipes shipped with rtystrat, each --strategy-path folder and
  the 'rtystrat.strategies' entry points, or given as module:Class or path/file.py:Class. Of a folder only
  the file whose class declares name = "STRATEGY" is imported (found by reading the files, not running
  them); --list imports every file of the folders. A ./strategies folder is not searched.

  --param name=value sets a strategy parameter (offsets: 13pt, 130tick, 0.5%, 1.5atr; a bare number is
  points); with several strategies it goes to every one that declares it, or write strategy.name=value.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``backtest`` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "backtest",
        help="backtest a setup (or both) and print the statistics",
        description="Backtest one or several strategies in one account with rtystrat's fill rules and "
        "futures costs, and print a summary. Without --data it runs on the shipped synthetic sample.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    parser.add_argument(
        "strategy",
        nargs="*",
        metavar="STRATEGY",
        help="strategy name, 'both', or module:Class (several run in one account)",
    )
    add_data_options(parser, data_help="bars file, CSV or Parquet (default: the shipped sample)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="strategy parameter (repeatable)",
    )
    add_run_arguments(parser)
    add_strategy_path_option(parser)
    parser.add_argument("--json", metavar="OUT", help="write the result as JSON to OUT")
    parser.add_argument(
        "--plot", metavar="OUT", help="save the equity curve with its drawdown panel (PNG/SVG)"
    )
    parser.add_argument("--list", action="store_true", help="list the strategies found and their parameters")
    parser.set_defaults(func=run)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the run settings of ``backtest`` and ``replay``: account, costs, intraday bars, window."""
    add_account_arguments(parser)
    parser.add_argument(
        "--intraday",
        metavar="FILE",
        help="lower-timeframe bars that resolve ambiguous bars (--fill-policy intraday); read with the "
        "same --repair and --source-tz as --data",
    )
    parser.add_argument("--start", help="first date traded, YYYY-MM-DD (indicators warm up on earlier data)")
    parser.add_argument("--end", help="last date traded, YYYY-MM-DD")


def add_account_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the account, cost and indicator-timeframe settings of every run command (defaults: RunConfig)."""
    parser.add_argument(
        "--contract",
        metavar="SPEC",
        help="preset symbol (RTY, M2K, ES, MES, NQ, MNQ, YM, MYM; default RTY), fields "
        "(symbol=XYZ,multiplier=50,tick=0.1,commission=2.5,margin=7000) or a .toml/.json file of them",
    )
    parser.add_argument(
        "--fill-policy", choices=POLICIES, help="bar with stop and target both touched (default: pessimistic)"
    )
    parser.add_argument("--cash", type=float, help="starting cash in $ (default: 100000)")
    parser.add_argument("--contracts", type=int, help="contracts per trade (default: 1)")
    parser.add_argument(
        "--risk-per-trade", type=float, metavar="DOLLARS", help="size trades from a $ risk budget"
    )
    parser.add_argument(
        "--slippage-ticks", type=float, help="ticks of slippage on market and stop fills (default: 1)"
    )
    parser.add_argument(
        "--commission-per-side", type=float, metavar="DOLLARS", help="per contract (default: contract's)"
    )
    parser.add_argument(
        "--timeframe",
        type=str.upper,
        choices=PERIODS,
        help="count SMA/RSI/ATR in CME sessions (D), weeks, months or quarters: minute bars trade with daily "
        "indicators (default: the bars' own)",
    )


def run_config(args: argparse.Namespace) -> RunConfig:
    """Return the :class:`RunConfig` of the run flags given on the command line (others keep defaults)."""
    from rtystrat.execution.config import RunConfig  # loads numba: only once a run is asked for

    names = ("contract", "fill_policy", "cash", "contracts", "risk_per_trade", "slippage_ticks")
    names += ("commission_per_side", "start", "end", "timeframe")
    given = {name: getattr(args, name, None) for name in names}  # sweep has no window flags
    return RunConfig(**{name: value for name, value in given.items() if value is not None})


def load(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Return ``(bars, intraday bars or None)`` from ``args.data`` (None: the sample) and ``args.intraday``.

    Both files get the same ``--repair`` and ``--source-tz``; repairs are reported on stderr.
    """
    check_input("--intraday", args.intraday)  # before reading a possibly large --data
    bars = read_bars(args, args.data)
    intraday = None if args.intraday is None else read_bars(args, args.intraday, flag="--intraday")
    return bars, intraday


def parse_params(items: list[str]) -> dict[str, str]:
    """Return ``{name: text}`` from ``["name=value", ...]``; values are converted by the strategies."""
    params: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ParameterError(f"--param {item!r}: expected NAME=VALUE, e.g. --param stop_offset=20pt")
        if name.strip() in params:
            raise ParameterError(f"--param {name.strip()!r} is given twice")
        params[name.strip()] = value.strip()
    return params


def run(args: argparse.Namespace) -> int:
    """Run the backtest described by `args`, print its summary, write JSON/plot on request; return 0."""
    args.quiet = getattr(args, "quiet", False)
    if args.list:
        print(describe_strategies(args.strategy_path))
        return 0
    if not args.strategy:
        names = sorted([*strategy_names(args.strategy_path), *SETUP_GROUPS])
        raise ParameterError(f"no strategy given; choose from {', '.join(names)} (or module:Class)")
    from rtystrat.api import backtest, strategy_parameters  # backtrader and numba load here, not to parse

    config = run_config(args)
    params = parse_params(args.param)
    # Validate outputs, strategies and parameters before reading any data.
    inputs = {"--data": args.data, "--intraday": args.intraday}
    check_output("--json", args.json, inputs)
    check_output("--plot", args.plot, inputs)
    classes = resolve_strategies(args.strategy, args.strategy_path)
    strategy_parameters(classes, params)
    bars, intraday = load(args)
    result = backtest(classes, bars, config=config, intraday=intraday, progress=not args.quiet, **params)
    # Files first: a reader that closes stdout early (`| head`) must not cost the run's outputs.
    if args.json:
        with atomic_path(args.json) as path:
            result.to_json(path)
        if not args.quiet:
            print(f"wrote {args.json}", file=sys.stderr)
    if args.plot:
        from rtystrat.plotting import plot_equity  # matplotlib only when a plot is asked for

        with atomic_path(args.plot) as path:
            source = Path(args.data).name if args.data else "shipped sample"
            span = result.equity.index
            title = f"{', '.join(args.strategy)}  {source}  {span[0]:%Y-%m-%d} – {span[-1]:%Y-%m-%d}"
            plot_equity(result.equity, result.benchmark, result.trades, title=title, path=path)
        if not args.quiet:
            print(f"wrote {args.plot}", file=sys.stderr)
    print(result.summary())
    return 0


def _where(cls: type) -> str:
    """Where a strategy comes from, as a user would name it: ``strategies/x.py:Class`` (relative to the
    working directory when inside it) for a strategy file, else ``module.Class``."""
    reference = file_reference(cls)
    if reference is None:
        return f"{cls.__module__}.{cls.__qualname__}"
    path, _, name = reference.rpartition(":")
    with contextlib.suppress(ValueError):  # outside the working directory: keep the absolute path
        path = str(Path(path).relative_to(Path.cwd()))
    return f"{path}:{name}"


def describe_strategies(paths: list[str]) -> str:
    """Return the strategies found, each with its parameters (default, accepted values, doc)."""
    lines = []
    for name, cls in sorted(discover(paths).items()):
        summary = (cls.__doc__ or "").strip().splitlines()
        lines.append(f"{name}  ({_where(cls)})" + (f": {summary[0]}" if summary else ""))
        for parameter in cls.parameters.values():
            units = f" {parameter.units}" if parameter.units else ""
            lines.append(f"    {parameter.name}={parameter.default}{units}  [{parameter.expected()}]")
            lines.append(f"        {parameter.doc}")
        lines.append("")
    groups = (f"{group} = {' + '.join(members)}" for group, members in SETUP_GROUPS.items())
    lines.append(f"groups: {', '.join(groups)}")
    return "\n".join(lines)
