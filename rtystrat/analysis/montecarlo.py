"""Monte Carlo on a trade sequence: how lucky was the order, and how deep could the drawdown have been?

The trade outcomes (R multiples, or $ net P&L) are redrawn many times with a seeded numpy ``Generator``:

- ``"bootstrap"`` draws each path's trades with replacement (Efron 1979), so both the set and the order of
  outcomes vary — the spread of final equity reflects the sampling uncertainty of the edge;
- ``"shuffle"`` permutes the actual outcomes, so every path ends at the same equity and only the path (and
  hence the drawdown) varies — the sequence risk of the same trades.

Each path's equity is ``E_k = E_0 + Σ_{i<=k} x_i`` (fixed size per trade: the R or $ outcomes add up), its max
drawdown ``min_k (E_k - max_{j<=k} E_j)`` with the start ``E_0`` counted as a peak, and with a positive
``E_0`` also in percent, ``min_k (E_k / max_{j<=k} E_j - 1)``. The "risk of ruin" at X % is the share of
paths whose max drawdown reaches X % (Vince, "The Mathematics of Money Management", 1992, ch. 4). Paths are
computed in vectorised blocks, so memory stays bounded however many paths are asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rtystrat.errors import ParameterError

__all__ = ["METHODS", "MonteCarloResult", "monte_carlo"]

METHODS = ("bootstrap", "shuffle")
_BLOCK_CELLS = 2_000_000  # trades simulated per vectorised block (~16 MB of float64)
_PERCENTILES = (5.0, 25.0, 50.0, 75.0, 95.0)


@dataclass(frozen=True, eq=False, repr=False)
class MonteCarloResult:
    """Distributions from :func:`monte_carlo`, one value per simulated path.

    Attributes
    ----------
    final_equity : np.ndarray
        ``E_0 + Σ x`` per path, in `unit`.
    max_drawdown : np.ndarray
        Deepest drop from a running peak per path, in `unit` (≤ 0).
    max_drawdown_percent : np.ndarray or None
        The same in percent of the peak (≤ 0); None unless ``start_equity > 0``.
    unit : str
        ``"R"`` or ``"$"`` (whatever the outcomes are measured in).
    method : str
        ``"bootstrap"`` or ``"shuffle"``.
    start_equity : float
        ``E_0``.
    paths : np.ndarray or None
        Equity paths, shape ``(n_paths, n_trades + 1)`` starting with ``E_0``, when kept.
    """

    final_equity: np.ndarray
    max_drawdown: np.ndarray
    max_drawdown_percent: np.ndarray | None
    unit: str
    method: str
    start_equity: float
    paths: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"MonteCarloResult(method={self.method!r}, paths={len(self.final_equity)}, unit={self.unit!r})"

    def percentiles(self, q: Sequence[float] = _PERCENTILES) -> pd.DataFrame:
        """Return the `q` percentiles (linear interpolation) of final equity and max drawdown.

        Max drawdowns are negative, so their low percentiles are the bad cases.
        """
        columns = {
            f"Final Equity [{self.unit}]": self.final_equity,
            f"Max. Drawdown [{self.unit}]": self.max_drawdown,
        }
        if self.max_drawdown_percent is not None:
            columns["Max. Drawdown [%]"] = self.max_drawdown_percent
        table = {name: np.percentile(values, q) for name, values in columns.items()}
        return pd.DataFrame(table, index=pd.Index(np.asarray(q, dtype=float), name="percentile"))

    def probability_of_drawdown(self, depth: float) -> float:
        """Return the share of paths whose max drawdown reaches `depth` (in `unit`, positive: 5 → −5R)."""
        return float(np.mean(self.max_drawdown <= -abs(depth)))

    def probability_of_drawdown_percent(self, percent: float) -> float:
        """Return the share of paths whose max drawdown reaches `percent` % of the peak ("risk of ruin")."""
        if self.max_drawdown_percent is None:
            raise ParameterError("percent drawdowns need a positive start_equity in monte_carlo(...)")
        return float(np.mean(self.max_drawdown_percent <= -abs(percent)))

    def summary(
        self, q: Sequence[float] = _PERCENTILES, drawdown_levels: Sequence[float] = (10.0, 20.0, 30.0, 50.0)
    ) -> pd.Series:
        """Return percentiles and drawdown probabilities as one Series.

        `drawdown_levels` are percents of the peak when ``start_equity > 0``, else depths in `unit`.
        """
        table = self.percentiles(q)
        values = {
            f"{column} p{level:g}": table.at[level, column] for column in table for level in table.index
        }
        for level in drawdown_levels:
            if self.max_drawdown_percent is not None:
                values[f"P(Max. Drawdown >= {level:g}%) [%]"] = (
                    self.probability_of_drawdown_percent(level) * 100
                )
            else:
                values[f"P(Max. Drawdown >= {level:g}{self.unit}) [%]"] = (
                    self.probability_of_drawdown(level) * 100
                )
        if self.start_equity > 0:
            values["P(Ruin) [%]"] = self.probability_of_drawdown_percent(100.0) * 100
        return pd.Series(
            values, dtype=float, name=f"monte carlo ({self.method}, {len(self.final_equity)} paths)"
        )

    def equity_bands(self, q: Sequence[float] = (5.0, 50.0, 95.0)) -> pd.DataFrame:
        """Return the `q` percentiles of equity after each trade (rows: trade 0..n), for a fan chart."""
        if self.paths is None:
            raise ParameterError("equity bands need the paths: call monte_carlo(..., keep_paths=True)")
        bands = np.percentile(self.paths, q, axis=0).T
        return pd.DataFrame(bands, columns=[f"p{level:g}" for level in q]).rename_axis("trade")


def monte_carlo(
    outcomes: Sequence[float] | np.ndarray | pd.Series,
    *,
    method: str = "bootstrap",
    paths: int = 10_000,
    seed: int | np.random.Generator | None = 0,
    start_equity: float = 0.0,
    unit: str = "R",
    trades_per_path: int | None = None,
    keep_paths: bool = False,
) -> MonteCarloResult:
    """Simulate equity paths by resampling or shuffling trade outcomes.

    Parameters
    ----------
    outcomes : array-like
        One outcome per trade, e.g. ``result.trades["r_multiple"]`` or ``result.trades["pnl_net"]``;
        NaN entries (trades without a defined risk) are dropped.
    method : {"bootstrap", "shuffle"}
        Draw with replacement, or permute the actual sequence.
    paths : int
        Number of simulated paths.
    seed : int, Generator or None
        Seed of ``numpy.random.default_rng``; the same seed gives the same result.
    start_equity : float
        ``E_0``: 0 for cumulative R, the starting cash for $ (enables percent drawdowns).
    unit : str
        Label of the outcomes' unit in column names (``"R"`` or ``"$"``).
    trades_per_path : int, optional
        Trades per bootstrap path (default: as many as given), e.g. one year's worth.
    keep_paths : bool
        Keep every equity path (``n_paths × (n + 1)`` floats) for :meth:`MonteCarloResult.equity_bands`.
    """
    values = np.asarray(outcomes, dtype=float)
    values = values[~np.isnan(values)]
    if method not in METHODS:
        raise ParameterError(f"method: unknown Monte Carlo method {method!r}; choose one of {METHODS}")
    if not len(values):
        raise ParameterError("outcomes: no trades to resample")
    if paths < 1:
        raise ParameterError(f"paths: must be at least 1, got {paths}")
    length = len(values) if trades_per_path is None else int(trades_per_path)
    if method == "shuffle" and length != len(values):
        raise ParameterError("trades_per_path: a shuffle permutes the actual trades; use method='bootstrap'")
    if length < 1:
        raise ParameterError(f"trades_per_path: must be at least 1, got {length}")
    rng = np.random.default_rng(seed)
    percent = start_equity > 0
    final, depth = np.empty(paths), np.empty(paths)
    depth_percent = np.empty(paths) if percent else None
    kept = np.empty((paths, length + 1)) if keep_paths else None
    block = max(1, _BLOCK_CELLS // length)
    for first in range(0, paths, block):
        rows = min(block, paths - first)
        if method == "bootstrap":
            drawn = values[rng.integers(0, len(values), size=(rows, length))]
        else:
            drawn = rng.permuted(np.tile(values, (rows, 1)), axis=1)
        equity = np.empty((rows, length + 1))
        equity[:, 0] = start_equity
        np.cumsum(drawn, axis=1, out=equity[:, 1:])
        equity[:, 1:] += start_equity
        peaks = np.maximum.accumulate(equity, axis=1)
        final[first : first + rows] = equity[:, -1]
        depth[first : first + rows] = (equity - peaks).min(axis=1)
        if depth_percent is not None:
            depth_percent[first : first + rows] = (equity / peaks - 1.0).min(axis=1) * 100.0
        if kept is not None:
            kept[first : first + rows] = equity
    return MonteCarloResult(final, depth, depth_percent, unit, method, float(start_equity), kept)
