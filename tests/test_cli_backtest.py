"""``rtystrat backtest`` and ``rtystrat.backtest``: runs, JSON output, one-line errors with valid choices."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rtystrat.api
import rtystrat.execution.engine
from rtystrat.api import backtest
from rtystrat.cli import build_parser
from rtystrat.data.sample import load_sample
from rtystrat.errors import DataError, ParameterError, UnknownStrategyError


def run_cli(argv: list[str]) -> int:
    """Run ``rtystrat ARGV``'s handler; errors propagate (``main`` would print them)."""
    args = build_parser().parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The last years of the shipped daily sample as a CSV file."""
    path = tmp_path_factory.mktemp("data") / "sample.csv"
    load_sample("daily").loc["2017-01-01":].to_csv(path)
    return path


def test_backtest_both_on_the_shipped_sample_prints_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["backtest", "both"]) == 0
    out = capsys.readouterr().out
    assert "2008-01-02 → 2025-12-31" in out
    assert "setups: bearish_breakdown, bullish_reversal" in out
    assert "Expectancy [R]" in out


@pytest.mark.parametrize("quiet", [False, True])
def test_a_backtest_longer_than_the_delay_shows_a_progress_bar_over_its_bars_unless_quiet(
    sample_file: Path, quiet: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every run outlasts a zero delay; the bar counts the file's bars, once however many strategies run.
    monkeypatch.setattr(rtystrat.execution.engine, "PROGRESS_DELAY", 0.0)
    rows = len(pd.read_csv(sample_file))
    assert run_cli([*(["--quiet"] if quiet else []), "backtest", "both", "--data", str(sample_file)]) == 0
    err = capsys.readouterr().err
    if quiet:
        assert "bullish_reversal" not in err
    else:
        assert "bullish_reversal+bearish_breakdown: 100%" in err
        assert f"{rows}/{rows}" in err


def test_backtest_with_params_writes_the_documented_json(
    sample_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result.json"
    argv = ["backtest", "bullish_reversal", "--data", str(sample_file), "--json", str(out)]
    argv += [
        "--param",
        "stop_offset=20",
        "--param",
        "rsi_max=none",
        "--param",
        "target=mid",
        "--cash",
        "50000",
    ]
    assert run_cli(argv) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    result = json.loads(out.read_text(encoding="utf-8"))
    assert {"stats", "trades", "equity", "params", "config"} <= set(result)
    assert result["params"]["stop_offset"] == "20pt" and result["params"]["target"] == "mid"
    assert result["params"]["rsi_max"] is None
    assert result["config"]["cash"] == 50000.0
    trade = result["trades"][0]
    assert {
        "setup",
        "direction",
        "entry_time",
        "entry_price",
        "exit_time",
        "exit_price",
        "exit_reason",
    } <= set(trade)
    assert {"contracts", "pnl_points", "pnl_net"} <= set(trade)
    assert trade["setup"] == "bullish_reversal" and trade["entry_time"] >= "2017-01-01"
    assert result["equity"][0][0].startswith("2017-01-03")


def test_backtest_plot_saves_the_equity_figure_titled_with_strategy_data_and_period(
    sample_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rtystrat.plotting

    titles = []
    original = rtystrat.plotting.plot_equity

    def recording(*args: Any, **kwargs: Any) -> Any:
        titles.append(kwargs["title"])
        return original(*args, **kwargs)

    monkeypatch.setattr(rtystrat.plotting, "plot_equity", recording)
    png = tmp_path / "equity.png"
    assert (
        run_cli(["-q", "backtest", "bearish_breakdown", "--data", str(sample_file), "--plot", str(png)]) == 0
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first, last = pd.read_csv(sample_file)["time"].iloc[[0, -1]].str[:10]
    assert titles == [f"bearish_breakdown  sample.csv  {first} – {last}"]


def test_list_shows_every_strategy_with_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["backtest", "--list"]) == 0
    out = capsys.readouterr().out
    assert "bullish_reversal  (" in out and "BullishReversal): Buy the first test of the monthly S2" in out
    assert "    stop_offset=13pt  [" in out and "    max_hold=40 sessions" in out
    assert "groups: both = bullish_reversal + bearish_breakdown" in out


def test_list_names_a_strategy_file_by_its_path_not_its_private_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = Path(__file__).resolve().parents[1] / "strategies" / "bullish_reversal.py"
    text = recipe.read_text(encoding="utf-8").replace('name = "bullish_reversal"', 'name = "my_reversal"')
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "my_reversal.py").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert run_cli(["backtest", "--list", "--strategy-path", "mine"]) == 0
    out = capsys.readouterr().out
    assert "my_reversal  (mine/my_reversal.py:BullishReversal): Buy the first test" in out
    assert "_rtystrat_strategies_" not in out


def test_strategy_path_runs_a_copied_recipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = Path(__file__).resolve().parents[1] / "strategies" / "bullish_reversal.py"
    text = recipe.read_text(encoding="utf-8").replace('name = "bullish_reversal"', 'name = "my_reversal"')
    (tmp_path / "my_reversal.py").write_text(text, encoding="utf-8")
    assert (
        run_cli(["backtest", "my_reversal", "--strategy-path", str(tmp_path), "--start", "2020-01-01"]) == 0
    )
    assert "setups: my_reversal" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "error", "message"),
    [
        (
            ["bulish_reversal"],
            UnknownStrategyError,
            "unknown strategy 'bulish_reversal' (did you mean 'bullish_reversal'?); "
            "available: bearish_breakdown, both, bullish_reversal",
        ),
        (
            ["both", "--param", "stop_ofset=5"],
            ParameterError,
            "unknown parameter 'stop_ofset' (did you mean 'stop_offset'?)",
        ),
        (
            ["both", "--param", "lvl=s2"],
            ParameterError,
            "valid: breakeven, breakeven_offset, entry, entry_band, invalidation, level, max_hold",
        ),
        (
            ["bullish_reversal", "--param", "stop_offset=-13pt"],
            ParameterError,
            "stop_offset='-13pt' is negative: offsets are distances >= 0",
        ),
        (
            ["bullish_reversal", "--param", "target=0pt"],
            ParameterError,
            "target='0pt' must lie above the entry",
        ),
        (
            ["bullish_reversal", "--param", "entry=market"],
            ParameterError,
            "expected one of 'limit', 'bounce'",
        ),
        (
            ["bearish_breakdown", "--param", "bullish_reversal.max_hold=3"],
            ParameterError,
            "strategy 'bullish_reversal' is not selected",
        ),
        (["both", "--param", "stop_offset"], ParameterError, "expected NAME=VALUE"),
        (
            ["both", "--param", "max_hold=3", "--param", "max_hold=4"],
            ParameterError,
            "'max_hold' is given twice",
        ),
        ([], ParameterError, "no strategy given; choose from bearish_breakdown, both, bullish_reversal"),
        (["both", "--contract", "RTX"], ParameterError, "did you mean 'RTY'"),
        (
            ["both", "--data", "no/such/file.csv"],
            FileNotFoundError,
            "--data 'no/such/file.csv' is not a file",
        ),
        (
            ["both", "--fill-policy", "intraday", "--intraday", "."],
            FileNotFoundError,
            "--intraday '.' is not a file",
        ),
        (["both", "--fill-policy", "intraday"], ParameterError, "fill_policy 'intraday' needs intraday bars"),
    ],
)
def test_user_errors_are_one_line_and_list_the_valid_choices(
    argv: list[str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        run_cli(["backtest", *argv])
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("flag", ["--json", "--plot"])
def test_an_output_that_cannot_be_written_fails_before_the_run_in_one_line(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rtystrat.api, "backtest", lambda *args, **kwargs: pytest.fail("the run started"))
    missing = tmp_path / "no" / "such" / "folder" / "out.png"
    with pytest.raises(ParameterError, match=rf"^{flag} '.*out\.png': the folder .*folder' does not exist$"):
        run_cli(["backtest", "both", flag, str(missing)])
    with pytest.raises(ParameterError, match=rf"^{flag} '.*': is a folder, not a file$"):
        run_cli(["backtest", "both", flag, str(tmp_path)])
    assert capsys.readouterr().out == ""


def test_unknown_fill_policy_is_refused_by_the_parser_with_the_choices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        run_cli(["backtest", "both", "--fill-policy", "optimal"])
    assert info.value.code == 2
    assert "choose from pessimistic, optimistic, ohlc_path, intraday" in capsys.readouterr().err.replace(
        "'", ""
    )


def test_intraday_fill_policy_reads_the_minute_sample(capsys: pytest.CaptureFixture[str]) -> None:
    minute = Path(__file__).resolve().parents[1] / "data" / "rty_sample_1min.csv.gz"
    if not minute.is_file():
        pytest.skip(f"{minute} is not in this checkout")
    argv = ["backtest", "bullish_reversal", "--param", "rsi_max=none", "--start", "2025-01-01"]
    assert run_cli([*argv, "--fill-policy", "intraday", "--intraday", str(minute)]) == 0
    assert "# Ambiguous Trades" in capsys.readouterr().out


@pytest.fixture(scope="module")
def february_minutes() -> pd.DataFrame:
    """Two weeks of the 1-minute sample around two ambiguous daily bars (2025-02-24 and 2025-02-26)."""
    return load_sample("minute").loc["2025-02-20":"2025-03-05"]


# Tight brackets on the daily sample: the bars of 2025-02-24 and 02-26 touch both stop and target.
TIGHT = ["--param", "rsi_max=none", "--param", "reentry=true", "--param", "target=20pt"]
TIGHT += ["--param", "stop_offset=10pt", "--param", "entry_band=30pt", "--start", "2025-02-01"]
TIGHT += ["--end", "2025-03-05", "--fill-policy", "intraday"]


def _trades(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["trades"]


def test_intraday_file_in_exchange_time_is_read_with_source_tz(
    tmp_path: Path, february_minutes: pd.DataFrame
) -> None:
    aware, naive = tmp_path / "aware.csv", tmp_path / "naive.csv"
    february_minutes.to_csv(aware)
    february_minutes.tz_localize(None).to_csv(naive)  # Chicago wall-clock times without an offset
    argv = ["-q", "backtest", "bullish_reversal", *TIGHT]
    assert run_cli([*argv, "--intraday", str(aware), "--json", str(tmp_path / "aware.json")]) == 0
    chicago = [
        "--intraday",
        str(naive),
        "--source-tz",
        "America/Chicago",
        "--json",
        str(tmp_path / "tz.json"),
    ]
    assert run_cli([*argv, *chicago]) == 0
    assert run_cli([*argv, "--intraday", str(naive), "--json", str(tmp_path / "utc.json")]) == 0
    expected = _trades(tmp_path / "aware.json")
    assert any(trade["ambiguous"] for trade in expected)
    assert _trades(tmp_path / "tz.json") == expected
    assert _trades(tmp_path / "utc.json") != expected  # read as UTC, the minutes land in the wrong sessions


def test_intraday_file_gets_the_runs_repairs_and_they_are_reported(
    tmp_path: Path, february_minutes: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = february_minutes.copy()
    bad.iloc[3, bad.columns.get_loc("high")] = bad.iloc[3]["low"] - 1.0
    path = tmp_path / "minutes.csv"
    bad.to_csv(path)
    argv = ["backtest", "bullish_reversal", *TIGHT, "--intraday", str(path)]
    assert run_cli(argv) == 0
    err = capsys.readouterr().err
    assert "repaired minutes.csv: clip: 1 row with high below low: line 5 (2025-02-20 00:03:00-06:00)" in err
    with pytest.raises(DataError, match=r"minutes\.csv: high below low at line 5"):
        run_cli([*argv, "--repair", "none"])


def test_python_api_validates_parameters_before_any_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the run started before the parameters were checked")

    monkeypatch.setattr(rtystrat.api, "run_backtest", never)
    monkeypatch.setattr(rtystrat.api, "load_data", never)
    with pytest.raises(ParameterError, match="max_hold=-1 is out of range"):
        backtest("both", max_hold=-1)
    with pytest.raises(UnknownStrategyError):
        backtest("bullish")


def test_python_api_routes_plain_and_prefixed_parameters() -> None:
    result = backtest(
        ["bullish_reversal", "bearish_breakdown"],
        load_sample("daily").loc["2018-01-01":],
        max_hold=7,
        **{"bearish_breakdown.stop_offset": "1.5atr"},
    )
    assert result.params["bullish_reversal"]["max_hold"] == 7
    assert result.params["bearish_breakdown"]["max_hold"] == 7
    assert result.params["bearish_breakdown"]["stop_offset"] == "1.5atr"
    assert result.params["bullish_reversal"]["stop_offset"] == "13pt"


def test_a_copied_recipe_file_is_a_complete_strategy(tmp_path: Path) -> None:
    # The module docstring promises a third setup is one copied file: check that nothing else is needed.
    source = textwrap.dedent(
        """
        from rtystrat.signals import setups
        from rtystrat.execution.strategy import SetupStrategy


        class Wide(SetupStrategy):
            name = "wide_breakdown"
            setup = staticmethod(setups.bearish_breakdown)
            parameters = setups.BEARISH_BREAKDOWN_PARAMETERS.with_defaults(
                stop_offset="2atr", trend_filter=False
            )
        """
    )
    (tmp_path / "wide.py").write_text(source, encoding="utf-8")
    result = backtest("wide_breakdown", strategy_path=[tmp_path])
    assert result.params["stop_offset"] == "2atr" and result.params["trend_filter"] is False
