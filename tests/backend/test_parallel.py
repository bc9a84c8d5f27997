"""Intra-op parallelism (backend/parallel.py) and tf.config.threading."""

import threading

import numpy as np
import pytest

import ndflow as tf
from ndflow.backend import parallel
from tests.blas_rounding import assert_equal_up_to_row_splits


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
    if blas_before is not None:  # the pool splits the products; BLAS runs on one thread
        assert native_calls.blas_threads() == 1
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


@pytest.mark.parametrize("sa, sb", [
    ((700, 64), (64, 256)),            # rows of a
    ((64, 6400), (6400, 256)),         # few rows: blocks of b's columns
    ((20, 4096), (4096, 128)),         # very few rows: one call
    ((32, 128, 128), (128, 256)),      # a stack against one matrix
    ((2, 10, 4096), (4096, 128)),      # a stack of very few rows: one call
    ((64, 32, 128), (64, 128, 32)),    # a stack of products
    ((8, 4, 64, 32), (8, 4, 32, 64)),
    ((5, 3), (3, 2)),                  # small: one call
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "out"])
@pytest.mark.parametrize("n_threads", [1, 3])
def test_pool_matmul_is_numpys_matmul(threads, sa, sb, dtype, layout, n_threads):
    """Bitwise NumPy's product where this machine's BLAS rounds a row the same whatever the
    call's row count, else to float rounding (see tests/blas_rounding.py); on one thread a
    stack against one matrix is one GEMM over all its rows."""
    threads(n_threads)
    rng = np.random.default_rng(0)
    a = rng.standard_normal(sa).astype(dtype)
    b = rng.standard_normal(sb).astype(dtype)
    ref = np.matmul(a, b)
    if layout == "transposed":  # a as the transposed view of a contiguous array
        a = np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)
    out = np.full(ref.shape, np.nan, dtype) if layout == "out" else None
    got = parallel.matmul(a, b, out)
    assert_equal_up_to_row_splits(got, ref)
    if out is not None:
        assert got is out


def test_pool_matmul_leaves_other_operands_to_numpy(threads):
    threads(3)
    a = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(parallel.matmul(a, a.T), a @ a.T)  # integers
    x = np.ones((300, 300), np.float32)
    np.testing.assert_array_equal(parallel.matmul(x, x.astype(np.float64)), x @ x)


def test_training_is_the_same_on_one_thread_and_on_three(threads):
    """A convnet and an LSTM trained a few steps with the pool on 1 and on 3 threads end with
    the same weights: bit for bit where BLAS calls on fewer rows give the same values (the
    blocks depend on the thread count only through those), else to float rounding."""
    from ndflow import keras

    rng = np.random.default_rng(0)
    images = rng.random((96, 12, 12, 1), dtype=np.float32)
    tokens = rng.integers(0, 50, (96, 9))
    labels = rng.integers(0, 2, 96)

    def train(n):
        threads(n)
        keras.utils.set_random_seed(1)
        img = keras.Input((12, 12, 1))
        seq = keras.Input((9,), dtype="int32")
        h = keras.layers.Flatten()(keras.layers.MaxPooling2D(2)(
            keras.layers.Conv2D(8, 3, activation="relu")(img)))
        s = keras.layers.LSTM(40)(keras.layers.Embedding(50, 16)(seq))
        out = keras.layers.Dense(2, activation="softmax")(keras.layers.Concatenate()([h, s]))
        model = keras.Model([img, seq], out)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit([images, tokens], labels, batch_size=48, epochs=2, verbose=0, shuffle=False)
        return [w.copy() for w in model.get_weights()]

    one, three = train(1), train(3)
    for a, b in zip(one, three):
        assert_equal_up_to_row_splits(b, a)


@pytest.mark.parametrize("with_out", [False, True])
def test_pool_elementwise_splits_the_first_axis_and_broadcasts_the_rest(threads, with_out):
    threads(3)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 40, 30)).astype(np.float32)   # split along axis 0
    bias = rng.standard_normal(30).astype(np.float32)           # fewer dimensions: whole
    rowscale = rng.standard_normal((1, 40, 1)).astype(np.float32)  # length 1: whole
    def fused(a, b, c, out=None):  # a stand-in for a generated kernel: ufunc calls only
        r = np.multiply(a, c, out=out)
        return np.add(r, b, out=r)

    out = np.empty_like(x) if with_out else None
    got = parallel.elementwise(fused, out, x.shape, x.dtype, x, bias, rowscale)
    np.testing.assert_array_equal(got, x * rowscale + bias)
    assert got.shape == x.shape and (out is None or got is out)
    assert parallel.blocks(300, -(-parallel._MIN_BLOCK_ELEMENTS // 1200)) > 1


def test_compiled_functions_give_the_same_values_with_the_pool(threads):
    import ndflow as tf

    rng = np.random.default_rng(3)
    x = tf.constant(rng.standard_normal((512, 600)).astype(np.float32))
    w = tf.constant(rng.standard_normal((600, 600)).astype(np.float32) * 0.05)
    b = tf.constant(rng.standard_normal(600).astype(np.float32))

    def f(x, w, b):  # one large fused element-wise group after a matmul
        y = tf.matmul(x, w)
        return tf.nn.gelu(y + b) * tf.sigmoid(y) - 0.5 * y

    results = []
    for n in (1, 3):
        threads(n)
        fn = tf.function(f)
        results.append(fn(x, w, b).numpy())
    assert "_pew(" in fn.get_concrete_function(x, w, b).code  # the split kernel call
    assert_equal_up_to_row_splits(results[1], results[0])
