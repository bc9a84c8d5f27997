"""Sums in NumPy's own order, for compiled loops that must give the NumPy path's bits.

NumPy sums a contiguous row pairwise: blocks of up to 128 in eight running sums, split in halves
(rounded to multiples of 8) above that. `pairwise_program(n)` writes that order down once per
row length (leaves, then additions, in post-order) and `row_sum` replays it inside a compiled
kernel (layer norm, softmax). Over the leading axes of a C-contiguous array with two or more
values per row (a bias gradient), NumPy adds whole rows one after another; `leading_sum` does
the same in one compiled pass, 4x faster than NumPy's one ufunc call per row.

>>> import numpy as np
>>> from ndflow.ops.row_sums import pairwise_program, row_sum
>>> x = np.random.default_rng(0).standard_normal(300).astype(np.float32)
>>> s = row_sum(x, pairwise_program(300), np.empty(64, np.float32), np.float32(0))
>>> bool(s == x.sum())
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.backend import jit

_PROGRAMS: dict[int, Any] = {}


def pairwise_program(n: int) -> Any:
    """NumPy's summation order for a contiguous row of length n, as (kind, start, length)
    rows: kind 0 sums a leaf block, kind 1 adds the two sums on top of the stack."""
    prog = _PROGRAMS.get(n)
    if prog is None:
        ops: list = []

        def walk(lo: int, m: int) -> None:
            if m <= 128:
                ops.append((0, lo, m))
                return
            half = m // 2
            half -= half % 8
            walk(lo, half)
            walk(lo + half, m - half)
            ops.append((1, 0, 0))
        walk(0, n)
        prog = _PROGRAMS[n] = np.array(ops, np.int64)
    return prog


@jit.helper
def row_sum(a: Any, prog: Any, stack: Any, zero: Any) -> Any:
    """The sum of the contiguous row `a` in NumPy's order (`prog` from `pairwise_program`;
    `stack` scratch of >= 64 values; `zero` of the row's dtype)."""
    top = 0
    for k in range(prog.shape[0]):
        if prog[k, 0] == 1:
            top -= 1
            stack[top - 1] = stack[top - 1] + stack[top]
            continue
        lo, n = prog[k, 1], prog[k, 2]
        if n < 8:
            res = zero
            for i in range(lo, lo + n):
                res += a[i]
        else:
            r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
            r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
            m = n - n % 8
            i = 8
            while i < m:
                r0 += a[lo + i]
                r1 += a[lo + i + 1]
                r2 += a[lo + i + 2]
                r3 += a[lo + i + 3]
                r4 += a[lo + i + 4]
                r5 += a[lo + i + 5]
                r6 += a[lo + i + 6]
                r7 += a[lo + i + 7]
                i += 8
            res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < n:
                res += a[lo + i]
                i += 1
        stack[top] = res
        top += 1
    return stack[0]


@jit.kernel
def _column_sums(a, out):  # noqa: ANN001
    """``out = a.sum(axis=0)`` for a 2-D C-contiguous `a`, rows added in order."""
    rows, cols = a.shape
    for c in range(cols):
        out[c] = a[0, c]
    for i in range(1, rows):
        for c in range(cols):
            out[c] += a[i, c]


def takes_leading_sum(row_shape: tuple, dtype: Any) -> bool:
    """Whether `leading_sum` runs its compiled pass on a C-contiguous array whose rows have
    `row_shape` (a size None: not known, so no): compiled kernels on, a float dtype, and two
    or more values per row (with one, NumPy's own pairwise sum of a contiguous run is the
    fast path)."""
    return jit.enabled() and np.dtype(dtype) in (np.float32, np.float64) \
        and None not in row_shape and math.prod(row_shape) >= 2


def leading_sum(a: Any, k: int) -> Any:
    """The sum of `a` over its first `k` axes with NumPy's bits, as a compiled pass, or None
    where that does not apply (see `takes_leading_sum`; also for an array that is not a
    C-contiguous NumPy array, or has no rows).

    >>> a = np.arange(12.0).reshape(2, 3, 2)
    >>> leading_sum(a, 2).tolist() == a.sum(axis=(0, 1)).tolist()
    True
    """
    if not 0 < k < a.ndim or not takes_leading_sum(a.shape[k:], a.dtype) \
            or not jit.accepts(a):
        return None
    rows = math.prod(a.shape[:k])
    if rows < 1:
        return None
    out = np.empty(a.shape[k:], a.dtype)
    _column_sums(a.reshape(rows, out.size), out.reshape(-1))
    return out
