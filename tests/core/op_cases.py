"""Gradient-check cases for every differentiable op in the registry.

Each `Case` names the registered op it exercises, builds float64 inputs (integer inputs are
allowed for indices and labels and are not differentiated) and calls the public function, or
`execute` directly for the internal ops that only gradient rules use. `test_gradients.py`
checks that every differentiable op has at least one case, that each case really runs its op,
and compares `GradientTape.gradient` with central finite differences for every float input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import ndflow as tf
from ndflow.core.dispatch import REGISTRY, execute
from ndflow.ops.conv_pool import conv_max_pool as _conv_max_pool
from ndflow.ops.normalization import normalize


def _import_keras() -> None:
    """Keras layers, losses and activations register fused ops of their own (their modules load
    lazily); import them all so that the registry is complete and the same in every run."""
    import importlib

    try:
        import ndflow.keras as keras
    except Exception:  # a broken keras package must not hide the core's own checks
        return
    for name in sorted(getattr(keras, "_SUBMODULES", ())):
        try:
            importlib.import_module(f"ndflow.keras.{name}")
        except Exception:  # noqa: S112 - a module still being written
            continue


_import_keras()


@dataclass
class Case:
    op: str  # the registered op this case must reach
    fn: Callable[..., Any]  # Tensors -> Tensor or tuple of Tensors
    inputs: tuple  # NumPy arrays; float64 ones are differentiated
    id: str = ""
    eps: float = 1e-6
    rtol: float = 1e-5
    atol: float = 1e-5
    wrt: tuple | None = None  # input positions to differentiate (default: all float inputs)
    extra: dict = field(default_factory=dict)


_rng = np.random.default_rng(1234)


def r(*shape: int, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    """Uniform float64 values in [lo, hi)."""
    return _rng.uniform(lo, hi, size=shape)


def away(*shape: int, lo: float = 0.3, hi: float = 2.0) -> np.ndarray:
    """Values with |v| in [lo, hi] and a random sign: away from kinks at zero."""
    mag = _rng.uniform(lo, hi, size=shape)
    return mag * _rng.choice([-1.0, 1.0], size=shape)


def pos(*shape: int, lo: float = 0.5, hi: float = 2.0) -> np.ndarray:
    return _rng.uniform(lo, hi, size=shape)


def distinct(*shape: int) -> np.ndarray:
    """A permutation of well-separated values (no ties for max/min/sort)."""
    n = int(np.prod(shape))
    return (_rng.permutation(n) * 0.37 - n * 0.15).reshape(shape)


def ints(*values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def op(name: str) -> Any:
    return REGISTRY[name]


def _nested_grad(fn: Callable, x: Any, upstream: Any) -> Any:
    """The inner gradient of fn at x with upstream gradient `upstream` (used for 2nd order)."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        if upstream is None:
            y = tf.reduce_sum(y)
    return tape.gradient(y, x, output_gradients=upstream)


CASES: list[Case] = []


def add(op_name: str, fn: Callable, *inputs: Any, id: str = "", **kw: Any) -> None:
    CASES.append(Case(op_name, fn, tuple(inputs), id or f"{op_name}-{len(CASES)}", **kw))


# --- element-wise binary -----------------------------------------------------------------------
add("add", tf.add, r(3, 1), r(4), id="add-broadcast")
add("add", lambda x: x + 2.0, r(2, 3), id="add-python-scalar")
add("subtract", tf.subtract, r(2, 3), r(3), id="subtract-broadcast")
add("subtract", lambda x: 1.5 - x, r(4), id="subtract-reflected")
add("multiply", tf.multiply, r(2, 1, 3), r(4, 1), id="multiply-broadcast")
add("multiply", lambda x: x * x, r(5), id="multiply-same-tensor")
add("divide", tf.divide, r(3, 4), away(4), id="divide-broadcast")
add("divide", lambda y: 2.0 / y, away(3), id="divide-reflected")
add("divide_no_nan", tf.math.divide_no_nan, r(2, 3), away(2, 3))
add("pow", tf.pow, pos(3, 2), r(3, 2), id="pow-both")
add("pow", lambda x: x ** 3.0, away(4), id="pow-negative-base")
add("pow", lambda x: tf.pow(x, 0.5), pos(4), id="pow-sqrt")
add("maximum", tf.maximum, distinct(3, 4), distinct(4) + 0.11, id="maximum-broadcast")
add("minimum", tf.minimum, distinct(3, 4), distinct(3, 1) + 0.0513, id="minimum-broadcast")
add("floormod", tf.math.floormod, pos(2, 3, lo=0.2, hi=3.0) + 0.013, np.full((3,), 0.7),
    id="floormod")
add("floormod", lambda x, y: x % y, r(2, 3) + 0.013, away(3, lo=0.6, hi=1.0), id="floormod-op")
add("squared_difference", tf.math.squared_difference, r(2, 3), r(3))
add("atan2", tf.math.atan2, away(2, 3), away(2, 3))
add("atan2", tf.math.atan2, away(3, 1), away(4), id="atan2-broadcast")

# --- element-wise unary --------------------------------------------------------------------------
for _name, _fn, _x in [
    ("negative", tf.negative, r(2, 3)),
    ("abs", tf.abs, away(2, 3)),
    ("sign", tf.sign, away(5)),
    ("square", tf.square, r(2, 3)),
    ("exp", tf.exp, r(2, 3)),
    ("expm1", tf.math.expm1, r(2, 3)),
    ("log", tf.math.log, pos(2, 3)),
    ("log1p", tf.math.log1p, pos(2, 3, lo=-0.5, hi=2.0)),
    ("sqrt", tf.sqrt, pos(2, 3)),
    ("rsqrt", tf.math.rsqrt, pos(2, 3)),
    ("reciprocal", tf.math.reciprocal, away(2, 3)),
    ("sin", tf.sin, r(2, 3)),
    ("cos", tf.cos, r(2, 3)),
    ("tan", tf.tan, r(2, 3, lo=-1.2, hi=1.2)),
    ("asin", tf.math.asin, r(2, 3, lo=-0.8, hi=0.8)),
    ("acos", tf.math.acos, r(2, 3, lo=-0.8, hi=0.8)),
    ("atan", tf.math.atan, r(2, 3)),
    ("sinh", tf.sinh, r(2, 3)),
    ("cosh", tf.cosh, r(2, 3)),
    ("tanh", tf.tanh, r(2, 3)),
    ("asinh", tf.math.asinh, r(2, 3)),
    ("acosh", tf.math.acosh, pos(2, 3, lo=1.3, hi=3.0)),
    ("atanh", tf.math.atanh, r(2, 3, lo=-0.8, hi=0.8)),
    ("sigmoid", tf.sigmoid, r(2, 3, lo=-6, hi=6)),
    ("softplus", tf.math.softplus, r(2, 3, lo=-6, hi=6)),
    ("softsign", tf.math.softsign, away(2, 3)),
    ("erf", tf.math.erf, r(2, 3)),
    ("identity", tf.identity, r(2, 3)),
]:
    add(_name, _fn, _x, id=_name)

