"""``rtystrat sweep``: run a strategy over a parameter grid, resumably, on any executor."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from rtystrat.cli.backtest import add_account_arguments, run_config
from rtystrat.cli.common import add_data_options, add_strategy_path_option, read_bars
from rtystrat.cli.outputs import atomic_path, check_output
from rtystrat.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from rtystrat.tuning.space import ParameterSpace

EPILOG = """\
example:
  rtystrat sweep bullish_reversal --data RTY_F_yahoo_daily.csv \\
      --grid stop_offset=5:40:5pt --grid target=pivot,mid,r1 --param rsi_max=none \\
      --store sweep.sqlite --confirm-top 3 --json sweep.json --heatmap heatmap.png

grid syntax (--grid NAME=SPEC, repeatable):
  5:40:5          5, 10, ..., 40 (start:stop:step, stop included)
  5:40:5pt        "5pt", ..., "40pt" (units: pt, tick, %, atr)
  pivot,mid,r1    a list
  --random N draws N combinations of the grid (seeded by --seed); --constraint "target_offset > stop_offset"
  keeps only combinations that satisfy it. Grids over 1,000,000 runs need --yes.

Rerunning with the same --store skips the runs it holds (a killed sweep resumes). --executor dask-local
starts a local Dask cluster on 127.0.0.1; dask://HOST:PORT uses an existing scheduler (pip install
'rtystrat[dask]'). --engine kernel (default) screens with the fast kernel; --confirm-top N reruns the best
N in backtrader and reports those statistics. --diagnostics also keeps each run's daily returns (in --store
too) and reports how likely the best run is an accident: Deflated and Probabilistic Sharpe Ratio, the
Probability of Backtest Overfitting, Hansen's SPA test against staying flat, and the best plateau beside the
best peak; with --json the file becomes {"runs": [...], "diagnostics": {...}}, and --html FILE writes the
ranking, the heatmap and the diagnostics with their figure as one self-contained page.
"""


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Add the data, strategy-path and run-setting options shared by ``sweep`` and ``walkforward``."""
    parser.add_argument("strategy", metavar="STRATEGY", help="strategy name, e.g. bullish_reversal")
    add_data_options(parser, data_help="bars file (CSV or Parquet); default: the daily sample")
    parser.add_argument(
        "--grid", action="append", default=[], metavar="NAME=SPEC", help="parameter axis (repeatable)"
    )
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="fixed parameter (repeatable)"
    )
    parser.add_argument("--random", type=int, metavar="N", help="draw N random combinations of the grid")
    parser.add_argument("--seed", type=int, default=0, help="seed of --random (default: 0)")
    parser.add_argument(
        "--constraint", action="append", default=[], metavar="EXPR", help="keep combinations where EXPR holds"
    )
    parser.add_argument("--yes", action="store_true", help="allow grids of more than 1,000,000 runs")
    parser.add_argument("--objective", default="Expectancy [R]", help="statistic to rank by")
    parser.add_argument("--minimize", action="store_true", help="lower objective is better")
    parser.add_argument(
        "--executor", default="process", help="process, serial, dask-local or dask://HOST:PORT"
    )
    parser.add_argument("--workers", type=int, help="worker processes (default: all cores)")
    add_strategy_path_option(parser)
    add_account_arguments(parser)
    parser.add_argument("--json", metavar="OUT", help="write the results as JSON")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "sweep",
        help="tune parameters over a grid (resumable, parallel, fast kernel)",
        description="Run a strategy over every combination of a parameter grid and rank the runs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    add_run_options(parser)
    parser.add_argument("--min-trades", type=int, default=10, help="fewest trades a ranked run needs")
    parser.add_argument("--store", metavar="FILE", help="SQLite results store (resume, skip finished runs)")
    parser.add_argument("--engine", default="kernel", choices=("kernel", "backtrader"), help="run engine")
    parser.add_argument(
        "--confirm-top", type=int, default=0, metavar="N", help="rerun the best N in backtrader"
    )
    parser.add_argument("--top", type=int, default=10, metavar="K", help="rows of the printed ranking")
    parser.add_argument("--heatmap", metavar="PNG", help="save a heatmap of the objective (two parameters)")
    parser.add_argument(
        "--html", metavar="FILE", help="write a self-contained HTML report (with the diagnostics when asked)"
    )
    diagnostics = parser.add_argument_group("overfitting diagnostics")
    diagnostics.add_argument(
        "--diagnostics",
        action="store_true",
        help="keep each run's daily returns; report DSR, PSR, PBO, Hansen's SPA and plateau vs peak",
    )
    diagnostics.add_argument(
        "--blocks", type=int, default=16, metavar="S", help="PBO: even number of CSCV blocks (default: 16)"
    )
    diagnostics.add_argument(
        "--spa-reps",
        type=int,
        default=500,
        metavar="N",
        help="SPA bootstrap replications on monthly returns (weekly under 120 months; default: 500; 0 skips)",
    )
    diagnostics.add_argument(
        "--benchmark-sharpe", type=float, default=0.0, metavar="SR", help="annualised Sharpe the PSR tests"
    )
    diagnostics.add_argument(
        "--diagnostics-plot", metavar="PNG", help="save the PBO figure (logit histogram, OOS vs IS)"
    )
    parser.set_defaults(func=run)


