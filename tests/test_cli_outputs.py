"""Output paths: an output that is an input is refused before any work, and files are replaced atomically."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from rtystrat.cli import main
from rtystrat.cli.outputs import atomic_path, check_output
from rtystrat.errors import ParameterError

SWEEP = ["sweep", "bullish_reversal", "--grid", "stop_offset=5,10"]
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "rty_sample_daily.csv"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """An input CSV, a result JSON and a folder of two contract files, each to be protected."""
    data = tmp_path / "d.csv"
    shutil.copy(SAMPLE, data)
    result = tmp_path / "r.json"
    result.write_text('{"schema": "not checked before the output"}\n', encoding="utf-8")
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    for name in ("RTY_203012.csv", "RTY_203103.csv"):
        shutil.copy(SAMPLE, contracts / name)
    store = tmp_path / "s.sqlite"
    store.write_bytes(b"")
    return {"data": data, "result": result, "contracts": contracts, "store": store}


@pytest.mark.parametrize(
    ("argv", "victim", "flag"),
    [
        (["backtest", "both", "--data", "{data}", "--json", "{data}"], "data", "--json"),
        (["backtest", "both", "--data", "{data}", "--plot", "{data}"], "data", "--plot"),
        (["backtest", "both", "--data", "{data}", "--intraday", "{result}", "--json", "{result}"],
         "result", "--json"),
        ([*SWEEP, "--store", "{store}", "--json", "{store}"], "store", "--json"),
        ([*SWEEP, "--data", "{data}", "--store", "{data}"], "data", "--store"),
        ([*SWEEP, "--data", "{data}", "--heatmap", "{data}"], "data", "--heatmap"),
        (["walkforward", "bullish_reversal", "--grid", "stop_offset=5,10", "--data", "{data}", "--json",
          "{data}"], "data", "--json"),
        (["replay", "article", "--data", "{data}", "--json", "{data}"], "data", "--json"),
        (["report", "{result}", "-o", "{result}"], "result", "-o"),
        (["report", "{result}", "--data", "{data}", "-o", "{data}"], "data", "-o"),
        (["data", "continuous", "{contracts}", "-o", "{contracts}/RTY_203012.csv"], "contracts", "-o"),
        (["data", "continuous", "{contracts}", "-o", "{contracts}/RTY_203106.csv"], "contracts", "-o"),
        (["data", "continuous", "{contracts}", "-o", "out.csv", "--schedule", "{contracts}/RTY_203012.csv"],
         "contracts", "--schedule"),
    ],
)  # fmt: skip
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(
    argv: list[str], victim: str, flag: str, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = {name: _digest(path) for name, path in files.items() if path.is_file()}
    listing = sorted(path.name for path in files["contracts"].iterdir())
    assert main([part.format(**files) for part in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"{flag} " in err and "input" in err and str(files[victim]) in err
    assert {name: _digest(path) for name, path in files.items() if path.is_file()} == before
    assert sorted(path.name for path in files["contracts"].iterdir()) == listing


def test_a_symlink_or_hard_link_to_an_input_is_the_same_file(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("x\n", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(data)
    (tmp_path / "hard.csv").hardlink_to(data)
    for name in ("link.csv", "hard.csv", "./d.csv"):
        with pytest.raises(ParameterError, match="is also the input --data"):
            check_output("--json", tmp_path / name, {"--data": data})
    assert check_output("--json", tmp_path / "other.csv", {"--data": data}) == tmp_path / "other.csv"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as path:
        path.write_text("half", encoding="utf-8")
        raise RuntimeError("interrupted mid-write")
    assert target.read_text(encoding="utf-8") == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["result.json"]


def test_an_atomic_write_replaces_the_file_keeping_suffix_and_mode(tmp_path: Path) -> None:
    target = tmp_path / "bars.csv.gz"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    with atomic_path(target) as path:
        assert path.parent == tmp_path and path.name.endswith(".csv.gz")
        path.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [path.name for path in tmp_path.iterdir()] == ["bars.csv.gz"]
