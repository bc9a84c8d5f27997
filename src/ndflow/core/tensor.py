"""`Tensor`: an immutable wrapper of one backend array, and conversion into tensors.

>>> import ndflow as tf
>>> x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
>>> (x * 2 + 1).numpy().tolist()
[[3.0, 5.0], [7.0, 9.0]]
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ndflow.backend import devices as _device
from ndflow.core import dtypes as _dt
from ndflow.core.shape import TensorShape
from ndflow.errors import InvalidArgumentError

_ndarray = np.ndarray
_BY_NP = _dt._BY_NP


# Keras masks attached to tensors: Keras code reads and sets `x._keras_mask`; tensors have
# __slots__, so the masks live in this weak side table (filled by keras.layers).
_MASKS: dict[int, tuple] = {}


def set_keras_mask(x: Any, mask: Any) -> None:
    """Attach a Keras mask to tensor ``x`` (what ``x._keras_mask = mask`` does in Keras)."""
    k = id(x)
    if mask is None:
        _MASKS.pop(k, None)
        return

    def _gone(_ref: Any, k: int = k) -> None:
        _MASKS.pop(k, None)

    _MASKS[k] = (weakref.ref(x, _gone), mask)


def any_keras_masks() -> bool:
    """Whether any tensor has a Keras mask now (a fast check before looking one up)."""
    return bool(_MASKS)


def get_keras_mask(x: Any) -> Any:
    """The Keras mask attached to ``x``, or None."""
    if not _MASKS:
        return None
    e = _MASKS.get(id(x))
    if e is not None and e[0]() is x:
        return e[1]
    return None


class Tensor:
    """An immutable n-dimensional array with a dtype and a device.

    Create tensors with `ndflow.constant` or any op; Python operators map to ops.
    """

    __slots__ = ("_value", "__weakref__")

    @property
    def _keras_mask(self) -> Any:
        """The Keras mask a masking layer attached to this tensor (None without one)."""
        return get_keras_mask(self)

    @_keras_mask.setter
    def _keras_mask(self, mask: Any) -> None:
        set_keras_mask(self, mask)
    _auto_watch = False  # trainable variables are watched by tapes on first use
    _mutable = False  # variables: a tape keeps a snapshot of the value each op read
    _symbolic = False
    _traced = False  # True for tensors inside a graph being traced (their value is abstract)
    __array_priority__ = 100

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy meets tensors as in TensorFlow: `ndarray <op> tensor` runs the tensor's
        reflected operator (a tensor, recorded on tapes); other ufunc calls such as
        `np.abs(tensor)` compute on the values and return NumPy arrays."""
        if method == "__call__" and not kwargs and len(inputs) == 2 and inputs[1] is self \
                and not isinstance(inputs[0], Tensor):
            reflected = _REFLECTED.get(ufunc)
            if reflected is not None:
                return getattr(self, reflected)(inputs[0])
        arrays = [np.asarray(x) if isinstance(x, Tensor) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(o) if isinstance(o, Tensor) else o
                                  for o in kwargs["out"])
        return getattr(ufunc, method)(*arrays, **kwargs)

    def __init__(self, value: Any) -> None:
        self._value = value

    # --- properties -------------------------------------------------------------------
    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._value.shape)

    @property
    def dtype(self) -> _dt.DType:
        return _BY_NP[self._value.dtype]

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def rank(self) -> int:
        return self._value.ndim

    @property
    def device(self) -> str:
        return _device.device_of(self._value).name

    @property
    def name(self) -> str:
        return f"tensor_{id(self):x}"

    def get_shape(self) -> TensorShape:
        return self.shape

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (copied to the host for GPU tensors)."""
        v = self._value
        return v if type(v) is _ndarray else _device.to_device(v, _device.CPU0)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        a = self.numpy()
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        return self._value.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> Any:
        return self._value.__dlpack_device__()

    def ref(self) -> _TensorRef:
        """A hashable reference, for using tensors as dict keys or set members."""
        return _TensorRef(self)

    # --- Python protocol ----------------------------------------------------------------
    __hash__ = None  # type: ignore[assignment]  # `==` is element-wise, as in TensorFlow 2

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("len() of a scalar (rank-0) tensor is undefined")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("Cannot iterate over a scalar (rank-0) tensor")
        from ndflow.ops.array import unstack

        return iter(unstack(self))

    def __bool__(self) -> bool:
        if self._value.size != 1:
            raise ValueError(
                f"The truth value of a tensor with shape {tuple(self._value.shape)} is "
                "ambiguous; use tf.reduce_any or tf.reduce_all"
            )
        return bool(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __index__(self) -> int:
        if self.dtype.is_integer and self._value.ndim == 0:
            return int(self._value)
        raise TypeError(f"Only scalar integer tensors can be used as an index, got {self!r}")

    def __complex__(self) -> complex:
        return complex(self._value)

    def __format__(self, spec: str) -> str:
        if self._value.ndim == 0 and spec:
            return format(self._value.item(), spec)
        return format(str(self), spec)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", threshold=100)
        return f"<tf.Tensor: shape={self.shape}, dtype={self.dtype.name}, numpy={body}>"

    def __str__(self) -> str:
        body = np.array2string(self.numpy(), threshold=100)
        return f"tf.Tensor({body}, shape={self.shape}, dtype={self.dtype.name})"

    def __copy__(self) -> Tensor:
        return self

    def __deepcopy__(self, memo: dict) -> Tensor:
        return self


_REFLECTED = {
    np.add: "__radd__", np.subtract: "__rsub__", np.multiply: "__rmul__",
    np.true_divide: "__rtruediv__", np.floor_divide: "__rfloordiv__", np.remainder: "__rmod__",
    np.power: "__rpow__", np.matmul: "__rmatmul__", np.bitwise_and: "__rand__",
    np.bitwise_or: "__ror__", np.bitwise_xor: "__rxor__",
    # comparisons: `ndarray < tensor` is `tensor > ndarray`
    np.less: "__gt__", np.less_equal: "__ge__", np.greater: "__lt__",
    np.greater_equal: "__le__", np.equal: "__eq__", np.not_equal: "__ne__",
}


class _TensorRef:
    __slots__ = ("_t",)

    def __init__(self, t: Tensor) -> None:
        self._t = t

    def deref(self) -> Tensor:
        return self._t

    def __hash__(self) -> int:
        return id(self._t)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _TensorRef) and other._t is self._t


class SymbolicTensor(Tensor):
    """A tensor with a shape and dtype but no value (Keras `Input`, graph tracing).

    It has no `_value` slot on purpose: eager dispatch then falls into its symbolic path,
    which computes the result's shape and dtype with the op's shape rule.
    """

    __slots__ = ("_shape", "_np_dtype", "_node", "_keras_history", "_sym_name")
    _symbolic = True

    def __init__(self, shape: Any, dtype: Any, node: Any = None, name: str | None = None):
        self._shape = TensorShape(shape)
        self._np_dtype = _dt.np_dtype(dtype)
        self._node = node
        self._keras_history = None
        self._sym_name = name

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def dtype(self) -> _dt.DType:
        return _BY_NP[self._np_dtype]

    @property
    def ndim(self) -> int:
        return len(self._shape)

    rank = ndim

    @property
    def name(self) -> str:
        return self._sym_name or f"symbolic_{id(self):x}"

    @property
    def device(self) -> str:
        return _device.current_device().name

    def numpy(self) -> np.ndarray:
        raise TypeError(
            f"Symbolic tensor {self.name} (shape={self._shape}, dtype={self.dtype.name}) "
            "has no value: it stands for data that a model will receive later. "
            "Call the model on real data to get values."
        )

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        self.numpy()
        raise AssertionError  # unreachable

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a scalar (rank-0) tensor is undefined")
        if self._shape[0] is None:
            raise TypeError(f"len() of symbolic tensor {self.name}: its first dimension is unknown")
        return self._shape[0]

    def __bool__(self) -> bool:
        raise TypeError(
            f"Using symbolic tensor {self.name} as a Python bool is not allowed: its value is "
            "not known while tracing. Use tf.cond for control flow on tensor values."
        )

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={self._shape}, dtype={self.dtype.name}, name={self.name}>"

    __str__ = __repr__


# --- conversion -------------------------------------------------------------------------------
def _default_np_dtype(value: Any) -> np.dtype | None:
    """TensorFlow's defaults: Python floats -> float32, ints -> int32, bools -> bool."""
    if isinstance(value, np.generic):  # NumPy scalars keep their dtype (np.float64 is a float)
        return value.dtype
    if isinstance(value, bool):
        return np.dtype(np.bool_)
    if isinstance(value, int):
        return np.dtype(np.int32) if -(2**31) <= value < 2**31 else np.dtype(np.int64)
    if isinstance(value, float):
        return np.dtype(np.float32)
    if isinstance(value, complex):
        return np.dtype(np.complex128)
    return None


