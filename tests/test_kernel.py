"""The fast kernel equals the backtrader path trade for trade, and its statistics are metrics' statistics."""

from __future__ import annotations

import concurrent.futures as cf
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from rtystrat.analysis import metrics
from rtystrat.data.bars import load_bars
from rtystrat.data.sample import load_sample
from rtystrat.execution import fills, kernel, tradelog
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import indicator_frame_for, run_backtest
from rtystrat.registry import get_strategy
from rtystrat.signals.plans import ENTRY_MARKET, LONG, Plans
from rtystrat.tuning.space import ParameterSpace

COMPARED = [
    "trade_id",
    "leg",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "exit_reason",
    "contracts",
    "target",
    "ambiguous",
]

# Wide spaces: entry types, every target form, offsets in all units, filters on and off, time stops.
SPACES = {
    "bullish_reversal": {
        "entry": ["limit", "bounce"],
        "entry_band": ["0pt", "5pt", "0.2%"],
        "stop_offset": ["5pt", "13pt", "30pt", "130tick", "1atr", "0.5%"],
        "target": ["pivot", "mid", "r1", "60pt", "2atr"],
        "rsi_max": [None, 40.0],
        "max_hold": [0, 3, 10],
        "reentry": [False, True],
        "trail": [None, None, "8pt", "1.5atr", "1%"],
        # scale-out (replaces `target`, see _cases) with break-even after the first or second target
        "targets": [None, None, "mid:1,pivot:1", "mid:1,r1:2", "60pt:1,pivot:1,r1:1", "2atr,mid"],
        "breakeven": [0, 1, 2],
        "breakeven_offset": ["0tick", "2tick"],
    },
    "bearish_breakdown": {
        "level": ["round", "s2"],
        "round_step": [50.0, 100.0],
        "entry": ["close", "stop"],
        "trend_filter": [True, False],
        "target_offset": ["0pt", "3pt", "0.5atr"],
        "stop_offset": ["20pt", "60pt", "1%", "2atr"],
        "invalidation": ["sma_100", "sma_50", "none"],
        "max_hold": [0, 10, 40],
        "reentry": [False, True],
        "trail": [None, None, "20pt", "2atr", "1%"],
    },
}
# Every fill policy that works on OHLC alone, costs overridden, and risk-based sizing; several contracts,
# so that scale-out has legs to split them over.
CONFIGS = (
    RunConfig(contracts=2),
    RunConfig(fill_policy="optimistic", slippage_ticks=0, contracts=3),
    RunConfig(fill_policy="ohlc_path", slippage_ticks=2, commission_per_side=1.25, contracts=4),
    RunConfig(risk_per_trade=2_500.0, contract="M2K"),
)
PER_SETUP = 100  # x 2 setups = 200 combinations per data set
# The default run compares a 12-combination subset (every config on both setups); the full 200 per data set
# are minutes of backtrader runs and run with the slow tests (.ci/run's second invocation).
SIZES = [pytest.param(6, id="12"), pytest.param(PER_SETUP, id="200", marks=pytest.mark.slow)]


Case = tuple[str | type, dict[str, Any], int]  # strategy name or class, parameters, index into CONFIGS


def _cases(per_setup: int, seed: int) -> list[Case]:
    cases = []
    for name, axes in SPACES.items():
        for number, combination in enumerate(ParameterSpace(axes, random=per_setup, seed=seed)):
            if combination.get("targets") is not None:
                combination["target"] = "pivot"  # targets replaces target (giving both is refused)
            cases.append((name, combination, number % len(CONFIGS)))
    return cases


def _backtrader_trades(case: Case, frame: pd.DataFrame) -> pd.DataFrame:
    name, params, config = case
    return run_backtest(get_strategy(name), frame, config=CONFIGS[config], params=params).trades


