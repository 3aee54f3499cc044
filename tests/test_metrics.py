"""Metrics against hand-computed values on tiny inputs, and against empyrical on real-ish equity curves.

Where rtystrat and empyrical-reloaded define a metric the same way they agree to 1e-9 once empyrical is
given the same annualisation factor (``annualization=A``; its default is a constant 252 per "daily" period)
and a per-bar risk-free rate (rtystrat takes an annual rate and converts it, ``(1 + rf)^(1/A) - 1``). Both
use sample standard deviations (ddof=1), a Sortino downside deviation over all returns, CAGR over
``n_returns / A`` years and a Calmar ratio over the whole sample.
"""

from __future__ import annotations

import math

import empyrical
import empyrical.stats
import numpy as np
import pandas as pd
import pytest

from rtystrat.analysis import metrics
from rtystrat.errors import DataError, ParameterError

A = 252.0  # annualisation used for the hand-computed cases


@pytest.fixture
def equity() -> pd.Series:
    """Five daily bars, returns +10 %, −10 %, +20 %, −5 %."""
    times = pd.date_range("2024-01-01", periods=5, freq="D", name="time")
    return pd.Series([100_000.0, 110_000.0, 99_000.0, 118_800.0, 112_860.0], index=times, name="equity")


@pytest.fixture
def trades() -> pd.DataFrame:
    """Six trades over the five bars; rows deliberately out of exit order (T4, T1, T6, T3, T2, T5).

    In exit order: P&L $ +300, +500, −100, −100, −100, 0 and R +1.5, +2.5, −1, −0.5, −1, 0.
    Bars touched: T1 Jan 1–2, T2 Jan 2, T3 Jan 4, T4 Jan 4–5, T5 and T6 Jan 5 → bars {0, 1, 3, 4}.
    """
    t = pd.Timestamp
    rows = [  # name, setup, direction, entry, exit, pnl_net, r_multiple, ambiguous
        ("T4", "b", "short", t("2024-01-04 08:00"), t("2024-01-05 00:00"), -100.0, -0.5, False),
        ("T1", "a", "long", t("2024-01-01"), t("2024-01-02"), 300.0, 1.5, False),
        ("T6", "a", "short", t("2024-01-05 10:00"), t("2024-01-05 11:00"), 0.0, 0.0, False),
        ("T3", "a", "long", t("2024-01-04"), t("2024-01-04 06:00"), -100.0, -1.0, True),
        ("T2", "b", "long", t("2024-01-02 12:00"), t("2024-01-02 15:00"), 500.0, 2.5, False),
        ("T5", "a", "long", t("2024-01-05 06:00"), t("2024-01-05 09:00"), -100.0, -1.0, False),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "name",
            "setup",
            "direction",
            "entry_time",
            "exit_time",
            "pnl_net",
            "r_multiple",
            "ambiguous",
        ],
    )
    frame["commission"] = 5.0
    frame["slippage"] = 10.0
    frame["bars_held"] = [2, 2, 1, 1, 1, 1]
    return frame


# ------------------------------------------------------------------------------------------- hand-computed
def test_return_metrics_match_hand_arithmetic(equity: pd.Series) -> None:
    returns = metrics.equity_returns(equity)
    np.testing.assert_allclose(returns, [0.10, -0.10, 0.20, -0.05], rtol=1e-12)
    # mean = 0.15 / 4 = 0.0375; squared deviations 0.0625² + 0.1375² + 0.1625² + 0.0875² = 0.056875
    std = math.sqrt(0.056875 / 3)
    # downside: min(r, 0)² = 0, 0.01, 0, 0.0025 → mean over all four = 0.003125
    downside = math.sqrt(0.003125)
    assert metrics.total_return(equity) == pytest.approx(0.1286, rel=1e-12)  # 112,860 / 100,000 − 1
    assert metrics.cagr(equity, A) == pytest.approx(1.1286 ** (252 / 4) - 1, rel=1e-12)
    assert metrics.annual_volatility(returns, A) == pytest.approx(std * math.sqrt(252), rel=1e-12)
    assert metrics.sharpe_ratio(returns, A) == pytest.approx(0.0375 / std * math.sqrt(252), rel=1e-12)
    assert metrics.sortino_ratio(returns, A) == pytest.approx(0.0375 / downside * math.sqrt(252), rel=1e-12)
    # peaks 100k, 110k, 110k, 118.8k, 118.8k → drawdowns 0, 0, −10 %, 0, −5 %
    assert metrics.max_drawdown(equity) == pytest.approx(-0.10, rel=1e-12)
    assert metrics.calmar_ratio(equity, A) == pytest.approx((1.1286**63 - 1) / 0.10, rel=1e-12)


