"""LayerNormalization, BatchNormalization, UnitNormalization: harness, forward and gradients
against PyTorch, moving statistics against NumPy, frozen behaviour, masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ndflow as tf
from ndflow.keras import layers
from tests.keras.layers.harness import run_layer_test

rng = np.random.default_rng(0)


# --- LayerNormalization --------------------------------------------------------------------------
def test_layer_norm_harness():
    run_layer_test(layers.LayerNormalization, {}, (3, 5), (3, 5),
                   expected_num_trainable_weights=2,
                   expected_weights=[("gamma", (5,)), ("beta", (5,))], supports_masking=True,
                   wrong_input_shape=(3, 6))
    run_layer_test(layers.LayerNormalization, {"axis": [1, 2], "center": False}, (2, 3, 4),
                   (2, 3, 4), expected_num_trainable_weights=1,
                   expected_weights=[("gamma", (3, 4))], supports_masking=True)
    run_layer_test(layers.LayerNormalization, {"rms_scaling": True}, (2, 6), (2, 6),
                   expected_num_trainable_weights=1, supports_masking=True)


@pytest.mark.parametrize("shape,axis", [((4, 6), -1), ((2, 3, 5), -1), ((2, 3, 5), [1, 2])])
def test_layer_norm_matches_torch(shape, axis):
    x = rng.standard_normal(shape).astype("float32") * 3 + 1
    layer = layers.LayerNormalization(axis=axis, epsilon=1e-3)
    layer.build(shape)
    norm_shape = layer.gamma.shape
    gamma = rng.standard_normal(norm_shape).astype("float32")
    beta = rng.standard_normal(norm_shape).astype("float32")
    layer.set_weights([gamma, beta])
    coef = rng.standard_normal(shape).astype("float32")
    xt = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = layer(xt)
        loss = tf.reduce_sum(y * tf.constant(coef))
    gx, gg, gb = tape.gradient(loss, [xt, layer.gamma, layer.beta])

    tx = torch.tensor(x, requires_grad=True)
    ln = torch.nn.LayerNorm(tuple(norm_shape), eps=1e-3)
    ln.weight.data, ln.bias.data = torch.tensor(gamma), torch.tensor(beta)
    ty = ln(tx)
    (ty * torch.tensor(coef)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(gg.numpy(), ln.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gb.numpy(), ln.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_rms_scaling_matches_formula():
    x = rng.standard_normal((3, 7)).astype("float64")
    layer = layers.LayerNormalization(rms_scaling=True, dtype="float64")
    y = layer(x).numpy()
    np.testing.assert_allclose(y, x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-3),
                               rtol=1e-10)


def test_layer_norm_defaults():
    cfg = layers.LayerNormalization().get_config()
    assert cfg["epsilon"] == 1e-3 and cfg["axis"] == -1


# --- BatchNormalization --------------------------------------------------------------------------
def test_batch_norm_harness():
    run_layer_test(layers.BatchNormalization, {}, (8, 5), (8, 5),
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=2,
                   expected_weights=[("gamma", (5,)), ("beta", (5,)), ("moving_mean", (5,)),
                                     ("moving_variance", (5,))],
                   training_changes_non_trainable=True, supports_masking=True,
                   wrong_input_shape=(8, 6))
    run_layer_test(layers.BatchNormalization, {"axis": 1, "center": False}, (4, 3, 2),
                   (4, 3, 2), expected_num_trainable_weights=1,
                   expected_num_non_trainable_weights=2, supports_masking=True)


@pytest.mark.parametrize("shape,axis", [((16, 5), -1), ((4, 3, 6), -1), ((4, 3, 6), 1)])
def test_batch_norm_training_matches_torch(shape, axis):
    x = (rng.standard_normal(shape) * 2 + 0.5).astype("float32")
    layer = layers.BatchNormalization(axis=axis, momentum=0.9, epsilon=1e-3)
    layer.build(shape)
    c = shape[axis]
    gamma = rng.standard_normal(c).astype("float32")
    beta = rng.standard_normal(c).astype("float32")
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    coef = rng.standard_normal(shape).astype("float32")
    xt = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = layer(xt, training=True)
        loss = tf.reduce_sum(y * tf.constant(coef))
    gx, gg, gb = tape.gradient(loss, [xt, layer.gamma, layer.beta])

    # torch wants channels at axis 1
    ax = axis % len(shape)
    perm = [0, ax] + [i for i in range(1, len(shape)) if i != ax]
    inv = np.argsort(perm)
    tx = torch.tensor(x, requires_grad=True)
    bn = torch.nn.BatchNorm1d(c, eps=1e-3, momentum=0.1)
    bn.weight.data, bn.bias.data = torch.tensor(gamma), torch.tensor(beta)
    ty = bn(tx.permute(*perm)).permute(*inv)
    (ty * torch.tensor(coef)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(gg.numpy(), bn.weight.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(gb.numpy(), bn.bias.grad.numpy(), rtol=1e-4, atol=1e-3)

    # Keras moving statistics: biased batch variance, moving = moving * m + batch * (1 - m)
    red = tuple(i for i in range(len(shape)) if i != ax)
    mean, var = x.astype("float64").mean(red), x.astype("float64").var(red)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-5)


def test_batch_norm_inference_uses_moving_statistics():
    layer = layers.BatchNormalization(epsilon=1e-3)
    x = rng.standard_normal((6, 3)).astype("float32")
    layer.build((6, 3))
    mm = np.array([0.5, -1.0, 2.0], "float32")
    mv = np.array([4.0, 0.25, 1.0], "float32")
    layer.moving_mean.assign(mm)
    layer.moving_variance.assign(mv)
    expect = (x - mm) / np.sqrt(mv + 1e-3)
    # float32 against a float32 formula: values near 0 need an absolute tolerance too
    np.testing.assert_allclose(layer(x).numpy(), expect, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(x, training=False).numpy(), expect, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mm)  # untouched by inference


def test_frozen_batch_norm_runs_in_inference_mode():
    layer = layers.BatchNormalization()
    x = rng.standard_normal((6, 3)).astype("float32") + 5
    layer(x, training=True)
    layer.trainable = False
    mm = layer.moving_mean.numpy()
    y = layer(x, training=True).numpy()
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mm)
    expect = (x - mm) / np.sqrt(layer.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(y, expect, rtol=1e-5)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


def test_batch_norm_masked_moments():
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, False], [True, True, True, False]])
    layer = layers.BatchNormalization(momentum=0.0)
    layer(x, training=True, mask=tf.constant(mask))
    sel = x[mask]
    np.testing.assert_allclose(layer.moving_mean.numpy(), sel.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), sel.var(0), rtol=1e-4)


def test_batch_norm_defaults_and_errors():
    cfg = layers.BatchNormalization().get_config()
    assert cfg["momentum"] == 0.99 and cfg["epsilon"] == 1e-3 and cfg["axis"] == -1
    with pytest.raises(ValueError, match="bn_bad.*axis 3 is out of range"):
        layers.BatchNormalization(axis=3, name="bn_bad")(np.ones((2, 3), "float32"))


# --- UnitNormalization ---------------------------------------------------------------------------
def test_unit_normalization():
    run_layer_test(layers.UnitNormalization, {}, (3, 4), (3, 4), supports_masking=True)
    x = rng.standard_normal((3, 4, 5)).astype("float32")
    np.testing.assert_allclose(layers.UnitNormalization()(x).numpy(),
                               x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-5)
    y = layers.UnitNormalization(axis=[1, 2])(x).numpy()
    np.testing.assert_allclose(y, x / np.sqrt((x ** 2).sum((1, 2), keepdims=True)), rtol=1e-5)
    xt = tf.Variable(x)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layers.UnitNormalization()(xt) * tf.constant(x[..., ::-1].copy()))
    t = torch.tensor(x, requires_grad=True)
    (torch.nn.functional.normalize(t, dim=-1) * torch.tensor(x[..., ::-1].copy())).sum().backward()
    np.testing.assert_allclose(tape.gradient(loss, xt).numpy(), t.grad.numpy(), rtol=1e-4,
                               atol=1e-5)


def test_batch_norm_updates_moving_statistics_inside_ndflow_function():
    bn = layers.BatchNormalization(momentum=0.5)
    bn.build((4, 3))
    x = rng.standard_normal((4, 3)).astype("float32") + 1
    fn = tf.function(lambda v: bn.call(v, training=True))
    fn(tf.constant(x))
    fn(tf.constant(x))
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.75 * x.mean(0), rtol=1e-5)


def test_layer_norm_fused_op_second_order_by_finite_differences():
    # float64, so central differences of the first gradient are accurate
    r = np.random.default_rng(5)
    x0 = r.standard_normal((3, 4))
    c = r.standard_normal((3, 4))
    v = r.standard_normal((3, 4))
    layer = layers.LayerNormalization(dtype="float64")
    layer.build((3, 4))
    layer.set_weights([r.standard_normal(4) + 1.0, r.standard_normal(4)])

    def grad_dot_v(xv):
        x = tf.Variable(xv)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(layer(x)) * tf.constant(c))
        return float(np.sum(tape.gradient(loss, x).numpy() * v))

    x = tf.Variable(x0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = tf.reduce_sum(tf.square(layer(x)) * tf.constant(c))
        g = inner.gradient(loss, x)
        s = tf.reduce_sum(g * tf.constant(v))
    gg = outer.gradient(s, x).numpy()
    eps = 1e-6
    num = np.zeros_like(x0)
    for idx in np.ndindex(x0.shape):
        d = np.zeros_like(x0)
        d[idx] = eps
        num[idx] = (grad_dot_v(x0 + d) - grad_dot_v(x0 - d)) / (2 * eps)
    np.testing.assert_allclose(gg, num, rtol=1e-5, atol=1e-7)


def test_normalization_layers_accept_other_float_dtypes():
    x = rng.standard_normal((4, 3))  # float64 into float32 layers
    for layer in (layers.LayerNormalization(), layers.BatchNormalization()):
        y = layer(x)
        assert y.dtype == tf.float64
        assert layer.weights[0].dtype == tf.float32
    np.testing.assert_allclose(layers.LayerNormalization()(x).numpy(),
                               (x - x.mean(-1, keepdims=True))
                               / np.sqrt(x.var(-1, keepdims=True) + 1e-3), rtol=1e-5)


def test_batch_norm_training_second_order_by_finite_differences():
    r = np.random.default_rng(6)
    x0 = r.standard_normal((5, 3))
    c = r.standard_normal((5, 3))
    v = r.standard_normal((5, 3))
    layer = layers.BatchNormalization(dtype="float64")
    layer.build((5, 3))
    layer.gamma.assign(r.standard_normal(3) + 1.0)
    layer.beta.assign(r.standard_normal(3))

    def grad_dot_v(xv):
        x = tf.Variable(xv)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(layer(x, training=True)) * tf.constant(c))
        return float(np.sum(tape.gradient(loss, x).numpy() * v))

    x = tf.Variable(x0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            loss = tf.reduce_sum(tf.square(layer(x, training=True)) * tf.constant(c))
        g = inner.gradient(loss, x)
        s = tf.reduce_sum(g * tf.constant(v))
    gg = outer.gradient(s, x).numpy()
    eps = 1e-6
    num = np.zeros_like(x0)
    for idx in np.ndindex(x0.shape):
        d = np.zeros_like(x0)
        d[idx] = eps
        num[idx] = (grad_dot_v(x0 + d) - grad_dot_v(x0 - d)) / (2 * eps)
    np.testing.assert_allclose(gg, num, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("layer_cls,shape", [(layers.LayerNormalization, (4, 3, 6)),
                                             (layers.BatchNormalization, (4, 3, 6))])
def test_traced_training_step_takes_the_fused_backward(layer_cls, shape):
    """Graph mode (what fit runs) uses the fused backward kernel, with gradients equal to
    eager ones, and no side table: the backward reads the op's own saved outputs."""
    layer = layer_cls()
    layer.build(shape)
    x = tf.constant(rng.standard_normal(shape).astype("float32"))
    up = tf.constant(rng.standard_normal(shape).astype("float32"))

    def grads(v, u):
        with tf.GradientTape() as tape:
            tape.watch(v)
            s = tf.reduce_sum(layer(v, training=True) * u)
        return tape.gradient(s, [v, *layer.trainable_variables])

    fn = tf.function(grads)
    traced = fn(x, up)
    eager = grads(x, up)
    for t, e in zip(traced, eager):
        np.testing.assert_allclose(t.numpy(), e.numpy(), rtol=1e-5, atol=1e-6)
    ops = [n.op.name for n in fn.get_concrete_function(x, up).graph.nodes if n.kind == "op"]
    assert ops.count("normalize") == 1 and ops.count("normalize_grad") == 1, ops
    assert "reduce_mean" not in ops  # the statistics are not recomputed for the backward



