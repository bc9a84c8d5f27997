"""NumPy's own BLAS GEMM and ufunc inner loops, callable from compiled kernels.

A compiled loop that runs a whole recurrence (every time step of an LSTM) in one call, without
the GIL, needs the per-step matrix product and `tanh` inside the loop. Calling NumPy's own
implementations keeps the compiled kernel's values equal to the NumPy path's (bitwise for the
same calls; a product split into calls on fewer rows can round differently on some BLAS
kernels): the GEMM is the `cblas_?gemm` that `numpy.matmul` calls (from the BLAS library
NumPy is linked with), and `tanh` is the inner loop that `numpy.tanh` runs (its SIMD kernel).

Both are found through ctypes and checked once against `numpy.matmul` / the ufunc on probe
values; where anything differs or is missing (another BLAS build, another NumPy layout), the
functions here return None and callers take their other path.

>>> import numpy as np
>>> from ndflow.backend import native_calls
>>> native_calls.gemm(np.float32) is None or callable(native_calls.gemm(np.float32))
True
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np

from ndflow.backend import jit

_lock = threading.Lock()
_cache: dict = {}

# cblas enums (row-major order, no transpose)
ROW_MAJOR, NO_TRANS = 101, 111
# ufunc inner loop: void loop(char **args, npy_intp const *dims, npy_intp const *steps, void *)
_LOOP = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                         ctypes.c_void_p)


def _memo(key: Any, build: Any) -> Any:
    if key not in _cache:
        with _lock:
            if key not in _cache:
                try:
                    _cache[key] = build()
                except Exception:  # any surprise in a foreign layout means: not available
                    _cache[key] = None
    return _cache[key]


def _blas_library() -> tuple | None:
    """(ctypes library, symbol prefix and suffix) of the ILP64 OpenBLAS NumPy is linked with."""
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_cblas_", "64_"), ("cblas_", "64_")):
            if hasattr(lib, f"{prefix}sgemm{suffix}"):
                return lib, prefix, suffix
    return None


def _build_gemm(dtype: np.dtype) -> Any:
    found = _blas_library()
    if found is None:
        return None
    lib, prefix, suffix = found
    letter, scalar = ("s", ctypes.c_float) if dtype == np.float32 else ("d", ctypes.c_double)
    fn = getattr(lib, f"{prefix}{letter}gemm{suffix}")
    i32, i64, ptr = ctypes.c_int, ctypes.c_int64, ctypes.c_void_p
    fn.argtypes = [i32, i32, i32, i64, i64, i64, scalar, ptr, i64, ptr, i64, scalar, ptr, i64]
    fn.restype = None
    # probe: a strided operand and output, against numpy.matmul's values
    rng = np.random.default_rng(0)
    a = rng.standard_normal((7, 40), dtype=np.float64).astype(dtype)[:, 3:36]  # lda 40
    b = np.ascontiguousarray(rng.standard_normal((33, 20), dtype=np.float64).astype(dtype))
    out = np.zeros((7, 24), dtype)
    fn(ROW_MAJOR, NO_TRANS, NO_TRANS, 7, 20, 33, 1.0, a.ctypes.data, 40, b.ctypes.data, 20,
       0.0, out.ctypes.data, 24)
    return fn if np.array_equal(out[:, :20], np.matmul(a, b)) else None


def gemm(dtype: Any) -> Any:
    """NumPy's ``cblas_sgemm``/``cblas_dgemm`` as a ctypes function (64-bit integers) for
    float32/float64, or None. Arguments: order, transA, transB, M, N, K, alpha, A, lda, B,
    ldb, beta, C, ldc (pointers as integers)."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        return None
    return _memo(("gemm", dtype.str), lambda: _build_gemm(dtype))


