"""Prices on a contract's tick grid: snap storage noise onto it, and check that a file fits a contract.

Vendors often store prices as 32-bit floats: RTY's 2,336.2 is kept as ``2336.199951171875``. A level computed
from such numbers lands a hair off the grid (the February-2025 monthly S2 of 2,003.5 comes out as
2,003.49992) and a conservative rounding then moves an order by a whole tick. A 32-bit float is off by at
most ``price × 2⁻²⁴`` (1.2e-4 points at 2,000, a thousandth of RTY's tick), so any price within
:data:`GRID_TOLERANCE_TICKS` of a tick is that tick: :func:`snap_to_grid` sets it there before any level is
computed. A price farther off (a final settlement quoted in cents, 1,427.02) that is exactly a 32-bit float
is the shortest decimal that float stands for; otherwise it is left alone. Either way it counts for
:func:`off_grid_share`: many such prices mean the
prices are not this contract's (ES bars on RTY's 0.1 grid: about half off) or are adjusted (ratio
back-adjustment, dividend-adjusted ETF prices, an index quoted in cents).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from rtystrat.data.contracts import CONTRACTS, ContractSpec, round_to_tick

__all__ = ["GRID_TOLERANCE_TICKS", "OFF_GRID_SHARE", "grid_warning", "off_grid_share", "snap_to_grid"]

#: Prices within this many ticks of the grid are the grid price (32-bit storage noise is ~1e-3 tick on RTY).
GRID_TOLERANCE_TICKS = 0.01
#: Share of prices off the contract's grid above which the prices are taken to be another contract's.
OFF_GRID_SHARE = 0.1
_PRICES = ("open", "high", "low", "close")


def _ticks_off(prices: npt.ArrayLike, tick_size: float) -> np.ndarray:
    """Return each price's distance to the nearest tick, in ticks (0 to ½; NaN stays NaN)."""
    ticks = np.asarray(prices, dtype=np.float64) / tick_size
    return np.abs(ticks - np.round(ticks))


def snap_to_grid(
    bars: pd.DataFrame, tick_size: float, tolerance_ticks: float = GRID_TOLERANCE_TICKS
) -> pd.DataFrame:
    """Return `bars` with every open/high/low/close within `tolerance_ticks` of the grid set on the grid.

    Prices farther off that are exactly 32-bit floats become the shortest decimal they stand for; others
    stay as they are. ``attrs["snapped"]`` counts the prices moved, so a report can say
    how many (0 for a file already on the grid as 64-bit floats).

    Examples
    --------
    >>> bars = pd.DataFrame({"open": [2336.199951171875], "high": [2336.25], "low": [2129.39990234375],
    ...                      "close": [2165.300048828125]})
    >>> snapped = snap_to_grid(bars, 0.1)
    >>> snapped.loc[0, ["open", "high", "low", "close"]].tolist(), snapped.attrs["snapped"]
    ([2336.2, 2336.25, 2129.4, 2165.3], 3)
    """
    out = bars.copy()
    moved = 0
    for column in _PRICES:
        values = out[column].to_numpy(dtype=np.float64)
        on_grid = round_to_tick(values, tick_size)
        near = _ticks_off(values, tick_size) <= tolerance_ticks
        snapped = np.where(near, on_grid, values)
        stored32 = np.flatnonzero(~near & (values.astype(np.float32).astype(np.float64) == values))
        # few prices are off the grid, so the per-value shortest-decimal conversion costs nothing
        snapped[stored32] = [_shortest_decimal32(value) for value in values[stored32]]
        out[column] = snapped
        moved += int(np.sum(snapped != values))
    out.attrs = {**bars.attrs, "snapped": moved}
    return out


def _shortest_decimal32(value: float) -> float:
    """Return the shortest decimal that the 32-bit float `value` stands for (1427.02001953125 → 1427.02)."""
    return float(np.format_float_positional(np.float32(value), unique=True))


def off_grid_share(
    bars: pd.DataFrame, tick_size: float, tolerance_ticks: float = GRID_TOLERANCE_TICKS
) -> float:
    """Return the share of open/high/low/close prices farther than `tolerance_ticks` from the grid."""
    prices = bars[list(_PRICES)].to_numpy(dtype=np.float64).ravel()
    prices = prices[np.isfinite(prices)]
    if not len(prices):
        return 0.0
    return float(np.mean(_ticks_off(prices, tick_size) > tolerance_ticks))


def grid_warning(bars: pd.DataFrame, spec: ContractSpec) -> str | None:
    """Return one line saying the prices of `bars` do not fit `spec`'s tick grid, or None when they do.

    The prices do not fit when more than :data:`OFF_GRID_SHARE` of them are off the grid; the line names
    the presets whose grid they fit (or says none does: adjusted prices or an index).

    Examples
    --------
    >>> es = pd.DataFrame({name: [5000.25, 5000.5, 5000.75, 5001.0] for name in _PRICES})
    >>> print(grid_warning(es, CONTRACTS["RTY"]))
    50% of prices are off RTY's 0.1 tick grid, so fills round to prices this market never traded; \
they fit a 0.25 tick (--contract ES, MES, NQ or MNQ?)
    """
    share = off_grid_share(bars, spec.tick_size)
    if share <= OFF_GRID_SHARE:
        return None
    fitting = [
        preset.symbol
        for preset in CONTRACTS.values()
        if preset.tick_size != spec.tick_size and off_grid_share(bars, preset.tick_size) <= OFF_GRID_SHARE
    ]
    ticks = sorted({CONTRACTS[symbol].tick_size for symbol in fitting}, reverse=True)
    # The coarsest grid that fits is the most telling: prices on a 1.0 grid are on every finer one too.
    names = [symbol for symbol in fitting if ticks and CONTRACTS[symbol].tick_size == ticks[0]]
    hint = (
        f"they fit a {ticks[0]:g} tick (--contract {_either(names)}?)"
        if names
        else "they fit no preset's grid (adjusted prices or an index?)"
    )
    return (
        f"{share:.0%} of prices are off {spec.symbol}'s {spec.tick_size:g} tick grid, so fills round to "
        f"prices this market never traded; {hint}"
    )


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
