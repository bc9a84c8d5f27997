# ruff: noqa: A001
"""`keras.ops.core`: conversion, dtypes, control flow, slicing and scattering.

>>> from ndflow.keras import ops
>>> ops.slice_update(ops.zeros((2, 3)), (0, 1), ops.ones((1, 2))).numpy().tolist()
[[0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core import dispatch
from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.graph import control_flow as cf
from ndflow.ops import array as a_
from ndflow.ops import creation as c_
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.shape_ops import sum_to_shape
from ndflow.util import nest
from ndflow.keras.ops._common import as_np_dtype, as_tensor, rank


def convert_to_tensor(x: Any, dtype: Any = None, sparse: Any = None,
                      ragged: Any = None) -> Tensor:
    """`x` as a tensor (Python floats become floatx), cast to `dtype` when given.

    >>> convert_to_tensor([1.0, 2.0]).dtype
    tf.float32
    """
    return as_tensor(x, as_np_dtype(dtype))


def convert_to_numpy(x: Any) -> np.ndarray:
    """`x` as a NumPy array."""
    if isinstance(x, Tensor):
        return np.asarray(x.numpy())
    return np.asarray(x)


def is_tensor(x: Any) -> bool:
    """True for ndflow tensors (including variables and symbolic tensors)."""
    return isinstance(x, Tensor)


def cast(x: Any, dtype: Any) -> Tensor:
    """`x` converted to `dtype` (floats to ints truncate toward zero)."""
    return m.cast(as_tensor(x), as_np_dtype(dtype))


def dtype(x: Any) -> str:
    """The dtype name of `x`, e.g. `'float32'`."""
    return as_tensor(x).dtype.name


def shape(x: Any) -> tuple:
    """The shape of `x` as a tuple (None for dimensions unknown until run time)."""
    if isinstance(x, Tensor):
        return tuple(shape_of(x))
    return tuple(np.shape(x))


def stop_gradient(variable: Any) -> Tensor:
    """The same value, with no gradient flowing back through it."""
    return m.stop_gradient(as_tensor(variable))


def cond(pred: Any, true_fn: Callable, false_fn: Callable) -> Any:
    """`true_fn()` if `pred` else `false_fn()`; both branches are traced inside
    `ndflow.function` when `pred` is a traced tensor."""
    return cf.cond(pred, true_fn, false_fn)


def while_loop(cond: Callable, body: Callable, loop_vars: Any,
               maximum_iterations: int | None = None) -> Any:
    """Repeat `loop_vars = body(*loop_vars)` while `cond(*loop_vars)` holds.

    A tuple/list of loop variables is unpacked into the calls; a single one is passed as is.

    >>> while_loop(lambda i: i < 5, lambda i: i + 1, 0)
    5
    """
    is_tuple = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_tuple else (loop_vars,)

    def _body(*args: Any) -> tuple:
        out = body(*args)
        return tuple(out) if is_tuple else (out,)

    out = cf.while_loop(cond, _body, state, maximum_iterations=maximum_iterations)
    out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    return type(loop_vars)(out) if is_tuple else out[0]


def fori_loop(lower: Any, upper: Any, body_fun: Callable, init_val: Any) -> Any:
    """`val = body_fun(i, val)` for `i` in `range(lower, upper)`.

    >>> int(fori_loop(0, 4, lambda i, v: v + i, 0))
    6
    """
    def _cond(i: Any, val: Any) -> Any:
        return i < upper

    def _body(i: Any, val: Any) -> tuple:
        return i + 1, body_fun(i, val)

    return while_loop(_cond, _body, (lower, init_val))[1]


def _starts(op: str, start_indices: Any, nd: int) -> list[int]:
    if isinstance(start_indices, Tensor):
        if start_indices._symbolic:
            raise fail(f"keras.ops.{op}", "concrete start indices",
                       "a symbolic or traced tensor", "Pass Python ints.")
        start_indices = start_indices.numpy().tolist()
    starts = [int(s) for s in start_indices]
    if len(starts) != nd:
        raise fail(f"keras.ops.{op}", f"{nd} start indices (one per dimension)",
                   f"{len(starts)}")
    return starts


def slice(inputs: Any, start_indices: Any, shape: Any) -> Tensor:
    """The block of size `shape` starting at `start_indices`.

    >>> slice([[1, 2, 3], [4, 5, 6]], (0, 1), (2, 2)).numpy().tolist()
    [[2, 3], [5, 6]]
    """
    x = as_tensor(inputs)
    starts = _starts("slice", start_indices, rank(x))
    sizes = [int(v) for v in (shape.numpy().tolist() if isinstance(shape, Tensor) else shape)]
    key = tuple(builtins.slice(s, None if n == -1 else s + n) for s, n in zip(starts, sizes))
    return x[key]


def slice_update(inputs: Any, start_indices: Any, updates: Any) -> Tensor:
    """`inputs` with the block at `start_indices` replaced by `updates` (differentiable in
    both)."""
    x = as_tensor(inputs)
    u = as_tensor(updates, npdt(x))
    starts = _starts("slice_update", start_indices, rank(x))
    xs, us = shape_of(x), shape_of(u)
    if len(us) != len(xs):
        raise fail("keras.ops.slice_update", f"updates of rank {len(xs)}", f"rank {len(us)}")
    pads = []
    for s, n, d in zip(starts, us, xs):
        if s < 0 or n is None or d is None or s + n > d:
            raise fail("keras.ops.slice_update", f"updates that fit inside shape {list(xs)}",
                       f"updates of shape {list(us)} at {starts}")
        pads.append([s, d - s - n])
    mask = a_.pad(c_.ones_like(u, np.bool_), pads)
    return m.where(mask, a_.pad(u, pads), x)


def scatter(indices: Any, values: Any, shape: Any) -> Tensor:
    """Zeros of `shape` with `values` added at `indices` (the last axis of `indices` indexes
    the leading dimensions).

    >>> scatter([[0], [2]], [1.0, 2.0], (3,)).numpy().tolist()
    [1.0, 0.0, 2.0]
    """
    i = as_tensor(indices)
    v = as_tensor(values)
    return a_.scatter_nd(i, v, [int(d) for d in shape])


def scatter_update(inputs: Any, indices: Any, updates: Any) -> Tensor:
    """`inputs` with the elements at `indices` replaced by `updates`."""
    x = as_tensor(inputs)
    return a_.tensor_scatter_nd_update(x, as_tensor(indices), as_tensor(updates, npdt(x)))


def map(f: Callable, xs: Any) -> Any:
    """`f` applied to each slice of `xs` along axis 0, results stacked.

    >>> map(lambda v: v * 2, convert_to_tensor([1.0, 2.0])).numpy().tolist()
    [2.0, 4.0]
    """
    flat = [as_tensor(v) for v in nest.flatten(xs)]
    n = shape_of(flat[0])[0]
    if n is None:
        raise fail("keras.ops.map", "a known leading dimension", "an unknown one")
    outs = []
    for i in range(n):
        outs.append(f(nest.pack_sequence_as(xs, [v[i] for v in flat])))
    first = nest.flatten(outs[0])
    stacked = [a_.stack([as_tensor(nest.flatten(o)[k]) for o in outs])
               for k in range(len(first))]
    return nest.pack_sequence_as(outs[0], stacked)


def vectorized_map(function: Callable, elements: Any) -> Any:
    """Like `map`: `function` applied to each slice along axis 0, results stacked."""
    return map(function, elements)


def scan(f: Callable, init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False, unroll: Any = 1) -> tuple:
    """`carry, y = f(carry, x)` over the slices of `xs` along axis 0 (or `length` times with
    `x=None`); returns the final carry and the stacked `y`s (None when `f` returns None).

    >>> carry, ys = scan(lambda c, x: (c + x, c * x), 0.0, convert_to_tensor([1.0, 2.0, 3.0]))
    >>> float(carry), ys.numpy().tolist()
    (6.0, [0.0, 2.0, 9.0])
    """
    if xs is None:
        if length is None:
            raise fail("keras.ops.scan", "xs or length", "neither")
        n, flat = int(length), None
    else:
        flat = [as_tensor(v) for v in nest.flatten(xs)]
        n = shape_of(flat[0])[0]
        if n is None:
            raise fail("keras.ops.scan", "xs with a known leading dimension", "an unknown one")
        if length is not None and int(length) != n:
            raise fail("keras.ops.scan", f"length equal to the leading dimension of xs ({n})",
                       f"length={length}")
    carry = init
    ys: list = [None] * n
    order = range(n - 1, -1, -1) if reverse else range(n)
    for i in order:
        x = None if flat is None else nest.pack_sequence_as(xs, [v[i] for v in flat])
        carry, ys[i] = f(carry, x)
    if n == 0 or all(y is None for y in nest.flatten(ys[0])):
        return carry, None
    stacked = [a_.stack([as_tensor(nest.flatten(y)[k]) for y in ys])
               for k in range(len(nest.flatten(ys[0])))]
    return carry, nest.pack_sequence_as(ys[0], stacked)


def switch(index: Any, branches: list, *operands: Any) -> Any:
    """`branches[index](*operands)`, with `index` clamped into range; inside
    `ndflow.function` a traced index traces every branch and selects the result.

    >>> float(switch(1, [lambda x: x + 1.0, lambda x: x * 10.0], 2.0))
    20.0
    """
    if not branches:
        raise fail("keras.ops.switch", "at least one branch", "an empty list")
    n = len(branches)
    if not (isinstance(index, Tensor) and index._symbolic):
        i = int(np.asarray(index.numpy() if isinstance(index, Tensor) else index))
        return branches[builtins.min(builtins.max(i, 0), n - 1)](*operands)
    idx = m.minimum(m.maximum(as_tensor(index, np.int32), 0), n - 1)

    def pick(k: int) -> Any:
        if k == n - 1:
            return branches[k](*operands)
        return cf.cond(m.equal(idx, k), lambda: branches[k](*operands), lambda: pick(k + 1))

    return pick(0)


def saturate_cast(x: Any, dtype: Any) -> Tensor:
    """Cast to `dtype`, first clamping values into its range (no integer wrap-around).

    >>> saturate_cast([-1.0, 300.0], "uint8").numpy().tolist()
    [0, 255]
    """
    x = as_tensor(x)
    src, dst = npdt(x), as_np_dtype(dtype)
    if dst.kind == "b" or src.kind == "b" or src.kind == "c":
        return m.cast(x, dst)
    info_d = np.iinfo(dst) if dst.kind in "iu" else np.finfo(dst)
    info_s = np.iinfo(src) if src.kind in "iu" else np.finfo(src)
    lo = builtins.max(float(info_d.min), float(info_s.min))
    hi = builtins.min(float(info_d.max), float(info_s.max))
    lo_s, hi_s = np.asarray(lo).astype(src), np.asarray(hi).astype(src)
    if src.kind == "f" and dst.kind in "iu":
        while float(hi_s) > info_d.max:  # the bound rounded up in the source dtype
            hi_s = np.nextafter(hi_s, np.zeros((), src))
        while float(lo_s) < info_d.min:
            lo_s = np.nextafter(lo_s, np.zeros((), src))
    if float(lo_s) > float(info_s.min) or float(hi_s) < float(info_s.max):
        x = m.minimum(m.maximum(x, as_tensor(lo_s)), as_tensor(hi_s))
    return m.cast(x, dst)


# --- custom gradients ------------------------------------------------------------------------


def _cg_call(fn: Callable, xs: list) -> Tensor:
    out = fn(*xs)
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and callable(out[1])):
        raise fail("keras.ops.custom_gradient", "a function returning (output, grad_fn)",
                   f"{type(out).__name__}")
    y = out[0]
    if not isinstance(y, Tensor):
        y = as_tensor(y)
    return y


def _cg_fwd(xp: Any, *arrays: Any, fn: Callable) -> Any:
    # The user's function runs on fresh tensors with tapes paused: only this op is recorded.
    with dispatch.tapes_paused():
        return _cg_call(fn, [Tensor(a) for a in arrays])._value


def _cg_infer(*specs: Spec, fn: Callable) -> Spec:
    hook, dispatch.trace_hook = dispatch.trace_hook, None
    try:
        with dispatch.tapes_paused():
            y = _cg_call(fn, [SymbolicTensor(sp.shape, sp.dtype) for sp in specs])
    finally:
        dispatch.trace_hook = hook
    return Spec(tuple(shape_of(y)), npdt(y))


def _cg_grad(node: Any, g: Tensor) -> tuple:
    fn = node.attrs["fn"]
    out = fn(*node.inputs)  # recomputed with ndflow ops, so it also traces
    grads = out[1](g)
    grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
    if len(grads) != len(node.inputs):
        raise fail("keras.ops.custom_gradient", f"grad_fn to return {len(node.inputs)} "
                   "gradient(s), one per input", f"{len(grads)}")
    out_grads = []
    for gi, x in zip(grads, node.inputs):
        if gi is not None:
            gi = as_tensor(gi, npdt(x))
            if tuple(shape_of(gi)) != tuple(shape_of(x)):  # broadcast inputs: sum back
                gi = sum_to_shape(gi, tuple(shape_of(x)))
        out_grads.append(gi)
    return tuple(out_grads)


_CUSTOM_GRADIENT = register_op("kops_custom_gradient", _cg_fwd, _cg_infer, _cg_grad)


def custom_gradient(f: Callable) -> Callable:
    """Decorate `f(*xs) -> (y, grad_fn)` so that the gradient of `y` with respect to the
    positional tensor arguments is `grad_fn(upstream)` (one gradient per argument).

    `y` must be a single tensor; gradients reach only the positional arguments (not variables
    used inside `f`). The backward pass re-runs `f` to get `grad_fn`.

    >>> import ndflow as tf
    >>> @custom_gradient
    ... def clip_grad_identity(x):
    ...     return x * 1.0, lambda g: g * 0.5
    >>> x = tf.constant(3.0)
    >>> with tf.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = clip_grad_identity(x)
    >>> float(tape.gradient(y, x))
    0.5
    """
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Tensor:
        if kwargs:
            raise fail("keras.ops.custom_gradient", "positional arguments only",
                       f"keyword arguments {sorted(kwargs)}",
                       "Bind them first, e.g. with functools.partial.")
        xs = tuple(as_tensor(a) for a in args)
        return execute(_CUSTOM_GRADIENT, xs, {"fn": f})

    return wrapper


__all__ = ["cast", "cond", "convert_to_numpy", "convert_to_tensor", "custom_gradient", "dtype",
           "fori_loop", "is_tensor", "map", "saturate_cast", "scan", "scatter", "scatter_update",
           "shape", "slice", "slice_update", "stop_gradient", "switch", "vectorized_map",
           "while_loop"]
