"""``rtystrat data``: check a price file, or build a continuous series from per-contract files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rtystrat.choices import REPAIRS
from rtystrat.cli.common import add_load_options, repairs, report_repairs
from rtystrat.cli.outputs import atomic_path, check_output
from rtystrat.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

    from rtystrat.data.bars import Problem

ADJUSTMENTS = ("none", "difference", "ratio")

DATA_EPILOG = """\
examples:
  rtystrat data validate RTY_F_yahoo_daily.csv --repair clip,drop_weekend
  rtystrat data continuous contracts/RTY --root RTY --adjust difference -o rty_continuous.csv

  Run 'rtystrat data ACTION --help' for each action's options.
"""

VALIDATE_EPILOG = """\
examples:
  rtystrat data validate RTY_F_yahoo_daily.csv
  rtystrat data validate RTY_F_yahoo_daily.csv --repair clip,drop_weekend
  rtystrat data validate RTY_1min.csv --source-tz America/Chicago

  Prints rows, date range, time zone, bar interval, every problem found (with its first rows) and the
  repairs made. Exit code 0 when the file loads as is (or with the given --repair), 1 when problems remain.
  Repairs: drop (bad rows), clip (high/low widened to contain open/close), drop_weekend (weekend rows of
  daily data), sort (by time); combine them with commas.
