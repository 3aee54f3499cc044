"""``--data``, ``--repair``, ``--source-tz``: shared by the commands that read bars; repairs are reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rtystrat.cli import build_parser, main
from rtystrat.data.sample import load_sample

# Every command that reads a bars file, with the rest of a short run of it ({data} is the file).
COMMANDS = {
    "backtest": ["backtest", "bullish_reversal", "--data", "{data}"],
    "replay": ["replay", "article", "--data", "{data}"],
    "levels": ["levels", "--data", "{data}", "--date", "2025-03-13"],
    "sweep": ["sweep", "bullish_reversal", "--data", "{data}", "--grid", "stop_offset=10:20:10pt",
              "--executor", "serial"],
    "walkforward": ["walkforward", "bullish_reversal", "--data", "{data}", "--grid",
                    "stop_offset=10:20:10pt", "--train", "12", "--test", "12"],
    "report": ["report", "{result}", "--data", "{data}", "-o", "{folder}/report.html"],
}  # fmt: skip


@pytest.fixture(scope="module")
def vendor_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three years of the daily sample with the two quirks of real vendor files: a Sunday row and a bar
    whose high is below its close."""
    bars = load_sample("daily").loc["2023-01-01":]
    sunday = bars.loc[["2024-06-07"]].set_axis(pd.DatetimeIndex(["2024-06-09"], name="time"))
    bars = pd.concat([bars, sunday]).sort_index()
    bars.loc["2024-06-12", "high"] = bars.loc["2024-06-12", "close"] - 1.0
    path = tmp_path_factory.mktemp("vendor") / "vendor.csv"
    bars.to_csv(path)
    return path


def _argv(command: str, data: Path, folder: Path) -> list[str]:
    result = folder / "result.json"
    if command == "report":
        assert main(["-q", "backtest", "bullish_reversal", "--data", str(data), "--json", str(result)]) == 0
    fields = {"data": str(data), "result": str(result), "folder": str(folder)}
    return [part.format(**fields) for part in COMMANDS[command]]


@pytest.mark.parametrize("command", COMMANDS)
def test_repairs_are_reported_on_stderr_even_when_quiet(
    command: str, vendor_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # -q silences progress; a repaired row changes the result, so it is reported whatever -q says.
    argv = _argv(command, vendor_file, tmp_path)
    capsys.readouterr()
    assert main(["-q", *argv]) == 0
    err = capsys.readouterr().err
    assert "repaired vendor.csv: drop_weekend: 1 row with weekend row in daily data: line " in err
    assert "repaired vendor.csv: clip: 1 row with high below max(open, close): line " in err


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_source_tz_and_refuses_repairs_with_none(
    command: str, vendor_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _argv(command, vendor_file, tmp_path)
    args = build_parser().parse_args([*argv, "--source-tz", "America/Chicago"])
    assert args.source_tz == "America/Chicago" and args.repair == "clip,drop_weekend"
    capsys.readouterr()
    assert main([*argv, "--repair", "none"]) == 2
    assert "vendor.csv: weekend row in daily data at line" in capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_data_file_is_one_line_naming_the_flag(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = tmp_path / "sample.csv"
    load_sample("daily").loc["2023-01-01":].to_csv(sample)
    argv = _argv(command, sample, tmp_path)
    missing = str(tmp_path / "absent.csv")
    argv[argv.index("--data") + 1] = missing
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == f"rtystrat {command}: error: --data {missing!r} is not a file"
