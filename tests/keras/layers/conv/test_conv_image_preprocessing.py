"""Image preprocessing/augmentation layers: the harness, inference is identity for the random
ones, values of the deterministic ones, and the geometry of the random transforms."""

from __future__ import annotations

import numpy as np
import pytest

from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.harness import run_layer_test

RNG = np.random.default_rng(9)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape", [
    (layers.Resizing, {"height": 4, "width": 6}, (2, 8, 9, 3), (2, 4, 6, 3)),
    (layers.Resizing, {"height": 4, "width": 4, "crop_to_aspect_ratio": True,
                       "interpolation": "nearest"}, (2, 8, 6, 3), (2, 4, 4, 3)),
    (layers.Resizing, {"height": 5, "width": 5, "pad_to_aspect_ratio": True,
                       "data_format": "channels_first"}, (2, 3, 8, 6), (2, 3, 5, 5)),
    (layers.CenterCrop, {"height": 3, "width": 4}, (2, 6, 6, 2), (2, 3, 4, 2)),
    (layers.RandomCrop, {"height": 3, "width": 4, "seed": 1}, (2, 6, 6, 2), (2, 3, 4, 2)),
    (layers.RandomFlip, {"seed": 1}, (2, 5, 5, 3), (2, 5, 5, 3)),
    (layers.RandomRotation, {"factor": 0.2, "seed": 1}, (2, 5, 5, 3), (2, 5, 5, 3)),
    (layers.RandomZoom, {"height_factor": 0.2, "seed": 1}, (2, 5, 5, 3), (2, 5, 5, 3)),
    (layers.RandomTranslation, {"height_factor": 0.2, "width_factor": (-0.1, 0.3), "seed": 1},
     (2, 5, 5, 3), (2, 5, 5, 3)),
    (layers.RandomContrast, {"factor": 0.5, "seed": 1}, (2, 5, 5, 3), (2, 5, 5, 3)),
    (layers.RandomBrightness, {"factor": 0.3, "value_range": (0, 1), "seed": 1}, (2, 5, 5, 3),
     (2, 5, 5, 3)),
])
def test_harness(cls, kwargs, in_shape, out_shape):
    run_layer_test(cls, kwargs, in_shape, out_shape, wrong_input_shape=(5,))


RANDOM = [(layers.RandomFlip, {}), (layers.RandomRotation, {"factor": 0.3}),
          (layers.RandomZoom, {"height_factor": 0.3}),
          (layers.RandomTranslation, {"height_factor": 0.3, "width_factor": 0.3}),
          (layers.RandomContrast, {"factor": 0.5}), (layers.RandomBrightness, {"factor": 0.3})]


@pytest.mark.parametrize("cls,kwargs", RANDOM)
def test_random_layers_act_only_when_training(cls, kwargs):
    x = RNG.uniform(0, 255, (4, 6, 7, 3)).astype("float32")
    layer = cls(seed=3, **kwargs)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert y.shape == x.shape and y.dtype == np.float32 and not np.allclose(y, x)
    assert np.isfinite(y).all()
    again = cls(seed=3, **kwargs)(x, training=True).numpy()
    np.testing.assert_array_equal(y, again)  # seeded layers repeat their draws
    single = layer(x[0], training=True)
    assert tuple(single.shape) == x.shape[1:]


def test_random_flip_flips_whole_images():
    x = RNG.standard_normal((16, 3, 4, 1)).astype("float32")
    y = layers.RandomFlip("horizontal", seed=2)(x, training=True).numpy()
    flipped = [np.array_equal(y[i], x[i, :, ::-1]) for i in range(16)]
    same = [np.array_equal(y[i], x[i]) for i in range(16)]
    assert all(f or s for f, s in zip(flipped, same)) and any(flipped) and any(same)


def test_rotation_quarter_turn_is_rot90():
    x = RNG.standard_normal((2, 5, 5, 2)).astype("float32")
    y = layers.RandomRotation((0.25, 0.25), seed=0)(x, training=True).numpy()
    np.testing.assert_allclose(y, np.rot90(x, 1, axes=(1, 2)), atol=1e-5)


def test_translation_and_zoom_geometry():
    x = RNG.standard_normal((1, 6, 8, 1)).astype("float32")
    layer = layers.RandomTranslation((0.5, 0.5), (0.25, 0.25), fill_mode="constant",
                                     interpolation="nearest")
    y = layer(x, training=True).numpy()
    np.testing.assert_array_equal(y[0, 3:, 2:], x[0, :3, :6])  # down 3 rows, right 2 columns
    assert np.all(y[0, :3] == 0) and np.all(y[0, :, :2] == 0)
    z = layers.RandomZoom((-0.5, -0.5), fill_mode="nearest")(x, training=True).numpy()
    # zooming in by 2: the centre pixel pair stays, the content spreads out
    assert z.shape == x.shape
    assert abs(float(z.std()) - float(x[0, 1:5, 2:6].std())) < 2.0


def test_contrast_and_brightness_values():
    x = RNG.uniform(0, 1, (3, 4, 4, 2)).astype("float32")
    y = layers.RandomContrast((0.5, 0.5), value_range=(0, 1))
    # factor range [0.5, 1.5]; check the output is an affine map about the mean, clipped
    out = y(x, training=True).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    f = ((out - mean) / (x - mean))[np.abs(x - mean) > 0.1]
    inside = (out > 0) & (out < 1)
    assert np.all(f[inside[np.abs(x - mean) > 0.1]] > 0.49)
    b = layers.RandomBrightness((0.1, 0.1), value_range=(0, 1))(x, training=True).numpy()
    np.testing.assert_allclose(b, np.clip(x + 0.1, 0, 1), atol=1e-6)