"""

CONTINUOUS_EPILOG = """\
example:
  rtystrat data continuous contracts/RTY --root RTY --roll days_before_expiry:5 --adjust difference \\
      -o rty_continuous.csv --schedule rty_rolls.csv

  DIR holds one file per contract named <ROOT>_<YYYYMM>.csv (e.g. RTY_202609.csv). --roll is
  days_before_expiry:N (N exchange business days before the front contract's expiry), volume or
  open_interest (when the next contract's volume / open interest overtakes). --adjust shifts (difference,
  "Panama") or scales (ratio) older contracts so the series joins at each roll; none keeps raw prices.
  The output keeps a 'contract' column naming the source contract of every row.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` subcommand (``validate``, ``continuous``) to `subparsers`."""
    parser = subparsers.add_parser(
        "data",
        help="validate a price file; build a continuous futures series",
        description="Check price files and build continuous futures series.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=DATA_EPILOG,
    )
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    validate = actions.add_parser(
        "validate",
        help="report rows, range, time zone, interval and problems of a price file",
        description="Read a CSV/Parquet price file with rtystrat's loader and report what it finds.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=VALIDATE_EPILOG,
    )
    validate.add_argument("file", metavar="FILE", help="CSV (also .csv.gz) or Parquet file")
    _add_load_options(validate)
    validate.add_argument("--adjusted", action="store_true", help="use the 'Adj Close' column")
    validate.set_defaults(func=run_validate)

    continuous = actions.add_parser(
        "continuous",
        help="chain per-contract files into one continuous series",
        description="Build a continuous futures series from a folder of <ROOT>_<YYYYMM>.csv files.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=CONTINUOUS_EPILOG,
    )
    continuous.add_argument("folder", metavar="DIR", help="folder of per-contract files")
    continuous.add_argument("--root", help="root symbol, e.g. RTY (needed when DIR holds several roots)")
    continuous.add_argument(
        "--roll",
        default="days_before_expiry:5",
        help="days_before_expiry:N, volume or open_interest (default: days_before_expiry:5)",
    )
    continuous.add_argument(
        "--adjust", default="none", choices=ADJUSTMENTS, help="back-adjustment (default: none)"
    )
    continuous.add_argument("-o", "--output", required=True, metavar="FILE", help="output .csv or .parquet")
    continuous.add_argument("--schedule", metavar="FILE", help="also write the roll schedule as CSV")
    _add_load_options(continuous)
    continuous.set_defaults(func=run_continuous)


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    # No repair by default: these actions exist to show what a file needs.
    add_load_options(parser, repair=None)
    parser.add_argument("--tz", help="time zone of intraday results (default: America/Chicago)")


def run_validate(args: argparse.Namespace) -> int:
    """Print the validation report of ``args.file``; return 0 when it loads cleanly, else 1."""
    import pandas as pd

    from rtystrat.data.bars import bar_interval, inspect_bars, is_intraday, repair_report

    bars, problems = inspect_bars(
        args.file, tz=args.tz, source_tz=args.source_tz, repair=repairs(args), adjusted=args.adjusted
    )
    times = pd.DatetimeIndex(bars.index)
    valid = times[~times.isna()].sort_values()
    intraday = is_intraday(valid)
    rows = [
        ("file", str(args.file)),
        ("rows", f"{len(bars):,}"),
        ("range", f"{_stamp(valid[0])} → {_stamp(valid[-1])}" if len(valid) else "no valid timestamp"),
        ("timezone", str(valid.tz) if intraday else "none (daily bars are tz-naive dates)"),
        ("interval", _duration(bar_interval(valid)) if len(valid) > 1 else "n/a (fewer than two bars)"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    _section("problems", [_problem_line(problem) for problem in problems], width)
    _section("repairs", repair_report(bars), width)
    if problems:
        fixes = sorted({problem.repairs[0] for problem in problems}, key=REPAIRS.index)
        verdict = f"FAILED: {len(problems)} problem(s); --repair {','.join(fixes)} would load it"
    else:
        verdict = "OK: loads" + (f" with --repair {repairs(args)}" if repairs(args) else "")
    print(f"{'result':<{width}}  {verdict}")
    return 1 if problems else 0


def run_continuous(args: argparse.Namespace) -> int:
    """Build the continuous series of ``args.folder`` and write it to ``args.output``; return 0."""
    from rtystrat.data.continuous import build_continuous, load_contract_files

    for flag, path in (("-o", args.output), ("--schedule", args.schedule)):
        _check_not_a_contract_file(flag, path, args.folder)
    output = check_output("-o", args.output)
    check_output("--schedule", args.schedule, {"-o": args.output})
    contracts = load_contract_files(
        args.folder, root=args.root, tz=args.tz, source_tz=args.source_tz, repair=repairs(args)
    )
    for bars in contracts.values():
        report_repairs(bars)
    series = build_continuous(contracts, roll=args.roll, adjust=args.adjust)
    with atomic_path(output) as path:
        _write(series.bars, path)
    if args.schedule:
        with atomic_path(args.schedule) as path:
            series.schedule.to_csv(path, index=False, float_format="%.12g")
    bars = series.bars
    print(
        f"{series.root}: {len(bars):,} rows from {len(contracts)} contract files, "
        f"{_stamp(bars.index[0])} → {_stamp(bars.index[-1])}, roll {series.roll}, adjust {series.adjust}"
    )
    if series.schedule.empty:
        print("rolls: none within the data (one contract covers it)")
    else:
        print(series.schedule.to_string(index=False, float_format=lambda value: f"{value:.6g}"))
    if not getattr(args, "quiet", False):
        print(f"wrote {output}")
    return 0


def _check_not_a_contract_file(flag: str, path: str | None, folder: str) -> None:
    """Refuse an output named like a contract file in the input folder: it would overwrite one of the
    inputs, or be read as one by the next run."""
    if path is None or Path(path).resolve().parent != Path(folder).resolve():
        return
    from rtystrat.data.contracts import parse_contract_file_name

    try:
        parse_contract_file_name(Path(path).name)
    except ParameterError:
        return  # another name in the folder is not read as a contract
    raise ParameterError(
        f"{flag} {path!r}: is a contract file of the input FOLDER {folder!r} (an input now or in the next "
        "run); write the series elsewhere"
    )


def _write(bars: pd.DataFrame, path: Path) -> None:
    if path.suffix.lower() in (".parquet", ".pq"):
        bars.to_parquet(path)
    else:
        # 12 significant digits: back-adjusted prices print as 2236.3, not 2236.3000000000002.
        bars.to_csv(path, float_format="%.12g")


def _section(title: str, lines: list[str], width: int) -> None:
    print(f"{title:<{width}}  {'none' if not lines else len(lines)}")
    for line in lines:
        print(f"  - {line}")


def _problem_line(problem: Problem) -> str:
    count = len(problem.rows)
    rows = f"{count} row{'s' if count > 1 else ''}"
    text = f"{problem.description}: {rows}, first {problem.rows[0]}: {problem.detail}"
    if count > 1:
        text += f" (then {', '.join(problem.rows[1:4])}{', ...' if count > 4 else ''})"
    return text + f" [repair: {' or '.join(problem.repairs)}]"


def _stamp(when: pd.Timestamp) -> str:
    return str(when.date()) if when == when.normalize() and when.tz is None else str(when)


def _duration(interval: pd.Timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return str(interval)
