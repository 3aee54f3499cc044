"""Say when numba compiles: the first sweep after installing or upgrading rtystrat compiles the kernel for
about half a minute, during which no run finishes and a progress bar would otherwise stand still.

numba's event API reports each compilation as it starts and ends; a function's callees compile inside it,
so only the outermost one counts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from numba.core import event

__all__ = ["COMPILING", "announce_compiling", "while_compiling"]

#: What a progress bar shows while numba compiles.
COMPILING = "compiling the kernel (once after installing or upgrading: about half a minute)"


class _Compilations(event.Listener):
    """Calls `started` whenever numba starts a compilation that is not a callee's inside another."""

    def __init__(self, started: Callable[[], None]) -> None:
        self._started = started
        self._depth = 0

    def on_start(self, event: event.Event) -> None:
        self._depth += 1
        if self._depth == 1:
            self._started()

    def on_end(self, event: event.Event) -> None:
        self._depth -= 1


@contextlib.contextmanager
def while_compiling(started: Callable[[], None]) -> Iterator[None]:
    """Call `started` whenever numba starts compiling a function inside the block (its callees, compiled
    within it, do not call it again).

    Compilations in other processes (the workers of a pool) are not seen; a sweep runs its first run, the
    one that compiles, in the calling process.
    """
    with event.install_listener("numba:compile", _Compilations(started)):
        yield


@contextlib.contextmanager
def announce_compiling(bar: Any) -> Iterator[Callable[[], None]]:
    """Show :data:`COMPILING` on the tqdm progress bar `bar` whenever numba starts compiling in the block;
    yield the function to call when a run finishes, which clears it (a disabled bar shows nothing)."""
    shown = False

    def started() -> None:
        nonlocal shown
        shown = True
        bar.set_postfix_str(COMPILING)

    def ran() -> None:
        nonlocal shown
        if shown:
            shown = False
            bar.set_postfix_str("", refresh=False)

    with while_compiling(started):
        yield ran
