"""keras.ops: gradients (GradientTape vs finite differences), tracing under tf.function, and
Keras symbolic tensors inside Functional models."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import ops

rng = np.random.default_rng(7)


def r(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape)


def pos(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


def distinct(*shape):
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.37 - n * 0.15).reshape(shape)


GRAD_CASES = [
    ("mean", lambda x: ops.mean(x, axis=-1, keepdims=True), (r(3, 4),)),
    ("std", lambda x: ops.std(x, axis=0), (r(3, 4),)),
    ("var", lambda x: ops.var(x), (r(3, 4),)),
    ("matmul-1d", lambda a, b: ops.matmul(a, b), (r(4), r(4, 3))),
    ("matmul-2d-1d", lambda a, b: ops.matmul(a, b), (r(3, 4), r(4))),
    ("dot-nd", lambda a, b: ops.dot(a, b), (r(2, 3), r(2, 3, 2))),
    ("logaddexp", ops.logaddexp, (r(3, 4), r(3, 4))),
    ("hypot", ops.hypot, (r(3, 4), r(3, 4))),
    ("divide-mixed", lambda a: ops.divide(a, 3), (r(3, 4),)),
    ("power", ops.power, (pos(3, 4), r(3, 4))),
    ("log2", ops.log2, (pos(5),)),
    ("cbrt", ops.cbrt, (pos(5),)),
    ("clip", lambda x: ops.clip(x, -1.0, 1.0), (np.array([-1.7, -0.5, 0.3, 1.4]),)),
    ("where", lambda a, b: ops.where(a > 0, a, b), (r(3, 4), r(3, 4))),
    ("take", lambda x: ops.take(x, np.array([0, -1, 1, 0]), axis=1), (r(3, 4),)),
    ("take_along_axis", lambda x: ops.take_along_axis(x, np.array([[1, 0], [2, 2]]), 1),
     (r(2, 3),)),
    ("tril", lambda x: ops.tril(x, -1), (r(3, 4),)),
    ("diagonal", lambda x: ops.diagonal(x, 1, 0, 2), (r(3, 2, 4),)),
    ("trace", ops.trace, (r(4, 4),)),
    ("diag-1d", ops.diag, (r(3),)),
    ("pad-reflect", lambda x: ops.pad(x, ((1, 2), (2, 1)), mode="reflect"), (r(3, 4),)),
    ("roll", lambda x: ops.roll(x, 3), (r(3, 4),)),
    ("cumsum", lambda x: ops.cumsum(x, axis=None), (r(3, 4),)),
    ("cumprod", lambda x: ops.cumprod(x, axis=1), (pos(3, 4),)),
    ("prod", lambda x: ops.prod(x, axis=0), (r(3, 4),)),
    ("max", lambda x: ops.max(x, axis=1), (distinct(3, 4),)),
    ("quantile", lambda x: ops.quantile(x, [0.25, 0.6], axis=1), (distinct(3, 5),)),
    ("cross", ops.cross, (r(4, 3), r(4, 3))),
    ("average", lambda x, w: ops.average(x, axis=1, weights=w), (r(3, 4), pos(4))),
    ("split", lambda x: ops.split(x, [1, 3], axis=1)[2], (r(3, 4),)),
    ("tile", lambda x: ops.tile(x, (2, 1, 2)), (r(3, 4),)),
    ("einsum", lambda a, b: ops.einsum("ij,kj->ik", a, b), (r(3, 4), r(2, 4))),
    ("outer", ops.outer, (r(3), r(4))),
    ("softmax-tuple", lambda x: ops.softmax(x, axis=(0, 1)), (r(3, 4),)),
    ("log_softmax", lambda x: ops.log_softmax(x, axis=0), (r(3, 4),)),
    ("categorical_crossentropy", lambda y, p: ops.categorical_crossentropy(
        y, ops.softmax(p)), (np.eye(4)[[0, 2, 3]], r(3, 4))),
    ("binary_crossentropy", lambda y, p: ops.binary_crossentropy(y, p, from_logits=True),
     (rng.uniform(size=(3, 4)), r(3, 4))),
    ("normalize", ops.normalize, (r(3, 4),)),
    ("logsumexp", lambda x: ops.logsumexp(x, axis=1), (r(3, 4),)),
    ("segment_sum", lambda x: ops.segment_sum(x, np.array([0, 1, 0]), 2), (r(3, 4),)),
    ("norm-inf-matrix", lambda x: ops.norm(x, ord=np.inf, axis=(0, 1)), (distinct(3, 4),)),
    ("norm-p", lambda x: ops.norm(x, ord=3, axis=1), (r(3, 4),)),
    ("slice_update", lambda x, u: ops.slice_update(x, (1, 1), u), (r(3, 4), r(2, 2))),
    ("scatter_update", lambda x, u: ops.scatter_update(x, [[0, 0], [2, 3]], u),
     (r(3, 4), r(2))),
    ("map", lambda x: ops.map(lambda v: ops.sum(v * v), x), (r(3, 4),)),
]


def _loss(fn, arrays, weights):
    out = fn(*[tf.constant(a) for a in arrays])
    return float(np.sum(np.asarray(out, np.float64) * weights))


@pytest.mark.parametrize("name, fn, inputs", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_finite_differences(name, fn, inputs):
    xs = [tf.constant(a) for a in inputs]
    with tf.GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        out = fn(*xs)
        weights = rng.uniform(0.5, 1.5, size=tuple(out.shape))
        loss = ops.sum(out * tf.constant(weights))
    grads = tape.gradient(loss, xs)
    eps = 1e-6
    for k, a in enumerate(inputs):
        num = np.zeros_like(a)
        for idx in np.ndindex(*a.shape):
            plus = [np.array(v, copy=True) for v in inputs]
            minus = [np.array(v, copy=True) for v in inputs]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            num[idx] = (_loss(fn, plus, weights) - _loss(fn, minus, weights)) / (2 * eps)
        assert grads[k] is not None, f"{name}: no gradient for input {k}"
        np.testing.assert_allclose(np.asarray(grads[k]), num, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name}, input {k}")


def test_ops_inside_tf_function():
    x = rng.normal(size=(3, 4)).astype(np.float32)
    i = np.array([2, 0, 1], np.int32)

    def body(x, i):
        a = ops.mean(x, axis=-1, keepdims=True)
        b = ops.take_along_axis(x, ops.expand_dims(i, -1), axis=1)
        c = ops.matmul(x, ops.ones((4,)))
        d = ops.where(x > 0, ops.square(x), ops.zeros_like(x))
        e = ops.argmax(x, axis=None)
        f = ops.concatenate([a, b, c[:, None], ops.std(x, axis=1, keepdims=True)], axis=1)
        g = ops.split(d, [1, 3], axis=1)[1]
        h = ops.sparse_categorical_crossentropy(i, x, from_logits=True)
        s = ops.slice_update(x, (0, 0), ops.ones((1, 2)))
        q = ops.quantile(x, 0.5, axis=1)
        n = ops.cond(ops.sum(x) > 0, lambda: ops.norm(x), lambda: -ops.norm(x))
        return f, g, e, h, s, q, n

    traced = tf.function(body)
    for got, want in zip(traced(tf.constant(x), tf.constant(i)), body(x, i)):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
    assert traced.experimental_get_tracing_count() == 1


def test_gradient_inside_tf_function():
    w = tf.Variable(rng.normal(size=(4,)).astype(np.float32))
    x = rng.normal(size=(3, 4)).astype(np.float32)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            loss = ops.mean(ops.square(ops.matmul(x, w)))
        return tape.gradient(loss, w)

    want = 2 * x.T @ (x @ w.numpy()) / 3
    np.testing.assert_allclose(np.asarray(step(tf.constant(x))), want, rtol=1e-5)


def test_ops_on_keras_inputs_in_functional_model():
    x = keras.Input((4,))
    m = ops.mean(x, axis=-1, keepdims=True)
    assert tuple(m.shape) == (None, 1)
    parts = [m, ops.softmax(x), ops.matmul(x, ops.ones((4,)))[:, None],
             ops.std(x, axis=1, keepdims=True), ops.max(x, axis=-1, keepdims=True),
             ops.cast(ops.argmax(x, axis=-1, keepdims=True), "float32"),
             ops.clip(x, -1.0, 1.0), ops.logsumexp(x, axis=1, keepdims=True),
             ops.where(x > 0, x, 0.0), ops.cumsum(x, axis=1), ops.flip(x, axis=1),
             ops.pad(x, ((0, 0), (1, 1))), ops.tril(ops.expand_dims(x, -1) * x[:, None, :])[
                 :, 0, :]]
    y = ops.concatenate(parts, axis=-1)
    z = ops.transpose(ops.reshape(x, (-1, 2, 2)), (0, 2, 1))
    assert tuple(y.shape) == (None, 1 + 4 + 1 + 1 + 1 + 1 + 4 + 1 + 4 + 4 + 4 + 6 + 4)
    assert tuple(z.shape) == (None, 2, 2)
    model = keras.Model(x, [y, z])
    data = rng.normal(size=(5, 4)).astype(np.float32)
    out_y, out_z = model.predict(data, verbose=0)
    e = np.exp(data - data.max(1, keepdims=True))
    ref = np.concatenate([
        data.mean(1, keepdims=True), e / e.sum(1, keepdims=True), data.sum(1, keepdims=True),
        data.std(1, keepdims=True), data.max(1, keepdims=True),
        data.argmax(1)[:, None].astype(np.float32), np.clip(data, -1, 1),
        np.log(np.exp(data).sum(1, keepdims=True)), np.where(data > 0, data, 0),
        np.cumsum(data, 1), data[:, ::-1], np.pad(data, ((0, 0), (1, 1))),
        np.tril(data[:, :, None] * data[:, None, :])[:, 0, :]], axis=1)
    np.testing.assert_allclose(out_y, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out_z, data.reshape(-1, 2, 2).transpose(0, 2, 1))


def test_train_model_with_ops_loss():
    inputs = keras.Input((3,))
    h = keras.layers.Dense(4)(inputs)
    outputs = ops.log_softmax(h)
    model = keras.Model(inputs, outputs)

    def loss(y_true, y_pred):
        return ops.mean(ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True))

    model.compile(optimizer="sgd", loss=loss)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = rng.integers(0, 4, size=(16,)).astype(np.int32)
    hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
