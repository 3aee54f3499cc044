"""A contract given in full (fields, TOML or JSON), and no contract silently wrong for the prices traded."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rtystrat
from rtystrat.data.contracts import CONTRACTS, ContractSpec, contract_spec
from rtystrat.errors import ParameterError
from rtystrat.execution.config import RunConfig
from rtystrat.execution.engine import indicator_frame_for
from strategies.bullish_reversal import BullishReversal


def test_fields_of_a_preset_symbol_override_only_what_they_name() -> None:
    spec = contract_spec("symbol=es,commission=1.25")
    assert spec == CONTRACTS["ES"].with_(commission_per_side=1.25)


def test_a_symbol_without_preset_needs_multiplier_and_tick() -> None:
    spec = contract_spec("symbol=ZZ,multiplier=20,tick=0.25,margin=5000,name=Test index")
    assert spec == ContractSpec(
        symbol="ZZ", name="Test index", multiplier=20.0, tick_size=0.25, commission_per_side=0.0,
        initial_margin=5000.0,
    )  # fmt: skip
    with pytest.raises(ParameterError, match=r"ZZ is not a preset \(RTY, .*\), so tick must be given$"):
        contract_spec("symbol=ZZ,multiplier=20")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("symbol=RTY,tik=0.1", r"unknown field 'tik' \(did you mean 'tick'\?\); valid: commission, "),
        ("symbol=RTY,tick=fine", r"tick must be a number, got 'fine'"),
        ("multiplier=50,tick=0.1", r"symbol is required"),
        ("symbol=RTY,tick", r"expected KEY=VALUE pairs, got 'tick'"),
        ("symbol=RTY,tick=0", r"RTY: tick_size must be > 0, got 0.0"),
    ],
)
def test_a_bad_spec_is_one_line_naming_the_field(text: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        contract_spec(text)


def test_toml_and_json_files_give_the_same_spec(tmp_path: Path) -> None:
    toml = tmp_path / "zz.toml"
    toml.write_text('symbol = "ZZ"\nmultiplier = 20\ntick = 0.25\ncommission = 1.1\n', encoding="utf-8")
    data = {"symbol": "ZZ", "multiplier": 20, "tick_size": 0.25, "commission_per_side": 1.1}
    (tmp_path / "zz.json").write_text(json.dumps(data), encoding="utf-8")
    assert contract_spec(toml) == contract_spec(str(tmp_path / "zz.json")) == contract_spec(data)
    with pytest.raises(FileNotFoundError, match=r"contract file .*missing\.toml' is not a file"):
        contract_spec(tmp_path / "missing.toml")


def test_run_config_keeps_a_preset_as_its_symbol_and_a_full_spec_as_fields() -> None:
    assert RunConfig(contract="symbol=RTY").contract == "RTY"
    config = RunConfig(contract="symbol=ZZ,multiplier=20,tick=0.25", commission_per_side=2.0)
    assert config.to_dict()["contract"]["tick_size"] == 0.25
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert (config.spec.multiplier, config.spec.commission_per_side) == (20.0, 2.0)


def _quarter_point_bars() -> pd.DataFrame:
    """ES-like daily bars on the 0.25 grid, whose levels land between RTY's 0.1 ticks."""
    rng = np.random.default_rng(11)
    close = 5000.0 + np.round(np.cumsum(rng.normal(0.0, 30.0, 400)) * 4) / 4
    open_ = np.r_[close[0], close[:-1]]
    frame = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + 10.25,
            "low": np.minimum(open_, close) - 12.75,
            "close": close,
            "volume": 1.0,
        },
        index=pd.bdate_range("2023-01-02", periods=400, name="time"),
    )
    return frame


def test_fills_of_a_full_spec_are_on_its_tick_and_in_its_dollars() -> None:
    config = RunConfig(contract="symbol=ZZ,multiplier=20,tick=0.25,commission=1")
    result = rtystrat.backtest("bullish_reversal", _quarter_point_bars(), config=config, rsi_max=None)
    trades = result.trades
    assert len(trades) > 0 and set(trades["contract"]) == {"ZZ"}
    for column in ("entry_price", "exit_price", "stop", "target"):
        assert (trades[column] * 4 == np.round(trades[column] * 4)).all(), column
    expected = trades["pnl_points"] * 20.0 - 2.0
    assert np.allclose(trades["pnl_net"], expected, atol=0.005)


def test_offsets_in_points_on_another_market_are_noted_once(caplog: pytest.LogCaptureFixture) -> None:
    bars = _quarter_point_bars()
    rtystrat.backtest("bullish_reversal", bars, config=RunConfig(contract="ES"))
    notes = [record.getMessage() for record in caplog.records if "offsets in points" in record.getMessage()]
    assert notes == [
        "ES: offsets in points (stop_offset=13pt) are sized for RTY, where a 60-point stop is about 1.2 ATR "
        "(on ES about 0.6); give them in % or atr (e.g. stop_offset=1.2atr) to carry them to another market"
    ]
    caplog.clear()
    rtystrat.backtest("bullish_reversal", bars, config=RunConfig(contract="ES"), stop_offset="0.3atr")
    assert "offsets in points" not in caplog.text
    rtystrat.backtest("bullish_reversal", bars, config=RunConfig(contract="M2K"))
    assert "offsets in points" not in caplog.text  # the same index as RTY


@pytest.mark.shared_data
def test_real_es_bars_on_rty_spec_are_named_in_one_warning(
    shared_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    es = rtystrat.load_bars(shared_data / "daily" / "ES_F_yahoo_daily.csv", repair="clip,drop_weekend")
    indicator_frame_for(BullishReversal, es, RunConfig())
    warnings = [record.getMessage() for record in caplog.records if "tick grid" in record.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].startswith("ES_F_yahoo_daily.csv: 4")  # 40-odd % of the prices are quarter points
    assert warnings[0].endswith(
        "% of prices are off RTY's 0.1 tick grid, so fills round to prices this market never traded; "
        "they fit a 0.25 tick (--contract ES, MES, NQ or MNQ?)"
    )
    caplog.clear()
    indicator_frame_for(BullishReversal, es, RunConfig(contract="ES"))
    assert "tick grid" not in caplog.text
