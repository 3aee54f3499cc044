"""Every code block of the README runs as written, from a folder outside the checkout.

Each block runs in a fresh temporary folder laid out as a user's would be: a copy of the shipped sample in
``data/`` and, beside the folder, ``../shared/data`` pointing at the real market files (blocks that name them
carry the ``shared_data`` marker and skip without them). Python blocks run in a fork of one interpreter
started outside the checkout that has imported the installed package's backtest (numpy, pandas, numba,
backtrader) and nothing else: nothing from the checkout is importable unless the installed package makes it
so, no block sees what another did, and the blocks share the seconds those imports take (a block still
imports every name it uses itself). A ``text`` block that starts with ``$ command`` is a transcript: the
command's output must match it. The blocks that install the project or run the suite itself are what
``.ci/run`` does; they are not rerun here, and each says why below.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent

# Commands that are the installation or the suite itself: .ci/run runs exactly these.
NOT_RERUN = {
    "python3 -m venv": "installs the project in a fresh virtualenv: .ci/run does it",
    "python -m pytest": "runs this very suite",
    "ruff ": "lints the checkout: .ci/run does it",
    "bash .ci/run": "is the CI entry point that runs this suite",
    "python -m rtystrat.data.sample": "regenerates the sample: tests/test_sample.py does it, comparing bytes",
}
# Imports the package's backtest once, then runs each block it is sent in a fork of itself: one JSON
# line in (code, name, folder, output files), one line out (the fork's exit status). Warnings are errors, as
# in the suite; backtrader's own deprecated idioms are not ours to fix.
RUNNER = """\
import json, os, sys, traceback, warnings
import rtystrat.api
for line in sys.stdin:
    block = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.chdir(block["cwd"])
        for fd, path in ((1, block["stdout"]), (2, block["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="backtrader")
        status = 0
        try:
            exec(compile(block["code"], block["name"], "exec"), {"__name__": "__main__"})
        except SystemExit as exc:  # as a script would end
            status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except BaseException:
            traceback.print_exc()
            status = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""
# Sweeps and walk-forward over whole grids (the CLI's with backtrader confirmation): a minute or more each.
# The HTML report of 18 years with the price chart: about 10 s of CPU (tests/test_report.py covers the
# command on the default run).
SLOW_COMMANDS = (
    "rtystrat sweep",
    "rtystrat walkforward",
    "rtystrat report",
    "rtystrat.sweep(",
    "rtystrat.walk_forward(",
)
LISTING = "a listing of the package's folders, not program output"


class Block(NamedTuple):
    language: str
    line: int  # line of the opening fence in README.md
    code: str


def readme_blocks() -> list[Block]:
    """Return the fenced code blocks of the README in order."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in re.finditer(r"^```(\w+)\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL):
        line = text.count("\n", 0, match.start()) + 1
        blocks.append(Block(match.group(1), line, match.group(2)))
    return blocks


def _param(block: Block) -> pytest.param:
    marks = [pytest.mark.shared_data] if "../shared/data" in block.code else []
    if any(command in block.code for command in SLOW_COMMANDS):
        marks.append(pytest.mark.slow)
    return pytest.param(block, id=f"{block.language}-line{block.line}", marks=marks)


def _params(*languages: str) -> list[pytest.param]:
    return [_param(block) for block in readme_blocks() if block.language in languages]


@pytest.fixture
def workdir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A user's folder outside the checkout: the sample in ``data/``, real files at ``../shared/data``."""
    if request.node.get_closest_marker("shared_data"):
        shared = request.getfixturevalue("shared_data")  # skips with its reason when the files are absent
        (tmp_path / "shared").mkdir()
        (tmp_path / "shared" / "data").symlink_to(shared, target_is_directory=True)
    work = tmp_path / "work"
    shutil.copytree(ROOT / "data", work / "data")  # a copy: a block may regenerate it
    return work


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # the `rtystrat` script of this install
    env["MPLBACKEND"] = "Agg"
    env.pop("PYTHONPATH", None)
    return env


def shell_commands(code: str) -> list[str]:
    """Split a bash block into commands: comment lines dropped, ``\\`` continuations joined."""
    commands: list[str] = []
    pending = ""
    for raw in code.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        commands.append(pending + line)
        pending = ""
    return commands


def expected_exit(command: str) -> int:
    """The exit status a command's trailing comment announces (``# ..., exit 1``), else 0."""
    comment = command.partition(" #")[2]
    found = re.search(r"\bexit (\d+)", comment)
    return int(found.group(1)) if found else 0


def test_readme_blocks_are_found_and_have_known_languages() -> None:
    blocks = readme_blocks()
    assert {block.language for block in blocks} <= {"python", "bash", "text"}
    assert sum(block.language == "python" for block in blocks) >= 5
    assert sum(block.language == "bash" for block in blocks) >= 4


def test_shell_commands_join_continuations_and_read_the_announced_exit() -> None:
    code = (
        "# a comment\nrtystrat sweep x --grid a=1 \\\n    --grid b=2\n\nrtystrat data validate f  # exit 1\n"
    )
    assert shell_commands(code) == [
        "rtystrat sweep x --grid a=1 --grid b=2",
        "rtystrat data validate f  # exit 1",
    ]
    assert [expected_exit(command) for command in shell_commands(code)] == [0, 1]


@pytest.fixture(scope="module")
def python_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[str]]:
    """The interpreter whose forks run the Python blocks, started in an empty folder outside the checkout."""
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER],
        cwd=tmp_path_factory.mktemp("runner"),
        env=_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    yield runner
    runner.communicate(timeout=60)  # end of input: it exits


@pytest.mark.parametrize("block", _params("python"))
def test_python_block_runs_as_written_outside_the_checkout(
    block: Block, workdir: Path, python_runner: subprocess.Popen[str]
) -> None:
    assert python_runner.stdin is not None and python_runner.stdout is not None
    stdout, stderr = workdir.parent / "stdout.txt", workdir.parent / "stderr.txt"
    request = {
        "code": block.code,
        "name": f"README.md:{block.line}",
        "cwd": str(workdir),
        "stdout": str(stdout),
        "stderr": str(stderr),
    }
    python_runner.stdin.write(json.dumps(request) + "\n")
    python_runner.stdin.flush()
    status = python_runner.stdout.readline()
    assert status.strip() == "0", stderr.read_text()[-3000:] if stderr.exists() else "the runner died"


@pytest.mark.parametrize("block", _params("bash"))
def test_bash_block_runs_as_written_outside_the_checkout(block: Block, workdir: Path) -> None:
    ran = 0
    for command in shell_commands(block.code):
        if any(command.startswith(prefix) for prefix in NOT_RERUN):
            continue
        done = subprocess.run(
            ["bash", "-c", command], cwd=workdir, env=_env(), capture_output=True, text=True, check=False
        )
        assert done.returncode == expected_exit(command), f"{command}\n{done.stderr[-3000:]}"
        ran += 1
    if ran == 0:
        pytest.skip("; ".join(sorted({NOT_RERUN[p] for p in NOT_RERUN if p in block.code})))


@pytest.mark.parametrize("block", _params("text"))
def test_text_block_transcript_matches_the_command_output(block: Block, workdir: Path) -> None:
    lines = block.code.splitlines()
    if not lines[0].startswith("$ "):
        pytest.skip(LISTING)
    command = lines[0][2:]
    done = subprocess.run(
        shlex.split(command), cwd=workdir, env=_env(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shown = [line.rstrip() for line in lines[1:]]
    printed = [line.rstrip() for line in done.stdout.splitlines()]
    assert printed == shown
