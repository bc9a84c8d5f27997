"""Intra-op parallelism: one kernel's independent rows split across a small pool of threads.

NumPy's ufunc loops, its matmul and ndflow's compiled loops release the GIL, so a kernel whose
rows are independent (the batch rows of a recurrent layer's time loop, the rows of a softmax)
runs on several cores when the threads take contiguous blocks of rows. The calling thread and
the pool's threads take blocks from a shared counter. A block is never smaller than the
caller's `min_rows`, so small inputs stay on one thread, and a call from inside a block runs
serially (no nested fan-out).

The number of threads is `ndflow.config.threading.set_intra_op_parallelism_threads`, else the
environment variable ``NDFLOW_INTRA_OP_THREADS`` (as TensorFlow reads
``TF_NUM_INTRAOP_THREADS``), else one per usable CPU divided by NumPy's BLAS threads: OpenBLAS
keeps its idle threads spinning on the cores for about 0.1 s after each multi-threaded
product, so with its default of one thread per core the pool's threads would only compete
with them (measured: no gain on W3, twice the CPU time); with ``OPENBLAS_NUM_THREADS=1`` the
pool gets the cores. A compiled graph whose products all split into single-thread BLAS calls
(`pool_gemm`; `with_split_products`) never wakes BLAS's threads: there the pool has one
thread per usable CPU. Each block computes exactly what one thread would compute for those rows,
so results do not depend on the split except through what BLAS does with a matrix's row
count.

>>> import numpy as np
>>> from ndflow.backend import parallel
>>> x = np.arange(12.0).reshape(6, 2)
>>> out = np.empty_like(x)
>>> parallel.run_blocks(lambda a, b: np.multiply(x[a:b], 2, out=out[a:b]), 6, min_rows=1)
>>> out[:, 0].tolist()
[0.0, 4.0, 8.0, 12.0, 16.0, 20.0]
"""

from __future__ import annotations

import itertools
import math
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

_requested = 0  # 0: one thread per usable CPU
_workers: list[queue.SimpleQueue] = []
_pool_lock = threading.Lock()


class _ThreadState(threading.local):
    """Per thread: `inside` a block of `run_blocks`; running a graph whose products `split`."""

    inside = False
    split = False


_local = _ThreadState()


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _from_environment() -> int:
    try:
        return max(0, int(os.environ.get("NDFLOW_INTRA_OP_THREADS", "0")))
    except ValueError:
        return 0


_environment = _from_environment()
_default: int | None = None