def _infer_sequence_dtype(value: Any) -> np.dtype | None:
    """Default dtype for nested Python lists: float32 if any float, else int32/bool."""
    kinds: set[str] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, Tensor):
            return v._value.dtype if not v._symbolic else v._np_dtype
        elif isinstance(v, np.ndarray | np.generic):
            return v.dtype
        elif isinstance(v, bool):
            kinds.add("b")
        elif isinstance(v, int):
            kinds.add("i")
        elif isinstance(v, float):
            kinds.add("f")
        elif isinstance(v, complex):
            kinds.add("c")
        else:
            return None
    if "c" in kinds:
        return np.dtype(np.complex128)
    if "f" in kinds:
        return np.dtype(np.float32)
    if "i" in kinds:
        return np.dtype(np.int32)
    if "b" in kinds:
        return np.dtype(np.bool_)
    return np.dtype(np.float32)  # empty list


def _cast_checked(arr: np.ndarray, target: np.dtype, what: str) -> np.ndarray:
    """Cast like TensorFlow's conversion: refuse lossy float -> int or out-of-range values."""
    if arr.dtype == target:
        return arr
    if target.kind in "iub" and arr.dtype.kind in "fc":
        if not np.all(np.isfinite(arr)) or not np.array_equal(np.floor(arr), arr):
            raise TypeError(
                f"{what}: cannot convert {arr.tolist() if arr.size < 8 else 'a float array'} "
                f"to a tensor of dtype {target.name}; the values are not integers. "
                "Use tf.cast to convert explicitly."
            )
    if target.kind in "iu" and arr.dtype.kind in "iu" and arr.size:
        info = np.iinfo(target)
        if arr.min() < info.min or arr.max() > info.max:
            raise TypeError(f"{what}: values out of range for dtype {target.name}")
    return arr.astype(target)