def test_drawdown_table_lists_episodes_deepest_first_with_duration_and_recovery(equity: pd.Series) -> None:
    table = metrics.drawdown_table(equity)
    day = pd.Timestamp
    # episode 1: peak Jan 2 (110,000), trough Jan 3 (99,000), back at 118,800 on Jan 4
    # episode 2: peak Jan 4 (118,800), trough Jan 5 (112,860 = −5,940 $, −5 %), not recovered
    assert table["peak"].tolist() == [day("2024-01-02"), day("2024-01-04")]
    assert table["trough"].tolist() == [day("2024-01-03"), day("2024-01-05")]
    assert table["recovery"].iloc[0] == day("2024-01-04") and pd.isna(table["recovery"].iloc[1])
    np.testing.assert_allclose(table["Depth [%]"], [-10.0, -5.0], rtol=1e-12)
    np.testing.assert_allclose(table["Depth [$]"], [-11_000.0, -5_940.0], rtol=1e-12)
    assert table["duration"].tolist() == [pd.Timedelta(days=2), pd.Timedelta(days=1)]
    assert table["recovery_time"].iloc[0] == pd.Timedelta(days=1) and pd.isna(table["recovery_time"].iloc[1])
    assert len(metrics.drawdown_table(equity, top=1)) == 1


def test_trade_metrics_match_hand_arithmetic(trades: pd.DataFrame) -> None:
    pnl = trades.sort_values("exit_time")["pnl_net"]
    r = trades["r_multiple"]
    assert metrics.win_rate(pnl) == pytest.approx(2 / 6)  # two wins of six trades; the 0 is not a win
    assert metrics.payoff_ratio(pnl) == pytest.approx(4.0)  # mean win 400 / |mean loss −100|
    assert metrics.profit_factor(pnl) == pytest.approx(800 / 300)
    assert metrics.expectancy(pnl) == pytest.approx(500 / 6)
    assert metrics.expectancy(r) == pytest.approx(0.25)  # 1.5 / 6
    # R deviations from 0.25: 1.25, 2.25, −1.25, −0.75, −1.25, −0.25 → squares sum 10.375, ddof=1 → 2.075
    assert metrics.sqn(r) == pytest.approx(math.sqrt(6) * 0.25 / math.sqrt(2.075), rel=1e-12)
    assert metrics.kelly_fraction(pnl) == pytest.approx(1 / 3 - (2 / 3) / 4)  # = 1/6
    assert metrics.longest_streaks(pnl) == (2, 3)  # + + − − − 0


def test_trade_ratios_without_losses_or_wins_are_inf_or_nan() -> None:
    assert metrics.profit_factor([100.0, 50.0]) == math.inf
    assert metrics.payoff_ratio([100.0, 50.0]) == math.inf
    assert math.isnan(metrics.payoff_ratio([-100.0]))
    assert metrics.profit_factor([-100.0]) == 0.0
    assert math.isnan(metrics.win_rate([]))
    assert math.isnan(metrics.sqn([1.0]))
    assert math.isnan(metrics.sqn([]))
    assert metrics.longest_streaks([]) == (0, 0)


