"""Comparing results whose matrix products were split into blocks of rows.

A product split into row blocks is the same BLAS call on fewer rows. Whether that gives the
very same bits depends on the BLAS kernel NumPy's OpenBLAS picks for the CPU: on some it does
(every row summed the same way), on others (OpenBLAS's Haswell kernels on an AMD EPYC, seen
here) a row is rounded differently depending on how many rows the call has. The checks below
ask for bitwise equality where the machine's BLAS gives it and for agreement to float rounding
elsewhere, so they hold on every CPU and stay strict where they can.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def row_splits_are_exact(dtype: str) -> bool:
    """Whether NumPy's matmul gives the same bits on a block of rows as on the whole matrix."""
    rng = np.random.default_rng(0)
    for m, k, n in ((700, 64, 256), (40, 9, 36), (96, 40, 160)):
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        whole = a @ b
        for r0, r1 in ((0, 1), (0, 17), (5, 58), (m // 3, m)):
            if not np.array_equal(a[r0:r1] @ b, whole[r0:r1]):
                return False
    return True


def assert_equal_up_to_row_splits(got, want, err_msg: str = "", ulps: int = 64) -> None:
    """`got` equals `want` bitwise where row splits are exact on this machine; elsewhere
    within `ulps` units of the largest magnitude in `want` (float rounding, not garbage)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, err_msg
    if want.dtype.kind != "f" or row_splits_are_exact(want.dtype.name):
        np.testing.assert_array_equal(got, want, err_msg=err_msg)
        return
    finite = np.isfinite(want)
    np.testing.assert_array_equal(np.isfinite(got), finite, err_msg=err_msg)
    np.testing.assert_array_equal(got[~finite], want[~finite], err_msg=err_msg)
    scale = float(np.max(np.abs(want[finite]), initial=0.0))
    tol = ulps * np.finfo(want.dtype).eps * max(scale, np.finfo(want.dtype).tiny)
    np.testing.assert_allclose(got[finite], want[finite], rtol=0, atol=tol, err_msg=err_msg)
