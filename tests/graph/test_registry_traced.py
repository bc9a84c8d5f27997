"""Every registered op gives the same result traced (ndflow.function) as eager, and gradients
taken inside a function equal eager gradients. Driven by the core op-case table."""

from __future__ import annotations

import numpy as np
import pytest

import ndflow as tf
from ndflow.core.dispatch import REGISTRY
from ndflow.ops.nn import class_ids
from tests.core.op_cases import CASES

# Non-differentiable ops: (op name, function, inputs).
NON_DIFF = [
    ("argmax", lambda x: tf.argmax(x, axis=1), [np.arange(6.0).reshape(2, 3)]),
    ("argmin", lambda x: tf.argmin(x, axis=0), [np.arange(6.0).reshape(2, 3)]),
    ("argsort", lambda x: tf.argsort(x), [np.array([3.0, 1.0, 2.0])]),
    ("ceil", tf.math.ceil, [np.array([1.2, -1.5])]),
    ("floor", tf.floor, [np.array([1.2, -1.5])]),
    ("round", tf.round, [np.array([1.5, 2.5, -0.4])]),
    ("floordiv", tf.math.floordiv, [np.array([7, -7]), np.array([2, 2])]),
    ("equal", tf.equal, [np.array([1.0, 2.0]), np.array([1.0, 3.0])]),
    ("not_equal", tf.not_equal, [np.array([1.0, 2.0]), np.array([1.0, 3.0])]),
    ("greater", tf.greater, [np.array([1.0, 2.0]), np.array([1.0, 1.0])]),
    ("greater_equal", tf.greater_equal, [np.array([1.0, 2.0]), np.array([1.0, 3.0])]),
    ("less", tf.less, [np.array([1.0, 2.0]), np.array([1.0, 3.0])]),
    ("less_equal", tf.less_equal, [np.array([1.0, 2.0]), np.array([1.0, 1.0])]),
    ("is_finite", tf.math.is_finite, [np.array([1.0, np.inf, np.nan])]),
    ("is_inf", tf.math.is_inf, [np.array([1.0, np.inf, np.nan])]),
    ("is_nan", tf.math.is_nan, [np.array([1.0, np.inf, np.nan])]),
    ("logical_and", tf.logical_and, [np.array([True, False]), np.array([True, True])]),
    ("logical_or", tf.logical_or, [np.array([True, False]), np.array([False, False])]),
    ("logical_xor", tf.math.logical_xor, [np.array([True, False]), np.array([True, True])]),
    ("logical_not", tf.logical_not, [np.array([True, False])]),
    ("one_hot", lambda i: tf.one_hot(i, 4), [np.array([0, 3, 1])]),
    ("ones_like", tf.ones_like, [np.zeros((2, 3))]),
    ("zeros_like", tf.zeros_like, [np.ones((2, 3))]),
    ("reduce_all", lambda x: tf.reduce_all(x, axis=0), [np.array([[True, False], [True, True]])]),
    ("reduce_any", lambda x: tf.reduce_any(x, axis=1), [np.array([[True, False], [False, False]])]),
    ("stop_gradient", tf.stop_gradient, [np.array([1.0, 2.0])]),
    ("class_ids", lambda y: class_ids(y, 4), [np.array([0.0, 3.0, 1.0])]),
]
# keras.ops bitwise primitives (src/ndflow/keras/ops/numpy.py; owner: keras.ops)
_I2 = [np.array([5, 12, -3]), np.array([3, 1, 2])]
NON_DIFF += [(f"kops_{n}", lambda a, b, n=n: getattr(tf.keras.ops, n)(a, b), _I2)
             for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift")]
NON_DIFF.append(("kops_bitwise_invert", lambda a: tf.keras.ops.bitwise_invert(a), _I2[:1]))
# matrix decompositions without gradients (src/ndflow/ops/decomp.py; owner: #16 ops)
_M3 = [np.array([[2.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.0, 4.0, 1.0]])]
NON_DIFF.append(("eig", lambda a: tf.linalg.eig(a)[0], _M3))
NON_DIFF.append(("lu_factor", lambda a: tf.keras.ops.lu_factor(a), _M3))
# keras.ops primitives without gradients (src/ndflow/keras/ops/numpy_more.py; owner: #16 ops)
NON_DIFF += [(f"kops_{n}", lambda a, b, n=n: getattr(tf.keras.ops, n)(a, b), _I2)
             for n in ("gcd", "lcm")]
NON_DIFF.append(("kops_nextafter", lambda a, b: tf.keras.ops.nextafter(a, b),
                 [np.array([1.0, -2.0, 0.0]), np.array([2.0, -3.0, -1.0])]))
NON_DIFF.append(("kops_view", lambda a: tf.keras.ops.view(a, "int64"), _M3))

# Ops whose output cannot be compared value for value (covered by their own tests).
UNCOMPARABLE = {"random_sample"}


def _flat(x):
    return [np.asarray(v) for v in tf.nest.flatten(x)]


def _assert_same(a, b):
    for x, y in zip(_flat(a), _flat(b)):
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12, equal_nan=True)


