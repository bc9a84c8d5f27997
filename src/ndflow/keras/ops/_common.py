"""Plumbing shared by `keras.ops`: Keras-style conversion and dtype promotion.

Keras 3 promotes mixed dtypes (int + float -> float, int8 + uint8 -> int16) and treats Python
numbers as *weak* (they adopt the tensor's dtype when they can), while ndflow's core ops are
TensorFlow-strict. Every `keras.ops` function therefore converts and casts here first.

>>> import numpy as np
>>> result_type(np.int32, 1.5).name, result_type(np.float16, 2).name
('float32', 'float16')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.dtypes import as_dtype, np_dtype
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.ops import math as m
from ndflow.ops._util import is_variable, npdt, shape_of

__all__ = ["as_tensor", "cast_to", "dtype_of", "floatx", "promote", "result_type", "to_float"]


def floatx() -> np.dtype:
    from ndflow.keras import config

    return np.dtype(config.floatx())


def _is_weak(v: Any) -> bool:
    return isinstance(v, (bool, int, float, complex)) and not isinstance(v, np.generic)


def dtype_of(x: Any) -> np.dtype:
    """The NumPy dtype `x` has (tensors, arrays, NumPy scalars) or would get as a tensor."""
    if isinstance(x, Tensor):
        return npdt(x)
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype
    return npdt(as_tensor(x))


def _promote2(a: np.dtype, b: np.dtype) -> np.dtype:
    if a == b:
        return a
    if a.kind == "c" or b.kind == "c":
        return np.promote_types(a, b)
    if a.kind == "f" or b.kind == "f":
        floats = [d for d in (a, b) if d.kind == "f"]
        return max(floats, key=lambda d: d.itemsize)
    if a.kind == "b":
        return b
    if b.kind == "b":
        return a
    r = np.promote_types(a, b)
    return floatx() if r.kind == "f" else r  # uint64 with a signed int: no int holds both


def result_type(*values: Any) -> np.dtype:
    """The dtype Keras 3 gives an op on `values` (dtypes, tensors, arrays or Python numbers).

    Python numbers are weak: `int32 tensor + 2` stays int32, `int32 tensor + 2.0` is floatx.
    """
    strong: list[np.dtype] = []
    weak: set[str] = set()
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool):
            weak.add("b")
        elif isinstance(v, (int,)) and not isinstance(v, np.generic):
            weak.add("i")
        elif isinstance(v, float) and not isinstance(v, np.generic):
            weak.add("f")
        elif isinstance(v, complex) and not isinstance(v, np.generic):
            weak.add("c")
        elif isinstance(v, (np.dtype, type, str)) or type(v).__name__ == "DType":
            strong.append(np_dtype(v))
        else:
            strong.append(dtype_of(v))
    if not strong:
        if "c" in weak:
            return np.dtype(np.complex64)
        if "f" in weak:
            return floatx()
        if "i" in weak:
            return np.dtype(np.int32)
        return np.dtype(np.bool_)
    out = strong[0]
    for d in strong[1:]:
        out = _promote2(out, d)
    if "c" in weak and out.kind != "c":
        return np.dtype(np.complex128 if out == np.float64 else np.complex64)
    if "f" in weak and out.kind in "biu":
        return floatx()
    if "i" in weak and out.kind == "b":
        return np.dtype(np.int32)
    return out


def as_tensor(x: Any, dtype: Any = None) -> Tensor:
    """`x` as a tensor with Keras's defaults (Python float -> floatx, int -> int32), cast to
    `dtype` when given. Variables are read into a snapshot (the read is recorded on tapes)."""
    if isinstance(x, Tensor):
        if is_variable(x):
            x = convert_to_tensor(x)
        if dtype is not None and npdt(x) != np_dtype(dtype):
            return m.cast(x, dtype)
        return x
    if dtype is not None:
        dt = np_dtype(dtype)
        if _is_weak(x):
            try:
                return convert_to_tensor(np.asarray(x, dtype=dt))
            except OverflowError:
                raise _overflow(x, dt) from None
        t_ = convert_to_tensor(x)
        return m.cast(t_, dt) if npdt(t_) != dt else t_
    if isinstance(x, float):
        return convert_to_tensor(np.asarray(x, dtype=floatx()))
    if isinstance(x, (list, tuple)) and _has_float(x):
        t_ = convert_to_tensor(x)
        return m.cast(t_, floatx()) if npdt(t_) == np.float32 and floatx() != np.float32 else t_
    return convert_to_tensor(x)


def _overflow(value: Any, dt: np.dtype) -> Exception:
    return fail("keras.ops", f"a Python number that fits dtype {dt.name}", repr(value),
                "Cast the tensor to a wider dtype first (ops.cast).")


def _has_float(v: Any) -> bool:
    if isinstance(v, (list, tuple)):
        return any(_has_float(e) for e in v)
    return isinstance(v, float)


def cast_to(x: Any, dtype: np.dtype) -> Tensor:
    return as_tensor(x, dtype)


def promote(*values: Any) -> list[Tensor]:
    """Convert all of `values` to tensors of their common Keras dtype."""
    if len(values) == 2:  # fast paths: two plain eager tensors, or a tensor and a number
        a, b = values
        if type(a) is Tensor:
            dt = getattr(a._value, "dtype", None)
            if type(b) is Tensor and dt is not None and b._value.dtype == dt:
                return [a, b]
            if dt is not None and type(b) in (int, float) and (
                    dt.kind == "f" or (dt.kind in "iu" and type(b) is int)):
                try:
                    return [a, Tensor(np.asarray(b, dt))]
                except OverflowError:
                    raise _overflow(b, dt) from None
    dt = result_type(*[v if _is_weak(v) or isinstance(v, (Tensor, np.ndarray, np.generic))
                       else as_tensor(v) for v in values])
    return [as_tensor(v, dt) for v in values]


def to_float(x: Any) -> Tensor:
    """`x` as a tensor; integers and bools become floatx, floats keep their dtype."""
    x = as_tensor(x)
    if npdt(x).kind in "biu":
        return m.cast(x, floatx())
    return x


def norm_axes(op: str, axis: Any, ndim: int) -> tuple | None:
    """`axis` (None, int, sequence) as a sorted tuple of non-negative axes (None stays None)."""
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise fail(f"keras.ops.{op}", f"axis in [{-ndim}, {ndim})",
                       f"axis={a} for a rank-{ndim} input")
        out.append(a % max(ndim, 1))
    return tuple(sorted(set(out)))


def rank(x: Tensor) -> int:
    return len(shape_of(x))


def as_np_dtype(dtype: Any) -> np.dtype | None:
    return None if dtype is None else np_dtype(as_dtype(dtype))


def is_symbolic(x: Any) -> bool:
    """True for tensors without a concrete value (Keras inputs and traced tensors)."""
    return isinstance(x, Tensor) and bool(x._symbolic)


def static_value(op: str, x: Any, what: str) -> np.ndarray:
    """The concrete value of `x`, or a clear error when it is symbolic/traced."""
    if is_symbolic(x):
        raise fail(f"keras.ops.{op}", f"a concrete tensor for {what} (its result shape depends "
                   "on the values)", "a symbolic or traced tensor",
                   "Call it eagerly, or pass the size explicitly where the op allows it.")
    return np.asarray(x.numpy() if isinstance(x, Tensor) else x)
