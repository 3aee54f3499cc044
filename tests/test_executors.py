"""Executors: how :func:`rtystrat.tuning.executors.stream` cuts work into batches (guided self-scheduling),
and how forked workers reach the data."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pytest

from rtystrat.tuning.executors import Payload, open_executor, payload_data, stream


def _batches(
    items: Iterable[int], *, batch_size: int, max_pending: int, total: int | Callable[[], int] | None
) -> list[tuple[int, ...]]:
    """Return the batches `stream` submits, in the order of their items (`items` rise: submission order)."""

    def echo(job: Any, reference: Any, batch: list[int]) -> list[tuple[int, ...]]:
        return [tuple(batch)]

    with open_executor("serial", None, None) as (executor, reference):
        return sorted(
            stream(
                executor, echo, None, reference, items, batch_size=batch_size, max_pending=max_pending,
                total=total,
            )
        )  # fmt: skip


def test_guided_batches_cover_every_item_once_and_shrink_to_single_items() -> None:
    batches = _batches(range(1000), batch_size=64, max_pending=4, total=1000)
    assert [item for batch in batches for item in batch] == list(range(1000))
    sizes = [len(batch) for batch in batches]
    # ceil(left / (2 * 4)) capped at 64: 64 while more than 512 are left; 8 batches of 64 leave 488 -> 61
    assert sizes[:9] == [64] * 8 + [61]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-8:] == [1] * 8  # the last 8 items (8 = 2 * max_pending) go one by one: no long last batch


def test_a_bound_that_drops_as_done_items_are_skipped_keeps_the_last_batches_small() -> None:
    # As a resumed sweep does: 990 of 1,000 runs are found done (in a store) before the first one to run.
    skipped = 0

    def todo() -> Iterable[int]:
        nonlocal skipped
        for item in range(1000):
            if item < 990:
                skipped += 1
            else:
                yield item

    batches = _batches(todo(), batch_size=64, max_pending=4, total=lambda: 1000 - skipped)
    # 10 left: ceil(10 / 8) = 2 twice (10, then 8 left -> 1), then one by one
    assert [len(batch) for batch in batches] == [2] + [1] * 8
    assert [item for batch in batches for item in batch] == list(range(990, 1000))
    # A bound that never learns of the skipped items puts all ten in one batch.
    assert _batches((i for i in range(1000) if i >= 990), batch_size=64, max_pending=4, total=1000) == [
        tuple(range(990, 1000))
    ]


def test_without_a_total_every_batch_but_the_last_holds_batch_size_items() -> None:
    batches = _batches(range(10), batch_size=4, max_pending=2, total=None)
    assert batches == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9)]
    assert _batches([], batch_size=4, max_pending=2, total=0) == []


class _Unpicklable:
    """Data that fail if pickled: what reaches a worker must get there some other way."""

    def __init__(self) -> None:
        self.values = np.arange(1_000, dtype=np.float64)

    def __reduce__(self) -> Any:
        raise TypeError("the data were pickled")


def _read(job: Any, reference: Any, batch: list[int]) -> list[tuple[int, int, int, float]]:
    """Worker task: per item, this process, the address of the data's values and their sum."""
    values = payload_data(reference).values
    return [(item, os.getpid(), values.ctypes.data, float(values.sum())) for item in batch]


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="only forked workers inherit data")
def test_forked_workers_read_the_data_in_place_never_a_copy_per_task() -> None:
    data = _Unpicklable()
    with open_executor("process", 2, Payload("test", data)) as (pool, reference):
        results = list(stream(pool, _read, None, reference, range(40), batch_size=4, max_pending=4, total=40))
    assert sorted(item for item, *_ in results) == list(range(40))
    assert {pid for _, pid, _, _ in results} - {os.getpid()}  # the tasks ran in the workers ...
    assert {address for _, _, address, _ in results} == {data.values.ctypes.data}  # ... on the parent's pages
    assert {total for *_, total in results} == {999 * 1_000 / 2}
