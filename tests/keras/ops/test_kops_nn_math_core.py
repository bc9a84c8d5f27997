"""keras.ops nn / math / core / linalg ops against NumPy references."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import ops

rng = np.random.default_rng(1)
X = rng.normal(size=(3, 5)).astype(np.float32)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


# --- nn ------------------------------------------------------------------------------------------


def test_activations_match_formulas():
    sig = 1 / (1 + np.exp(-X))
    refs = {
        "relu": np.maximum(X, 0), "relu6": np.clip(X, 0, 6), "sigmoid": sig,
        "softplus": np.log1p(np.exp(X)), "softsign": X / (1 + np.abs(X)), "silu": X * sig,
        "swish": X * sig, "log_sigmoid": np.log(sig),
        "leaky_relu": np.where(X > 0, X, 0.2 * X),
        "hard_sigmoid": np.clip(X / 6 + 0.5, 0, 1),
        "hard_silu": X * np.clip(X / 6 + 0.5, 0, 1), "hard_swish": X * np.clip(X / 6 + 0.5, 0, 1),
        "elu": np.where(X > 0, X, np.expm1(X)),
        "selu": 1.0507009873554805 * np.where(X > 0, X, 1.6732632423543772 * np.expm1(X)),
        "celu": np.maximum(X, 0) + np.minimum(0, np.expm1(X)),
        "gelu": 0.5 * X * (1 + np.tanh(np.sqrt(2 / np.pi) * (X + 0.044715 * X ** 3))),
    }
    for name, want in refs.items():
        got = getattr(ops, name)(X)
        assert got.dtype.name == "float32", name
        close(got, want, rtol=1e-5, atol=1e-5)
    exact = 0.5 * X * (1 + np.vectorize(math.erf)(X / np.sqrt(2)))
    close(ops.gelu(X, approximate=False), exact, atol=1e-5)
    a, b = np.split(np.concatenate([X, X[:, :1]], 1), 2, axis=1)
    close(ops.glu(np.concatenate([X, X[:, :1]], 1)), a / (1 + np.exp(-b)), atol=1e-6)
    assert ops.relu(np.array([1, -2], np.int32)).dtype.name == "float32"
    more = {
        "hard_tanh": np.clip(X, -1, 1), "hard_shrink": np.where(np.abs(X) > 0.5, X, 0),
        "soft_shrink": np.where(X > 0.5, X - 0.5, np.where(X < -0.5, X + 0.5, 0)),
        "tanh_shrink": X - np.tanh(X), "squareplus": (X + np.sqrt(X * X + 4)) / 2,
        "sparse_plus": np.where(X <= -1, 0, np.where(X >= 1, X, (X + 1) ** 2 / 4)),
        "sparse_sigmoid": np.clip((X + 1) / 2, 0, 1),
    }
    for name, want in more.items():
        close(getattr(ops, name)(X), want, atol=1e-6)
    close(ops.threshold(X, 0.1, -3.0), np.where(X > 0.1, X, -3.0))
    sm = np.asarray(ops.sparsemax(X * 3))
    close(sm.sum(-1), np.ones(3), atol=1e-6)
    assert (sm >= 0).all()


def test_softmax_log_softmax_axes():
    t3 = rng.normal(size=(2, 3, 4)).astype(np.float32)
    close(ops.softmax(t3), _softmax(t3))
    close(ops.softmax(t3, axis=1), _softmax(t3, 1))
    e = np.exp(t3 - t3.max(axis=(1, 2), keepdims=True))
    close(ops.softmax(t3, axis=(1, 2)), e / e.sum(axis=(1, 2), keepdims=True))
    close(ops.log_softmax(t3, axis=0), np.log(_softmax(t3, 0)), atol=1e-5)
    close(ops.log_softmax(t3, axis=(0, 2)), np.log(e := np.exp(t3) / np.exp(t3).sum(
        axis=(0, 2), keepdims=True)), atol=1e-5)
    assert e.shape == t3.shape


def test_one_hot_multi_hot():
    oh = ops.one_hot(np.array([0, 2, -1, 5]), 3)
    assert oh.dtype.name == "float32"
    close(oh, [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    oh1 = ops.one_hot(np.array([[0, 1]]), 3, axis=1, dtype="int32")
    assert oh1.dtype.name == "int32" and tuple(oh1.shape) == (1, 3, 2)
    close(oh1, np.moveaxis(np.eye(3, dtype=np.int32)[[[0, 1]]], -1, 1))
    mh = ops.multi_hot(np.array([[0, 2], [1, 1]]), 4)
    close(mh, [[1, 0, 1, 0], [0, 1, 0, 0]])
    close(ops.multi_hot(np.array([3, 0]), 4), [1, 0, 0, 1])


def test_crossentropies():
    p = _softmax(X)
    labels = np.array([1, 0, 4])
    y = np.eye(5, dtype=np.float32)[labels]
    want = -np.log(p[np.arange(3), labels])
    close(ops.categorical_crossentropy(y, p), want, rtol=1e-5)
    close(ops.categorical_crossentropy(y, X, from_logits=True), want, rtol=1e-5)
    close(ops.sparse_categorical_crossentropy(labels, p), want, rtol=1e-5)
    close(ops.sparse_categorical_crossentropy(labels, X, from_logits=True), want, rtol=1e-5)
    close(ops.sparse_categorical_crossentropy(labels[:, None], X, from_logits=True), want,
          rtol=1e-5)
    close(ops.categorical_crossentropy(y.T, X.T, from_logits=True, axis=0), want, rtol=1e-5)
    close(ops.sparse_categorical_crossentropy(labels, X.T, from_logits=True, axis=0), want,
          rtol=1e-5)
    # un-normalised probabilities are renormalised along the axis, as Keras does
    close(ops.categorical_crossentropy(y, p * 3.0), want, rtol=1e-5)
    t = (rng.uniform(size=X.shape) > 0.5).astype(np.float32)
    s = 1 / (1 + np.exp(-X))
    bce = -(t * np.log(s) + (1 - t) * np.log(1 - s))
    close(ops.binary_crossentropy(t, s), bce, rtol=1e-4, atol=1e-6)
    close(ops.binary_crossentropy(t, X, from_logits=True), bce, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        ops.categorical_crossentropy(labels, p)


def test_moments_batchnorm_normalize():
    mean, var = ops.moments(X, axes=[0])
    close(mean, X.mean(0))
    close(var, X.var(0), rtol=1e-5)
    mean, var = ops.moments(X, axes=(0, 1), keepdims=True)
    assert tuple(mean.shape) == (1, 1)
    close(var, X.var(keepdims=True), rtol=1e-5)
    mu, v = X.mean(0), X.var(0)
    gamma, beta = np.full(5, 2.0, np.float32), np.full(5, 0.5, np.float32)
    close(ops.batch_normalization(X, mu, v, axis=-1, offset=beta, scale=gamma, epsilon=1e-3),
          (X - mu) / np.sqrt(v + 1e-3) * gamma + beta, rtol=1e-5, atol=1e-5)
    close(ops.normalize(X), X / np.linalg.norm(X, axis=-1, keepdims=True), atol=1e-6)
    close(ops.normalize(X, axis=0, order=1), X / np.abs(X).sum(0, keepdims=True), atol=1e-6)
    close(ops.normalize(X, order=np.inf), X / np.abs(X).max(-1, keepdims=True), atol=1e-6)
    close(ops.rms_normalization(X, scale=2.0, epsilon=1e-6),
          X / np.sqrt((X * X).mean(-1, keepdims=True) + 1e-6) * 2.0, rtol=1e-5)
    g, b = np.linspace(0.5, 1.5, 5).astype(np.float32), np.full(5, 0.1, np.float32)
    mu, sd = X.mean(-1, keepdims=True), X.var(-1, keepdims=True)
    close(ops.layer_normalization(X, g, b, epsilon=1e-5), (X - mu) / np.sqrt(sd + 1e-5) * g + b,
          rtol=1e-5, atol=1e-5)
    y = X + 0.1
    assert float(ops.psnr(X, y, 2.0)) == pytest.approx(
        20 * np.log10(2.0) - 10 * np.log10(np.mean((X - y) ** 2)), rel=1e-5)


def test_conv_and_pools():
    x = rng.normal(size=(2, 7, 3)).astype(np.float32)
    w = rng.normal(size=(3, 3, 4)).astype(np.float32)
    want = np.stack([np.einsum("bkc,kco->bo", x[:, i:i + 3], w) for i in range(5)], 1)
    close(ops.conv(x, w), want, rtol=1e-4, atol=1e-5)
    assert tuple(ops.conv(x, w, padding="same").shape) == (2, 7, 4)
    assert tuple(ops.conv(x, w, strides=2).shape) == (2, 3, 4)
    dw = rng.normal(size=(3, 3, 2)).astype(np.float32)
    want_dw = np.stack([np.einsum("bkc,kcm->bcm", x[:, i:i + 3], dw).reshape(2, 6)
                        for i in range(5)], 1)
    close(ops.depthwise_conv(x, dw), want_dw, rtol=1e-4, atol=1e-5)
    img = rng.normal(size=(2, 4, 6, 3)).astype(np.float32)
    blocks = img.reshape(2, 2, 2, 3, 2, 3)
    close(ops.max_pool(img, 2), blocks.max(axis=(2, 4)))
    close(ops.average_pool(img, (2, 2), strides=(2, 2)), blocks.mean(axis=(2, 4)), atol=1e-6)
    close(ops.max_pool(np.moveaxis(img, -1, 1), 2, data_format="channels_first"),
          np.moveaxis(blocks.max(axis=(2, 4)), -1, 1))


# --- math ----------------------------------------------------------------------------------------


def test_math_ops():
    lse = np.log(np.exp(X).sum(1))
    close(ops.logsumexp(X, axis=1), lse, rtol=1e-5)
    close(ops.logsumexp(X, axis=1, keepdims=True), lse[:, None], rtol=1e-5)
    close(ops.logsumexp(X), np.log(np.exp(X).sum()), rtol=1e-5)
    vals, idx = ops.top_k(X, 2)
    order = np.argsort(-X, axis=1)[:, :2]
    close(vals, np.take_along_axis(X, order, 1))
    assert idx.dtype.name == "int32"
    np.testing.assert_array_equal(np.asarray(idx), order)
    targets = np.array([0, 3, 1])
    want = np.array([(X[i] > X[i, targets[i]]).sum() < 2 for i in range(3)])
    np.testing.assert_array_equal(np.asarray(ops.in_top_k(targets, X, 2)), want)
    data = rng.normal(size=(6, 2)).astype(np.float32)
    seg = np.array([0, 2, 0, 1, 2, 2])
    close(ops.segment_sum(data, seg), np.stack([data[seg == s].sum(0) for s in range(3)]),
          atol=1e-6)
    close(ops.segment_sum(data, seg, num_segments=4)[3], [0, 0])
    close(ops.segment_max(data, seg), np.stack([data[seg == s].max(0) for s in range(3)]))
    assert float(ops.segment_max(data, seg, num_segments=4)[3, 0]) == np.finfo(np.float32).min
    close(ops.erf(X), np.vectorize(math.erf)(X), atol=1e-6)
    close(ops.rsqrt(np.abs(X) + 0.1), 1 / np.sqrt(np.abs(X) + 0.1), rtol=1e-5)
    assert ops.erf(np.array([1, 2])).dtype.name == "float32"


# --- linalg --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ord_, axis", [(None, None), (None, 1), (2, 0), (1, 1), (np.inf, 1),
                                        (-np.inf, 0), (0, 1), (3, 1), ("fro", None),
                                        (1, None), (np.inf, None), (-1, (0, 1)),
                                        (-np.inf, (1, 0)), ("fro", (0, 1))])
def test_norm(ord_, axis):
    x = X.copy()
    x[0, 0] = 0.0
    want = np.linalg.norm(x, ord=ord_, axis=axis)
    close(ops.norm(x, ord=ord_, axis=axis), want, rtol=1e-5)
    got = ops.norm(x, ord=ord_, axis=axis, keepdims=True)
    assert tuple(got.shape) == np.linalg.norm(x, ord=ord_, axis=axis, keepdims=True).shape


def test_norm_errors():
    with pytest.raises(ValueError, match="singular value"):
        ops.norm(X, ord=2, axis=(0, 1))


# --- core ----------------------------------------------------------------------------------------


def test_conversion_and_dtypes():
    assert ops.convert_to_tensor([1.0, 2.0]).dtype.name == "float32"
    assert ops.convert_to_tensor([1, 2]).dtype.name == "int32"
    assert ops.convert_to_tensor([1, 2], dtype="float64").dtype.name == "float64"
    assert ops.convert_to_tensor(np.zeros(2, np.float64)).dtype.name == "float64"
    n = ops.convert_to_numpy(ops.ones((2,)))
    assert isinstance(n, np.ndarray) and n.tolist() == [1.0, 1.0]
    assert ops.cast(np.array([1.7, -1.7]), "int32").numpy().tolist() == [1, -1]
    assert ops.dtype(np.zeros(2, np.int64)) == "int64"
    assert ops.shape(np.zeros((2, 3))) == (2, 3)
    assert ops.is_tensor(ops.ones(2)) and not ops.is_tensor(np.ones(2))
    assert ops.result_type("int32", "float16") == "float16"
    assert ops.result_type("uint8", "int8") == "int16"
    assert ops.result_type("int64", 1.0) == "float32"
    assert ops.result_type(True, 1) == "int32"
    assert ops.result_type("bool", True) == "bool"
    assert ops.result_type("int32", "int64", "float16", "float64") == "float64"
    assert ops.result_type("uint32", "int32") == "int64"
    assert ops.result_type("uint64", "int8") == "float32"


def test_control_flow_eager():
    x = ops.convert_to_tensor(3.0)
    assert float(ops.cond(x > 1.0, lambda: x * 2.0, lambda: x)) == 6.0
    i, s = ops.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i),
                          (ops.convert_to_tensor(0), ops.convert_to_tensor(0)))
    assert (int(i), int(s)) == (4, 6)
    assert int(ops.while_loop(lambda v: v < 10, lambda v: v * 2, ops.convert_to_tensor(1))) == 16
    out = ops.while_loop(lambda v: v < 100, lambda v: v + 1, ops.convert_to_tensor(0),
                         maximum_iterations=5)
    assert int(out) == 5
    assert int(ops.fori_loop(0, 5, lambda i, v: v + i, ops.convert_to_tensor(0))) == 10


def test_slicing_scatter_map():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    close(ops.slice(x, (1, 1), (2, 2)), x[1:3, 1:3])
    close(ops.slice(x, [0, 2], [-1, 2]), x[:, 2:4])
    upd = np.full((2, 2), -1.0, np.float32)
    want = x.copy()
    want[1:3, 0:2] = upd
    close(ops.slice_update(x, (1, 0), upd), want)
    with pytest.raises(ValueError, match="fit"):
        ops.slice_update(x, (2, 3), upd)
    close(ops.scatter([[0, 1], [2, 3], [0, 1]], [1.0, 2.0, 3.0], (3, 4)),
          [[0, 4, 0, 0], [0, 0, 0, 0], [0, 0, 0, 2]])
    want = x.copy()
    want[0, 1], want[2, 2] = 9.0, 8.0
    close(ops.scatter_update(x, [[0, 1], [2, 2]], [9.0, 8.0]), want)
    close(ops.map(lambda r: ops.sum(r), x), x.sum(1))
    close(ops.vectorized_map(lambda r: r * 2.0, x), x * 2)
    nested = ops.map(lambda d: {"s": d["a"] + d["b"]}, {"a": x, "b": x})
    close(nested["s"], 2 * x)
    g = ops.stop_gradient(tf.Variable(x))
    with tf.GradientTape() as tape:
        v = tf.Variable(x)
        y = ops.sum(ops.stop_gradient(v) * v)
    close(tape.gradient(y, v), x)
    close(g, x)
