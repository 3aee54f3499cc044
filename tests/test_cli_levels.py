"""``rtystrat levels``: the analysis numbers from the real file, the text table, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rtystrat.cli
from rtystrat.data.bars import load_bars
from rtystrat.errors import DataError, ParameterError
from rtystrat.signals.features import levels_table


def _levels(argv: list[str]) -> int:
    """Run ``rtystrat levels ARGV``'s handler; errors propagate (``main`` would print them)."""
    args = rtystrat.cli.build_parser().parse_args(["levels", *argv])
    return args.func(args)


@pytest.fixture
def crafted_csv(tmp_path: Path) -> Path:
    """A Yahoo-ordered daily file (Date,Close,High,Low,Open,Volume) of 200 sessions, one High < Close row."""
    rng = np.random.default_rng(11)
    rows = 200
    close = 2000 + rng.normal(0, 15, rows).cumsum()
    open_ = close + rng.normal(0, 5, rows)
    frame = pd.DataFrame(
        {
            "Date": pd.bdate_range("2024-01-01", periods=rows).strftime("%Y-%m-%d"),
            "Close": close,
            "High": np.maximum(open_, close) + 1.0,
            "Low": np.minimum(open_, close) - 1.0,
            "Open": open_,
            "Volume": 100.0,
        }
    )
    frame.loc[150, "High"] = frame.loc[150, "Close"] - 0.5
    path = tmp_path / "crafted.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.shared_data
def test_acceptance_article_day_at_the_article_price_as_json(shared_data, capsys) -> None:
    path = shared_data / "daily" / "RTY_F_yahoo_daily.csv"
    assert _levels(["--data", str(path), "--date", "2025-03-13", "--price", "2025.7", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    required = {"date", "price", "P", "S1", "S2", "S3", "R1", "R2", "R3", "sma_50", "sma_100", "rsi_14"}
    assert required <= set(table)
    assert (table["date"], table["price"]) == ("2025-03-13", 2025.7)
    expected = {"P": 2210.3, "S2": 2003.5, "S3": 1877.6, "sma_50": 2229.3, "sma_100": 2279.8}
    assert {key: table[key] for key in expected} == pytest.approx(expected, abs=0.05)
    assert table["rsi_14"] == pytest.approx(25.3, abs=0.1)


@pytest.mark.shared_data
def test_json_keeps_the_schema_1_keys_for_one_version(shared_data, capsys) -> None:
    path = shared_data / "daily" / "RTY_F_yahoo_daily.csv"
    assert _levels(["--data", str(path), "--date", "2025-03-13", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert next(iter(table.items())) == ("schema", "rtystrat.levels/2")
    renamed = {
        "sma50": "sma_50",
        "sma100_slope": "sma_100_slope",
        "price_vs_sma50_points": "price_vs_sma_50_points",
        "rsi14": "rsi_14",
        "rsi14_zone": "rsi_14_zone",
    }
    assert {old: table[old] for old in renamed} == {old: table[new] for old, new in renamed.items()}
    assert "sma_50" in table and "P" in table and "p" not in table


@pytest.mark.shared_data
def test_article_day_at_the_close_and_the_repairs_are_reported(shared_data, capsys) -> None:
    path = shared_data / "daily" / "RTY_F_yahoo_daily.csv"
    assert _levels(["--data", str(path), "--date", "2025-03-13", "--json"]) == 0
    captured = capsys.readouterr()
    table = json.loads(captured.out)
    expected = {"price": 1996.1, "sma_50": 2228.7, "sma_100": 2279.5}
    assert {key: table[key] for key in expected} == pytest.approx(expected, abs=0.05)
    assert table["rsi_14"] == pytest.approx(22.9, abs=0.1)
    assert "drop_weekend: 1 row" in captured.err and "2025-07-13" in captured.err
    assert "clip: 1 row" in captured.err and "2025-09-15" in captured.err


@pytest.mark.shared_data
def test_strict_loading_refuses_the_real_file_in_one_line(shared_data) -> None:
    path = shared_data / "daily" / "RTY_F_yahoo_daily.csv"
    with pytest.raises(DataError, match=r"RTY_F_yahoo_daily\.csv: .*repair="):
        _levels(["--data", str(path), "--date", "2025-03-13", "--repair", "none"])


def test_text_table_lists_levels_high_to_low_and_marks_the_nearest(crafted_csv: Path, capsys) -> None:
    assert _levels(["--data", str(crafted_csv), "--date", "2024-09-27", "--price", "2000"]) == 0
    text = capsys.readouterr().out
    table = _table(crafted_csv, "2024-09-27", "2000")
    lines = text.splitlines()
    assert (
        lines[0]
        == "crafted.csv  2024-09-27  price 2,000.00 (instead of the close " + f"{table['close']:,.2f})"
    )
    level_rows = [line.split()[0] for line in lines[3:10]]
    assert level_rows == ["R3", "R2", "R1", "P", "S1", "S2", "S3"]
    support = next(line for line in lines if line.endswith("nearest support"))
    assert support.split()[0] == table["support_name"]
    assert f"SMA50    {table['sma_50']:,.2f}" in text
    assert f"RSI(14){table['rsi_14']:>11.2f}  {table['rsi_14_zone']}" in text
    assert "6-month high" in text


def _table(path: Path, date: str, price: str) -> dict:
    return levels_table(load_bars(path, repair="clip,drop_weekend"), date, price=float(price))


@pytest.mark.parametrize(
    ("argv", "error", "message"),
    [
        (["--date", "2031-01-01"], DataError, "crafted.csv: date 2031-01-01 is outside the data"),
        (["--date", "2024-03-01"], DataError, "crafted.csv: not enough history for SMA100 on 2024-03-01: 45"),
        (["--date", "2024-09-27", "--method", "camarila"], ParameterError, "did you mean 'camarilla'"),
        (["--date", "2024-09-27", "--repair", "none"], DataError, "crafted.csv: high below max"),
        (["--date", "garbage"], ParameterError, r"^date='garbage': not a date; expected YYYY-MM-DD$"),
        (["--date", "2024-13-45"], ParameterError, r"^date='2024-13-45': not a date; expected YYYY-MM-DD$"),
        (["--date", "2024-09-27", "--lookback-months", "0"], ParameterError, "lookback_months=0"),
        (["--date", ""], ParameterError, r"^date='': not a date"),
    ],
)
def test_bad_input_is_a_one_line_error(crafted_csv: Path, argv: list[str], error: type, message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        _levels(["--data", str(crafted_csv), *argv])
    assert "\n" not in str(caught.value)


def test_through_the_rtystrat_command_an_error_exits_2_with_one_line(crafted_csv: Path, capsys) -> None:
    assert rtystrat.cli.main(["levels", "--data", str(crafted_csv), "--date", "2031-01-01"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("rtystrat levels: error: crafted.csv: date 2031-01-01 is outside the data")
    assert rtystrat.cli.main(["levels", "--data", str(crafted_csv), "--date", "2024-09-27", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["date"] == "2024-09-27"
    # a date with a time of day and a zone names the same session
    assert (
        rtystrat.cli.main(
            ["levels", "--data", str(crafted_csv), "--date", "2024-09-27T10:00+00:00", "--json"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["date"] == "2024-09-27"
