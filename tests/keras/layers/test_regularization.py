"""Dropout, GaussianNoise, GaussianDropout, ActivityRegularization."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import layers
from tests.keras.layers.harness import run_layer_test


@pytest.mark.parametrize("cls,kwargs", [
    (layers.Dropout, {"rate": 0.5}),
    (layers.Dropout, {"rate": 0.3, "noise_shape": (None, 1), "seed": 2}),
    (layers.GaussianNoise, {"stddev": 0.2, "seed": 1}),
    (layers.GaussianDropout, {"rate": 0.4}),
])
def test_harness(cls, kwargs):
    run_layer_test(cls, kwargs, (3, 4), (3, 4), supports_masking=True,
                   input_mask=np.array([True, True, False]),
                   expected_output_mask=np.array([True, True, False]))


def test_activity_regularization_harness_and_value():
    x = np.array([[1.0, -2.0], [3.0, 0.0]], "float32")
    layer = run_layer_test(layers.ActivityRegularization, {"l1": 0.1, "l2": 0.2}, (2, 2), (2, 2),
                           input_data=x, expected_num_losses=1, supports_masking=True)
    layer(x)
    expect = (0.1 * np.abs(x).sum() + 0.2 * (x ** 2).sum()) / 2  # divided by the batch size
    assert [float(v) for v in layer.losses] == [pytest.approx(expect)]
    assert "activity_regularizer" not in layer.get_config()


def test_dropout_inactive_at_inference_and_statistics_in_training():
    x = np.ones((200, 100), "float32")
    layer = layers.Dropout(0.3, seed=0)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    y = layer(x, training=True).numpy()
    vals = np.unique(y)
    assert len(vals) == 2 and vals[0] == 0.0 and vals[1] == pytest.approx(1 / 0.7)
    assert (y == 0).mean() == pytest.approx(0.3, abs=0.01)
    assert y.mean() == pytest.approx(1.0, abs=0.02)
    # fresh masks on each call, but a seeded layer reproduces the sequence
    y2 = layer(x, training=True).numpy()
    assert not np.array_equal(y, y2)
    again = layers.Dropout(0.3, seed=0)
    np.testing.assert_array_equal(again(x, training=True).numpy(), y)


def test_dropout_gradient_uses_the_same_mask():
    x = tf.Variable(np.ones((50, 20), "float32"))
    layer = layers.Dropout(0.5, seed=3)
    with tf.GradientTape() as tape:
        y = layer(x, training=True)
        loss = tf.reduce_sum(y)
    g = tape.gradient(loss, x)
    np.testing.assert_array_equal(g.numpy(), y.numpy())  # d(x * mask)/dx = mask


def test_dropout_noise_shape_and_edge_rates():
    x = np.ones((4, 5, 6), "float32")
    y = layers.Dropout(0.5, noise_shape=(None, 1, 6), seed=1)(x, training=True).numpy()
    assert (y == y[:, :1, :]).all()  # the same mask at every step of axis 1
    np.testing.assert_array_equal(layers.Dropout(0.0)(x, training=True).numpy(), x)
    assert (layers.Dropout(1.0)(x, training=True).numpy() == 0).all()
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)
    with pytest.raises(ValueError, match="rate"):
        layers.GaussianDropout(1.0)


def test_training_flag_propagates_to_nested_dropout():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.drop = layers.Dropout(0.5, seed=0)

        def call(self, x):
            return self.drop(x)

    x = np.ones((10, 10), "float32")
    block = Block()
    np.testing.assert_array_equal(block(x).numpy(), x)
    assert (block(x, training=True).numpy() == 0).any()


def test_gaussian_noise_and_dropout_statistics():
    x = np.zeros((400, 250), "float32")
    y = layers.GaussianNoise(0.5, seed=0)(x, training=True).numpy()
    assert y.mean() == pytest.approx(0.0, abs=0.01) and y.std() == pytest.approx(0.5, rel=0.02)
    np.testing.assert_array_equal(layers.GaussianNoise(0.5)(x).numpy(), x)
    ones = np.ones((400, 250), "float32")
    z = layers.GaussianDropout(0.2, seed=0)(ones, training=True).numpy()
    assert z.mean() == pytest.approx(1.0, abs=0.01)
    assert z.std() == pytest.approx(np.sqrt(0.2 / 0.8), rel=0.02)
    np.testing.assert_array_equal(layers.GaussianDropout(0.2)(ones).numpy(), ones)


def test_random_layers_draw_fresh_noise_inside_ndflow_function():
    # traced with ndflow.function, the noise is a stateful graph node: new values per call
    x = tf.constant(np.ones((8, 16), "float32"))
    for layer in (layers.Dropout(0.5, seed=1), layers.GaussianNoise(1.0, seed=1),
                  layers.GaussianDropout(0.5, seed=1)):
        fn = tf.function(lambda v, layer=layer: layer.call(v, training=True))
        a, b = fn(x).numpy(), fn(x).numpy()
        assert fn.experimental_get_tracing_count() == 1
        assert not np.array_equal(a, b), type(layer).__name__
        assert not np.array_equal(a, x.numpy())


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9, 1.0 - 2.0**-40])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keep_multiplier_keeps_one_minus_rate(rate, dtype):
    """The mask from 32 random bits per element: values 0 and 1/(1 - rate) in the input's
    dtype, kept with probability 1 - rate (a binomial 5-sigma band over 200,000 draws), the
    same mask from the same generator state."""
    from ndflow.keras.layers.regularization.dropout import keep_multiplier

    shape = (400, 500)
    mask = keep_multiplier(np.random.default_rng(7), shape, rate, dtype)
    assert mask.dtype == dtype and mask.shape == shape
    scale = np.asarray(1.0 / (1.0 - rate), dtype)
    assert set(np.unique(mask).tolist()) <= {0.0, float(scale)}
    p, n = 1.0 - rate, mask.size
    kept = int((mask != 0).sum())
    assert abs(kept - n * p) <= 5 * np.sqrt(n * p * (1 - p)) + 1
    again = keep_multiplier(np.random.default_rng(7), shape, rate, dtype)
    np.testing.assert_array_equal(mask, again)
    odd = keep_multiplier(np.random.default_rng(7), (3, 7), rate, dtype)  # an odd size
    assert odd.shape == (3, 7)
