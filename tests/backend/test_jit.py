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


@pytest.fixture
def jit_off():
    previous = jit.set_enabled(False)
    yield
    if previous:
        jit.set_enabled(True)


@pytest.mark.parametrize("module", ["ndflow.backend.jit",
                                    "ndflow.keras.optimizers.fused_updates"])
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


def test_set_enabled_switches_and_reports_previous(jit_off):
    assert jit.enabled() is False
    assert jit.flat_operands(np.zeros(2, np.float32)) is None


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
    previous = jit.set_enabled(False)
    try:
        plain = _train(name, kwargs, dtype)
    finally:
        jit.set_enabled(previous)
    assert len(fused) == len(plain)
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(fused[0], _train(name, kwargs, dtype, steps=0)[0])  # it moved


@needs_numba
def test_adam_amsgrad_kernel_propagates_nan_like_np_maximum():
    from ndflow.keras.optimizers import fused_updates

    f32 = np.float32
    var = np.zeros(3, f32)
    g = np.zeros(3, f32)
    m = np.zeros(3, f32)
    v = np.array([np.nan, 1.0, 1.0], f32)  # v after the update keeps its NaN
    vhat = np.array([0.0, np.nan, 2.0], f32)
    fused_updates.adam(var, g, m, v, vhat, f32(1), f32(0.1), f32(0.0), f32(1e-7), True)
    expected = np.maximum(np.array([0.0, np.nan, 2.0], f32), np.array([np.nan, 1.0, 1.0], f32))
    np.testing.assert_array_equal(vhat, expected)