def _traced_op_names(case) -> set:
    """Names of the ops in the traced graph of `case`'s gradient function."""
    xs = [tf.constant(a) for a in case.inputs]
    wrt = list(case.wrt) if case.wrt is not None else _float_positions(case)

    def grads(*args):
        with tf.GradientTape() as tape:
            for i in wrt:
                tape.watch(args[i])
            out = case.fn(*args)
            total = tf.add_n([tf.reduce_sum(o) for o in tf.nest.flatten(out)
                              if o.dtype.is_floating])
        return tape.gradient(total, [args[i] for i in wrt])

    from ndflow.graph import passes

    passes.OPTIONS["fuse_elementwise"] = False  # op by op: see which ops the graph reaches
    try:
        cf = tf.function(grads).get_concrete_function(*xs)
    finally:
        passes.OPTIONS["fuse_elementwise"] = True
    return {n.op.name for n in cf.graph.nodes if n.kind == "op"}


def test_every_registered_op_is_covered():
    # the compiler's own fused node: tests/graph/test_fuse_elementwise.py checks it for every
    # element-wise op against eager and unfused graphs
    covered = ({c.op for c in CASES} | {name for name, _, _ in NON_DIFF} | UNCOMPARABLE
               | {"fused_elementwise"})
    missing = sorted(n for n in REGISTRY if n not in covered and not n.startswith(
        ("split_", "while_loop_")))
    # Fused backward kernels (non-differentiable `*_grad` ops) and graph-only variants of an
    # op (named after it) are covered when the traced gradient of that op's case reaches them.
    for name in list(missing):
        stem = name[: -len("_grad")] if name.endswith("_grad") else name
        for case in (c for c in CASES if c.op.startswith(stem) or name.startswith(c.op)):
            if name in _traced_op_names(case):
                missing.remove(name)
                break
    assert not missing, f"ops without a traced-vs-eager check: {missing}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_traced_forward_equals_eager(case):
    xs = [tf.constant(a) for a in case.inputs]
    _assert_same(tf.function(case.fn)(*xs), case.fn(*xs))


@pytest.mark.parametrize("name,fn,inputs", NON_DIFF, ids=[n for n, _, _ in NON_DIFF])
def test_traced_non_differentiable_equals_eager(name, fn, inputs):
    xs = [tf.constant(a) for a in inputs]
    _assert_same(tf.function(fn)(*xs), fn(*xs))


def _float_positions(case):
    return [i for i, a in enumerate(case.inputs) if np.asarray(a).dtype.kind == "f"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_traced_gradient_equals_eager(case):
    xs = [tf.constant(a) for a in case.inputs]
    wrt = list(case.wrt) if case.wrt is not None else _float_positions(case)

    def grads(*args):
        with tf.GradientTape() as tape:
            for i in wrt:
                tape.watch(args[i])
            out = case.fn(*args)
            total = tf.add_n([tf.reduce_sum(o * o) for o in tf.nest.flatten(out)
                              if o.dtype.is_floating])
        return tape.gradient(total, [args[i] for i in wrt])

    eager = grads(*xs)
    traced = tf.function(grads)(*xs)
    for e, t in zip(eager, traced):
        if e is None:
            assert t is None
        else:
            np.testing.assert_allclose(np.asarray(t), np.asarray(e), rtol=1e-10, atol=1e-12)
