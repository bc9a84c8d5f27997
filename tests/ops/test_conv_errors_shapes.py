"""Convolution/pooling ops: clear errors for bad input, symbolic shape rules, float32 paths."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.core.tensor import SymbolicTensor
from ndflow.errors import InvalidArgumentError


def test_kernel_larger_than_padded_input():
    with pytest.raises(InvalidArgumentError) as e:
        tf.nn.conv2d(tf.ones([1, 3, 3, 1]), tf.ones([5, 5, 1, 2]), 1, "VALID")
    msg = str(e.value)
    assert msg.startswith("conv2d: expected")
    assert "kernel extent 5" in msg and "got input spatial shape [3, 3]" in msg
    # SAME always fits
    assert tf.nn.conv2d(tf.ones([1, 3, 3, 1]), tf.ones([5, 5, 1, 2]), 1, "SAME").shape == \
        [1, 3, 3, 2]
    with pytest.raises(InvalidArgumentError, match="max_pool2d: expected"):
        tf.nn.max_pool2d(tf.ones([1, 2, 2, 1]), 3, 1, "VALID")


def test_channel_mismatch_and_rank_errors():
    with pytest.raises(InvalidArgumentError, match=r"conv2d: expected inputs with 3 channels.*"
                                                   r"got 4 channels"):
        tf.nn.conv2d(tf.ones([1, 5, 5, 4]), tf.ones([3, 3, 3, 2]), 1, "SAME")
    with pytest.raises(InvalidArgumentError, match=r"conv2d: expected an input of rank 4"):
        tf.nn.conv2d(tf.ones([5, 5, 3]), tf.ones([3, 3, 3, 2]), 1, "SAME")
    with pytest.raises(InvalidArgumentError, match="filters of rank 4"):
        tf.nn.conv2d(tf.ones([1, 5, 5, 3]), tf.ones([3, 3, 2]), 1, "SAME")
    with pytest.raises(InvalidArgumentError, match="divisible by groups"):
        tf.nn.conv(tf.ones([1, 5, 5, 4]), tf.ones([3, 3, 2, 3]), groups=2)
    with pytest.raises(InvalidArgumentError, match="padding 'SAME', 'VALID'"):
        tf.nn.conv2d(tf.ones([1, 5, 5, 3]), tf.ones([3, 3, 3, 2]), 1, "FULL")
    with pytest.raises(InvalidArgumentError, match="same dtype|one dtype"):
        tf.nn.conv2d(tf.ones([1, 5, 5, 3]), tf.ones([3, 3, 3, 2], tf.float64), 1, "SAME")
    with pytest.raises(InvalidArgumentError, match="floating-point"):
        tf.nn.conv2d(tf.ones([1, 5, 5, 3], tf.int32), tf.ones([3, 3, 3, 2], tf.int32), 1, "SAME")
    with pytest.raises(InvalidArgumentError, match="max_pool2d: expected an input of rank 4"):
        tf.nn.max_pool2d(tf.ones([5, 5, 3]), 2, 2, "VALID")
    with pytest.raises(InvalidArgumentError, match="data_format"):
        tf.nn.conv2d(tf.ones([1, 5, 5, 3]), tf.ones([3, 3, 3, 2]), 1, "SAME", data_format="HWCN")


def test_conv_transpose_checks_output_shape():
    x = tf.ones([1, 3, 3, 4])
    w = tf.ones([3, 3, 2, 4])
    assert tf.nn.conv2d_transpose(x, w, [1, 6, 6, 2], 2, "SAME").shape == [1, 6, 6, 2]
    assert tf.nn.conv2d_transpose(x, w, [1, 5, 5, 2], 2, "SAME").shape == [1, 5, 5, 2]
    with pytest.raises(InvalidArgumentError, match="conv2d_transpose: expected an input of "
                                                   "spatial shape"):
        tf.nn.conv2d_transpose(x, w, [1, 9, 9, 2], 2, "SAME")
    with pytest.raises(InvalidArgumentError, match="2 channels"):
        tf.nn.conv2d_transpose(x, w, [1, 6, 6, 3], 2, "SAME")


def test_symbolic_shapes():
    x = SymbolicTensor((None, 28, 28, 1), np.float32)
    y = tf.nn.conv2d(x, tf.ones([3, 3, 1, 8]), 1, "VALID")
    assert tuple(y.shape) == (None, 26, 26, 8)
    y = tf.nn.max_pool2d(y, 2, 2, "VALID")
    assert tuple(y.shape) == (None, 13, 13, 8)
    y = tf.nn.avg_pool2d(y, 3, 2, "SAME")
    assert tuple(y.shape) == (None, 7, 7, 8)
    x = SymbolicTensor((None, None, 3), np.float32)
    y = tf.nn.conv1d(x, tf.ones([3, 3, 5]), 2, "SAME")
    assert tuple(y.shape) == (None, None, 5)
    x = SymbolicTensor((None, 3, 10, 10), np.float32)
    y = tf.nn.conv2d(x, tf.ones([3, 3, 3, 4]), 2, "SAME", data_format="NCHW")
    assert tuple(y.shape) == (None, 4, 5, 5)
    with pytest.raises(InvalidArgumentError, match="channels"):
        tf.nn.conv2d(SymbolicTensor((None, 8, 8, 2), np.float32), tf.ones([3, 3, 3, 4]), 1,
                     "SAME")


def test_float32_against_float64():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 9, 9, 5))
    w = rng.standard_normal((3, 3, 5, 7))
    y64 = tf.nn.conv2d(x, w, 2, "SAME").numpy()
    y32 = tf.nn.conv2d(x.astype(np.float32), w.astype(np.float32), 2, "SAME").numpy()
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-4)


def test_second_order_through_conv_and_pool():
    """d/dw of |d loss / dx|^2 exists and matches finite differences."""
    rng = np.random.default_rng(1)
    x = tf.constant(rng.standard_normal((1, 6, 6, 2)))
    w0 = rng.standard_normal((3, 3, 2, 3))

    def f(wv):
        w = tf.constant(wv)
        with tf.GradientTape() as outer:
            outer.watch(w)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.nn.max_pool2d(tf.nn.conv2d(x, w, 1, "SAME"), 2, 2, "VALID")
                loss = tf.reduce_sum(tf.square(y))
            gx = inner.gradient(loss, x)
            q = tf.reduce_sum(tf.square(gx))
        return float(q), outer.gradient(q, w).numpy()

    q, g = f(w0)
    eps = 1e-6
    for idx in [(0, 0, 0, 0), (1, 2, 1, 2), (2, 1, 0, 1)]:
        wp, wm = w0.copy(), w0.copy()
        wp[idx] += eps
        wm[idx] -= eps
        num = (f(wp)[0] - f(wm)[0]) / (2 * eps)
        assert abs(num - g[idx]) < 1e-5 * max(1, abs(num))


def test_batch_chunking_of_the_column_buffer(monkeypatch):
    """Large inputs are convolved a few examples at a time (bounded column buffer): the
    results and gradients do not change."""
    import ndflow.ops.conv as conv_mod

    rng = np.random.default_rng(2)
    x = tf.constant(rng.standard_normal((5, 9, 8, 3)))
    w = tf.constant(rng.standard_normal((3, 3, 3, 4)))

    def run():
        with tf.GradientTape() as tape:
            tape.watch(x)
            tape.watch(w)
            y = tf.nn.conv2d(x, w, 2, "SAME")
            loss = tf.reduce_sum(y * y)
        return [y.numpy()] + [g.numpy() for g in tape.gradient(loss, [x, w])]

    full = run()
    monkeypatch.setattr(conv_mod, "COLUMN_BUFFER_BYTES", 2 * 5 * 4 * 27 * 8)  # 2 examples
    monkeypatch.setattr(conv_mod, "COL2IM_BUFFER_BYTES", 2 * 5 * 4 * 27 * 8)
    chunked = run()
    for a, b in zip(full, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
