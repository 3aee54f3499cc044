"""Monte Carlo on trade outcomes: reproducible with a seed, right on distributions known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rtystrat.analysis.montecarlo import monte_carlo
from rtystrat.errors import ParameterError

COIN_FLIPS = np.array([1.0, -1.0] * 50)  # 100 trades, exactly half +1R and half −1R


def test_fixed_seed_reproduces_every_path_and_another_seed_does_not() -> None:
    first = monte_carlo(COIN_FLIPS, paths=500, seed=42, keep_paths=True)
    second = monte_carlo(COIN_FLIPS, paths=500, seed=42, keep_paths=True)
    np.testing.assert_array_equal(first.paths, second.paths)
    pd.testing.assert_series_equal(first.summary(), second.summary(), check_exact=True)
    other = monte_carlo(COIN_FLIPS, paths=500, seed=43)
    assert not np.array_equal(first.final_equity, other.final_equity)


def test_blocks_do_not_change_the_result_shape_or_bounds() -> None:
    # 3,000 paths × 1,000 trades is more than one vectorised block
    outcomes = np.resize([2.0, -1.0, -1.0, 0.5], 1_000)
    result = monte_carlo(outcomes, paths=3_000, seed=1)
    assert result.final_equity.shape == result.max_drawdown.shape == (3_000,)
    assert np.all(result.max_drawdown <= 0)
    assert np.all(result.final_equity >= -1_000) and np.all(result.final_equity <= 2_000)


def test_equal_outcomes_give_zero_width_distributions() -> None:
    winners = monte_carlo([0.5] * 40, paths=1_000, seed=0)
    table = winners.percentiles()
    assert (table["Final Equity [R]"] == 20.0).all()  # 40 × 0.5R, whatever the draw
    assert (table["Max. Drawdown [R]"] == 0.0).all()  # the curve only rises
    losers = monte_carlo([-1.0] * 40, method="shuffle", paths=1_000, seed=0)
    assert (losers.final_equity == -40.0).all() and (losers.max_drawdown == -40.0).all()


def test_shuffle_keeps_the_final_equity_and_varies_only_the_path() -> None:
    result = monte_carlo(
        COIN_FLIPS * 250.0, method="shuffle", paths=2_000, seed=3, start_equity=10_000.0, unit="$"
    )
    assert (result.final_equity == 10_000.0).all()  # Σ of the same trades, in any order
    assert result.max_drawdown.min() < result.max_drawdown.max() <= -250.0  # at least one loss from a peak


def test_bootstrap_final_sum_of_coin_flips_matches_the_binomial() -> None:
    # each draw is ±1R with p = 1/2, so the sum of 100 draws is 2·Binomial(100, 1/2) − 100:
    # mean 0, standard deviation sqrt(100) = 10
    paths = 40_000
    result = monte_carlo(COIN_FLIPS, paths=paths, seed=2024)
    # standard errors: mean 10 / sqrt(40,000) = 0.05; std ≈ 10 / sqrt(2 · 40,000) ≈ 0.035 — allow 4 of them
    assert result.final_equity.mean() == pytest.approx(0.0, abs=0.2)
    assert result.final_equity.std(ddof=1) == pytest.approx(10.0, abs=0.15)
    # binomial quantiles: P(B ≤ 41) ≈ 0.044 < 0.05 ≤ P(B ≤ 42) ≈ 0.067, so the 5th percentile of S is
    # 2 · 42 − 100 = −16; the sample percentile may land one step (2R) off
    cumulative = np.cumsum([math.comb(100, k) / 2**100 for k in range(101)])
    for q in (5.0, 25.0, 50.0, 75.0, 95.0):
        k = int(np.searchsorted(cumulative, q / 100))  # smallest k with P(B ≤ k) ≥ q
        assert result.percentiles([q]).iloc[0, 0] == pytest.approx(2 * k - 100, abs=2.0), q


def test_drawdown_probabilities_of_two_coin_flips_are_the_exact_quarters() -> None:
    # paths ++, +−, −+, −− are equally likely; max drawdowns 0, −1, −1 (from the start), −2
    result = monte_carlo([1.0, -1.0], paths=40_000, seed=5)
    assert result.probability_of_drawdown(1) == pytest.approx(0.75, abs=0.01)
    assert result.probability_of_drawdown(2) == pytest.approx(0.25, abs=0.01)
    assert result.probability_of_drawdown(3) == 0.0


def test_percent_drawdowns_and_ruin_need_a_starting_balance() -> None:
    # from 1,000 $: ++ never draws down; +− falls 1,500 → 1,000 (−33 %); −+ falls to 500 (−50 %); −− to 0
    # (ruin, −100 %): P(drawdown ≥ 50 %) = 2/4, P(ruin) = 1/4
    result = monte_carlo([500.0, -500.0], paths=40_000, seed=6, start_equity=1_000.0, unit="$")
    summary = result.summary(drawdown_levels=(50.0,))
    assert summary["P(Max. Drawdown >= 50%) [%]"] == pytest.approx(50.0, abs=1.0)
    assert summary["P(Ruin) [%]"] == pytest.approx(25.0, abs=1.0)
    assert summary["Max. Drawdown [%] p5"] == -100.0 and summary["Final Equity [$] p50"] == 1_000.0
    in_r = monte_carlo([1.0, -1.0], paths=10, seed=6)
    assert "P(Max. Drawdown >= 1R) [%]" in in_r.summary(drawdown_levels=(1.0,))
    with pytest.raises(ParameterError, match="start_equity"):
        in_r.probability_of_drawdown_percent(10)


def test_equity_bands_follow_the_kept_paths() -> None:
    result = monte_carlo([1.0] * 5, method="shuffle", paths=10, seed=0, keep_paths=True)
    bands = result.equity_bands()
    assert bands.shape == (6, 3) and bands["p50"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    with pytest.raises(ParameterError, match="keep_paths=True"):
        monte_carlo([1.0], paths=10).equity_bands()


def test_bootstrap_horizon_and_invalid_arguments() -> None:
    assert monte_carlo([1.0, np.nan], paths=3, trades_per_path=12).final_equity.tolist() == [12.0] * 3
    with pytest.raises(ParameterError, match="'resample'"):
        monte_carlo([1.0], method="resample")
    with pytest.raises(ParameterError, match="no trades"):
        monte_carlo([np.nan])
    with pytest.raises(ParameterError, match="bootstrap"):
        monte_carlo([1.0, 2.0], method="shuffle", trades_per_path=5)
    with pytest.raises(ParameterError, match="paths"):
        monte_carlo([1.0], paths=0)
