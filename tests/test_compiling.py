"""The notice that numba is compiling: once per outermost compilation, none for code already compiled."""

from __future__ import annotations

import numba
import pytest

from rtystrat.data.sample import load_sample
from rtystrat.execution.compiling import COMPILING, while_compiling
from rtystrat.tuning import sweep as sweep_module


def _fresh_pair() -> tuple[numba.core.dispatcher.Dispatcher, numba.core.dispatcher.Dispatcher]:
    """A compiled function and the callee it compiles inside itself, neither compiled yet."""

    @numba.njit
    def callee(x: float) -> float:
        return x * 2.0

    @numba.njit
    def caller(x: float) -> float:
        return callee(x) + 1.0

    return caller, callee


def test_a_compilation_with_its_callees_is_announced_once() -> None:
    caller, callee = _fresh_pair()
    calls: list[str] = []
    with while_compiling(lambda: calls.append("started")):
        assert caller(2.0) == 5.0  # compiles caller, and callee inside it
        assert calls == ["started"]
        assert caller(3.0) == 7.0  # compiled already: nothing to say
        assert calls == ["started"]
        assert callee(1.5) == 3.0  # compiled inside caller for floats
        assert calls == ["started"]
        assert caller(4) == 9.0  # a new signature compiles again
        assert calls == ["started", "started"]
    other, _ = _fresh_pair()
    assert other(1.0) == 3.0  # outside the block: not seen
    assert calls == ["started", "started"]


def test_a_sweep_bar_says_compiling_until_a_run_finishes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # What a first sweep after installing shows while numba compiles the kernel: a run that compiles (here a
    # fresh function, as the kernel's own code is in numba's cache) shows the notice on the bar; the runs
    # after it clear it.
    run_batch = sweep_module._run_batch

    def compiling_first(*args: object) -> list:
        caller, _ = _fresh_pair()
        caller(1.0)
        return run_batch(*args)

    monkeypatch.setattr(sweep_module, "_run_batch", compiling_first)
    bars = load_sample("daily").loc["2020-01-01":]
    grid = {"stop_offset": ["5pt", "10pt"], "rsi_max": ["none"]}
    sweep_module.sweep("bullish_reversal", bars, grid, executor="serial", progress=True)
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    bar = [line for line in lines if "bullish_reversal [kernel]" in line]
    assert any(COMPILING in line for line in bar)
    assert "2/2" in bar[-1] and COMPILING not in bar[-1]
    monkeypatch.undo()
    sweep_module.sweep("bullish_reversal", bars, grid, executor="serial", progress=True)
    assert COMPILING not in capsys.readouterr().err  # nothing compiles: nothing said
