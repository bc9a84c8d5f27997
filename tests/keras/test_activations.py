"""Every Keras 3 activation: forward values and gradients against PyTorch (or NumPy formulas),
plus get/serialize/deserialize."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import ndflow as tf
from ndflow.keras import activations

X = np.array([[-4.0, -2.5, -1.1, -0.6, -0.2, 0.1, 0.4, 0.9, 1.7, 3.2],
              [2.0, -0.3, 0.05, 1.2, -3.3, 0.7, -0.9, 2.6, -1.4, 0.3]], "float32")


def _sparse_plus(t):
    return torch.where(t <= -1, torch.zeros_like(t),
                       torch.where(t >= 1, t, (t + 1) ** 2 / 4))


def _sparsemax_np(z):
    out = np.zeros_like(z)
    for i, row in enumerate(z):
        s = np.sort(row)[::-1]
        k = np.arange(1, len(row) + 1)
        cs = np.cumsum(s)
        kz = k[1 + k * s > cs].max()
        tau = (cs[kz - 1] - 1) / kz
        out[i] = np.maximum(row - tau, 0)
    return out


CASES = {
    "relu": torch.relu,
    "relu6": F.relu6,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.2),
    "elu": F.elu,
    "selu": F.selu,
    "celu": F.celu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "silu": F.silu,
    "swish": F.silu,
    "gelu": F.gelu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "exponential": torch.exp,
    "hard_sigmoid": lambda t: F.relu6(t + 3) / 6,
    "hard_silu": F.hardswish,
    "hard_swish": F.hardswish,
    "hard_tanh": F.hardtanh,
    "hard_shrink": F.hardshrink,
    "soft_shrink": F.softshrink,
    "tanh_shrink": F.tanhshrink,
    "linear": lambda t: t,
    "mish": F.mish,
    "log_sigmoid": F.logsigmoid,
    "softmax": lambda t: torch.softmax(t, -1),
    "log_softmax": lambda t: torch.log_softmax(t, -1),
    "glu": lambda t: F.glu(t, -1),
    "squareplus": lambda t: (t + torch.sqrt(t * t + 4)) / 2,
    "sparse_plus": _sparse_plus,
    "sparse_sigmoid": lambda t: torch.clamp((t + 1) / 2, 0, 1),
    "crelu": lambda t: torch.cat([torch.relu(t), torch.relu(-t)], -1),
}


def test_every_keras3_activation_is_covered():
    expected = {"relu", "leaky_relu", "relu6", "softmax", "celu", "elu", "selu", "softplus",
                "softsign", "squareplus", "soft_shrink", "sparse_plus", "silu", "gelu", "glu",
                "tanh", "tanh_shrink", "threshold", "sigmoid", "sparse_sigmoid", "exponential",
                "hard_sigmoid", "hard_silu", "hard_tanh", "hard_shrink", "linear", "mish",
                "log_softmax", "log_sigmoid", "sparsemax", "swish", "hard_swish"}
    assert expected <= set(activations.ALL_OBJECTS_DICT)
    assert set(activations.ALL_OBJECTS_DICT) - {"crelu"} <= set(CASES) | {"threshold",
                                                                          "sparsemax"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_activation_matches_torch(name):
    fn = activations.get(name)
    rng = np.random.default_rng(3)
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        coef = tf.constant(rng.standard_normal(tuple(y.shape)).astype("float32"))
        loss = tf.reduce_sum(y * coef)
    g = tape.gradient(loss, x)
    tx = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    ty = CASES[name](tx)
    (ty * torch.tensor(coef.numpy(), dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(g.numpy(), tx.grad.numpy(), rtol=2e-4, atol=2e-5)


def test_relu_options_match_formula():
    x = X.astype("float64")
    y = activations.relu(tf.constant(x), negative_slope=0.1, max_value=2.0, threshold=0.5)
    expect = np.where(x > 0.5, np.minimum(x, 2.0), 0.0) - 0.1 * np.maximum(0.5 - x, 0)
    np.testing.assert_allclose(y.numpy(), expect, rtol=1e-12)
    np.testing.assert_allclose(activations.relu(X, max_value=6).numpy(), np.clip(X, 0, 6))


def test_elu_alpha_and_leaky_slope():
    np.testing.assert_allclose(activations.elu(X, alpha=0.5).numpy(),
                               F.elu(torch.tensor(X), 0.5).numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(activations.leaky_relu(X, negative_slope=0.3).numpy(),
                               F.leaky_relu(torch.tensor(X), 0.3).numpy(), rtol=1e-6)
    np.testing.assert_allclose(activations.gelu(X, approximate=True).numpy(),
                               F.gelu(torch.tensor(X), approximate="tanh").numpy(), rtol=1e-5,
                               atol=1e-6)


def test_threshold_and_sparsemax():
    np.testing.assert_allclose(activations.threshold(X, 0.5, -2.0).numpy(),
                               F.threshold(torch.tensor(X), 0.5, -2.0).numpy())
    y = activations.sparsemax(X).numpy()
    np.testing.assert_allclose(y, _sparsemax_np(X.astype("float64")), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-6)
    # gradient of sparsemax by central finite differences (float64)
    x64 = tf.constant(X.astype("float64"))
    coef = np.random.default_rng(0).standard_normal(X.shape)
    with tf.GradientTape() as tape:
        tape.watch(x64)
        s = tf.reduce_sum(activations.sparsemax(x64) * tf.constant(coef))
    g = tape.gradient(s, x64).numpy()
    eps = 1e-6
    num = np.zeros_like(g)
    for idx in np.ndindex(X.shape):
        d = np.zeros(X.shape)
        d[idx] = eps
        f = lambda v: float(np.sum(_sparsemax_np(v) * coef))  # noqa: E731
        num[idx] = (f(X.astype("float64") + d) - f(X.astype("float64") - d)) / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-6)


def test_integer_and_list_inputs_become_float32():
    assert activations.relu([1, -2]).dtype == tf.float32
    assert activations.sigmoid([0.0]).dtype == tf.float32


def test_activations_on_symbolic_tensors():
    from ndflow import keras

    x = keras.Input(shape=(4,))
    for name in ("relu", "gelu", "softmax", "mish", "hard_silu", "sparsemax", "sparse_plus"):
        assert tuple(activations.get(name)(x).shape) == (None, 4)
    assert tuple(activations.glu(x).shape) == (None, 2)


def test_get_serialize_deserialize():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    assert activations.serialize(activations.relu) == "relu"
    assert activations.deserialize("gelu") is activations.gelu
    keras_dict = {"module": "keras.activations", "class_name": "function", "config": "tanh",
                  "registered_name": None}
    assert activations.deserialize(keras_dict) is activations.tanh
    custom = lambda x: x  # noqa: E731
    assert activations.get(custom) is custom

    def my_act(x):
        return x * 3

    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        activations.get("relux")
    with pytest.raises(ValueError, match="could not interpret"):
        activations.get(42)


def test_bad_inputs():
    with pytest.raises(ValueError, match="glu.*even size"):
        activations.glu(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="softmax.*rank >= 1"):
        activations.softmax(tf.constant(1.0))