def to_array(value: Any, dtype: np.dtype | None = None, what: str = "convert_to_tensor") -> Any:
    """Turn a Python/NumPy value into a backend array on the current device."""
    if isinstance(value, Tensor):
        if value._symbolic:
            raise TypeError(f"{what}: symbolic tensor {value.name} has no value")
        arr = value._value
        if getattr(arr, "_abstract", False):
            arr._fail()
        if dtype is not None and arr.dtype != dtype:
            raise InvalidArgumentError(
                f"{what}: tensor has dtype {arr.dtype.name} but dtype {np.dtype(dtype).name} "
                "was requested; use tf.cast to convert"
            )
        return arr
    if dtype is not None and np.dtype(dtype).kind == "O":
        return _string_array(value, what)
    if dtype is None:
        dtype = _default_np_dtype(value)
        if dtype is None and isinstance(value, (list, tuple)):
            if any(isinstance(v, Tensor) for v in value):
                value = [np.asarray(v) if isinstance(v, Tensor) else v for v in value]
            dtype = _infer_sequence_dtype(value)
    try:
        if dtype is not None and isinstance(value, (list, tuple, int, float, bool, complex)):
            raw = np.asarray(value)
            arr = _cast_checked(raw, np.dtype(dtype), what) if raw.dtype != dtype else raw
        else:
            arr = np.asarray(value)
            if dtype is not None and arr.dtype != dtype:
                arr = _cast_checked(arr, np.dtype(dtype), what)
    except (ValueError, TypeError) as e:
        if isinstance(e, TypeError) and str(e).startswith(what):
            raise
        raise ValueError(
            f"{what}: cannot convert {type(value).__name__} to a tensor ({e}). "
            "Expected a number, a (nested) list of numbers of equal lengths, or an array."
        ) from None
    if arr.dtype.kind in "OUSV":
        if (arr.dtype.kind in "US" or _stringlike(arr)) and (
                dtype is None or np.dtype(dtype).kind == "O"):
            return _string_array(value if isinstance(value, (list, tuple)) else arr, what)
        raise TypeError(
            f"{what}: cannot convert a value of type {type(value).__name__} with NumPy dtype "
            f"{arr.dtype} to a tensor; ndflow tensors hold numbers and bools"
        )
    if arr.dtype not in _BY_NP:
        raise TypeError(f"{what}: unsupported dtype {arr.dtype}")
    spec = _device.current_device()
    if spec.device_type != "CPU" or not isinstance(arr, np.ndarray):
        arr = _device.to_device(arr, spec)
    elif not arr.flags.owndata and arr.base is not None and isinstance(value, np.ndarray):
        pass  # a view of the caller's array: share it, as tf.constant does for NumPy input
    return arr


