"""Matrix products as single-thread BLAS calls spread over ndflow's own thread pool.

NumPy's OpenBLAS runs a product of more than 2**18 multiply-adds on all its threads, and its
idle threads then spin for about 0.1 s, holding the cores that ndflow's pool would use for its
other kernels (an LSTM's recurrence, attention heads, large element-wise passes). ndflow never
changes NumPy's BLAS thread count, but a call of at most 2**18 multiply-adds runs on the
calling thread whatever that count is. So a product ``a @ b`` (b one matrix) is cut into such
calls, made from compiled loops on the pool's threads:

- by rows: blocks of a's rows, each a loop of calls on ``2**18 // (k * n)`` rows (at least
  `MIN_ROWS`; a transposed `b` is copied contiguous first: OpenBLAS's small-product kernels
  read a transposed operand slowly);
- by depth (few output rows and columns and a long sum, as in a weight gradient): the sum's two
  halves, each a loop of calls accumulating into its own buffer, added at the end.

A compiled graph whose products all split runs in this mode (`graph/executor.py` decides from
the ops' ``blas`` traits, see `splits`); any other graph leaves its products to NumPy's BLAS
threads and keeps the pool to one thread, as before. A row split gives NumPy's values (rows are
independent; some BLAS kernels round a row differently with the call's row count); a depth
split adds in another order, within float rounding of NumPy's.

>>> import numpy as np
>>> from ndflow.backend import pool_gemm
>>> pool_gemm.splits(False, None, 64, 256), pool_gemm.splits(False, 128, 784, 512)
(True, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.backend import jit, native_calls

__all__ = ["CALL_WORK", "MIN_ROWS", "available", "worth_splitting", "splits", "matmul"]

# OpenBLAS (interface/gemm.c) runs a GEMM of at most 65536 * GEMM_MULTITHREAD_THRESHOLD (4)
# multiply-adds on the calling thread.
CALL_WORK = 1 << 18
# Fewer rows per call than this and packing b for every call costs more than the split gains.
MIN_ROWS = 8
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def available() -> bool:
    """Whether products can be split here: compiled kernels on and NumPy's GEMM found."""
    return jit.enabled() and native_calls.gemm(np.float32) is not None


def worth_splitting() -> bool:
    """Whether a graph's products should split here: they can (`available`), there is more
    than one usable CPU, and NumPy's BLAS has more than one thread (with one, the pool already
    splits products in large blocks: `parallel.product`)."""
    from ndflow.backend import parallel

    return parallel.usable_cpus() > 1 and available() \
        and (native_calls.blas_threads() or 1) > 1


def splits(stacked: bool, m: int | None, k: int | None, n: int | None) -> bool:
    """Whether an (m, k) @ (k, n) product (None: a size not known) runs as single-thread
    calls: one call, or a split by rows or by depth. `stacked`: a stack of products against a
    stack of matrices, one NumPy call each (never split)."""
    if None not in (m, k, n) and m * k * n <= CALL_WORK:
        return True
    if stacked:
        return False
    if k is not None and n is not None and k * n * MIN_ROWS <= CALL_WORK:
        return True
    return m is not None and n is not None and m * n * MIN_ROWS <= CALL_WORK


