"""Regularizers and constraints: values against NumPy formulas, gradients, configs, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ndflow as tf
from ndflow.keras import constraints as C
from ndflow.keras import regularizers as R

W = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.5]], "float32")


def test_l1_l2_values_and_gradients():
    x = tf.Variable(W)
    for reg, value, grad in (
        (R.L1(0.1), 0.1 * np.abs(W).sum(), 0.1 * np.sign(W)),
        (R.L2(0.2), 0.2 * (W ** 2).sum(), 0.4 * W),
        (R.L1L2(l1=0.1, l2=0.2), 0.1 * np.abs(W).sum() + 0.2 * (W ** 2).sum(),
         0.1 * np.sign(W) + 0.4 * W),
    ):
        with tf.GradientTape() as tape:
            v = reg(x)
        assert float(v) == pytest.approx(value, rel=1e-6)
        np.testing.assert_allclose(tape.gradient(v, x).numpy(), grad, rtol=1e-6)
    assert float(R.L1L2()(x)) == 0.0


def test_orthogonal_regularizer():
    def ref(w, mode, factor):
        v = w / np.linalg.norm(w, axis=1 if mode == "rows" else 0, keepdims=True)
        g = v @ v.T if mode == "rows" else v.T @ v
        n = g.shape[0]
        off = np.abs(g * (1 - np.eye(n))).sum()
        return factor * 0.5 * off / (n * (n - 1) / 2)

    w = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    for mode in ("rows", "columns"):
        got = float(R.OrthogonalRegularizer(0.3, mode)(w))
        assert got == pytest.approx(ref(w.astype("float64"), mode, 0.3), rel=1e-5)
    with pytest.raises(ValueError, match="2D"):
        R.OrthogonalRegularizer()(np.ones((2, 2, 2), "float32"))
    with pytest.raises(ValueError, match="mode"):
        R.OrthogonalRegularizer(mode="diagonal")


def test_regularizer_configs_and_get():
    for name, cls in (("l1", R.L1), ("l2", R.L2), ("l1_l2", R.L1L2),
                      ("orthogonal_regularizer", R.OrthogonalRegularizer), ("L2", R.L2)):
        reg = R.get(name)
        assert isinstance(reg, cls)
        cfg = R.serialize(reg)
        json.dumps(cfg)
        assert cfg["module"] == "keras.regularizers" and cfg["class_name"] == cls.__name__
        assert R.deserialize(cfg).get_config() == reg.get_config()
    assert R.get("l2").get_config() == {"l2": 0.01}
    assert R.get(None) is None
    f = lambda x: 0.0  # noqa: E731
    assert R.get(f) is f
    with pytest.raises(ValueError, match="non-negative"):
        R.L2(-1.0)
    with pytest.raises(ValueError, match="unknown name 'l3'"):
        R.get("l3")


def test_max_norm_unit_norm_min_max_norm_non_neg():
    eps = 1e-7
    norms = np.sqrt((W ** 2).sum(axis=0, keepdims=True))
    np.testing.assert_allclose(C.MaxNorm(2.0)(W).numpy(),
                               W * np.minimum(norms, 2.0) / (norms + eps), rtol=1e-6)
    np.testing.assert_allclose(C.UnitNorm()(W).numpy(), W / (norms + eps), rtol=1e-6)
    desired = 0.5 * np.clip(norms, 1.0, 2.0) + 0.5 * norms
    np.testing.assert_allclose(C.MinMaxNorm(1.0, 2.0, rate=0.5)(W).numpy(),
                               W * desired / (norms + eps), rtol=1e-6)
    np.testing.assert_array_equal(C.NonNeg()(W).numpy(), np.maximum(W, 0))
    rows = np.sqrt((W ** 2).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(C.UnitNorm(axis=1)(W).numpy(), W / (rows + eps), rtol=1e-6)
    with pytest.raises(ValueError, match="min_value <= max_value"):
        C.MinMaxNorm(3.0, 1.0)


def test_constraint_configs_and_get():
    for name, cls in (("max_norm", C.MaxNorm), ("non_neg", C.NonNeg), ("unit_norm", C.UnitNorm),
                      ("min_max_norm", C.MinMaxNorm), ("MaxNorm", C.MaxNorm)):
        c = C.get(name)
        assert isinstance(c, cls)
        cfg = C.serialize(c)
        json.dumps(cfg)
        assert C.deserialize(cfg).get_config() == c.get_config()
    assert C.MaxNorm(3, axis=1).get_config() == {"max_value": 3, "axis": 1}
    assert C.get(None) is None
    with pytest.raises(ValueError, match="unknown name"):
        C.get("positive")
