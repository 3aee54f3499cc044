"""Trade amounts: the compiled per-record P&L and R, and the trade log's, equal their definitions in numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rtystrat.execution import fills, tradelog


def test_trade_amounts_equal_the_formulas_in_numpy_bit_for_bit() -> None:
    # 20,000 random EXIT records on a 0.1 tick, risks from negative (none) to 40 points, 1 to 8 contracts
    rng = np.random.default_rng(5)
    n = 20_000
    trades = np.zeros((n, fills.FILL_FIELDS))
    trades[:, fills.F_DIRECTION] = rng.choice([-1.0, 1.0], n)
    trades[:, fills.F_CONTRACTS] = rng.integers(1, 9, n)
    trades[:, fills.F_ENTRY_PRICE] = np.round(rng.uniform(1_000.0, 3_000.0, n) / 0.1) * 0.1
    trades[:, fills.F_PRICE] = trades[:, fills.F_ENTRY_PRICE] + np.round(rng.normal(0.0, 30.0, n) / 0.1) * 0.1
    trades[:, fills.F_INITIAL_RISK] = np.round(rng.uniform(-1.0, 40.0, n) / 0.1) * 0.1
    amounts = tradelog.trade_amounts(trades, multiplier=50.0, commission_per_side=2.5)
    contracts = trades[:, fills.F_CONTRACTS]
    scale, commission = 50.0 * contracts, 5.0 * contracts
    move = trades[:, fills.F_PRICE] - trades[:, fills.F_ENTRY_PRICE]
    points = np.round(trades[:, fills.F_DIRECTION] * move, 9)
    pnl_net = np.round(points * scale - commission, 2)
    risk = np.round(trades[:, fills.F_INITIAL_RISK], 9)
    risk_points = np.where(risk > 0, risk, np.nan)
    with np.errstate(invalid="ignore"):
        expected = (points, scale, commission, pnl_net, risk_points, pnl_net / (risk_points * scale))
    for name, value, reference in zip(amounts._fields, amounts, expected, strict=True):
        np.testing.assert_array_equal(value, reference, err_msg=name)
    assert np.isnan(amounts.r_multiple).sum() > 100  # records without a risk have no R
    # the trade log runs the same function as Python: the same numbers, bit for bit
    trades[:, fills.F_KIND] = fills.EXIT
    log = tradelog.trade_log(
        trades[:2_000], pd.date_range("2024-01-01", periods=1, freq="D"), setup="s", multiplier=50.0,
        commission_per_side=2.5, contracts_traded="RTY",
    )  # fmt: skip
    columns = {"pnl_points": points, "commission": commission, "pnl_net": pnl_net, "r_multiple": expected[5]}
    columns["initial_risk_points"] = risk_points
    for name, reference in columns.items():
        np.testing.assert_array_equal(log[name].to_numpy(), reference[:2_000], err_msg=name)
