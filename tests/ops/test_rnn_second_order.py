"""Gradients of gradients through the recurrent sequence ops (a gradient penalty on an RNN).

The first-order backward passes are single compiled ops; under an outer tape the gradient
rules recompute the recurrence with primitive ops (ops/rnn_unrolled.py). Checked against
finite differences of the first-order gradient and against the fused first-order pass."""

import numpy as np
import pytest

import ndflow as tf
from ndflow.ops import rnn


def _inputs(kind, masked, dropped, seed=0):
    rng = np.random.default_rng(seed)
    B, T, H = 2, 4, 3
    G = {"srnn": 1, "lstm": 4, "gru": 3, "gru_ra0": 3}[kind]
    xw = rng.standard_normal((B, T, G * H)) * 0.8
    h0 = rng.standard_normal((B, H)) * 0.5
    c0 = rng.standard_normal((B, H)) * 0.5
    R = rng.standard_normal((H, G * H)) * 0.5
    rb = rng.standard_normal(G * H) * 0.3
    mask = (np.array([[1, 1, 0, 1], [1, 0, 1, 1]], "float64") if masked else None)
    rd = (rng.random((B, H)) > 0.3) * 1.5 if dropped else None
    return xw, h0, c0, R, rb, mask, rd


def _run(kind, xw, h0, c0, R, rb, mask, rd):
    c = tf.constant
    mk = None if mask is None else c(mask)
    rdm = None if rd is None else c(rd)
    if kind == "srnn":
        return rnn.simple_rnn_sequence(xw, h0, R, mk, rdm)[0]
    if kind == "lstm":
        hs, cs = rnn.lstm_sequence(xw, h0, c0, R, mk, rdm)
        return tf.add(hs, tf.multiply(cs, 0.5))
    return rnn.gru_sequence(xw, h0, R, rb, mk, rdm, reset_after=kind == "gru")[0]


def _penalty_and_grads(kind, arrays, mask, rd):
    """s = sum((d sum(w * out) / d xw)^2) and ds/d(xw, R) with nested tapes."""
    xw, h0, c0, R, rb = (tf.constant(a) for a in arrays)
    w = tf.constant(np.linspace(-1, 1, int(np.prod(xw.shape[:2])) * int(R.shape[0]))
                    .reshape(int(xw.shape[0]), int(xw.shape[1]), int(R.shape[0])))
    with tf.GradientTape() as outer:
        outer.watch([xw, R])
        with tf.GradientTape() as inner:
            inner.watch([xw, R])
            out = tf.reduce_sum(tf.multiply(_run(kind, xw, h0, c0, R, rb, mask, rd), w))
        g = inner.gradient(out, xw)
        s = tf.reduce_sum(tf.multiply(g, g))
    return float(s), outer.gradient(s, [xw, R]), g


@pytest.mark.parametrize("kind", ["srnn", "lstm", "gru", "gru_ra0"])
@pytest.mark.parametrize("masked, dropped", [(False, False), (True, True)])
def test_second_order_gradient_matches_finite_differences(kind, masked, dropped):
    xw, h0, c0, R, rb, mask, rd = _inputs(kind, masked, dropped)
    _, (gx, gR), _ = _penalty_and_grads(kind, (xw, h0, c0, R, rb), mask, rd)
    assert gx is not None and gR is not None
    eps = 1e-6
    rng = np.random.default_rng(1)
    for name, arr, got in (("xw", xw, gx.numpy()), ("R", R, gR.numpy())):
        for _ in range(4):
            idx = tuple(rng.integers(0, n) for n in arr.shape)
            plus, minus = arr.copy(), arr.copy()
            plus[idx] += eps
            minus[idx] -= eps
            args_p = [xw, h0, c0, R, rb]
            args_m = [xw, h0, c0, R, rb]
            k = 0 if name == "xw" else 3
            args_p[k], args_m[k] = plus, minus
            sp = _penalty_and_grads(kind, args_p, mask, rd)[0]
            sm = _penalty_and_grads(kind, args_m, mask, rd)[0]
            num = (sp - sm) / (2 * eps)
            assert got[idx] == pytest.approx(num, rel=1e-5, abs=1e-7), (name, idx)


@pytest.mark.parametrize("kind", ["srnn", "lstm", "gru", "gru_ra0"])
def test_first_order_gradient_under_an_outer_tape_equals_the_fused_pass(kind):
    xw, h0, c0, R, rb, mask, rd = _inputs(kind, True, True, seed=3)
    _, _, g_nested = _penalty_and_grads(kind, (xw, h0, c0, R, rb), mask, rd)
    x = tf.constant(xw)
    w = tf.constant(np.linspace(-1, 1, g_nested.numpy().size // (R.shape[1] // R.shape[0]))
                    .reshape(xw.shape[0], xw.shape[1], R.shape[0]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = tf.reduce_sum(tf.multiply(_run(kind, x, tf.constant(h0), tf.constant(c0),
                                             tf.constant(R), tf.constant(rb), mask, rd), w))
    fused = tape.gradient(out, x)
    np.testing.assert_allclose(g_nested.numpy(), fused.numpy(), rtol=1e-12, atol=1e-13)


def test_a_gradient_penalty_through_a_keras_lstm_reaches_its_weights():
    from ndflow import keras

    layer = keras.layers.LSTM(3)
    x = tf.constant(np.random.default_rng(0).random((2, 4, 5)).astype("float32"))
    layer(x)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(layer(x))
        g = inner.gradient(y, x)
        penalty = tf.reduce_sum(tf.square(g))
    grads = outer.gradient(penalty, layer.trainable_variables)
    assert all(gr is not None and np.all(np.isfinite(gr.numpy())) for gr in grads)
    assert any(float(tf.reduce_sum(tf.abs(gr))) > 0 for gr in grads)


def test_the_penalty_traced_in_a_function_equals_eager():
    xw, h0, c0, R, rb, mask, rd = _inputs("gru", True, False, seed=5)

    def penalty_grads(x, r):
        with tf.GradientTape() as outer:
            outer.watch([x, r])
            with tf.GradientTape() as inner:
                inner.watch(x)
                out = tf.reduce_sum(tf.square(_run("gru", x, tf.constant(h0), None, r,
                                                   tf.constant(rb), mask, rd)))
            g = inner.gradient(out, x)
            s = tf.reduce_sum(tf.square(g))
        return outer.gradient(s, [x, r])

    eager = penalty_grads(tf.constant(xw), tf.constant(R))
    traced = tf.function(penalty_grads)(tf.constant(xw), tf.constant(R))
    for a, b in zip(eager, traced):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
