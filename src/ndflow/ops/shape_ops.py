"""The shape primitives that gradient rules rely on: reshape, broadcast_to, sum_to_shape."""

from __future__ import annotations

import math
from typing import Any

from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.tensor import Tensor
from ndflow.ops._util import is_variable, own, shape_of, t
from ndflow.ops.row_sums import leading_sum


def _reshape_infer(x: Spec, shape: tuple) -> Spec:
    known = [d for d in x.shape if d is not None]
    total = math.prod(known) if len(known) == len(x.shape) else None
    if list(shape).count(-1) > 1:
        raise fail("reshape", "at most one -1 in the new shape", f"{list(shape)}")
    if total is not None:
        rest = math.prod(d for d in shape if d != -1)
        if -1 in shape:
            if rest == 0 or total % rest:
                raise fail("reshape", f"a shape whose size divides {total} (input {list(x.shape)})",
                           f"{list(shape)}")
            shape = tuple(total // rest if d == -1 else d for d in shape)
        elif rest != total:
            raise fail("reshape", f"a shape with {total} elements (input shape {list(x.shape)})",
                       f"{list(shape)} with {rest} elements")
        return Spec(shape, x.dtype)
    return Spec(tuple(None if d == -1 else d for d in shape), x.dtype)


def _reshape_grad(node: Any, g: Tensor) -> tuple:
    return (reshape(g, shape_of(node.inputs[0])),)


_RESHAPE = register_op("reshape", lambda xp, a, shape: a.reshape(shape), _reshape_infer,
                       _reshape_grad)


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """Same values, new shape; one dimension may be -1."""
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    shape = tuple(int(d) for d in shape) if not isinstance(shape, int) else (shape,)
    x = t(tensor)
    if tuple(shape_of(x)) == shape and not is_variable(x):
        return x
    return own(x, execute(_RESHAPE, (x,), {"shape": shape}))


def _broadcast_infer(x: Spec, shape: tuple) -> Spec:
    from ndflow.ops._util import broadcast_shapes

    out = broadcast_shapes("broadcast_to", x.shape, shape)
    if tuple(out) != tuple(shape):
        raise fail("broadcast_to", f"an input that broadcasts to {list(shape)}", f"{list(x.shape)}")
    return Spec(shape, x.dtype)


def _broadcast_grad(node: Any, g: Tensor) -> tuple:
    return (sum_to_shape(g, shape_of(node.inputs[0])),)


_BROADCAST = register_op("broadcast_to", lambda xp, a, shape: xp.broadcast_to(a, shape),
                         _broadcast_infer, _broadcast_grad)


def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Tensor:
    """Broadcast `input` to `shape` (NumPy rules)."""
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    shape = tuple(int(d) for d in shape)
    x = t(input)
    if tuple(shape_of(x)) == shape and not is_variable(x):
        return x
    return own(x, execute(_BROADCAST, (x,), {"shape": shape}))


def _sum_to_shape_fwd(xp: Any, a: Any, shape: tuple) -> Any:
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, d in enumerate(shape) if d == 1 and a.shape[i + lead] != 1)
    if lead and axes == tuple(range(lead)):  # a bias gradient: NumPy's bits, faster
        out = leading_sum(a, lead)
        if out is not None:
            return out.reshape(shape)
    if axes:
        a = a.sum(axis=axes, keepdims=True)
    return a.reshape(shape)


def _sum_to_shape_grad(node: Any, g: Tensor) -> tuple:
    return (broadcast_to(g, shape_of(node.inputs[0])),)


_SUM_TO = register_op("sum_to_shape", _sum_to_shape_fwd,
                      lambda x, shape: Spec(shape, x.dtype), _sum_to_shape_grad)


def sum_to_shape(x: Tensor, shape: tuple) -> Tensor:
    """Sum a broadcast result back down to `shape` (the gradient of broadcasting)."""
    shape = tuple(shape)
    if tuple(shape_of(x)) == shape:
        return x
    return execute(_SUM_TO, (x,), {"shape": shape})


def unbroadcast(g: Tensor, shape: tuple) -> Tensor:
    return sum_to_shape(g, shape)