def test_exposure_counts_each_bar_touched_by_a_position_once(equity: pd.Series, trades: pd.DataFrame) -> None:
    assert metrics.exposure(trades, equity.index) == pytest.approx(4 / 5)  # bars {0, 1, 3, 4}
    assert metrics.exposure(trades.iloc[:0], equity.index) == 0.0


def test_exposure_refuses_trade_times_without_the_equity_time_zone(equity: pd.Series, trades) -> None:
    aware = equity.tz_localize("America/Chicago")
    with pytest.raises(
        DataError, match="'entry_time' is tz-naive but the equity index is in America/Chicago"
    ):
        metrics.exposure(trades, aware.index)
    in_utc = trades.assign(
        entry_time=trades["entry_time"].dt.tz_localize("America/Chicago").dt.tz_convert("UTC"),
        exit_time=trades["exit_time"].dt.tz_localize("America/Chicago").dt.tz_convert("UTC"),
    )
    assert metrics.exposure(in_utc, aware.index) == pytest.approx(4 / 5)


def test_compute_stats_reports_hand_values_with_units_in_keys(
    equity: pd.Series, trades: pd.DataFrame
) -> None:
    stats = metrics.compute_stats(equity, trades, bars_per_year=A)
    expected = {
        "Duration [days]": 4.0,
        "Bars": 5.0,
        "Bars per Year": 252.0,
        "Equity Final [$]": 112_860.0,
        "Equity Peak [$]": 118_800.0,
        "Return [%]": 12.86,
        "Max. Drawdown [%]": -10.0,
        "Max. Drawdown [$]": -11_000.0,
        "Max. Drawdown Duration [days]": 2.0,
        "Max. Drawdown Recovery [days]": 1.0,
        "Longest Drawdown [days]": 2.0,
        "# Trades": 6.0,
        "Trades per Year": 6 / (4 / 252),  # 4 returns = 4/252 years
        "Exposure Time [%]": 80.0,
        "Win Rate [%]": 100 * 2 / 6,
        "Avg. Win [$]": 400.0,
        "Avg. Loss [$]": -100.0,
        "Profit Factor": 800 / 300,
        "Expectancy [$]": 500 / 6,
        "Expectancy [R]": 0.25,
        "Kelly Fraction": 1 / 6,
        "Best Trade [$]": 500.0,
        "Worst Trade [$]": -100.0,
        "Best Trade [R]": 2.5,
        "Worst Trade [R]": -1.0,
        "Max. Consecutive Wins": 2.0,
        "Max. Consecutive Losses": 3.0,
        "Avg. Bars Held": 8 / 6,
        "Net P&L [$]": 500.0,
        "Commission [$]": 30.0,
        "Slippage [$]": 60.0,
        "# Ambiguous Trades": 1.0,
    }
    for key, value in expected.items():
        assert stats[key] == pytest.approx(value, rel=1e-12), key
    assert stats.dtype == float


def test_compute_stats_adds_pnl_band_and_benchmark_when_given(
    equity: pd.Series, trades: pd.DataFrame
) -> None:
    trades = trades.assign(
        pnl_net_pessimistic=trades["pnl_net"] - 10, pnl_net_optimistic=trades["pnl_net"] + 5
    )
    close = pd.Series([2000.0, 2010.0, 1990.0, 2020.0, 2000.0], index=equity.index)
    benchmark = metrics.buy_and_hold(close, multiplier=50.0, contracts=2, cash=100_000.0)
    stats = metrics.compute_stats(equity, trades, bars_per_year=A, benchmark=benchmark)
    assert stats["Net P&L Pessimistic [$]"] == pytest.approx(500 - 60)
    assert stats["Net P&L Optimistic [$]"] == pytest.approx(500 + 30)
    assert stats["Buy & Hold Return [%]"] == pytest.approx(0.0)  # closes the same as it opened
    # equity 100,000, 101,000, 99,000, 102,000, 100,000: 99,000 / 101,000 − 1 = −1.98 % is deeper than
    # 100,000 / 102,000 − 1 = −1.96 %
    assert stats["Buy & Hold Max. Drawdown [%]"] == pytest.approx(-100 * 2_000 / 101_000)


