"""Replay the March-2025 analysis: trade its exact absolute numbers from 2025-03-13 on.

The analysis (2025-03-13, E-mini Russell 2000 at 2,025.7) proposed two trades:

- bullish reversal: "buy near S2 (2,003)", stop 1,990, targets 2,100 and 2,210;
- bearish breakdown: "short below 2,000", target 1,880, stop 2,060.

:func:`replay_article` places exactly those orders on the first bar of the 2025-03-13 session and lets the
shared execution layer (:mod:`rtystrat.execution.fills` through the backtrader engine) fill them, with the
run's fill policy, slippage and commission. Choices, so the numbers are unambiguous:

- The two bullish targets are two legs of one contract each — a trader buying two contracts and taking
  profit on one at 2,100 and on the other at 2,210. Both legs are buy limits at 2,003 with the stop at 1,990.
- "Short below 2,000" is a sell stop one tick under the level, at 1,999.9: it fills when price trades below
  2,000 after the analysis was written, as the sentence reads intraday.
- Each order works from the first bar of 2025-03-13 until it fills (no expiry) and trades once; there is
  no time stop, so a leg ends at its target, its stop, or the end of the data.

Orders are plans like any setup's (:class:`~rtystrat.signals.plans.Plans`): the bracket is decided at the
close of the last bar before 2025-03-13 and works from the next bar, with constant prices from then on.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rtystrat.analysis.results import BacktestResult
from rtystrat.api import load_data
from rtystrat.data.bars import is_intraday, session_dates
from rtystrat.data.contracts import contract_spec
from rtystrat.errors import DataError, ParameterError
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import run_backtest
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.signals.parameters import Parameters
from rtystrat.signals.plans import ENTRY_LIMIT, ENTRY_STOP, LONG, SHORT, Plans

__all__ = [
    "ARTICLE_DATE",
    "ARTICLE_LEGS",
    "ArticleLeg",
    "ArticleReplay",
    "article_plans",
    "replay_article",
]

#: The session the analysis was written in (at 2,025.7, intraday).
ARTICLE_DATE = pd.Timestamp("2025-03-13")


@dataclasses.dataclass(frozen=True)
class ArticleLeg:
    """One order of the analysis, with its absolute prices."""

    name: str
    description: str
    direction: int
    entry_type: int
    entry_price: float
    stop: float
    target: float

    @property
    def order(self) -> str:
        """The order as a trader writes it: ``"buy limit 2,003.0, stop 1,990.0, target 2,100.0"``."""
        side = "buy" if self.direction == LONG else "sell"
        kind = "limit" if self.entry_type == ENTRY_LIMIT else "stop"
        return f"{side} {kind} {self.entry_price:,.1f}, stop {self.stop:,.1f}, target {self.target:,.1f}"


ARTICLE_LEGS: tuple[ArticleLeg, ...] = (
    ArticleLeg(
        "article_bullish_2100", "bullish reversal, first target", LONG, ENTRY_LIMIT, 2003.0, 1990.0, 2100.0
    ),
    ArticleLeg(
        "article_bullish_2210", "bullish reversal, pivot target", LONG, ENTRY_LIMIT, 2003.0, 1990.0, 2210.0
    ),
    ArticleLeg("article_bearish_1880", "bearish breakdown", SHORT, ENTRY_STOP, 1999.9, 2060.0, 1880.0),
)
_LEGS = {leg.name: leg for leg in ARTICLE_LEGS}


def article_plans(frame: pd.DataFrame, *, leg: str, start: pd.Timestamp = ARTICLE_DATE) -> Plans:
    """Return plans that place one leg's bracket once, working from the first bar of `start`'s session.

    Parameters
    ----------
    frame : DataFrame
        Bars (daily or intraday) covering `start`, with at least one bar before it.
    leg : str
        Name of an :data:`ARTICLE_LEGS` entry.
    start : Timestamp
        Session date from which the order works.

    Raises
    ------
    DataError
        When the data does not cover `start` or has no bar before it.
    """
    if leg not in _LEGS:
        raise ParameterError(f"leg {leg!r} is not one of {', '.join(_LEGS)}")
    order = _LEGS[leg]
    row = _decision_row(frame.index, start, frame.attrs.get("source", "<DataFrame>"))
    n = len(frame)
    plans = Plans.empty(n)
    plans.direction[row] = order.direction
    plans.entry_type[row] = order.entry_type
    # Constant prices from the decision bar on: whichever row the execution layer reads, it reads these.
    plans.entry_price[row:] = order.entry_price
    plans.stop[row:] = order.stop
    plans.target[row:] = order.target
    return plans._replace(entry_valid_bars=n - row, max_hold=0, anchor_to_fill=False)


def _decision_row(index: pd.DatetimeIndex, start: pd.Timestamp, source: str) -> int:
    """Return the last bar before `start`'s session: the orders are decided at its close."""
    sessions = session_dates(index)
    first = int(sessions.searchsorted(start))
    if first == len(index):
        raise DataError(f"{source}: the data ends on {sessions[-1]:%Y-%m-%d}, before {start:%Y-%m-%d}")
    if first == 0:
        raise DataError(
            f"{source}: the data starts on {sessions[0]:%Y-%m-%d}; "
            f"the replay needs a bar before {start:%Y-%m-%d}"
        )
    return first - 1