def default_threads() -> int:
    """The pool's size when none is set: usable CPUs not already used by NumPy's BLAS."""
    global _default
    if _default is None:
        from ndflow.backend import native_calls

        blas = native_calls.blas_threads() or 1
        _default = max(1, usable_cpus() // max(1, blas))
    return _default


def forget_default() -> None:
    """Work the default out again (after BLAS's thread count changed)."""
    global _default
    _default = None


def threads() -> int:
    """The number of threads one kernel may use (the caller's included)."""
    return _requested or _environment or (
        usable_cpus() if _local.split else default_threads())


def split_products() -> bool:
    """Whether this thread is running a graph whose products split into single-thread BLAS
    calls on the pool (`pool_gemm`), which then has one thread per usable CPU."""
    return _local.split


def with_split_products(fn: Callable) -> Callable:
    """`fn` run with its products split (`split_products`); the graph executor wraps a
    compiled graph in this when all of its products split."""
    def run(*args: Any) -> Any:
        before = _local.split
        _local.split = True
        try:
            return fn(*args)
        finally:
            _local.split = before

    return run


def set_threads(n: int) -> None:
    """Use `n` threads per kernel (0: one per usable CPU). Takes effect on the next kernel."""
    global _requested
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(
            "set_intra_op_parallelism_threads: expected a thread count >= 0 (0 lets ndflow "
            f"choose: one per CPU), got {n!r}")
    _requested = n


def requested_threads() -> int:
    """What was set with `set_threads` (0 when ndflow chooses)."""
    return _requested


def _serve(tasks: queue.SimpleQueue) -> None:
    _local.inside = True
    while True:
        job, done = tasks.get()
        try:
            job()
            done.put(None)
        except BaseException as exc:  # handed to the caller, which re-raises it
            done.put(exc)


def _pool(n: int) -> list[queue.SimpleQueue]:
    if len(_workers) < n:
        with _pool_lock:
            while len(_workers) < n:
                tasks: queue.SimpleQueue = queue.SimpleQueue()
                threading.Thread(target=_serve, args=(tasks,), daemon=True,
                                 name=f"ndflow-intra-op-{len(_workers)}").start()
                _workers.append(tasks)
    return _workers


def _forget_pool() -> None:  # a forked child has none of its parent's threads
    _workers.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


# Blocks per thread: the threads take blocks from a shared counter, so a thread that gets
# less of its core (another process, or BLAS's own idle threads spinning) takes fewer blocks.
_BLOCKS_PER_THREAD = 4


def _serial() -> bool:
    """Whether a call runs on the calling thread alone: a pool of one thread, or a call made
    from inside a block (no nested fan-out)."""
    return threads() == 1 or _local.inside


def blocks(n_rows: int, min_rows: int) -> int:
    """How many blocks `run_blocks` splits `n_rows` rows into (each of >= `min_rows` rows)."""
    if _serial():
        return 1
    return max(1, min(threads() * _BLOCKS_PER_THREAD, n_rows // max(1, min_rows)))


def run_blocks(fn: Callable[[int, int], Any], n_rows: int, min_rows: int) -> None:
    """Call ``fn(start, stop)`` on contiguous blocks covering ``range(n_rows)``, in parallel.

    `fn` must only write rows start:stop of its outputs. The blocks depend only on `n_rows`,
    `min_rows` and the thread count, not on which thread runs them. Exceptions from any block
    are raised here (the first one), after every block has finished.
    """
    k = blocks(n_rows, min_rows)
    if k == 1:
        fn(0, n_rows)
        return
    bounds = [n_rows * i // k for i in range(k + 1)]
    order = itertools.count()  # next() on it is atomic under the GIL

    def take() -> None:
        while (i := next(order)) < k:
            fn(bounds[i], bounds[i + 1])

    helpers = min(threads(), k) - 1
    done: queue.SimpleQueue = queue.SimpleQueue()
    workers = _pool(helpers)
    for i in range(helpers):
        workers[i].put((take, done))
    error: BaseException | None = None
    _local.inside = True
    try:
        take()
    except BaseException as exc:
        error = exc
    finally:
        _local.inside = False
    for _ in range(helpers):
        result = done.get()
        if error is None and result is not None:
            error = result
    if error is not None:
        raise error


# A block of a product gets at least this many multiply-adds: below it the block's call costs
# more than it gains.
_MIN_BLOCK_WORK = 1 << 20


def matmul(a: Any, b: Any, out: Any = None, bias: Any = None) -> Any:
    """``numpy.matmul(a, b, out=out)``, then ``+ bias`` in place when `bias` (one value per
    output column) is given: the same float operations as the two ops. In a graph whose
    products split (`split_products`) the product is single-thread BLAS calls on the pool
    (`pool_gemm`, the bias added to each block of rows while it is in cache) where it splits,
    else NumPy's; elsewhere it is `product` (below).

    >>> import numpy as np
    >>> matmul(np.ones((2, 3)), np.ones((3, 2)), bias=np.array([1.0, 2.0])).tolist()
    [[4.0, 5.0], [4.0, 5.0]]
    """
    import numpy as np

    if not _local.split:
        r = product(a, b, out)
    else:
        if not _serial() and type(a) is np.ndarray and type(b) is np.ndarray \
                and (bias is None or type(bias) is np.ndarray):
            from ndflow.backend import pool_gemm

            done = pool_gemm.matmul(a, b, out, run_blocks, bias)
            if done is not None:
                return done
        r = np.matmul(a, b, out=out)
    if bias is None:
        return r
    return np.add(r, bias, out=r) if type(r) is np.ndarray else r + bias


def product(a: Any, b: Any, out: Any = None) -> Any:
    """``numpy.matmul(a, b, out=out)``, with a large product's rows (or its stack of products)
    split across the pool when the pool has more than one thread (with NumPy's BLAS on one
    thread, ``OPENBLAS_NUM_THREADS=1``: see `default_threads`). Each block is the same BLAS
    call on fewer rows: NumPy's values, bitwise where the BLAS kernel rounds a row the same
    whatever the call's row count (not all do: OpenBLAS's Haswell kernels on AMD EPYC round
    some rows differently, within float rounding).

    >>> import numpy as np
    >>> a, b = np.ones((4, 3)), np.ones((3, 2))
    >>> product(a, b).tolist()
    [[3.0, 3.0], [3.0, 3.0], [3.0, 3.0], [3.0, 3.0]]
    """
    import numpy as np

    if type(a) is not np.ndarray or type(b) is not np.ndarray or a.ndim < 2 or b.ndim < 2 \
            or a.dtype != b.dtype or a.dtype.kind != "f" \
            or (b.ndim > 2 and (a.ndim != b.ndim or a.shape[:-2] != b.shape[:-2])):
        return np.matmul(a, b, out=out)
    K, N = a.shape[-1], b.shape[-1]
    shape = a.shape[:-1] + (N,)
    if out is not None and out.shape != shape:
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty(shape, a.dtype)
    if b.ndim == 2 and a.flags.c_contiguous and out.flags.c_contiguous:
        # every row of a against one matrix, as one GEMM (NumPy's matmul makes one call per
        # leading index, each a small product that a multi-threaded BLAS splits again)
        a, out2 = a.reshape(-1, K), out.reshape(-1, N)
        per_row = N * K
    else:
        out2 = out
        per_row = math.prod(a.shape[1:]) * N  # a slab along the first axis
    n_rows = a.shape[0]
    if _serial() or n_rows * per_row < 2 * _MIN_BLOCK_WORK:
        np.matmul(a, b, out=out2)
        return out
    if a.ndim == 2 and b.ndim == 2 and n_rows < 256:
        if n_rows < 32:  # a few rows: one call
            np.matmul(a, b, out=out2)
            return out
        # few rows (a weight gradient x.T @ dy): blocks of b's columns, so that the blocks
        # do not each read all of b; one block per thread, as each block packs all of a
        # again (with four per thread, the W3 weight gradients took 1.5x as long)
        def columns(c0: int, c1: int) -> None:
            np.matmul(a, b[:, c0:c1], out=out2[:, c0:c1])

        run_blocks(columns, N, max(16, -(-N // threads()),
                                   -(-_MIN_BLOCK_WORK // (n_rows * K))))
        return out
    stacked = b.ndim > 2

    def block(r0: int, r1: int) -> None:
        np.matmul(a[r0:r1], b[r0:r1] if stacked else b, out=out2[r0:r1])

    run_blocks(block, n_rows, max(1, -(-_MIN_BLOCK_WORK // per_row)))
    return out


# A block of an element-wise kernel gets at least this many elements; smaller kernels are
# called directly (the graph compiler emits the split call only from this size on).
_MIN_BLOCK_ELEMENTS = 1 << 16
ELEMENTWISE_SPLIT_SIZE = 2 * _MIN_BLOCK_ELEMENTS


def flat_loop(loop: Callable, arrays: list, *scalars: Any) -> None:
    """``loop(*arrays, *scalars)`` for a compiled element-wise loop over 1-D arrays of one
    length (an optimizer's update), the arrays split into blocks across the pool when large;
    the values are the loop's.

    >>> import numpy as np
    >>> def double(x, out):
    ...     out[:] = 2 * x
    >>> x = np.arange(3.0)
    >>> out = np.empty(3)
    >>> flat_loop(double, [x, out])
    >>> out.tolist()
    [0.0, 2.0, 4.0]
    """
    n = arrays[0].size
    if n < ELEMENTWISE_SPLIT_SIZE or _serial():
        loop(*arrays, *scalars)
        return
    run_blocks(lambda r0, r1: loop(*[a[r0:r1] for a in arrays], *scalars), n,
               _MIN_BLOCK_ELEMENTS)


def elementwise(kernel: Callable, out: Any, shape: tuple, dtype: Any, *args: Any) -> Any:
    """``kernel(*args, out=out)`` for an element-wise kernel (a ufunc) whose result has
    `shape`, with the first axis split across the pool when it is large and the pool has more
    than one thread; `out` None allocates the result. Operands broadcast along the first axis
    (fewer dimensions, or length 1) go whole to every block; values are the kernel's.

    >>> import numpy as np
    >>> elementwise(np.add, None, (3,), np.float64, np.ones(3), 1.0).tolist()
    [2.0, 2.0, 2.0]
    """
    import numpy as np

    size = math.prod(shape)
    if _serial() or not shape or shape[0] < 2 \
            or size < 2 * _MIN_BLOCK_ELEMENTS:
        return kernel(*args) if out is None else kernel(*args, out=out)
    if out is None:
        out = np.empty(shape, dtype)
    n, ndim = shape[0], len(shape)
    split = [isinstance(a, np.ndarray) and a.ndim == ndim and a.shape[0] == n for a in args]

    def block(r0: int, r1: int) -> None:
        kernel(*[a[r0:r1] if s else a for a, s in zip(args, split)], out=out[r0:r1])

    run_blocks(block, n, max(1, -(-_MIN_BLOCK_ELEMENTS // (size // n))))
    return out