def load_inputs(args: argparse.Namespace) -> tuple[type, pd.DataFrame, ParameterSpace, dict[str, Any]]:
    """Return the strategy, bars and parameter space the options describe, and the keyword arguments that
    ``sweep`` and ``walk_forward`` share (run config, objective, executor, progress, ...)."""
    from rtystrat.registry import get_strategy
    from rtystrat.tuning.space import ParameterSpace, parse_grid

    quiet = getattr(args, "quiet", False)
    if args.workers is not None and args.workers < 1:
        raise ParameterError(f"--workers {args.workers}: give at least 1 (or leave it out for all cores)")
    strategy = get_strategy(args.strategy, args.strategy_path)
    bars = read_bars(args, args.data)
    if args.data is None and not quiet:
        print("no --data: using the synthetic daily sample", file=sys.stderr)
    axes: dict[str, Any] = dict(parse_grid(args.grid))
    if not axes:
        raise ParameterError("sweep: give at least one --grid NAME=SPEC")
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param {item!r}: write name=value, e.g. rsi_max=none")
        if name.strip() in axes:
            raise ParameterError(f"--param {item!r}: {name.strip()!r} is also a --grid axis")
        axes[name.strip()] = [value.strip()]
    space = ParameterSpace(
        axes, constraints=args.constraint, random=args.random, seed=args.seed, yes=args.yes
    )
    config = run_config(args)
    if not quiet:
        print(f"{strategy.name}: {space.describe()}", file=sys.stderr)
    shared = {
        "config": config,
        "objective": args.objective,
        "min_trades": args.min_trades,
        "maximize": not args.minimize,
        "executor": args.executor,
        "workers": args.workers,
        "progress": not quiet,
    }
    return strategy, bars, space, shared


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return ``[{"params": ..., "stats": ..., ["backtrader_stats": ...]}]`` in grid order."""
    import pandas as pd

    from rtystrat.tuning.store import plain

    names = list(frame.index.names)
    confirmed = [column for column in frame.columns if column.startswith("Backtrader ")]
    records = []
    for values, row in zip(frame.index, frame.to_dict(orient="records"), strict=True):
        values = values if isinstance(values, tuple) else (values,)
        record = {
            "params": plain(dict(zip(names, values, strict=True))),
            "stats": plain({k: v for k, v in row.items() if k not in confirmed}),
        }
        if confirmed and pd.notna(row[confirmed[0]]):
            record["backtrader_stats"] = plain({k.removeprefix("Backtrader "): row[k] for k in confirmed})
        records.append(record)
    return records


def _decimals(key: object) -> int:
    """Dollars to the cent; ratios, R and percentages with three decimals."""
    return 2 if "[$]" in str(key) else 3


def format_number(value: float, key: object = "") -> str:
    """Format the statistic `key`: whole numbers (counts) without decimals, dollars with two, others three."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.{_decimals(key)}f}"