def test_buy_and_hold_is_points_times_multiplier_times_contracts() -> None:
    close = pd.Series([2000.0, 2010.5, 1990.0])
    held = metrics.buy_and_hold(close, multiplier=50.0, contracts=2, cash=100_000.0)
    np.testing.assert_allclose(held, [100_000.0, 101_050.0, 99_000.0])  # ±10.5 and −10 points × $100


def test_stats_by_setup_and_direction_split_the_trade_log(equity: pd.Series, trades: pd.DataFrame) -> None:
    by_setup = metrics.stats_by(trades, equity, "setup", bars_per_year=A)
    assert by_setup.index.tolist() == ["a", "b"]
    # a: T1 +300, T3 −100, T5 −100, T6 0 (bars 0, 1, 3, 4); b: T2 +500, T4 −100 (bars 1, 3, 4)
    assert by_setup["# Trades"].tolist() == [4.0, 2.0]
    assert by_setup["Profit Factor"].tolist() == pytest.approx([1.5, 5.0])
    assert by_setup["Expectancy [$]"].tolist() == pytest.approx([25.0, 200.0])
    assert by_setup["Exposure Time [%]"].tolist() == pytest.approx([80.0, 60.0])
    by_direction = metrics.stats_by(trades, equity, "direction", bars_per_year=A)
    assert by_direction.loc["short", "Net P&L [$]"] == pytest.approx(-100.0)  # T4 −100, T6 0
    with pytest.raises(ParameterError, match=r"'setups'.*'setup' or 'direction'"):
        metrics.stats_by(trades, equity, "setups")


def test_stats_by_year_anchors_each_year_on_the_previous_year_end() -> None:
    times = pd.DatetimeIndex(["2023-12-28", "2023-12-29", "2024-01-02", "2024-01-03"], name="time")
    equity = pd.Series([100_000.0, 110_000.0, 99_000.0, 121_000.0], index=times)
    trades = pd.DataFrame(
        {
            "entry_time": pd.DatetimeIndex(["2023-12-28", "2023-12-29", "2024-01-02"]),
            "exit_time": pd.DatetimeIndex(["2023-12-29", "2024-01-02", "2024-01-03"]),
            "pnl_net": [200.0, -100.0, 300.0],
            "r_multiple": [1.0, -1.0, 2.0],
        }
    )
    table = metrics.stats_by_year(trades, equity)
    assert table.index.tolist() == [2023, 2024]
    # 2023: 100,000 → 110,000 (+10 %); 2024: 110,000 → 99,000 (−10 %) → 121,000 (+10 % on the year)
    np.testing.assert_allclose(table["Return [%]"], [10.0, 10.0], rtol=1e-12)
    np.testing.assert_allclose(table["Net P&L [$]"], [10_000.0, 11_000.0])
    np.testing.assert_allclose(table["Max. Drawdown [%]"], [0.0, -10.0], atol=1e-12)
    np.testing.assert_allclose(table["# Trades"], [1.0, 2.0])
    np.testing.assert_allclose(table["Win Rate [%]"], [100.0, 50.0])
    np.testing.assert_allclose(table["Expectancy [R]"], [1.0, 0.5])


def test_identical_inputs_give_identical_stats(equity: pd.Series, trades: pd.DataFrame) -> None:
    first = metrics.compute_stats(equity, trades)
    second = metrics.compute_stats(equity.copy(), trades.copy())
    pd.testing.assert_series_equal(first, second, check_exact=True)