class _ArticleStrategy(SetupStrategy):
    """An analysis leg: its plans come from :func:`article_plans`; it has no tunable parameters."""

    parameters = Parameters([])


class ArticleBullishFirstTarget(_ArticleStrategy):
    """Buy limit 2,003, stop 1,990, target 2,100 ("targets 2,100 and 2,210": the first)."""

    name = "article_bullish_2100"
    setup = staticmethod(functools.partial(article_plans, leg="article_bullish_2100"))


class ArticleBullishPivotTarget(_ArticleStrategy):
    """Buy limit 2,003, stop 1,990, target 2,210 (the pivot)."""

    name = "article_bullish_2210"
    setup = staticmethod(functools.partial(article_plans, leg="article_bullish_2210"))


class ArticleBearish(_ArticleStrategy):
    """Sell stop 1,999.9 ("short below 2,000"), stop 2,060, target 1,880."""

    name = "article_bearish_1880"
    setup = staticmethod(functools.partial(article_plans, leg="article_bearish_1880"))


@dataclasses.dataclass(frozen=True)
class ArticleReplay:
    """What the analysis's orders did.

    Attributes
    ----------
    result : BacktestResult
        The run (all legs in one account): stats, trades, equity.
    legs : DataFrame
        One row per leg, filled or not: ``leg, order, entry_time, entry_price, exit_time, exit_price,
        exit_reason, pnl_points, pnl_gross, pnl_net, ambiguous``; $ are per contract.
    source : str
        Data the replay ran on.
    """

    result: BacktestResult
    legs: pd.DataFrame
    source: str

    def to_dict(self) -> dict[str, Any]:
        """Return the result's JSON object plus ``"legs"`` (times in ISO 8601, NaN as null)."""
        data = self.result.to_dict()
        legs = self.legs.astype(object).where(self.legs.notna(), None)
        for column in ("entry_time", "exit_time"):
            legs[column] = [value.isoformat() if value is not None else None for value in legs[column]]
        data["legs"] = legs.to_dict(orient="records")
        data["replay"] = {"date": f"{ARTICLE_DATE:%Y-%m-%d}", "source": self.source}
        return data

    def summary(self) -> str:
        """Return the per-leg outcome as aligned text, with the total."""
        config = self.result.config
        lines = [
            f"Article replay: the orders of the {ARTICLE_DATE:%Y-%m-%d} analysis on {self.source}",
            f"(fill policy {config.get('fill_policy')}, slippage {config.get('slippage_ticks', 0):g} tick(s) "
            f"on stop and market fills, commission {_commission(config)} per side; $ per contract)",
            "",
        ]
        header = ("leg", "order", "filled", "at", "exit", "at", "reason", "points", "$ net")
        rows = [header]
        for leg in self.legs.itertuples(index=False):
            filled = not pd.isna(leg.entry_time)
            rows.append(
                (
                    leg.leg,
                    leg.order,
                    _date(leg.entry_time) if filled else "not filled",
                    f"{leg.entry_price:,.1f}" if filled else "",
                    _date(leg.exit_time) if filled else "",
                    f"{leg.exit_price:,.1f}" if filled else "",
                    (leg.exit_reason + (" (ambiguous bar)" if leg.ambiguous else "")) if filled else "",
                    f"{leg.pnl_points:+,.1f}" if filled else "",
                    f"{leg.pnl_net:+,.2f}" if filled else "",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        numeric = {3, 5, 7, 8}
        for row in rows:
            cells = [
                cell.rjust(w) if i in numeric else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
        total_points = np.nansum(self.legs["pnl_points"].to_numpy(dtype=float))
        total = np.nansum(self.legs["pnl_net"].to_numpy(dtype=float))
        lines += ["", f"total: {total_points:+,.1f} points, {total:+,.2f} $ net"]
        return "\n".join(lines)


def _commission(config: Mapping[str, Any]) -> str:
    value = config.get("commission_per_side")
    if value is None:
        value = contract_spec(config.get("contract", "RTY")).commission_per_side
    return f"${value:,.2f}"


def _date(value: Any) -> str:
    stamp = pd.Timestamp(value)
    return f"{stamp:%Y-%m-%d}" if stamp == stamp.normalize() else f"{stamp:%Y-%m-%d %H:%M}"


def replay_article(
    data: pd.DataFrame | str | Path,
    *,
    config: RunConfig | None = None,
    intraday: pd.DataFrame | str | Path | None = None,
) -> ArticleReplay:
    """Trade the analysis's absolute numbers from 2025-03-13 on and report what each order did.

    Parameters
    ----------
    data : DataFrame, str or Path
        RTY bars (daily or intraday) covering 2025-03-13 with at least one earlier bar: a canonical frame
        (:func:`rtystrat.data.bars.load_bars`) or a file to load.
    config : RunConfig, optional
        Fill policy, slippage and costs (default :class:`RunConfig`: RTY, pessimistic, 1 tick). Each leg
        trades ``config.contracts``; the report gives $ per contract.
    intraday : DataFrame, str or Path, optional
        Lower-timeframe bars for ``config.fill_policy="intraday"``.

    Returns
    -------
    ArticleReplay
        The run and one row per leg.
    """
    bars = load_data(data)
    config = config or RunConfig()
    source = str(bars.attrs.get("source", "<DataFrame>"))
    _decision_row(bars.index, ARTICLE_DATE, source)  # fail early, in one line, on data that misses the date
    result = run_backtest(
        [ArticleBullishFirstTarget, ArticleBullishPivotTarget, ArticleBearish],
        bars,
        config=config,
        params={leg.name: {} for leg in ARTICLE_LEGS},
        intraday=intraday,
    )
    return ArticleReplay(
        result, _legs(result.trades), f"{source} ({'intraday' if is_intraday(bars) else 'daily'} bars)"
    )


def _legs(trades: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for leg in ARTICLE_LEGS:
        taken = trades[trades["setup"] == leg.name]
        row: dict[str, Any] = {"leg": leg.name, "order": leg.order}
        if len(taken):
            trade = taken.iloc[0]
            contracts = float(trade["contracts"])
            # Rounded for the report: points to 1e-6 (ticks are 0.1 or coarser), $ to the cent.
            row |= {
                "entry_time": trade["entry_time"],
                "entry_price": round(float(trade["entry_price"]), 6),
                "exit_time": trade["exit_time"],
                "exit_price": round(float(trade["exit_price"]), 6),
                "exit_reason": str(trade["exit_reason"]),
                "pnl_points": round(float(trade["pnl_points"]), 6),
                "pnl_gross": round(float(trade["pnl_gross"]) / contracts, 2),
                "pnl_net": round(float(trade["pnl_net"]) / contracts, 2),
                "ambiguous": bool(trade["ambiguous"]),
            }
        rows.append(row)
    columns = ["leg", "order", "entry_time", "entry_price", "exit_time", "exit_price", "exit_reason"]
    columns += ["pnl_points", "pnl_gross", "pnl_net", "ambiguous"]
    return pd.DataFrame(rows).reindex(columns=columns)