def _blas_threads_api() -> tuple | None:
    found = _blas_library()
    if found is None:
        return None
    lib, prefix, suffix = found
    base = prefix.replace("cblas_", "openblas_")
    get = getattr(lib, f"{base}get_num_threads{suffix.rstrip('_')}_", None) or \
        getattr(lib, "openblas_get_num_threads", None)
    set_ = getattr(lib, f"{base}set_num_threads{suffix.rstrip('_')}_", None) or \
        getattr(lib, "openblas_set_num_threads", None)
    if get is None or set_ is None:
        return None
    get.restype, get.argtypes = ctypes.c_int, []
    set_.restype, set_.argtypes = None, [ctypes.c_int]
    return get, set_, get()  # the count OpenBLAS started with


def blas_threads() -> int | None:
    """The number of threads NumPy's OpenBLAS uses (None where it cannot be read)."""
    api = _memo("threads", _blas_threads_api)
    return None if api is None else api[0]()


def set_blas_threads(n: int) -> bool:
    """Set NumPy's OpenBLAS thread count (0: the count it started with); False where that
    is not possible. Only `tf.config.threading` calls this, on the user's request."""
    api = _memo("threads", _blas_threads_api)
    if api is None:
        return False
    api[1](n if n > 0 else api[2])
    return True


def _build_unary_loop(ufunc: np.ufunc, dtype: np.dtype) -> Any:
    if ctypes.sizeof(ctypes.c_void_p) != 8 or ufunc.nin != 1 or ufunc.nout != 1:
        return None
    # PyUFuncObject (numpy/ufuncobject.h): PyObject_HEAD; int nin, nout, nargs, identity;
    # functions; data; int ntypes, reserved1; name; types ...
    base = id(ufunc)
    functions = ctypes.c_void_p.from_address(base + 32).value
    data = ctypes.c_void_p.from_address(base + 40).value
    ntypes = ctypes.c_int.from_address(base + 48).value
    types = ctypes.c_void_p.from_address(base + 64).value
    if ntypes != ufunc.ntypes or not functions or not types:
        return None
    codes = ctypes.string_at(types, 2 * ntypes)
    for i in range(ntypes):  # the first loop for the dtype: the one NumPy's resolver picks
        if codes[2 * i] == codes[2 * i + 1] == dtype.num:
            loop = ctypes.c_void_p.from_address(functions + 8 * i).value
            extra = ctypes.c_void_p.from_address(data + 8 * i).value if data else None
            break
    else:
        return None
    fn = _LOOP(loop)
    probe = np.concatenate([np.linspace(-30, 30, 997), [0.0, -0.0, np.inf, -np.inf, np.nan,
                                                        1e-30, -1e-30]]).astype(dtype)
    out = np.empty_like(probe)
    meta = np.array([probe.ctypes.data, out.ctypes.data, probe.size, dtype.itemsize,
                     dtype.itemsize], np.intp)
    fn(meta.ctypes.data, meta[2:].ctypes.data, meta[3:].ctypes.data, extra)
    with np.errstate(all="ignore"):
        expected = ufunc(probe)
    if not np.array_equal(out, expected, equal_nan=True):
        return None
    return fn, (extra or 0)


def unary_loop(ufunc: np.ufunc, dtype: Any) -> tuple | None:
    """(ctypes function, its data pointer) of the inner loop NumPy runs for ``ufunc(x)`` on
    `dtype` arrays, or None. Call it as ``fn(args, dims, steps, data)`` with pointers to
    intp arrays [in, out], [n] and [in_stride, out_stride]."""
    dtype = np.dtype(dtype)
    return _memo(("loop", ufunc.__name__, dtype.str), lambda: _build_unary_loop(ufunc, dtype))


@jit.helper
def call_unary(fn: Any, data: Any, src: int, dst: int, n: int, meta: Any) -> None:
    """From a compiled kernel: NumPy's inner loop `fn` (`unary_loop`) on n contiguous
    elements at address `src`, into `dst`; `meta` is intp scratch of 5 whose last two hold
    the input and output strides in bytes."""
    meta[0] = src
    meta[1] = dst
    meta[2] = n
    fn(meta.ctypes.data, meta[2:].ctypes.data, meta[3:].ctypes.data, data)