def _assert_parity(bars: pd.DataFrame, cases: list[Case]) -> tuple[int, int]:
    """Compare every case's trades; return the exit fills compared and how many were of a later leg."""
    # Both paths read the indicator frame the engine builds; build it once per strategy, not once per run.
    names = {name for name, _, _ in cases}
    frames = {name: indicator_frame_for(get_strategy(name), bars, RunConfig()) for name in names}
    # The backtrader runs are the cost: spread them over the cores (they compile nothing: the interpreter
    # runs their fill rules, the kernel's compiled copy is what they are compared with).
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        expected = list(
            pool.map(_backtrader_trades, cases, [frames[name] for name, _, _ in cases], chunksize=4)
        )
    prepared: dict[tuple[str | type, int], kernel.KernelData] = {}
    compared = later_legs = 0
    for (name, params, config), reference in zip(cases, expected, strict=True):
        strategy = get_strategy(name)
        key = (name, config)
        if key not in prepared:
            prepared[key] = kernel.prepare(strategy, frames[name], CONFIGS[config])
        trades, _ = kernel.run(strategy, prepared[key], strategy.parameters.validate(params))
        label = f"{name} {params} {CONFIGS[config]}"
        assert len(trades) == len(reference), label
        pd.testing.assert_frame_equal(
            trades[COMPARED].reset_index(drop=True), reference[COMPARED].reset_index(drop=True), obj=label
        )
        compared += len(trades)
        later_legs += int((trades["leg"] > 1).sum())
    return compared, later_legs


@pytest.mark.parametrize("per_setup", SIZES)
def test_kernel_trades_equal_backtrader_trades_on_random_combinations_of_the_sample(per_setup: int) -> None:
    # Five years keep the backtrader runs quick; the indicators warm up inside them on both paths.
    bars = load_sample("daily").loc["2021-01-01":]
    cases = _cases(per_setup, seed=11)
    assert len(cases) >= 2 * per_setup
    compared, later_legs = _assert_parity(bars, cases)
    assert compared > 2 * len(cases)  # the combinations do trade
    assert later_legs > 0  # and some scale out


@pytest.mark.shared_data
@pytest.mark.parametrize("per_setup", SIZES)
def test_kernel_trades_equal_backtrader_trades_on_random_combinations_of_real_rty(
    shared_data: Path, per_setup: int
) -> None:
    bars = load_bars(shared_data / "daily/RTY_F_yahoo_daily.csv", repair="clip,drop_weekend").loc[
        "2020-01-01":
    ]
    cases = _cases(per_setup, seed=12)
    assert len(cases) >= 2 * per_setup
    compared, later_legs = _assert_parity(bars, cases)
    assert compared > len(cases) and later_legs > 0


class DailyLevelsBullish(get_strategy("bullish_reversal")):
    """The bullish reversal on the previous session's pivots: levels that minute bars reach within weeks."""

    name = "daily_levels_bullish"
    indicators: ClassVar[dict[str, Any]] = {"levels": "D:classic"}


class DailyLevelsBearish(get_strategy("bearish_breakdown")):
    """The bearish breakdown on the previous session's pivots."""

    name = "daily_levels_bearish"
    indicators: ClassVar[dict[str, Any]] = {"levels": "D:classic"}


def test_kernel_trades_equal_backtrader_trades_on_minute_bars() -> None:
    # Five sessions of 1-minute bars (6,900, the first session warming up the pivots): time stops count
    # sessions of ~1,380 bars, and most bars are flat, where the kernel skips the state machine's no-op steps
    # and the orders that cannot fill. These sessions trade 42 times and exit every way the four cases can:
    # stop, target, time stop (the second case) and invalidation.
    bars = load_sample("minute").loc["2025-01-28":"2025-02-03"]
    cases = [
        (DailyLevelsBullish, {"rsi_max": None, "reentry": True, "stop_offset": "5pt", "target": "20pt"}, 0),
        (DailyLevelsBullish, {"rsi_max": None, "reentry": True, "entry": "bounce", "max_hold": 1}, 2),
        (DailyLevelsBearish, {"trend_filter": False, "reentry": True, "entry": "stop", "level": "s2"}, 0),
        (DailyLevelsBearish, {"trend_filter": False, "reentry": True, "round_step": 10.0}, 1),
    ]
    assert _assert_parity(bars, cases)[0] > 20


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(({}, 1), id="one-target"),
        # three contracts: one at the midpoint, two at the pivot; break-even 1 tick up after the first
        pytest.param(
            ({"targets": "mid:1,pivot:1", "breakeven": 1, "breakeven_offset": "1tick"}, 3), id="scale-out"
        ),
    ],
)
def sample_run(request: pytest.FixtureRequest) -> tuple[Any, kernel.KernelData, dict[str, Any], Any]:
    overrides, contracts = request.param
    bars = load_sample("daily").loc["2016-01-01":]
    strategy = get_strategy("bullish_reversal")
    params = strategy.parameters.validate({"rsi_max": None, "stop_offset": "20pt", **overrides})
    config = RunConfig(contracts=contracts)
    result = run_backtest(strategy, bars, config=config, params=params)
    return strategy, kernel.prepare(strategy, bars, config), params, result


