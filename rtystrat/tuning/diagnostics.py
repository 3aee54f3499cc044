"""How likely is the best combination of a sweep an accident? Overfitting diagnostics as pure functions.

Every function takes per-period returns (a periods × combinations matrix, one column per combination, as
:func:`rtystrat.tuning.sweep.sweep` keeps them with ``keep_returns=True``) and returns plain numbers. Sharpe
ratios here are per period (mean / standard deviation, ``ddof=1``) unless a name says annualised.

- **Probabilistic Sharpe Ratio** (Bailey & López de Prado, "The Sharpe Ratio Efficient Frontier", 2012;
  eq. 2 of "The Deflated Sharpe Ratio", 2014): the probability that the true Sharpe ratio exceeds SR*,
  ``PSR(SR*) = Φ[(SR̂ − SR*)·√(T − 1) / √(1 − γ̂₃·SR̂ + (γ̂₄ − 1)/4 · SR̂²)]`` with γ̂₃ the skewness and γ̂₄ the
  (non-excess) kurtosis of the T returns.
- **Deflated Sharpe Ratio** (Bailey & López de Prado, 2014): PSR against the Sharpe ratio the best of N
  unskilled trials would show, ``SR₀ = √V[SR_n] · ((1 − γ)·Φ⁻¹[1 − 1/N] + γ·Φ⁻¹[1 − 1/(N·e)])`` (γ the
  Euler–Mascheroni constant, V the variance of the trials' Sharpe ratios). Correlated trials count less:
  the paper allows N to be an effective number; here ``N̂ = ρ̄ + (1 − ρ̄)·N`` from the mean pairwise
  correlation ρ̄ of the trials' returns (ρ̄ = 1: one trial; ρ̄ = 0: N).
- **Probability of Backtest Overfitting** by combinatorially symmetric cross-validation (Bailey, Borwein,
  López de Prado & Zhu, "The Probability of Backtest Overfitting", 2015): the periods are cut into S equal
  blocks; for each of the C(S, S/2) ways to pick half of them as in-sample (IS, the rest out-of-sample, OOS)
  the IS-best combination (by Sharpe ratio) gets its relative OOS rank ω ∈ (0, 1) and logit
  ``λ = ln(ω / (1 − ω))``. PBO is the share of splits with λ ≤ 0 (the IS winner at or below the OOS median);
  the performance degradation is the OLS slope of OOS Sharpe on IS Sharpe of the winners; the probability of
  loss is the share of splits where the winner's OOS Sharpe is negative.
- **Hansen's Superior Predictive Ability test** (Hansen, "A Test for Superior Predictive Ability", 2005),
  run by the ``arch`` package (:mod:`rtystrat.tuning.spa`): can any combination beat the benchmark (flat by
  default) once the search over all of them is accounted for? Small p-values say yes. :func:`diagnose` runs
  it on every run that trades, on monthly returns when there are at least 120 months (else weekly, else as
  kept), with 500 bootstrap replications and ``arch``'s mean block length √T.
- **Plateau, not peak**: each grid cell's objective averaged over its grid neighbours (every axis within one
  step), so a lone spike does not outrank a broad region of good values.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from rtystrat.analysis.metrics import estimate_bars_per_year
from rtystrat.errors import ParameterError
from rtystrat.tuning.spa import SPA_REPS, spa_periods, spa_test
from rtystrat.tuning.spool import CHUNK_RUNS, column_chunks

__all__ = [
    "Diagnostics",
    "Overfitting",
    "deflated_sharpe_ratio",
    "diagnose",
    "effective_trials",
    "expected_maximum_sharpe",
    "plateau",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "sharpe_ratios",
    "spa_test",
]

_SPLIT_ELEMENTS = 1 << 18  # CSCV (split, combination) pairs evaluated at once: ~12 MiB of temporaries
_MAX_PLATEAU_CELLS = 5_000_000  # dense grid cells the neighbour average may allocate


def _matrix(returns: Any) -> np.ndarray:
    """Return `returns` as a 2-D array (periods × combinations), a 1-D input as one column."""
    values = np.asarray(returns)
    return values.reshape(-1, 1) if values.ndim == 1 else values


def sharpe_ratios(returns: Any) -> np.ndarray:
    """Return the per-period Sharpe ratio ``mean / std (ddof=1)`` of each column (0 for a constant column).

    A combination that never trades has constant (zero) returns: its Sharpe ratio is 0, not undefined.
    Columns are read :data:`~rtystrat.tuning.spool.CHUNK_RUNS` at a time (:func:`column_chunks`).
    """
    values = _matrix(returns)
    ratios = np.zeros(values.shape[1])
    for start, block in column_chunks(values):  # a slab of runs at a time: memory flat in the runs
        mean = block.mean(axis=0)
        std = block.std(axis=0, ddof=1)
        np.divide(mean, std, out=ratios[start : start + len(mean)], where=std > 0)
    return ratios


def probabilistic_sharpe_ratio(returns: Any, benchmark_sharpe: float = 0.0) -> float:
    """Return the probability that the true per-period Sharpe ratio of `returns` exceeds `benchmark_sharpe`.

    ``Φ[(SR̂ − SR*)·√(T − 1) / √(1 − γ̂₃·SR̂ + (γ̂₄ − 1)/4 · SR̂²)]`` (Bailey & López de Prado 2012, 2014),
    skewness and kurtosis as population moments of the sample (``bias=True``), kurtosis not in excess.
    """
    values = np.asarray(returns, dtype=np.float64).ravel()
    if len(values) < 3:
        raise ParameterError(f"probabilistic Sharpe ratio: {len(values)} returns, need at least 3")
    sharpe = float(sharpe_ratios(values)[0])
    if values.std() == 0:
        return math.nan
    skewness, kurtosis = _skewness_kurtosis(values)
    spread = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if spread <= 0:
        return math.nan
    return float(stats.norm.cdf((sharpe - benchmark_sharpe) * math.sqrt(len(values) - 1) / math.sqrt(spread)))


def expected_maximum_sharpe(sharpe_variance: float, trials: float) -> float:
    """Return SR₀, the expected maximum of `trials` unskilled Sharpe ratios of variance `sharpe_variance`.

    ``√V · ((1 − γ)·Φ⁻¹[1 − 1/N] + γ·Φ⁻¹[1 − 1/(N·e)])`` (Bailey & López de Prado 2014, eq. 1 of the DSR);
    0 for a single trial (nothing was selected).
    """
    if trials <= 1:
        return 0.0
    gamma = np.euler_gamma
    quantiles = (1 - gamma) * stats.norm.ppf(1 - 1 / trials) + gamma * stats.norm.ppf(
        1 - 1 / (trials * math.e)
    )
    return float(math.sqrt(sharpe_variance) * quantiles)


def effective_trials(returns: Any, chunk: int = CHUNK_RUNS) -> tuple[float, float]:
    """Return ``(N̂, ρ̄)``: the effective number of independent trials and the mean pairwise correlation.

    ``N̂ = ρ̄ + (1 − ρ̄)·N`` with ρ̄ the mean correlation over pairs of the N columns, clipped to [0, 1].
    With standardised columns z_i (``z_i·z_i = T − 1``), ``Σ_{i≠j} z_i·z_j = ‖Σ_i z_i‖² − Σ_i ‖z_i‖²``, so ρ̄
    needs one running sum over the columns (read `chunk` at a time), never the N × N matrix. Constant
    columns (combinations that never trade) have no correlation and are left out of ρ̄, not out of N.
    """
    values = _matrix(returns)
    periods, trials = values.shape
    total = np.zeros(periods)
    varying = 0
    for _, block in column_chunks(values, chunk):
        block -= block.mean(axis=0)
        std = block.std(axis=0, ddof=1)
        keep = std > 0
        total += (block[:, keep] / std[keep]).sum(axis=1)
        varying += int(keep.sum())
    if varying < 2:
        return float(trials), 0.0
    pairs = varying * (varying - 1)
    mean_correlation = (total @ total - varying * (periods - 1)) / (pairs * (periods - 1))
    rho = min(max(float(mean_correlation), 0.0), 1.0)
    return rho + (1.0 - rho) * trials, rho


def deflated_sharpe_ratio(returns: Any, trial_sharpe_ratios: Any, trials: float | None = None) -> float:
    """Return the DSR of `returns`: PSR against SR₀ of the trials (Bailey & López de Prado 2014).

    Parameters
    ----------
    returns : array-like
        Per-period returns of the selected combination.
    trial_sharpe_ratios : array-like
        Per-period Sharpe ratio of every combination tried (the selected one included); their variance
        (``ddof=1``) is V.
    trials : float, optional
        N, or an effective number of independent trials (:func:`effective_trials`); default the number of
        Sharpe ratios given.
    """
    ratios = np.asarray(trial_sharpe_ratios, dtype=np.float64).ravel()
    count = float(len(ratios)) if trials is None else float(trials)
    variance = float(ratios.var(ddof=1)) if len(ratios) > 1 else 0.0
    return probabilistic_sharpe_ratio(returns, expected_maximum_sharpe(variance, count))


def _skewness_kurtosis(values: np.ndarray) -> tuple[float, float]:
    """Skewness ``m₃ / m₂^1.5`` and (non-excess) kurtosis ``m₄ / m₂²`` from the central moments mₖ of
    `values` (population, as ``scipy.stats.skew(bias=True)``); NaN for constant values (a run that never
    traded, selected when `min_trades` is 0), which have none."""
    centred = values - values.mean()
    m2 = float(np.mean(centred**2))
    if m2 == 0:
        return math.nan, math.nan
    return float(np.mean(centred**3)) / m2**1.5, float(np.mean(centred**4)) / m2**2


@dataclass(frozen=True, eq=False)
class Overfitting:
    """Outcome of :func:`probability_of_backtest_overfitting` (arrays: one entry per CSCV split).

    Attributes
    ----------
    blocks, rows_per_block : int
        S and the periods in each block (the first ``T mod S`` periods are left out so blocks are equal).
    logits : np.ndarray
        λ of the IS winner's relative OOS rank, per split.
    in_sample, out_of_sample : np.ndarray
        The IS winner's per-period Sharpe ratio in and out of sample, per split.
    pbo, degradation_slope, degradation_intercept, probability_of_loss : float
    """

    blocks: int
    rows_per_block: int
    logits: np.ndarray = field(repr=False)
    in_sample: np.ndarray = field(repr=False)
    out_of_sample: np.ndarray = field(repr=False)
    pbo: float
    degradation_slope: float
    degradation_intercept: float
    probability_of_loss: float

    def to_dict(self) -> dict[str, Any]:
        """Return the scalars as plain data (the per-split arrays are for the figure)."""
        return {
            "blocks": self.blocks,
            "splits": len(self.logits),
            "rows_per_block": self.rows_per_block,
            "pbo": self.pbo,
            "logit_median": float(np.median(self.logits)),
            "degradation_slope": self.degradation_slope,
            "degradation_intercept": self.degradation_intercept,
            "probability_of_loss": self.probability_of_loss,
        }


def _split_sharpe(sums: np.ndarray, squares: np.ndarray, rows: int) -> np.ndarray:
    """Sharpe ratios from sums and sums of squares over `rows` periods (0 where the variance is 0).

    ``SR = mean / sd = mean · √(rows − 1) / √(Σx² − Σx · mean)``, computed in place: this runs on every
    (split, combination) pair.
    """
    mean = sums / rows
    spread = sums * mean
    np.subtract(squares, spread, out=spread)
    # Sums of floats leave ~1e-16 of the squares as variance in a constant column: treat it as none.
    spread[spread <= 1e-12 * squares] = np.inf
    np.sqrt(spread, out=spread)
    np.divide(mean, spread, out=mean)
    mean *= math.sqrt(rows - 1)
    return mean


@functools.cache
def _splits(blocks: int) -> np.ndarray:
    """The C(blocks, blocks/2) in-sample choices as rows of 0/1 block indicators (read-only, cached)."""
    chosen = np.array(list(itertools.combinations(range(blocks), blocks // 2)))
    splits = np.zeros((len(chosen), blocks))
    np.put_along_axis(splits, chosen, 1.0, axis=1)
    splits.flags.writeable = False
    return splits


#: Relative difference under which two Sharpe ratios rank as a tie in PBO.
_TIE = 1e-9


def probability_of_backtest_overfitting(returns: Any, blocks: int = 16) -> Overfitting:
    """Run combinatorially symmetric cross-validation on a periods × combinations returns matrix.

    Each block's sums and sums of squares are computed once (a slab of combinations at a time); a split's
    IS and OOS Sharpe ratios come from adding those of its blocks (a (splits × blocks) @ (blocks ×
    combinations) product, about 260,000 (split, combination) pairs at a time), so the matrix is read once,
    whatever the C(16, 8) = 12,870 splits, and memory does not grow with the combinations.
    Ties in the OOS ranking (equal within a relative :data:`_TIE`) take their mean rank; the relative rank
    is ``rank / (N + 1)`` as in the paper.

    Raises
    ------
    ParameterError
        For an odd or too small `blocks`, fewer than two combinations, or blocks shorter than two periods.
    """
    values = _matrix(returns)
    periods, count = values.shape
    if blocks < 2 or blocks % 2:
        raise ParameterError(f"PBO: blocks={blocks} must be even and at least 2")
    if count < 2:
        raise ParameterError(f"PBO: {count} combination(s), need at least 2 to rank")
    rows = periods // blocks
    if rows < 2:
        raise ParameterError(f"PBO: {periods} periods cut into {blocks} blocks leave fewer than 2 per block")
    first = periods - rows * blocks
    sums = np.empty((blocks, count))
    squares = np.empty((blocks, count))
    for start, chunk in column_chunks(values):
        cut = chunk[first:].reshape(blocks, rows, -1)
        sums[:, start : start + cut.shape[2]] = cut.sum(axis=1)
        squares[:, start : start + cut.shape[2]] = np.einsum("bij,bij->bj", cut, cut)
    both = np.concatenate([sums, squares], axis=1)  # one product gives a split's sums and squares
    total = both.sum(axis=0)
    half = rows * blocks // 2
    splits = _splits(blocks)
    logits, in_sample, out_of_sample = [], [], []
    chunk = max(1, _SPLIT_ELEMENTS // count)
    for start in range(0, len(splits), chunk):
        chosen = splits[start : start + chunk]
        is_both = chosen @ both
        is_sharpe = _split_sharpe(is_both[:, :count], is_both[:, count:], half)
        np.subtract(total, is_both, out=is_both)  # now the out-of-sample sums and squares
        oos_sharpe = _split_sharpe(is_both[:, :count], is_both[:, count:], half)
        winner = np.argmax(is_sharpe, axis=1)
        picked = np.arange(len(chosen))
        winner_oos = oos_sharpe[picked, winner][:, None]
        # Equal Sharpe ratios reached by different sums (a run sized up) differ in the last bits: a tie.
        tolerance = _TIE * np.abs(winner_oos)
        tied = (np.abs(oos_sharpe - winner_oos) <= tolerance).sum(axis=1)
        rank = (oos_sharpe < winner_oos - tolerance).sum(axis=1) + (tied + 1) / 2
        relative = rank / (count + 1)
        logits.append(np.log(relative / (1 - relative)))
        in_sample.append(is_sharpe[picked, winner])
        out_of_sample.append(winner_oos[:, 0])
    logit = np.concatenate(logits)
    is_best, oos_best = np.concatenate(in_sample), np.concatenate(out_of_sample)
    spread = float(np.var(is_best))
    slope = float(np.cov(is_best, oos_best, ddof=0)[0, 1] / spread) if spread > 0 else math.nan
    intercept = float(oos_best.mean() - slope * is_best.mean()) if spread > 0 else math.nan
    return Overfitting(
        blocks=blocks,
        rows_per_block=rows,
        logits=logit,
        in_sample=is_best,
        out_of_sample=oos_best,
        pbo=float(np.mean(logit <= 0)),
        degradation_slope=slope,
        degradation_intercept=intercept,
        probability_of_loss=float(np.mean(oos_best < 0)),
    )


def plateau(objective: pd.Series, qualifies: Any = None) -> pd.DataFrame:
    """Return each grid cell's objective averaged over its grid neighbours, and how many were averaged.

    `objective` is indexed by the grid parameters (a sweep frame's index); each axis is ordered as its
    values first appear (the order the sweep lists them). Neighbours are the cells whose position on every
    axis is within one step (the cell itself included); cells that do not qualify (too few trades, NaN) are
    left out of every average and get NaN.

    Returns
    -------
    pd.DataFrame
        Same index: ``"plateau"`` (the neighbour mean) and ``"neighbours"`` (qualifying cells averaged).
    """
    index = objective.index
    # Codes in order of first appearance (a MultiIndex's own codes follow its sorted levels).
    keys = index.codes if isinstance(index, pd.MultiIndex) else [index]
    codes = [pd.factorize(np.asarray(key), use_na_sentinel=False)[0] for key in keys]
    shape = tuple(int(code.max()) + 1 for code in codes) if len(objective) else (0,)
    good = np.isfinite(objective.to_numpy(dtype=np.float64))
    if qualifies is not None:
        good &= np.asarray(qualifies, dtype=bool)
    if math.prod(shape) > _MAX_PLATEAU_CELLS:
        raise ParameterError(f"plateau: a grid of {math.prod(shape):,} cells is too large to average")
    value = np.zeros(shape)
    valid = np.zeros(shape)
    cell = tuple(codes)
    value[cell] = np.where(good, objective.to_numpy(dtype=np.float64), 0.0)
    valid[cell] = good
    padded_value = np.pad(value, 1)
    padded_valid = np.pad(valid, 1)
    sums, counts = np.zeros(shape), np.zeros(shape)
    for offset in itertools.product((0, 1, 2), repeat=len(shape)):
        window = tuple(slice(o, o + n) for o, n in zip(offset, shape, strict=True))
        sums += padded_value[window]
        counts += padded_valid[window]
    mean = np.divide(sums, counts, out=np.full(shape, np.nan), where=counts > 0)[cell]
    mean[~good] = np.nan
    return pd.DataFrame({"plateau": mean, "neighbours": counts[cell]}, index=index)


@dataclass(frozen=True, eq=False)
class Diagnostics:
    """Overfitting diagnostics of one sweep (:func:`diagnose`): a summary, and the CSCV arrays to plot."""

    summary: dict[str, Any]
    overfitting: Overfitting | None

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain data (JSON-ready but for NaN, which the caller maps)."""
        return self.summary


def _params(index: pd.Index, position: int) -> dict[str, Any]:
    """Parameters of a row (pandas shows a parameter set to None as NaN; declared ones are never NaN)."""
    values = index[position]
    values = values if isinstance(values, tuple) else (values,)
    return {
        name: None if isinstance(value, float) and math.isnan(value) else value
        for name, value in zip(index.names, values, strict=True)
    }


def _best(values: np.ndarray, good: np.ndarray, maximize: bool) -> int | None:
    """Position of the best qualifying value (first in grid order on ties), or None."""
    if not good.any():
        return None
    scored = np.where(good, values if maximize else -values, -np.inf)
    return int(np.argmax(scored))


def diagnose(
    frame: pd.DataFrame,
    returns: pd.DataFrame | np.ndarray,
    *,
    objective: str = "Expectancy [R]",
    min_trades: int = 10,
    maximize: bool = True,
    periods_per_year: float | None = None,
    benchmark_sharpe: float = 0.0,
    benchmark: Sequence[float] | np.ndarray | None = None,
    blocks: int = 16,
    spa_reps: int = SPA_REPS,
    seed: int = 0,
) -> Diagnostics:
    """Return the overfitting diagnostics of a sweep: DSR, PSR, PBO, SPA and plateau against peak.

    Parameters
    ----------
    frame : pd.DataFrame
        The sweep frame (one row per combination, indexed by the parameters, with ``"# Trades"``).
    returns : DataFrame or ndarray
        Periods × combinations, column k the per-period returns of row k of `frame`.
    objective, min_trades, maximize
        Select the combination as :func:`rtystrat.tuning.sweep.rank` does (DSR and PSR are of its returns).
    periods_per_year : float, optional
        To annualise the Sharpe ratios shown; by default estimated from the times of `returns`
        (:func:`rtystrat.analysis.metrics.estimate_bars_per_year`), else 252.
    benchmark_sharpe : float
        Annualised Sharpe ratio the PSR tests against.
    benchmark : array-like, optional
        Per-period returns of the SPA benchmark (flat when None).
    blocks, spa_reps, seed
        CSCV blocks S; SPA bootstrap replications (0 skips the test) and seed. The SPA test runs on the
        returns compounded by :func:`rtystrat.tuning.spa.spa_periods` (monthly for 120 months or more, else
        weekly for 120 weeks or more, else as given; `benchmark` alike) with ``arch``'s block length √T.
    """
    matrix = _matrix(returns.to_numpy() if isinstance(returns, pd.DataFrame) else returns)
    if periods_per_year is None:
        timed = isinstance(returns, pd.DataFrame) and isinstance(returns.index, pd.DatetimeIndex)
        periods_per_year = estimate_bars_per_year(returns.index) if timed else 252.0
    if matrix.shape[1] != len(frame):
        raise ParameterError(f"diagnostics: {matrix.shape[1]} return columns for {len(frame)} sweep rows")
    values = frame[objective].to_numpy(dtype=np.float64)
    trades = (
        frame["# Trades"].to_numpy(dtype=np.float64) if "# Trades" in frame else np.full(len(frame), np.inf)
    )
    good = np.isfinite(values) & (trades >= min_trades)
    scale = math.sqrt(periods_per_year)
    ratios = sharpe_ratios(matrix)
    trials = len(frame)
    effective, rho = effective_trials(matrix)
    summary: dict[str, Any] = {
        "objective": objective,
        "periods": int(matrix.shape[0]),
        "periods_per_year": periods_per_year,
        "trials": trials,
        "effective_trials": effective,
        "mean_correlation": rho,
        "sharpe_ratio_std_across_trials": float(ratios.std(ddof=1) * scale) if trials > 1 else math.nan,
    }
    selected = _best(values, good, maximize)
    if selected is not None:
        chosen = matrix[:, selected].astype(np.float64)
        variance = float(ratios.var(ddof=1)) if trials > 1 else 0.0
        summary["selected"] = {
            "params": _params(frame.index, selected),
            objective: float(values[selected]),
            "sharpe_ratio": float(ratios[selected] * scale),
            **dict(zip(("skewness", "kurtosis"), _skewness_kurtosis(chosen), strict=True)),
            "probabilistic_sharpe_ratio": probabilistic_sharpe_ratio(chosen, benchmark_sharpe / scale),
            "benchmark_sharpe_ratio": benchmark_sharpe,
            "expected_max_sharpe_ratio": expected_maximum_sharpe(variance, effective) * scale,
            "deflated_sharpe_ratio": deflated_sharpe_ratio(chosen, ratios, effective),
            "deflated_sharpe_ratio_all_trials": deflated_sharpe_ratio(chosen, ratios, trials),
        }
    overfitting = probability_of_backtest_overfitting(matrix, blocks) if trials >= 2 else None
    summary["pbo"] = overfitting.to_dict() if overfitting is not None else None
    summary["spa"] = _spa_summary(returns, benchmark, spa_reps, seed) if spa_reps > 0 else None
    summary["plateau"] = _plateau_summary(frame, values, good, maximize)
    return Diagnostics(summary, overfitting)


def _spa_summary(returns: Any, benchmark: Any, reps: int, seed: int) -> dict[str, Any]:
    """Hansen's SPA test on the returns coarsened by :func:`spa_periods`, the benchmark coarsened alike."""
    table = returns if isinstance(returns, pd.DataFrame) else pd.DataFrame(_matrix(returns))
    period, coarse = spa_periods(table)
    base = None
    if benchmark is not None:
        given = np.asarray(benchmark, dtype=np.float64).ravel()
        if len(given) != len(table):
            raise ParameterError(f"SPA: benchmark has {len(given)} periods, the returns {len(table)}")
        base = spa_periods(pd.DataFrame({"benchmark": given}, index=table.index))[1]["benchmark"].to_numpy()
    return {
        **spa_test(coarse.to_numpy(), base, reps=reps, seed=seed),
        "benchmark": "flat" if benchmark is None else "given",
        "period": period,
        "periods": len(coarse),
    }


def _plateau_summary(frame: pd.DataFrame, values: np.ndarray, good: np.ndarray, maximize: bool) -> Any:
    """The best peak and the best plateau (neighbour mean) with their parameters; None without a grid."""
    peak = _best(values, good, maximize)
    if peak is None:
        return None
    try:
        table = plateau(pd.Series(values, index=frame.index), good)
    except ParameterError:
        return None
    smooth = table["plateau"].to_numpy()
    best = _best(smooth, np.isfinite(smooth), maximize)
    return {
        "best_peak": {"params": _params(frame.index, peak), "value": float(values[peak])},
        "best_plateau": {
            "params": _params(frame.index, best),
            "plateau_value": float(smooth[best]),
            "value": float(values[best]),
            "neighbours": int(table["neighbours"].iloc[best]),
        },
    }
