"""The ReLU-gradient/max-pool rewrite: same gradients as eager, mask at the pooled size."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow import keras
from ndflow.graph import passes


@pytest.fixture(autouse=True)
def _op_by_op_graphs(monkeypatch):
    """These tests read the rewritten graph op by op: element-wise fusion off."""
    monkeypatch.setitem(passes.OPTIONS, "fuse_elementwise", False)


def _grads(step, *args):
    eager = step(*args)
    fn = tf.function(step)
    traced = fn(*args)
    return eager, traced, fn.get_concrete_function(*args).graph


@pytest.mark.parametrize("also_used", [False, True])
@pytest.mark.parametrize("pool", [(2, 2, "VALID"), (3, 2, "SAME"), (2, 1, "VALID")])
def test_conv_relu_pool_gradients_match_eager(pool, also_used):
    k, s, padding = pool
    rng = np.random.default_rng(0)
    x = tf.constant(rng.standard_normal((3, 9, 9, 2)).astype(np.float32))
    w = tf.Variable(rng.standard_normal((3, 3, 2, 4)).astype(np.float32))
    b = tf.Variable(rng.standard_normal(4).astype(np.float32) * 0.1)

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            h = tf.nn.conv(x, w, 1, "VALID", bias=b, activation="relu")
            p = tf.nn.max_pool2d(h, k, s, padding)
            loss = tf.reduce_sum(p * p)
            if also_used:  # then h's gradient is a sum and the mask stays full-size
                loss = loss + tf.reduce_mean(h)
        return tape.gradient(loss, [w, b, x])

    eager, traced, graph = _grads(step, x)
    for a, c in zip(eager, traced):
        np.testing.assert_allclose(c.numpy(), a.numpy(), rtol=1e-5, atol=1e-5)
    masks = [n for n in graph.nodes if n.kind == "op" and n.op.name == "relu_grad"]
    pooled = [n for n in graph.nodes if n.kind == "op" and n.op.name in (
        "max_pool", "conv_max_pool", "conv_max_pool_fused")][0]
    expected = _ops(graph, "conv")[0].outputs[0].shape if also_used else \
        pooled.outputs[0].shape
    assert [m.outputs[0].shape for m in masks] == [tuple(expected)]


def test_no_rewrite_when_pool_input_is_not_the_relu_output():
    rng = np.random.default_rng(1)
    x = tf.constant(rng.standard_normal((2, 6, 6, 3)).astype(np.float32))

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            h = tf.nn.relu(x)
            p = tf.nn.max_pool2d(h * 2.0, 2, 2, "VALID")  # pools a product, not the ReLU
            loss = tf.reduce_sum(p)
        return tape.gradient(loss, x)

    eager, traced, graph = _grads(step, x)
    np.testing.assert_allclose(traced.numpy(), eager.numpy())
    masks = [n for n in graph.nodes if n.kind == "op" and n.op.name == "relu_grad"]
    assert [tuple(m.outputs[0].shape) for m in masks] == [(2, 6, 6, 3)]


def test_convnet_fit_graph_equals_eager():
    rng = np.random.default_rng(2)
    x = rng.random((64, 12, 12, 1), dtype=np.float32)
    y = rng.integers(0, 3, 64)
    weights = []
    for eager in (True, False):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([
            keras.Input((12, 12, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                      run_eagerly=eager)
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for a, c in zip(*weights):
        np.testing.assert_allclose(c, a, rtol=1e-5, atol=1e-6)


def _ops(graph, name):
    return [n for n in graph.nodes if n.kind == "op" and n.op.name == name]


@pytest.mark.parametrize("bias_shift", [0.0, -3.0])  # -3: most windows pool to exactly 0
def test_forward_pools_before_bias_and_relu(bias_shift):
    rng = np.random.default_rng(3)
    x = tf.constant(rng.standard_normal((3, 8, 8, 2)).astype(np.float32))
    w = tf.Variable(rng.standard_normal((3, 3, 2, 4)).astype(np.float32))
    b = tf.Variable((rng.standard_normal(4) + bias_shift).astype(np.float32))

    def train(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            p = tf.nn.max_pool2d(tf.nn.conv(x, w, 1, "VALID", bias=b, activation="relu"),
                                 2, 2, "VALID")
            loss = tf.reduce_sum(p * p)
        return [p] + tape.gradient(loss, [w, b, x])

    def infer(x):
        return tf.nn.max_pool2d(tf.nn.conv(x, w, 1, "SAME", bias=b, activation="relu"),
                                3, 2, "SAME")

    for step in (train, infer):
        eager, traced, graph = _grads(step, x)
        for a, c in zip(tf.nest.flatten(eager), tf.nest.flatten(traced)):
            np.testing.assert_allclose(c.numpy(), a.numpy(), rtol=1e-5, atol=1e-5)
        if step is train:  # non-overlapping VALID pool: conv, pool, bias, ReLU in one node
            assert not _ops(graph, "conv") and not _ops(graph, "max_pool")
            assert not _ops(graph, "relu")
            # it keeps its im2col columns for the filter gradient
            (pool,) = _ops(graph, "conv_max_pool_fused")
            assert pool.inputs[2] is not None and pool.attrs["relu"]
            assert pool.attrs["keep_columns"] and not _ops(graph, "conv_max_pool")
            (grad,) = _ops(graph, "conv_max_pool_grad")
            assert grad.inputs[-1] is pool.outputs[2]
        else:  # overlapping pool: conv (without bias and ReLU) then max_pool, bias, ReLU
            (conv,) = _ops(graph, "conv")
            assert len(conv.inputs) == 2
            (pool,) = _ops(graph, "max_pool")
            (relu,) = _ops(graph, "relu")
            assert relu.outputs[0].shape == pool.outputs[0].shape


def test_forward_rewrite_skipped_when_the_index_feeds_an_unmasked_gradient():
    rng = np.random.default_rng(4)
    x = tf.constant(rng.standard_normal((2, 6, 6, 1)).astype(np.float32))
    w = tf.Variable(rng.standard_normal((3, 3, 1, 2)).astype(np.float32))

    def step(x):
        with tf.GradientTape() as tape:
            h = tf.nn.conv(x, w, 1, "VALID", activation="relu")
            p = tf.nn.max_pool2d(h, 2, 2, "VALID")
            loss = tf.reduce_sum(p) + tf.reduce_sum(h)  # h's gradient is not only the pool's
        return tape.gradient(loss, w)

    eager, traced, graph = _grads(step, x)
    np.testing.assert_allclose(traced.numpy(), eager.numpy(), rtol=1e-5)
    # the ReLU stays before the pool (the index feeds h's unmasked gradient too)
    (relu,) = _ops(graph, "relu")
    assert relu.inputs[0].producer.op.name == "conv"
    assert _ops(graph, "max_pool")[0].inputs[0] is relu.outputs[0]


def test_gradients_skip_rows_a_valid_pool_drops(monkeypatch):
    from ndflow.graph.passes import pool_rules
    from ndflow.graph.rewrite import rewrite

    # the fused conv_max_pool backprop would take this block; the crop rule is for the rest
    monkeypatch.setattr(passes, "PHASES", (pool_rules.FORWARD_RULES,
                                           (pool_rules.sum_pooled_gradient,),
                                           pool_rules.CROP_RULES))

    rng = np.random.default_rng(5)
    x = tf.constant(rng.standard_normal((2, 13, 12, 3)).astype(np.float32))
    w = tf.Variable(rng.standard_normal((3, 2, 3, 4)).astype(np.float32))
    b = tf.Variable(rng.standard_normal(4).astype(np.float32))

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            h = tf.nn.conv(x, w, 1, "VALID", bias=b, activation="relu")  # 11 x 11
            p = tf.nn.max_pool2d(h, 2, 2, "VALID")  # reads rows/cols 0..9 of h
            loss = tf.reduce_sum(p * p)
        return tape.gradient(loss, [w, b, x])

    eager, traced, graph = _grads(step, x)
    for a, c in zip(eager, traced):
        np.testing.assert_allclose(c.numpy(), a.numpy(), rtol=1e-5, atol=1e-5)
    (grad,) = _ops(graph, "max_pool_grad")
    assert grad.outputs[0].shape == (2, 10, 10, 4)
    assert rewrite(graph, pool_rules.CROP_RULES) == 0  # at a fixed point: nothing left to do


def test_stacked_relu_pool_blocks_rewrite_together():
    # relu -> pool -> relu -> pool: the outer block's rewritten gradient feeds the inner one
    rng = np.random.default_rng(6)
    x = tf.constant(rng.standard_normal((2, 8, 8, 3)).astype(np.float32))

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            h = tf.nn.max_pool2d(tf.nn.relu(x), 2, 2, "VALID")
            p = tf.nn.max_pool2d(tf.nn.relu(h - 0.1), 2, 2, "VALID")
            loss = tf.reduce_sum(p * p)
        return tape.gradient(loss, x)

    eager, traced, graph = _grads(step, x)
    np.testing.assert_allclose(traced.numpy(), eager.numpy(), rtol=1e-6)
    masks = _ops(graph, "relu_grad")
    # both ReLUs move past both pools (relu and `- 0.1` are monotone, per-channel): both
    # masks run at the smallest pooled size
    assert sorted(m.outputs[0].shape for m in masks) == [(2, 2, 2, 3), (2, 2, 2, 3)]


@pytest.mark.parametrize("shape,pool,padding,rewritten", [
    ((2, 13, 12, 3), (2, 2), "VALID", True),    # odd rows dropped: sums still equal
    ((2, 12, 12, 3), (3, 3), "VALID", True),
    # each pooled value goes to one position whatever the windows: overlapping and padded
    # windows preserve the sum too
    ((2, 12, 12, 3), (2, 1), "VALID", True),
    ((2, 11, 11, 3), (2, 2), "SAME", True),
])
def test_bias_gradient_sums_the_pooled_gradient(shape, pool, padding, rewritten):
    rng = np.random.default_rng(9)
    x = tf.constant(rng.standard_normal(shape).astype(np.float32))
    w = tf.Variable(rng.standard_normal((3, 3, 3, 4)).astype(np.float32))
    b = tf.Variable(rng.standard_normal(4).astype(np.float32))
    k, s = pool

    def step(x):
        with tf.GradientTape() as tape:
            h = tf.nn.conv(x, w, 1, "VALID", bias=b, activation="relu")
            p = tf.nn.max_pool2d(h, k, s, padding)
            loss = tf.reduce_sum(p * p)
        return tape.gradient(loss, [w, b])

    eager, traced, graph = _grads(step, x)
    for a, c in zip(eager, traced):
        np.testing.assert_allclose(c.numpy(), a.numpy(), rtol=1e-5, atol=1e-5)
    sums = _ops(graph, "reduce_sum")
    from_pool_grad = [n for n in sums if n.inputs[0].producer is not None
                      and n.inputs[0].producer.kind == "op"
                      and n.inputs[0].producer.op.name == "max_pool_grad"]
    assert bool(from_pool_grad) is not rewritten


@pytest.mark.parametrize("jit_on", [True, False])
@pytest.mark.parametrize("xshape,kshape,strides,padding,pool", [
    ((2, 13, 12, 3), (3, 2, 3, 4), 1, "VALID", 2),   # 11 x 11 conv output: row 10 dropped
    ((3, 12, 12, 1), (3, 3, 1, 5), 1, "VALID", 2),   # one input channel: kernel-major columns
    ((2, 11, 10, 9), (3, 3, 9, 4), 1, "SAME", 3),    # padded conv
    ((2, 15, 13, 2), (2, 3, 2, 3), 2, "VALID", 2),   # strided conv
    ((2, 17, 4), (3, 4, 5), 1, "VALID", 2),          # 1-D
])
def test_conv_max_pool_gradients_fused_equal_eager(jit_on, xshape, kshape, strides, padding,
                                                   pool):
    from ndflow.backend import jit

    if jit_on and not jit.enabled():
        pytest.skip("numba not installed")
    rng = np.random.default_rng(13)
    x = tf.constant(rng.standard_normal(xshape).astype(np.float32))
    w = tf.Variable(rng.standard_normal(kshape).astype(np.float32))
    b = tf.Variable(rng.standard_normal(kshape[-1]).astype(np.float32))
    nd = len(xshape) - 2
    pool_fn = tf.nn.max_pool2d if nd == 2 else tf.nn.max_pool1d

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            h = tf.nn.conv(x, w, strides, padding, bias=b, activation="relu")
            p = pool_fn(h, pool, pool, "VALID")
            loss = tf.reduce_sum(p * p)
        return tape.gradient(loss, [w, b, x])

    with jit.switched(jit_on):
        eager, traced, graph = _grads(step, x)
    for a, c in zip(eager, traced):
        np.testing.assert_allclose(c.numpy(), a.numpy(), rtol=1e-4, atol=1e-4)
    assert len(_ops(graph, "conv_max_pool_grad")) == 1
    assert not _ops(graph, "max_pool_grad") and not _ops(graph, "conv_backprop_filter")


def test_conv_max_pool_gradient_of_the_filter_only():
    # the input of the first conv of a model needs no gradient: only the filter output is made
    rng = np.random.default_rng(14)
    x = tf.constant(rng.standard_normal((2, 9, 9, 1)).astype(np.float32))
    w = tf.Variable(rng.standard_normal((3, 3, 1, 4)).astype(np.float32))

    def step(x):
        with tf.GradientTape() as tape:
            p = tf.nn.max_pool2d(tf.nn.conv(x, w, 1, "VALID"), 2, 2, "VALID")
            loss = tf.reduce_sum(p * p)
        return tape.gradient(loss, w)

    eager, traced, graph = _grads(step, x)
    np.testing.assert_allclose(traced.numpy(), eager.numpy(), rtol=1e-5, atol=1e-5)
    (node,) = _ops(graph, "conv_max_pool_grad")
    assert node.attrs["needs"] == (False, True) and node.outputs[0].shape == (0,)


@pytest.mark.parametrize("jit_on", [True, False])
@pytest.mark.parametrize("use_bias", [True, False])
def test_predict_graph_fuses_conv_pool_bias_relu(jit_on, use_bias):
    from ndflow.backend import jit

    if jit_on and not jit.enabled():
        pytest.skip("numba not installed")
    rng = np.random.default_rng(15)
    x = tf.constant(rng.standard_normal((3, 10, 9, 2)).astype(np.float32))
    w = tf.constant(rng.standard_normal((3, 3, 2, 5)).astype(np.float32))
    b = tf.constant(rng.standard_normal(5).astype(np.float32)) if use_bias else None

    def infer(x):
        return tf.nn.max_pool2d(tf.nn.conv(x, w, 1, "VALID", bias=b, activation="relu"),
                                2, 2, "VALID")

    with jit.switched(jit_on):
        eager, traced, graph = _grads(infer, x)
    np.testing.assert_allclose(traced.numpy(), eager.numpy(), rtol=1e-5, atol=1e-5)
    assert (traced.numpy() == 0).any() and (traced.numpy() > 0).any()  # ReLU did cut
    (node,) = _ops(graph, "conv_max_pool_fused")
    assert node.attrs["relu"] and not node.attrs["keep_columns"]
    assert len(node.inputs) == (3 if use_bias else 2)
    assert not _ops(graph, "relu") and not _ops(graph, "add")  # (no other add in this graph)