add("cast", lambda x: tf.cast(x, tf.float32), r(2, 3), id="cast-f64-f32", eps=1e-3,
    rtol=1e-4, atol=1e-4)
add("cast", lambda x: tf.cast(tf.cast(x, tf.float32), tf.float64) * 3.0, r(4),
    id="cast-roundtrip", eps=1e-3, rtol=1e-4, atol=1e-4)
add("where", lambda x, y: tf.where(tf.constant([[True, False, True]]), x, y), r(2, 3), r(2, 1),
    id="where-broadcast")
add("where", lambda x: tf.where(x > 0, x * x, -x), away(6), id="where-piecewise")

# --- activations -------------------------------------------------------------------------------
add("relu", tf.nn.relu, away(3, 4))
add("relu6", tf.nn.relu6, away(3, 4, lo=0.3, hi=5.5) + np.where(_rng.random((3, 4)) > 0.7, 3, 0))
add("elu", tf.nn.elu, away(3, 4))
add("selu", tf.nn.selu, away(3, 4))
add("leaky_relu", tf.nn.leaky_relu, away(3, 4), id="leaky_relu-default")
add("leaky_relu", lambda x: tf.nn.leaky_relu(x, alpha=0.01), away(3, 4), id="leaky_relu-0.01")
add("erf", lambda x: tf.nn.gelu(x), r(3, 4), id="gelu-exact")
add("tanh", lambda x: tf.nn.gelu(x, approximate=True), r(3, 4), id="gelu-tanh")
add("sigmoid", tf.nn.silu, r(3, 4), id="silu")
add("sigmoid", lambda x: tf.nn.silu(x, beta=1.7), r(3, 4), id="silu-beta")
add("softmax", tf.nn.softmax, r(2, 5), id="softmax-last")
add("softmax", lambda x: tf.nn.softmax(x, axis=0), r(3, 2, 2), id="softmax-axis0")
add("log_softmax", tf.nn.log_softmax, r(2, 5), id="log_softmax-last")
add("log_softmax", lambda x: tf.nn.log_softmax(x, axis=1), r(2, 3, 2), id="log_softmax-axis1")

# --- fused cross-entropies -----------------------------------------------------------------------
add("sigmoid_cross_entropy_with_logits",
    lambda z, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
    r(3, 4, lo=0, hi=1), r(3, 4, lo=-5, hi=5))
_soft_labels = _rng.dirichlet(np.ones(5), size=3)
add("softmax_cross_entropy_with_logits",
    lambda z, x: tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x),
    _soft_labels, r(3, 5), id="softmax_xent-last")
add("softmax_cross_entropy_with_logits",
    lambda z, x: tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=x, axis=0),
    _rng.dirichlet(np.ones(4), size=2).T.copy(), r(4, 2), id="softmax_xent-axis0")
add("sparse_softmax_cross_entropy_with_logits",
    lambda x, z: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=x),
    r(4, 5), ints(0, 3, 4, 3), id="sparse_xent")
add("sparse_softmax_cross_entropy_with_logits",
    lambda x, z: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=x),
    r(2, 3, 4), ints([1, 0, 3], [2, 2, 0]), id="sparse_xent-rank3")
# second order through the fused loss: the gradient rule's own op and its gradient
add("sparse_softmax_cross_entropy_grad",
    lambda x, w, z: _nested_grad(
        lambda v: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=z, logits=v), x, w),
    r(3, 4), r(3), ints(2, 0, 1), id="sparse_xent-second-order")
add("sparse_softmax_cross_entropy_grad",
    lambda g, lp, z: execute(op("sparse_softmax_cross_entropy_grad"), (g, lp, z)),
    r(3), np.log(_rng.dirichlet(np.ones(4), size=3)), ints(1, 3, 0), id="sparse_xent_grad-direct")

# --- reductions ----------------------------------------------------------------------------------
add("reduce_sum", tf.reduce_sum, r(2, 3, 4), id="sum-all")
add("reduce_sum", lambda x: tf.reduce_sum(x, axis=1), r(2, 3, 4), id="sum-axis1")
add("reduce_sum", lambda x: tf.reduce_sum(x, axis=[0, -1], keepdims=True), r(2, 3, 4),
    id="sum-axes-keepdims")
add("reduce_sum", lambda x: tf.reduce_mean(x, axis=-1), r(3, 4), id="mean-last")
add("reduce_sum", lambda x: tf.math.reduce_variance(x, axis=0), r(4, 3), id="variance")
add("reduce_sum", lambda x: tf.math.reduce_std(x), r(5), id="std")
add("reduce_sum", lambda x: tf.reduce_logsumexp(x, axis=1), r(3, 4), id="logsumexp")
add("reduce_max", lambda x: tf.reduce_max(x, axis=1), distinct(3, 4), id="max-axis1")
add("reduce_max", tf.reduce_max, distinct(2, 3), id="max-all")
add("reduce_max", lambda x: tf.reduce_max(x, axis=0, keepdims=True), distinct(3, 2),
    id="max-keepdims")
add("reduce_min", lambda x: tf.reduce_min(x, axis=(0, 2)), distinct(2, 3, 2), id="min-axes")
add("reduce_prod", lambda x: tf.reduce_prod(x, axis=1), r(3, 4), id="prod-axis1")
add("reduce_prod", tf.reduce_prod, r(2, 3), id="prod-all")
add("reduce_prod", lambda x: tf.reduce_prod(x, axis=0, keepdims=True),
    np.array([[0.0, 1.5], [2.0, 0.0], [1.2, -0.7]]), id="prod-with-zeros")
add("reduce_prod", lambda x: tf.reduce_prod(x, axis=[0, 2]), r(2, 3, 2), id="prod-axes")
add("cumsum", lambda x: tf.cumsum(x, axis=1), r(2, 4), id="cumsum")
add("cumsum", lambda x: tf.cumsum(x, axis=0, exclusive=True), r(3, 2), id="cumsum-exclusive")
add("cumsum", lambda x: tf.cumsum(x, axis=-1, reverse=True), r(2, 4), id="cumsum-reverse")
add("cumsum", lambda x: tf.cumsum(x, exclusive=True, reverse=True), r(4), id="cumsum-excl-rev")
add("cumprod", lambda x: tf.math.cumprod(x, axis=1), away(2, 4), id="cumprod")
add("cumprod", lambda x: tf.math.cumprod(x, exclusive=True), away(4), id="cumprod-exclusive")
add("cumprod", lambda x: tf.math.cumprod(x, axis=0, reverse=True), away(3, 2),
    id="cumprod-reverse")
