"""Intra-op parallelism (backend/parallel.py) and tf.config.threading."""

import threading

import numpy as np
import pytest

import ndflow as tf
from ndflow.backend import parallel


@pytest.fixture
def threads():
    before = parallel.requested_threads()
    yield parallel.set_threads
    parallel.set_threads(before)


@pytest.mark.parametrize("n_threads, n_rows, min_rows, blocks", [
    (4, 64, 16, 4), (4, 64, 32, 2), (4, 10, 16, 1), (1, 64, 1, 1), (3, 7, 1, 7),
    (2, 1000, 1, 8)])
def test_blocks_cover_the_rows_once_and_respect_the_minimum(threads, n_threads, n_rows,
                                                            min_rows, blocks):
    threads(n_threads)
    seen, names = [], set()
    lock = threading.Lock()

    def fn(a, b):
        with lock:
            seen.append((a, b))
            names.add(threading.current_thread().name)

    parallel.run_blocks(fn, n_rows, min_rows)
    seen.sort()
    assert len(seen) == blocks == parallel.blocks(n_rows, min_rows)
    assert seen[0][0] == 0 and seen[-1][1] == n_rows
    assert all(a[1] == b[0] for a, b in zip(seen, seen[1:]))
    assert all(b - a >= min(min_rows, n_rows) for a, b in seen)
    assert 1 <= len(names) <= min(n_threads, blocks)


def test_a_slow_thread_takes_fewer_blocks(threads):
    """Threads take blocks from a shared counter: while one block is held up, the other
    threads take the rest."""
    threads(2)
    release = threading.Event()
    by_thread: dict = {}
    lock = threading.Lock()

    def fn(a, b):
        name = threading.current_thread().name
        with lock:
            first = not by_thread
            by_thread.setdefault(name, []).append(a)
        if first:  # the first block waits until every other block is done
            release.wait(timeout=30)
        elif sum(map(len, by_thread.values())) == 8:
            release.set()

    parallel.run_blocks(fn, 8, 1)
    counts = sorted(len(v) for v in by_thread.values())
    assert counts == [1, 7]


def test_an_error_in_any_block_reaches_the_caller_after_all_blocks_ran(threads):
    threads(3)
    done = []

    def fn(a, b):
        done.append(a)
        if a == 0:
            raise KeyError("block 0")

    with pytest.raises(KeyError, match="block 0"):
        parallel.run_blocks(fn, 9, 3)
    assert sorted(done) == [0, 3, 6]


def test_a_call_from_inside_a_block_runs_serially(threads):
    threads(2)
    inner = []

    def fn(a, b):
        inner.append(parallel.blocks(100, 1))

    parallel.run_blocks(fn, 100, 1)
    assert inner == [1] * parallel.blocks(100, 1) and len(inner) == 8


def test_config_threading_sets_and_gets_the_count(threads):
    from ndflow.backend import native_calls

    blas_before = native_calls.blas_threads()
    tf.config.threading.set_intra_op_parallelism_threads(3)
    assert tf.config.threading.get_intra_op_parallelism_threads() == 3
    assert parallel.threads() == 3
    if blas_before is not None:  # NumPy's OpenBLAS follows (TF's setting covers its GEMMs)
        assert native_calls.blas_threads() == 3
    tf.config.threading.set_intra_op_parallelism_threads(0)
    assert parallel.threads() == parallel.default_threads()
    assert native_calls.blas_threads() == blas_before
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_intra_op_parallelism_threads.*>= 0"):
            tf.config.threading.set_intra_op_parallelism_threads(bad)


def test_numpy_work_in_blocks_equals_the_serial_result(threads):
    threads(4)
    x = np.random.default_rng(0).standard_normal((200, 33)).astype(np.float32)
    out = np.empty_like(x)
    parallel.run_blocks(lambda a, b: np.tanh(x[a:b], out=out[a:b]), len(x), 8)
    np.testing.assert_array_equal(out, np.tanh(x))


@pytest.mark.parametrize("value, blas, expected", [
    ("3", "1", 3), ("0", "1", "cpus"), ("x", "1", "cpus"), ("", "1", "cpus"),
    ("", "64", 1)])
def test_the_default_leaves_blas_its_cores_and_the_environment_overrides(value, blas,
                                                                        expected):
    import os
    import subprocess
    import sys

    env = dict(os.environ, NDFLOW_INTRA_OP_THREADS=value, OPENBLAS_NUM_THREADS=blas)
    out = subprocess.run(
        [sys.executable, "-c", "from ndflow.backend import parallel, native_calls; "
         "print(parallel.threads(), parallel.usable_cpus(), native_calls.blas_threads())"],
        env=env, capture_output=True, text=True, check=True).stdout.split()
    got, cpus = int(out[0]), int(out[1])
    if out[2] == "None":
        pytest.skip("NumPy's BLAS thread count is not readable here")
    want = cpus if expected == "cpus" else expected
    if blas == "64":  # OpenBLAS caps its threads at the CPUs: none left for the pool
        want = max(1, cpus // int(out[2]))
    assert got == want
