"""Pooling, zero-padding, cropping, upsampling and spatial-dropout layers: the harness, values
against NumPy/PyTorch, masks and errors."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import layers
from tests.keras.layers.harness import run_layer_test

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape", [
    (layers.MaxPooling1D, {}, (2, 7, 3), (2, 3, 3)),
    (layers.MaxPooling1D, {"pool_size": 3, "strides": 1, "padding": "same"}, (2, 7, 3),
     (2, 7, 3)),
    (layers.MaxPooling2D, {}, (2, 7, 6, 3), (2, 3, 3, 3)),
    (layers.MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same",
                           "data_format": "channels_first"}, (2, 3, 7, 6), (2, 3, 4, 3)),
    (layers.MaxPooling3D, {}, (1, 4, 4, 5, 2), (1, 2, 2, 2, 2)),
    (layers.AveragePooling1D, {"pool_size": 3}, (2, 7, 3), (2, 2, 3)),
    (layers.AveragePooling2D, {"pool_size": (2, 3), "padding": "same"}, (2, 5, 7, 3),
     (2, 3, 3, 3)),
    (layers.AveragePooling3D, {"pool_size": 2, "strides": 1}, (1, 3, 3, 3, 2),
     (1, 2, 2, 2, 2)),
    (layers.GlobalMaxPooling1D, {}, (2, 7, 3), (2, 3)),
    (layers.GlobalAveragePooling1D, {"keepdims": True}, (2, 7, 3), (2, 1, 3)),
    (layers.GlobalMaxPooling2D, {"data_format": "channels_first"}, (2, 3, 4, 5), (2, 3)),
    (layers.GlobalAveragePooling2D, {}, (2, 4, 5, 3), (2, 3)),
    (layers.GlobalMaxPooling3D, {"keepdims": True}, (2, 2, 3, 4, 3), (2, 1, 1, 1, 3)),
    (layers.GlobalAveragePooling3D, {}, (2, 2, 3, 4, 3), (2, 3)),
    (layers.ZeroPadding1D, {"padding": (1, 2)}, (2, 4, 3), (2, 7, 3)),
    (layers.ZeroPadding2D, {}, (2, 4, 5, 3), (2, 6, 7, 3)),
    (layers.ZeroPadding2D, {"padding": ((1, 0), (2, 3)), "data_format": "channels_first"},
     (2, 3, 4, 5), (2, 3, 5, 10)),
    (layers.ZeroPadding3D, {"padding": (1, 0, 2)}, (1, 2, 2, 2, 3), (1, 4, 2, 6, 3)),
    (layers.Cropping1D, {"cropping": (1, 2)}, (2, 6, 3), (2, 3, 3)),
    (layers.Cropping2D, {"cropping": ((1, 0), (1, 2))}, (2, 5, 6, 3), (2, 4, 3, 3)),
    (layers.Cropping3D, {"cropping": 1}, (1, 3, 4, 5, 2), (1, 1, 2, 3, 2)),
    (layers.UpSampling1D, {"size": 3}, (2, 4, 3), (2, 12, 3)),
    (layers.UpSampling2D, {"size": (2, 3)}, (2, 3, 4, 2), (2, 6, 12, 2)),
    (layers.UpSampling2D, {"interpolation": "bilinear", "data_format": "channels_first"},
     (2, 2, 3, 4), (2, 2, 6, 8)),
    (layers.UpSampling3D, {"size": 2}, (1, 2, 2, 3, 2), (1, 4, 4, 6, 2)),
    (layers.SpatialDropout1D, {"rate": 0.5}, (2, 6, 3), (2, 6, 3)),
    (layers.SpatialDropout2D, {"rate": 0.3}, (2, 4, 4, 3), (2, 4, 4, 3)),
    (layers.SpatialDropout3D, {"rate": 0.3, "data_format": "channels_first"}, (2, 3, 2, 2, 2),
     (2, 3, 2, 2, 2)),
])
def test_harness(cls, kwargs, in_shape, out_shape):
    run_layer_test(cls, kwargs, in_shape, out_shape,
                   wrong_input_shape=in_shape[:-1],
                   supports_masking=cls.__name__.startswith("SpatialDropout"))


def test_pooling_values():
    x = RNG.standard_normal((2, 6, 6, 3)).astype("float32")
    y = layers.MaxPooling2D()(x).numpy()
    np.testing.assert_array_equal(y, x.reshape(2, 3, 2, 3, 2, 3).max(axis=(2, 4)))
    y = layers.AveragePooling2D()(x).numpy()
    np.testing.assert_allclose(y, x.reshape(2, 3, 2, 3, 2, 3).mean(axis=(2, 4)), rtol=1e-6)
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(x).numpy(), x.mean(axis=(1, 2)),
                               rtol=1e-6)
    np.testing.assert_array_equal(layers.GlobalMaxPooling2D()(x).numpy(), x.max(axis=(1, 2)))


def test_global_average_pooling1d_mask():
    x = RNG.standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    y = layers.GlobalAveragePooling1D()(tf.constant(x), mask=tf.constant(mask)).numpy()
    np.testing.assert_allclose(y[0], x[0, :2].mean(0), rtol=1e-6)
    np.testing.assert_allclose(y[1], x[1].mean(0), rtol=1e-6)
    # through an Embedding mask in a model
    inp = keras.Input((4,), dtype="int32")
    e = layers.Embedding(5, 3, mask_zero=True)
    out = layers.GlobalAveragePooling1D()(e(inp))
    model = keras.Model(inp, out)
    ids = np.array([[1, 2, 0, 0]])
    got = model(ids).numpy()
    np.testing.assert_allclose(got[0], e.embeddings.numpy()[[1, 2]].mean(0), rtol=1e-6)


def test_padding_cropping_upsampling_values():
    x = RNG.standard_normal((2, 3, 4, 2)).astype("float32")
    y = layers.ZeroPadding2D(((1, 2), (0, 1)))(x).numpy()
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), (1, 2), (0, 1), (0, 0))))
    y = layers.Cropping2D(((1, 1), (1, 0)))(x).numpy()
    np.testing.assert_array_equal(y, x[:, 1:2, 1:])
    y = layers.UpSampling2D((2, 3))(x).numpy()
    np.testing.assert_array_equal(y, x.repeat(2, axis=1).repeat(3, axis=2))
    y = layers.UpSampling1D(2)(x[:, 0]).numpy()
    np.testing.assert_array_equal(y, x[:, 0].repeat(2, axis=1))
    torch = pytest.importorskip("torch")
    y = layers.UpSampling2D(2, interpolation="bilinear")(x).numpy()
    yt = torch.nn.functional.interpolate(torch.tensor(x).permute(0, 3, 1, 2), scale_factor=2,
                                         mode="bilinear", align_corners=False)
    np.testing.assert_allclose(y, yt.permute(0, 2, 3, 1).numpy(), atol=1e-6)


def test_upsampling_gradient_sums_blocks():
    x = tf.constant(RNG.standard_normal((1, 2, 2, 1)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layers.UpSampling2D(2, dtype="float64")(x)
        loss = tf.reduce_sum(y * tf.reshape(tf.range(16.0, dtype=tf.float64), [1, 4, 4, 1]))
    g = tape.gradient(loss, x).numpy()[0, :, :, 0]
    w = np.arange(16.0).reshape(4, 4)
    np.testing.assert_allclose(g, w.reshape(2, 2, 2, 2).sum(axis=(1, 3)))


def test_spatial_dropout_masks_whole_channels():
    x = np.ones((4, 5, 5, 8), "float32")
    y = layers.SpatialDropout2D(0.5, seed=3)(x, training=True).numpy()
    per = y.reshape(4, 25, 8)
    assert np.all(per.min(axis=1) == per.max(axis=1))  # constant over space
    assert set(np.unique(per).tolist()) <= {0.0, 2.0}
    assert 0 < (per[:, 0] == 0).sum() < 32
    np.testing.assert_array_equal(layers.SpatialDropout2D(0.5)(x).numpy(), x)  # inference
    y = layers.SpatialDropout1D(0.5, seed=1)(x[:, 0], training=True).numpy()
    assert np.all(y.min(axis=1) == y.max(axis=1))


def test_layer_errors():
    with pytest.raises(ValueError, match="pool_size"):
        layers.MaxPooling2D(pool_size=(2, 2, 2))
    with pytest.raises(ValueError, match="padding"):
        layers.AveragePooling1D(padding="full")
    with pytest.raises(ValueError, match=r"my_pool.*kernel extent 3"):
        layers.MaxPooling2D(3, name="my_pool")(np.zeros((1, 2, 2, 1), "float32"))
    with pytest.raises(ValueError, match=r"crop.*cropping"):
        layers.Cropping2D(3, name="crop")(np.zeros((1, 5, 5, 1), "float32"))
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match="ZeroPadding2D: expected padding"):
        layers.ZeroPadding2D(((1, 2, 3), (1, 1)))
