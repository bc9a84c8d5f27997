"""Optional compiled loops: a few hot element-wise passes fused into one loop with Numba.

ndflow runs on NumPy alone. A NumPy expression such as an RMSprop update takes one pass over
memory per operator (nine for RMSprop), where a compiled loop takes one; XLA and TensorFlow
fuse such work the same way. When the optional `numba` package is installed
(``pip install "ndflow[jit]"``), the kernels declared with `kernel` are compiled on first use
(and cached on disk); without it, or with the environment variable ``NDFLOW_JIT=0``, every
caller takes its NumPy path, which computes the same values.

Kernels are written as plain Python loops over 1-D arrays with the arrays' own dtype scalars,
so a compiled kernel rounds exactly as the NumPy expression it replaces (no fast-math, no
contraction into fused multiply-adds).

>>> import numpy as np
>>> from ndflow.backend import jit
>>> @jit.kernel
... def axpy(y, a, x):
...     for i in range(y.size):
...         y[i] += a * x[i]
>>> y = np.ones(3, np.float32)
>>> axpy(y, np.float32(2), np.arange(3, dtype=np.float32))  # compiled or plain Python
>>> y.tolist()
[1.0, 3.0, 5.0]
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any
from collections.abc import Callable

import numpy as np

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_lock = threading.Lock()
_numba: Any = None  # the numba module once imported; False when unavailable
_enabled: bool | None = None  # None: not decided yet (decided on first use)


def _load_numba() -> Any:
    global _numba
    if _numba is None:
        try:
            import numba
        except ImportError:
            numba = False
        _numba = numba
    return _numba


def enabled() -> bool:
    """Whether compiled kernels are used: numba is importable and ``NDFLOW_JIT`` is not 0."""
    global _enabled
    if _enabled is None:
        _enabled = os.environ.get("NDFLOW_JIT", "1").strip() not in ("0", "false", "off") \
            and bool(_load_numba())
    return _enabled


def set_enabled(on: bool) -> bool:
    """Turn compiled kernels on or off for this process; returns the previous setting.

    Turning them on without numba installed raises ImportError with the install hint.
    """
    global _enabled
    previous = enabled()
    if on and not _load_numba():
        raise ImportError('compiled kernels need numba: pip install "ndflow[jit]"')
    _enabled = bool(on)
    return previous


def accepts(*arrays: Any) -> bool:
    """Whether a compiled kernel may take `arrays`: compiled kernels are on and each is a
    C-contiguous NumPy array (not CuPy)."""
    return enabled() and all(type(a) is np.ndarray and a.flags.c_contiguous for a in arrays)


@contextlib.contextmanager
def switched(on: bool) -> Iterator[None]:
    """Compiled kernels on or off inside a ``with`` block, then as before (tests, A/B timing).

    >>> with switched(False):
    ...     enabled()
    False
    """
    previous = enabled()
    if on != previous:
        set_enabled(on)
    try:
        yield
    finally:
        if on != previous:
            set_enabled(previous)


def flat_operands(*arrays: Any) -> list | None:
    """1-D views of `arrays` if a compiled kernel may take them, else None.

    They must be NumPy arrays (not CuPy, not read-only) of one float dtype, C-contiguous,
    of one size; anything else goes to the caller's NumPy path.
    """
    if not enabled():
        return None
    first = arrays[0]
    if type(first) is not np.ndarray or first.dtype not in _FLOAT_DTYPES:
        return None
    dtype, size = first.dtype, first.size
    out = []
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dtype or a.size != size or \
                not a.flags.c_contiguous or not a.flags.writeable:
            return None
        out.append(a.reshape(-1))
    return out


class Kernel:
    """A loop compiled by numba on first call (``nopython``, ``nogil``, NumPy error model, so
    a division by zero gives inf/nan as in NumPy); plain Python when numba is missing."""

    def __init__(self, py_func: Callable) -> None:
        self.py_func = py_func
        self._compiled: Callable | None = None
        self.__doc__ = py_func.__doc__
        self.__name__ = py_func.__name__

    def __call__(self, *args: Any) -> Any:
        fn = self._compiled
        if fn is None:
            fn = self._compile()
        return fn(*args)

    @property
    def function(self) -> Callable:
        """The compiled function itself (compiling it now if needed): for a hot loop that
        calls the kernel many times, without this wrapper's check on every call."""
        return self._compiled or self._compile()

    def _compile(self) -> Callable:
        with _lock:
            if self._compiled is None:
                numba = _load_numba()
                if numba:
                    self._compiled = _njit(self.py_func, _cacheable(self.py_func))
                else:
                    self._compiled = self.py_func
        return self._compiled


class Helper:
    """A function that kernels call: numba compiles it into them (it may call itself or other
    helpers); plain Python when numba is missing. Call it only from kernels. Compiling it
    puts the compiled function in its module in its place, so that compiled callers (and
    numba's disk cache) see an ordinary compiled function."""

    def __init__(self, py_func: Callable) -> None:
        self.py_func = py_func
        self.__name__ = py_func.__name__

    def __call__(self, *args: Any) -> Any:
        return self.py_func(*args)

    def compiled(self) -> Any:
        g = self.py_func.__globals__
        if g.get(self.__name__) is self:
            g[self.__name__] = _njit(self.py_func, cache=_cacheable(self.py_func))
        return g[self.__name__]


def _cacheable(py_func: Callable) -> bool:
    # numba caches compiled code beside the source file (not for doctests)
    return os.path.isfile(py_func.__code__.co_filename)


def _njit(py_func: Callable, cache: bool) -> Any:
    """numba.njit of `py_func`, its helpers compiled first."""
    g = py_func.__globals__
    for name in py_func.__code__.co_names:
        helper = g.get(name)
        if name != py_func.__name__ and isinstance(helper, Helper):
            g[name] = helper.compiled()  # also where it was imported from another module
    return _load_numba().njit(cache=cache, nogil=True, boundscheck=False,
                              error_model="numpy")(py_func)


def helper(py_func: Callable) -> Helper:
    """Declare a function that kernels call (see `Helper`)."""
    return Helper(py_func)


def kernel(py_func: Callable) -> Kernel:
    """Declare a compiled loop (see `Kernel`); call it only after `flat_operands` succeeded."""
    return Kernel(py_func)
