"""A catalogue of hostile inputs to the command line: each ends in one line on stderr with exit code 2 (or a
reported repair and exit 0), never a traceback, a wrong result or a damaged file.

Every case runs in-process through :func:`rtystrat.cli.main` on files made by the ``files`` fixture; inputs
are hashed before and after, so a case that writes over an input fails. Cases are chosen to be refused before
any backtest runs, which keeps the catalogue fast.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from rtystrat.cli import main
from rtystrat.tuning.store import SCHEMA_VERSION

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "rty_sample_daily.csv"
HEADER = "Date,Open,High,Low,Close,Volume\n"
ROWS = "2024-01-02,100,102,99,101,10\n2024-01-03,101,103,100,102,11\n"
ESC = "\x1b[31m"  # an ANSI colour escape: must never reach the terminal raw
SWEEP = ["sweep", "bullish_reversal", "--grid", "stop_offset=5,10", "--executor", "serial"]


def _result(tmp_path: Path) -> dict:
    """A small valid result dict (one trade), written by rtystrat itself."""
    import pandas as pd

    from rtystrat.analysis.results import BacktestResult

    times = pd.date_range("2024-01-01", periods=3, freq="D", name="time")
    trades = pd.DataFrame(
        {
            "setup": ["s"], "direction": ["long"], "entry_time": [times[0]], "entry_price": [100.0],
            "exit_time": [times[1]], "exit_price": [101.0], "pnl_net": [50.0], "r_multiple": [1.0],
        }
    )  # fmt: skip
    equity = pd.Series([100_000.0, 100_050.0, 100_050.0], index=times)
    stats = pd.Series({"# Trades": 1.0, "Bars per Year": 252.0})
    return BacktestResult(stats=stats, trades=trades, equity=equity).to_dict()


def _text(name: str, text: str, encoding: str = "utf-8") -> tuple[str, bytes]:
    return name, text.encode(encoding)


def _json(name: str, value: object) -> tuple[str, bytes]:
    return name, json.dumps(value).encode()


def _hostile_files(tmp_path: Path) -> dict[str, Path]:
    whole = gzip.compress((HEADER + ROWS * 3000).encode())
    good = _result(tmp_path)
    broken = {
        "no_exit_price": {
            **good,
            "trades": [{k: v for k, v in good["trades"][0].items() if k != "exit_price"}],
        },
        "trades_dict": {**good, "trades": {"0": good["trades"][0]}},
        "no_stats": {k: v for k, v in good.items() if k != "stats"},
        "empty_equity": {**good, "equity": []},
        "text_number": {**good, "stats": {"# Trades": "many"}},
        "equity_none": {**good, "equity": None},
        "list": [good],
        "no_schema": {k: v for k, v in good.items() if k != "schema"},
        "other_schema": {**good, "schema": "rtystrat.result/99"},
        "bad_time": {**good, "equity": [["yesterday", 1.0]]},
        "trade_not_object": {**good, "trades": [1, 2]},
        "bool_stat": {**good, "stats": {"# Trades": True}},
    }
    contents = dict(
        [
            ("truncated.csv.gz", whole[: len(whole) // 2]),
            ("plain_text.csv.gz", (HEADER + ROWS).encode()),
            _text("after_2262.csv", HEADER + "2300-01-02,100,102,99,101,10\n2300-01-03,101,103,100,102,11\n"),
            _text("epoch_overflow.csv", HEADER + "99999999999999999999,100,102,99,101,10\n"),
            _text("empty.csv", ""),
            _text("header_only.csv", HEADER),
            ("binary.csv", bytes(range(256)) * 40),
            _text("utf16.csv", HEADER + ROWS, "utf-16"),
            _text("no_close.csv", "Date,Open,High,Low,Volume\n2024-01-02,100,102,99,10\n"),
            _text("text_prices.csv", HEADER + "2024-01-02,abc,abc,abc,abc,10\n"),
            _text("negative_prices.csv", HEADER + "2024-01-02,-100,-99,-101,-100,10\n"),
            _text("inf_price.csv", HEADER + "2024-01-02,100,inf,99,101,10\n"),
            _text("ansi_time.csv", HEADER + f"{ESC}2024-01-02,100,102,99,101,10\n"),
            _text("ansi_volume.csv", HEADER + f"2024-01-02,100,102,99,101,{ESC}7\n"),
            _text("ansi_header.csv", f"Date,Open,High,Low,{ESC}Close,Volume\n" + ROWS),
            _text("volume_abc.csv", HEADER + "2024-01-02,100,102,99,101,abc\n"),
            _text("volume_na.csv", HEADER + "2024-01-02,100,102,99,101,n/a\n"),
            _text("volume_empty.csv", HEADER + "2024-01-02,100,102,99,101,\n"),
            _text("excel_dates.csv", HEADER + "45293,100,102,99,101,10\n45294,101,103,100,102,11\n"),
            _text(
                "two_closes.csv", "Date,Open,High,Low,Close,Volume,Close\n2024-01-02,100,102,99,101,10,55\n"
            ),
            _text("one_column.csv", "just one column\n1\n2\n"),
            _text("huge_numbers.csv", HEADER + "2024-01-02,1e400,1e400,1e400,1e400,10\n"),
            _text("ragged.csv", HEADER + "2024-01-02,100,102\n2024-01-03,1,2,3,4,5,6,7,8\n"),
            _text("unsorted.csv", HEADER + "2024-01-03,101,103,100,102,11\n2024-01-02,100,102,99,101,10\n"),
            _text("nul_bytes.csv", HEADER + "2024-01-02,100,102,99,101,10\x00\x00\n"),
            _text("strategy_syntax.py", "class Broken(:\n"),
            _text("strategy_raises.py", "raise ZeroDivisionError('import-time side effect')\n"),
            _text("strategy_exits.py", "import sys\nsys.exit(3)\n"),
            _text("not_json.json", "{'single': 'quotes'}"),
            _text("deep.json", "[" * 100_000 + "]" * 100_000),
            _text("long_int.json", '{"schema": "rtystrat.result/1", "stats": {"x": ' + "9" * 5000 + "}}"),
            _text(
                "big_int.json",
                json.dumps({**good, "stats": {"x": 0}}).replace('"x": 0', '"x": 1' + "0" * 400),
            ),
            _text("utf16.json", json.dumps(good), "utf-16"),
            _text("garbage.sqlite", "this is not a database\n" * 100),
            *(_json(f"{name}.json", value) for name, value in broken.items()),
        ]
    )
    paths = {}
    for name, data in contents.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    paths["good.json"] = tmp_path / "good.json"
    paths["good.json"].write_text(json.dumps(good), encoding="utf-8")
    paths["data.csv"] = tmp_path / "data.csv"
    shutil.copy(SAMPLE, paths["data.csv"])
    paths["zero.csv"] = tmp_path / "zero.csv"
    paths["zero.csv"].symlink_to("/dev/zero")
    paths["zero.json"] = tmp_path / "zero.json"
    paths["zero.json"].symlink_to("/dev/zero")
    paths["fifo.csv"] = tmp_path / "fifo.csv"
    os.mkfifo(paths["fifo.csv"])
    paths["folder"] = tmp_path / "folder"
    paths["folder"].mkdir()
    paths["empty_contracts"] = tmp_path / "empty_contracts"
    paths["empty_contracts"].mkdir()
    store = tmp_path / "dropped.sqlite"
    with sqlite3.connect(store) as connection:
        connection.execute("PRAGMA application_id=1381259603")
        connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        connection.execute("CREATE TABLE other (x)")
    paths["dropped.sqlite"] = store
    return paths


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _hostile_files(tmp_path_factory.mktemp("hostile"))


BT = ["backtest", "bullish_reversal", "--data"]
LEVELS = ["levels", "--data", "{data.csv}", "--date", "2025-03-13"]
CONSTRAINT = " and ".join(f"stop_offset != {value}" for value in range(3000))

# (id, argv with {name} for a file of the fixture, text the one line must contain)
CASES: list[tuple[str, list[str], str]] = [
    # --- bars files
    ("truncated gzip", [*BT, "{truncated.csv.gz}"], "cannot read as CSV"),
    ("gz suffix on plain text", [*BT, "{plain_text.csv.gz}"], "cannot read as CSV"),
    ("timestamps past 2262", [*BT, "{after_2262.csv}"], "timestamp"),
    ("epoch overflow", [*BT, "{epoch_overflow.csv}"], "epoch_overflow.csv"),
    ("symlink to /dev/zero", [*BT, "{zero.csv}"], "not a file"),
    ("fifo", [*BT, "{fifo.csv}"], "not a file"),
    ("empty file", [*BT, "{empty.csv}"], "empty file"),
    ("header only", [*BT, "{header_only.csv}"], "no rows"),
    ("binary", [*BT, "{binary.csv}"], "binary.csv"),
    ("utf-16", [*BT, "{utf16.csv}"], "utf16.csv"),
    ("no close column", [*BT, "{no_close.csv}"], "missing column 'close'"),
    ("text prices", [*BT, "{text_prices.csv}"], "missing price"),
    ("negative prices", [*BT, "{negative_prices.csv}"], "non-positive price"),
    ("infinite price", [*BT, "{inf_price.csv}"], "infinite price"),
    ("huge prices", [*BT, "{huge_numbers.csv}"], "infinite price"),
    ("ansi escape in a time", [*BT, "{ansi_time.csv}"], "\\x1b[31m"),
    ("ansi escape in a volume", [*BT, "{ansi_volume.csv}"], "\\x1b[31m7"),
    ("ansi escape in the header", [*BT, "{ansi_header.csv}"], "\\x1b[31mClose"),
    ("volume abc", [*BT, "{volume_abc.csv}"], "unreadable volume"),
    ("volume n/a", [*BT, "{volume_na.csv}"], "unreadable volume"),
    ("volume empty", [*BT, "{volume_empty.csv}"], "unreadable volume"),
    ("excel serial dates", [*BT, "{excel_dates.csv}"], "Excel serial dates"),
    ("second close column", [*BT, "{two_closes.csv}"], "two columns named like 'Close'"),
    ("one column", [*BT, "{one_column.csv}"], "missing columns"),
    ("ragged rows", [*BT, "{ragged.csv}"], "ragged.csv"),
    ("unsorted without repair", [*BT, "{unsorted.csv}"], "unsorted timestamps"),
    ("nul bytes", [*BT, "{nul_bytes.csv}"], "nul_bytes.csv"),
    ("data is a folder", [*BT, "{folder}"], "not a file"),
    ("data does not exist", [*BT, "{folder}/nothing.csv"], "not a file"),
    ("intraday does not exist", [*BT, "{data.csv}", "--intraday", "{folder}/x.csv"], "--intraday"),
    # --- load options
    ("unknown repair", [*BT, "{data.csv}", "--repair", "bogus"], "unknown option 'bogus'"),
    ("unknown repair without data", ["backtest", "bullish_reversal", "--repair", "bogus"], "bogus"),
    ("unknown zone without data", ["backtest", "bullish_reversal", "--source-tz", "Mars/Olympus"], "Mars"),
    ("unknown zone", [*BT, "{data.csv}", "--source-tz", "Mars/Olympus"], "unknown time zone"),
    # --- run settings and parameters
    ("start after end", ["backtest", "both", "--start", "2024-01-01", "--end", "2023-01-01"], "start"),
    ("start not a date", ["backtest", "both", "--start", "soon"], "soon"),
    ("cash negative", ["backtest", "both", "--cash", "-1"], "cash"),
    ("cash nan", ["backtest", "both", "--cash", "nan"], "cash"),
    ("cash overflow", ["backtest", "both", "--cash", "1e400"], "cash"),
    ("zero contracts", ["backtest", "both", "--contracts", "0"], "contracts"),
    ("negative slippage", ["backtest", "both", "--slippage-ticks", "-1"], "slippage"),
    ("unknown contract", ["backtest", "both", "--contract", "XYZ"], "XYZ"),
    ("unknown fill policy", ["backtest", "both", "--fill-policy", "bogus"], "bogus"),
    ("21-digit max_hold", ["backtest", "bullish_reversal", "--param", "max_hold=" + "9" * 21], "max_hold"),
    ("text offset", ["backtest", "bullish_reversal", "--param", "stop_offset=abc"], "stop_offset"),
    ("unknown parameter", ["backtest", "bullish_reversal", "--param", "stop_ofset=5"], "stop_ofset"),
    ("parameter without value", ["backtest", "bullish_reversal", "--param", "stop_offset"], "NAME=VALUE"),
    ("strategy unknown", ["backtest", "bullish_reverse"], "did you mean"),
    ("strategy module missing", ["backtest", "no_such_module:Thing"], "no_such_module"),
    ("strategy file syntax error", ["backtest", "{strategy_syntax.py}:Broken"], "strategy_syntax.py"),
    ("strategy file raises", ["backtest", "{strategy_raises.py}:X"], "import-time side effect"),
    ("strategy file exits", ["backtest", "{strategy_exits.py}:X"], "strategy_exits.py"),
    ("strategy path not a folder", ["backtest", "both", "--strategy-path", "{data.csv}"], "not a folder"),
    # --- outputs
    ("json into a missing folder", ["backtest", "both", "--json", "{folder}/no/r.json"], "does not exist"),
    ("json is a folder", ["backtest", "both", "--json", "{folder}"], "is a folder"),
    ("json is a device", ["backtest", "both", "--json", "{zero.json}"], "not a regular file"),
    ("json over the data", [*BT, "{data.csv}", "--json", "{data.csv}"], "is also the input --data"),
    # --- sweeps
    ("sweep a group", ["sweep", "both", "--grid", "stop_offset=5,10"], "'both' is a group of"),
    ("sweep unknown objective", [*SWEEP, "--objective", "Sharpness"], "Sharpness"),
    ("sweep bad grid", ["sweep", "bullish_reversal", "--grid", "stop_offset=5:1:x"], "stop_offset"),
    ("sweep no grid", ["sweep", "bullish_reversal"], "--grid"),
    ("sweep absurd grid", [*SWEEP[:3], "stop_offset=1:2000:1pt", "--grid", "max_hold=1:1000:1"], "--yes"),
    ("sweep 3000-term constraint", [*SWEEP, "--constraint", CONSTRAINT], "constraint"),
    ("sweep constraint code", [*SWEEP, "--constraint", "__import__('os').system('true')"], "constraint"),
    ("sweep store garbage", [*SWEEP, "--store", "{garbage.sqlite}"], "not a results store"),
    ("sweep store without runs", [*SWEEP, "--store", "{dropped.sqlite}"], "runs table"),
    ("sweep store is the data", [*SWEEP, "--data", "{data.csv}", "--store", "{data.csv}"], "also the input"),
    ("sweep store is a device", [*SWEEP, "--store", "{zero.json}"], "not a regular file"),
    ("sweep zero workers", [*SWEEP, "--workers", "0"], "workers"),
    ("sweep unknown executor", [*SWEEP[:4], "--executor", "gpu"], "gpu"),
    ("walkforward zero months", ["walkforward", *SWEEP[1:4], "--train", "0"], "train"),
    # --- result files
    ("report missing", ["report", "{folder}/none.json"], "no such result file"),
    ("report not json", ["report", "{not_json.json}"], "not valid JSON"),
    ("report deep nesting", ["report", "{deep.json}"], "deep.json"),
    ("report 5000-digit number", ["report", "{long_int.json}"], "long_int.json"),
    ("report 10^400", ["report", "{big_int.json}"], "too large"),
    ("report utf-16", ["report", "{utf16.json}"], "utf16.json"),
    ("report device", ["report", "{zero.json}"], "zero.json"),
    ("report without exit_price", ["report", "{no_exit_price.json}"], "lacks 'exit_price'"),
    ("report trades a dict", ["report", "{trades_dict.json}"], "'trades' must be a list"),
    ("report without stats", ["report", "{no_stats.json}"], "'stats'"),
    ("report empty equity", ["report", "{empty_equity.json}"], "'equity' is empty"),
    ("report text for a number", ["report", "{text_number.json}"], "must be a number"),
    ("report equity null", ["report", "{equity_none.json}"], "'equity'"),
    ("report a list", ["report", "{list.json}"], "no 'schema' key"),
    ("report without schema", ["report", "{no_schema.json}"], "no 'schema' key"),
    ("report other schema", ["report", "{other_schema.json}"], "rtystrat.result/99"),
    ("report bad time", ["report", "{bad_time.json}"], "yesterday"),
    ("report trades not objects", ["report", "{trade_not_object.json}"], "trades[0]"),
    ("report bool statistic", ["report", "{bool_stat.json}"], "must be a number"),
    ("report over itself", ["report", "{good.json}", "-o", "{good.json}"], "is also the input"),
    # --- levels
    ("levels price 1e308", [*LEVELS, "--price", "1e308"], "--price"),
    ("levels price inf", [*LEVELS, "--price", "inf"], "--price"),
    ("levels price nan", [*LEVELS, "--price", "nan"], "--price"),
    ("levels price negative", [*LEVELS, "--price", "-5"], "--price"),
    ("levels date not a date", [*LEVELS[:3], "--date", "13/13/2025"], "13/13/2025"),
    ("levels date outside data", [*LEVELS[:3], "--date", "2300-01-01"], "2300-01-01"),
    # --- data commands
    ("continuous missing folder", ["data", "continuous", "{folder}/no", "-o", "{folder}/c.csv"], "a folder"),
    ("continuous empty folder", ["data", "continuous", "{empty_contracts}", "-o", "{folder}/c.csv"],
     "no contract files"),
    ("validate a device", ["data", "validate", "{zero.csv}"], "not a regular file"),
    ("validate truncated gzip", ["data", "validate", "{truncated.csv.gz}"], "cannot read as CSV"),
]  # fmt: skip


def _digests(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.iterdir()
        if path.is_file() and not path.is_symlink()
    }


@pytest.mark.parametrize(("argv", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_hostile_input_ends_in_one_line_and_exit_2(
    files: dict[str, Path], argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = files["data.csv"].parent
    before = _digests(folder)
    try:
        code = main(
            ["-q", *(re.sub(r"\{([\w.]+)\}", lambda m: str(files[m.group(1)]), part) for part in argv)]
        )
    except SystemExit as exit_info:  # argparse's own errors exit from inside the parser
        code = exit_info.code
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("rtystrat"), err
    assert "internal error" not in err and "Traceback" not in err
    assert ESC not in err + out
    assert expected in err, err
    assert _digests(folder) == before


def test_the_catalogue_holds_at_least_60_distinct_cases() -> None:
    assert len({case[0] for case in CASES}) == len(CASES) >= 60
