"""The pool rewrites on their general families: several monotone activations, SAME/VALID,
strides, channels-first; the TensorFlow-style convnet gets the same kernels as Keras layers."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.graph import passes
from ndflow.graph.ir import GNode, Graph
from ndflow.graph.rewrite import Rewriter, rewrite


def _ops(graph, name):
    return [n for n in graph.nodes if n.kind == "op" and n.op.name == name]


@pytest.fixture(autouse=True)
def _op_by_op_graphs(monkeypatch):
    monkeypatch.setitem(passes.OPTIONS, "fuse_elementwise", False)


ACTIVATIONS = {
    "relu": tf.nn.relu,  # non-decreasing with a flat region: moves when its mask guards
    "leaky_relu": lambda h: tf.nn.leaky_relu(h, 0.1),
    "sigmoid": tf.nn.sigmoid,
    "elu": tf.nn.elu,
    "tanh": tf.tanh,
    "softplus": tf.nn.softplus,
}


@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("pool", [(2, 2, "VALID"), (3, 2, "SAME"), (2, 1, "VALID")])
@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_monotone_activation_moves_after_the_pool(act, pool, channels_first):
    k, s, padding = pool
    rng = np.random.default_rng(0)
    fmt = "NCHW" if channels_first else "NHWC"
    shape = (2, 4, 9, 9) if channels_first else (2, 9, 9, 4)
    x = tf.constant(rng.standard_normal(shape).astype(np.float32))
    b = tf.Variable(rng.standard_normal(4).astype(np.float32) * 0.1)
    fn = ACTIVATIONS[act]

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            h = fn(tf.nn.bias_add(x * 1.5, b, data_format=fmt))
            p = tf.nn.max_pool2d(h, k, s, padding, data_format=fmt)
            loss = tf.reduce_sum(p * p)
        return [p] + tape.gradient(loss, [x, b])

    eager = step(x)
    f = tf.function(step)
    traced = f(x)
    for a, c in zip(eager, traced):
        np.testing.assert_allclose(c.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)
    graph = f.get_concrete_function(x).graph
    (pool_node,) = _ops(graph, "max_pool")
    # the pool now reads the scaled input directly: the bias add and the activation follow it
    assert pool_node.inputs[0].producer.op.name == "multiply"
    assert not _ops(graph, "sum_to_shape") or all(
        n.inputs[0].producer.op.name != "max_pool_grad" for n in _ops(graph, "sum_to_shape"))


def test_non_monotone_function_stays_before_the_pool():
    x = tf.constant(np.random.default_rng(1).standard_normal((1, 6, 6, 2)).astype(np.float32))

    @tf.function
    def f(x):
        return tf.nn.max_pool2d(tf.sin(x), 2, 2, "VALID")  # sin is not monotone

    graph = f.get_concrete_function(x).graph
    assert _ops(graph, "max_pool")[0].inputs[0].producer.op.name == "sin"
    np.testing.assert_allclose(f(x).numpy(), tf.nn.max_pool2d(tf.sin(x), 2, 2, "VALID").numpy())


def test_full_size_operand_blocks_the_move():
    rng = np.random.default_rng(2)
    x = tf.constant(rng.standard_normal((1, 6, 6, 2)).astype(np.float32))
    y = tf.constant(rng.standard_normal((1, 6, 6, 2)).astype(np.float32))

    @tf.function
    def f(x, y):
        return tf.nn.max_pool2d(x + y, 2, 2, "VALID")  # y is not per-channel

    graph = f.get_concrete_function(x, y).graph
    assert _ops(graph, "max_pool")[0].inputs[0].producer.op.name == "add"


def _tf_style_convnet_step(x, y, params):
    w1, b1, w2, b2, w3, b3 = params
    with tf.GradientTape() as tape:
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w1, 1, "VALID"), b1))
        h = tf.nn.max_pool2d(h, 2, 2, "VALID")
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, w2, 1, "VALID"), b2))
        h = tf.nn.max_pool2d(h, 2, 2, "VALID")
        logits = tf.matmul(tf.reshape(h, (x.shape[0], -1)), w3) + b3
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    return [loss] + tape.gradient(loss, params)


def test_tensorflow_style_convnet_gets_the_fused_conv_pool_kernels():
    rng = np.random.default_rng(3)
    x = tf.constant(rng.standard_normal((4, 12, 12, 1)).astype(np.float32))
    y = tf.constant(rng.integers(0, 10, 4))
    params = [tf.Variable(rng.standard_normal(s).astype(np.float32) * 0.3) for s in
              [(3, 3, 1, 8), (8,), (3, 3, 8, 16), (16,), (16, 10), (10,)]]
    eager = _tf_style_convnet_step(x, y, params)
    f = tf.function(_tf_style_convnet_step)
    traced = f(x, y, params)
    for a, c in zip(eager, traced):
        np.testing.assert_allclose(c.numpy(), a.numpy(), rtol=1e-4, atol=1e-5)
    graph = f.get_concrete_function(x, y, params).graph
    # both blocks: conv + bias + ReLU + pool in one forward kernel, one backward kernel
    assert len(_ops(graph, "conv_max_pool_fused")) == 2
    assert len(_ops(graph, "conv_max_pool_grad")) == 2
    assert not _ops(graph, "conv") and not _ops(graph, "max_pool")


def test_rewrite_reaches_a_fixed_point_and_refuses_a_cycle():
    g = Graph("g")
    a = g.new_value("arg", (2,), np.float32)
    g.args = [a]
    from ndflow.core.dispatch import REGISTRY

    n = GNode("op", REGISTRY["negative"], [a], {})
    n.outputs = [g.new_value("node", (2,), np.float32, n)]
    g.nodes = [n]
    g.outputs = list(n.outputs)

    def flip(rw: Rewriter, node: GNode) -> bool:  # negative <-> abs forever
        other = REGISTRY["abs"] if node.op.name == "negative" else REGISTRY["negative"]
        new = rw.node(other, node.inputs, {}, [node.outputs[0]], after=node)
        rw.remove(node)
        return new is not None

    with pytest.raises(RuntimeError, match="no fixed point"):
        rewrite(g, [flip], max_rounds=5)
    assert rewrite(g, []) == 0