add("cumprod", lambda x: tf.math.cumprod(x, exclusive=True, reverse=True), away(4),
    id="cumprod-excl-rev")

# --- linear algebra ------------------------------------------------------------------------------
add("matmul", tf.matmul, r(2, 3), r(3, 4), id="matmul")
add("matmul", lambda a, b: tf.matmul(a, b, transpose_a=True), r(3, 2), r(3, 4), id="matmul-ta")
add("matmul", lambda a, b: tf.matmul(a, b, transpose_b=True), r(2, 3), r(4, 3), id="matmul-tb")
add("matmul", lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True), r(3, 2),
    r(4, 3), id="matmul-ta-tb")
add("matmul", tf.matmul, r(2, 2, 3), r(3, 2), id="matmul-batch-broadcast")
add("matmul", tf.matmul, r(2, 1, 2, 3), r(3, 3, 2), id="matmul-batch-both")
add("matmul", lambda a, b: a @ b, r(2, 3), r(3, 2), id="matmul-operator")
add("matmul", lambda a, b: tf.tensordot(a, b, axes=1), r(2, 3), r(3, 2), id="tensordot")
add("einsum", lambda a, b: tf.einsum("ij,jk->ik", a, b), r(2, 3), r(3, 2), id="einsum-mm")
add("einsum", lambda a, b: tf.einsum("bij,bjk->bik", a, b), r(2, 2, 3), r(2, 3, 2),
    id="einsum-bmm")
add("einsum", lambda a: tf.einsum("ij->", a), r(2, 3), id="einsum-sum")
add("einsum", lambda a: tf.einsum("ijk->kj", a), r(2, 3, 2), id="einsum-sum-transpose")
add("einsum", lambda a, b: tf.einsum("i,j->ij", a, b), r(3), r(2), id="einsum-outer")
add("einsum", lambda a, b, c: tf.einsum("ij,jk,kl->il", a, b, c), r(2, 3), r(3, 2), r(2, 2),
    id="einsum-three")
add("einsum", lambda a, b: tf.einsum("...ij,...jk->...ik", a, b), r(2, 2, 3), r(2, 3, 2),
    id="einsum-ellipsis")
add("einsum", lambda a, b: tf.einsum("ij,ij->i", a, b), r(3, 2), r(3, 2), id="einsum-rowdot")
add("einsum", lambda a: tf.einsum("ii->i", a), r(3, 3), id="einsum-diag")
add("einsum", lambda a: tf.einsum("ii", a), r(3, 3), id="einsum-trace")
add("reduce_sum", lambda x: tf.norm(x), r(2, 3), id="norm-euclidean")
add("reduce_sum", lambda x: tf.norm(x, ord=1, axis=1), away(2, 3), id="norm-1")
add("reduce_max", lambda x: tf.norm(x, ord=np.inf, axis=0), distinct(3, 2), id="norm-inf")
add("pow", lambda x: tf.norm(x, ord=3, axis=-1), away(2, 3), id="norm-3")

# --- shape and array ops -------------------------------------------------------------------------
add("reshape", lambda x: tf.reshape(x, [3, -1]), r(2, 3, 2))
add("broadcast_to", lambda x: tf.broadcast_to(x, [2, 3, 4]), r(3, 1))
add("transpose", tf.transpose, r(2, 3), id="transpose-default")
add("transpose", lambda x: tf.transpose(x, [1, 2, 0]), r(2, 3, 4), id="transpose-perm")
add("concat", lambda a, b, c: tf.concat([a, b, c], axis=1), r(2, 1), r(2, 3), r(2, 2))
add("concat", lambda a, b: tf.concat([a, b], axis=-1), r(2, 2, 1), r(2, 2, 2), id="concat-neg")
add("concat", lambda a, b: tf.stack([a, b], axis=1), r(2, 3), r(2, 3), id="stack")
add("split", lambda x: tuple(tf.split(x, 2, axis=1)), r(3, 4), id="split-2")
add("split_3", lambda x: tuple(tf.split(x, [1, -1, 2], axis=0)), r(6, 2), id="split-sizes")
add("split_3", lambda x: tuple(tf.unstack(x, axis=1)), r(2, 3), id="unstack")
add("split_4", lambda x: tuple(tf.split(x, 4)), r(4, 2), id="split-4")
add("tile", lambda x: tf.tile(x, [2, 3]), r(2, 2))
add("tile", lambda x: tf.tile(x, [1, 2, 2]), r(2, 1, 3), id="tile-3d")
add("pad", lambda x: tf.pad(x, [[1, 2], [0, 1]]), r(2, 3), id="pad-constant")
add("pad", lambda x: tf.pad(x, [[1, 1], [2, 1]], mode="REFLECT"), r(3, 4), id="pad-reflect")
add("pad", lambda x: tf.pad(x, [[2, 1], [1, 2]], mode="SYMMETRIC"), r(3, 3), id="pad-symmetric")
add("pad_mirror_grad",
    lambda g: execute(op("pad_mirror_grad"), (g,),
                      {"shape": (3, 4), "paddings": ((1, 1), (2, 1)), "mode": "REFLECT"}),
    r(5, 7), id="pad_mirror_grad-direct")
add("pad_mirror_grad", lambda x, w: _nested_grad(
    lambda v: tf.pad(v, [[2, 1], [1, 1]], mode="SYMMETRIC"), x, w), r(3, 2), r(6, 4),
    id="pad_mirror_grad-second-order")
add("reverse", lambda x: tf.reverse(x, [1]), r(2, 3))
add("reverse", lambda x: tf.reverse(x, [0, -1]), r(2, 3, 2), id="reverse-axes")
add("strided_slice", lambda x: x[1:, ::2], r(3, 5), id="slice-steps")
add("strided_slice", lambda x: x[-1], r(3, 2), id="slice-negative-int")
add("strided_slice", lambda x: x[..., ::-1, None, 1], r(2, 3, 2), id="slice-ellipsis-newaxis")
add("strided_slice", lambda x: x[::-2, 1:3], r(5, 4), id="slice-negative-step")
add("strided_slice", lambda x: tf.slice(x, [1, 0], [2, -1]), r(3, 3), id="tf.slice")
add("strided_slice_grad",
    lambda g: execute(op("strided_slice_grad"), (g,),
                      {"key": (slice(1, None), slice(None, None, 2)), "shape": (3, 5)}),
    r(2, 3), id="strided_slice_grad-direct")
add("strided_slice_grad", lambda x, w: _nested_grad(lambda v: v[::2, 1], x, w), r(3, 2), r(2),
    id="strided_slice_grad-second-order")
