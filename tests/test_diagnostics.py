"""Overfitting diagnostics: PSR and DSR against the papers' formulas worked by hand on series of known
moments, PBO on hand-built and seeded synthetic sweeps, SPA equal to ``arch``'s, plateau averages."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import SPA

from rtystrat.errors import ParameterError
from rtystrat.tuning.diagnostics import (
    deflated_sharpe_ratio,
    diagnose,
    effective_trials,
    expected_maximum_sharpe,
    plateau,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
    sharpe_ratios,
    spa_test,
)
from rtystrat.tuning.spa import spa_periods

EULER_GAMMA = 0.5772156649015329
PHI = NormalDist()  # the standard library's normal distribution: a second implementation of Φ and Φ⁻¹


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def test_psr_of_a_symmetric_two_point_series_is_phi_of_3_3() -> None:
    # 50 × +2% and 50 × -1%: mean 0.5%, population sd 1.5%, skewness 0, kurtosis 1, so
    # SR = 0.005 / (0.015·√(100/99)) = √0.99 / 3, the denominator is 1 and SR·√99 = 9.9 / 3 = 3.3.
    returns = np.tile([0.02, -0.01], 50)
    assert sharpe_ratios(returns)[0] == pytest.approx(math.sqrt(0.99) / 3, rel=1e-12)
    assert probabilistic_sharpe_ratio(returns) == pytest.approx(_phi(3.3), rel=1e-12)
    # Against SR* = 0.1: Φ((√0.99/3 − 0.1)·√99).
    expected = _phi((math.sqrt(0.99) / 3 - 0.1) * math.sqrt(99))
    assert probabilistic_sharpe_ratio(returns, 0.1) == pytest.approx(expected, rel=1e-12)


def test_psr_of_a_skewed_series_uses_its_skewness_and_kurtosis() -> None:
    # Nine +1% and one -5%, ten times: mean 0.4%, m2 = 3.24e-4 (sd 1.8%), skewness -8/3, kurtosis 73/9.
    returns = np.tile([0.01] * 9 + [-0.05], 10)
    sharpe = 0.004 / (0.018 * math.sqrt(100 / 99))
    skewness, kurtosis = -8 / 3, 73 / 9
    spread = 1 - skewness * sharpe + (kurtosis - 1) / 4 * sharpe**2
    expected = _phi((sharpe - 0.05) * math.sqrt(99) / math.sqrt(spread))
    assert probabilistic_sharpe_ratio(returns, 0.05) == pytest.approx(expected, rel=1e-12)
    # Fat left tail costs confidence: a normal series of the same Sharpe ratio would score higher.
    assert expected < _phi((sharpe - 0.05) * math.sqrt(99))


def test_expected_maximum_and_dsr_follow_bailey_lopez_de_prado() -> None:
    trial_sharpes = np.array([0.1, 0.2, 0.3, 0.4, 0.331662479])
    variance = float(np.var(trial_sharpes, ddof=1))
    quantiles = (1 - EULER_GAMMA) * PHI.inv_cdf(1 - 1 / 5) + EULER_GAMMA * PHI.inv_cdf(1 - 1 / (5 * math.e))
    sr0 = math.sqrt(variance) * quantiles
    assert expected_maximum_sharpe(variance, 5) == pytest.approx(sr0, rel=1e-12)
    returns = np.tile([0.02, -0.01], 50)  # SR √0.99/3, skewness 0, kurtosis 1 (see above)
    assert deflated_sharpe_ratio(returns, trial_sharpes) == pytest.approx(
        _phi((math.sqrt(0.99) / 3 - sr0) * math.sqrt(99)), rel=1e-12
    )
    # Fewer effective trials deflate less; one trial is no selection at all (SR₀ = 0, DSR = PSR).
    assert deflated_sharpe_ratio(returns, trial_sharpes, 2.5) > deflated_sharpe_ratio(returns, trial_sharpes)
    assert deflated_sharpe_ratio(returns, trial_sharpes, 1) == probabilistic_sharpe_ratio(returns)


def test_effective_trials_from_mean_pairwise_correlation() -> None:
    x = np.array([1.0, -1.0, 1.0, -1.0])
    y = np.array([1.0, 1.0, -1.0, -1.0])  # uncorrelated with x
    never_trades = np.zeros(4)
    matrix = np.column_stack([x, x, y, never_trades])
    # Pairs among the varying columns: (x, x) 1, (x, y) 0, (x, y) 0 -> ρ̄ = 1/3; N stays 4.
    assert np.corrcoef(matrix[:, :3], rowvar=False)[np.triu_indices(3, 1)].mean() == pytest.approx(1 / 3)
    count, rho = effective_trials(matrix, chunk=2)  # read in chunks: same answer
    assert rho == pytest.approx(1 / 3, rel=1e-12)
    assert count == pytest.approx(1 / 3 + (2 / 3) * 4, rel=1e-12)
    assert effective_trials(np.column_stack([x, x, x]))[0] == pytest.approx(1.0)


def test_pbo_hand_built_two_block_sweep_is_always_overfit() -> None:
    # Blocks of two periods. A shines in block 1 and loses in block 2, B the other way round: whichever
    # block is in sample, its winner is last out of sample (rank 1 of 2: ω = 1/3, λ = ln(1/2)).
    a = [1.0, 3.0, 0.0, -2.0]
    b = [0.0, -2.0, 1.0, 3.0]
    result = probability_of_backtest_overfitting(np.column_stack([a, b]), blocks=2)
    np.testing.assert_allclose(result.logits, [math.log(0.5)] * 2, rtol=1e-12)
    np.testing.assert_allclose(result.in_sample, [2 / math.sqrt(2)] * 2, rtol=1e-12)
    np.testing.assert_allclose(result.out_of_sample, [-1 / math.sqrt(2)] * 2, rtol=1e-12)
    assert result.pbo == 1.0
    assert result.probability_of_loss == 1.0
    assert math.isnan(result.degradation_slope)  # the IS Sharpe ratios do not vary: no regression
    assert result.to_dict()["splits"] == 2


def test_pbo_of_pure_noise_is_about_one_half_and_of_a_planted_edge_near_zero() -> None:
    rng = np.random.default_rng(15)
    noise = rng.normal(0.0, 0.01, size=(1600, 40)).astype(np.float32)
    result = probability_of_backtest_overfitting(noise)
    assert result.to_dict()["splits"] == 12_870
    assert 0.35 <= result.pbo <= 0.75
    assert result.degradation_slope < 0.5  # IS skill does not carry over
    edge = noise.copy()
    edge[:, 17] += 0.003  # a true per-period Sharpe ratio of 0.3 in one combination
    planted = probability_of_backtest_overfitting(edge)
    assert planted.pbo < 0.02
    assert planted.probability_of_loss < 0.02


def test_pbo_leaves_out_the_first_periods_to_cut_equal_blocks_and_checks_its_inputs() -> None:
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(37, 3))
    trimmed = probability_of_backtest_overfitting(matrix[1:], blocks=4)
    assert probability_of_backtest_overfitting(matrix, blocks=4).pbo == trimmed.pbo
    with pytest.raises(ParameterError, match="blocks=3 must be even"):
        probability_of_backtest_overfitting(matrix, blocks=3)
    with pytest.raises(ParameterError, match="1 combination"):
        probability_of_backtest_overfitting(matrix[:, :1])
    with pytest.raises(ParameterError, match="fewer than 2 per block"):
        probability_of_backtest_overfitting(matrix[:20], blocks=16)


def test_pbo_ranks_combinations_of_equal_sharpe_ratio_as_ties_whatever_their_float_noise() -> None:
    # Sharpe ratios do not change with scale, so 3x a column is the same run sized up; its split Sharpe
    # ratios differ from the column's only in the last bits. Ranked as a tie, the sweep is the one whose
    # copy is exact: an exact `==` broke those ties at random.
    rng = np.random.default_rng(4)
    matrix = rng.normal(0.001, 0.01, size=(160, 6))
    exact = matrix.copy()
    exact[:, 5] = exact[:, 0]
    scaled = matrix.copy()
    scaled[:, 5] = 3.0 * scaled[:, 0]
    expected = probability_of_backtest_overfitting(exact, blocks=8)
    result = probability_of_backtest_overfitting(scaled, blocks=8)
    np.testing.assert_allclose(result.logits, expected.logits, rtol=1e-9)
    assert result.pbo == expected.pbo


def _arch_pvalues(benchmark: np.ndarray, returns: np.ndarray, reps: int, seed: int) -> dict[str, float]:
    spa = SPA(-benchmark, -returns, reps=reps, seed=seed)
    spa.compute()
    return {f"pvalue_{name}": float(value) for name, value in spa.pvalues.items()}


def test_spa_equals_arch_on_the_same_matrix_flat_and_given_benchmark() -> None:
    rng = np.random.default_rng(7)
    returns = rng.normal(0.0, 0.01, size=(400, 6))
    returns[:, 2] += 0.004
    result = spa_test(returns, reps=300, seed=11)
    expected = _arch_pvalues(np.zeros(400), returns, 300, 11)
    assert {k: result[k] for k in expected} == expected
    assert result["tested"] == 6 and result["excluded"] == 0
    assert result["pvalue_consistent"] < 0.05  # the planted edge beats flat
    benchmark = returns[:, 2]
    given = spa_test(returns[:, [0, 1, 3]], benchmark, reps=300, seed=11)
    assert {k: given[k] for k in expected} == _arch_pvalues(benchmark, returns[:, [0, 1, 3]], 300, 11)
    assert given["pvalue_consistent"] > 0.5  # nothing beats the edge


def test_spa_leaves_out_combinations_that_never_trade() -> None:
    rng = np.random.default_rng(3)
    returns = np.column_stack([rng.normal(0, 0.01, 300), np.zeros(300), rng.normal(0, 0.01, 300)])
    result = spa_test(returns, reps=200, seed=2)
    assert result["excluded"] == 1 and result["tested"] == 2
    expected = _arch_pvalues(np.zeros(300), returns[:, [0, 2]], 200, 2)
    assert {k: result[k] for k in expected} == expected


def _business_days(count: int, columns: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = pd.bdate_range("2001-01-01", periods=count, name="time")
    return pd.DataFrame(rng.normal(0.0003, 0.01, size=(count, columns)), index=times)


def test_spa_periods_compound_into_months_else_weeks_else_leave_the_returns() -> None:
    daily = _business_days(2_700, 3, seed=4)  # 2001-01 to 2011-05: 125 months
    period, coarse = spa_periods(daily)
    # pandas' calendar resampling is the second implementation of the compounding
    expected = (1 + daily).resample("ME").prod() - 1
    assert period == "month" and len(coarse) == 125
    np.testing.assert_allclose(coarse.to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert coarse.index[0] == pd.Timestamp("2001-01-31") and coarse.index[-1] == daily.index[-1]
    period, coarse = spa_periods(daily.iloc[:1_000])  # 46 months, 200 weeks
    expected = (1 + daily.iloc[:1_000]).resample("W").prod() - 1
    assert period == "week" and len(coarse) == 200
    np.testing.assert_allclose(coarse.to_numpy(), expected.to_numpy(), rtol=1e-12)
    period, same = spa_periods(daily.iloc[:500])  # 100 weeks: the days as they are
    assert period == "period"
    pd.testing.assert_frame_equal(same, daily.iloc[:500])


def test_diagnose_runs_spa_on_monthly_returns_equal_to_arch_on_that_matrix() -> None:
    daily = _business_days(2_700, 4, seed=6)
    daily[2] += 0.001  # a planted edge
    index = pd.Index([5, 10, 15, 20], name="stop_offset")
    frame = pd.DataFrame({"Expectancy [R]": [0.1, 0.2, 0.3, 0.4], "# Trades": [20] * 4}, index=index)
    spa = diagnose(frame, daily, spa_reps=200, seed=3, blocks=4).to_dict()["spa"]
    monthly = ((1 + daily).resample("ME").prod() - 1).to_numpy()
    assert spa["period"] == "month" and spa["periods"] == 125 and spa["block_size"] == 11
    expected = _arch_pvalues(np.zeros(125), monthly, 200, 3)
    assert {k: spa[k] for k in expected} == expected
    assert spa["pvalue_consistent"] < 0.05
    benchmark = daily[2].to_numpy()
    given = diagnose(frame, daily, benchmark=benchmark, spa_reps=200, seed=3, blocks=4).to_dict()["spa"]
    assert given["benchmark"] == "given" and given["pvalue_consistent"] > 0.2  # nothing beats the edge


def test_plateau_averages_each_cell_over_its_qualifying_grid_neighbours() -> None:
    index = pd.MultiIndex.from_product([["5pt", "10pt", "15pt"], ["pivot", "r1"]], names=["stop", "target"])
    #        pivot  r1
    # 5pt      1     1
    # 10pt     1    10     <- a lone peak
    # 15pt     2   NaN (does not qualify)
    objective = pd.Series([1.0, 1.0, 1.0, 10.0, 2.0, 3.0], index=index)
    qualifies = [True, True, True, True, True, False]
    table = plateau(objective, qualifies)
    expected = [13 / 4, 13 / 4, 15 / 5, 15 / 5, 13 / 3, math.nan]
    np.testing.assert_allclose(table["plateau"].to_numpy(), expected, rtol=1e-12)
    assert table["neighbours"].tolist() == [4, 4, 5, 5, 3, 3]


def test_diagnose_selects_by_objective_and_reports_every_diagnostic() -> None:
    rng = np.random.default_rng(5)
    returns = rng.normal(0.0, 0.01, size=(800, 6))
    returns[:, 4] += 0.002
    index = pd.MultiIndex.from_product([[5, 10, 15], ["pivot", "r1"]], names=["stop_offset", "target"])
    frame = pd.DataFrame(
        {"Expectancy [R]": [0.1, 0.2, 0.3, 0.4, 0.9, 0.5], "# Trades": [20, 20, 20, 20, 20, 5]}, index=index
    )
    result = diagnose(frame, returns, min_trades=10, spa_reps=100, blocks=8).to_dict()
    selected = result["selected"]
    assert selected["params"] == {"stop_offset": 15, "target": "pivot"}
    assert selected["sharpe_ratio"] == pytest.approx(sharpe_ratios(returns[:, 4])[0] * math.sqrt(252))
    count, _ = effective_trials(returns)
    assert result["effective_trials"] == pytest.approx(count)
    assert selected["deflated_sharpe_ratio"] == pytest.approx(
        deflated_sharpe_ratio(returns[:, 4], sharpe_ratios(returns), count)
    )
    assert result["pbo"]["pbo"] == probability_of_backtest_overfitting(returns, 8).pbo
    assert result["spa"]["pvalue_consistent"] == spa_test(returns, reps=100)["pvalue_consistent"]
    assert result["plateau"]["best_peak"]["params"] == {"stop_offset": 15, "target": "pivot"}
    with pytest.raises(ParameterError, match="5 return columns for 6 sweep rows"):
        diagnose(frame, returns[:, :5])


def test_diagnose_of_a_selected_run_that_never_traded_reports_nan_moments_without_warnings() -> None:
    index = pd.Index([5, 10, 15], name="stop_offset")
    frame = pd.DataFrame({"Expectancy [R]": [0.0, -0.1, -0.2], "# Trades": [0, 3, 3]}, index=index)
    rng = np.random.default_rng(9)
    returns = np.column_stack([np.zeros(64), rng.normal(0, 0.01, 64), rng.normal(0, 0.01, 64)])
    selected = diagnose(frame, returns, min_trades=0, spa_reps=0, blocks=4).to_dict()["selected"]
    assert selected["params"] == {"stop_offset": 5}
    assert selected["sharpe_ratio"] == 0.0
    assert math.isnan(selected["skewness"]) and math.isnan(selected["kurtosis"])
    assert math.isnan(selected["probabilistic_sharpe_ratio"])
