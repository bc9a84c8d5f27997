"""Tensor creation: zeros, ones, fill, eye, range, linspace and the *_like variants.

>>> import ndflow as tf
>>> tf.range(3).numpy().tolist(), tf.eye(2).numpy().tolist()
([0, 1, 2], [[1.0, 0.0], [0.0, 1.0]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.backend import devices as _device
from ndflow.core import dispatch
from ndflow.core.dispatch import Spec, execute, fail, register_op
from ndflow.core.dtypes import np_dtype
from ndflow.core.tensor import Tensor
from ndflow.ops._util import npdt, t


def _xp_for_current() -> Any:
    return _device.module_for_device(_device.current_device())


def _shape(op: str, shape: Any) -> tuple:
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        out = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise fail(op, "a shape given as a list of non-negative ints", repr(shape)) from None
    if any(d < 0 for d in out):
        raise fail(op, "non-negative dimensions", repr(list(out)))
    return out


def zeros(shape: Any, dtype: Any = np.float32, name: str | None = None) -> Tensor:
    return Tensor(_xp_for_current().zeros(_shape("zeros", shape), np_dtype(dtype)))


def ones(shape: Any, dtype: Any = np.float32, name: str | None = None) -> Tensor:
    return Tensor(_xp_for_current().ones(_shape("ones", shape), np_dtype(dtype)))


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """A tensor of shape `dims` filled with `value` (dtype taken from `value`)."""
    v = t(value)
    return Tensor(_xp_for_current().full(_shape("fill", dims), v.numpy(), dtype=npdt(v)))


_ZEROS_LIKE = register_op("zeros_like", lambda xp, a, dtype: xp.zeros(a.shape, dtype),
                          lambda x, dtype: Spec(x.shape, dtype), None)
_ONES_LIKE = register_op("ones_like", lambda xp, a, dtype: xp.ones(a.shape, dtype),
                         lambda x, dtype: Spec(x.shape, dtype), None)


def _like(x: Any, dtype: Any, fill_value: int) -> Tensor:
    x = t(x)
    dt = npdt(x) if dtype is None else np_dtype(dtype)
    if x._symbolic or dispatch.trace_hook is not None:
        return execute(_ZEROS_LIKE if fill_value == 0 else _ONES_LIKE, (x,), {"dtype": dt})
    v = x._value
    xp = np if type(v) is np.ndarray else _device.get_array_module(v)
    return Tensor(xp.zeros(v.shape, dt) if fill_value == 0 else xp.ones(v.shape, dt))


def zeros_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    return _like(input, dtype, 0)


def ones_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    return _like(input, dtype, 1)


def eye(num_rows: int, num_columns: int | None = None, batch_shape: Any = None,
        dtype: Any = np.float32, name: str | None = None) -> Tensor:
    xp = _xp_for_current()
    e = xp.eye(int(num_rows), None if num_columns is None else int(num_columns),
               dtype=np_dtype(dtype))
    if batch_shape is not None:
        e = xp.broadcast_to(e, tuple(batch_shape) + e.shape).copy()
    return Tensor(e)


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,  # noqa: A001
          name: str = "range") -> Tensor:
    """Like Python's range: `range(5)` or `range(1, 10, 2)`; int32 unless a float is given."""
    if limit is None:
        start, limit = 0, start
    if any(isinstance(v, Tensor) and v._symbolic and not hasattr(v, "_value")
           for v in (start, limit, delta)):
        # a bound known only when the model runs (e.g. `tf.shape(inputs)[-1]` inside a layer
        # called on keras.Input): the result is a vector of unknown length
        from ndflow.core.tensor import SymbolicTensor

        floating = any(getattr(getattr(v, "dtype", None), "is_floating", False)
                       or isinstance(v, float) for v in (start, limit, delta))
        dt = np_dtype(dtype) if dtype is not None else np.dtype(
            np.float32 if floating else np.int32)
        return SymbolicTensor((None,), dt)
    vals = [float(v) if isinstance(v, Tensor) and v.dtype.is_floating else
            (int(v) if isinstance(v, Tensor) else v) for v in (start, limit, delta)]
    if delta == 0:
        raise fail("range", "a nonzero delta", "delta=0")
    if dtype is None:
        dt = np.dtype(np.float32) if any(isinstance(v, float) for v in vals) else np.dtype(
            np.int32)
    else:
        dt = np_dtype(dtype)
    return Tensor(_xp_for_current().arange(*vals, dtype=dt))


def linspace(start: Any, stop: Any, num: int, name: str | None = None, axis: int = 0) -> Tensor:
    """`num` evenly spaced values from `start` to `stop` inclusive (float32 for Python floats)."""
    s = t(start)
    dt = npdt(s) if npdt(s).kind == "f" else np.dtype(np.float32)
    xp = _xp_for_current()
    return Tensor(xp.linspace(float(start), float(stop), int(num), dtype=dt, axis=axis))