def test_kernel_equity_and_every_statistic_equal_the_backtrader_run(sample_run: Any) -> None:
    strategy, data, params, result = sample_run
    trades, equity = kernel.run(strategy, data, params)
    assert len(trades) > 10
    pd.testing.assert_frame_equal(trades, result.trades)
    if params["targets"] is not None:  # legs of one trade: the statistics count the trade once
        assert trades["trade_id"].duplicated().sum() > 3
        assert result.stats["# Trades"] == trades["trade_id"].nunique() < len(trades)
    np.testing.assert_allclose(equity.to_numpy(), result.equity.to_numpy(), rtol=1e-12)
    assert equity.index.equals(result.equity.index)
    stats = pd.Series(kernel.evaluate(strategy, data, params, full_stats=True))
    assert set(stats.index) == set(result.stats.index)
    # Equity sums differ in the last bits (1e-11 $) between broker and kernel; every stat agrees to 1e-9.
    pd.testing.assert_series_equal(stats[result.stats.index], result.stats, rtol=1e-9, check_names=False)


def _assert_same_statistics(fast: dict[str, float], full: dict[str, float] | pd.Series) -> None:
    """Every fast statistic equals the full one to 1e-9 relative (NaN where it is NaN)."""
    assert list(fast) == list(kernel.FAST_STATS)
    for name in kernel.FAST_STATS:
        if math.isnan(full[name]):
            assert math.isnan(fast[name]), name
        else:
            assert math.isclose(fast[name], full[name], rel_tol=1e-9, abs_tol=1e-9), (name, fast[name])


def test_fast_statistics_equal_compute_stats(sample_run: Any) -> None:
    strategy, data, params, _ = sample_run
    fast = kernel.evaluate(strategy, data, params)
    full = kernel.evaluate(strategy, data, params, full_stats=True)
    _assert_same_statistics(fast, full)
    for start, stop in ((0, 300), (500, 900), (len(data.close) - 200, len(data.close))):  # windows too
        plans = kernel.plans(strategy, data, params)
        window = kernel.window_stats(data, plans, None, start, stop)
        _assert_same_statistics(window, kernel.window_stats(data, plans, None, start, stop, full=True))


def test_window_simulation_trades_only_inside_and_closes_at_its_end(sample_run: Any) -> None:
    strategy, data, params, _ = sample_run
    plans = kernel.plans(strategy, data, params)
    start, stop = 500, 900
    run = kernel.simulate(data, plans, None, start, stop)
    log = kernel.trades_frame(data, run, strategy.name)
    assert len(run.equity) == stop - start
    assert run.equity[0] == data.cash or (len(log) and log["entry_time"].iloc[0] == data.index[start])
    assert (log["entry_time"] >= data.index[start]).all()
    assert (log["exit_time"] <= data.index[stop - 1]).all()
    assert math.isclose(run.equity[-1], data.cash + log["pnl_net"].sum(), abs_tol=1e-6)


def test_rows_that_never_place_an_order_are_dropped_once_without_changing_a_run(sample_run: Any) -> None:
    strategy, data, params, _ = sample_run
    plans = kernel.plans(strategy, data, params)
    ordering = kernel._ordering_rows(data, plans)
    # the limit is placed only where the next bar's low comes within a tick of it
    assert 0 < len(ordering.rows) < len(plans.rows) / 10
    low_next = data.low[np.minimum(plans.rows + 1, len(data.low) - 1)]
    expected = plans.rows[(plans.rows < len(data.low) - 1) & (low_next < plans.entry_price + 0.1)]
    np.testing.assert_array_equal(ordering.rows, expected)
    # a writeable copy of the rows is not shared between calls: simulate scans every row itself
    scanned = plans._replace(rows=plans.rows.copy())
    assert kernel._ordering_rows(data, scanned) is scanned
    for start, stop in ((0, len(data.close)), (500, 900)):
        fast, full = (
            kernel.simulate(data, plans, None, start, stop),
            kernel.simulate(data, scanned, None, start, stop),
        )
        assert len(full.trades) > 0
        np.testing.assert_array_equal(fast.trades, full.trades)
        np.testing.assert_array_equal(fast.events, full.events)
        np.testing.assert_array_equal(fast.equity, full.equity)


