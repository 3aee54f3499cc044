"""The notice that numba is compiling: once per outermost compilation, none for code already compiled."""

from __future__ import annotations

import functools
from typing import Any

import numba
import pytest

from rtystrat.data.sample import load_sample
from rtystrat.execution.compiling import COMPILING, while_compiling
from rtystrat.tuning import sweep as sweep_module
from rtystrat.tuning import walkforward as walkforward_module


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


@pytest.mark.parametrize(
    ("module", "batch", "label"),
    [(sweep_module, "_run_batch", "[kernel]"), (walkforward_module, "_train_batch", "[walk-forward]")],
)
def test_the_progress_bar_says_compiling_until_a_run_finishes(
    module: Any, batch: str, label: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # What a first sweep or walk-forward after installing shows while numba compiles the kernel: a run that
    # compiles (here a fresh function, as the kernel's own code is in numba's cache) shows the notice on the
    # bar; the runs after it clear it.
    run_batch = getattr(module, batch)

    def compiling_first(*args: object) -> Any:
        caller, _ = _fresh_pair()
        caller(1.0)
        return run_batch(*args)

    bars = load_sample("daily").loc["2018-01-01":]
    grid = {"stop_offset": ["5pt", "10pt"], "rsi_max": ["none"]}
    run = functools.partial(
        sweep_module.sweep if module is sweep_module else walkforward_module.walk_forward,
        "bullish_reversal",
        bars,
        grid,
        executor="serial",
        progress=True,
        **({} if module is sweep_module else {"train": 24, "test": 12}),
    )
    monkeypatch.setattr(module, batch, compiling_first)
    run()
    lines = capsys.readouterr().err.replace("\r", "\n").splitlines()
    bar = [line for line in lines if label in line]
    assert any(COMPILING in line for line in bar)
    assert "2/2" in bar[-1] and COMPILING not in bar[-1]
    monkeypatch.undo()
    run()
    assert COMPILING not in capsys.readouterr().err  # nothing compiles: nothing said