add("gather", lambda p, i: tf.gather(p, i), r(4, 3), ints(3, 0, 3), id="gather-axis0-dup")
add("gather", lambda p, i: tf.gather(p, i, axis=1), r(2, 4), ints([0, 2], [3, 3]),
    id="gather-axis1-2d-indices")
add("gather", lambda p, i: tf.gather(p, i, axis=1, batch_dims=1), r(2, 4, 2),
    ints([0, 3, 3], [1, 1, 2]), id="gather-batch_dims")
add("gather", lambda x: tf.repeat(x, [2, 0, 1], axis=0), r(3, 2), id="repeat-counts")
add("tile", lambda x: tf.repeat(x, 2, axis=1), r(2, 2), id="repeat")
add("gather", lambda p, i: tf.gather(p, i, axis=2, batch_dims=1), r(2, 3, 4),
    ints([0, 3], [2, 2]), id="gather-batch_dims-axis2")
add("gather", lambda p, i: tf.gather(p, i, axis=2, batch_dims=2), r(2, 2, 3),
    ints([[0, 2, 2], [1, 0, 0]], [[2, 2, 1], [0, 1, 2]]), id="gather-batch_dims2")
add("gather_grad", lambda x, w, i: _nested_grad(lambda v: tf.gather(v, i, axis=1), x, w),
    r(2, 4), r(2, 3), ints(1, 1, 3), id="gather_grad-second-order")
add("gather_grad",
    lambda g, i: execute(op("gather_grad"), (g, i), {"shape": (4, 2), "axis": 0,
                                                       "batch_dims": 0}),
    r(3, 2), ints(0, 3, 0), id="gather_grad-direct")
add("gather_grad",
    lambda g, i: execute(op("gather_grad"), (g, i), {"shape": (2, 4, 2), "axis": 1,
                                                       "batch_dims": 1}),
    r(2, 3, 2), ints([0, 3, 3], [1, 1, 2]), id="gather_grad-batch_dims")
add("gather_nd", lambda p, i: tf.gather_nd(p, i), r(3, 4), ints([0, 1], [2, 3], [0, 1]),
    id="gather_nd-elements")
add("gather_nd", lambda p, i: tf.gather_nd(p, i), r(3, 2, 2), ints([1], [0]), id="gather_nd-rows")
add("scatter_nd", lambda u, i: tf.scatter_nd(i, u, [4, 2]), r(3, 2), ints([1], [3], [1]),
    id="scatter_nd-rows-dup")
add("scatter_nd", lambda x, w, i: _nested_grad(lambda v: tf.gather_nd(v, i), x, w), r(3, 3),
    r(2), ints([0, 1], [2, 2]), id="scatter_nd-second-order")
add("take_along_axis", lambda x: tf.sort(x, axis=-1), distinct(3, 4), id="sort")
add("take_along_axis", lambda x: tf.math.top_k(x, k=2).values, distinct(2, 5), id="top_k")
add("einsum", lambda x: tf.linalg.diag_part(x), r(2, 3, 3), id="diag_part")
add("einsum", lambda x: tf.linalg.trace(x), r(3, 2), id="trace-non-square")
add("put_along_axis_add",
    lambda g, i: execute(op("put_along_axis_add"), (g, i), {"axis": 1, "shape": (2, 4)}),
    r(2, 3), ints([0, 3, 0], [2, 1, 1]), id="put_along_axis_add-direct")
add("put_along_axis_add", lambda x, w: _nested_grad(lambda v: tf.sort(v, axis=0), x, w),
    distinct(3, 2), r(3, 2), id="put_along_axis_add-second-order")
add("sum_to_shape",
    lambda g: execute(op("sum_to_shape"), (g,), {"shape": (3, 1)}), r(2, 3, 4),
    id="sum_to_shape-direct")
add("sum_to_shape", lambda x, w: _nested_grad(
    lambda v: v * tf.ones([2, 3], dtype=tf.float64), x, w), r(1, 3), r(2, 3),
    id="sum_to_shape-second-order")

# --- convolutions (forward and layer tests live with ops/conv.py; the gradient check is here,
# where every differentiable op of the registry must have one) ----------------------------------
add("conv", lambda x, w: tf.nn.conv2d(x, w, 1, "VALID"), r(1, 4, 4, 2), r(2, 2, 2, 3),
    id="conv2d-valid")
add("conv", lambda x, w: tf.nn.conv2d(x, w, 2, "SAME"), r(2, 5, 5, 1), r(3, 3, 1, 2),
    id="conv2d-same-stride2")
add("conv", lambda x, w: tf.nn.conv1d(x, w, 1, "SAME", dilations=2), r(1, 6, 2), r(2, 2, 2),
    id="conv1d-dilated")
add("conv", lambda x, w, b: tf.nn.conv(x, w, padding="VALID", bias=b, activation="relu"),
    r(1, 4, 3), r(2, 3, 2), away(2), id="conv-bias-relu")
add("conv_backprop_input", lambda x, w, g: _nested_grad(
    lambda v: tf.nn.conv2d(v, w, 1, "VALID"), x, g), r(1, 3, 3, 2), r(2, 2, 2, 2),
    r(1, 2, 2, 2), id="conv_backprop_input-second-order")
add("conv_backprop_filter", lambda x, w, g: _nested_grad(
    lambda v: tf.nn.conv2d(x, v, 1, "VALID"), w, g), r(1, 3, 3, 2), r(2, 2, 2, 2),
    r(1, 2, 2, 2), id="conv_backprop_filter-second-order")

# --- pooling (forward tests live with ops/pooling.py) ---------------------------------------------
_mp = lambda v: tf.nn.max_pool2d(v, 2, 2, "VALID")  # noqa: E731
add("max_pool", _mp, distinct(1, 4, 4, 2), id="max_pool2d")
add("max_pool", lambda v: tf.nn.max_pool1d(v, 3, 2, "SAME"), distinct(2, 5, 1), id="max_pool1d")
add("conv_max_pool", lambda x, w: _conv_max_pool(x, w, (2, 2))[0], distinct(1, 5, 5, 2),
    r(2, 2, 2, 3), id="conv_max_pool2d")
add("conv_max_pool", lambda x, w: _conv_max_pool(x, w, (3,), padding="SAME")[0],
    distinct(2, 7, 1), r(3, 1, 2), id="conv_max_pool1d-same")
add("avg_pool", lambda v: tf.nn.avg_pool2d(v, 2, 1, "VALID"), r(1, 3, 3, 2), id="avg_pool2d")
add("avg_pool", lambda v: tf.nn.avg_pool1d(v, 3, 2, "SAME"), r(2, 5, 1), id="avg_pool1d-same")
add("max_pool_grad", lambda x, w: _nested_grad(_mp, x, w), distinct(1, 4, 4, 2), r(1, 2, 2, 2),
    id="max_pool_grad-second-order")