def _bars(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=len(rows), freq="B", name="time")
    # float prices, as loaded bars have (integer arrays would compile another signature of the kernel)
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index, dtype=np.float64)
    return frame.assign(volume=1.0)


def _kernel_data(
    bars: pd.DataFrame,
    contract_id: np.ndarray | None = None,
    config: RunConfig | None = None,
    *,
    cash: float = 100_000.0,
    commission: float = 2.5,
) -> kernel.KernelData:
    """Return the KernelData of RTY `bars` on contracts `contract_id` (default: one), with the bar arrays as
    kernel.prepare builds them."""
    config = RunConfig() if config is None else config
    contract_id = np.zeros(len(bars), dtype=np.int64) if contract_id is None else contract_id
    prices = {name: bars[name].to_numpy() for name in ("open", "high", "low", "close")}
    return kernel.KernelData(
        frame=bars,
        **prices,
        contract_id=contract_id,
        exit_index=fills.exit_index(*prices.values(), contract_id),
        contracts_traded="RTY",
        settings=config.fill_settings(),
        cash=cash,
        contracts=config.contracts,
        multiplier=50.0,
        commission_per_side=commission,
        bars_per_year=252.0,
    )


def test_mark_to_market_by_hand() -> None:
    # Market long decided at bar 0, filled at bar 1's open 100 + 1 tick slippage = 100.1; target 110 is hit
    # at bar 3 (high 111): RTY $50/pt, commission $2.50 a side.
    bars = _bars(
        [
            (100, 101, 99, 100),
            (100, 103, 99, 102),
            (102, 104, 101, 98),
            (105, 111, 104, 109),
            (109, 110, 108, 109),
        ]
    )
    plans = Plans.empty(len(bars))
    plans.direction[0], plans.entry_type[0] = LONG, ENTRY_MARKET
    plans.stop[0], plans.target[0] = 90.0, 110.0
    data = _kernel_data(bars)
    run = kernel.simulate(data, plans)
    assert run.trades[:, fills.F_PRICE].tolist() == [110.0]
    expected = [
        100_000.0,
        100_000.0 + (102 - 100.1) * 50 - 2.5,  # open: entry commission paid, marked at the close
        100_000.0 + (98 - 100.1) * 50 - 2.5,
        100_000.0 + (110 - 100.1) * 50 - 5.0,  # target filled, both commissions paid
        100_000.0 + (110 - 100.1) * 50 - 5.0,
    ]
    np.testing.assert_allclose(run.equity, expected, rtol=0, atol=1e-9)
    stats = kernel.evaluate(_Fixed(plans), data, {})
    assert stats["# Trades"] == 1.0
    assert math.isclose(stats["Net P&L [$]"], 9.9 * 50 - 5.0)
    assert math.isclose(stats["Expectancy [R]"], (9.9 * 50 - 5.0) / ((100.1 - 90.0) * 50))
    assert math.isclose(stats["Max. Drawdown [$]"], expected[2] - expected[1])
    assert math.isclose(stats["Return [%]"], (expected[-1] / 100_000.0 - 1) * 100)
    returns = pd.Series(np.diff(expected) / expected[:-1])
    assert math.isclose(stats["Sharpe Ratio"], metrics.sharpe_ratio(returns, 252.0))


class _Fixed:
    """A stand-in strategy whose setup returns fixed plans."""

    name = "fixed"

    def __init__(self, plans: Plans) -> None:
        self.setup = lambda frame, **params: plans


# --- the sparse statistics pass against compute_stats on the full equity, case by case
def _exit(
    entry_bar: int,
    exit_bar: int,
    entry: float,
    exit_: float,
    *,
    d: float = 1.0,
    size: float = 1.0,
    trade: int = 1,
    risk: float = 10.0,
) -> np.ndarray:
    """One EXIT record (`risk` in points; 0: no initial risk, so no R)."""
    row = np.zeros(fills.FILL_FIELDS)
    row[[fills.F_KIND, fills.F_BAR, fills.F_PRICE, fills.F_DIRECTION, fills.F_CONTRACTS]] = (
        fills.EXIT, exit_bar, exit_, d, size
    )  # fmt: skip
    row[[fills.F_REASON, fills.F_ENTRY_BAR, fills.F_ENTRY_PRICE, fills.F_INITIAL_RISK, fills.F_TRADE_ID]] = (
        fills.TARGET, entry_bar, entry, risk, trade
    )  # fmt: skip
    return row


