"""tf.image: resize against PyTorch (values and gradients), flips/crops/pads against NumPy,
and the projective sampler used by the augmentation layers."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.ops.image import projective_transform

torch = pytest.importorskip("torch")
F = torch.nn.functional
RNG = np.random.default_rng(3)


@pytest.mark.parametrize("size", [(9, 4), (3, 11), (10, 14), (2, 3), (5, 7)])
@pytest.mark.parametrize("method,tmode", [("bilinear", "bilinear"), ("nearest", "nearest-exact")])
def test_resize_matches_torch_with_gradients(size, method, tmode):
    x = RNG.standard_normal((2, 5, 7, 3))
    up = RNG.standard_normal((2,) + size + (3,))
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = tf.image.resize(xt, size, method=method)
        loss = tf.reduce_sum(y * tf.constant(up))
    g = tape.gradient(loss, xt).numpy()
    tx = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    kw = {"align_corners": False} if tmode == "bilinear" else {}
    ty = F.interpolate(tx, size=size, mode=tmode, **kw)
    (ty * torch.tensor(up.transpose(0, 3, 1, 2).copy())).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy().transpose(0, 2, 3, 1), atol=1e-12)
    np.testing.assert_allclose(g, tx.grad.numpy().transpose(0, 2, 3, 1), atol=1e-12)


def test_resize_rank3_int_and_aspect():
    img = np.arange(24, dtype=np.uint8).reshape(4, 2, 3)
    y = tf.image.resize(img, [8, 4])
    assert y.dtype == tf.float32 and y.shape.as_list() == [8, 4, 3]
    y = tf.image.resize(np.zeros((10, 20, 1), np.float32), [10, 10], preserve_aspect_ratio=True)
    assert y.shape.as_list() == [5, 10, 1]
    with pytest.raises(ValueError, match="resize: expected method"):
        tf.image.resize(img, [2, 2], method="bicubic")
    with pytest.raises(ValueError, match="rank 3"):
        tf.image.resize(np.zeros((3, 3)), [2, 2])


def test_flips_crops_pads_match_numpy():
    x = RNG.standard_normal((2, 5, 6, 3))
    np.testing.assert_array_equal(tf.image.flip_left_right(x).numpy(), x[:, :, ::-1])
    np.testing.assert_array_equal(tf.image.flip_up_down(x).numpy(), x[:, ::-1])
    np.testing.assert_array_equal(tf.image.rot90(x[0]).numpy(), np.rot90(x[0]))
    np.testing.assert_array_equal(tf.image.rot90(x, 3).numpy(), np.rot90(x, 3, axes=(1, 2)))
    np.testing.assert_array_equal(tf.image.crop_to_bounding_box(x, 1, 2, 3, 3).numpy(),
                                  x[:, 1:4, 2:5])
    p = tf.image.pad_to_bounding_box(x[0], 1, 2, 8, 9).numpy()
    np.testing.assert_array_equal(p[1:6, 2:8], x[0])
    assert p.sum() == pytest.approx(x[0].sum())
    np.testing.assert_array_equal(tf.image.central_crop(x, 0.5).numpy(), x[:, 1:4, 1:5])
    r = tf.image.resize_with_crop_or_pad(x, 3, 8).numpy()
    np.testing.assert_array_equal(r[:, :, 1:7], x[:, 1:4])
    with pytest.raises(ValueError, match="crop_to_bounding_box"):
        tf.image.crop_to_bounding_box(x, 3, 0, 3, 3)


def test_colour_adjustments():
    x = RNG.uniform(0, 1, (2, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(tf.image.adjust_brightness(x, 0.1).numpy(), x + 0.1, rtol=1e-6)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(tf.image.adjust_contrast(x, 2.0).numpy(), (x - mean) * 2 + mean,
                               rtol=1e-5)
    g = tf.image.rgb_to_grayscale(x).numpy()
    np.testing.assert_allclose(g[..., 0], x @ np.array([0.2989, 0.5870, 0.1140]), rtol=1e-5)


def test_projective_transform_identity_shift_and_fill_modes():
    x = RNG.standard_normal((2, 4, 5, 2))

    def pt(tr, **kw):
        return projective_transform(x, tr, **kw).numpy()

    ident = np.tile([1, 0, 0, 0, 1, 0, 0, 0], (2, 1)).astype(np.float64)
    np.testing.assert_allclose(pt(ident), x, atol=1e-12)
    shift = ident.copy()
    shift[:, 2] = 1.0  # output x reads input x + 1
    out = pt(shift, fill_mode="constant", fill_value=7.0)
    np.testing.assert_allclose(out[:, :, :-1], x[:, :, 1:])
    np.testing.assert_allclose(out[:, :, -1], 7.0)
    out = pt(shift, fill_mode="nearest")
    np.testing.assert_allclose(out[:, :, -1], x[:, :, -1])
    out = pt(shift, fill_mode="wrap")
    np.testing.assert_allclose(out[:, :, -1], x[:, :, 0])
    out = pt(shift, fill_mode="reflect")  # (d c b a | a b c d | d c)
    np.testing.assert_allclose(out[:, :, -1], x[:, :, -1])
    half = ident.copy()
    half[:, 2] = 0.5
    out = pt(half, fill_mode="nearest")
    np.testing.assert_allclose(out[:, :, :-1], (x[:, :, :-1] + x[:, :, 1:]) / 2, atol=1e-12)
    out = pt(half, interpolation="nearest")
    np.testing.assert_allclose(out[:, :, :-1], x[:, :, 1:])
    out = pt(shift, output_shape=(2, 3))
    np.testing.assert_allclose(out, x[:, :2, 1:4])


def test_projective_transform_is_differentiable():
    x = tf.constant(RNG.standard_normal((1, 3, 4, 1)))
    tr = np.array([[1, 0, 0.5, 0, 1, 0, 0, 0]], float)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = projective_transform(x, tr, fill_mode="nearest")
        loss = tf.reduce_sum(y)
    g = tape.gradient(loss, x).numpy()[0, :, :, 0]
    # each output blends columns j and j+1 half-half; the last reads column 3 twice
    np.testing.assert_allclose(g, np.tile([0.5, 1.0, 1.0, 1.5], (3, 1)))
