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
    ("rot90", lambda x: ops.rot90(x, 3), (r(3, 4),)),
    ("kron", ops.kron, (r(2, 3), r(3, 2))),
    ("trapezoid", lambda y, x: ops.trapezoid(y, x, axis=0), (r(4, 3), np.sort(r(4)))),
    ("layer_normalization", lambda x, g: ops.layer_normalization(x, g, axis=-1),
     (r(3, 4), pos(4))),
    ("dot_product_attention", lambda q, k, v: ops.dot_product_attention(q, k, v, is_causal=True),
     (r(1, 3, 2, 2), r(1, 3, 2, 2), r(1, 3, 2, 2))),
    ("conv_transpose", lambda x, w: ops.conv_transpose(x, w, strides=2),
     (r(1, 3, 2), r(2, 3, 2))),
    ("slogdet", lambda a: ops.slogdet(a)[1], (r(3, 3, lo=-1, hi=1) - 3 * np.eye(3),)),
    ("logdet", ops.logdet, (np.eye(3) * 2 + 0.1 * r(3, 3) @ r(3, 3).T,)),
    ("extract_sequences", lambda x: ops.extract_sequences(x, 3, 2), (r(2, 7),)),
    ("solve", ops.solve, (r(3, 3, lo=-1, hi=1) + 3 * np.eye(3), r(3, 2))),
    ("scan", lambda x: ops.scan(lambda c, v: (c * v, c + v), ops.ones((4,), "float64"), x)[1],
     (r(3, 4),)),
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


_W3 = np.ones((3, 2), np.float32)
SWEEP = {
    "quantile": lambda x, v, i: ops.quantile(x, [0.2, 0.5], axis=1),
    "median": lambda x, v, i: ops.median(x, axis=-1),
    "take": lambda x, v, i: ops.take(x, [0, -1], axis=1),
    "take_along_axis": lambda x, v, i: ops.take_along_axis(v, i % 4, axis=1),
    "split": lambda x, v, i: ops.split(x, [1, 3], axis=1)[1],
    "var": lambda x, v, i: ops.var(x, axis=(1, 2)),
    "average": lambda x, v, i: ops.average(x, axis=1, weights=np.arange(1, 5, dtype="f4")),
    "trace": lambda x, v, i: ops.trace(x, 0, 1, 2),
    "cross": lambda x, v, i: ops.cross(x, ops.flip(x, 1)),
    "moveaxis": lambda x, v, i: ops.moveaxis(x, 1, -1),
    "repeat": lambda x, v, i: ops.repeat(x, 2, axis=1),
    "tile": lambda x, v, i: ops.tile(x, (1, 2, 1)),
    "roll": lambda x, v, i: ops.roll(x, 1, axis=1),
    "sort": lambda x, v, i: ops.sort(x, axis=1),
    "argsort": lambda x, v, i: ops.argsort(x, axis=1),
    "einsum": lambda x, v, i: ops.einsum("bij,bkj->bik", x, x),
    "tensordot": lambda x, v, i: ops.tensordot(x, _W3, 1),
    "outer-rows": lambda x, v, i: ops.expand_dims(v, -1) * ops.expand_dims(v, 1),
    "searchsorted": lambda x, v, i: ops.searchsorted(np.arange(3, dtype="f4") - 1.0, v),
    "isin": lambda x, v, i: ops.isin(i, [1, 2]),
    "one_hot": lambda x, v, i: ops.one_hot(i, 5),
    "categorical_crossentropy": lambda x, v, i: ops.categorical_crossentropy(
        ops.softmax(v * 2.0), ops.softmax(v)),
    "sparse_categorical_crossentropy": lambda x, v, i: ops.sparse_categorical_crossentropy(
        ops.argmin(v, axis=-1), v, from_logits=True),
    "norm-matrix": lambda x, v, i: ops.norm(x, ord=1, axis=(1, 2)),
    "det": lambda x, v, i: ops.det(ops.matmul(ops.swapaxes(x, 1, 2), x)),
    "matmul-1d": lambda x, v, i: ops.matmul(x, np.ones(3, np.float32)),
    "cumsum": lambda x, v, i: ops.cumsum(x, axis=1),
    "pad-reflect": lambda x, v, i: ops.pad(x, ((0, 0), (1, 1), (2, 2)), mode="reflect"),
    "tril": lambda x, v, i: ops.tril(x),
    "diff": lambda x, v, i: ops.diff(x, axis=1),
    "logaddexp": lambda x, v, i: ops.logaddexp(x, 1.0),
    "mean-int": lambda x, v, i: ops.mean(i, axis=1),
    "multi_hot": lambda x, v, i: ops.multi_hot(i, 5),
    "in_top_k": lambda x, v, i: ops.in_top_k(i[:, 0], v, 2),
    "top_k": lambda x, v, i: ops.top_k(v, 2)[0],
    "attention": lambda x, v, i: ops.dot_product_attention(
        ops.reshape(x, (-1, 4, 1, 3)), ops.reshape(x, (-1, 4, 1, 3)),
        ops.reshape(x, (-1, 4, 1, 3)), is_causal=True),
    "conv": lambda x, v, i: ops.conv(x, np.ones((2, 3, 2), np.float32), padding="same"),
    "conv_transpose": lambda x, v, i: ops.conv_transpose(x, np.ones((2, 2, 3), np.float32),
                                                         strides=2),
    "max_pool": lambda x, v, i: ops.max_pool(x, 2),
    "resize": lambda x, v, i: ops.image.resize(ops.expand_dims(x, -1), (2, 6)),
    "scan": lambda x, v, i: ops.scan(lambda c, r: (c + r, c * r), ops.zeros((3,)),
                                     ops.swapaxes(x, 0, 1))[1],
    "switch": lambda x, v, i: ops.switch(1, [lambda a: a, lambda a: a * 2.0], x),
    "slice_update": lambda x, v, i: ops.slice_update(v, (0, 1), ops.zeros((2, 2))),
}


