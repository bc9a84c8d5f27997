"""Compiled kernels (`ndflow.backend.jit`) give bitwise the values of the NumPy paths they
replace, fall back cleanly when they cannot take the operands, and can be turned off."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

import ndflow as tf
from ndflow.backend import jit
from ndflow.keras import optimizers

needs_numba = pytest.mark.skipif(not jit.enabled(), reason="numba not installed or NDFLOW_JIT=0")


@pytest.mark.parametrize("module", ["ndflow.backend.jit",
                                    "ndflow.keras.optimizers.base_optimizer"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_flat_operands_rejects_what_a_kernel_cannot_take():
    a = np.zeros((3, 4), np.float32)
    if not jit.enabled():
        assert jit.flat_operands(a, a) is None
        return
    flat = jit.flat_operands(a, np.ones((3, 4), np.float32))
    assert [f.shape for f in flat] == [(12,), (12,)]
    assert np.shares_memory(flat[0], a)  # views, so kernels write in place
    assert jit.flat_operands(a, a.astype(np.float64)) is None  # mixed dtypes
    assert jit.flat_operands(a, np.zeros(11, np.float32)) is None  # sizes differ
    assert jit.flat_operands(a.T, a) is None  # not C-contiguous
    assert jit.flat_operands(a.astype(np.int32), a) is None  # not float
    ro = a.copy()
    ro.flags.writeable = False
    assert jit.flat_operands(a, ro) is None


def test_set_enabled_reports_the_previous_setting_and_switched_restores_it():
    before = jit.enabled()
    with jit.switched(False):
        assert jit.enabled() is False
        assert jit.flat_operands(np.zeros(2, np.float32)) is None
        assert jit.set_enabled(False) is False  # returns the setting it replaces
    assert jit.enabled() is before


_OPTIMIZERS = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.5}),
    ("RMSprop", {"centered": True}),  # NumPy path on both sides
    ("Adam", {}),
    ("Adam", {"amsgrad": True}),
    ("AdamW", {"weight_decay": 0.01}),
]


def _train(name: str, kwargs: dict, dtype: str, steps: int = 6) -> list:
    rng = np.random.default_rng(3)
    var = tf.Variable(rng.standard_normal((7, 5)).astype(dtype))
    bias = tf.Variable(rng.standard_normal(5).astype(dtype))
    opt = getattr(optimizers, name)(learning_rate=0.01, **kwargs)
    for i in range(steps):
        g = rng.standard_normal((7, 5)).astype(dtype)
        if i == 2:
            g[0, 0] = 0.0  # exercises amsgrad's max and zero gradients
        opt.apply_gradients([(tf.constant(g), var),
                             (tf.constant(rng.standard_normal(5).astype(dtype)), bias)])
    return [var.numpy(), bias.numpy()] + [v.numpy() for v in opt.variables]


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs", _OPTIMIZERS)
def test_fused_updates_equal_numpy_updates_bitwise(name, kwargs, dtype):
    fused = _train(name, kwargs, dtype)
    with jit.switched(False):
        plain = _train(name, kwargs, dtype)
    assert len(fused) == len(plain)
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(fused[0], _train(name, kwargs, dtype, steps=0)[0])  # it moved


@needs_numba
def test_adam_amsgrad_kernel_propagates_nan_like_np_maximum():
    from ndflow.keras.optimizers.adam import _AMSGRAD

    f32 = np.float32
    vhat0 = np.array([0.0, np.nan, 2.0], f32)
    v0 = np.array([np.nan, 1.0, 1.0], f32)  # v after the update keeps its NaN
    results = []
    for on in (True, False):
        with jit.switched(on):
            arrays = [np.zeros(3, f32), np.zeros(3, f32), np.zeros(3, f32), v0.copy(),
                      vhat0.copy()]
            with np.errstate(invalid="ignore"):
                _AMSGRAD(arrays, (0.1, 0.0, 1e-7, 1.0))
            results.append(arrays[4])
    np.testing.assert_array_equal(results[0], np.maximum(vhat0, v0))
    np.testing.assert_array_equal(results[0], results[1])


def _pool_grad_both(shape, ksize, strides, padding, dtype, channels_first=False):
    from ndflow.ops.pooling import _max_pool_fwd, _max_pool_grad_fwd

    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 0] = 1.0  # ties: the first maximal offset gets the gradient
    attrs = dict(ksize=ksize, strides=strides, padding=padding, channels_first=channels_first)
    y, idx = _max_pool_fwd(np, x, **attrs)
    g = rng.standard_normal(y.shape).astype(dtype)
    special = np.array([np.nan, -0.0, np.inf], dtype)
    g.reshape(-1)[:3] = special[:min(3, g.size)]
    with np.errstate(invalid="ignore"):  # NumPy path: inf * (idx == k) is NaN off the argmax
        fused = _max_pool_grad_fwd(np, g, idx, input_shape=shape, **attrs)
        with jit.switched(False):
            plain = _max_pool_grad_fwd(np, g, idx, input_shape=shape, **attrs)
    return fused, plain


@needs_numba
@pytest.mark.parametrize("shape,ksize,strides,padding", [
    ((2, 8, 8, 3), (2, 2), (2, 2), "VALID"),     # tiles the input: no zero fill
    ((2, 9, 7, 3), (2, 2), (2, 2), "VALID"),     # trailing rows/cols dropped
    ((2, 9, 7, 3), (3, 2), (3, 2), "SAME"),      # padded, then cropped back
    ((2, 10, 10, 2), (2, 2), (3, 3), "VALID"),   # stride > window: gaps stay zero
    ((2, 17, 17, 1), (16, 16), (16, 16), "VALID"),  # 256 offsets: int32 window index
    ((3, 11, 4), (2,), (2,), "VALID"),           # 1-D, as 2-D of height one
    ((3, 11, 4), (3,), (3,), "SAME"),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool_grad_kernel_equals_numpy_path_bitwise(shape, ksize, strides, padding, dtype):
    fused, plain = _pool_grad_both(shape, ksize, strides, padding, dtype)
    np.testing.assert_array_equal(fused, plain)
    assert np.signbit(fused).sum() == np.signbit(plain).sum()  # -0.0 kept as NumPy does


def test_max_pool_grad_channels_first_takes_numpy_path_and_agrees():
    fused, plain = _pool_grad_both((2, 3, 8, 8), (2, 2), (2, 2), "VALID", "float32",
                                   channels_first=True)
    np.testing.assert_array_equal(fused, plain)


@needs_numba
@pytest.mark.parametrize("xshape,kshape,strides,dilations,padding", [
    ((3, 13, 13, 32), (3, 3, 32, 64), (1, 1), (1, 1), "VALID"),
    ((2, 9, 8, 5), (3, 2, 5, 4), (2, 1), (1, 2), "SAME"),
    ((2, 10, 7, 3), (2, 3, 3, 6), (3, 2), (2, 1), "VALID"),
    ((2, 17, 6), (5, 6, 4), (2,), (1,), "SAME"),   # 1-D, as 2-D of height one
    ((2, 17, 6), (3, 6, 4), (1,), (3,), "VALID"),
])
def test_conv_input_gradient_col2im_kernel_matches_numpy_path(xshape, kshape, strides,
                                                              dilations, padding):
    from ndflow.ops.conv import _conv_bp_input_core, _geometry

    rng = np.random.default_rng(7)
    nd = len(xshape) - 2
    _, out = _geometry("conv", xshape[1:-1], kshape[:nd], strides, dilations, padding)
    g = rng.standard_normal((xshape[0],) + out + (kshape[-1],)).astype(np.float32)
    w = rng.standard_normal(kshape).astype(np.float32)
    args = (g, w, xshape[1:-1], strides, dilations, padding, 1)
    fused = _conv_bp_input_core(np, *args)
    with jit.switched(False):
        plain = _conv_bp_input_core(np, *args)
    assert fused.shape == plain.shape == xshape
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-5)


@needs_numba
@pytest.mark.parametrize("xshape,kshape", [((3, 12, 12, 1), (3, 3, 1, 8)),
                                           ((2, 9, 11, 9), (2, 2, 9, 5))])
def test_conv_max_pool_first_max_kernel_equals_numpy_path_bitwise(xshape, kshape):
    from ndflow.ops.conv_pool import _conv_pool_fwd

    rng = np.random.default_rng(11)
    x = rng.integers(-2, 3, xshape).astype(np.float32)  # many ties between window offsets
    w = rng.integers(-1, 2, kshape).astype(np.float32)
    x[0, :3, :3] = np.nan  # NaN windows: the value is NaN, the label stays the first max
    attrs = dict(strides=(1, 1), dilations=(1, 1), padding="VALID", pool_size=(2, 2))
    fused = _conv_pool_fwd(np, x, w, **attrs)
    with jit.switched(False):
        plain = _conv_pool_fwd(np, x, w, **attrs)
    for a, b in zip(fused, plain):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert np.isnan(fused[0]).any()
