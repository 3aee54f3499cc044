"""run_backtest and RunConfig: equity identity over years, one shared account, modes, windows, validation."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from rtystrat.errors import DataError, ParameterError
from rtystrat.execution import fills, tradelog
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import indicator_frame_for, run_backtest, sub_bars_for
from rtystrat.execution.strategy import SetupStrategy
from rtystrat.signals.plans import ENTRY_LIMIT, ENTRY_MARKET, ENTRY_STOP, Plans


def synthetic_bars(n: int = 2600, seed: int = 7) -> pd.DataFrame:
    """Seeded RTY-like daily bars (~10 years) on the tick, with gaps and quarterly contract rolls."""
    rng = np.random.default_rng(seed)
    close = 2000.0 * np.exp(np.cumsum(rng.normal(0.0002, 0.012, n)))
    open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0.0, 0.004, n))
    high = np.maximum(open_, close) * np.exp(rng.exponential(0.006, n))
    low = np.minimum(open_, close) * np.exp(-rng.exponential(0.006, n))
    index = pd.bdate_range("2012-01-02", periods=n, name="time")
    frame = pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=index).round(1)
    frame["volume"] = 1000.0
    frame["contract"] = [f"RTY{'HMUZ'[(stamp.month - 1) // 3]}{stamp.year % 100:02d}" for stamp in index]
    return frame


def busy_setup(
    frame: pd.DataFrame, every: int = 5, stop_points: float = 25.0, target_points: float = 40.0
) -> Plans:
    """Trade often: alternate long/short every `every` bars with market, limit and stop entries in turn."""
    n = len(frame)
    close = frame["close"].to_numpy()
    plans = Plans.empty(n)
    rows = np.arange(0, n, every)
    direction = np.where((rows // every) % 2 == 0, 1, -1)
    kind = (rows // every) % 3
    plans.direction[rows] = direction
    plans.entry_type[rows] = np.array([ENTRY_MARKET, ENTRY_LIMIT, ENTRY_STOP])[kind]
    offset = np.where(kind == 1, -4.0, np.where(kind == 2, 4.0, 0.0)) * direction
    plans.entry_price[rows] = np.where(kind == 0, np.nan, close[rows] + offset)
    plans.stop[rows] = close[rows] - direction * stop_points
    plans.target[rows] = close[rows] + direction * target_points
    plans.invalidation[:] = np.nan
    return plans._replace(max_hold=8, entry_valid_bars=2)


class Busy(SetupStrategy):
    name = "busy"
    setup = staticmethod(busy_setup)
    indicators = None


class BusyToo(Busy):
    name = "busy_too"


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return synthetic_bars()


@pytest.mark.parametrize("policy", ["pessimistic", "ohlc_path"])
def test_starting_cash_plus_net_pnl_equals_final_equity_to_the_cent(bars: pd.DataFrame, policy: str) -> None:
    config = RunConfig(fill_policy=policy, contracts=2, commission_per_side=2.35, cash=1_000_000.0)
    result = run_backtest(Busy, bars, config=config)
    trades = result.trades
    assert len(trades) > 300 and set(trades["exit_reason"]) >= {"target", "stop", "time", "roll"}
    assert round(config.cash + trades["pnl_net"].sum(), 2) == round(result.equity.iloc[-1], 2)
    assert result.trades["commission"].sum() == pytest.approx(len(trades) * 2 * 2.35 * 2)


def test_runonce_and_bar_by_bar_modes_agree(bars: pd.DataFrame) -> None:
    vectorised = run_backtest(Busy, bars, config=RunConfig(runonce=True))
    stepwise = run_backtest(Busy, bars, config=RunConfig(runonce=False))
    pd.testing.assert_frame_equal(vectorised.trades, stepwise.trades)
    pd.testing.assert_series_equal(vectorised.equity, stepwise.equity)


def test_same_backtest_twice_gives_identical_stats(bars: pd.DataFrame) -> None:
    first = run_backtest(Busy, bars, params={"every": 7})
    second = run_backtest(Busy, bars, params={"every": 7})
    pd.testing.assert_series_equal(first.stats, second.stats)
    assert first.params == {"every": 7}


def test_backtrader_path_equals_compiled_simulation_trade_for_trade(bars: pd.DataFrame) -> None:
    config = RunConfig(risk_per_trade=3_000.0, fill_policy="ohlc_path")
    result = run_backtest(Busy, bars, config=config)
    frame = indicator_frame_for(Busy, bars, config)
    trades, _ = fills.simulate_plans(frame, busy_setup(frame), config.fill_settings(), config.cash)
    log = tradelog.trade_log(
        trades, frame.index, setup="busy", multiplier=50.0, commission_per_side=2.5,
        contracts_traded=frame["contract"].to_numpy(object),
    )  # fmt: skip
    pd.testing.assert_frame_equal(result.trades, log)
    assert result.trades["contracts"].max() > 1


def test_two_strategies_share_one_account(bars: pd.DataFrame) -> None:
    config = RunConfig(cash=1_000_000.0)
    both = run_backtest([Busy, BusyToo], bars, config=config, params={"busy_too": {"every": 3}})
    alone = run_backtest(Busy, bars, config=config)
    other = run_backtest(BusyToo, bars, config=config, params={"every": 3})
    # $1M margins both at once: each trades as if alone, the account holds the sum
    by_setup = {name: group.reset_index(drop=True) for name, group in both.trades.groupby("setup")}
    pd.testing.assert_frame_equal(by_setup["busy"], alone.trades)
    pd.testing.assert_frame_equal(by_setup["busy_too"], other.trades)
    assert round(config.cash + both.trades["pnl_net"].sum(), 2) == round(both.equity.iloc[-1], 2)
    # one account value per bar: what each strategy alone has gained or lost by then, added up
    pd.testing.assert_index_equal(both.equity.index, alone.equity.index)
    gains = (alone.equity - config.cash) + (other.equity - config.cash)
    np.testing.assert_allclose(both.equity - config.cash, gains, rtol=0, atol=1e-6)
    assert both.params == {"busy": {}, "busy_too": {"every": 3}}


def test_second_strategy_is_rejected_when_the_shared_margin_is_used() -> None:
    index = pd.bdate_range("2024-01-02", periods=4, name="time")
    bars = pd.DataFrame(
        {"open": 2000.0, "high": 2001.0, "low": 1999.0, "close": 2000.0, "volume": 1.0}, index=index
    )
    # $10,000 covers one contract (7,000 + 2.50), not two
    result = run_backtest(
        [Busy, BusyToo], bars, config=RunConfig(cash=10_000.0), params={"busy": {"every": 10}}
    )
    assert list(result.trades["setup"]) == ["busy"]
    assert result.stats["# Rejected Entries"] == 1


def test_window_trades_only_inside_start_and_end(bars: pd.DataFrame) -> None:
    result = run_backtest(Busy, bars, config=RunConfig(start="2015-01-01", end="2016-06-30"))
    assert result.equity.index[0] == pd.Timestamp("2015-01-01")
    assert result.equity.index[-1] == pd.Timestamp("2016-06-30")
    assert result.trades["entry_time"].min() >= pd.Timestamp("2015-01-01")


def test_intraday_policy_needs_intraday_bars(bars: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="intraday bars"):
        run_backtest(Busy, bars, config=RunConfig(fill_policy="intraday"))


@pytest.mark.parametrize("strategies", ["busy", ["busy"]])
def test_a_strategy_name_points_to_the_api_that_resolves_names(
    bars: pd.DataFrame, strategies: object
) -> None:
    with pytest.raises(ParameterError, match=r"got the name 'busy'; rtystrat\.backtest\('busy', data\)"):
        run_backtest(strategies, bars)  # type: ignore[arg-type]


def test_intraday_bars_no_finer_than_the_traded_bars_are_refused(bars: pd.DataFrame) -> None:
    daily = bars.iloc[:300]
    with pytest.raises(DataError, match=r"^<DataFrame>: intraday bars are daily, not finer than the traded"):
        run_backtest(Busy, daily, config=RunConfig(fill_policy="intraday"), intraday=daily)
    hours = pd.date_range("2024-03-11 08:00", periods=40, freq="h", tz="America/Chicago", name="time")
    hourly = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}, index=hours)
    with pytest.raises(
        DataError, match=r"intraday bars every 1 hour, not finer than the traded bars \(1 hour\)"
    ):
        sub_bars_for(hourly, hourly)


def test_intraday_bars_covering_part_of_the_run_are_reported(
    bars: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    daily = bars.loc["2015-01-01":"2015-03-31"]
    session = daily.index[10]
    minutes = pd.date_range(session + pd.Timedelta(hours=8), periods=30, freq="min", tz="America/Chicago")
    row = daily.loc[session]
    minute_bars = pd.DataFrame(
        {"open": row.open, "high": row.high, "low": row.low, "close": row.close, "volume": 1.0}, index=minutes
    )
    run_backtest(Busy, daily, config=RunConfig(fill_policy="intraday"), intraday=minute_bars)
    assert (
        f"intraday bars resolve 1 of {len(daily)} bars; {len(daily) - 1} not covered; "
        "those are resolved pessimistically"
    ) in caplog.text


def test_an_end_date_includes_that_days_intraday_bars() -> None:
    hours = pd.date_range("2024-03-11 00:00", "2024-03-15 23:00", freq="h", tz="America/Chicago", name="time")
    rng = np.random.default_rng(5)
    close = 2000.0 + np.cumsum(rng.normal(0.0, 2.0, len(hours))).round(1)
    hourly = pd.DataFrame(
        {"open": close, "high": close + 1.0, "low": close - 1.0, "close": close, "volume": 1.0}, index=hours
    )
    result = run_backtest(Busy, hourly, config=RunConfig(start="2024-03-12", end="2024-03-13"))
    assert result.equity.index[0] == pd.Timestamp("2024-03-12 00:00", tz="America/Chicago")
    assert result.equity.index[-1] == pd.Timestamp("2024-03-13 23:00", tz="America/Chicago")
    # a bound with a UTC offset is an instant: 2024-03-12 06:00 UTC is 01:00 in Chicago
    result = run_backtest(Busy, hourly, config=RunConfig(start="2024-03-12T06:00:00+00:00"))
    assert result.equity.index[0] == pd.Timestamp("2024-03-12 01:00", tz="America/Chicago")


def test_a_bound_with_a_utc_offset_on_daily_bars_names_its_date(bars: pd.DataFrame) -> None:
    window = RunConfig(start="2015-01-02T00:00:00+00:00", end="2015-03-31T00:00:00+00:00")
    result = run_backtest(Busy, bars, config=window)
    assert (result.equity.index[0], result.equity.index[-1]) == (
        pd.Timestamp("2015-01-02"),
        pd.Timestamp("2015-03-31"),
    )


def test_a_window_outside_the_data_names_the_window_and_the_data(bars: pd.DataFrame) -> None:
    with pytest.raises(
        DataError,
        match=r"^<DataFrame>: no bars to trade from 2030-01-01 to the end; the data covers 2012-01-02 ",
    ):
        run_backtest(Busy, bars, config=RunConfig(start="2030-01-01"))
    with pytest.raises(
        DataError, match=r"only 1 bar to trade from 2015-01-02 to 2015-01-02; the data covers"
    ):
        run_backtest(Busy, bars, config=RunConfig(start="2015-01-02", end="2015-01-02"))


def test_a_setup_that_never_signals_is_reported_not_silent(
    bars: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    class Never(SetupStrategy):
        name = "never"
        setup = staticmethod(lambda frame: Plans.empty(len(frame)))
        indicators = None

    result = run_backtest([Busy, Never], bars.iloc[:200])
    assert set(result.trades["setup"]) == {"busy"}
    assert "never: no bar of the 200 traded met the setup's conditions" in caplog.text
    assert "busy:" not in caplog.text


def test_params_of_several_strategies_are_keyed_by_strategy_name(bars: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="did you mean 'busy_too'"):
        run_backtest([Busy, BusyToo], bars, params={"busy_to": {"every": 3}})


def test_sub_bars_of_daily_bars_follow_the_futures_session() -> None:
    days = pd.DatetimeIndex(["2024-03-11", "2024-03-12"], name="time")
    daily = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0}, index=days)
    # 16:59 on the 11th is the 11th's session; 17:00 opens the 12th's; 15:59 on the 12th still the 12th
    stamps = pd.DatetimeIndex(
        ["2024-03-11 16:59", "2024-03-11 17:00", "2024-03-12 15:59", "2024-03-12 17:00"]
    )
    minutes = pd.DataFrame(
        {"open": [1.0, 2, 3, 4], "high": [1.0, 2, 3, 4], "low": [1.0, 2, 3, 4], "close": [1.0, 2, 3, 4]},
        index=stamps.tz_localize("America/Chicago"),
    )
    sub_open, _, _, _, sub_start = sub_bars_for(daily, minutes)
    assert sub_start.tolist() == [0, 1, 3]
    assert sub_open.tolist() == [1.0, 2.0, 3.0]  # the 13th's first minute belongs to no bar here


def test_sub_bars_of_hourly_bars_are_the_minutes_inside_each_hour() -> None:
    hours = pd.date_range("2024-03-12 08:00", periods=2, freq="h", tz="America/Chicago", name="time")
    hourly = pd.DataFrame({"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0}, index=hours)
    minutes = pd.date_range("2024-03-12 07:59", periods=122, freq="min", tz="America/Chicago")
    minute_bars = pd.DataFrame(
        {"open": np.arange(122.0), "high": 1.0, "low": 1.0, "close": 1.0}, index=minutes
    )
    sub_open, _, _, _, sub_start = sub_bars_for(hourly, minute_bars)
    assert sub_start.tolist() == [0, 60, 120]
    assert (sub_open[0], sub_open[-1]) == (1.0, 120.0)


# ----------------------------------------------------------------------------------------------- RunConfig
def test_config_round_trips_through_json() -> None:
    config = RunConfig(
        fill_policy="ohlc_path", risk_per_trade=1500.0, commission_per_side=1.2, start="2020-01-01"
    )
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.to_dict()["start"] == "2020-01-01T00:00:00"


def test_config_resolves_contract_defaults_and_overrides() -> None:
    assert (RunConfig().commission, RunConfig().margin) == (2.5, 7000.0)
    assert RunConfig(contract="m2k", initial_margin=900.0).spec.initial_margin == 900.0
    settings = RunConfig(contract="ES", slippage_ticks=2).fill_settings()
    assert settings[fills.SET_TICK] == 0.25 and settings[fills.SET_SLIPPAGE_TICKS] == 2.0
    assert math.isnan(settings[fills.SET_RISK])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fill_policy": "pessimstic"}, "fill_policy must be one of .* \\(did you mean 'pessimistic'"),
        ({"contract": "RTX"}, "unknown contract 'RTX'"),
        ({"contracts": 0}, "contracts must be a whole number >= 1"),
        ({"contracts": 1.5}, "contracts must be a whole number >= 1"),
        ({"slippage_ticks": -1}, "slippage_ticks must be a number >= 0"),
        ({"cash": 0.0}, "cash must be a number > 0"),
        ({"risk_per_trade": float("nan")}, "risk_per_trade must be a number > 0"),
        ({"start": "2020-13-45"}, "start must be an ISO date"),
        ({"start": "2021-01-01", "end": "2020-01-01"}, "start .* is after end"),
    ],
)
def test_config_rejects_impossible_values_in_one_line(changes: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        RunConfig(**changes)


def test_config_from_dict_names_unknown_settings() -> None:
    with pytest.raises(
        ParameterError, match="unknown run setting 'fill_polcy' \\(did you mean 'fill_policy'"
    ):
        RunConfig.from_dict({"fill_polcy": "optimistic"})
