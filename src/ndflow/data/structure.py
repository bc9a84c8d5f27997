"""Nested element structures for `tf.data`: flatten, pack, convert, and stage-named errors.

tf.data's structures: tuples, namedtuples and dicts nest; lists are values (like tensors).
Elements travel through a pipeline as NumPy arrays; string/bytes leaves are NumPy object arrays
(or `bytes` scalars) and stay NumPy when they come out, since the core has no string tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ndflow.core.string_array import to_bytes_array
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.errors import InvalidArgumentError


def is_struct(x: Any) -> bool:
    return isinstance(x, (tuple, dict))


def flatten(x: Any) -> list:
    if isinstance(x, dict):
        return [leaf for k in sorted(x) for leaf in flatten(x[k])]
    if isinstance(x, tuple):
        return [leaf for v in x for leaf in flatten(v)]
    return [x]


def pack(template: Any, flat: list) -> Any:
    it = iter(flat)

    def build(t: Any) -> Any:
        if isinstance(t, dict):
            vals = {k: build(t[k]) for k in sorted(t)}
            return {k: vals[k] for k in t}
        if isinstance(t, tuple):
            items = [build(v) for v in t]
            return type(t)(*items) if hasattr(t, "_fields") else tuple(items)
        return next(it)

    return build(template)


def map_leaves(fn: Callable, x: Any) -> Any:
    return pack(x, [fn(v) for v in flatten(x)])


def signature(x: Any) -> Any:
    """A hashable description of the nesting (not the leaves), for structure checks."""
    if isinstance(x, dict):
        return ("dict", tuple((k, signature(x[k])) for k in sorted(x)))
    if isinstance(x, tuple):
        return (type(x).__name__, tuple(signature(v) for v in x))
    return "."


def is_text(a: Any) -> bool:
    return isinstance(a, (bytes, str)) or (isinstance(a, np.ndarray) and a.dtype.kind in "OSU")


def to_numpy(x: Any) -> Any:
    """A leaf as a NumPy array (bytes/str become object arrays of bytes)."""
    if isinstance(x, Tensor):
        return x.numpy()
    if _opaque(x):  # a Dataset (window elements) or a SparseTensor passes through
        return x
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "SU":
            return _as_bytes_array(x)
        return x
    if isinstance(x, (bytes, str)):
        return np.asarray(x.encode() if isinstance(x, str) else x, dtype=object)
    if isinstance(x, (list, tuple)) and _has_text(x):
        return _as_bytes_array(np.asarray(x, dtype=object))
    if isinstance(x, np.generic):
        return np.asarray(x)
    return convert_to_tensor(x).numpy()


def _has_text(x: Any) -> bool:
    return any(_has_text(v) if isinstance(v, (list, tuple)) else isinstance(v, (bytes, str))
               for v in x)


def _as_bytes_array(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    for i, v in np.ndenumerate(a):
        out[i] = v.encode() if isinstance(v, str) else bytes(v)
    return out


def element_numpy(element: Any) -> Any:
    return map_leaves(to_numpy, element)


def _opaque(x: Any) -> bool:
    from ndflow.sparse import SparseTensor

    return hasattr(x, "_make_iter") or isinstance(x, SparseTensor)


def _leaf_out(a: Any) -> Any:
    if _opaque(a):
        return a
    if isinstance(a, (bytes, str)):  # a scalar string: a tf.string tensor, as TF yields it
        return Tensor(to_bytes_array(a))
    a = np.asarray(a) if not isinstance(a, np.ndarray) else a
    if a.dtype.kind in "OSU":
        return Tensor(to_bytes_array(a, "Dataset"))
    return Tensor(a)


def plain(x: Any) -> Any:
    """A string tensor's value as Python/NumPy (bytes for a scalar, an object array of bytes
    otherwise); anything else unchanged. For functions that take file names or serialized
    records either as tensors (inside `Dataset.map`) or as plain values."""
    if isinstance(x, Tensor) and getattr(x._value, "dtype", None) is not None and \
            x._value.dtype.kind == "O":
        v = x._value
        return v.item() if v.ndim == 0 else v
    return x


def to_tensors(element: Any) -> Any:
    """Leaves become tensors; strings become tf.string tensors (object arrays of bytes)."""
    return map_leaves(_leaf_out, element)


def to_python_numpy(element: Any) -> Any:
    """What `as_numpy_iterator` yields: arrays, with scalar strings as `bytes`."""
    def leaf(a: Any) -> Any:
        if hasattr(a, "_make_iter"):
            return a.as_numpy_iterator()
        if isinstance(a, np.ndarray) and a.ndim == 0:
            return a.item() if a.dtype.kind == "O" else a[()]
        return a

    return map_leaves(leaf, element)


def call_with_element(fn: Callable, element: Any) -> Any:
    """Call a user function the way tf.data does: tuples are unpacked into arguments."""
    t = to_tensors(element)
    return fn(*t) if isinstance(t, tuple) and not hasattr(t, "_fields") else fn(t)


class StageError(InvalidArgumentError):
    """Raised when a pipeline stage fails on an element whose error type cannot be rebuilt."""


def stage_error(stage: str, exc: BaseException) -> BaseException:
    """The same kind of error as `exc`, its message prefixed with the stage that raised it."""
    if getattr(exc, "_ndflow_stage", None):
        return exc
    msg = f"{stage}: {type(exc).__name__}: {exc}"
    try:
        new = type(exc)(msg)
        if str(new) != msg:
            raise TypeError
    except Exception:
        new = StageError(msg)
    new._ndflow_stage = stage  # type: ignore[attr-defined]
    new.__cause__ = exc
    return new


def stack_leaves(parts: list) -> Any:
    """np.stack, keeping string components as object arrays of bytes; SparseTensors gain a
    leading batch dimension (dense shape: the largest of each dimension)."""
    from ndflow.sparse import SparseTensor

    if isinstance(parts[0], SparseTensor):
        ranks = {len(p._dense_shape) for p in parts if isinstance(p, SparseTensor)}
        if len(ranks) != 1 or not all(isinstance(p, SparseTensor) for p in parts):
            raise InvalidArgumentError("batch: expected SparseTensors of one rank in every "
                                       "element of this component")
        idx = np.concatenate([np.concatenate([np.full((len(p._indices), 1), b, np.int64),
                                              p._indices], 1) for b, p in enumerate(parts)])
        vals = np.concatenate([p._values for p in parts])
        shape = [len(parts)] + np.max([p._dense_shape for p in parts], axis=0).tolist()
        return SparseTensor(idx, vals, shape)
    if isinstance(parts[0], bytes) or (isinstance(parts[0], np.ndarray)
                                       and parts[0].dtype.kind == "O"):
        out = np.empty((len(parts),) + np.shape(parts[0]), dtype=object)
        for i, p in enumerate(parts):
            out[i] = p.item() if isinstance(p, np.ndarray) and p.ndim == 0 else p
        return out
    return np.stack(parts)


def describe(x: Any) -> str:
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in x.items()) + "}"
    if isinstance(x, tuple):
        return "(" + ", ".join(describe(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"{getattr(x.dtype, 'name', x.dtype)}{list(x.shape)}"
    return type(x).__name__
