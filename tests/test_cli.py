"""The top-level command: help, common switches on either side of the subcommand, one-line errors, pipes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rtystrat.cli import _SUBCOMMANDS, build_parser, main


@pytest.mark.parametrize("command", _SUBCOMMANDS)
def test_every_subcommand_help_shows_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"rtystrat {command}" in capsys.readouterr().out.split("usage:", 1)[1]


@pytest.mark.parametrize("argv", [["-q", "levels"], ["levels", "-q"]])
def test_quiet_is_accepted_before_and_after_the_subcommand(argv: list[str]) -> None:
    args = build_parser().parse_args([*argv, "--data", "x.csv", "--date", "2025-03-13"])
    assert args.quiet is True
    assert args.verbose is False


HEAVY = ("numpy", "pandas", "numba", "backtrader", "matplotlib")


def _heavy_modules_loaded(statements: str) -> list[str]:
    """Return the HEAVY packages a fresh interpreter has imported after running `statements`."""
    code = (
        "import contextlib, io, sys\n"
        "from rtystrat.cli import build_parser, main\n"
        f"{statements}\n"
        f"print(' '.join(name for name in {HEAVY!r} if name in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return proc.stdout.split()


def test_parsing_and_help_import_no_heavy_module() -> None:
    # `rtystrat --help` must start at once: each subcommand imports its heavy modules only when it runs.
    helps = [[], *([name] for name in _SUBCOMMANDS), ["data", "validate"], ["data", "continuous"]]
    statements = (
        f"for argv in {helps!r}:\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        build_parser().parse_args([*argv, '--help'])\n"
        "build_parser().parse_args(['backtest', 'both', '--fill-policy', 'optimistic', '--repair', 'clip'])"
    )
    assert _heavy_modules_loaded(statements) == []


def test_running_a_command_imports_what_it_needs() -> None:
    # The other side of the check above: the same probe sees the modules a run loads.
    statements = "with contextlib.redirect_stdout(io.StringIO()):\n    main(['backtest', '--list'])"
    assert {"numpy", "pandas", "backtrader"} <= set(_heavy_modules_loaded(statements))


def test_user_error_is_one_line_on_stderr_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "no_such_setup"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("rtystrat backtest: error:")
    assert "no_such_setup" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["backtest", "both", "--param", "stop_offset=20", "pts"],
            "rtystrat backtest: error: --param 'stop_offset=20 pts': a value cannot contain an unquoted",
        ),
        (
            ["sweep", "bullish_reversal", "--grid", "stop_offset=5:40:5", "pt"],
            "rtystrat sweep: error: --grid 'stop_offset=5:40:5 pt': a value cannot contain an unquoted",
        ),
        (["backtest", "both", "--json", "o.json", "x"], "rtystrat backtest: error: unrecognized argument"),
    ],
)
def test_a_stray_word_is_named_with_its_command_not_the_top_level_usage(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert "usage:" not in err


def test_reader_closing_the_pipe_ends_quietly() -> None:
    # `rtystrat backtest --list | head`: the reader is gone before the first write.
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run(
        [sys.executable, "-m", "rtystrat", "backtest", "--list"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=120,
    )
    os.close(write_end)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 141


def test_json_is_written_even_when_the_reader_closes_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In this process through main(argv) (the test above runs the real command in a pipe): stdout is a pipe
    # whose reader is gone, line-buffered so that the first line printed meets the broken pipe.
    read_end, write_end = os.pipe()
    os.close(read_end)
    out = tmp_path / "result.json"
    with open(write_end, "w", buffering=1, encoding="utf-8") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        code = main(["backtest", "both", "-q", "--json", str(out)])
        monkeypatch.undo()  # the real stdout back before the pipe closes
    assert code == 141
    assert json.loads(out.read_text())["stats"]["# Trades"] > 0