def _data(close: np.ndarray, *, cash: float = 100_000.0, commission: float = 2.5) -> kernel.KernelData:
    bars = _bars([(value, value, value, value) for value in close])
    return _kernel_data(bars, cash=cash, commission=commission)


def _equity_by_definition(data: kernel.KernelData, trades: np.ndarray) -> np.ndarray:
    """E_t = cash + realised net P&L of legs exited by t + open P&L of legs with entry <= t < exit."""
    equity = np.full(len(data.close), data.cash)
    for row in trades:
        entry, exit_ = int(row[fills.F_ENTRY_BAR]), int(row[fills.F_BAR])
        d, size, price = row[fills.F_DIRECTION], row[fills.F_CONTRACTS], row[fills.F_ENTRY_PRICE]
        per_side = data.commission_per_side * size
        equity[exit_:] += d * (row[fills.F_PRICE] - price) * data.multiplier * size - 2 * per_side
        equity[entry:exit_] += d * (data.close[entry:exit_] - price) * data.multiplier * size - per_side
    return equity


def _wave(n: int, seed: int) -> np.ndarray:
    return 2_000.0 + np.cumsum(np.random.default_rng(seed).normal(0.0, 8.0, n))


SPARSE_CASES = {
    "no trades": (_wave(60, 1), []),
    "one trade": (_wave(60, 2), [_exit(10, 20, 2_000.0, 2_030.0)]),
    # three legs of one trade: one exits on its entry bar, two overlap for ten and twenty bars
    "scale-out legs overlapping": (
        _wave(80, 3),
        [
            _exit(10, 10, 2_000.0, 2_004.0, size=1.0),
            _exit(10, 20, 2_000.0, 2_010.0, size=2.0),
            _exit(10, 30, 2_000.0, 1_990.0, size=1.0),
        ],
    ),
    "position open at the end": (
        _wave(50, 4),
        [_exit(5, 9, 2_000.0, 1_980.0), _exit(40, 49, 2_010.0, 2_050.0)],
    ),
    # exit at the close before a roll, re-entry at the next open: two trades back to back
    "roll": (
        _wave(60, 5),
        [_exit(10, 29, 2_000.0, 2_012.0, d=-1.0, trade=1), _exit(30, 45, 2_013.0, 2_001.0, d=-1.0, trade=2)],
    ),
    # the peak is an exit; the drawdown runs over flat bars into the next two trades
    "drawdown that starts before a trade": (
        _wave(90, 6),
        [
            _exit(3, 8, 2_000.0, 2_100.0, size=2.0, trade=1),
            _exit(20, 30, 2_000.0, 1_960.0, trade=2),
            _exit(50, 70, 2_000.0, 1_950.0, d=-1.0, trade=3),
        ],
    ),
    "a trade from the first bar": (_wave(30, 7), [_exit(0, 12, 1_999.0, 2_015.0, size=3.0)]),
    # $5,000 of cash: the second trade takes the account below zero (no returns after that) and has no R
    "account wiped out": (
        _wave(70, 8),
        [_exit(5, 15, 2_000.0, 2_020.0), _exit(20, 60, 2_000.0, 1_700.0, size=2.0, trade=2, risk=0.0)],
    ),
}
CASH = {"account wiped out": 5_000.0}


@pytest.mark.parametrize("case", SPARSE_CASES)
def test_sparse_statistics_equal_compute_stats_on_the_full_equity(case: str) -> None:
    close, rows = SPARSE_CASES[case]
    data = _data(close, cash=CASH.get(case, 100_000.0))
    trades = np.array(rows, dtype=np.float64).reshape(-1, fills.FILL_FIELDS)
    amounts = tradelog.trade_amounts(trades, multiplier=50.0, commission_per_side=2.5)
    fields = (close, trades, kernel._LEG_FIELDS, 50.0, 2.5, data.cash, amounts.pnl_net, amounts.r_multiple)
    equity = np.empty(len(close))
    written = kernel._account(*fields, equity)
    np.testing.assert_allclose(equity, _equity_by_definition(data, trades), rtol=1e-13)
    summary = kernel._account(*fields, kernel._NO_EQUITY)
    np.testing.assert_array_equal(summary, written)  # writing the equity changes no statistic
    fast = kernel._fast_stats(summary, len(close), data.bars_per_year)
    full = metrics.compute_stats(
        pd.Series(equity, index=data.index),
        kernel.trades_frame(
            data, kernel.KernelRun(trades, equity, summary, np.empty((0, 3)), 0, len(close)), "x"
        ),
        bars_per_year=data.bars_per_year,
    )
    _assert_same_statistics(fast, full)
    assert full["# Trades"] == len({row[fills.F_TRADE_ID] for row in rows})
    if case != "no trades":
        assert full["Max. Drawdown [%]"] < 0


