"""A sweep stopped by Ctrl-C, SIGTERM or kill -9: it ends promptly, leaves no worker behind, keeps its store.

Each test starts a real ``rtystrat sweep`` on two worker processes (backtrader engine: about a second per
run, so runs are in flight when the signal arrives) and waits for the store to hold finished runs first.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SWEEP = [
    "sweep",
    "bullish_reversal",
    "--engine",
    "backtrader",
    "--grid",
    "stop_offset=5:60:1pt",
    "--workers",
    "2",
]


def _children(pid: int) -> list[int]:
    """Return the ids of the live child processes of `pid` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while being read
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _runs(store: Path) -> int:
    try:
        with sqlite3.connect(store, timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM runs").fetchone()[0]
    except sqlite3.Error:
        return 0  # not created yet


def _start_sweep(tmp_path: Path) -> tuple[subprocess.Popen, Path, list[int]]:
    store = tmp_path / "s.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "rtystrat", "-q", *SWEEP, "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while _runs(store) < 2:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sweep finished no run in 4 minutes"
        time.sleep(0.2)
    workers = _children(process.pid)
    assert len(workers) >= 2, workers
    return process, store, workers


@pytest.mark.parametrize(
    ("signum", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_a_signalled_sweep_exits_within_5_s_without_workers_and_keeps_finished_runs(
    tmp_path: Path, signum: int, code: int, word: str
) -> None:
    process, store, workers = _start_sweep(tmp_path)
    process.send_signal(signum)
    start = time.monotonic()
    try:
        _, err = process.communicate(timeout=5)
    finally:
        process.kill()
    elapsed = time.monotonic() - start
    assert elapsed <= 5.0
    assert process.returncode == code
    assert err.strip() == word
    assert not [pid for pid in workers if _alive(pid)]
    kept = _runs(store)
    assert 2 <= kept < 56
    with sqlite3.connect(store) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_workers_end_within_a_few_seconds_after_their_parent_is_killed(tmp_path: Path) -> None:
    process, store, workers = _start_sweep(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=5)
    deadline = time.monotonic() + 5
    while [pid for pid in workers if _alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)]
    assert _runs(store) >= 2


def test_no_dask_scheduler_at_the_address_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed")
    from rtystrat.cli import main

    argv = [
        "-q",
        "sweep",
        "bullish_reversal",
        "--grid",
        "stop_offset=5,10",
        "--executor",
        "dask://127.0.0.1:9",
    ]
    start = time.monotonic()
    assert main(argv) == 2
    assert time.monotonic() - start < 30
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no Dask scheduler answers at tcp://127.0.0.1:9" in err and "dask scheduler" in err