def test_compute_stats_rejects_unusable_equity(trades: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="at least two bars"):
        metrics.compute_stats(pd.Series([1.0], index=pd.DatetimeIndex(["2024-01-01"])), trades)
    times = pd.date_range("2024-01-01", periods=3)
    with pytest.raises(DataError, match="NaN at 2024-01-02"):
        metrics.compute_stats(pd.Series([1.0, np.nan, 2.0], index=times), trades)
    with pytest.raises(ParameterError, match="bars_per_year"):
        metrics.compute_stats(pd.Series([1.0, 2.0, 3.0], index=times), trades, bars_per_year=0)


# ------------------------------------------------------------------------------------------ bars per year
def test_bars_per_year_of_two_years_of_weekdays_is_the_observed_density() -> None:
    index = pd.bdate_range("2020-01-01", "2021-12-31")  # 262 + 261 = 523 weekdays over 730 days
    assert len(index) == 523
    assert metrics.estimate_bars_per_year(index) == pytest.approx(522 * 365.25 / 730, rel=1e-12)


def _sessions(days: pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """Bars of 23-hour CME sessions (17:00 CT the evening before to 16:00 CT) for each trading day."""
    parts = [
        pd.date_range(day - pd.Timedelta(hours=7), day + pd.Timedelta(hours=16), freq=freq, inclusive="left")
        for day in days
    ]
    return parts[0].append(parts[1:]).tz_localize("America/Chicago")


def test_bars_per_year_of_short_intraday_samples_uses_bars_per_session() -> None:
    days = pd.bdate_range("2024-03-04", "2024-03-15")  # two weeks, spanning the March DST change
    assert metrics.estimate_bars_per_year(_sessions(days, "h")) == pytest.approx(23 * 252)
    # three sessions of 1-minute bars: calendar days hold 420, 1,380, 1,380 and 960 bars; the partial first
    # and last days are left out
    assert metrics.estimate_bars_per_year(_sessions(days[:3], "min")) == pytest.approx(1_380 * 252)
    assert metrics.estimate_bars_per_year(days) == pytest.approx(252)


def test_bars_per_year_of_short_weekly_sample_uses_the_spacing() -> None:
    weeks = pd.date_range("2024-01-05", periods=20, freq="7D")
    assert metrics.estimate_bars_per_year(weeks) == pytest.approx(365.25 / 7)
    with pytest.raises(DataError, match="at least two"):
        metrics.estimate_bars_per_year(weeks[:1])


@pytest.mark.shared_data
def test_bars_per_year_of_the_real_daily_and_hourly_files(shared_data) -> None:
    daily = pd.read_csv(shared_data / "daily" / "RTY_F_yahoo_daily.csv", index_col="Date", parse_dates=True)
    # 2,173 rows from 2017-07-10 to 2026-02-23: 8 years (2,922 days) + 228 days = 3,150 days
    assert metrics.estimate_bars_per_year(daily.index) == pytest.approx(2_172 * 365.25 / 3_150, rel=1e-12)
    hourly = pd.read_csv(shared_data / "intraday" / "RTY_F_yahoo_1h_utc.csv", index_col="Datetime")
    times = pd.DatetimeIndex(pd.to_datetime(hourly.index, utc=True))
    # two years of a 23-hour session with holidays and gaps: between 23 × 245 and 23 × 252
    assert 23 * 245 < metrics.estimate_bars_per_year(times) < 23 * 252
    assert metrics.estimate_bars_per_year(times[:400]) == pytest.approx(23 * 252)  # < 1 year: per session


# --------------------------------------------------------------------------------------------- empyrical
def _random_walk_equity() -> pd.Series:
    rng = np.random.default_rng(20240313)
    times = pd.bdate_range("2015-01-01", periods=1_500, name="time")
    return pd.Series(100_000.0 * np.cumprod(1 + rng.normal(0.0004, 0.012, len(times))), index=times)


def _assert_matches_empyrical(equity: pd.Series, risk_free: float) -> None:
    bars = metrics.estimate_bars_per_year(equity.index)
    returns = metrics.equity_returns(equity)
    rf_bar = (1 + risk_free) ** (1 / bars) - 1
    tol = {"rel": 1e-9, "abs": 1e-12}
    assert metrics.cagr(equity, bars) == pytest.approx(
        empyrical.annual_return(returns, annualization=bars), **tol
    )
    assert metrics.annual_volatility(returns, bars) == pytest.approx(
        empyrical.annual_volatility(returns, annualization=bars), **tol
    )
    assert metrics.sharpe_ratio(returns, bars, risk_free) == pytest.approx(
        empyrical.sharpe_ratio(returns, risk_free=rf_bar, annualization=bars), **tol
    )
    assert metrics.sortino_ratio(returns, bars, risk_free) == pytest.approx(
        empyrical.sortino_ratio(returns, required_return=rf_bar, annualization=bars), **tol
    )
    assert metrics.calmar_ratio(equity, bars) == pytest.approx(
        empyrical.calmar_ratio(returns, annualization=bars), **tol
    )
    assert metrics.max_drawdown(equity) == pytest.approx(empyrical.max_drawdown(returns), **tol)
    np.testing.assert_allclose(
        metrics.drawdown_series(equity).iloc[1:],
        empyrical.stats.drawdown_series(returns),
        rtol=1e-9,
        atol=1e-12,
    )
    stats = metrics.compute_stats(equity, pd.DataFrame(), risk_free=risk_free)
    assert stats["Sharpe Ratio"] == pytest.approx(
        empyrical.sharpe_ratio(returns, risk_free=rf_bar, annualization=bars), **tol
    )
    assert stats["CAGR [%]"] == pytest.approx(
        100 * empyrical.annual_return(returns, annualization=bars), **tol
    )
    assert stats["Max. Drawdown [%]"] == pytest.approx(100 * empyrical.max_drawdown(returns), **tol)


@pytest.mark.parametrize("risk_free", [0.0, 0.03])
def test_return_metrics_match_empyrical_on_a_seeded_random_walk(risk_free: float) -> None:
    _assert_matches_empyrical(_random_walk_equity(), risk_free)


@pytest.mark.shared_data
@pytest.mark.parametrize("risk_free", [0.0, 0.03])
def test_return_metrics_match_empyrical_on_real_rty_buy_and_hold(shared_data, risk_free: float) -> None:
    daily = pd.read_csv(shared_data / "daily" / "RTY_F_yahoo_daily.csv", index_col="Date", parse_dates=True)
    equity = metrics.buy_and_hold(daily["Close"], multiplier=50.0, cash=100_000.0)
    _assert_matches_empyrical(equity, risk_free)


def test_constant_returns_give_undefined_sharpe_where_empyrical_says_inf() -> None:
    returns = pd.Series([0.001] * 10)
    assert empyrical.sharpe_ratio(returns, annualization=A) == math.inf
    assert math.isnan(metrics.sharpe_ratio(returns, A))
    assert math.isnan(metrics.sharpe_ratio(pd.Series([0.0] * 10), A))
    # no return below the target: zero downside deviation, Sortino undefined too
    assert math.isnan(metrics.sortino_ratio(pd.Series([0.001, 0.002, 0.003]), A))


@pytest.mark.parametrize(
    "r",
    [
        [1.0] * 26,
        [-1.0] * 5,
        # equal R up to float noise: std ~ 4e-16, which gave SQN −2.2e14 before
        [2.0, 2.0000000000000004, 2.0, 1.9999999999999998] * 7,
        [0.1 + 0.2, 0.3, 0.3, 0.1 + 0.2],
    ],
)
def test_sqn_of_trades_with_one_r_is_undefined_not_huge(r: list[float]) -> None:
    assert math.isnan(metrics.sqn(r))


def test_stats_of_a_single_trade_or_equal_trades_are_nan_not_huge(trades: pd.DataFrame) -> None:
    times = pd.date_range("2024-01-01", periods=30, freq="D", name="time")
    for count in (1, 12):
        same = trades.iloc[[0] * count].copy()
        same["r_multiple"] = 0.1 + 0.2  # every trade the same R, with float noise in its arithmetic
        equity = pd.Series(100_000.0 + np.arange(30) * 0.0, index=times)
        stats = metrics.compute_stats(equity, same, bars_per_year=A)
        finite = stats.replace([np.inf, -np.inf], np.nan).dropna()
        assert math.isnan(stats["SQN"])
        assert math.isnan(stats["Sharpe Ratio"])
        assert (finite.abs() < 1e9).all(), finite[finite.abs() >= 1e9]


# ------------------------------------------------------------------------------------- a wiped-out account
def test_equity_that_reaches_zero_gives_defined_stats_without_numpy_warnings(trades: pd.DataFrame) -> None:
    # −50 %, −100 %, then two bars with no capital: those returns are undefined (NaN) and left out.
    times = pd.date_range("2024-01-01", periods=5, freq="D", name="time")
    equity = pd.Series([100_000.0, 50_000.0, 0.0, 0.0, 0.0], index=times)
    returns = metrics.equity_returns(equity)
    np.testing.assert_array_equal(returns.to_numpy(), [-0.5, -1.0, np.nan, np.nan])
    stats = metrics.compute_stats(equity, trades.iloc[:0], bars_per_year=A)
    assert stats["Return [%]"] == stats["CAGR [%]"] == stats["Max. Drawdown [%]"] == -100.0
    assert stats["Calmar Ratio"] == -1.0
    # Over the two defined returns: mean −0.75, sample deviation sqrt(0.125), downside sqrt(0.625).
    assert stats["Volatility (Ann.) [%]"] == pytest.approx(100 * math.sqrt(0.125 * A), rel=1e-12)
    assert stats["Sharpe Ratio"] == pytest.approx(-0.75 / math.sqrt(0.125) * math.sqrt(A), rel=1e-12)
    assert stats["Sortino Ratio"] == pytest.approx(-0.75 / math.sqrt(0.625) * math.sqrt(A), rel=1e-12)
    # empyrical leaves NaN returns out the same way
    assert stats["Sharpe Ratio"] == pytest.approx(empyrical.sharpe_ratio(returns, annualization=A), rel=1e-9)
    assert stats["Sortino Ratio"] == pytest.approx(
        empyrical.sortino_ratio(returns, annualization=A), rel=1e-9
    )


def test_a_year_that_starts_with_no_capital_has_no_return_or_drawdown() -> None:
    times = pd.DatetimeIndex(["2023-12-28", "2023-12-29", "2024-01-02", "2024-01-03"], name="time")
    equity = pd.Series([100_000.0, 0.0, 0.0, 0.0], index=times)
    no_trades = pd.DataFrame({"exit_time": pd.DatetimeIndex([]), "pnl_net": [], "r_multiple": []})
    table = metrics.stats_by_year(no_trades, equity)
    np.testing.assert_array_equal(table["Return [%]"], [-100.0, np.nan])
    np.testing.assert_array_equal(table["Max. Drawdown [%]"], [-100.0, np.nan])
    np.testing.assert_array_equal(table["Net P&L [$]"], [-100_000.0, 0.0])


def test_a_trade_that_scales_out_counts_once_with_r_on_the_whole_position() -> None:
    # Risk 10.1 points × $50. Trade 1: 3 contracts, leg 1 (1 contract) +740, leg 2 (2 contracts) −30;
    # trade 2: one contract, −515. Another setup's trade 1 exits between trade 1's legs.
    times = pd.date_range("2025-03-03", periods=8, freq="B")
    risk = 10.1 * 50
    trades = pd.DataFrame(
        {
            "setup": ["a", "b", "a", "a"],
            "trade_id": [1, 1, 1, 2],
            "leg": [1, 1, 2, 1],
            "entry_time": times[[0, 1, 0, 5]],
            "exit_time": times[[1, 2, 3, 6]],
            "exit_reason": ["target", "stop", "stop", "stop"],
            "contracts": [1, 1, 2, 1],
            "pnl_points": [14.9, -10.2, -0.2, -10.2],
            "pnl_net": [740.0, -515.0, -30.0, -515.0],
            "r_multiple": [740.0 / risk, -515.0 / risk, -30.0 / (2 * risk), -515.0 / risk],
            "mae_points": [1.0, 10.2, 3.0, 10.2],
            "bars_held": [1, 1, 3, 1],
        }
    )
    whole = metrics.whole_trades(trades)
    assert whole[["setup", "trade_id"]].values.tolist() == [["a", 1], ["b", 1], ["a", 2]]
    first = whole.iloc[0]
    assert (first.contracts, first.pnl_net, first.exit_reason, first.bars_held, first.mae_points) == (
        3,
        710.0,
        "stop",
        3,
        3.0,
    )
    assert first.r_multiple == pytest.approx(710.0 / (3 * risk), rel=1e-12)
    assert first.pnl_points == pytest.approx((14.9 - 2 * 0.2) / 3, rel=1e-12)
    stats = metrics.compute_stats(pd.Series(100_000.0, index=times), trades, bars_per_year=252.0)
    assert stats["# Trades"] == 3.0 and stats["Win Rate [%]"] == pytest.approx(100.0 / 3)
    assert stats["Expectancy [R]"] == pytest.approx((710.0 / (3 * risk) - 2 * 515.0 / risk) / 3, rel=1e-12)
    assert stats["Net P&L [$]"] == pytest.approx(710.0 - 1030.0)
    assert metrics.stats_by_year(trades, pd.Series(100_000.0, index=times))["# Trades"].tolist() == [3.0]


def test_ratios_from_moments_equal_the_ratios_of_the_values() -> None:
    # Callers that accumulate moments (the sweep kernel) pass count, mean, sample deviation and largest |x|;
    # hand-computed: r = (0.01, -0.02, 0.03, 0.0), mean 0.005, deviation sqrt(0.00043 / 3).
    returns = pd.Series([0.01, -0.02, 0.03, 0.0])
    deviation = math.sqrt((0.005**2 + 0.025**2 + 0.025**2 + 0.005**2) / 3)
    by_hand = 0.005 / deviation * math.sqrt(252.0)
    assert metrics.sharpe_from_moments(4, 0.005, deviation, 0.03, 252.0) == pytest.approx(by_hand, rel=1e-12)
    assert metrics.sharpe_ratio(returns, 252.0) == pytest.approx(by_hand, rel=1e-12)
    assert metrics.sqn_from_moments(4, 0.005, deviation, 0.03) == pytest.approx(
        metrics.sqn(returns) * 1.0, rel=1e-12
    )
    assert metrics.sqn(returns) == pytest.approx(0.005 / deviation * 2.0, rel=1e-12)
    # fewer than two values, or a deviation that is float noise next to the values: undefined
    assert math.isnan(metrics.sharpe_from_moments(1, 0.01, math.nan, 0.01, 252.0))
    assert math.isnan(metrics.sqn_from_moments(3, 2.0, 1e-16, 2.0))
    assert metrics.sqn_from_moments(3, 2.0, 1e-6, 2.0) == pytest.approx(2.0 / 1e-6 * math.sqrt(3))


def test_annualised_growth_is_cagr_of_the_curve() -> None:
    times = pd.date_range("2024-01-01", periods=253, freq="D")
    equity = pd.Series(np.linspace(100.0, 121.0, 253), index=times)
    assert metrics.annualised_growth(1.21, 253, 126.0) == pytest.approx(1.21**0.5 - 1.0, rel=1e-12)
    assert metrics.cagr(equity, 126.0) == metrics.annualised_growth(1.21, 253, 126.0)
    assert metrics.annualised_growth(0.0, 253, 252.0) == -1.0  # wiped out