def _string_array(value: Any, what: str) -> np.ndarray:
    """A string tensor's array (see `ndflow.core.string_array`); strings stay on the host."""
    from ndflow.core.string_array import to_bytes_array

    if isinstance(value, Tensor):
        return value._value
    return to_bytes_array(value, what)


def _stringlike(arr: np.ndarray) -> bool:
    from ndflow.core.string_array import is_stringlike

    return is_stringlike(arr)


def convert_to_tensor(value: Any, dtype: Any = None, dtype_hint: Any = None,
                      name: str | None = None) -> Tensor:
    """Convert a Python value, NumPy array or tensor to a `Tensor`.

    >>> convert_to_tensor([1, 2]).dtype
    tf.int32
    """
    if isinstance(value, Tensor) and dtype is None:
        # A variable is read into an immutable snapshot (recorded, so gradients reach it).
        return _read(value) if hasattr(value, "assign") else value
    np_dt = None if dtype is None else _dt.np_dtype(dtype)
    if np_dt is None and dtype_hint is not None and not isinstance(value, (Tensor, np.ndarray)):
        hint = _dt.np_dtype(dtype_hint)
        try:
            return Tensor(to_array(value, hint))
        except (TypeError, ValueError):
            pass
    if isinstance(value, Tensor):
        if value.dtype == dtype:
            return _read(value) if hasattr(value, "assign") else value
        raise InvalidArgumentError(
            f"convert_to_tensor: tensor has dtype {value.dtype.name} but dtype "
            f"{_dt.as_dtype(dtype).name} was requested; use tf.cast to convert"
        )
    return Tensor(to_array(value, np_dt))


def _read(variable: Tensor) -> Tensor:
    from ndflow.ops.math import identity

    return identity(variable)


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> Tensor:
    """A tensor holding `value` (optionally cast to `dtype` and broadcast/reshaped to `shape`).

    >>> constant(1.5, shape=[2]).numpy().tolist()
    [1.5, 1.5]
    """
    np_dt = None if dtype is None else _dt.np_dtype(dtype)
    if isinstance(value, Tensor) and getattr(value._value, "_abstract", False) and shape is None:
        from ndflow.ops.math import cast, identity  # traced tensor: stay in the graph

        return identity(value) if np_dt is None else cast(value, np_dt)
    if isinstance(value, Tensor):
        arr = value._value
        if np_dt is not None and arr.dtype != np_dt:
            arr = arr.astype(np_dt)
        elif hasattr(value, "assign"):  # a variable: take a snapshot, not its live buffer
            arr = arr.copy()
    else:
        arr = to_array(value, np_dt, "constant")
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        xp = _device.get_array_module(arr)
        if arr.size == 1:
            arr = xp.full(shape, arr.reshape(()), dtype=arr.dtype)
        elif arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)
        else:
            raise TypeError(
                f"constant: expected {int(np.prod(shape))} values to fill shape {list(shape)}, "
                f"got {arr.size}"
            )
    return Tensor(arr)


def is_tensor(value: Any) -> bool:
    return isinstance(value, Tensor)
