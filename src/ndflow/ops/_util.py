"""Plumbing shared by the op families: argument coercion and axis handling."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.backend import parallel
from ndflow.core.dispatch import Spec, fail
from ndflow.core.tensor import Tensor, convert_to_tensor, to_array
from ndflow.errors import InvalidArgumentError


def t(x: Any) -> Tensor:
    """`x` as a Tensor (a no-op for tensors and variables)."""
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def is_variable(x: Any) -> bool:
    """True for variables (and variable slices): tensors whose buffer can change in place."""
    return hasattr(type(x), "assign")


def own(x: Tensor, out: Any) -> Any:
    """Copy `out` (a Tensor or tuple of Tensors) where it is a view of variable `x`'s buffer,
    so that assigning the variable later cannot change a tensor computed before."""
    if not is_variable(x):
        return out
    for o in (out if isinstance(out, tuple) else (out,)):
        if not o._symbolic and not o._traced:
            v = o._value
            if v is x._value or v.base is not None:
                o._value = v.copy()
    return out


def npdt(x: Tensor) -> np.dtype:
    try:
        return x._value.dtype
    except AttributeError:
        return x._np_dtype


def has_no_value(x: Tensor) -> bool:
    """True for a symbolic (Keras) or traced (ndflow.function) tensor: its values are not
    known while the code runs."""
    return bool(x._symbolic) or getattr(x._value, "_abstract", False)


def shape_of(x: Tensor) -> tuple:
    try:
        return x._value.shape
    except AttributeError:
        return tuple(x._shape)


def known_size(shape: Any) -> int | None:
    """The number of elements of `shape`, None when a dimension is not known."""
    return None if None in shape else math.prod(shape)


def _coerce(op: str, value: Any, dtype: np.dtype) -> Tensor:
    if isinstance(value, np.ndarray) and value.ndim > 0 and value.dtype != dtype:
        raise InvalidArgumentError(
            f"{op}: expected an array of dtype {dtype.name} to match the other input, got a "
            f"NumPy array of dtype {value.dtype.name}. Cast it first (tf.cast or .astype)."
        )
    try:
        return Tensor(to_array(value, dtype, op))
    except TypeError as e:
        raise InvalidArgumentError(str(e)) from None


def binary(op: str, x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Coerce the two operands of a binary op: tensors must share a dtype, Python values adopt
    the tensor's dtype (TensorFlow's rule)."""
    if isinstance(x, Tensor):
        if isinstance(y, Tensor):
            dx, dy = npdt(x), npdt(y)
            if dx is not dy and dx != dy:
                raise InvalidArgumentError(
                    f"{op}: expected both inputs to have the same dtype, got {dx.name} and "
                    f"{dy.name}. Cast one of them with tf.cast."
                )
            return x, y
        return x, _coerce(op, y, npdt(x))
    if isinstance(y, Tensor):
        return _coerce(op, x, npdt(y)), y
    xt = convert_to_tensor(x)
    return xt, _coerce(op, y, npdt(xt))


def require_float(op: str, x: Tensor) -> None:
    k = npdt(x).kind
    if k != "f" and k != "c":
        raise InvalidArgumentError(
            f"{op}: expected a floating-point tensor, got dtype {npdt(x).name}. "
            "Cast it first, e.g. tf.cast(x, tf.float32)."
        )


def norm_axis(op: str, axis: Any, ndim: int) -> tuple[int, ...] | None:
    """Normalise `axis` (None, int, list or tensor) to a sorted tuple of non-negative ints."""
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise fail(op, f"axis in [{-ndim}, {ndim})", f"axis={a} for a rank-{ndim} input",
                       "Axes count from 0; negative axes count from the end.")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise fail(op, "distinct axes", f"axis={axes}")
    return tuple(sorted(out))


def norm_one_axis(op: str, axis: Any, ndim: int) -> int:
    ax = norm_axis(op, int(axis), ndim)
    return ax[0] if ax else 0


def broadcast_shapes(op: str, a: tuple, b: tuple) -> tuple:
    """NumPy/TensorFlow broadcasting of two shapes, with None for unknown dims."""
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da == 1:
            out.append(db)
        elif db == 1 or da == db:
            out.append(da)
        elif da is None or db is None:
            out.append(da if db is None else db)
        else:
            raise fail(op, "shapes that broadcast together (equal dims, or 1)",
                       f"{list(a)} and {list(b)}",
                       "Reshape or tf.expand_dims one input so the dims line up.")
    return tuple(reversed(out))


def same_spec(x: Spec, **_: Any) -> Spec:
    return Spec(x.shape, x.dtype)


def mm(xp: Any, a: Any, b: Any, out: Any = None) -> Any:
    """``xp.matmul`` where NumPy's products may be split across the intra-op thread pool
    (backend/parallel.py; same values)."""
    if xp is np:
        return parallel.matmul(a, b, out)
    return xp.matmul(a, b) if out is None else xp.matmul(a, b, out=out)