add("max_pool_select", lambda x, w, u: _nested_grad(lambda ww: _nested_grad(_mp, x, ww), w, u),
    distinct(1, 4, 4, 1), r(1, 2, 2, 1), r(1, 4, 4, 1), id="max_pool_select-third-order")
add("avg_pool_grad", lambda x, w: _nested_grad(
    lambda v: tf.nn.avg_pool2d(v, 2, 1, "SAME"), x, w), r(1, 3, 3, 1), r(1, 3, 3, 1),
    id="avg_pool_grad-second-order")

# --- fused ops registered by keras layers and activations ---------------------------------------
if "dense" in REGISTRY:
    add("dense", lambda x, w, b: execute(op("dense"), (x, w, b)), r(3, 4), r(4, 2), r(2),
        id="dense")
    add("dense", lambda x, w, b: execute(op("dense"), (x, w, b)), r(2, 3, 4), r(4, 2), r(2),
        id="dense-rank3")
if "dense_relu" in REGISTRY:
    add("dense_relu", lambda x, w, b: execute(op("dense_relu"), (x, w, b)), r(3, 4), r(4, 2),
        r(2), id="dense_relu")
if "dense_nobias_relu" in REGISTRY:
    add("dense_nobias_relu", lambda x, w: execute(op("dense_nobias_relu"), (x, w)), r(2, 3, 4),
        r(4, 3), id="dense_nobias_relu")
if "keras_sparse_categorical_crossentropy_probs" in REGISTRY:
    add("keras_sparse_categorical_crossentropy_probs",
        lambda p, z: execute(op("keras_sparse_categorical_crossentropy_probs"), (p, z),
                             {"eps": 1e-7}),
        pos(3, 4, lo=0.2, hi=1.0), ints(0, 3, 1), id="keras_sparse_xent_probs")
    add("keras_sparse_categorical_crossentropy_probs", lambda p, w, z: _nested_grad(
        lambda v: execute(op("keras_sparse_categorical_crossentropy_probs"), (v, z),
                          {"eps": 1e-7}), p, w),
        pos(2, 3, lo=0.2, hi=1.0), r(2), ints(2, 0), id="keras_sparse_xent_probs-second-order")
    add("keras_sparse_categorical_crossentropy_probs_grad", lambda g, p, z: execute(
        op("keras_sparse_categorical_crossentropy_probs_grad"), (g, p, z), {"eps": 1e-7}),
        r(3), pos(3, 4, lo=0.2, hi=1.0), ints(0, 3, 1), id="keras_sparse_xent_probs_grad-direct")
    add("keras_sparse_categorical_crossentropy_probs_grad", lambda p, w, z: _nested_grad(
        lambda v: _nested_grad(lambda c: execute(
            op("keras_sparse_categorical_crossentropy_probs"), (c, z), {"eps": 1e-7}), v, w),
        p, None), pos(2, 3, lo=0.2, hi=1.0), r(2), ints(1, 2),
        id="keras_sparse_xent_probs-third-order")
if "keras_ctc_loss" in REGISTRY:
    from ndflow.keras.losses import ctc as _ctc

    add("keras_ctc_loss", lambda z, y: _ctc(y, z), r(2, 4, 3), ints([1, 2], [2, 0]),
        id="keras_ctc_loss")
# --- normalisation (ops/normalization.py): layer norm and training-mode batch norm --------------
def _norm_all(x, g, b, axes=(1,), bshape=None):
    """All five outputs, so that gradients reaching x_hat, 1/std, mean and variance are
    checked too."""
    return execute(op("normalize"), (x, g, b), {"axes": axes, "eps": 1e-3, "bshape": bshape})


def _norm(x, g, b, axes=(1,), bshape=None):
    return normalize(x, g, b, axes, 1e-3, bshape)[0]


add("normalize", _norm, r(3, 4), r(4), r(4), id="normalize-layer-norm")
add("normalize", _norm_all, r(3, 4), r(4), r(4), id="normalize-all-outputs")
add("normalize", lambda x, g, b: _norm_all(x, g, b, (1,), (1, 3, 1)), r(2, 3, 2), r(3), r(3),
    id="normalize-layer-norm-middle-axis")
add("normalize", lambda x, g, b: _norm_all(x, g, b, (1, 2), (1, 3, 2)), r(2, 3, 2), r(3, 2),
    r(3, 2), id="normalize-layer-norm-two-axes")
add("normalize", lambda x, g, b: _norm_all(x, g, b, (0,)), r(5, 3), r(3), r(3),
    id="normalize-batch-norm")
add("normalize", lambda x, g, b: _norm_all(x, g, b, (0, 2), (1, 3, 1)), r(2, 3, 2), r(3), r(3),
    id="normalize-batch-norm-channels-first")
add("normalize", lambda x, g, b, w: _nested_grad(lambda v: _norm(v, g, b), x, w),
    r(2, 4), r(4), r(4), r(2, 4), id="normalize-layer-norm-second-order")
add("normalize", lambda x, g, b, w: _nested_grad(lambda v: _norm(v, g, b, (0,)), x, w),
    r(4, 2), r(2), r(2), r(4, 2), id="normalize-batch-norm-second-order")
add("normalize_grad", lambda g, x, b: _nested_grad(lambda v: _norm(x, v, b, (0,)), g, None),
    r(2), r(4, 2), r(2), id="normalize-batch-norm-second-order-scale")
add("normalize_grad", lambda gy, xh, inv, g: execute(op("normalize_grad"), (gy, xh, inv, g),
                                                      {"axes": (1,), "bshape": None}),
    r(3, 4), r(3, 4), pos(3, 1), r(4), id="normalize_grad-layer-norm-direct")
add("normalize_grad", lambda gy, xh, inv, g: execute(op("normalize_grad"), (gy, xh, inv, g),
                                                      {"axes": (0, 2), "bshape": (1, 3, 1)}),
    r(2, 3, 2), r(2, 3, 2), pos(1, 3, 1), r(3), id="normalize_grad-batch-norm-direct")
add("normalize_grad", lambda gy, xh, inv, g: execute(op("normalize_grad"), (gy, xh, inv, g),
                                                      {"axes": (1, 2), "bshape": (1, 3, 2)}),
    r(2, 3, 2), r(2, 3, 2), pos(2, 1, 1), r(3, 2), id="normalize_grad-two-axes-direct")
if "sparsemax" in REGISTRY:
    from ndflow.keras.activations import sparsemax as _sparsemax

    add("sparsemax", _sparsemax, r(3, 5), id="sparsemax")
    add("sparsemax", lambda x: _sparsemax(x, axis=0), r(4, 2), id="sparsemax-axis0")

# --- second-order paths of the internal gradient ops --------------------------------------------
add("relu_grad", lambda g, y: execute(op("relu_grad"), (g, y)), r(3, 4), away(3, 4),
    id="relu_grad-direct")
