"""Transfer learning with an application base, as in Keras's guide: a frozen base with a new
head trains (the base's weights, BatchNormalization statistics included, do not move, and no
gradient of the base is computed), then unfreezing the top blocks trains further."""

from __future__ import annotations

import numpy as np
import pytest

from ndflow import keras
from ndflow.ops import conv as conv_ops


def stripes(n: int, seed: int) -> tuple:
    """Images of horizontal (class 0) or vertical (class 1) stripes of random phase and
    period, with noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    i = np.arange(32)
    x = np.empty((n, 32, 32, 3), "float32")
    for k in range(n):
        period = rng.integers(3, 7)
        wave = 127.5 + 100 * np.sin(2 * np.pi * (i + rng.integers(0, period)) / period)
        img = np.repeat(wave[:, None], 32, 1) if y[k] == 0 else np.repeat(wave[None, :], 32, 0)
        x[k] = img[..., None] + rng.normal(0, 20, (32, 32, 3))
    return np.clip(x, 0, 255), y


@pytest.fixture
def count_conv_gradients(monkeypatch):
    """How many times the convolution gradient kernels run."""
    calls = {"n": 0}
    for op in (conv_ops._BP_INPUT, conv_ops._BP_FILTER):
        fwd = op.forward

        def counted(*args, _fwd=fwd, **kwargs):
            calls["n"] += 1
            return _fwd(*args, **kwargs)
        monkeypatch.setattr(op, "forward", counted)
    return calls


def calibrate_batchnorm(base: keras.Model, x: np.ndarray) -> None:
    """Give the base what a pretrained base has and a random one lacks: BatchNormalization
    statistics measured on data (one training-mode pass; each layer's input statistics are
    the batch statistics it normalised with)."""
    bns = [la for la in base.layers if isinstance(la, keras.layers.BatchNormalization)]
    inputs = keras.Model(base.inputs, [la.input for la in bns])(x, training=True)
    for la, h in zip(bns, inputs):
        h = h.numpy()
        la.moving_mean.assign(h.mean((0, 1, 2)))
        la.moving_variance.assign(h.var((0, 1, 2)))


def snapshot(layers: list) -> list:
    return [w.numpy().copy() for la in layers for w in la.weights]


def test_frozen_base_then_fine_tuning(count_conv_gradients):
    keras.utils.set_random_seed(0)
    x, y = stripes(128, 0)
    x = keras.applications.mobilenet_v2.preprocess_input(x)
    base = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=0.35,
                                          input_shape=(32, 32, 3))
    calibrate_batchnorm(base, x[:64])
    base.trainable = False
    inputs = keras.Input((32, 32, 3))
    h = base(inputs, training=False)
    h = keras.layers.GlobalAveragePooling2D()(h)
    outputs = keras.layers.Dense(2, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    assert model.count_params() - sum(int(np.prod(w.shape)) for w in model.trainable_weights) \
        == base.count_params()
    before = snapshot(base.layers)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    loss0 = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    loss1, acc1 = model.evaluate(x, y, verbose=0)
    assert loss1 < 0.8 * loss0 and acc1 > 0.75, (loss0, loss1, acc1)
    # frozen: nothing in the base moved, BatchNormalization statistics included
    for a, b in zip(before, snapshot(base.layers)):
        np.testing.assert_array_equal(a, b)
    assert count_conv_gradients["n"] == 0, "gradients were computed through the frozen base"

    # a frozen BatchNormalization runs in inference mode even when called with training=True
    bn = base.get_layer("Conv_1_bn")
    probe = keras.Model(base.inputs, bn.output)
    np.testing.assert_allclose(probe(x[:8], training=True).numpy(),
                               probe(x[:8], training=False).numpy(), rtol=1e-5, atol=1e-5)

    # unfreeze the last block and the top convolution; everything below stays frozen
    base.trainable = True
    top = base.layers.index(base.get_layer("block_16_expand"))
    for layer in base.layers[:top]:
        layer.trainable = False
    low_before, top_before = snapshot(base.layers[:top]), snapshot(base.layers[top:])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=4, verbose=0)
    loss2, acc2 = model.evaluate(x, y, verbose=0)
    assert loss2 < 0.9 * loss1 and acc2 >= acc1, (loss1, loss2, acc1, acc2)
    assert count_conv_gradients["n"] > 0
    for a, b in zip(low_before, snapshot(base.layers[:top])):
        np.testing.assert_array_equal(a, b)
    moved = [not np.array_equal(a, b) for a, b in zip(top_before, snapshot(base.layers[top:]))]
    assert any(moved)
