"""Support and resistance levels: pivot points and round numbers, free of look-ahead.

`pivot_points` applies one pivot formula to a period's high, low and close. `period_levels` gives every bar
the levels of the previous *completed* period (session, week, month or quarter), so the first bar of March
holds February's levels and nothing a bar sees depends on a later bar. `round_number_levels` gives the
psychological levels around a price (the "2,000" of a trader's notes).

Formulas (``H, L, C`` = the period's high, low, close; ``R = H - L``)

========== ======================= ================================================ =========================
method     pivot ``P``             supports / resistances                           reference
========== ======================= ================================================ =========================
classic    ``(H + L + C) / 3``     ``S1 = 2P - H``, ``R1 = 2P - L``,                floor-trader pivots [1]_,
                                   ``S2 = P - R``, ``R2 = P + R``,                  [2]_ ("traditional")
                                   ``S3 = L - 2(H - P)``, ``R3 = H + 2(P - L)``
fibonacci  ``(H + L + C) / 3``     ``S/Rk = P ∓ f_k R`` with f = 0.382, 0.618, 1    [2]_
camarilla  ``(H + L + C) / 3``     ``S/Rk = C ∓ 1.1 R / d_k`` with d = 12, 6, 4, 2  N. Stott (1989), [2]_
                                   (k = 1..4: S4/R4 too)
woodie     ``(H + L + 2 O') / 4``  as classic, from Woodie's ``P``                  [2]_
demark     ``X / 4``               ``S1 = X/2 - H``, ``R1 = X/2 - L`` only          T. DeMark, [2]_
========== ======================= ================================================ =========================

Woodie's ``O'`` is the open of the period the levels are FOR (the period after ``H, L, C``): the levels are
known from that period's first trade on. DeMark's ``X`` depends on the same period's open ``O``:
``X = H + 2L + C`` when ``C < O``, ``2H + L + C`` when ``C > O``, ``H + L + 2C`` when ``C = O``.

References
----------
.. [1] J. L. Person, *A Complete Guide to Technical Trading Tactics*, Wiley, 2004, ch. 2 (floor pivots).
.. [2] TradingView, "Pivot Points Standard" (Traditional, Fibonacci, Woodie, DM, Camarilla),
   https://www.tradingview.com/support/solutions/43000521824-pivot-points-standard/
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from rtystrat.choices import PERIODS, PIVOT_METHODS
from rtystrat.data.bars import is_intraday, period_keys
from rtystrat.errors import DataError, ParameterError, suggest

__all__ = [
    "LEVEL_NAMES",
    "PERIODS",
    "PERIOD_OPEN_METHODS",
    "PIVOT_METHODS",
    "check_method",
    "check_period",
    "period_levels",
    "pivot_points",
    "round_number_levels",
]

LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    "classic": ("P", "S1", "S2", "S3", "R1", "R2", "R3"),
    "fibonacci": ("P", "S1", "S2", "S3", "R1", "R2", "R3"),
    "camarilla": ("P", "S1", "S2", "S3", "S4", "R1", "R2", "R3", "R4"),
    "woodie": ("P", "S1", "S2", "S3", "R1", "R2", "R3"),
    "demark": ("P", "S1", "R1"),
}
# Methods whose levels use the open of the period they are for: known only once that period has opened.
PERIOD_OPEN_METHODS: tuple[str, ...] = ("woodie",)
_FIBONACCI_RATIOS = (0.382, 0.618, 1.0)
_CAMARILLA_DIVISORS = (12.0, 6.0, 4.0, 2.0)

Levels = dict[str, np.ndarray]


def check_method(method: str) -> str:
    """Return `method` lower-cased if it is a pivot method, else raise ParameterError with a suggestion."""
    name = str(method).lower()
    if name not in PIVOT_METHODS:
        raise ParameterError(
            f"method={method!r}: unknown pivot method{suggest(name, PIVOT_METHODS)}; "
            f"choose from {', '.join(PIVOT_METHODS)}"
        )
    return name


def check_period(period: str) -> str:
    """Return `period` upper-cased if it is D/W/M/Q, else raise ParameterError with a suggestion."""
    name = str(period).upper()
    if name not in PERIODS:
        raise ParameterError(
            f"period={period!r}: unknown period{suggest(name, PERIODS)}; choose from {', '.join(PERIODS)}"
        )
    return name


def _floor_family(high: np.ndarray, low: np.ndarray, pivot: np.ndarray) -> Levels:
    """Return the floor-trader levels around `pivot` (classic and woodie share them)."""
    span = high - low
    return {
        "P": pivot,
        "S1": 2.0 * pivot - high,
        "S2": pivot - span,
        "S3": low - 2.0 * (high - pivot),
        "R1": 2.0 * pivot - low,
        "R2": pivot + span,
        "R3": high + 2.0 * (pivot - low),
    }


def _classic(high: np.ndarray, low: np.ndarray, close: np.ndarray, open_: np.ndarray | None) -> Levels:
    return _floor_family(high, low, (high + low + close) / 3.0)


def _fibonacci(high: np.ndarray, low: np.ndarray, close: np.ndarray, open_: np.ndarray | None) -> Levels:
    pivot = (high + low + close) / 3.0
    span = high - low
    levels = {"P": pivot}
    levels.update({f"S{k}": pivot - ratio * span for k, ratio in enumerate(_FIBONACCI_RATIOS, 1)})
    levels.update({f"R{k}": pivot + ratio * span for k, ratio in enumerate(_FIBONACCI_RATIOS, 1)})
    return levels


def _camarilla(high: np.ndarray, low: np.ndarray, close: np.ndarray, open_: np.ndarray | None) -> Levels:
    span = high - low
    levels = {"P": (high + low + close) / 3.0}
    levels.update({f"S{k}": close - 1.1 * span / d for k, d in enumerate(_CAMARILLA_DIVISORS, 1)})
    levels.update({f"R{k}": close + 1.1 * span / d for k, d in enumerate(_CAMARILLA_DIVISORS, 1)})
    return levels


def _woodie(high: np.ndarray, low: np.ndarray, close: np.ndarray, open_: np.ndarray | None) -> Levels:
    assert open_ is not None  # checked by pivot_points
    return _floor_family(high, low, (high + low + 2.0 * open_) / 4.0)


def _demark(high: np.ndarray, low: np.ndarray, close: np.ndarray, open_: np.ndarray | None) -> Levels:
    assert open_ is not None  # checked by pivot_points
    x = np.where(
        close < open_,
        high + 2.0 * low + close,
        np.where(close > open_, 2.0 * high + low + close, high + low + 2.0 * close),
    )
    return {"P": x / 4.0, "S1": x / 2.0 - high, "R1": x / 2.0 - low}


_FORMULAS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None], Levels]] = {
    "classic": _classic,
    "fibonacci": _fibonacci,
    "camarilla": _camarilla,
    "woodie": _woodie,
    "demark": _demark,
}


def pivot_points(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    method: str = "classic",
    open_: npt.ArrayLike | None = None,
) -> dict[str, float | np.ndarray]:
    """Return the pivot levels of one or many periods.

    Parameters
    ----------
    high, low, close : float or array-like
        The period's high, low and close (broadcast together).
    method : {"classic", "fibonacci", "camarilla", "woodie", "demark"}
        The formula set; see the module docstring for each formula and its reference.
    open_ : float or array-like, optional
        Required by two methods, with different meanings: for ``"woodie"`` the open of the NEXT period (the
        one the levels are for), for ``"demark"`` the open of the same period as `high`/`low`/`close`.

    Returns
    -------
    dict
        ``LEVEL_NAMES[method]`` → level: ``P, S1..S3, R1..R3`` (camarilla adds ``S4, R4``; demark gives only
        ``P, S1, R1``). Python floats when every input is a scalar, else float64 arrays.

    Examples
    --------
    >>> pivot_points(2336.0, 2129.0, 2165.0)["S2"]
    2003.0
    """
    method = check_method(method)
    if method in ("woodie", "demark") and open_ is None:
        which = "next period's" if method == "woodie" else "period's"
        raise ParameterError(f"method={method!r} needs open_ (the {which} open)")
    inputs = [np.asarray(value, dtype="float64") for value in (high, low, close)]
    opens = None if open_ is None else np.asarray(open_, dtype="float64")
    scalar = all(value.ndim == 0 for value in inputs) and (opens is None or opens.ndim == 0)
    levels = _FORMULAS[method](*inputs, opens)
    if scalar:
        return {name: float(levels[name]) for name in LEVEL_NAMES[method]}
    shape = np.broadcast_shapes(*(value.shape for value in inputs))
    return {name: np.broadcast_to(levels[name], shape).astype("float64") for name in LEVEL_NAMES[method]}


def _period_blocks(bars: pd.DataFrame, period: str) -> tuple[np.ndarray, np.ndarray]:
    """Return, per bar, the index of its period block, and the first row of every block.

    Blocks are runs of consecutive bars in the same period of their futures session date
    (`rtystrat.data.bars.period_keys`, the grouping `resample_bars` uses), so an intraday bar at 17:00 CT or
    later counts toward the next day.
    """
    keys = period_keys(pd.DatetimeIndex(bars.index), period).asi8
    new_block = np.r_[True, keys[1:] != keys[:-1]]
    return np.cumsum(new_block) - 1, np.flatnonzero(new_block)


def _first_period_is_whole(bars: pd.DataFrame, period: str) -> bool:
    """Return whether the data's first period can be trusted as complete.

    The data may start mid-period (a month from its 10th, a session from its 3 a.m. bar), and nothing in
    the data says otherwise, so the first period is never used — except daily levels on daily bars, where
    each bar is one whole session.
    """
    return period == "D" and not is_intraday(bars)


def period_levels(bars: pd.DataFrame, period: str = "M", method: str = "classic") -> pd.DataFrame:
    """Return, for every bar, the pivot levels of the previous completed period.

    Parameters
    ----------
    bars : pd.DataFrame
        Canonical bars (`rtystrat.data.bars.load_bars`): sorted DatetimeIndex and ``open, high, low, close``.
    period : {"D", "W", "M", "Q"}
        Session (by futures session for intraday bars: a session opens at 17:00 CT the evening before its
        date), week (Monday–Friday sessions), calendar month or calendar quarter.
    method : str
        A pivot method, see `pivot_points`.

    Returns
    -------
    pd.DataFrame
        Same index as `bars`, float64 columns ``LEVEL_NAMES[method]``. The levels of a bar come from the
        high, low and close of the previous period present in the data (the previous session for ``"D"``),
        which has ended before the bar's period began — so no value depends on a later bar. They are NaN
        in the first period and, since the data may start mid-period, in the second one too (except
        ``"D"`` on daily bars). Woodie also uses the open of the bar's own period, known from its first bar.

    Examples
    --------
    On daily RTY futures, every March-2025 bar holds the levels of February 2025 (H 2,336.2, L 2,129.4,
    C 2,165.3): P 2,210.3, S2 2,003.5, S3 1,877.6.
    """
    period = check_period(period)
    method = check_method(method)
    columns = LEVEL_NAMES[method]
    missing = [name for name in ("open", "high", "low", "close") if name not in bars.columns]
    if missing:
        source = bars.attrs.get("source", "<DataFrame>")
        raise DataError(f"{source}: period_levels needs column {missing[0]!r}")
    if bars.empty:
        return pd.DataFrame(np.empty((0, len(columns))), index=bars.index, columns=list(columns))

    block, starts = _period_blocks(bars, period)
    ends = np.r_[starts[1:], len(bars)] - 1
    opens = bars["open"].to_numpy("float64")
    highs = np.maximum.reduceat(bars["high"].to_numpy("float64"), starts)
    lows = np.minimum.reduceat(bars["low"].to_numpy("float64"), starts)
    closes = bars["close"].to_numpy("float64")[ends]
    block_open = opens[starts]

    # Row k of `source` is the completed block whose levels block k uses: block k - 1.
    count = len(starts)
    source = np.arange(count) - 1
    usable = source >= (0 if _first_period_is_whole(bars, period) else 1)
    previous = np.maximum(source, 0)
    # Woodie needs the open of the period the levels are for; DeMark the open of the completed period.
    open_for_method = block_open if method == "woodie" else block_open[previous]
    levels = pivot_points(highs[previous], lows[previous], closes[previous], method, open_for_method)
    table = np.column_stack([np.where(usable, levels[name], np.nan) for name in columns])
    return pd.DataFrame(table[block], index=bars.index, columns=list(columns))


def round_number_levels(
    price: npt.ArrayLike, step: float
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Return the multiples of `step` at or below `price` and strictly above it.

    ``below = step * floor(price / step)``, ``above = below + step``: the round numbers traders watch
    (``round_number_levels(2025.7, 100)`` gives ``(2000.0, 2100.0)``). The quotient is rounded to 9
    decimals first so that a price already on a multiple (``0.3`` with step ``0.1``) counts as at it.
    """
    if not np.isfinite(step) or step <= 0:
        raise ParameterError(f"step={step!r}: the round-number step must be a positive number of points")
    values = np.asarray(price, dtype="float64")
    below = np.floor(np.round(values / step, 9)) * step
    above = below + step
    if values.ndim == 0:
        return float(below), float(above)
    return below, above