add("relu_grad", lambda x, w: _nested_grad(tf.nn.relu, x, w), away(3, 4), r(3, 4),
    id="relu_grad-second-order")
add("multiply", lambda x: _nested_grad(lambda v: v * v * v, x, None), r(4),
    id="cube-second-order")
add("tanh", lambda x: _nested_grad(tf.tanh, x, None), r(2, 3), id="tanh-second-order")
add("sigmoid", lambda x: _nested_grad(tf.sigmoid, x, None), r(2, 3), id="sigmoid-second-order")
add("softmax", lambda x, w: _nested_grad(tf.nn.softmax, x, w), r(2, 4), r(2, 4),
    id="softmax-second-order")
add("log_softmax", lambda x, w: _nested_grad(tf.nn.log_softmax, x, w), r(2, 4), r(2, 4),
    id="log_softmax-second-order")
add("softmax_cross_entropy_with_logits", lambda z, x, w: _nested_grad(
    lambda v: tf.nn.softmax_cross_entropy_with_logits(labels=z, logits=v), x, w),
    _rng.dirichlet(np.ones(4), size=2), r(2, 4), r(2), id="softmax_xent-second-order")
add("sigmoid_cross_entropy_with_logits", lambda z, x: _nested_grad(
    lambda v: tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=v), x, None),
    r(2, 3, lo=0, hi=1), r(2, 3), id="sigmoid_xent-second-order")
add("reduce_prod", lambda x: _nested_grad(tf.reduce_prod, x, None), away(2, 3),
    id="prod-second-order")
add("cumprod", lambda x: _nested_grad(lambda v: tf.math.cumprod(v, axis=1), x, None), away(2, 3),
    id="cumprod-second-order")
add("matmul", lambda a, b: _nested_grad(lambda v: tf.matmul(v, b), a, None), r(2, 3), r(3, 2),
    id="matmul-second-order")
add("einsum", lambda a, b: _nested_grad(lambda v: tf.einsum("ij,jk->ik", v, b), a, None),
    r(2, 3), r(3, 2), id="einsum-second-order")
add("pow", lambda x, y: _nested_grad(lambda v: tf.pow(v, y), x, None), pos(3), r(3),
    id="pow-second-order")
add("tile", lambda x: _nested_grad(lambda v: tf.square(tf.tile(v, [2, 1])), x, None), r(2, 2),
    id="tile-second-order")
add("elu", lambda x: _nested_grad(tf.nn.elu, x, None), away(6), id="elu-second-order")
add("selu", lambda x: _nested_grad(tf.nn.selu, x, None), away(6), id="selu-second-order")


# --- control flow: the compiled while loop (traced loops; usable eagerly as one op) -------------
def _compiled_loop(x, a):
    from ndflow.graph.control_flow import compiled_while_loop

    def body(i, x, a):
        return i + 1, x * a + tf.sin(x), a

    _, x, a = compiled_while_loop(lambda i, x, a: i < 3, body, [tf.constant(0), x, a])
    return x, a


_LOOP_SCALE = tf.Variable(0.7, dtype=tf.float64, trainable=False)


def _compiled_loop_reading_a_variable(x):
    from ndflow.graph.control_flow import compiled_while_loop

    def body(i, x):
        return i + 1, tf.tanh(x) * tf.cast(_LOOP_SCALE, x.dtype)

    return compiled_while_loop(lambda i, x: i < 2, body, [tf.constant(0), x])[1]


add("while_loop_4", _compiled_loop, r(3), r(3), id="while_loop-compiled")
add("while_loop_stateful_3", _compiled_loop_reading_a_variable, r(2, 2),
    id="while_loop-compiled-reads-variable")


def op_names_of_cases() -> set[str]:
    """The ops the cases claim to reach, with split_N folded into one family name."""
    return {c.op for c in CASES}


# === convolution and pooling (ops/conv.py, ops/pooling.py; owner: conv contributor) ============
_CG = {"strides": (1, 1), "dilations": (1, 1), "padding": "SAME", "groups": 1,
       "channels_first": False}
add("conv", lambda x, w, b: tf.nn.conv(x, w, 2, "SAME", bias=b), r(2, 5, 6, 3), r(3, 2, 3, 4),
    r(4), id="conv2d-same-stride2-bias")
add("conv", lambda x, w: tf.nn.conv2d(x, w, 1, "VALID", dilations=2), r(1, 6, 6, 2),
    r(2, 2, 2, 3), id="conv2d-dilated")
add("conv", lambda x, w: tf.nn.conv(x, w, 1, "SAME", data_format="NCW", groups=2),
    r(2, 4, 7), r(3, 2, 4), id="conv1d-groups-ncw")
add("conv", lambda x, w: tf.nn.conv(x, w, (1, 2), "VALID", groups=3), r(1, 4, 5, 3),
    r(2, 2, 1, 6), id="conv2d-depthwise-path")
add("conv", lambda x, w: tf.nn.conv3d(x, w, 1, "SAME"), r(1, 3, 4, 3, 2), r(2, 2, 2, 2, 2),
    id="conv3d-same")
add("conv", lambda x, w, b: tf.nn.conv(x, w, 1, "SAME", bias=b, activation="relu"),
    r(1, 4, 4, 2), r(3, 3, 2, 2), r(2), id="conv2d-fused-relu")
add("conv", lambda x, d, p: tf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], "SAME"),
    r(1, 4, 4, 2), r(3, 3, 2, 2), r(1, 1, 4, 3), id="separable_conv2d")
add("conv_backprop_input", lambda x, w: tf.nn.conv2d_transpose(x, w, [2, 5, 6, 3], 2, "SAME"),
    r(2, 3, 3, 4), r(3, 3, 3, 4), id="conv2d_transpose-same")
add("conv_backprop_input", lambda x, w: tf.nn.conv1d_transpose(x, w, [1, 9, 2], 2, "VALID"),
    r(1, 4, 3), r(3, 2, 3), id="conv1d_transpose-valid")
add("conv_backprop_input", lambda x, w, u: _nested_grad(
    lambda v: tf.nn.conv(v, w, 1, "SAME", groups=2), x, u), r(1, 4, 4, 4), r(3, 2, 2, 4),
    r(1, 4, 4, 4), id="conv_backprop_input-second-order")
add("conv_backprop_filter",
    lambda x, g: execute(op("conv_backprop_filter"), (x, g), dict(_CG, filter_shape=(3, 2, 2, 3))),
    r(2, 4, 5, 2), r(2, 4, 5, 3), id="conv_backprop_filter-direct")
add("conv_backprop_filter", lambda x, w, u: _nested_grad(
    lambda v: tf.nn.conv(x, v, 2, "VALID"), w, u), r(1, 5, 5, 2), r(2, 2, 2, 3), r(1, 2, 2, 3),
    id="conv_backprop_filter-second-order")
