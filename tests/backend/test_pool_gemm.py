"""Products split into single-thread BLAS calls on the pool (backend/pool_gemm.py) and the
graphs that run that way (graph/executor.py: splits_products)."""

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.backend import jit, native_calls, parallel, pool_gemm
from ndflow.graph import executor
from ndflow.ops import linalg
from tests.blas_rounding import assert_equal_up_to_row_splits

needs_split = pytest.mark.skipif(not pool_gemm.available(),
                                 reason="needs numba and NumPy's OpenBLAS GEMM")


@pytest.mark.parametrize("product, splits", [
    ((False, 100, 64, 256), True),      # rows: 16 per call
    ((False, None, 128, 256), True),    # rows: 8 per call, unknown batch
    ((False, None, 256, 256), False),   # 4 rows per call: each call would pack all of b
    ((False, 64, None, 256), True),     # depth: a weight gradient over an unknown batch
    ((False, 128, 784, 512), False),    # W1's layer: NumPy's threads
    ((True, 32, 64, 128), True),        # a stack of single calls
    ((True, 128, 128, 32), False),      # a stack of multi-thread calls
    ((False, 8, 8, 8), True),           # one small call
])
def test_which_products_split(product, splits):
    assert pool_gemm.splits(*product) is splits


def _operands(rng, dtype, m, k, n, ta, tb):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    return (a.T if ta else a), (b.T if tb else b)


@needs_split
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ta, tb", [(False, False), (True, False), (False, True),
                                    (True, True)])
@pytest.mark.parametrize("n_threads", [1, 3])
def test_row_split_is_numpy_product(threads, dtype, ta, tb, n_threads):
    threads(n_threads)
    a, b = _operands(np.random.default_rng(0), dtype, 301, 64, 256, ta, tb)
    got = pool_gemm.matmul(a, b, None, parallel.run_blocks)
    assert got is not None  # 16 rows per call, 19 calls
    assert_equal_up_to_row_splits(got, a @ b)


@needs_split
@pytest.mark.parametrize("dtype, tol", [("float32", 2e-5), ("float64", 1e-12)])
@pytest.mark.parametrize("n_threads", [1, 3])
def test_depth_split_is_numpy_product_within_rounding(threads, dtype, tol, n_threads):
    threads(n_threads)
    rng = np.random.default_rng(1)
    x, dy = (rng.standard_normal((5001, c)).astype(dtype) for c in (64, 256))
    out = np.full((64, 256), np.nan, dtype)
    got = pool_gemm.matmul(x.T, dy, out, parallel.run_blocks)  # x^T dy: a weight gradient
    assert got is out
    want = x.T.astype(np.float64) @ dy.astype(np.float64)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


@needs_split
def test_stack_of_rows_against_one_matrix_and_products_left_to_numpy(threads):
    threads(2)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 50, 64)).astype(np.float32)
    b = rng.standard_normal((64, 128)).astype(np.float32)
    out = np.empty((4, 50, 128), np.float32)
    assert pool_gemm.matmul(a, b, out, parallel.run_blocks) is out
    assert_equal_up_to_row_splits(out, a @ b)
    w1 = rng.standard_normal((784, 512)).astype(np.float32)
    small = rng.standard_normal((4, 64)).astype(np.float32)
    for x, y in ((rng.standard_normal((128, 784)).astype(np.float32), w1),  # W1's layer
                 (small, b),                                              # one call
                 (a[:, ::2], b),                                          # a strided view
                 (a[0], b.astype(np.float64))):                           # mixed dtypes
        assert pool_gemm.matmul(x, y, None, parallel.run_blocks) is None


@needs_split
def test_parallel_matmul_splits_only_inside_a_split_graph(threads, monkeypatch):
    threads(0)
    monkeypatch.delenv("NDFLOW_INTRA_OP_THREADS", raising=False)
    monkeypatch.setattr(parallel, "_environment", 0)
    calls = []
    real = pool_gemm.matmul
    monkeypatch.setattr(pool_gemm, "matmul", lambda *a: calls.append(1) or real(*a))
    a = np.random.default_rng(3).standard_normal((600, 64)).astype(np.float32)
    b = np.ones((64, 256), np.float32)
    outside = parallel.matmul(a, b)
    inside, n = parallel.with_split_products(lambda: (parallel.matmul(a, b),
                                                      parallel.threads()))()
    assert len(calls) == 1 and not parallel.split_products()
    assert n == parallel.usable_cpus()
    assert_equal_up_to_row_splits(inside, outside)


def _graph(fn, *specs):
    return tf.function(fn).get_concrete_function(*specs).graph