def test_sparse_statistics_of_equal_returns_give_no_sharpe() -> None:
    # A long from bar 0 on closes that make the equity grow by exactly 0.1 % a bar (no costs): every return
    # is the same up to rounding, the deviation is float noise, and the Sharpe ratio is NaN on both paths.
    n, cash, entry = 40, 100_000.0, 2_000.0
    equity = cash * 1.001 ** np.arange(n)
    close = entry + (equity - cash) / 50.0
    data = _data(close, commission=0.0)
    trades = np.array([_exit(0, n - 1, entry, close[-1])])
    amounts = tradelog.trade_amounts(trades, multiplier=50.0, commission_per_side=0.0)
    pnl, r = amounts.pnl_net, amounts.r_multiple
    args = (close, trades, kernel._LEG_FIELDS, 50.0, 0.0, cash, pnl, r)
    summary = kernel._account(*args, kernel._NO_EQUITY)
    fast = kernel._fast_stats(summary, n, 252.0)
    full = np.empty(n)
    kernel._account(*args, full)
    np.testing.assert_allclose(full, equity, rtol=1e-12)
    assert math.isnan(metrics.sharpe_ratio(metrics.equity_returns(pd.Series(full, index=data.index)), 252.0))
    assert math.isnan(fast["Sharpe Ratio"])
    # without trades every return is zero: no deviation either
    flat = kernel._account(close, trades[:0], *args[2:6], pnl[:0], r[:0], kernel._NO_EQUITY)
    assert math.isnan(kernel._fast_stats(flat, n, 252.0)["Sharpe Ratio"])


def test_fast_statistics_equal_compute_stats_on_random_plans_with_legs_rolls_and_an_open_end() -> None:
    # 600 bars of a random walk, a roll every 97 bars, a market order every 7th bar (long and short) with
    # three targets over three contracts and break-even after the first; the last order fills near the end.
    n = 600
    rng = np.random.default_rng(21)
    close = 2_000.0 + np.cumsum(rng.normal(0.0, 6.0, n))
    opens = np.r_[close[0], close[:-1]] + rng.normal(0.0, 2.0, n)
    high = np.maximum(opens, close) + rng.uniform(0.0, 8.0, n)
    low = np.minimum(opens, close) - rng.uniform(0.0, 8.0, n)
    bars = _bars(list(zip(opens, high, low, close, strict=True)))
    plans = Plans.empty(n)
    rows = np.arange(0, n - 3, 7)
    sign = np.where(rows % 2 == 0, 1.0, -1.0)
    plans.direction[rows] = sign.astype(np.int8)
    plans.entry_type[rows] = ENTRY_MARKET
    plans.stop[rows] = close[rows] - 15.0 * sign
    targets = np.full((n, 3), np.nan)
    targets[rows] = close[rows, None] + np.outer(sign, [6.0, 12.0, 40.0])
    plans = plans._replace(
        targets=targets, target_shares=(1 / 3, 1 / 3, 1 / 3), breakeven=1, reentry=True, max_hold=30
    )
    config = RunConfig(contracts=3)
    data = _kernel_data(bars, np.arange(n, dtype=np.int64) // 97, config, cash=50_000.0)
    strategy = _Fixed(plans)
    trades, equity = kernel.run(strategy, data, {})
    run = kernel.simulate(data, plans)
    np.testing.assert_allclose(equity.to_numpy(), _equity_by_definition(data, run.trades), rtol=1e-13)
    reasons = set(trades["exit_reason"])
    assert {"roll", "end", "target", "stop"} <= reasons, reasons
    assert (trades["leg"] > 1).sum() > 10
    _assert_same_statistics(
        kernel.evaluate(strategy, data, {}), kernel.evaluate(strategy, data, {}, full_stats=True)
    )
