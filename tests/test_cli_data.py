"""``rtystrat data validate`` and ``rtystrat data continuous``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rtystrat.cli import build_parser
from rtystrat.data.bars import load_bars
from rtystrat.errors import DataError, ParameterError

SAMPLE_DAILY = Path(__file__).resolve().parents[1] / "data" / "rty_sample_daily.csv"


def run(argv: list[str]) -> int:
    """Run ``rtystrat ARGV``'s handler; errors propagate (``main`` would print them)."""
    args = build_parser().parse_args(argv)
    return args.func(args)


def test_validate_clean_file_prints_summary_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["data", "validate", str(SAMPLE_DAILY)]) == 0
    out = capsys.readouterr().out
    assert "rows      4,533\n" in out
    assert "range     2008-01-02 → 2025-12-31\n" in out
    assert "timezone  none (daily bars are tz-naive dates)\n" in out
    assert "interval  1 day\n" in out
    assert "problems  none\n" in out
    assert out.endswith("result    OK: loads\n")


def test_validate_lists_every_problem_with_rows_and_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "Date,Open,High,Low,Close\n"
        "2024-01-02,100,102,99,101\n"
        "2024-01-03,101,100.5,100,102\n"
        "2024-01-06,102,104,101,103\n"
        "2024-01-03,101,103,100,102\n"
    )
    assert run(["data", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "rows      4\n" in out
    assert "problems  4\n" in out
    assert (
        "  - weekend row in daily data: 1 row, first line 4 (2024-01-06): a Saturday [repair: drop_weekend]"
        in out
    )
    assert "  - high below max(open, close): 1 row, first line 3 (2024-01-03): open 101.0 high 100.5" in out
    assert (
        "  - duplicate timestamp: 1 row, first line 5 (2024-01-03): same time as line 3 (2024-01-03)" in out
    )
    assert (
        "  - unsorted timestamps: 1 row, first line 5 (2024-01-03): earlier than line 4 (2024-01-06)" in out
    )
    assert out.endswith(
        "result    FAILED: 4 problem(s); --repair drop,clip,drop_weekend,sort would load it\n"
    )

    assert run(["data", "validate", str(path), "--repair", "drop,clip,drop_weekend"]) == 0
    out = capsys.readouterr().out
    assert "rows      2\n" in out
    assert "repairs   3\n" in out
    assert "  - clip: 1 row with high below max(open, close): line 3 (2024-01-03)\n" in out
    assert out.endswith("result    OK: loads with --repair drop,clip,drop_weekend\n")


def test_validate_intraday_reports_zone_and_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "minutes.csv"
    path.write_text("time,open,high,low,close\n2024-07-01 09:00:00,1,2,1,2\n2024-07-01 09:05:00,2,3,2,3\n")
    assert run(["data", "validate", str(path), "--source-tz", "America/New_York"]) == 0
    out = capsys.readouterr().out
    assert "range     2024-07-01 08:00:00-05:00 → 2024-07-01 08:05:00-05:00\n" in out
    assert "timezone  America/Chicago\n" in out
    assert "interval  5 minutes\n" in out


def test_validate_structural_errors_raise_for_the_cli_to_print(tmp_path: Path) -> None:
    path = tmp_path / "nohigh.csv"
    path.write_text("Date,Open,Low,Close\n2024-01-02,1,1,1\n")
    with pytest.raises(DataError, match=r"missing column 'high' \(found: Date, Open, Low, Close\)"):
        run(["data", "validate", str(path)])
    with pytest.raises(FileNotFoundError):
        run(["data", "validate", str(tmp_path / "absent.csv")])


def write_contract(folder: Path, name: str, start: str, end: str, close: float) -> None:
    index = pd.bdate_range(start, end, name="date")
    frame = pd.DataFrame(
        {"open": close, "high": close + 5, "low": close - 5, "close": close, "volume": 1000.0}, index=index
    )
    frame.to_csv(folder / name)


@pytest.fixture
def two_contracts(tmp_path: Path) -> Path:
    """A folder with RTYH25 (2025-03-03 → 03-21, flat at 2,000) and RTYM25 (→ 03-31, flat at 2,020)."""
    write_contract(tmp_path, "RTY_202503.csv", "2025-03-03", "2025-03-21", 2000.0)
    write_contract(tmp_path, "RTY_202506.csv", "2025-03-03", "2025-03-31", 2020.0)
    return tmp_path


def test_continuous_rolls_five_business_days_before_expiry_with_difference_adjustment(
    two_contracts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # RTYH25 expires on the third Friday of March 2025, the 21st; five exchange business days earlier is
    # Friday the 14th. The roll happens at that session's close: the 14th is the last RTYH25 row.
    output, schedule = tmp_path / "out.csv", tmp_path / "rolls.csv"
    argv = ["data", "continuous", str(two_contracts), "--root", "RTY", "--adjust", "difference"]
    argv += ["-o", str(output)]
    assert run([*argv, "--schedule", str(schedule)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("RTY: 21 rows from 2 contract files, 2025-03-03 → 2025-03-31,")
    bars = load_bars(output)
    assert bars.loc[:"2025-03-14", "contract"].unique().tolist() == ["RTYH25"]
    assert bars.loc["2025-03-17":, "contract"].unique().tolist() == ["RTYM25"]
    assert len(bars.loc[:"2025-03-14"]) == 10
    # Difference (Panama) adjustment: the older contract is shifted by the roll-date gap, 2020 − 2000 = +20.
    assert bars["close"].unique().tolist() == [2020.0]
    rolls = pd.read_csv(schedule)
    assert rolls.loc[0, ["roll_date", "from_contract", "to_contract", "price_gap"]].tolist() == [
        "2025-03-14",
        "RTYH25",
        "RTYM25",
        20.0,
    ]


def test_continuous_writes_parquet_and_unadjusted_prices(two_contracts: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.parquet"
    assert run(["-q", "data", "continuous", str(two_contracts), "-o", str(output)]) == 0
    bars = load_bars(output)
    assert bars.loc["2025-03-14", "close"] == 2000.0 and bars.loc["2025-03-17", "close"] == 2020.0


@pytest.mark.shared_data
def test_continuous_on_real_rty_contracts(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "rty.csv"
    assert (
        run(["data", "continuous", str(shared_data / "contracts/RTY"), "--root", "RTY", "-o", str(output)])
        == 0
    )
    assert capsys.readouterr().out.startswith("RTY: 279 rows from 11 contract files, 2025-06-23 → 2026-07-31")
    assert load_bars(output)["contract"].unique().tolist() == ["RTYU26"]


@pytest.mark.shared_data
def test_validate_real_rty_daily_names_the_repairs_it_needs(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["data", "validate", str(shared_data / "daily/RTY_F_yahoo_daily.csv")]) == 1
    out = capsys.readouterr().out
    assert "rows      2,173\n" in out
    assert out.endswith("result    FAILED: 2 problem(s); --repair clip,drop_weekend would load it\n")


@pytest.mark.parametrize("action", ["validate", "continuous"])
def test_help_shows_an_example(action: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(["data", action, "--help"])
    assert exit_.value.code == 0
    assert f"rtystrat data {action} " in capsys.readouterr().out


@pytest.mark.parametrize("flag", ["-o", "--schedule"])
def test_continuous_output_that_cannot_be_written_fails_in_one_line_before_reading(
    flag: str, tmp_path: Path
) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()  # empty: reading it would fail with another message
    missing = str(tmp_path / "missing" / "out.csv")
    argv = ["data", "continuous", str(folder), "-o", str(tmp_path / "out.csv"), flag, missing]
    with pytest.raises(ParameterError, match=rf"^{flag} '.*out\.csv': the folder .*missing' does not exist$"):
        run(argv)
