"""Rescaling, Normalization (with adapt), and the Activation layer."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import activations, layers
from tests.keras.layers.harness import run_layer_test

rng = np.random.default_rng(0)


def test_rescaling():
    run_layer_test(layers.Rescaling, {"scale": 0.5, "offset": 1.0}, (2, 3), (2, 3),
                   supports_masking=True)
    x = np.array([[0, 128, 255]], "uint8")
    y = layers.Rescaling(1 / 255)(x)
    assert y.dtype == tf.float32
    np.testing.assert_allclose(y.numpy(), x / 255, rtol=1e-6)
    np.testing.assert_allclose(layers.Rescaling(1 / 127.5, offset=-1)(x).numpy(),
                               x / 127.5 - 1, rtol=1e-6, atol=1e-6)
    per_channel = layers.Rescaling([1.0, 2.0, 3.0])
    np.testing.assert_allclose(per_channel(np.ones((1, 3), "float32")).numpy(), [[1, 2, 3]])
    assert per_channel.get_config()["scale"] == [1.0, 2.0, 3.0]


def test_normalization_harness_and_adapt():
    data = (rng.standard_normal((50, 4)) * [1, 2, 3, 4] + [0, 1, 2, 3]).astype("float32")
    layer = layers.Normalization()
    layer.adapt(data)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), data.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), data.var(0), rtol=1e-5)
    assert int(layer.count.numpy()) == 50
    y = layer(data).numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, rtol=1e-4)
    assert [w.name for w in layer.non_trainable_weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == []
    run_layer_test(layers.Normalization, {"mean": [1.0, 2.0], "variance": [4.0, 9.0]}, (3, 2),
                   (3, 2), supports_masking=True)


def test_normalization_axes_batches_and_invert():
    data = rng.standard_normal((10, 3, 4)).astype("float32")
    layer = layers.Normalization(axis=None)
    layer.adapt(data)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), data.mean(), rtol=1e-5)
    per_step = layers.Normalization(axis=(1, 2))
    per_step.adapt([data[:4], data[4:]])  # an iterable of batches
    np.testing.assert_allclose(per_step.adapt_mean.numpy(), data.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(per_step.adapt_variance.numpy(), data.var(0), rtol=1e-4,
                               atol=1e-6)
    inv = layers.Normalization(mean=2.0, variance=4.0, invert=True)
    np.testing.assert_allclose(inv(np.array([[1.0]], "float32")).numpy(), [[4.0]])
    with pytest.raises(ValueError, match="both"):
        layers.Normalization(mean=1.0)
    # like Keras, an un-adapted layer normalises with mean 0 and variance 1
    np.testing.assert_allclose(layers.Normalization()(np.ones((2, 2), "float32")).numpy(),
                               np.ones((2, 2)))
    with pytest.raises(ValueError, match="norm_bad.*adapt"):
        bad = layers.Normalization(name="norm_bad")
        bad.adapt(np.ones((4, 3), "float32"))
        bad.adapt(np.ones((4, 5), "float32"))


def test_normalization_weights_round_trip():
    a = layers.Normalization()
    a.adapt(rng.standard_normal((20, 3)).astype("float32"))
    b = layers.Normalization.from_config(a.get_config())
    b.build((None, 3))
    b.set_weights(a.get_weights())
    x = rng.standard_normal((2, 3)).astype("float32")
    np.testing.assert_allclose(b(x).numpy(), a(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["relu", "softmax", "gelu", "tanh", "linear", "hard_silu"])
def test_activation_layer(name):
    run_layer_test(layers.Activation, {"activation": name}, (2, 5), (2, 5),
                   supports_masking=True)
    x = rng.standard_normal((2, 5)).astype("float32")
    np.testing.assert_allclose(layers.Activation(name)(x).numpy(),
                               np.asarray(activations.get(name)(tf.constant(x))), rtol=1e-6)


def test_activation_layer_custom_and_errors():
    layer = layers.Activation(lambda x: x * 2)
    np.testing.assert_allclose(layer(np.ones((1, 2), "float32")).numpy(), [[2.0, 2.0]])
    assert layers.Activation("crelu")(np.ones((1, 2), "float32")).shape == (1, 4)
    with pytest.raises(ValueError, match="unknown activation"):
        layers.Activation("nope")


# --- the standalone activation layers ------------------------------------------------------------
def test_relu_leaky_elu_softmax_layers():
    import torch
    import torch.nn.functional as F

    x = rng.standard_normal((3, 5)).astype("float32") * 3
    tx = torch.tensor(x)
    for cls, kw, ref in (
        (layers.ReLU, {}, F.relu(tx)),
        (layers.ReLU, {"max_value": 2.0}, torch.clamp(tx, 0, 2)),
        (layers.LeakyReLU, {}, F.leaky_relu(tx, 0.3)),
        (layers.LeakyReLU, {"negative_slope": 0.1}, F.leaky_relu(tx, 0.1)),
        (layers.ELU, {"alpha": 0.7}, F.elu(tx, 0.7)),
        (layers.Softmax, {}, torch.softmax(tx, -1)),
        (layers.Softmax, {"axis": [0, 1]}, torch.softmax(tx.reshape(-1), 0).reshape(3, 5)),
    ):
        run_layer_test(cls, kw, (3, 5), (3, 5), supports_masking=True)
        np.testing.assert_allclose(cls(**kw)(x).numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    assert layers.LeakyReLU(alpha=0.2).negative_slope == 0.2
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1.0)


def test_softmax_layer_mask():
    x = np.array([[1.0, 2.0, 3.0]], "float32")
    mask = np.array([[True, False, True]])
    y = layers.Softmax()(x, mask=mask).numpy()
    e = np.exp([1.0, 3.0]) / np.exp([1.0, 3.0]).sum()
    np.testing.assert_allclose(y, [[e[0], 0.0, e[1]]], rtol=1e-5, atol=1e-7)


def test_prelu_matches_torch():
    import torch

    run_layer_test(layers.PReLU, {}, (2, 4), (2, 4), expected_num_trainable_weights=1,
                   expected_weights=[("alpha", (4,))], supports_masking=True)
    run_layer_test(layers.PReLU, {"shared_axes": [1]}, (2, 3, 4), (2, 3, 4),
                   expected_num_trainable_weights=1, expected_weights=[("alpha", (1, 4))],
                   supports_masking=True)
    x = rng.standard_normal((6, 4)).astype("float32")
    alpha = np.array([0.1, 0.2, 0.3, 0.4], "float32")
    layer = layers.PReLU(alpha_initializer=lambda shape, dtype=None: alpha)
    xt = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = layer(xt)
        loss = tf.reduce_sum(y * y)
    gx, ga = tape.gradient(loss, [xt, layer.alpha])
    tx = torch.tensor(x, requires_grad=True)
    ta = torch.tensor(alpha, requires_grad=True)
    ty = torch.where(tx >= 0, tx, ta * tx)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(ga.numpy(), ta.grad.numpy(), rtol=1e-5)


def test_softmax_and_sigmoid_outputs_keep_their_logits_for_the_losses():
    from ndflow.keras import losses
    from ndflow.keras.activations.activations import get_keras_logits

    x = tf.constant(rng.standard_normal((4, 3)).astype("float32") * 30)
    y = layers.Dense(3, activation="softmax")(x)
    assert get_keras_logits(y) is not None
    labels = np.array([0, 1, 2, 1])
    logits = get_keras_logits(y)
    expect = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    # the probabilities underflow, yet the loss computed from them equals the logits' loss
    np.testing.assert_allclose(float(losses.SparseCategoricalCrossentropy()(labels, y)),
                               float(expect), rtol=1e-6)
    assert get_keras_logits(activations.sigmoid(x)) is x
    assert get_keras_logits(tf.constant([1.0])) is None
