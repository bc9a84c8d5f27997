"""`Metric`: the base of stateful Keras metrics, and array helpers shared by the metrics.

Metric state lives in non-trainable variables updated in place with NumPy (or CuPy) on the
raw arrays: updating a metric records nothing on gradient tapes and allocates little.

>>> from ndflow.keras.metrics import Metric
>>> class Count(Metric):
...     def __init__(self, name="count"):
...         super().__init__(name=name)
...         self.n = self.add_variable((), name="n")
...     def update_state(self, values):
...         self.n.assign_add(float(len(values)))
...     def result(self):
...         return self.n.value()
>>> c = Count(); _ = c([1, 2, 3]); float(c.result())
3.0
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.core.variable import Variable
from ndflow.graph.trace import host_callable
from ndflow.util import nest


def floatx() -> str:
    from ndflow.keras import config

    return config.floatx()


def epsilon() -> float:
    from ndflow.keras import config

    return config.epsilon()


def arr(x: Any, dtype: Any = None) -> Any:
    """`x` as a host NumPy array (a CPU tensor's buffer without copying; GPU values are
    copied to the host: metric state is small and lives on the host)."""
    if isinstance(x, Tensor):
        if x._symbolic:
            raise TypeError(f"metrics: symbolic tensor {x.name} has no value; metrics are "
                            "updated with real data")
        a = x.numpy()
    elif hasattr(x, "get") and hasattr(x, "__cuda_array_interface__"):
        a = x.get()
    else:
        a = np.asarray(x)
    if dtype is not None and a.dtype != dtype:
        a = a.astype(dtype)
    return a


def squeeze_or_expand(x1: Any, x2: Any) -> tuple[Any, Any]:
    """Keras's rule on arrays: equalise ranks that differ by one trailing size-1 axis."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1:
            x2 = x2[:, None]
        else:
            x1 = x1[..., 0]
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1:
            x1 = x1[:, None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def to_scalar_tensor(value: Any, dtype: str) -> Tensor:
    a = np.asarray(value, dtype=dtype) if isinstance(value, (float, int, np.generic)) \
        else value.astype(dtype, copy=False)
    return Tensor(a)


def _skip_symbolic(update: Any) -> Any:
    """`update_state` on symbolic tensors (a layer's `call` while a Functional model is built)
    does nothing, as in Keras: there is no data yet; real calls update the state."""
    if getattr(update, "_skips_symbolic", False):
        return update

    @functools.wraps(update)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        for a in nest.flatten((args, kwargs)):
            if isinstance(a, Tensor) and a._symbolic and not a._traced:
                return None
        return update(self, *args, **kwargs)

    wrapper._skips_symbolic = True  # type: ignore[attr-defined]
    return wrapper


class Metric:
    """Base class of stateful metrics: `update_state`, `result`, `reset_state`.

    Args:
        dtype: dtype of the state and the result (default ``keras.config.floatx()``).
        name: the metric name.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Metric state lives on the host: inside ndflow.function, updates and resets run as
        # host calls on every step and `result` feeds its value back into the graph.
        super().__init_subclass__(**kwargs)
        for name in ("update_state", "reset_state"):
            if name in cls.__dict__:
                fn = cls.__dict__[name]
                if name == "update_state":
                    fn = _skip_symbolic(fn)
                setattr(cls, name, host_callable(fn))
        if "result" in cls.__dict__:
            cls.result = host_callable(cls.__dict__["result"], returns=True)

    def __init__(self, dtype: Any = None, name: str | None = None) -> None:
        from ndflow.keras.losses.loss import _snake

        self.name = name or _snake(type(self).__name__)
        self._dtype = np.dtype(dtype).name if dtype is not None else floatx()
        self._dtype_arg = dtype
        self._metric_variables: list[Variable] = []
        self.built = True

    @property
    def dtype(self) -> str:
        return self._dtype

    def add_variable(self, shape: Any, initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> Variable:
        """Create a state variable (zeros, ones or a constant)."""
        dt = np.dtype(dtype or self._dtype)
        shape = tuple(int(d) for d in shape)
        if initializer in ("zeros", None):
            val = np.zeros(shape, dt)
        elif initializer == "ones":
            val = np.ones(shape, dt)
        elif callable(initializer):
            val = np.asarray(initializer(shape, dt), dt)
        else:
            val = np.full(shape, initializer, dt)
        try:
            from ndflow.keras.variables import KerasVariable

            v: Variable = KerasVariable(val, trainable=False, name=name or "variable",
                                        path=f"{self.name}/{name or 'variable'}")
        except ImportError:  # pragma: no cover
            v = Variable(val, trainable=False, name=name or "variable")
        self._metric_variables.append(v)
        return v

    def add_weight(self, shape: Any = (), initializer: Any = None, dtype: Any = None,
                   name: str | None = None, aggregation: str = "sum") -> Variable:
        """Keras-2-style alias of `add_variable` (scalar, zeros by default)."""
        return self.add_variable(shape, initializer=initializer or "zeros", dtype=dtype,
                                 aggregation=aggregation, name=name)

    @property
    def variables(self) -> list[Variable]:
        return list(self._metric_variables)

    @property
    def trainable_variables(self) -> list:
        return []

    @property
    def non_trainable_variables(self) -> list[Variable]:
        return self.variables

    def reset_state(self) -> None:
        """Zero every state variable."""
        for v in self._metric_variables:
            v._value[...] = 0

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"{type(self).__name__}: a Metric subclass must implement "
                        "update_state(...)")

    def result(self) -> Any:
        raise TypeError(f"{type(self).__name__}: a Metric subclass must implement result()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self._dtype}

    @classmethod
    def from_config(cls, config: dict) -> Metric:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"
