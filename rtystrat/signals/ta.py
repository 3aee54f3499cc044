"""Technical indicators as pure functions: SMA, RSI and ATR, equal to TA-Lib's to 1e-9.

Each function takes a price series (a ``pd.Series`` keeps its index; any other array-like gets a
``RangeIndex``) and returns a float64 ``pd.Series`` whose name carries the parameter (``sma_50``, ``rsi_14``,
``atr_14``). Values before the warm-up are NaN, exactly where TA-Lib puts its first output, and a value at bar
``t`` depends only on bars ``<= t`` (no look-ahead).

Wilder smoothing (RSI, ATR) is the recursion ``avg_t = avg_{t-1} + (x_t - avg_{t-1}) / n`` seeded with the
simple mean of the first ``n`` inputs. That is an exponential average with ``alpha = 1/n`` started at the
seed, so it runs in pandas' compiled ``ewm(adjust=False)`` loop (~60 ms per million bars, no compile step).

References
----------
J. Welles Wilder, *New Concepts in Technical Trading Systems*, Trend Research, 1978 (RSI, true range, ATR).
TA-Lib, ``ta_SMA.c``, ``ta_RSI.c``, ``ta_ATR.c`` (https://github.com/TA-Lib/ta-lib), the reference the tests
compare against to 1e-9.
"""

from __future__ import annotations

import numbers

import numpy as np
import numpy.typing as npt
import pandas as pd

from rtystrat.errors import ParameterError

__all__ = ["atr", "rsi", "sma", "true_range"]


def _period(n: object, name: str, minimum: int = 1) -> int:
    """Return `n` as an int, or raise a one-line ParameterError naming the parameter."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ParameterError(f"{name}={n!r}: the period must be a whole number >= {minimum}")
    return int(n)


def _as_series(values: pd.Series | npt.ArrayLike, name: str) -> pd.Series:
    """Return `values` as a float64 Series, keeping the index of a Series."""
    if isinstance(values, pd.Series):
        return values.astype("float64")
    array = np.asarray(values, dtype="float64")
    if array.ndim != 1:
        raise ParameterError(f"{name}: expected a one-dimensional series, got shape {array.shape}")
    return pd.Series(array)


def _wilder(values: pd.Series, n: int) -> pd.Series:
    """Return Wilder's running average of `values`, whose first finite element is the first input.

    The first ``n`` non-NaN values (from the first valid position) are averaged to seed the recursion
    ``avg_t = avg_{t-1} * (n - 1) / n + x_t / n``; outputs before the seed are NaN.
    """
    out = pd.Series(np.nan, index=values.index, dtype="float64")
    first = values.first_valid_index()
    if first is None:
        return out
    start = values.index.get_loc(first)
    seed_at = start + n - 1
    if seed_at >= len(values):
        return out
    tail = values.iloc[seed_at:].copy()
    tail.iloc[0] = values.iloc[start : seed_at + 1].mean()
    out.iloc[seed_at:] = tail.ewm(alpha=1.0 / n, adjust=False).mean().to_numpy()
    return out


def sma(close: pd.Series | npt.ArrayLike, n: int) -> pd.Series:
    """Return the simple moving average of `close` over `n` bars, named ``sma_{n}``.

    ``SMA_t = (c_{t-n+1} + ... + c_t) / n``; the first ``n - 1`` values are NaN (TA-Lib ``SMA``).
    """
    n = _period(n, "sma")
    series = _as_series(close, "sma")
    return series.rolling(n, min_periods=n).mean().rename(f"sma_{n}")


def rsi(close: pd.Series | npt.ArrayLike, n: int = 14) -> pd.Series:
    """Return Wilder's relative strength index of `close` over `n` bars, named ``rsi_{n}``.

    With changes ``d_t = c_t - c_{t-1}``, gains ``U_t = max(d_t, 0)`` and losses ``D_t = max(-d_t, 0)``, the
    averages ``AU``/``AD`` are Wilder-smoothed, seeded with the simple mean of the first ``n`` changes
    (bars 1..n), and ``RSI = 100 * AU / (AU + AD)`` — equal to ``100 - 100 / (1 + AU/AD)`` — and 0 when both
    averages are 0 (TA-Lib's convention). The first value is at bar ``n``; bars ``0..n-1`` are NaN, as in
    TA-Lib ``RSI`` (Wilder 1978, ch. VI).
    """
    n = _period(n, "rsi")
    series = _as_series(close, "rsi")
    change = series.diff()
    gains = _wilder(change.clip(lower=0.0), n)
    losses = _wilder((-change).clip(lower=0.0), n)
    total = gains + losses
    # TA-Lib reports 0, not NaN, for a flat stretch where both averages vanish.
    value = (100.0 * gains / total.where(total != 0.0)).where(total != 0.0, 0.0).where(total.notna())
    return value.rename(f"rsi_{n}")


def true_range(
    high: pd.Series | npt.ArrayLike, low: pd.Series | npt.ArrayLike, close: pd.Series | npt.ArrayLike
) -> pd.Series:
    """Return Wilder's true range ``max(H_t, C_{t-1}) - min(L_t, C_{t-1})``, named ``true_range``.

    The first bar has no previous close, so its value is NaN (TA-Lib ``TRANGE``).
    """
    high_series = _as_series(high, "high")
    low_series = _as_series(low, "low").set_axis(high_series.index)
    previous_close = _as_series(close, "close").set_axis(high_series.index).shift(1)
    upper = np.maximum(high_series, previous_close)
    lower = np.minimum(low_series, previous_close)
    return (upper - lower).rename("true_range")


def atr(
    high: pd.Series | npt.ArrayLike,
    low: pd.Series | npt.ArrayLike,
    close: pd.Series | npt.ArrayLike,
    n: int = 14,
) -> pd.Series:
    """Return Wilder's average true range over `n` bars, named ``atr_{n}``.

    The true range is Wilder-smoothed, seeded with the simple mean of its first ``n`` values (bars 1..n), so
    the first value is at bar ``n`` — TA-Lib ``ATR`` (Wilder 1978, ch. III).
    """
    n = _period(n, "atr")
    return _wilder(true_range(high, low, close), n).rename(f"atr_{n}")
