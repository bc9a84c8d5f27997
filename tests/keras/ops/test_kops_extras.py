"""keras.ops: linalg primitives, attention, transposed/separable convolution, scan/switch,
saturate_cast, isin, image ops, and the modules' docstring examples."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.keras import ops

rng = np.random.default_rng(3)


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def _well(*batch, n=3):
    return (rng.uniform(-1, 1, size=batch + (n, n)) + 3 * np.eye(n)).astype(np.float32)


def test_inv_det_solve():
    a = _well(2)
    close(ops.inv(a), np.linalg.inv(a), rtol=1e-5)
    close(ops.det(a), np.linalg.det(a), rtol=1e-5)
    assert ops.det(a).dtype.name == "float32"
    b = rng.normal(size=(2, 3, 2)).astype(np.float32)
    close(ops.solve(a, b), np.linalg.solve(a, b), rtol=1e-5)
    v = rng.normal(size=(3,)).astype(np.float32)
    close(ops.solve(a[0], v), np.linalg.solve(a[0], v), rtol=1e-5)
    assert ops.inv(np.eye(2, dtype=np.int32)).dtype.name == "float32"
    neg = -a
    sign, logabs = ops.slogdet(neg)
    close(sign, np.linalg.slogdet(neg)[0])
    close(logabs, np.linalg.slogdet(neg)[1], rtol=1e-5)
    spd = a @ np.swapaxes(a, 1, 2) + np.eye(3, dtype=np.float32)
    close(ops.logdet(spd), np.log(np.linalg.det(spd)), rtol=1e-5)
    assert np.isnan(float(ops.logdet(-np.eye(3, dtype=np.float32))))
    big = np.eye(60, dtype=np.float64) * 100.0  # det overflows float32/float64-safe slogdet
    assert float(ops.slogdet(big)[1]) == pytest.approx(60 * np.log(100.0))
    with pytest.raises(ValueError, match="square"):
        ops.inv(np.ones((2, 3), np.float32))


def test_linalg_symbolic_and_traced():
    x = keras.Input((3, 3))
    y = ops.det(x)
    assert tuple(y.shape) == (None,)
    assert tuple(ops.inv(x).shape) == (None, 3, 3)
    a = _well(2)
    f = tf.function(lambda m: ops.solve(m, ops.ones((2, 3, 1))))
    close(f(tf.constant(a)), np.linalg.solve(a, np.ones((2, 3, 1), np.float32)), rtol=1e-5)


def _attention_ref(q, k, v, bias=None, mask=None, scale=None, causal=False):
    n, kh = q.shape[2], k.shape[2]
    k = np.repeat(k, n // kh, axis=2)
    v = np.repeat(v, n // kh, axis=2)
    s = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k) * s
    if bias is not None:
        logits = logits + bias
    allowed = np.ones(logits.shape, bool)
    if mask is not None:
        allowed &= np.broadcast_to(mask, logits.shape)
    if causal:
        allowed &= np.tri(q.shape[1], k.shape[1], dtype=bool)
    logits = np.where(allowed, logits, -1e30)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", p, v)


def test_dot_product_attention():
    q = rng.normal(size=(2, 4, 4, 8)).astype(np.float32)
    k = rng.normal(size=(2, 5, 2, 8)).astype(np.float32)
    v = rng.normal(size=(2, 5, 2, 8)).astype(np.float32)
    close(ops.dot_product_attention(q, k, v), _attention_ref(q, k, v), rtol=1e-4, atol=1e-5)
    mask = rng.uniform(size=(2, 1, 4, 5)) > 0.3
    mask[..., 0] = True
    bias = rng.normal(size=(1, 4, 4, 5)).astype(np.float32)
    close(ops.dot_product_attention(q, k, v, bias=bias, mask=mask, scale=0.5),
          _attention_ref(q, k, v, bias, mask, 0.5), rtol=1e-4, atol=1e-5)
    kk = rng.normal(size=(2, 4, 4, 8)).astype(np.float32)
    close(ops.dot_product_attention(q, kk, kk, is_causal=True),
          _attention_ref(q, kk, kk, causal=True), rtol=1e-4, atol=1e-5)


def test_conv_transpose_matches_torch():
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    w = rng.normal(size=(3, 4, 3)).astype(np.float32)  # (k, out, in)
    got = ops.conv_transpose(x, w, strides=2)
    want = torch.nn.functional.conv_transpose1d(
        torch.from_numpy(x.transpose(0, 2, 1)), torch.from_numpy(w.transpose(2, 1, 0)),
        stride=2).numpy().transpose(0, 2, 1)
    close(got, want, rtol=1e-4, atol=1e-5)
    assert tuple(ops.conv_transpose(x, w, strides=2, padding="same").shape) == (2, 10, 4)
    img = rng.normal(size=(1, 3, 3, 2)).astype(np.float32)
    w2 = rng.normal(size=(2, 2, 5, 2)).astype(np.float32)
    got2 = ops.conv_transpose(img, w2, strides=2)
    want2 = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(img.transpose(0, 3, 1, 2)), torch.from_numpy(w2.transpose(3, 2, 0, 1)),
        stride=2).numpy().transpose(0, 2, 3, 1)
    close(got2, want2, rtol=1e-4, atol=1e-5)


def test_separable_conv():
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    dw = rng.normal(size=(3, 3, 2)).astype(np.float32)
    pw = rng.normal(size=(1, 6, 4)).astype(np.float32)
    mid = np.stack([np.einsum("bkc,kcm->bcm", x[:, i:i + 3], dw).reshape(2, 6)
                    for i in range(4)], 1)
    close(ops.separable_conv(x, dw, pw), np.einsum("btc,co->bto", mid, pw[0]), rtol=1e-4,
          atol=1e-5)


def test_scan_switch():
    xs = np.arange(1, 5, dtype=np.float32)
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), np.float32(0), xs)
    assert float(carry) == 10.0
    close(ys, [0, 2, 9, 24])
    carry, ys = ops.scan(lambda c, x: (c + x, c), np.float32(0), xs, reverse=True)
    close(ys, [9, 7, 4, 0])
    c2, none = ops.scan(lambda c, _: (c * 2, None), 1, length=4)
    assert int(c2) == 16 and none is None
    branches = [lambda a: a + 1.0, lambda a: a * 10.0, lambda a: -a]
    assert float(ops.switch(1, branches, 2.0)) == 20.0
    assert float(ops.switch(7, branches, 2.0)) == -2.0
    f = tf.function(lambda i, a: ops.switch(i, branches, a))
    got = [float(f(tf.constant(k), tf.constant(2.0))) for k in (-3, 0, 1, 2, 9)]
    assert got == [3.0, 3.0, 20.0, -2.0, -2.0]


def test_extract_sequences():
    x = rng.normal(size=(2, 9)).astype(np.float32)
    got = ops.extract_sequences(x, 4, 2)
    want = np.stack([x[:, i:i + 4] for i in range(0, 6, 2)], axis=1)
    close(got, want)
    sym = ops.extract_sequences(keras.Input((9,)), 3, 3)
    assert tuple(sym.shape) == (None, 3, 3)
    with pytest.raises(ValueError, match="sequence_length"):
        ops.extract_sequences(x, 10, 1)


def test_saturate_cast_isin():
    got = ops.saturate_cast(np.array([-1e10, 3e9, 5.7, -5.7], np.float32), "int32")
    assert got.dtype.name == "int32"
    assert got.numpy().tolist()[2:] == [5, -5]
    assert got.numpy()[0] == np.iinfo(np.int32).min and got.numpy()[1] > 2 ** 31 - 200
    assert ops.saturate_cast(np.array([-1, 300, 5]), "uint8").numpy().tolist() == [0, 255, 5]
    big = ops.saturate_cast(np.array([1e300, -1e300]), "float32").numpy()
    assert np.isfinite(big).all() and big[0] == np.finfo(np.float32).max
    x, y = np.array([[1, 2], [3, 4]]), np.array([4, 1, 7])
    np.testing.assert_array_equal(np.asarray(ops.isin(x, y)), np.isin(x, y))
    np.testing.assert_array_equal(np.asarray(ops.isin(x, y, invert=True)), ~np.isin(x, y))


def test_image_ops():
    img = rng.uniform(size=(2, 4, 6, 3)).astype(np.float32)
    out = ops.image.resize(img, (8, 3))
    assert tuple(out.shape) == (2, 8, 3, 3)
    close(out, tf.image.resize(img, (8, 3)))
    cf = ops.image.resize(np.moveaxis(img, -1, 1), (8, 3), data_format="channels_first")
    close(cf, np.moveaxis(np.asarray(out), -1, 1))
    near = ops.image.resize(img, (8, 12), interpolation="nearest")
    close(near, img.repeat(2, axis=1).repeat(2, axis=2))
    gray = ops.image.rgb_to_grayscale(img)
    close(gray, img @ np.array([[0.2989], [0.5870], [0.1140]], np.float32), rtol=1e-5)
    gi = ops.image.rgb_to_grayscale(np.full((1, 2, 2, 3), 100, np.uint8))
    assert gi.dtype.name == "uint8" and int(gi.numpy()[0, 0, 0, 0]) == 99
    with pytest.raises(ValueError, match="aspect"):
        ops.image.resize(img, (3, 3), crop_to_aspect_ratio=True)


@pytest.mark.parametrize("name", ["ndflow.keras.ops", "ndflow.keras.ops._common",
                                  "ndflow.keras.ops.numpy", "ndflow.keras.ops.nn",
                                  "ndflow.keras.ops.math", "ndflow.keras.ops.core",
                                  "ndflow.keras.ops.linalg", "ndflow.keras.ops.image"])
def test_docstring_examples(name):
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
    assert result.attempted > 0


def test_namespace_exports_only_built_ops():
    for name in ops.__all__:
        assert callable(getattr(ops, name)) or name in {"core", "image", "linalg", "math", "nn",
                                                         "numpy"}, name
    for name in ["resize", "rgb_to_grayscale"]:
        assert name in ops.image.__all__ and not hasattr(ops, name)
    assert ops.nn.relu is ops.relu and ops.numpy.mean is ops.mean


def test_custom_gradient_eager_traced_symbolic():
    @ops.custom_gradient
    def scaled_identity(x, y):
        return x + y, lambda g: (g * 0.5, g * 2.0)

    x = tf.constant([1.0, 2.0])
    y = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        out = ops.sum(scaled_identity(x, y))
    gx, gy = tape.gradient(out, [x, y])
    close(out, 9.0)
    close(gx, [0.5, 0.5])
    close(gy, 4.0)  # broadcast input: summed back to its shape

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            out = ops.sum(scaled_identity(x, y))
        return tape.gradient(out, [x, y])

    tx, ty = step(x, y)
    close(tx, gx)
    close(ty, gy)
    sym = scaled_identity(keras.Input((3,)), 1.0)
    assert tuple(sym.shape) == (None, 3)

    @ops.custom_gradient
    def bad(x):
        return x, lambda g: (g, g)

    with tf.GradientTape() as tape:
        tape.watch(x)
        z = ops.sum(bad(x))
    with pytest.raises(ValueError, match="one per input"):
        tape.gradient(z, x)
    with pytest.raises(ValueError, match="positional"):
        scaled_identity(x, y=y)
