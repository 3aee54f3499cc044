"""Per-run returns kept out of the process's memory: spooled to a temporary file, mapped back read-only.

A 10,000-run sweep over 5,000 days keeps 191 MiB of float32 returns; held in memory they would be most of
the sweep's peak, and a larger grid would need more. :class:`ReturnsSpool` writes each run's row to an
unnamed temporary file (page cache the operating system can reclaim, not the process's resident memory) and
maps the file back as a read-only array. :func:`column_chunks` reads such an array a slab of runs at a time
and then tells the operating system the mapped pages are no longer needed (``madvise(MADV_DONTNEED)``), so
code that reads every run — the overfitting diagnostics — keeps one slab resident, whatever the grid size.
"""

from __future__ import annotations

import mmap
import os
import tempfile
import weakref
from collections.abc import Iterator, Sequence

import numpy as np

__all__ = ["ReturnsSpool", "column_chunks"]

#: Runs read at a time by :func:`column_chunks`: 256 runs × 5,000 days is 10 MiB of float64.
CHUNK_RUNS = 256


class ReturnsSpool:
    """A (runs × periods) float32 matrix written row by row to an unnamed temporary file.

    Rows never written read as 0. :meth:`mapped`, called once when every row is written, returns the matrix
    as a read-only array mapped from the file; the mapping keeps the file alive after the spool is gone, and
    the file disappears with the last array that maps it.
    """

    def __init__(self, rows: int, periods: int) -> None:
        self.shape = (rows, periods)
        self._row_bytes = periods * np.dtype(np.float32).itemsize
        # Not a with-block: the file lives as long as the spool (closed when the spool is collected, or
        # by mapped(), whose mapping keeps its own reference to it).
        self._file = tempfile.TemporaryFile(prefix="rtystrat-returns-")  # noqa: SIM115
        weakref.finalize(self, self._file.close)
        self._file.truncate(rows * self._row_bytes)

    def write(self, row: int, values: np.ndarray) -> None:
        """Write `values` (one run's returns) as row `row`."""
        data = np.ascontiguousarray(values, dtype=np.float32).tobytes()
        os.pwrite(self._file.fileno(), data, row * self._row_bytes)

    def read(self, row: int) -> np.ndarray:
        """Return row `row` (a copy)."""
        data = os.pread(self._file.fileno(), self._row_bytes, row * self._row_bytes)
        return np.frombuffer(data, dtype=np.float32).copy()

    def mapped(self, order: Sequence[int] | None = None) -> np.ndarray:
        """Return the rows — all, or those of `order` in that order — as a read-only mapped array."""
        rows, periods = self.shape
        if order is not None and list(order) != list(range(rows)):
            compact = ReturnsSpool(len(order), periods)  # row by row: never the whole matrix in memory
            for new, old in enumerate(order):
                compact.write(new, self.read(old))
            self._file.close()
            return compact.mapped()
        if rows * periods == 0:  # a file of no bytes cannot be mapped
            self._file.close()
            return np.empty(self.shape, dtype=np.float32)
        buffer = mmap.mmap(self._file.fileno(), rows * self._row_bytes, access=mmap.ACCESS_READ)
        self._file.close()  # the mapping holds its own reference to the file
        return np.frombuffer(buffer, dtype=np.float32).reshape(self.shape)


def column_chunks(matrix: np.ndarray, width: int = CHUNK_RUNS) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first column, float64 copy of up to `width` columns)`` of a periods × runs `matrix`.

    When `matrix` is mapped from a file (:meth:`ReturnsSpool.mapped`), the mapped pages are released after
    each slab, so reading every column keeps one slab resident rather than the whole file.
    """
    mapping = _mapping(matrix)
    for start in range(0, matrix.shape[1], width):
        yield start, matrix[:, start : start + width].astype(np.float64)
        if mapping is not None:
            mapping.madvise(mmap.MADV_DONTNEED)  # read-only file pages: read again from the file if needed


def _mapping(values: np.ndarray) -> mmap.mmap | None:
    """The memory map an array's data come from, if any (following views and buffers)."""
    base: object = values
    while base is not None and not isinstance(base, mmap.mmap):
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return base
