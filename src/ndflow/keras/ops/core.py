# ruff: noqa: A001
"""`keras.ops.core`: conversion, dtypes, control flow, slicing and scattering.

>>> from ndflow.keras import ops
>>> ops.slice_update(ops.zeros((2, 3)), (0, 1), ops.ones((1, 2))).numpy().tolist()
[[0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.graph import control_flow as cf
from ndflow.ops import array as a_
from ndflow.ops import creation as c_
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
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

    >>> map(lambda v: v * 2, [1.0, 2.0]).numpy().tolist()
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


__all__ = ["cast", "cond", "convert_to_numpy", "convert_to_tensor", "dtype", "fori_loop",
           "is_tensor", "map", "scatter", "scatter_update", "shape", "slice", "slice_update",
           "stop_gradient", "vectorized_map", "while_loop"]
