"""Flatten, Reshape, Permute, RepeatVector: harness, values against NumPy, gradients, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.harness import run_layer_test

X = np.arange(2 * 3 * 4, dtype="float32").reshape(2, 3, 4)


def test_flatten():
    run_layer_test(layers.Flatten, {}, (2, 3, 4), (2, 12))
    np.testing.assert_array_equal(layers.Flatten()(X).numpy(), X.reshape(2, -1))
    cf = layers.Flatten(data_format="channels_first")(X).numpy()
    np.testing.assert_array_equal(cf, np.transpose(X, (0, 2, 1)).reshape(2, -1))
    assert tuple(layers.Flatten()(keras.Input(shape=(3, None))).shape) == (None, None)
    assert layers.Flatten().compute_output_shape((None, 5, 6)) == (None, 30)


def test_reshape():
    run_layer_test(layers.Reshape, {"target_shape": (4, 3)}, (2, 3, 4), (2, 4, 3))
    run_layer_test(layers.Reshape, {"target_shape": (-1, 2)}, (2, 12), (2, 6, 2))
    np.testing.assert_array_equal(layers.Reshape((12,))(X).numpy(), X.reshape(2, 12))
    assert layers.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    with pytest.raises(ValueError, match=r"reshape_bad.*\(5,\).*12 values"):
        layers.Reshape((5,), name="reshape_bad")(X)
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))


def test_permute():
    run_layer_test(layers.Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3),
                   wrong_input_shape=(2, 3))
    np.testing.assert_array_equal(layers.Permute((2, 1))(X).numpy(), X.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="permutation"):
        layers.Permute((0, 1))


def test_repeat_vector_and_gradient():
    run_layer_test(layers.RepeatVector, {"n": 3}, (2, 4), (2, 3, 4), wrong_input_shape=(2, 3, 4))
    x = tf.Variable(np.array([[1.0, 2.0]], "float32"))
    with tf.GradientTape() as tape:
        y = layers.RepeatVector(3)(x)
        loss = tf.reduce_sum(y * y)
    np.testing.assert_array_equal(y.numpy(), [[[1, 2]] * 3])
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), [[6.0, 12.0]])
    with pytest.raises(ValueError, match="positive integer"):
        layers.RepeatVector(0)


def test_reshaping_gradients_flow():
    x = tf.Variable(X)
    c = np.arange(24, dtype="float32").reshape(2, 3, 4)
    with tf.GradientTape() as tape:
        y = layers.Permute((2, 1))(layers.Reshape((4, 3))(layers.Flatten()(x)))
        loss = tf.reduce_sum(y * tf.constant(c))
    g = tape.gradient(loss, x).numpy()
    # loss = sum(permute(reshape(x)) * c): the gradient is c mapped back through the views
    np.testing.assert_array_equal(g, c.transpose(0, 2, 1).reshape(2, 3, 4))