def format_frame(table: pd.DataFrame, *, index: bool = True, na_rep: str = "NaN") -> str:
    """Format a table: float columns of whole numbers (counts) without decimals, dollar columns with two,
    others with three."""
    import pandas as pd

    formatters = {}
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_float_dtype(values):
            whole = values.dropna().map(float.is_integer).all()
            decimals = 0 if whole else _decimals(column)
            formatters[column] = lambda v, decimals=decimals: f"{v:,.{decimals}f}"
    return table.to_string(index=index, formatters=formatters, na_rep=na_rep)


def _table(frame: pd.DataFrame, varied: list[str], columns: list[str]) -> str:
    """Format rows of a sweep frame: the varied parameters, then `columns`, each followed by its backtrader
    figure (``"Backtrader <column>"``, from ``--confirm-top``; ``-`` for a run not confirmed) when present."""
    labels: dict[str, str] = {}
    for column in columns:
        if column in frame:
            labels[column] = column
            if f"Backtrader {column}" in frame:
                labels[f"Backtrader {column}"] = f"{column} (bt)"
    table = frame.reset_index()[[*varied, *labels]].rename(columns=labels)
    return format_frame(table, index=False, na_rep="-")


def run(args: argparse.Namespace) -> int:
    """Run the sweep the options describe; print the ranking; write JSON and heatmap on request."""
    from rtystrat.tuning.sweep import rank, sweep, why_unranked

    inputs = {"--data": args.data, "--store": args.store}
    check_output("--json", args.json, inputs)
    check_output("--heatmap", args.heatmap, inputs)
    check_output("--html", args.html, inputs)
    check_output("--diagnostics-plot", args.diagnostics_plot, inputs)
    check_output("--store", args.store, {"--data": args.data})
    if args.diagnostics_plot and not args.diagnostics:
        raise ParameterError("--diagnostics-plot needs --diagnostics")
    strategy, bars, space, shared = load_inputs(args)
    outcome = sweep(
        strategy,
        bars,
        space,
        engine=args.engine,
        store=args.store,
        confirm_top=args.confirm_top,
        keep_returns=args.diagnostics,
        **shared,
    )
    frame, returns = outcome if args.diagnostics else (outcome, None)
    varied = [name for name in frame.index.names if len(space.axes[name]) > 1]
    shown = list(
        dict.fromkeys([args.objective, "# Trades", "Win Rate [%]", "Net P&L [$]", "Max. Drawdown [%]"])
    )
    ranked = rank(frame, args.objective, min_trades=args.min_trades, maximize=not args.minimize)
    print(f"{len(frame)} runs; best {args.objective} with >= {args.min_trades} trades:")
    if len(ranked):
        print(_table(ranked.head(args.top), varied, shown))
        if any(column.startswith("Backtrader ") for column in frame.columns):
            print("(bt): the same run rerun in backtrader (--confirm-top); - where not rerun")
    else:
        print(f"(no run qualifies: {why_unranked(frame, args.min_trades)})")
    report = _diagnostics(args, frame, returns) if returns is not None else None
    if args.json:
        records: Any = _records(frame)
        if report is not None:
            from rtystrat.tuning.store import plain

            records = {"runs": records, "diagnostics": plain(report.to_dict())}
        with atomic_path(args.json) as path:
            path.write_text(json.dumps(records, indent=1, allow_nan=False), encoding="utf-8")
        wrote(args, args.json)
    if report is not None and args.diagnostics_plot:
        from rtystrat.plotting import plot_overfitting  # matplotlib only when a figure is asked for

        with atomic_path(args.diagnostics_plot) as path:
            plot_overfitting(report, path=path)
        wrote(args, args.diagnostics_plot)
    if args.html:
        from rtystrat.plotting.sweep_report import render_sweep_html  # matplotlib only when asked for

        page = render_sweep_html(
            frame, report, objective=args.objective, min_trades=args.min_trades, maximize=not args.minimize
        )
        with atomic_path(args.html) as path:
            path.write_text(page, encoding="utf-8")
        wrote(args, args.html)
    if args.heatmap:
        from rtystrat.plotting.tuning import heatmap_axes, plot_heatmap  # matplotlib only when asked for

        axes = heatmap_axes(varied)
        if axes is None:
            raise ParameterError("--heatmap needs at least two grid parameters")
        x, y = axes
        with atomic_path(args.heatmap) as path:
            plot_heatmap(frame, x=x, y=y, value=args.objective, path=path)
        wrote(args, args.heatmap)
    return 0


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{name}={'none' if value is None else value}" for name, value in params.items())


