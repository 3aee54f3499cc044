"""``rtystrat levels``: the analysis table — price against pivots, SMAs and RSI — for any date."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from rtystrat.choices import PERIODS, PIVOT_METHODS
from rtystrat.cli.common import add_data_options, read_bars
from rtystrat.errors import ParameterError

LEVELS_SCHEMA = "rtystrat.levels/2"

EPILOG = """\
example:
  rtystrat levels --data RTY_F_yahoo_daily.csv --date 2025-03-13 --price 2025.7

  Levels come from the previous completed period (--period M: February's high, low and close for any
  March date). --price replaces that day's close with an intraday price and recomputes SMA and RSI.
  --repair defaults to 'clip,drop_weekend'; pass --repair none to refuse any inconsistent row.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``levels`` subcommand to `subparsers`."""
    parser = subparsers.add_parser(
        "levels",
        help="price vs pivot levels, SMA50/100 and RSI(14) on a date",
        description="Print the levels table of one session: pivots of the previous completed period, "
        "SMAs with their slope, RSI with its zone, distances to the nearest support and resistance.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    add_data_options(parser, data_help="bars file (CSV or Parquet)", required=True)
    parser.add_argument("--date", required=True, help="session date, YYYY-MM-DD")
    parser.add_argument("--price", type=float, help="intraday price to use instead of the day's close")
    parser.add_argument("--period", default="M", choices=PERIODS, help="pivot period (default: M)")
    parser.add_argument("--method", default="classic", help=f"pivot method: {', '.join(PIVOT_METHODS)}")
    parser.add_argument(
        "--lookback-months", type=int, default=6, help="window of the recent high (default: 6)"
    )
    parser.add_argument(
        "--slope-bars", type=int, default=5, help="sessions over which SMA slopes are measured (default: 5)"
    )
    parser.add_argument(
        "--round-step", type=float, default=100.0, help="spacing of round-number levels (default: 100)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the levels table for ``args.date``; return 0."""
    if args.price is not None and not 0 < args.price < _LARGEST_PRICE:  # NaN fails this too
        raise ParameterError(
            f"--price {args.price!r}: give a positive price below {_LARGEST_PRICE:,.0f} (overflow beyond)"
        )
    from rtystrat.signals.features import levels_table

    bars = read_bars(args, args.data)
    table = levels_table(
        bars,
        args.date,
        price=args.price,
        period=args.period,
        method=args.method,
        lookback_months=args.lookback_months,
        slope_bars=args.slope_bars,
        round_step=args.round_step,
    )
    print(json.dumps(with_schema(table), allow_nan=False) if args.json else format_table(table))
    return 0


# No traded price comes near; far larger ones overflow the RSI's squared and summed moves to inf.
_LARGEST_PRICE = 1e9


def _signed(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:+,.2f}{unit}"


def with_schema(table: dict[str, Any]) -> dict[str, Any]:
    """Return `table` as the ``levels --json`` object: ``schema`` first, then the table.

    Schema ``rtystrat.levels/2`` spells indicators as the indicator frame's columns (``sma_50``, ``rsi_14``).
    For this schema version the keys of ``rtystrat.levels/1`` (``sma50``, ``rsi14``, ``price_vs_sma50``, ...)
    are written too, with the same values, so scripts reading them keep working; ``/3`` drops them.
    """
    old = {
        re.sub(r"(sma|rsi)_(\d+)", r"\1\2", key): value
        for key, value in table.items()
        if re.search(r"(sma|rsi)_\d+", key)
    }
    return {"schema": LEVELS_SCHEMA, **table, **old}


def format_table(table: dict[str, Any]) -> str:
    """Return `table` (from `rtystrat.signals.features.levels_table`) as aligned text, levels high to low."""
    price = table["price"]
    note = f" (instead of the close {table['close']:,.2f})" if table["price_source"] == "override" else ""
    lines = [
        f"{table['source']}  {table['date']}  price {price:,.2f}{note}",
        "",
        f"Levels ({table['period']} {table['method']}, from {table['levels_from']})   level   vs price",
    ]
    names = [name for name in ("R4", "R3", "R2", "R1", "P", "S1", "S2", "S3", "S4") if name in table]
    for name in names:
        marker = {
            table["support_name"]: "  nearest support",
            table["resistance_name"]: "  nearest resistance",
        }
        gap = price - table[name]
        lines.append(
            f"  {name:<4}{table[name]:>12,.2f}{gap:>+11,.2f}{100 * gap / price:>+8.2f}%{marker.get(name, '')}"
        )
    lines.append("")
    for key in (key for key in table if key.startswith("sma_") and key[4:].isdigit()):
        versus, label = f"price_vs_{key}", key.replace("_", "").upper()
        lines.append(
            f"  {label:<7}{table[key]:>10,.2f}  slope {_signed(table[key + '_slope'])} over "
            f"{table['slope_bars']} sessions; price {table[versus]} by "
            f"{abs(table[versus + '_points']):,.2f} pts ({table[versus + '_pct']:+.2f}%)"
        )
    for key in (key for key in table if key.startswith("rsi_") and key[4:].isdigit()):
        lines.append(f"  RSI({key[4:]}){table[key]:>11.2f}  {table[key + '_zone']}")
    lines.append("")
    for side, where in (("support", "below"), ("resistance", "above")):
        if table[side] is None:
            lines.append(f"  nearest {side}: none {where} the price")
        else:
            lines.append(
                f"  nearest {side:<11}{table[side + '_name']:<3}{table[side]:>10,.2f}  "
                f"{table[side + '_points']:,.2f} pts ({table[side + '_pct']:.2f}%) {where}"
            )
    lines.append(f"  round numbers       {table['round_below']:,.2f} / {table['round_above']:,.2f}")
    lines.append(
        f"  {table['lookback_months']}-month high        {table['lookback_high']:,.2f} on "
        f"{table['lookback_high_date']}; price {table['off_high_pct']:.2f}% off it"
    )
    return "\n".join(lines)
