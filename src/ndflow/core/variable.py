"""`Variable`: a mutable tensor for model state, updated in place.

>>> import ndflow as tf
>>> v = tf.Variable([1.0, 2.0])
>>> _ = v.assign_add([1.0, 1.0])
>>> v.numpy().tolist()
[2.0, 3.0]
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ndflow.core import dispatch
from ndflow.core.dtypes import np_dtype
from ndflow.core.tensor import Tensor, to_array
from ndflow.errors import InvalidArgumentError

_uid = itertools.count()
# Called with each new variable (a distribution strategy's scope records the variables made in
# it); empty outside such a scope, so creating a variable costs one truth test.
creation_hooks: list = []


class Variable(Tensor):
    """A tensor whose value can change (`assign`, `assign_add`, `assign_sub`).

    Trainable variables are watched automatically by `GradientTape`. Assignments write into
    the existing buffer, so optimizers update weights without reallocating.
    """

    __slots__ = ("_auto_watch", "_trainable", "_name", "_constraint", "_unique_id", "__dict__")
    _mutable = True

    def __init__(self, initial_value: Any = None, trainable: bool = True,
                 validate_shape: bool = True, caching_device: Any = None,
                 name: str | None = None, variable_def: Any = None, dtype: Any = None,
                 import_scope: Any = None, constraint: Any = None,
                 synchronization: Any = None, aggregation: Any = None,
                 shape: Any = None, experimental_enable_variable_lifting: Any = None) -> None:
        if initial_value is None:
            raise ValueError("Variable: initial_value must be given")
        if dispatch.trace_hook is not None:
            dispatch.variable_hook(self)
        if callable(initial_value):
            initial_value = initial_value()
        dt = None if dtype is None else np_dtype(dtype)
        if isinstance(initial_value, Tensor):
            arr = initial_value.numpy() if initial_value._symbolic else initial_value._value
            if dt is not None and arr.dtype != dt:
                arr = arr.astype(dt)
        else:
            arr = to_array(initial_value, dt, "Variable")
        self._value = arr.copy()  # never share a buffer with the value it was made from
        self._trainable = bool(trainable)
        self._auto_watch = self._trainable and _differentiable(arr.dtype)
        self._name = name or "Variable"
        self._constraint = constraint
        self._unique_id = next(_uid)
        if creation_hooks:
            for hook in creation_hooks:
                hook(self)

    @property
    def name(self) -> str:
        return self._name if self._name.endswith(":0") else self._name + ":0"

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        self._auto_watch = self._trainable and _differentiable(self._value.dtype)

    @property
    def constraint(self) -> Any:
        return self._constraint

    @property
    def handle(self) -> Variable:
        return self

    def numpy(self) -> np.ndarray:
        return np.array(super().numpy(), copy=True)

    def value(self) -> Tensor:
        """The current value as an immutable tensor (a snapshot)."""
        from ndflow.ops.math import identity

        return identity(self)

    def read_value(self) -> Tensor:
        return self.value()

    def _to_array(self, value: Any, op: str) -> Any:
        if isinstance(value, Tensor):
            arr = value._value
            if arr.dtype != self._value.dtype:
                raise InvalidArgumentError(
                    f"{op}: expected a value of dtype {self._value.dtype.name} for variable "
                    f"{self._name}, got {arr.dtype.name}; use tf.cast"
                )
        else:
            try:
                arr = to_array(value, self._value.dtype, op)
            except TypeError as e:
                raise InvalidArgumentError(str(e)) from None
        if arr.shape != self._value.shape:
            try:
                np.broadcast_shapes(arr.shape, self._value.shape)
                ok = arr.ndim <= self._value.ndim and arr.size in (1, self._value.size)
            except ValueError:
                ok = False
            if not ok:
                raise InvalidArgumentError(
                    f"{op}: expected a value of shape {list(self._value.shape)} for variable "
                    f"{self._name}, got shape {list(arr.shape)}"
                )
        return arr

    def assign(self, value: Any, use_locking: bool = False, name: str | None = None,
               read_value: bool = True) -> Variable:
        if (dispatch.trace_hook is not None
                and dispatch.assign_hook(self, value, "set") is not None):
            return self  # recorded in the graph being traced in this thread
        arr = self._to_array(value, "assign")
        xp = _xp(self._value)
        xp.copyto(self._value, arr)
        return self

    def assign_add(self, delta: Any, use_locking: bool = False, name: str | None = None,
                   read_value: bool = True) -> Variable:
        if (dispatch.trace_hook is not None
                and dispatch.assign_hook(self, delta, "add") is not None):
            return self  # recorded in the graph being traced in this thread
        arr = self._to_array(delta, "assign_add")
        self._value += arr
        return self

    def assign_sub(self, delta: Any, use_locking: bool = False, name: str | None = None,
                   read_value: bool = True) -> Variable:
        if (dispatch.trace_hook is not None
                and dispatch.assign_hook(self, delta, "sub") is not None):
            return self  # recorded in the graph being traced in this thread
        arr = self._to_array(delta, "assign_sub")
        self._value -= arr
        return self

    def __getitem__(self, key: Any) -> _SliceRef:
        """A slice that reads like a tensor and can be assigned: `v[0, 0].assign(3.0)`."""
        from ndflow.ops.array import _SLICE, _canonical_key

        k = _canonical_key(key, self._value.shape)
        if dispatch.trace_hook is not None:
            # inside a traced function the slice is a graph op reading the variable at run
            # time (a snapshot taken now would be folded into the graph as a constant, and
            # later steps would keep reading the first step's value)
            return dispatch.execute(_SLICE, (self,), {"key": k})
        out = _SliceRef(self._value[k].copy(), self, k)  # a snapshot, like any read
        if dispatch.recording:
            dispatch.record(_SLICE, (self,), out, {"key": k})
        return out

    def scatter_nd_update(self, indices: Any, updates: Any) -> Variable:
        idx = np.asarray(indices)
        upd = self._to_array_any(updates)
        self._value[tuple(idx[..., j] for j in range(idx.shape[-1]))] = upd
        return self

    def _to_array_any(self, value: Any) -> Any:
        if isinstance(value, Tensor):
            return value._value
        return to_array(value, self._value.dtype, "Variable")

    def __repr__(self) -> str:
        body = np.array2string(super().numpy(), separator=", ", threshold=100)
        return (f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}, "
                f"numpy={body}>")

    def __deepcopy__(self, memo: dict) -> Variable:
        return Variable(self._value.copy(), trainable=self._trainable, name=self._name)

    def __reduce__(self) -> Any:
        raise TypeError("ndflow variables are not picklable; save weights with the .keras or "
                        ".weights.h5 formats")


def _differentiable(dtype: Any) -> bool:
    """Tapes watch float and complex variables only: integers carry no gradient (as in TF)."""
    return dtype.kind in "fc"


def _xp(arr: Any) -> Any:
    from ndflow.backend.devices import get_array_module

    return get_array_module(arr)


class _SliceRef(Tensor):
    """The value of `variable[key]`; its `assign*` methods write through to the variable."""

    __slots__ = ("_parent", "_key")

    def __init__(self, value: Any, parent: Variable, key: tuple) -> None:
        self._value = value
        self._parent = parent
        self._key = key

    def _arr(self, value: Any, op: str) -> Any:
        arr = value._value if isinstance(value, Tensor) else to_array(
            value, self._parent._value.dtype, op)
        if arr.dtype != self._parent._value.dtype:
            raise InvalidArgumentError(
                f"{op}: expected dtype {self._parent._value.dtype.name}, got {arr.dtype.name}")
        return arr

    def assign(self, value: Any, **_: Any) -> Variable:
        self._parent._value[self._key] = self._arr(value, "assign")
        return self._parent

    def assign_add(self, delta: Any, **_: Any) -> Variable:
        self._parent._value[self._key] += self._arr(delta, "assign_add")
        return self._parent

    def assign_sub(self, delta: Any, **_: Any) -> Variable:
        self._parent._value[self._key] -= self._arr(delta, "assign_sub")
        return self._parent
