"""Merge layers and their functional forms: harness, values and gradients against NumPy /
PyTorch, masks, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.harness import run_layer_test

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4)).astype("float32")
B = rng.standard_normal((3, 4)).astype("float32")
C = rng.standard_normal((3, 4)).astype("float32")

ELEMENTWISE = [
    (layers.Add, layers.add, lambda xs: xs[0] + xs[1] + xs[2]),
    (layers.Multiply, layers.multiply, lambda xs: xs[0] * xs[1] * xs[2]),
    (layers.Average, layers.average, lambda xs: (xs[0] + xs[1] + xs[2]) / 3),
    (layers.Maximum, layers.maximum, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2])),
    (layers.Minimum, layers.minimum, lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2])),
]


@pytest.mark.parametrize("cls,fn,ref", ELEMENTWISE)
def test_elementwise_merge(cls, fn, ref):
    run_layer_test(cls, {}, [(3, 4), (3, 4), (3, 4)], (3, 4), supports_masking=True,
                   input_mask=[np.array([True, False, True]), np.array([True, True, False]),
                               None],
                   expected_output_mask=np.array([True, False, False]))
    np.testing.assert_allclose(cls()([A, B, C]).numpy(), ref([A, B, C]), rtol=1e-6)
    np.testing.assert_allclose(fn([A, B, C]).numpy(), ref([A, B, C]), rtol=1e-6)
    # gradients against torch
    xs = [tf.Variable(v) for v in (A, B, C)]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(cls()(xs)))
    gs = tape.gradient(loss, xs)
    ts = [torch.tensor(v, requires_grad=True) for v in (A, B, C)]
    tref = {layers.Add: lambda t: t[0] + t[1] + t[2], layers.Multiply: lambda t: t[0] * t[1] * t[2],
            layers.Average: lambda t: (t[0] + t[1] + t[2]) / 3,
            layers.Maximum: lambda t: torch.maximum(torch.maximum(t[0], t[1]), t[2]),
            layers.Minimum: lambda t: torch.minimum(torch.minimum(t[0], t[1]), t[2])}[cls]
    (tref(ts) ** 2).sum().backward()
    for g, t_ in zip(gs, ts):
        np.testing.assert_allclose(g.numpy(), t_.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_subtract():
    run_layer_test(layers.Subtract, {}, [(3, 4), (3, 4)], (3, 4), supports_masking=True)
    np.testing.assert_allclose(layers.subtract([A, B]).numpy(), A - B)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([A, B, C])


def test_broadcasting_and_shape_errors():
    out = layers.Add()([A, np.ones((3, 1), "float32")])
    np.testing.assert_allclose(out.numpy(), A + 1)
    with pytest.raises(ValueError, match=r"add_bad.*same shape.*\(3, 4\), \(3, 5\)"):
        layers.Add(name="add_bad")([A, np.ones((3, 5), "float32")])
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(A)
    x1, x2 = keras.Input(shape=(4,)), keras.Input(shape=(4,))
    assert tuple(layers.add([x1, x2]).shape) == (None, 4)
    with pytest.raises(ValueError, match="same shape"):
        layers.add([x1, keras.Input(shape=(5,))])


def test_concatenate():
    run_layer_test(layers.Concatenate, {"axis": -1}, [(2, 3), (2, 5)], (2, 8),
                   supports_masking=True)
    run_layer_test(layers.Concatenate, {"axis": 1}, [(2, 3, 4), (2, 1, 4)], (2, 4, 4),
                   supports_masking=True)
    np.testing.assert_array_equal(layers.concatenate([A, B], axis=0).numpy(),
                                  np.concatenate([A, B], 0))
    with pytest.raises(ValueError, match=r"concat_bad.*matching shapes.*\(2, 3\), \(3, 3\)"):
        layers.Concatenate(name="concat_bad")([np.ones((2, 3), "float32"),
                                               np.ones((3, 3), "float32")])
    x = tf.Variable(A)
    with tf.GradientTape() as tape:
        y = layers.Concatenate()([x, x * 2.0])
        loss = tf.reduce_sum(y * y)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), 2 * A + 8 * A, rtol=1e-6)


def test_concatenate_masks():
    from ndflow.keras.layers.layer import get_keras_mask, set_keras_mask

    a = tf.constant(np.ones((2, 3, 2), "float32"))
    b = tf.constant(np.ones((2, 3, 4), "float32"))
    set_keras_mask(a, tf.constant(np.array([[True, False, False], [True, True, False]])))
    out = layers.Concatenate()([a, b])
    # b carries no mask (all valid), so every timestep stays valid
    np.testing.assert_array_equal(get_keras_mask(out).numpy(), np.ones((2, 3), bool))
    set_keras_mask(b, tf.constant(np.array([[True, True, False], [False, True, False]])))
    out = layers.Concatenate()([a, b])
    np.testing.assert_array_equal(get_keras_mask(out).numpy(),
                                  [[True, True, False], [True, True, False]])


def test_dot():
    run_layer_test(layers.Dot, {"axes": 1}, [(3, 4), (3, 4)], (3, 1), supports_masking=True)
    run_layer_test(layers.Dot, {"axes": (1, 2)}, [(2, 5, 3), (2, 4, 5)], (2, 3, 4),
                   supports_masking=True)
    np.testing.assert_allclose(layers.Dot(axes=-1)([A, B]).numpy(),
                               (A * B).sum(-1, keepdims=True), rtol=1e-5)
    cos = layers.dot([A, B], axes=1, normalize=True).numpy()
    ref = (A * B).sum(-1) / np.linalg.norm(A, axis=-1) / np.linalg.norm(B, axis=-1)
    np.testing.assert_allclose(cos[:, 0], ref, rtol=1e-5)
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    y = rng.standard_normal((2, 4, 5)).astype("float32")
    np.testing.assert_allclose(layers.Dot(axes=(1, 2))([x, y]).numpy(),
                               np.einsum("bkc,bjk->bcj", x, y), rtol=1e-5)
    with pytest.raises(ValueError, match="dot_bad.*same size"):
        layers.Dot(axes=1, name="dot_bad")([A, np.ones((3, 5), "float32")])
    with pytest.raises(ValueError, match="batch"):
        layers.Dot(axes=0)([A, B])
    # gradient against torch
    xa, xb = tf.Variable(A), tf.Variable(B)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(layers.Dot(axes=1, normalize=True)([xa, xb])))
    ga, gb = tape.gradient(loss, [xa, xb])
    ta, tb = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
    (torch.nn.functional.cosine_similarity(ta, tb, eps=1e-12) ** 2).sum().backward()
    np.testing.assert_allclose(ga.numpy(), ta.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gb.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-6)
