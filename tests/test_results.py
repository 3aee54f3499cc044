"""BacktestResult: statistics through rtystrat.analysis.metrics, a strict JSON round trip, markdown and text
output."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rtystrat.analysis import metrics
from rtystrat.analysis.results import SCHEMA, BacktestResult
from rtystrat.errors import DataError


@dataclasses.dataclass(frozen=True)
class _Config:
    contract: str = "RTY"
    cash: float = 100_000.0
    fill_policy: str = "pessimistic"
    commission_per_side: float | None = None


@pytest.fixture
def equity() -> pd.Series:
    """Hourly bars in Chicago time across the November DST change (offsets −05:00 then −06:00)."""
    times = pd.date_range("2024-11-01 17:00", periods=120, freq="h", tz="America/Chicago", name="time")
    rng = np.random.default_rng(7)
    return pd.Series(100_000.0 + np.cumsum(rng.normal(5.0, 150.0, len(times))), index=times, name="equity")


@pytest.fixture
def trades(equity: pd.Series) -> pd.DataFrame:
    times = equity.index
    entry, exit_ = times[[3, 40, 90]], times[[10, 55, 119]]
    return pd.DataFrame(
        {
            "setup": pd.array(["bullish_reversal", "bearish_breakdown", "bullish_reversal"], dtype="str"),
            "trade_id": np.array([1, 1, 2], dtype=np.int64),
            "leg": np.array([1, 1, 1], dtype=np.int64),
            "direction": pd.array(["long", "short", "long"], dtype="str"),
            "contract": pd.array(["RTY"] * 3, dtype="str"),
            "entry_time": entry,
            "entry_price": [2003.0, 1999.9, 2010.0],
            "exit_time": exit_,
            "exit_price": [2016.0, 2008.4, 2012.5],
            "exit_reason": pd.array(["target", "stop", "end"], dtype="str"),
            "contracts": np.array([1, 2, 1], dtype=np.int64),
            "pnl_points": [13.0, -8.5, 2.5],
            "pnl_net": [640.0, -860.0, 115.0],
            "r_multiple": [1.0, -1.0, np.nan],
            "duration": exit_ - entry,
            "ambiguous": [False, True, False],
        }
    )


@pytest.fixture
def result(trades: pd.DataFrame, equity: pd.Series) -> BacktestResult:
    benchmark = metrics.buy_and_hold(
        pd.Series(np.linspace(2000, 2050, len(equity)), index=equity.index), multiplier=50.0, cash=100_000.0
    )
    return BacktestResult.from_run(
        trades,
        equity,
        params={"bullish_reversal": {"stop_offset": "13pt", "rsi_max": 30.0, "targets": (2100, 2210)}},
        config=_Config(),
        benchmark=benchmark,
    )


def test_from_run_computes_stats_through_metrics(result: BacktestResult, trades, equity) -> None:
    expected = metrics.compute_stats(equity, trades, benchmark=result.benchmark)
    pd.testing.assert_series_equal(result.stats, expected, check_exact=True)
    assert result.config == {"contract": "RTY", "cash": 100_000.0, "fill_policy": "pessimistic",
                             "commission_per_side": None}  # fmt: skip
    assert result.params["bullish_reversal"]["targets"] == [2100, 2210]
    assert repr(result).startswith("BacktestResult(bars=120, trades=3, return=")


def test_identical_inputs_give_identical_stats(trades: pd.DataFrame, equity: pd.Series) -> None:
    first = BacktestResult.from_run(trades, equity, params={}, config={})
    second = BacktestResult.from_run(trades.copy(), equity.copy(), params={}, config={})
    pd.testing.assert_series_equal(first.stats, second.stats, check_exact=True)


def test_json_round_trip_preserves_stats_trades_equity_and_settings(result: BacktestResult, tmp_path) -> None:
    path = tmp_path / "result.json"
    result.to_json(path)
    loaded = BacktestResult.from_json(path)
    finite = np.isfinite(result.stats)  # ±inf is written as null and reads back as NaN
    money = result.stats.index.str.endswith("[$]")  # written in cents
    cents = result.stats.where(~money, result.stats.round(2))
    pd.testing.assert_series_equal(loaded.stats[finite], cents[finite], check_exact=True)
    assert (loaded.stats[money] != result.stats[money]).any()  # the fixture has fractions of a cent
    assert loaded.stats[~finite].isna().all()
    pd.testing.assert_frame_equal(loaded.trades, result.trades, check_exact=True)
    for read, written in ((loaded.equity, result.equity), (loaded.benchmark, result.benchmark)):
        pd.testing.assert_series_equal(read, written.round(2), check_exact=True, check_freq=False)
    assert loaded.params == result.params and loaded.config == result.config
    assert loaded.to_json() == result.to_json()


def test_json_is_strict_plain_data_with_iso_times(result: BacktestResult) -> None:
    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    data = json.loads(result.to_json(), parse_constant=refuse)
    assert data["schema"] == SCHEMA
    assert {"stats", "trades", "equity", "params", "config"} <= data.keys()
    first = data["trades"][0]
    for key in ("setup", "direction", "entry_time", "entry_price", "exit_time", "exit_price", "exit_reason",
                "contracts", "pnl_points", "pnl_net"):  # fmt: skip
        assert key in first
    assert first["entry_time"] == "2024-11-01T20:00:00-05:00"  # CDT before the change
    assert data["trades"][2]["exit_time"] == "2024-11-06T15:00:00-06:00"  # CST after it
    assert first["duration"] == "P0DT7H0M0S" and first["ambiguous"] is False and first["contracts"] == 1
    assert data["trades"][2]["r_multiple"] is None  # NaN → null
    assert data["equity"][0] == ["2024-11-01T17:00:00-05:00", round(result.equity.iloc[0], 2)]  # cents
    assert data["stats"]["# Trades"] == 3 and isinstance(data["stats"]["# Trades"], int)
    assert data["stats"]["Return [%]"] == pytest.approx(result.stats["Return [%]"])


def test_json_without_a_path_returns_text_and_writes_nothing(
    result: BacktestResult, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert result.to_json(indent=None).startswith('{"schema": "rtystrat.result/2"')
    assert list(tmp_path.iterdir()) == []


def test_a_schema_1_file_is_read_as_trades_of_one_leg(result: BacktestResult, tmp_path: Path) -> None:
    # a /1 file: no trade_id or leg keys, each row a whole trade
    data = result.to_dict()
    data["schema"] = "rtystrat.result/1"
    data["trades"] = [
        {k: v for k, v in row.items() if k not in ("trade_id", "leg")} for row in data["trades"]
    ]
    data["trade_columns"] = {k: v for k, v in data["trade_columns"].items() if k not in ("trade_id", "leg")}
    path = tmp_path / "one.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = BacktestResult.from_json(path)
    assert loaded.trades["leg"].tolist() == [1] * len(result.trades)
    assert loaded.trades["trade_id"].tolist() == result.trades["trade_id"].tolist()
    assert loaded.to_json() == result.to_json()


def test_from_json_refuses_another_schema_version(result: BacktestResult, tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text(json.dumps({**result.to_dict(), "schema": "rtystrat.result/0"}), encoding="utf-8")
    with pytest.raises(DataError, match=r"old\.json: written with result schema 'rtystrat.result/0'.*re-run"):
        BacktestResult.from_json(path)
    path.write_text('{"stats": {}}', encoding="utf-8")
    with pytest.raises(DataError, match=r"old\.json: not an rtystrat result \(no 'schema' key\)"):
        BacktestResult.from_json(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match=r"old\.json: not valid JSON"):
        BacktestResult.from_json(path)


def test_markdown_has_every_table_without_tabulate(result: BacktestResult, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tabulate", None)  # importing it would fail
    text = result.to_markdown()
    for title in ("## Statistics", "## By setup", "## By direction", "## By year", "## Deepest drawdowns",
                  "## Trades"):  # fmt: skip
        assert title in text
    assert "contract: **RTY**" in text
    assert "| Statistic | Value |\n| :--- | ---: |" in text
    assert "| # Trades | 3 |" in text
    assert "| Statistic | bearish_breakdown | bullish_reversal |" in text
    trade_rows = [line for line in text.splitlines() if "| target |" in line or "| stop |" in line]
    assert len(trade_rows) == 2
    assert "| 0 | bullish_reversal | long | 2024-11-01 20:00 | 2,003.00 |" in trade_rows[0]


def test_summary_is_aligned_in_two_columns(result: BacktestResult) -> None:
    lines = result.summary().splitlines()
    assert lines[0].startswith("2024-11-01 17:00 → 2024-11-06 15:00  ·  120 bars  ·  3 trades")
    block = lines[1 : lines.index("")]
    assert len(block) == (len(result.stats) + 1) // 2
    right_starts = {
        line.index(key) for line in block for key in result.stats.index[len(block) :] if key in line
    }
    assert len(right_starts) == 1  # the second column starts at the same place on every line
    return_line = next(line for line in block if line.startswith("Return [%]"))
    assert f"{result.stats['Return [%]']:,.2f}" in return_line
    assert "setup" in lines[lines.index("") + 1] and "Expectancy [R]" in lines[lines.index("") + 1]


def test_summary_says_one_trade_not_one_trades(trades: pd.DataFrame, equity: pd.Series) -> None:
    one = BacktestResult.from_run(trades.iloc[:1], equity, params={}, config=_Config())
    assert one.summary().splitlines()[0].endswith("120 bars  ·  1 trade  ·  setups: bullish_reversal")


def test_derived_tables_use_the_result_annualisation(result: BacktestResult) -> None:
    assert result.by_setup().index.tolist() == ["bearish_breakdown", "bullish_reversal"]
    assert result.by_direction()["# Trades"].to_dict() == {"long": 2.0, "short": 1.0}
    assert result.by_year().index.tolist() == [2024]
    assert len(result.drawdowns(3)) <= 3


# ------------------------------------------------------------------------------ results read back are checked
def _damaged(result_dict: dict, change: str) -> dict:
    data = json.loads(json.dumps(result_dict))
    if change == "no exit_price":
        del data["trades"][0]["exit_price"]
    elif change == "trades a dict":
        data["trades"] = {"0": data["trades"][0]}
    elif change == "no stats":
        del data["stats"]
    elif change == "empty equity":
        data["equity"] = []
    elif change == "huge integer":
        data["stats"]["# Trades"] = 10**400
    elif change == "text for a number":
        data["trades"][0]["pnl_net"] = "a lot"
    elif change == "text for a time":
        data["trades"][0]["entry_time"] = "yesterday"
    elif change == "equity pair of three":
        data["equity"][0].append(1)
    elif change == "unknown dtype":
        data["trade_columns"]["pnl_net"] = "pickle"
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no exit_price", r"trades\[0\] lacks 'exit_price'"),
        ("trades a dict", r"'trades' must be a list of trade objects \(found an object\)"),
        ("no stats", r"'stats' must be an object of statistics \(found null\)"),
        ("empty equity", r"'equity' is empty"),
        ("huge integer", r"stats\['# Trades'\] is a number too large for a float"),
        ("text for a number", r"trades\[0\]\['pnl_net'\] must be a number or null, not the text 'a lot'"),
        ("text for a time", r"not a valid result: .*yesterday"),
        ("equity pair of three", r"equity\[0\] must be a \[time text, value\] pair"),
        ("unknown dtype", r"trade_columns\['pnl_net'\] is not a dtype rtystrat writes"),
    ],
)
def test_a_damaged_result_is_refused_in_one_line_naming_what_is_wrong(
    result: BacktestResult, tmp_path: Path, change: str, message: str
) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(_damaged(result.to_dict(), change)), encoding="utf-8")
    with pytest.raises(DataError, match=message) as error:
        BacktestResult.from_json(path)
    assert "\n" not in str(error.value) and str(error.value).startswith(str(path))