add("conv_backprop_filter",
    lambda x, g: execute(op("conv_backprop_filter"), (x, g),
                         dict(_CG, groups=2, filter_shape=(2, 2, 1, 4))),
    r(1, 3, 4, 2), r(1, 3, 4, 4), id="conv_backprop_filter-depthwise-path")
add("max_pool", lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"), distinct(2, 4, 6, 3),
    id="max_pool2d-disjoint")
add("max_pool", lambda x: tf.nn.max_pool2d(x, 3, 2, "SAME", data_format="NCHW"),
    distinct(1, 2, 5, 6), id="max_pool2d-overlap-same-nchw")
add("max_pool", lambda x: tf.nn.max_pool1d(x, 3, 1, "SAME"), distinct(2, 5, 2),
    id="max_pool1d")
add("max_pool", lambda x: tf.nn.max_pool3d(x, 2, 2, "VALID"), distinct(1, 2, 4, 2, 2),
    id="max_pool3d")
add("max_pool_grad", lambda x, u: _nested_grad(
    lambda v: tf.nn.max_pool2d(v, 3, 2, "SAME"), x, u), distinct(1, 5, 5, 2), r(1, 3, 3, 2),
    id="max_pool_grad-second-order")
add("max_pool_select",
    lambda x, i: execute(op("max_pool_select"), (x, i),
                         {"ksize": (2, 2), "strides": (2, 2), "padding": "VALID",
                          "channels_first": False}),
    r(1, 4, 4, 2), np.asarray(_rng.integers(0, 4, (1, 2, 2, 2)), np.uint8),
    id="max_pool_select-direct")
add("avg_pool", lambda x: tf.nn.avg_pool2d(x, 3, 2, "SAME"), r(2, 5, 6, 2),
    id="avg_pool2d-same")
add("avg_pool", lambda x: tf.nn.avg_pool(x, 2, 1, "VALID", data_format="NCW"), r(2, 3, 5),
    id="avg_pool1d-ncw")
add("avg_pool_grad", lambda x, u: _nested_grad(
    lambda v: tf.nn.avg_pool2d(v, (2, 3), (1, 2), "SAME"), x, u), r(1, 4, 5, 2), r(1, 4, 3, 2),
    id="avg_pool_grad-second-order")
add("avg_pool_grad",
    lambda g: execute(op("avg_pool_grad"), (g,), {"input_shape": (1, 5, 5, 1), "ksize": (3, 3),
                                                  "strides": (2, 2), "padding": "SAME",
                                                  "channels_first": False}),
    r(1, 3, 3, 1), id="avg_pool_grad-direct")
# === end convolution and pooling ================================================================
# === keras.ops.linalg primitives (src/ndflow/keras/ops/linalg.py; owner: keras.ops) ==========


def _kops(name: str) -> Any:
    from ndflow.keras.ops import linalg as _kl

    return getattr(_kl, name)


def _well(*batch: int, n: int = 3) -> np.ndarray:
    """Well-conditioned square matrices: random values plus a dominant diagonal."""
    return r(*batch, n, n, lo=-1.0, hi=1.0) + 3.0 * np.eye(n)


add("matrix_inverse", lambda a: _kops("inv")(a), _well(2), id="kops_inv-batched")
add("matrix_inverse", lambda a, u: _nested_grad(lambda v: _kops("inv")(v), a, u), _well(), r(3, 3),
    id="kops_inv-second-order")
add("matrix_determinant", lambda a: _kops("det")(a), _well(2), id="kops_det-batched")
add("matrix_determinant", lambda a, u: _nested_grad(lambda v: _kops("det")(v), a, u), _well(), r(),
    id="kops_det-second-order")
add("matrix_solve", lambda a, b: _kops("solve")(a, b), _well(2), r(2, 3, 2), id="kops_solve")
add("matrix_solve", lambda a, b: _kops("solve")(a, b), _well(), r(3), id="kops_solve-vector")
add("log_matrix_determinant", lambda a: _kops("slogdet")(a), _well(2), id="kops_slogdet-batched")
add("log_matrix_determinant", lambda a: _kops("slogdet")(a)[1], -_well(),
    id="kops_slogdet-logdet-only")
# tf.linalg's spellings of the same primitives, adjoint arguments included
add("matrix_inverse", lambda a: tf.linalg.inv(a, adjoint=True), _well(2), id="linalg-inv-adjoint")
add("matrix_solve", lambda a, b: tf.linalg.solve(a, b, adjoint=True), _well(2), r(2, 3, 2),
    id="linalg-solve-adjoint")
add("log_matrix_determinant", lambda a: tf.linalg.logdet(tf.matmul(a, a, transpose_b=True)),
    _well(2), id="linalg-logdet")
# compositions: band_part (a where), clipping by norm (scale by a norm)
add("where", lambda a: tf.linalg.band_part(a, 1, 0), r(2, 3, 4), id="linalg-band_part")
add("where", lambda a: tf.linalg.band_part(a, -1, 1), r(4, 3), id="linalg-band_part-lower")
add("sqrt", lambda a, b: tf.clip_by_global_norm([a, b], 1.0)[0][1], r(2, 3), r(4),
    id="clip_by_global_norm")
add("sqrt", lambda a: tf.clip_by_norm(a, 0.5, axes=[1]), r(3, 4), id="clip_by_norm-axes")


def _kops_log1pexp(x: Any) -> Any:
    """log(1 + exp(x)) through keras.ops.custom_gradient, with its exact gradient."""
    from ndflow.keras import ops as _ko

    @_ko.custom_gradient
    def f(v: Any) -> Any:
        e = tf.exp(v)
        return tf.math.log1p(e), lambda g: g * (1.0 - 1.0 / (1.0 + e))

    return f(x)


def _kops_mul(x: Any, y: Any) -> Any:
    from ndflow.keras import ops as _ko

    @_ko.custom_gradient
    def f(a: Any, b: Any) -> Any:
        return a * b, lambda g: (g * b, g * a)

    return f(x, y)


add("kops_custom_gradient", _kops_log1pexp, r(3, 2), id="kops_custom_gradient-log1pexp")
add("kops_custom_gradient", _kops_mul, r(2, 3), r(3), id="kops_custom_gradient-two-inputs")
add("kops_custom_gradient", lambda x, u: _nested_grad(_kops_log1pexp, x, u), r(4), r(4),
    id="kops_custom_gradient-second-order")
# === end keras.ops.linalg =========================================================================
# === recurrent sequence ops (src/ndflow/ops/rnn.py; owner: sequence models) ====================


