"""The trade log: EXIT fill records of :mod:`rtystrat.execution.fills` → one DataFrame row per exit fill.

A trade (``trade_id``, counted per setup from 1) is one entry fill and its exits: one row, or one row per
``leg`` when it scales out over several targets (leg 1 = the nearest target). The statistics count a trade
once (:func:`rtystrat.analysis.tradestats.whole_trades`).

Both execution paths build their log here — the backtrader analyzer from the records it booked, the fast
kernel from :func:`rtystrat.execution.fills.simulate` — and the kernel's per-trade P&L arrays come from
:func:`trade_amounts`, so the $ amounts are defined once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numba
import numpy as np
import pandas as pd

from rtystrat.execution.fills import (
    EXIT_REASONS,
    F_AMBIGUOUS,
    F_BAR,
    F_CONTRACTS,
    F_DIRECTION,
    F_ENTRY_BAR,
    F_ENTRY_PRICE,
    F_INITIAL_RISK,
    F_LEG,
    F_MAE,
    F_MFE,
    F_PRICE,
    F_PRICE_OPTIMISTIC,
    F_PRICE_PESSIMISTIC,
    F_REASON,
    F_SLIPPAGE,
    F_STOP,
    F_TARGET,
    F_TRADE_ID,
    FILL_FIELDS,
)

__all__ = ["TRADE_COLUMNS", "TradeAmounts", "trade_amounts", "trade_log"]

# Prices and points are differences and sums of tick multiples, so they are on the grid up to float noise
# (1990.4 - 0.1 = 1990.3000000000002); nine decimals drop the noise and keep any tick (ticks have at most
# four). Money is in cents.
_PRICE_DECIMALS = 9
_CENTS = 2

TRADE_COLUMNS = (
    "setup",
    "trade_id",
    "leg",
    "direction",
    "contract",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "exit_reason",
    "contracts",
    "pnl_points",
    "pnl_gross",
    "commission",
    "slippage",
    "pnl_net",
    "initial_risk_points",
    "r_multiple",
    "mae_points",
    "mfe_points",
    "mae_r",
    "mfe_r",
    "bars_held",
    "duration",
    "ambiguous",
    "pnl_net_pessimistic",
    "pnl_net_optimistic",
    "stop",
    "target",
)


class TradeAmounts(NamedTuple):
    """Per-trade amounts of EXIT records (one value per trade; $ are per trade in total)."""

    pnl_points: np.ndarray  # d · (exit − entry), at the fill prices (slippage included)
    scale: np.ndarray  # $ per point: multiplier × contracts
    commission: np.ndarray  # 2 × commission_per_side × contracts
    pnl_net: np.ndarray  # pnl_points × scale − commission
    initial_risk_points: np.ndarray  # |entry − stop| at the fill; NaN when not positive
    r_multiple: np.ndarray  # pnl_net / (initial_risk_points × scale)


def trade_amounts(trades: np.ndarray, *, multiplier: float, commission_per_side: float) -> TradeAmounts:
    """Return the P&L, costs and R multiple of each EXIT record (the definitions of :func:`trade_log`)."""
    return TradeAmounts(*_amounts(trades, _AMOUNT_FIELDS, multiplier, commission_per_side))


# The record columns _amounts reads, passed as an argument: compiled code keeps the values of another
# module's globals in numba's on-disk cache, which would not notice when fills changes them.
_AMOUNT_FIELDS = np.array([F_DIRECTION, F_CONTRACTS, F_ENTRY_PRICE, F_PRICE, F_INITIAL_RISK], dtype=np.int64)


# Compiled: the sweep kernel books every combination's trades through here, and a dozen numpy calls on a few
# dozen trades cost more than the fill loop. One (6, trades) array out: each array numba returns costs a
# conversion. numpy's error model: a risk of 0 gives NaN, not an exception.
@numba.njit(cache=True, error_model="numpy")
def _amounts(
    trades: np.ndarray, fields: np.ndarray, multiplier: float, commission_per_side: float
) -> np.ndarray:
    out = np.empty((6, len(trades)))
    for k in range(len(trades)):
        direction, contracts = trades[k, fields[0]], trades[k, fields[1]]
        entry_price, exit_price, initial_risk = (
            trades[k, fields[2]],
            trades[k, fields[3]],
            trades[k, fields[4]],
        )
        scale = multiplier * contracts
        commission = 2.0 * commission_per_side * contracts
        points = np.round(direction * (exit_price - entry_price), _PRICE_DECIMALS)
        pnl_net = np.round(points * scale - commission, _CENTS)
        risk = np.round(initial_risk, _PRICE_DECIMALS)
        risk_points = risk if risk > 0 else np.nan
        out[0, k], out[1, k], out[2, k], out[3, k] = points, scale, commission, pnl_net
        out[4, k], out[5, k] = risk_points, pnl_net / (risk_points * scale)
    return out


def trade_log(
    trades: np.ndarray,
    index: pd.DatetimeIndex,
    *,
    setup: str | Sequence[str],
    multiplier: float,
    commission_per_side: float,
    contracts_traded: Sequence[str] | np.ndarray | str,
) -> pd.DataFrame:
    """Return the trade log (columns :data:`TRADE_COLUMNS`) of EXIT records, one row per exit fill.

    $ columns are per trade in total: ``pnl_gross = pnl_points × multiplier × contracts`` at the fill prices
    (slippage included), ``commission = 2 × commission_per_side × contracts``, ``pnl_net = pnl_gross −
    commission``; ``slippage`` is the $ part of ``pnl_gross`` lost to slippage. ``r_multiple = pnl_net /
    (initial_risk_points × multiplier × contracts)`` (net of costs); ``mae_r``, ``mfe_r`` in points of
    initial risk. ``bars_held`` counts bars from entry to exit (0: same bar).

    Parameters
    ----------
    trades : ndarray
        EXIT records (rows of :func:`rtystrat.execution.fills.simulate`'s ``trades``, or collected from
        :func:`rtystrat.execution.fills.step`).
    index : DatetimeIndex
        Bar times (tz kept).
    setup : str or sequence of str
        Setup name, one for all or one per trade.
    contracts_traded : str or sequence
        Contract name, one for all, or one per *bar* (the frame's ``contract`` column).
    """
    trades = np.asarray(trades, dtype=np.float64).reshape(-1, FILL_FIELDS)
    entry_bar = trades[:, F_ENTRY_BAR].astype(np.int64)
    exit_bar = trades[:, F_BAR].astype(np.int64)
    direction = trades[:, F_DIRECTION]
    entry_price = trades[:, F_ENTRY_PRICE]
    # A log is built once per run, from a few trades: _amounts runs as Python here (the same source, numpy's
    # own rounding, which the compiled one matches bit for bit), so a backtest's first run does not compile
    # it and numba's np.round (~1 s of a first `rtystrat backtest`); the kernel's per-combination statistics
    # call the compiled trade_amounts.
    amounts = TradeAmounts(*_amounts.py_func(trades, _AMOUNT_FIELDS, multiplier, commission_per_side))

    def net(exit_price: np.ndarray) -> np.ndarray:
        return np.round(direction * (exit_price - entry_price) * amounts.scale - amounts.commission, _CENTS)

    def price(field: int) -> np.ndarray:
        return np.round(trades[:, field], _PRICE_DECIMALS)

    names = (
        np.full(len(trades), contracts_traded, dtype=object)
        if isinstance(contracts_traded, str)
        else np.asarray(contracts_traded, dtype=object)[entry_bar]
    )
    entry_time = index[entry_bar]
    exit_time = index[exit_bar]
    return pd.DataFrame(
        {
            "setup": np.broadcast_to(np.asarray(setup, dtype=object), len(trades)),
            "trade_id": trades[:, F_TRADE_ID].astype(np.int64),
            "leg": trades[:, F_LEG].astype(np.int64),
            "direction": np.where(direction > 0, "long", "short").astype(object),
            "contract": names,
            "entry_time": entry_time,
            "entry_price": price(F_ENTRY_PRICE),
            "exit_time": exit_time,
            "exit_price": price(F_PRICE),
            "exit_reason": np.asarray(EXIT_REASONS, dtype=object)[trades[:, F_REASON].astype(np.int64)],
            "contracts": trades[:, F_CONTRACTS].astype(np.int64),
            "pnl_points": amounts.pnl_points,
            "pnl_gross": np.round(amounts.pnl_points * amounts.scale, _CENTS),
            "commission": amounts.commission,
            "slippage": np.round(trades[:, F_SLIPPAGE] * amounts.scale, _CENTS),
            "pnl_net": amounts.pnl_net,
            "initial_risk_points": amounts.initial_risk_points,
            "r_multiple": amounts.r_multiple,
            "mae_points": price(F_MAE),
            "mfe_points": price(F_MFE),
            "mae_r": trades[:, F_MAE] / amounts.initial_risk_points,
            "mfe_r": trades[:, F_MFE] / amounts.initial_risk_points,
            "bars_held": exit_bar - entry_bar,
            "duration": exit_time - entry_time,
            "ambiguous": trades[:, F_AMBIGUOUS] > 0,
            "pnl_net_pessimistic": net(trades[:, F_PRICE_PESSIMISTIC]),
            "pnl_net_optimistic": net(trades[:, F_PRICE_OPTIMISTIC]),
            "stop": price(F_STOP),
            "target": price(F_TARGET),
        },
        columns=list(TRADE_COLUMNS),
    )
