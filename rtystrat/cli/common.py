"""The bars options every command that reads a price file shares: ``--data``, ``--repair``, ``--source-tz``.

Files load through :func:`read_bars`, which reports each repair on stderr. ``--quiet`` does not hide these
reports: it silences progress, and a repaired row is not progress but a change to the data the results
come from.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rtystrat.choices import REPAIRS

if TYPE_CHECKING:  # pandas loads only when a command reads bars, not to parse arguments or print help
    import pandas as pd

__all__ = [
    "DEFAULT_REPAIR",
    "add_data_options",
    "add_load_options",
    "check_input",
    "read_bars",
    "repairs",
    "report_repairs",
]

# Real vendor files have bars whose high/low miss the open/close and stray weekend rows in daily data; these
# two repairs are applied by default and reported on stderr, never silently. `--repair none` refuses them.
DEFAULT_REPAIR = "clip,drop_weekend"


def add_data_options(
    parser: argparse.ArgumentParser,
    *,
    data_help: str,
    required: bool = False,
    repair: str | None = DEFAULT_REPAIR,
) -> None:
    """Add ``--data FILE`` (described by `data_help`) and the options of :func:`add_load_options`."""
    parser.add_argument("--data", required=required, metavar="FILE", help=data_help)
    add_load_options(parser, repair=repair)


def add_load_options(parser: argparse.ArgumentParser, *, repair: str | None = DEFAULT_REPAIR) -> None:
    """Add ``--repair`` (default `repair`; None: no repair) and ``--source-tz``."""
    parser.add_argument(
        "--repair",
        default=repair,
        help=f"repairs, comma-separated ({', '.join(REPAIRS)}), or 'none' (default: {repair or 'none'}; "
        "reported on stderr)",
    )
    parser.add_argument(
        "--source-tz",
        default="UTC",
        metavar="ZONE",
        help="time zone of timestamps written without a UTC offset (default: UTC; e.g. America/Chicago for "
        "exchange-time files)",
    )


def add_strategy_path_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--strategy-path DIR`` (repeatable): one declaration for every command that names strategies."""
    parser.add_argument(
        "--strategy-path",
        action="append",
        default=[],
        metavar="DIR",
        help="extra folder of strategy files (repeatable); only the file declaring the strategy is imported",
    )


def repairs(args: argparse.Namespace) -> str | None:
    """Return the ``repair=`` argument of ``load_bars`` for ``--repair`` (``none`` and no flag: None)."""
    text = args.repair
    return None if text is None or text.strip().lower() == "none" else text


def check_input(flag: str, path: str | os.PathLike[str] | None) -> None:
    """Raise FileNotFoundError naming `flag` unless `path` is None or a file."""
    if path is not None and not Path(path).is_file():
        raise FileNotFoundError(f"{flag} {str(path)!r} is not a file")


def read_bars(
    args: argparse.Namespace, path: str | os.PathLike[str] | None, *, flag: str = "--data"
) -> pd.DataFrame:
    """Return the bars of `path` (None: the shipped daily sample) and report their repairs on stderr.

    The file is read with ``--repair`` and ``--source-tz`` from `args`; `flag` names it in errors.
    """
    if path is None:
        from rtystrat.data.bars import check_load_options
        from rtystrat.data.sample import load_sample  # the sample is read (or generated) only when used

        # the options are checked though no file uses them: a typo must not pass unnoticed
        check_load_options(repair=repairs(args), source_tz=args.source_tz)
        return load_sample("daily")
    from rtystrat.data.bars import load_bars

    check_input(flag, path)
    bars = load_bars(path, repair=repairs(args), source_tz=args.source_tz)
    report_repairs(bars)
    return bars


def report_repairs(bars: pd.DataFrame) -> None:
    """Print one line per repair made while loading `bars` on stderr, naming its file."""
    from rtystrat.data.bars import repair_report

    for line in repair_report(bars):
        print(f"repaired {bars.attrs['source']}: {line}", file=sys.stderr)
