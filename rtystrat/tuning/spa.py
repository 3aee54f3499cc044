"""Hansen's test for Superior Predictive Ability of a sweep's runs, run by the ``arch`` package.

Hansen ("A Test for Superior Predictive Ability", 2005) asks whether any of the runs beats a benchmark once
the search over all of them is accounted for: H₀ says no run's expected return exceeds the benchmark's. The
test statistic is the largest mean loss differential; its null distribution comes from a stationary
bootstrap (Politis & Romano 1994) of the differentials. :func:`spa_test` hands the matrix to
:class:`arch.bootstrap.SPA` unchanged, so its p-values are ``arch``'s for the same inputs and seed.

What :func:`rtystrat.tuning.diagnostics.diagnose` tests, and why it is cheap:

- **All runs**, against staying flat (or given benchmark returns), less the runs that never trade (their
  differential with a flat benchmark is 0 every period: they cannot beat it, and they would leave the
  variance estimate nothing to divide). Picking a few "relevant" runs by their results first would be the
  data snooping the test exists to account for.
- **Monthly returns** when the history holds at least 120 months, else weekly ones when it holds at least
  120 weeks, else the periods as kept (:func:`spa_periods`): daily returns compounded within each calendar
  month, as ``sweep(..., period="M")`` keeps them. The hypothesis is the same at every frequency (an edge
  in expected daily return is one in expected monthly return) and monthly returns are closer to normal than
  sparse daily strategy returns (most days flat), so the choice costs little power, while ``arch``'s
  variance estimate costs O(periods² × runs) and each bootstrap replication O(periods × runs): on 5,000
  days × 50 runs the daily test takes about 11× the sweep itself, the monthly one (239 months) a third of
  it (bench/README.md).
- **500 bootstrap replications** (:data:`SPA_REPS`; ``arch``'s default is 1,000): the Monte Carlo standard
  error of a p-value p is √(p(1 − p)/500), 0.010 at p = 0.05 and 0.022 at most; ask for more when a
  p-value lands near the level you test at. 1,000 of them would take the 50 × 5,000-day sweep with its
  diagnostics past twice the time of the sweep alone.
- ``arch``'s mean block length √T (15 months for 239 months): long enough for the serial dependence of
  monthly strategy returns, and the test's own default.

Memory: ``arch`` keeps every replication's mean of every run (runs × reps × 3 float64, and a copy when it
takes their maximum): 10,000 runs × 500 replications add about 370 MiB at the peak (bench/README.md), the
one diagnostic whose memory grows with the grid; ``spa_reps=0`` skips it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from rtystrat.errors import ParameterError
from rtystrat.tuning.spool import column_chunks

__all__ = ["SPA_MIN_PERIODS", "SPA_REPS", "spa_periods", "spa_test"]

#: Default stationary-bootstrap replications of :func:`spa_test`.
SPA_REPS = 500
#: Fewest periods the SPA bootstrap is given when it can coarsen the returns: 10 years of months.
SPA_MIN_PERIODS = 120
_PVALUES = ("lower", "consistent", "upper")
_COARSER = (("month", "M"), ("week", "W"))


def spa_periods(returns: pd.DataFrame, minimum: int = SPA_MIN_PERIODS) -> tuple[str, pd.DataFrame]:
    """Return the returns the SPA test runs on: compounded into the coarsest calendar period that leaves
    at least `minimum` periods, and that period's name.

    Months, else weeks, of the index (the last bar of each kept period); returns not indexed by time, or
    too short for `minimum` weeks, are returned as they are (named ``"period"``). Compounding matches what
    ``sweep(..., period="M")`` or ``"W"`` keeps: ``Π(1 + r) − 1`` over the periods in each month or week.
    """
    if not isinstance(returns.index, pd.DatetimeIndex):
        return "period", returns
    index = returns.index.tz_localize(None) if returns.index.tz is not None else returns.index
    for name, code in _COARSER:
        keys = index.to_period(code).asi8
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])  # the index is in time order
        if len(starts) >= minimum:
            compounded = np.empty((len(starts), returns.shape[1]))
            for first, block in column_chunks(returns.to_numpy()):  # a slab of runs at a time
                block += 1.0
                compounded[:, first : first + block.shape[1]] = (
                    np.multiply.reduceat(block, starts, axis=0) - 1
                )
            ends = np.r_[starts[1:], len(keys)] - 1
            return name, pd.DataFrame(compounded, index=returns.index[ends], columns=returns.columns)
    return "period", returns


def spa_test(
    returns: Any,
    benchmark: Any = None,
    *,
    reps: int = SPA_REPS,
    block_size: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Run Hansen's SPA test of the combinations against `benchmark` with :class:`arch.bootstrap.SPA`.

    Losses are negative returns; ``arch`` gets the periods × combinations matrix as given (coarsening is
    the caller's choice: :func:`spa_periods`). Combinations whose returns differ from the benchmark's by
    a constant (a combination that never trades, against a flat benchmark) cannot beat it and would make
    the variance estimate divide by zero: they are left out and counted in ``"excluded"``.

    Parameters
    ----------
    returns : array-like
        Periods × combinations.
    benchmark : array-like, optional
        The benchmark's per-period returns; default flat (0 every period).
    reps, block_size, seed
        Stationary-bootstrap replications, mean block length (``arch``'s default √T when None) and seed.

    Returns
    -------
    dict
        ``pvalue_lower``, ``pvalue_consistent``, ``pvalue_upper`` (Hansen's three p-values), ``reps``,
        ``block_size``, ``tested`` and ``excluded`` combination counts.
    """
    from arch.bootstrap import SPA  # arch is imported only where the test runs

    values = np.asarray(returns, dtype=np.float64)
    models = -(values.reshape(-1, 1) if values.ndim == 1 else values)
    base = np.zeros(len(models)) if benchmark is None else -np.asarray(benchmark, dtype=np.float64).ravel()
    if len(base) != len(models):
        raise ParameterError(f"SPA: benchmark has {len(base)} periods, the returns {len(models)}")
    differences = base[:, None] - models
    keep = differences.std(axis=0) > 0
    result: dict[str, Any] = {"reps": reps, "tested": int(keep.sum()), "excluded": int((~keep).sum())}
    if not keep.any():
        return {**result, "block_size": block_size, **{f"pvalue_{name}": math.nan for name in _PVALUES}}
    spa = SPA(base, models[:, keep], block_size=block_size, reps=reps, seed=seed)
    spa.compute()
    pvalues = spa.pvalues
    return {
        **result,
        "block_size": spa.block_size,
        **{f"pvalue_{name}": float(pvalues[name]) for name in _PVALUES},
    }