@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_norm_forward_split_across_threads_is_one_threads(dtype):
    """Rows in blocks on three threads: bitwise the values of one thread (rows are
    independent); a non-contiguous gradient takes the compiled backward pass and agrees with
    the NumPy path."""
    from ndflow.backend import jit, parallel
    from ndflow.ops import normalization as norm

    r = np.random.default_rng(7)
    x = r.standard_normal((1500, 40)).astype(dtype)
    gamma, beta = (r.standard_normal(40).astype(dtype) for _ in range(2))
    before = parallel.requested_threads()
    try:
        outs = []
        for n in (1, 3):
            parallel.set_threads(n)
            outs.append(norm._norm_fwd(np, x, gamma, beta, (1,), 1e-3, None))
        assert parallel.blocks(1500, norm._MIN_ROWS) == 5  # the three-thread run split
    finally:
        parallel.set_threads(before)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    xhat, inv = outs[0][1], outs[0][2]
    g = np.broadcast_to(r.standard_normal((1, 40)).astype(dtype), x.shape)  # stride 0
    grads = []
    for on in (True, False):
        with jit.switched(on):
            grads.append(norm._norm_grad_fwd(np, g, xhat, inv, gamma, (1,), None))
    tol = 1e-5 if dtype == "float32" else 1e-12
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max())