def _diagnostics(args: argparse.Namespace, frame: pd.DataFrame, returns: pd.DataFrame) -> Any:
    """Compute the sweep's overfitting diagnostics and print them under the ranking."""
    from rtystrat.tuning.diagnostics import diagnose

    report = diagnose(
        frame,
        returns,
        objective=args.objective,
        min_trades=args.min_trades,
        maximize=not args.minimize,
        benchmark_sharpe=args.benchmark_sharpe,
        blocks=args.blocks,
        spa_reps=args.spa_reps,
        seed=args.seed,
    )
    summary = report.to_dict()
    print(
        f"\ndiagnostics ({summary['trials']} runs, {summary['periods']:,} daily returns, effective trials "
        f"{summary['effective_trials']:.1f}, mean correlation {summary['mean_correlation']:.2f}):"
    )
    selected = summary.get("selected")
    if selected is None:
        print("  no run qualifies: no selected run to deflate")
    else:
        print(
            f"  selected {_params_text(selected['params'])}: Sharpe {selected['sharpe_ratio']:.2f} "
            f"(annualised), skewness {selected['skewness']:.2f}, kurtosis {selected['kurtosis']:.2f}"
        )
        print(
            f"  Probabilistic Sharpe Ratio vs {selected['benchmark_sharpe_ratio']:.2f}: "
            f"{selected['probabilistic_sharpe_ratio']:.3f}"
        )
        print(
            f"  Deflated Sharpe Ratio: {selected['deflated_sharpe_ratio']:.3f} (expected best Sharpe of "
            f"unskilled trials {selected['expected_max_sharpe_ratio']:.2f}; with all {summary['trials']} "
            f"trials counted: {selected['deflated_sharpe_ratio_all_trials']:.3f})"
        )
    pbo = summary["pbo"]
    if pbo is not None:
        print(
            f"  PBO (CSCV, {pbo['blocks']} blocks, {pbo['splits']:,} splits): {pbo['pbo']:.3f}; "
            f"degradation slope {pbo['degradation_slope']:.2f}; P(OOS loss) {pbo['probability_of_loss']:.3f}"
        )
    spa = summary["spa"]
    if spa is not None:
        print(
            f"  Hansen's SPA vs {spa['benchmark']} ({spa['tested']} runs, {spa['periods']:,} "
            f"{spa['period']}s of returns, {spa['reps']:,} bootstrap reps, mean block {spa['block_size']}): "
            f"p = {spa['pvalue_consistent']:.3f} "
            f"(lower {spa['pvalue_lower']:.3f}, upper {spa['pvalue_upper']:.3f})"
        )
    plateau = summary["plateau"]
    if plateau is not None:
        peak, flat = plateau["best_peak"], plateau["best_plateau"]
        print(f"  best peak: {_params_text(peak['params'])}: {args.objective} {peak['value']:.3f}")
        print(
            f"  best plateau: {_params_text(flat['params'])}: {args.objective} {flat['value']:.3f}, "
            f"mean of its {flat['neighbours']} grid cells (itself included) {flat['plateau_value']:.3f}"
        )
    return report


def wrote(args: argparse.Namespace, path: str) -> None:
    """Say on stderr that `path` was written, as ``backtest`` does (not under --quiet)."""
    if not getattr(args, "quiet", False):
        print(f"wrote {path}", file=sys.stderr)
