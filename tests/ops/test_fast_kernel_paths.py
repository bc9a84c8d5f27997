"""Fast paths inside kernels give the same answers as the general code or a brute-force
reference: tiled max pooling (window index and ties), the small-channel column layout of
convolutions, the leading-axes column sums, and the host-memory setting."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

import ndflow as tf
from ndflow.ops import conv as conv_ops
from ndflow.ops import pooling


def _brute_max_pool(x: np.ndarray, ks: tuple, pads: tuple, out: tuple) -> tuple:
    xp = np.pad(x, ((0, 0),) + pads + ((0, 0),), constant_values=-np.inf)
    n, c = x.shape[0], x.shape[-1]
    y = np.empty((n,) + out + (c,), x.dtype)
    idx = np.empty((n,) + out + (c,), np.int64)
    for pos in itertools.product(*[range(o) for o in out]):
        sl = tuple(slice(p * k, p * k + k) for p, k in zip(pos, ks))
        win = xp[(slice(None),) + sl + (slice(None),)].reshape(n, -1, c)
        y[(slice(None),) + pos] = win.max(1)
        idx[(slice(None),) + pos] = win.argmax(1)  # first maximum in row-major order
    return y, idx


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_tiled_max_pool_matches_brute_force_with_ties(nd):
    rng = np.random.default_rng(nd)
    for ks in itertools.product((1, 2, 3), repeat=nd):
        shape = (3,) + tuple(int(rng.integers(k, 8)) for k in ks) + (4,)
        x = np.floor(rng.random(shape) * 3).astype(np.float32)  # many ties
        for padding in ("VALID", "SAME"):
            pads, out = pooling._geo("t", x.shape, ks, ks, padding)
            y, idx = pooling._max_pool_fwd(np, x, ksize=ks, strides=ks, padding=padding,
                                           channels_first=False)
            ry, ridx = _brute_max_pool(x, ks, pads, out)
            np.testing.assert_array_equal(y, ry, err_msg=f"{ks} {padding}")
            np.testing.assert_array_equal(idx, ridx, err_msg=f"{ks} {padding}")


def test_tiled_max_pool_gradient_goes_to_first_maximum():
    x = tf.constant(np.array([[1, 3, 3, 0], [3, 2, 1, 1]], np.float32).reshape(1, 2, 4, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.nn.max_pool2d(x, 2, 2, "VALID"))
    g = tape.gradient(y, x).numpy().reshape(2, 4)
    np.testing.assert_array_equal(g, [[0, 1, 1, 0], [0, 0, 0, 0]])


@pytest.mark.parametrize("c", [1, 3, 9])
def test_small_channel_conv_layout_matches_float64(c):
    rng = np.random.default_rng(c)
    x = rng.standard_normal((4, 9, 8, c)).astype(np.float32)
    w = rng.standard_normal((3, 2, c, 5)).astype(np.float32)
    g = rng.standard_normal((4, 7, 7, 5)).astype(np.float32)
    geo = dict(strides=(1, 1), dilations=(1, 1), padding="VALID", groups=1,
               channels_first=False)
    y = conv_ops._conv_fwd(np, x, w, **geo)
    dw = conv_ops._bp_filter_fwd(np, x, g, filter_shape=w.shape, **geo)
    x64, w64, g64 = x.astype(np.float64), w.astype(np.float64), g.astype(np.float64)
    ref_y = np.zeros((4, 7, 7, 5))
    ref_dw = np.zeros(w.shape)
    for i, j in itertools.product(range(3), range(2)):
        win = x64[:, i:i + 7, j:j + 7, :]
        ref_y += win @ w64[i, j]
        ref_dw[i, j] = np.einsum("nhwc,nhwo->co", win, g64)
    np.testing.assert_allclose(y, ref_y, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-4, atol=1e-3)


def test_leading_axes_sum_is_accurate():
    rng = np.random.default_rng(0)
    a = rng.random((64, 26, 26, 8), dtype=np.float32)
    exact = a.astype(np.float64).sum((0, 1, 2))
    got = tf.reduce_sum(a, axis=[0, 1, 2]).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, exact, rtol=1e-5)
    assert tf.reduce_sum(a, axis=[0, 1], keepdims=True).shape == [1, 1, 26, 8]
    np.testing.assert_allclose(tf.reduce_sum(a, axis=[0, 1], keepdims=True).numpy(),
                               a.astype(np.float64).sum((0, 1), keepdims=True), rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, k", [((128, 13, 13, 32), 3), ((300, 7), 1), ((64, 50, 3, 2), 2),
                                      ((5, 4000, 128), 2), ((2, 3), 1)])
def test_leading_sum_gives_numpy_bits(shape, k, dtype):
    """A bias gradient's sum over the leading axes: a compiled pass with NumPy's bits, through
    reduce_sum and sum_to_shape, eagerly and in a graph."""
    from ndflow.backend import jit
    from ndflow.ops.row_sums import leading_sum
    from ndflow.ops.shape_ops import sum_to_shape

    a = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    ref = a.sum(axis=tuple(range(k)))
    if jit.enabled():
        np.testing.assert_array_equal(leading_sum(a, k), ref)
    axes = list(range(k))
    np.testing.assert_array_equal(tf.reduce_sum(a, axis=axes).numpy(), ref)
    np.testing.assert_array_equal(sum_to_shape(tf.constant(a), shape[k:]).numpy(), ref)
    traced = tf.function(lambda x: sum_to_shape(x, shape[k:]))
    np.testing.assert_array_equal(traced(a).numpy(), ref)


def test_leading_sum_leaves_other_cases_to_numpy():
    from ndflow.backend import jit
    from ndflow.ops.row_sums import leading_sum

    a = np.ones((100, 1), np.float32)
    assert leading_sum(a, 1) is None  # one value per row: NumPy's pairwise sum
    assert leading_sum(np.ones((100, 4), np.int32), 1) is None
    assert leading_sum(np.ones((4, 100), np.float32).T, 1) is None  # not C-contiguous
    assert leading_sum(np.ones((4, 5), np.float32), 0) is None
    with jit.switched(False):
        assert leading_sum(np.ones((100, 4), np.float32), 1) is None


def test_reduce_sum_blas_trait_follows_the_path_it_takes():
    from ndflow.backend import jit
    from ndflow.ops import reduce

    specs = [((4096, 32), np.float32)]
    with jit.switched(False):
        assert reduce._sum_blas({"axis": (0,)}, specs) == "any"  # the matrix-vector product
    if jit.enabled():
        assert reduce._sum_blas({"axis": (0,)}, specs) == []
        assert reduce._sum_blas({"axis": (0,)}, [((65536, 1), np.float32)]) == "any"
    assert reduce._sum_blas({"axis": (1,)}, specs) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc only")
def test_keep_freed_memory_setting():
    code = ("import ndflow.backend.host_memory as h, ndflow; "
            "print(h.keep_freed_memory())")
    env = dict(os.environ)
    env.pop("NDFLOW_KEEP_FREED_MEMORY", None)
    on = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                        check=True).stdout.strip()
    env["NDFLOW_KEEP_FREED_MEMORY"] = "0"
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert off == "False"
    import platform
    assert on == ("True" if platform.libc_ver()[0] == "glibc" else "False")


def test_unit_pool_does_not_alias_its_input():
    x = np.random.default_rng(0).random((2, 4, 4, 3)).astype(np.float32)
    y, _ = pooling._max_pool_fwd(np, x, ksize=(1, 1), strides=(1, 1), padding="VALID",
                                 channels_first=False)
    np.testing.assert_array_equal(y, x)
    assert not np.shares_memory(x, y)


@pytest.mark.parametrize("case", [
    ((9, 9), 1, 4, (3, 3), (1, 1), "VALID", 1, (2, 2)),
    ((13, 13), 32, 8, (3, 3), (1, 1), "VALID", 1, (2, 2)),
    ((10, 11), 3, 5, (2, 3), (1, 2), "SAME", 1, (2, 3)),
    ((12, 12), 9, 4, (3, 3), (1, 1), "VALID", 2, (3, 3)),
    ((8, 8), 8, 2, (3, 3), (1, 1), "SAME", 1, (1, 2)),
    ((7, 6, 6), 2, 3, (2, 2, 2), (1, 1, 1), "VALID", 1, (2, 2, 2)),
    ((11,), 10, 4, (3,), (2,), "SAME", 1, (2,)),
])
@pytest.mark.parametrize("chunk_bytes", [None, 200])  # 200: many chunks, a partial last one
def test_conv_max_pool_equals_conv_then_pool(case, chunk_bytes, monkeypatch):
    """Exact on whole numbers with many ties (first maximum wins), also when the few-channel
    products and the pool run chunk by chunk of pooled positions."""
    from ndflow.ops import conv_pool
    from ndflow.ops.conv_pool import conv_max_pool

    if chunk_bytes:
        monkeypatch.setattr(conv_pool, "_CHUNK_BYTES", chunk_bytes)
    spatial, c, o, ks, strides, padding, dil, pool = case
    rng = np.random.default_rng(len(spatial) * 100 + c)
    x = np.floor(rng.random((3,) + spatial + (c,)) * 3).astype(np.float32)  # ties
    w = np.floor(rng.random(ks + (c, o)) * 3 - 1).astype(np.float32)
    y, idx = conv_max_pool(x, w, pool_size=pool, strides=strides, padding=padding,
                           dilations=dil)
    z = tf.nn.convolution(x, w, strides=strides, padding=padding, dilations=dil).numpy()
    ry, ridx = pooling._max_pool_fwd(np, z, ksize=pool, strides=pool, padding="VALID",
                                     channels_first=False)
    np.testing.assert_array_equal(y.numpy(), ry)
    np.testing.assert_array_equal(idx.numpy(), ridx)


@pytest.mark.parametrize("case", [
    ((9, 9), 1, 4, (3, 3), (1, 1), "VALID", 1, (2, 2)),
    ((10, 11), 3, 5, (2, 3), (1, 2), "SAME", 1, (2, 3)),
    ((12, 12), 2, 4, (3, 3), (1, 1), "VALID", 2, (3, 3)),
])
def test_first_layer_filter_gradient_chunked_equals_whole(case, monkeypatch):
    """The filter gradient of a few-channel conv_max_pool with no input gradient (a first
    layer) summed chunk by chunk of pooled positions: exact on whole numbers, so equal to the
    one-GEMM form."""
    from ndflow.ops import conv_pool, conv_pool_grad
    from ndflow.ops.conv_pool import conv_max_pool

    spatial, c, o, ks, strides, padding, dil, pool = case
    rng = np.random.default_rng(7)
    x = np.floor(rng.random((3,) + spatial + (c,)) * 3).astype(np.float32)
    w = np.floor(rng.random(ks + (c, o)) * 3 - 1).astype(np.float32)
    y, idx = conv_max_pool(x, w, pool_size=pool, strides=strides, padding=padding,
                           dilations=dil)
    g = np.floor(rng.random(y.shape) * 5 - 2).astype(np.float32)
    attrs = dict(strides=strides, dilations=(dil,) * 2, padding=padding, pool_size=pool,
                 needs=(False, True))
    whole = conv_pool_grad._grad_fwd(np, x, g, idx.numpy(), w, **attrs)[1]
    monkeypatch.setattr(conv_pool, "_CHUNK_BYTES", 200)  # many chunks, a partial last
    chunked = conv_pool_grad._grad_fwd(np, x, g, idx.numpy(), w, **attrs)[1]
    np.testing.assert_array_equal(chunked, whole)
    ref = conv_pool_grad._grad_fwd(np, x, g, idx.numpy(), w, **dict(attrs, needs=(True, True)))
    np.testing.assert_array_equal(chunked, ref[1])


@pytest.mark.parametrize("module", ["ndflow.ops.conv_pool", "ndflow.backend.host_memory"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