def _rnn_cases() -> None:
    from ndflow.ops import rnn

    mk = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], bool)
    rd = np.array([[1.4, 0.0, 1.4], [1.4, 1.4, 0.0]])
    for masked, drop in ((False, False), (True, True)):
        kw = {"mask": mk if masked else None, "recurrent_dropout_mask": rd if drop else None}
        sfx = "-masked-dropout" if masked else ""
        add("simple_rnn_sequence", lambda xw, h0, R, kw=kw: rnn.simple_rnn_sequence(
            xw, h0, R, **kw)[0], r(2, 4, 3), r(2, 3), r(3, 3), id="simple_rnn_sequence" + sfx)
        add("lstm_sequence", lambda xw, h0, c0, R, kw=kw: rnn.lstm_sequence(
            xw, h0, c0, R, **kw), r(2, 4, 12), r(2, 3), r(2, 3), r(3, 12),
            id="lstm_sequence" + sfx)
        for ra in (True, False):
            add("gru_sequence", lambda xw, h0, R, rb, kw=kw, ra=ra: rnn.gru_sequence(
                xw, h0, R, rb, reset_after=ra, **kw)[0], r(2, 4, 9), r(2, 3), r(3, 9), r(9),
                id=f"gru_sequence-reset_after={ra}" + sfx)
    add("lstm_sequence", lambda xw, h0, c0, R: rnn.lstm_sequence(
        xw, h0, c0, R, activation="relu", recurrent_activation="hard_sigmoid")[0],
        r(2, 3, 8), r(2, 2), r(2, 2), r(2, 8), id="lstm_sequence-relu-hard_sigmoid")


_rnn_cases()


def _attention(*xs: Any) -> Any:
    from ndflow.ops.attention import attention

    return attention(*xs)


add("attention", _attention, r(2, 3, 2, 4), r(2, 5, 2, 4), r(2, 5, 2, 3), id="attention")
add("attention", lambda q, k, v, u: _nested_grad(lambda x: _attention(x, k, v)[0], q, u),
    r(1, 2, 1, 3), r(1, 3, 1, 3), r(1, 3, 1, 2), r(1, 2, 1, 2), id="attention-second-order")
# === end recurrent sequence ops =================================================================
# === matrix decompositions and Fourier transforms (ops/decomp.py, ops/spectral.py; owner: #16 ops)


def _spd(x: Any) -> Any:
    """A symmetric positive-definite matrix from any square `x` (so finite differences move
    both triangles together, as the symmetric gradient assumes)."""
    n = x.shape[-1]
    return tf.linalg.matmul(x, x, transpose_b=True) + tf.constant(3.0 * np.eye(n))


def _sym(x: Any) -> Any:
    return x + tf.linalg.matrix_transpose(x) if hasattr(tf.linalg, "matrix_transpose") else \
        x + tf.transpose(x, [*range(len(x.shape) - 2), len(x.shape) - 1, len(x.shape) - 2])


def _decomp(name: str) -> Any:
    from ndflow.ops import decomp

    return getattr(decomp, name)


def _spec(name: str) -> Any:
    from ndflow.ops import spectral

    return getattr(spectral, name)


_lower = np.tril(r(3, 3, lo=-0.5, hi=0.5)) + 2.0 * np.eye(3)
add("triangular_solve", lambda a, b: tf.linalg.triangular_solve(a, b, lower=True),
    _lower, r(3, 2), id="triangular_solve-lower")
add("triangular_solve", lambda a, b: tf.linalg.triangular_solve(a, b, lower=False,
                                                                adjoint=True),
    np.stack([_lower.T, _lower.T]), r(2, 3, 1), id="triangular_solve-upper-adjoint-batched")
add("cholesky", lambda x: tf.linalg.cholesky(_spd(x)), r(2, 3, 3), id="cholesky-batched")
add("cholesky", lambda x, u: _nested_grad(lambda v: tf.linalg.cholesky(_spd(v)), x, u),
    r(3, 3), r(3, 3), id="cholesky-second-order", rtol=1e-4, atol=1e-4)
add("qr", lambda a: tf.linalg.qr(a), r(4, 3), id="qr-tall")
add("qr", lambda a: tf.linalg.qr(a), _well(2), id="qr-square-batched")
add("eigh", lambda x: tf.linalg.eigh(_sym(x)), distinct(3, 3) * 0.3, id="eigh")
add("eigh", lambda x: tf.linalg.eigvalsh(_sym(x)), r(2, 3, 3), id="eigh-values-only")
add("svd", lambda a: _decomp("svd_uv")(a), r(4, 3), id="svd-tall")
add("svd", lambda a: _decomp("svd_uv")(a), r(2, 3, 4), id="svd-wide-batched")
add("svd", lambda a: tf.linalg.svd(a, compute_uv=False), r(3, 3), id="svd-values-only")
add("svd", lambda a: tf.linalg.pinv(a), r(3, 2), id="svd-pinv")
add("complex", lambda a, b: tf.math.real(tf.complex(a, b) * 1.0), r(2, 3), r(2, 3),
    id="complex-real")
add("real", lambda a, b: tf.math.real(tf.math.conj(tf.complex(a, b))), r(3), r(3),
    id="real-of-conj")
add("imag", lambda a, b: tf.math.imag(tf.math.conj(tf.complex(a, b))), r(3), r(3),
    id="imag-of-conj")
add("conj", lambda a, b: tf.math.angle(tf.math.conj(tf.complex(a, b))), away(4), away(4),
    id="conj-angle")
add("fft_pair", lambda a, b: _spec("fft_pair")(a, b), r(2, 5), r(2, 5), id="fft_pair")
add("fft_pair", lambda a, b: _spec("fft_pair")(a, b, rank=2, inverse=True), r(3, 4), r(3, 4),
    id="fft_pair-2d-inverse")
add("rfft", lambda x: _spec("rfft_pair")(x), r(2, 6), id="rfft")
add("rfft", lambda x: _spec("rfft_pair")(x, 5), r(7), id="rfft-cut")
add("rfft", lambda x: _spec("rfft_pair")(x, 9), r(2, 4), id="rfft-padded")
add("irfft", lambda a, b: _spec("irfft_pair")(a, b), r(2, 5), r(2, 5), id="irfft")
add("irfft", lambda a, b: _spec("irfft_pair")(a, b, 7), r(3), r(3), id="irfft-odd-padded")
add("irfft", lambda a, b: _spec("irfft_pair")(a, b, 4), r(5), r(5), id="irfft-cut")


def _kmath(name: str) -> Any:
    from ndflow.keras.ops import math_more

    return getattr(math_more, name)


add("kops_erfinv", lambda y: _kmath("erfinv")(y), r(2, 3, lo=-0.9, hi=0.9), id="kops_erfinv")
add("kops_erfinv", lambda y, u: _nested_grad(lambda v: _kmath("erfinv")(v), y, u),
    r(4, lo=-0.8, hi=0.8), r(4), id="kops_erfinv-second-order")