@needs_split
def test_graphs_whose_products_all_split_run_split(monkeypatch):
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(native_calls, "blas_threads", lambda: 2)
    f32 = tf.float32
    w = tf.Variable(np.ones((64, 256), np.float32))
    big = tf.Variable(np.ones((784, 512), np.float32))
    kernel = tf.Variable(np.ones((3, 3, 1, 8), np.float32))
    assert executor.splits_products(_graph(lambda x: tf.nn.relu(x @ w),
                                           tf.TensorSpec([512, 64], f32)))
    # a weight gradient (64, batch) @ (batch, 256) splits by depth
    assert executor.splits_products(_graph(lambda x, g: tf.matmul(x, g, transpose_a=True),
                                           tf.TensorSpec([5000, 64], f32),
                                           tf.TensorSpec([5000, 256], f32)))
    assert not executor.splits_products(_graph(lambda x: x @ big,
                                               tf.TensorSpec([128, 784], f32)))
    assert not executor.splits_products(_graph(  # a convolution: NumPy's BLAS threads
        lambda x, h: tf.reduce_sum(tf.nn.conv2d(x, kernel, 1, "VALID")) + tf.reduce_sum(h @ w),
        tf.TensorSpec([64, 28, 28, 1], f32), tf.TensorSpec([512, 64], f32)))
    assert not executor.splits_products(_graph(lambda x: x @ w,  # too small for the pool
                                               tf.TensorSpec([8, 64], f32)))
    with jit.switched(False):
        assert not executor.splits_products(_graph(lambda x: tf.nn.relu(x @ w),
                                                   tf.TensorSpec([512, 64], f32)))
    monkeypatch.setattr(native_calls, "blas_threads", lambda: 1)  # the pool splits already
    assert not executor.splits_products(_graph(lambda x: tf.nn.relu(x @ w),
                                               tf.TensorSpec([512, 64], f32)))
    monkeypatch.setattr(native_calls, "blas_threads", lambda: 2)
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 1)
    assert not executor.splits_products(_graph(lambda x: tf.nn.relu(x @ w),
                                               tf.TensorSpec([512, 64], f32)))


@pytest.mark.parametrize("equation, shapes", [
    ("abc,cde->abde", [(4, 16, 32), (32, 2, 8)]),    # EinsumDense
    ("abde,cde->abc", [(4, 16, 2, 8), (32, 2, 8)]),  # its input gradient
    ("abde,abc->cde", [(4, 16, 2, 8), (4, 16, 32)]),  # its kernel gradient
    ("bij,bjk->bik", [(3, 5, 6), (3, 6, 7)]),         # a stack
    ("ij,kj->ki", [(5, 6), (7, 6)]),                  # operands trade places
    ("abc,c->ab", [(4, 5, 6), (6,)]),
])
def test_einsum_blas_trait_describes_the_product_it_runs(monkeypatch, equation, shapes):
    seen = []
    real = linalg.mm
    monkeypatch.setattr(linalg, "mm", lambda xp, x, y: seen.append((x.shape, y.shape))
                        or real(xp, x, y))
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ins, out = equation.split("->")
    attrs = {"ins": tuple(ins.split(",")), "out": out}
    got = linalg._einsum_fwd(np, *arrays, **attrs)
    np.testing.assert_allclose(got, np.einsum(equation, *arrays), rtol=1e-5, atol=1e-5)
    (x, y), = seen
    ((stacked, m, k, n),) = linalg._einsum_blas(attrs, [(s, np.float32) for s in shapes])
    assert (m, k, n) == (x[-2], x[-1], y[-1])
    assert stacked == (len(y) > 2)


@needs_split
def test_a_recurrent_model_trains_the_same_split(monkeypatch):
    monkeypatch.setattr(parallel, "usable_cpus", lambda: 2)
    monkeypatch.setattr(native_calls, "blas_threads", lambda: 2)
    x = np.random.default_rng(5).integers(0, 50, (256, 20))
    y = (x[:, :1] > 25).astype("float32")
    real = executor.splits_products

    def train(split):
        seen = []
        monkeypatch.setattr(executor, "splits_products",
                            lambda g: seen.append(split and real(g)) or seen[-1])
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((20,), dtype="int32"),
                                  keras.layers.Embedding(50, 64), keras.layers.LSTM(64),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy")
        return model.fit(x, y, batch_size=128, epochs=2, verbose=0).history["loss"], seen

    split, seen = train(True)
    assert True in seen  # the train step's products split
    plain, seen = train(False)
    assert True not in seen
    np.testing.assert_allclose(split, plain, rtol=1e-5)