@jit.kernel
def _row_calls(gemm, ta, lda, a, tb, ldb, b, out, n, k, r0, r1, isz, bias,  # noqa: ANN001
               has_bias):  # noqa: ANN001
    """out[r0:r1] = A[r0:r1] @ B (+ bias, added to each call's rows while they are in
    cache) in calls of CALL_WORK // (k * n) rows; `out` is the (m, n) array, A and B
    addresses."""
    step = max(1, CALL_WORK // (k * n))
    for s in range(r0, r1, step):
        e = min(s + step, r1)
        off = s * lda * isz if ta == _NO_TRANS else s * isz
        gemm(_ROW_MAJOR, ta, tb, e - s, n, k, 1.0, a + off, lda, b, ldb, 0.0,
             out[s:].ctypes.data, n)
        if has_bias:
            for i in range(s, e):
                row = out[i]
                for j in range(n):
                    row[j] = row[j] + bias[j]


@jit.kernel
def _depth_calls(gemm, ta, lda, a, tb, ldb, b, out, m, n, k0, k1, isz):  # noqa: ANN001
    """out = A[:, k0:k1] @ B[k0:k1] in calls of CALL_WORK // (m * n) steps of the sum, each
    adding into `out`."""
    step = max(1, CALL_WORK // (m * n))
    beta = 0.0
    for s in range(k0, k1, step):
        e = min(s + step, k1)
        a_off = s * isz if ta == _NO_TRANS else s * lda * isz
        b_off = s * ldb * isz if tb == _NO_TRANS else s * isz
        gemm(_ROW_MAJOR, ta, tb, m, n, e - s, 1.0, a + a_off, lda, b + b_off, ldb, beta, out,
             n)
        beta = 1.0


def _layout(x: np.ndarray) -> tuple | None:
    """(cblas transpose flag, leading dimension) of a 2-D operand, or None when neither axis
    has unit stride."""
    isz = x.itemsize
    s0, s1 = x.strides
    if s1 == isz and s0 % isz == 0 and s0 >= x.shape[1] * isz:
        return _NO_TRANS, s0 // isz
    if s0 == isz and s1 % isz == 0 and s1 >= x.shape[0] * isz:
        return _TRANS, s1 // isz
    return None


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None, run_blocks: Any,
           bias: np.ndarray | None = None) -> np.ndarray | None:
    """``a @ b`` (float32/float64, `b` one matrix, `a` of rank >= 2), plus `bias` (one per
    column, or None), split into single-thread calls over `run_blocks`
    (`parallel.run_blocks`); None when this product does not split (the caller then uses
    NumPy)."""
    gemm = native_calls.gemm(a.dtype)
    if gemm is None or b.ndim != 2 or a.ndim < 2 or b.dtype != a.dtype or (
            bias is not None and (type(bias) is not np.ndarray or bias.shape != (b.shape[1],)
                                  or bias.dtype != a.dtype)):
        return None
    k, n = b.shape
    if a.ndim > 2:
        shape = a.shape[:-1] + (n,)
        if not a.flags.c_contiguous or (out is not None and (
                out.shape != shape or not out.flags.c_contiguous)):
            return None
        out = np.empty(shape, a.dtype) if out is None else out
        done = matmul(a.reshape(-1, k), b, out.reshape(-1, n), run_blocks, bias)
        return None if done is None else out
    m = a.shape[0]
    if m * k * n <= CALL_WORK or (out is not None and (
            out.shape != (m, n) or not out.flags.c_contiguous)):
        return None
    la, lb = _layout(a), _layout(b)
    if la is None or lb is None:
        return None
    out = np.empty((m, n), a.dtype) if out is None else out
    isz = a.itemsize
    if k * n * MIN_ROWS <= CALL_WORK:
        if lb[0] == _TRANS:
            b = np.ascontiguousarray(b)
            lb = (_NO_TRANS, n)
        rows = _row_calls.function
        vec = out[0] if bias is None else bias
        run_blocks(lambda r0, r1: rows(gemm, la[0], la[1], a.ctypes.data, lb[0], lb[1],
                                       b.ctypes.data, out, n, k, r0, r1, isz, vec,
                                       bias is not None),
                   m, CALL_WORK // (k * n))
        return out
    if m * n * MIN_ROWS <= CALL_WORK:
        parts = (out, np.empty_like(out))
        bounds = (0, k // 2, k)
        depth = _depth_calls.function

        def halves(p0: int, p1: int) -> None:
            for p in range(p0, p1):
                depth(gemm, la[0], la[1], a.ctypes.data, lb[0], lb[1], b.ctypes.data,
                      parts[p].ctypes.data, m, n, bounds[p], bounds[p + 1], isz)

        run_blocks(halves, 2, 1)
        np.add(out, parts[1], out=out)
        if bias is not None:
            np.add(out, bias, out=out)
        return out
    return None