def test_resizing_and_crop_values():
    x = np.arange(2 * 4 * 6 * 1, dtype="float32").reshape(2, 4, 6, 1)
    np.testing.assert_array_equal(layers.CenterCrop(2, 2)(x).numpy(), x[:, 1:3, 2:4])
    y = layers.Resizing(2, 3, interpolation="nearest")(x).numpy()
    np.testing.assert_array_equal(y, x[:, 1::2, 1::2])
    y = layers.Resizing(4, 4, crop_to_aspect_ratio=True)(x).numpy()
    np.testing.assert_array_equal(y, x[:, :, 1:5])
    small = layers.CenterCrop(8, 8)(x).numpy()  # smaller inputs are resized
    assert small.shape == (2, 8, 8, 1)
    rc = layers.RandomCrop(2, 3, seed=0)
    np.testing.assert_array_equal(rc(x).numpy(), x[:, 1:3, 1:4])  # inference: centre crop
    y = rc(x, training=True).numpy()
    for i in range(2):
        hits = [(a, b) for a in range(3) for b in range(4)
                if np.array_equal(y[i], x[i, a:a + 2, b:b + 3])]
        assert hits


def test_augmentation_inside_a_model():
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        layers.RandomFlip("horizontal", seed=1),
        layers.RandomRotation(0.1, seed=1),
        layers.Conv2D(4, 3),
        layers.GlobalAveragePooling2D(),
    ])
    x = RNG.uniform(0, 1, (2, 8, 8, 3)).astype("float32")
    a = model(x).numpy()
    np.testing.assert_allclose(model(x).numpy(), a)
    assert not np.allclose(model(x, training=True).numpy(), a)


def test_errors():
    with pytest.raises(ValueError, match="fill_mode"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="RandomFlip: expected mode"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="RandomTranslation: expected height_factor"):
        layers.RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match=r"resizing_x.*rank 3"):
        layers.Resizing(2, 2, name="resizing_x")(np.zeros((4, 4), "float32"))


def _full_model():
    return keras.Sequential([
        keras.Input((8, 8, 3)), layers.RandomFlip(seed=1), layers.RandomRotation(0.1, seed=1),
        layers.RandomZoom(0.1, seed=2), layers.RandomTranslation(0.1, 0.1, seed=3),
        layers.RandomContrast(0.2, value_range=(0, 1), seed=4),
        layers.RandomBrightness(0.1, value_range=(0, 1), seed=5),
        layers.Conv2D(4, 3, activation="relu", padding="same"), layers.MaxPooling2D(),
        layers.UpSampling2D(2), layers.UpSampling2D(1, interpolation="bilinear"),
        layers.Cropping2D(1), layers.ZeroPadding2D(1), layers.SpatialDropout2D(0.2),
        layers.Conv2DTranspose(3, 2, strides=2), layers.DepthwiseConv2D(3),
        layers.SeparableConv2D(4, 3), layers.AveragePooling2D(padding="same"),
        layers.Resizing(5, 5), layers.RandomCrop(4, 4, seed=6), layers.CenterCrop(3, 3),
        layers.GlobalAveragePooling2D(), layers.Dense(2)])


def test_compiled_fit_equals_eager_fit_with_augmentation():
    """`fit` compiles its step with ndflow.function: the augmentation layers draw fresh
    parameters on every compiled call, exactly as they do eagerly."""
    x = RNG.random((16, 8, 8, 3)).astype("float32")
    y = np.random.default_rng(1).integers(0, 2, 16)
    losses = []
    for eager in (False, True):
        keras.utils.set_random_seed(0)
        model = _full_model()
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      run_eagerly=eager)
        hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        losses.append(hist.history["loss"])
        assert model.predict(x, verbose=0).shape == (16, 2)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    assert len(set(losses[0])) == 3


def test_1d_and_3d_layers_train_in_compiled_fit():
    m1 = keras.Sequential([
        keras.Input((40, 1)), layers.Conv1D(4, 3, padding="causal"), layers.MaxPooling1D(),
        layers.UpSampling1D(2), layers.ZeroPadding1D(1), layers.Cropping1D(1),
        layers.SpatialDropout1D(0.1), layers.Conv1DTranspose(2, 3, strides=2),
        layers.SeparableConv1D(3, 3), layers.DepthwiseConv1D(3), layers.GlobalMaxPooling1D(),
        layers.Dense(2)])
    m1.compile("adam", "mse")
    h = m1.fit(np.ones((8, 40, 1), "float32"), np.ones((8, 2), "float32"), verbose=0,
               epochs=2)
    assert np.isfinite(h.history["loss"]).all()
    m3 = keras.Sequential([
        keras.Input((4, 4, 4, 1)), layers.Conv3D(2, 2), layers.MaxPooling3D(1),
        layers.UpSampling3D(2), layers.Conv3DTranspose(2, 2), layers.ZeroPadding3D(1),
        layers.Cropping3D(1), layers.SpatialDropout3D(0.1), layers.AveragePooling3D(2),
        layers.GlobalAveragePooling3D(), layers.Dense(1)])
    m3.compile("adam", "mse")
    h = m3.fit(np.ones((4, 4, 4, 4, 1), "float32"), np.ones((4, 1), "float32"), verbose=0,
               epochs=2)
    assert h.history["loss"][1] < h.history["loss"][0]
