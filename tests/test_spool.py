"""Per-run returns spooled to a file: rows written in any order read back as the matrix built in memory,
impossible runs compacted away, the mapping read-only, and slabs equal to the columns they copy."""

from __future__ import annotations

import mmap

import numpy as np
import pytest

from rtystrat.tuning.spool import ReturnsSpool, _mapping, column_chunks


def test_rows_written_out_of_order_map_back_as_the_matrix() -> None:
    rng = np.random.default_rng(1)
    expected = rng.normal(size=(7, 5)).astype(np.float32)
    spool = ReturnsSpool(7, 5)
    for row in (3, 0, 6, 1, 5, 2, 4):
        spool.write(row, expected[row].astype(np.float64))  # stored as float32, as the sweep keeps them
    mapped = spool.mapped()
    np.testing.assert_array_equal(mapped, expected)
    assert mapped.dtype == np.float32 and not mapped.flags.writeable
    assert isinstance(_mapping(mapped.T[:, 2:4]), mmap.mmap)  # views still lead to the file
    with pytest.raises(ValueError, match="read-only"):
        mapped[0, 0] = 1.0


def test_mapped_with_an_order_keeps_only_those_rows_in_that_order() -> None:
    spool = ReturnsSpool(4, 3)
    for row in range(4):
        spool.write(row, np.full(3, row))
    np.testing.assert_array_equal(spool.mapped([0, 2, 3]), [[0, 0, 0], [2, 2, 2], [3, 3, 3]])
    assert ReturnsSpool(0, 3).mapped().shape == (0, 3)


def test_column_chunks_copy_each_slab_as_float64_from_memory_and_from_a_mapping() -> None:
    rng = np.random.default_rng(2)
    matrix = rng.normal(size=(6, 11)).astype(np.float32)
    spool = ReturnsSpool(11, 6)
    for row in range(11):
        spool.write(row, matrix[:, row])
    for source in (matrix, spool.mapped().T):
        starts, slabs = zip(*column_chunks(source, 4), strict=True)
        assert starts == (0, 4, 8)
        assert [slab.shape for slab in slabs] == [(6, 4), (6, 4), (6, 3)]
        assert all(slab.dtype == np.float64 for slab in slabs)
        np.testing.assert_array_equal(np.concatenate(slabs, axis=1), matrix.astype(np.float64))
