"""A `tf.function` called under an eager `GradientTape`: the tape sees the call's ops, so
gradients flow through it as in TensorFlow (they came back None before)."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras


def _f(x, w):
    return tf.reduce_sum(tf.tanh(tf.matmul(x, w)) * 2.0 + tf.sin(x[:, :1]))


def test_gradients_through_a_function_equal_eager_gradients():
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((4, 3)).astype("float32")
    w = tf.Variable(rng.standard_normal((3, 2)).astype("float32"))
    f = tf.function(_f)
    grads = []
    for fn in (f, _f):
        x = tf.constant(x0)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x, w)
        grads.append([g.numpy() for g in tape.gradient(y, [x, w])])
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.abs(grads[0][1]).sum() > 0  # not a vacuous comparison


def test_second_order_through_a_function():
    f = tf.function(lambda x: x * x * x)
    x = tf.constant(1.5)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        dy = inner.gradient(y, x)
    assert float(dy) == pytest.approx(3 * 1.5 ** 2)
    assert float(outer.gradient(dy, x)) == pytest.approx(6 * 1.5)


def test_without_a_tape_the_compiled_graph_runs():
    calls = []

    @tf.function
    def f(x):
        calls.append(1)  # Python side effect: runs while tracing only
        return x + 1.0

    for v in (1.0, 2.0, 3.0):
        assert float(f(tf.constant(v))) == v + 1.0
    assert len(calls) == 1 and f.experimental_get_tracing_count() == 1


def test_input_signature_is_still_checked_under_a_tape():
    f = tf.function(lambda x: x * 2.0, input_signature=[tf.TensorSpec([2], tf.float32)])
    with tf.GradientTape():
        with pytest.raises(Exception, match="input_signature"):
            f(tf.constant([1.0, 2.0, 3.0]))


def test_custom_loop_with_a_compiled_model_call_trains():
    """The TF-style loop: the model's forward pass is a tf.function, the tape is outside."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    forward = tf.function(lambda inputs: model(inputs))
    opt = keras.optimizers.SGD(0.1)
    losses = []
    for _ in range(30):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(forward(x) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        assert all(g is not None for g in grads)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        losses.append(float(loss))
    assert losses[-1] < 0.01 * losses[0]


def test_jacobian_and_batch_jacobian_inside_a_function_equal_eager():
    """`tape.jacobian` inside `tf.function` (its seeds used to read the target's values)."""
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((2, 3)).astype("float32")

    def jacobians(x):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = tf.matmul(x, x, transpose_b=True) + tf.sin(x[:, :2])
        return tape.jacobian(y, x), tape.batch_jacobian(y, x)

    traced = tf.function(jacobians)(tf.constant(x0))
    eager = jacobians(tf.constant(x0))
    for got, want in zip(traced, eager):
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)
    assert np.abs(eager[0].numpy()).sum() > 0