def _sweep_inputs():
    r_ = np.random.default_rng(11)
    return (r_.normal(size=(2, 4, 3)).astype(np.float32),
            r_.normal(size=(2, 4)).astype(np.float32),
            r_.integers(0, 4, size=(2, 4)).astype(np.int32))


@pytest.mark.parametrize("name", list(SWEEP))
def test_symbolic_shape_and_traced_value(name):
    fn = SWEEP[name]
    x, v, i = _sweep_inputs()
    eager = fn(x, v, i)
    traced = tf.function(fn)(tf.constant(x), tf.constant(v), tf.constant(i))
    assert traced.dtype == eager.dtype
    np.testing.assert_allclose(np.asarray(traced), np.asarray(eager), rtol=1e-5, atol=1e-5)
    if name in ("slice_update",):  # needs a known batch size
        return
    sym = fn(keras.Input((4, 3)), keras.Input((4,)), keras.Input((4,), dtype="int32"))
    assert sym.dtype == eager.dtype
    assert len(sym.shape) == len(eager.shape)
    assert all(s is None or s == e for s, e in zip(sym.shape, eager.shape)), (sym.shape,
                                                                            eager.shape)


def test_traced_control_flow():
    loop = tf.function(lambda x: ops.while_loop(
        lambda i, s: ops.sum(s) < 100.0, lambda i, s: (i + 1, s * 2.0),
        (ops.convert_to_tensor(0), x)))
    i, s = loop(tf.constant([1.0, 2.0]))
    assert int(i) == 6 and np.asarray(s).tolist() == [64.0, 128.0]
    fori = tf.function(lambda x: ops.fori_loop(0, 3, lambda k, v: v * 2.0, x))
    assert np.asarray(fori(tf.constant([1.0, 2.0]))).tolist() == [8.0, 16.0]
    branch = tf.function(lambda x: ops.cond(ops.sum(x) > 0, lambda: x * 2.0, lambda: -x))
    assert np.asarray(branch(tf.constant([1.0, 2.0]))).tolist() == [2.0, 4.0]
    assert np.asarray(branch(tf.constant([-1.0, -2.0]))).tolist() == [1.0, 2.0]


def test_custom_layer_written_with_ops_trains():
    class RMSScale(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            ms = ops.mean(ops.square(x), axis=-1, keepdims=True)
            return x * ops.rsqrt(ms + 1e-6) * self.scale

    model = keras.Sequential([keras.Input((4,)), RMSScale(), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(32, 4)).astype(np.float32)
    y = (x[:, :1] * 2.0).astype(np.float32)
    before = model.layers[0].scale.numpy().copy()
    hist = model.fit(x, y, epochs=4, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert not np.allclose(model.layers[0].scale.numpy(), before)
    want = x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-6) * model.layers[0].scale.numpy()
    np.testing.assert_allclose(np.asarray(model.layers[0](x)), want, rtol=1e-5, atol=1e-6)
