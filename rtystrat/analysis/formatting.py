"""How reports write a run: numbers, counts, times, and the facts that head a report.

Shared by the text summary and markdown of :class:`rtystrat.analysis.results.BacktestResult` and the HTML
page of :mod:`rtystrat.plotting.report`, so that a statistic reads the same in all three.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rtystrat.analysis.tradestats import whole_trades

__all__ = ["SUMMARY_TRADE_COLUMNS", "config_facts", "format_time", "format_value", "is_count", "run_facts"]

#: Trade-log columns a report lists, in this order (when the log has them).
SUMMARY_TRADE_COLUMNS = (
    "setup",
    "direction",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "exit_reason",
    "contracts",
    "pnl_points",
    "pnl_net",
    "r_multiple",
)
# Counts whose name does not start with "# " (statistics and trade-log columns).
_COUNT_KEYS = ("Bars", "Max. Consecutive Wins", "Max. Consecutive Losses", "contracts", "bars_held")
_CONFIG_FACTS = ("contract", "cash", "fill_policy", "slippage_ticks", "commission_per_side", "contracts")


def is_count(key: Any) -> bool:
    """Return whether the statistic or column `key` counts something (``"# Trades"``, ``"Bars"``, ...)."""
    return isinstance(key, str) and (key.startswith("# ") or key in _COUNT_KEYS)


def format_time(value: pd.Timestamp) -> str:
    """Return ``YYYY-MM-DD`` for a midnight time (a daily bar), else ``YYYY-MM-DD HH:MM``."""
    if value.hour == value.minute == value.second == 0:
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d %H:%M")


def format_value(key: Any, value: Any) -> str:
    """Format one value of the statistic or column `key` for a table.

    Counts (:func:`is_count`) and whole numbers of ``[days]`` as integers with thousands separators, other
    numbers with two decimals, times by :func:`format_time`, whole-day durations in days, missing values as
    ``n/a``, anything else (text, booleans) as ``str`` gives it.
    """
    if value is None or value is pd.NaT or (isinstance(value, float | np.floating) and math.isnan(value)):
        return "n/a"
    if isinstance(value, pd.Timestamp):
        return format_time(value)
    if isinstance(value, pd.Timedelta):
        days = value / pd.Timedelta(days=1)
        return f"{days:,.0f} days" if days == int(days) else str(value)
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        return str(value)
    whole_days = str(key).endswith("[days]") and float(value).is_integer()
    if isinstance(value, int | np.integer) or is_count(key) or whole_days:
        return f"{int(value):,}" if math.isfinite(value) else str(value)
    return f"{value:,.2f}"


def run_facts(index: pd.DatetimeIndex, trades: pd.DataFrame) -> list[str]:
    """Return what heads a report of a run: its span, its bars and its trades.

    ``["2024-01-02 → 2025-03-31", "312 bars", "1 trade"]``; trades that scale out count once, their exit
    fills beside them (``"16 trades (32 exit fills)"``).
    """
    count = len(whole_trades(trades))
    fills = f" ({len(trades):,} exit fills)" if count != len(trades) else ""
    return [
        f"{format_time(index[0])} → {format_time(index[-1])}",
        f"{len(index):,} bars",
        f"{count:,} trade{'' if count == 1 else 's'}{fills}",
    ]


def config_facts(config: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Return the ``(name, value)`` run settings a report's header shows (contract, cash, costs, ...)."""
    facts = [(key, config[key]) for key in _CONFIG_FACTS if config.get(key) is not None]
    # a contract given in full is a mapping of its fields: its symbol names it
    return [(key, value["symbol"] if isinstance(value, Mapping) else value) for key, value in facts]
